# RUN: %python %s resq-opt resq-bench %t
#
# resq-bench on a synthetic clip and small models:
#  - side by side: XNNPACK fp32 (1 and 2 threads) built from the float TOSA
#    model agrees with the float build; XNNPACK int8 and the resq builds
#    are timed and judged; results.md / results.json / plot.svg are written
#    (one plot point per configuration);
#  - --kernels: the int8 layer's kernel, GMAC/s against the measured peak,
#    the time of writing its accumulator alone, and the kernel with its
#    requantization;
#  - --sweep: a residualized model skips every block when nothing changes;
#  - errors: a missing --video, a float model for --kernels, a stateless
#    model for --sweep.

import json
import os

import videogen
from videotest import bench_rows, check, main, passed, table_rows

FRAMES = 12

# A 1x1 conv whose accumulator is dequantized, clamped and cast to int8.
REQUANTIZED = """func.func @main(%x: tensor<1x32x32x16xi8>) -> tensor<1x32x32x16xi8> {
  %w = "tosa.const"() <{values = dense<3> : tensor<16x1x1x16xi8>}> : () -> tensor<16x1x1x16xi8>
  %b = "tosa.const"() <{values = dense<5> : tensor<16xi32>}> : () -> tensor<16xi32>
  %zp = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %acc = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = i32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x32x32x16xi8>, tensor<16x1x1x16xi8>, tensor<16xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x32x32x16xi32>
  %f = tosa.cast %acc : (tensor<1x32x32x16xi32>) -> tensor<1x32x32x16xf32>
  %s = "tosa.const"() <{values = dense<0.01> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %m = tosa.mul %f, %s, %zp : (tensor<1x32x32x16xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x32x32x16xf32>
  %c = tosa.clamp %m {min_val = -128.0 : f32, max_val = 127.0 : f32} : (tensor<1x32x32x16xf32>) -> tensor<1x32x32x16xf32>
  %q = tosa.cast %c : (tensor<1x32x32x16xf32>) -> tensor<1x32x32x16xi8>
  return %q : tensor<1x32x32x16xi8>
}
"""


def test(tools):
    clip = tools.path("square.avi")
    videogen.write_avi(clip, videogen.moving_square(FRAMES, 72, 96))
    model = tools.write("seg.mlir", videogen.segmentation_model(64))
    int8 = tools.write("seg.int8.mlir", videogen.int8_segmentation_model(64))
    dynamic = tools.residualize(int8, "seg.dyn.mlir")
    report = tools.path("report")

    done = tools.resq_run("--video", clip, "--float", model, "--resq",
                          "dyn=" + dynamic, "--warmup", "2",
                          "--xnn-threads", "1,2", "--report", report)
    rows = bench_rows(done.stdout)
    header = rows.get(("configuration", "threads"), [])
    check(header[:3] == ["ms/frame median", "p90", "mean"], f"header:\n{done.stdout}")
    for threads in ("1", "2"):
        fp32 = rows.get(("XNNPACK fp32", threads))
        check(fp32 is not None, f"no XNNPACK fp32 row on {threads} threads:\n{done.stdout}")
        check(float(fp32[4]) >= 0.99, f"XNNPACK fp32 disagrees with float: {fp32}")
        check(float(fp32[0]) > 0, f"no time: {fp32}")
        check(("XNNPACK int8", threads) in rows, f"no XNNPACK int8 row:\n{done.stdout}")
    check(rows[("XNNPACK fp32", "1")][3] == "1.00x", "the peer's own ratio is 1.00x")
    dyn = rows.get(("resq dyn", "1"))
    check(dyn is not None and dyn[-1] == "1" and dyn[-2].endswith("%"),
          f"the ResQ row needs 1 keyframe and a skipped share: {dyn}")
    passed(f"XNNPACK fp32 pooled IoU {rows[('XNNPACK fp32', '1')][4]} against float; "
           f"{len(rows) - 1} configurations")

    with open(os.path.join(report, "results.json")) as f:
        results = json.load(f)
    check(len(results) == len(rows) - 1, f"results.json has {len(results)} entries")
    with open(os.path.join(report, "plot.svg")) as f:
        svg = f.read()
    # Two panels (ms and bits), one point per configuration in each.
    check(svg.count("<circle") == 2 * len(results), "plot points")
    check(os.path.exists(os.path.join(report, "results.md")), "results.md")
    passed("results.md, results.json and plot.svg written")

    done = tools.resq_run("--kernels", int8, "--repeats", "5")
    kernel = [l for l in done.stdout.splitlines() if l.startswith("| conv2d 1x1")]
    check(len(kernel) == 1, f"one kernel row expected:\n{done.stdout}")
    cells = [c.strip() for c in kernel[0].strip("|").split("|")]
    # ... | MMAC | ms median | ms writing A alone | GMAC/s | % of peak
    check(cells[1] == "64x64x3" and cells[3] == "64x64x1" and float(cells[9]) > 0,
          f"kernel row: {cells}")
    check(cells[8] == "-" or 0 <= float(cells[8]) <= float(cells[7]) * 10,
          f"the time of writing A alone: {cells}")
    check("Writing their int32 accumulators alone" in done.stdout
          or "No AVX-512" in done.stdout, "the 1x1 layers' store floor")
    # ... | ms requantized | % of peak requantized: '-' here, the
    # accumulator goes to a float output.
    check(len(cells) == 13 and cells[11] == "-" and cells[12] == "-",
          f"no requantized kernel for a float output: {cells}")
    passed(f"--kernels: {cells[9]} GMAC/s, writing A alone {cells[8]} ms")

    # A conv whose accumulator is requantized to int8 is timed again with
    # its requantization.
    requantized = tools.write("requantized.mlir", REQUANTIZED)
    done = tools.resq_run("--kernels", requantized, "--repeats", "5")
    kernel = [l for l in done.stdout.splitlines() if l.startswith("| conv2d 1x1")]
    check(len(kernel) == 1, f"one kernel row expected:\n{done.stdout}")
    cells = [c.strip() for c in kernel[0].strip("|").split("|")]
    check(len(cells) == 13 and float(cells[11]) > 0
          and (cells[12] == "-" or cells[12].endswith("%")),
          f"the requantized kernel: {cells}")
    check("With their requantization in the kernel" in done.stdout
          and "the 1 of 1 layers" in done.stdout,
          f"the requantized 1x1 layers' line:\n{done.stdout}")
    passed(f"--kernels: requantized {cells[11]} ms against {cells[7]} ms")

    done = tools.resq_run("--sweep", dynamic, "--video", clip, "--repeats", "4")
    sweep = table_rows(done.stdout)
    check(sweep.get("0%", [None] * 5)[4] == "100.0%",
          f"nothing changes at 0%: every block must be skipped:\n{done.stdout}")
    check("100%" in sweep and "every frame a keyframe" in sweep, done.stdout)
    passed("--sweep: 0% changed -> 100.0% skipped")

    for args, message in (
            (["--float", model], "--video is required"),
            (["--kernels", model], "no int8 convolution"),
            (["--sweep", int8, "--video", clip], "needs a residualized")):
        done = tools.resq_run(*args, ok=False)
        check(done.returncode == 1 and message in done.stderr,
              f"{args}: expected '{message}', got exit {done.returncode}:\n{done.stderr}")
    passed("errors: missing --video, float model for --kernels, stateless --sweep")


if __name__ == "__main__":
    main(test)
