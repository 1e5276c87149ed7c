# RUN: %python %s resq-opt resq-run %t
#
# resq-optimize-glue keeps the glue's numbers:
#   * global average pooling through resq-to-llvm equals, bit for bit, the
#     sum upstream's linalg.pooling_nhwc_sum computes (per channel, rows then
#     columns, in float32) divided by the window size;
#   * the sigmoid with the approximated exp stays within 4e-7 (relative,
#     float32 has 6e-8 per ulp) of the exact sigmoid;
#   * for a CPU without SSE4.1 (plain x86-64) rounding and floor are exact
#     arithmetic: quantization to int8 (round half to even, saturate) and
#     tosa.floor equal numpy's, bit for bit, on halves, negative zero,
#     large and non-finite values.

import numpy as np

import e2e

H, W, C = 16, 12, 88  # 88 channels: sums in vectors of 64 and 24

MODEL = f"""func.func @main(%x: tensor<1x{H}x{W}x{C}xf32>) -> (tensor<1x1x1x{C}xf32>, tensor<1x{H}x{W}x{C}xf32>) {{
  %zp = "tosa.const"() <{{values = dense<0.0> : tensor<1xf32>}}> : () -> tensor<1xf32>
  %p = tosa.avg_pool2d %x, %zp, %zp {{acc_type = f32, kernel = array<i64: {H}, {W}>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: {H}, {W}>}} : (tensor<1x{H}x{W}x{C}xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x{C}xf32>
  %s = tosa.sigmoid %x : (tensor<1x{H}x{W}x{C}xf32>) -> tensor<1x{H}x{W}x{C}xf32>
  return %p, %s : tensor<1x1x1x{C}xf32>, tensor<1x{H}x{W}x{C}xf32>
}}
"""


def sequential_mean(x):
    """Upstream's order: per channel, rows then columns, float32 throughout."""
    acc = np.zeros(C, dtype=np.float32)
    for h in range(H):
        for w in range(W):
            acc = (acc + x[h, w]).astype(np.float32)
    return (acc / np.float32(H * W)).astype(np.float32)


def test(tools):
    rng = np.random.default_rng(3)
    # Values over many magnitudes, so that the summation order shows.
    x = (rng.standard_normal((4, 1, H, W, C)) *
         np.exp(rng.uniform(-6, 6, (4, 1, H, W, C)))).astype(np.float32)
    x[0, 0, :, :, 0] = 1e-3 * np.arange(H * W).reshape(H, W)
    model = tools.path("glue.mlir")
    with open(model, "w") as f:
        f.write(MODEL)
    frames = tools.path("x.npy")
    np.save(frames, x)
    out = e2e.resq_run(tools, model, frames, "glue", results=2)["outputs"]
    for f in range(len(x)):
        e2e.expect_equal(f"frame {f}: mean", out[0][f].reshape(C),
                         sequential_mean(x[f, 0]))
    e2e.passed(f"global average pooling == the sequential float32 sum / {H * W}, "
               f"bit for bit ({len(x)} frames)")
    # Bits beyond float32's range of exp saturate to 0 and 1 as with libm.
    exact = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    rel = np.abs(out[1].reshape(x.shape) - exact) / np.maximum(exact, 1e-30)
    worst = float(rel[exact > 1e-30].max())
    if worst > 4e-7:
        e2e.fail(f"sigmoid: worst relative error {worst:.3g}")
    e2e.passed(f"sigmoid: worst relative error {worst:.3g} over {x.size} values")

ROUNDING = """func.func @main(%x: tensor<64xf32>) -> (tensor<64xi8>, tensor<64xf32>) {
  %q = tosa.cast %x : (tensor<64xf32>) -> tensor<64xi8>
  %f = tosa.floor %x : (tensor<64xf32>) -> tensor<64xf32>
  return %q, %f : tensor<64xi8>, tensor<64xf32>
}
"""


def test_rounding(tools):
    special = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, -0.0, 0.0, 0.49999997,
               126.5, 127.5, -128.5, -127.5, 2.0**22 + 0.5, 2.0**23 - 0.5,
               2.0**23 + 1, -(2.0**23) - 1, 1e10, -1e10, np.inf, -np.inf,
               -0.3, 0.7, -1e-30]
    rng = np.random.default_rng(5)
    frames = []
    for f in range(3):
        x = rng.uniform(-200, 200, 64).astype(np.float32)
        x[:len(special)] = special if f == 0 else x[:len(special)] / 7
        frames.append(x)
    x = np.stack(frames).astype(np.float32)
    model = tools.path("rounding.mlir")
    with open(model, "w") as f:
        f.write(ROUNDING)
    inputs = tools.path("rounding.npy")
    np.save(inputs, x)
    out = e2e.resq_run(tools, model, inputs, "rounding", results=2,
                       target_cpu="x86-64")["outputs"]
    e2e.expect_equal("quantized", out[0],
                     np.clip(np.rint(x), -128, 127).astype(np.int8))
    floor = np.floor(x)
    if not np.array_equal(out[1].view(np.uint32), floor.view(np.uint32)):
        e2e.fail("tosa.floor on x86-64 differs from numpy's floor")
    e2e.passed(f"x86-64: int8 quantization and floor exact on {x.size} "
               "values (halves, -0, |x| >= 2^23, infinities)")


if __name__ == "__main__":
    e2e.main(test, test_rounding)
