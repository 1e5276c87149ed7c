# RUN: %python %s resq-opt resq-run %t
#
# resq-run --video, segmentation: builds side by side on a synthetic clip.
#  - a build identical to the float one has IoU 1.0 on every frame;
#  - a deliberately different model (another bias) has IoU < 1;
#  - the summary table on stdout and in summary.md, frames.jsonl (one line
#    per frame and build) and the overlay PNGs (every K frames);
#  - IoU counts the frame's pixels only, not the bars of a letterboxed input;
#  - --overlay-size original draws the panels at the video's size;
#  - a ResQ build (the int8 model residualized by resq-opt) reports its
#    keyframes, bits per MAC and skipped blocks, and stays close to its int8
#    reference; --keyframe-at adds keyframes.

import os

import numpy as np

import videogen
from videotest import (check, main, passed, png_size, read_jsonl,
                       summary_lines, table_rows)

FRAMES = 16


def test(tools):
    clip = tools.path("square.avi")
    videogen.write_avi(clip, videogen.moving_square(FRAMES, 72, 96))
    model = tools.write("seg.mlir", videogen.segmentation_model(64))
    same = tools.write("seg_same.mlir", videogen.segmentation_model(64))
    other = tools.write("seg_other.mlir", videogen.segmentation_model(64, bias=-2.6))
    report = tools.path("report")

    done = tools.resq_run("--video", clip, "--task", "segmentation", "--float", model,
                          "--int8", same, "--resq", "other=" + other,
                          "--report", report, "--overlay-every", "5")
    rows = table_rows(done.stdout)
    check(rows.get("build", [])[:4] == ["ms/frame median", "ms/frame p90",
                                        "mean IoU vs float", "pooled IoU vs float"],
          f"unexpected table header:\n{done.stdout}")
    for build in ("float", "int8"):
        check(rows.get(build, [])[2:4] == ["1.0000", "1.0000"],
              f"{build}: IoU should be 1.0000 / 1.0000:\n{done.stdout}")
    check(rows["int8"][4:] == ["-", "-", "-"], f"int8 is stateless:\n{done.stdout}")
    mean_iou, pooled_iou = float(rows["resq:other"][2]), float(rows["resq:other"][3])
    check(0 < mean_iou < 1 and 0 < pooled_iou < 1,
          f"a different model should give IoU < 1:\n{done.stdout}")
    check(f"{FRAMES} frames" in done.stdout, f"no frame count in:\n{done.stdout}")
    passed(f"identical build IoU 1.0000, different build mean IoU {mean_iou}, "
           f"pooled {pooled_iou}")

    # summary.md holds the same table.
    with open(f"{report}/summary.md") as f:
        md = f.read()
    check(summary_lines(md) == summary_lines(done.stdout),
          f"summary.md and stdout tables differ:\n{md}\n---\n{done.stdout}")
    passed("summary.md has the table printed on stdout")

    # frames.jsonl: one line per frame and build, in order.
    lines = read_jsonl(f"{report}/frames.jsonl")
    check(len(lines) == 3 * FRAMES, f"{len(lines)} lines in frames.jsonl, expected {3 * FRAMES}")
    check([l["frame"] for l in lines] == [f for f in range(FRAMES) for _ in range(3)],
          "frames.jsonl is not frame by frame")
    check({l["build"] for l in lines} == {"float", "int8", "resq:other"}, "build names")
    for l in lines:
        check(l["ms"] > 0, f"no step time: {l}")
        if l["build"] != "resq:other":
            check(l["iou"] == 1 and l["intersection"] == l["union"] > 0, f"IoU != 1: {l}")
    other_ious = [l["iou"] for l in lines if l["build"] == "resq:other"]
    check(min(other_ious) < 1, "the different build matched on every frame")
    mean = sum(other_ious) / FRAMES
    check(abs(mean - mean_iou) < 1e-4, f"jsonl mean IoU {mean} != table {mean_iou}")
    pooled = (sum(l["intersection"] for l in lines if l["build"] == "resq:other") /
              sum(l["union"] for l in lines if l["build"] == "resq:other"))
    check(abs(pooled - pooled_iou) < 1e-4, f"jsonl pooled IoU {pooled} != table {pooled_iou}")
    passed("frames.jsonl: 3 builds x 16 frames, per-frame IoU agrees with the table")

    # Overlays every 5 frames: 3 panels of 64x64 enlarged to 256, 4-pixel gaps.
    for f in (0, 5, 10, 15):
        width, height = png_size(f"{report}/overlays/frame_{f:06d}.png")
        check(width == 3 * 256 + 2 * 4 and height > 256,
              f"overlay {f}: {width}x{height}")
    check(len(os.listdir(f"{report}/overlays")) == 4, "overlays other than every 5th frame")
    passed("overlays at frames 0, 5, 10, 15")

    # Two models that agree on every frame pixel and differ on black ones:
    # on a 2:1 clip letterboxed into 64x64 only the bars differ.
    bright = np.full((4, 48, 96, 3), 180, dtype=np.uint8)
    wide = tools.path("wide.avi")
    videogen.write_avi(wide, bright)
    bars_out = tools.write("bars_out.mlir",
                           videogen.segmentation_model(64, weights=(9, 9, 9), bias=-1.0))
    bars_in = tools.write("bars_in.mlir",
                          videogen.segmentation_model(64, weights=(9, 9, 9), bias=1.0))
    report3 = tools.path("report3")
    done = tools.resq_run("--video", wide, "--task", "segmentation", "--float", bars_out,
                          "--int8", bars_in, "--report", report3, "--overlay-every", "2",
                          "--overlay-size", "original")
    check(table_rows(done.stdout)["int8"][2:4] == ["1.0000", "1.0000"],
          f"the letterbox bars were counted:\n{done.stdout}")
    line = read_jsonl(f"{report3}/frames.jsonl")[1]
    check(line["union"] == 64 * 32, f"the frame covers 64x32 mask pixels: {line}")
    # 96x48 frames enlarged 3 times to reach 256 on the longer side.
    width, height = png_size(f"{report3}/overlays/frame_000002.png")
    check(width == 2 * 288 + 4 and height > 144, f"original-size overlay {width}x{height}")
    passed("IoU over the frame only (bars excluded); original-size overlays")

    # A ResQ build: the int8 model residualized, against the int8 model.
    int8 = tools.write("q.mlir", videogen.int8_segmentation_model(64))
    resq = tools.residualize(int8, "q.resq.mlir", "step=4")
    report2 = tools.path("report2")
    done = tools.resq_run("--video", clip, "--task", "segmentation", "--float", int8,
                          "--resq", "s4=" + resq, "--report", report2)
    rows = table_rows(done.stdout)
    row = rows.get("resq:s4")
    check(row is not None, f"no resq:s4 row:\n{done.stdout}")
    check(row[6] == f"1 of {FRAMES}", f"keyframes: expected '1 of {FRAMES}':\n{done.stdout}")
    bits = float(row[4])
    skipped = float(row[5].rstrip("%"))
    check(0 < bits <= 8, f"activation bits/MAC {bits} out of (0, 8]")
    check(0 < skipped < 100, f"skipped {skipped}% out of (0, 100)")
    check(float(row[2]) > 0.9, f"ResQ strayed from its int8 model:\n{done.stdout}")
    check("resq:s4: residual-frame blocks by bit-width:" in done.stdout,
          f"no bit-width line:\n{done.stdout}")
    lines = [l for l in read_jsonl(f"{report2}/frames.jsonl") if l["build"] == "resq:s4"]
    check([l["keyframe"] for l in lines] == [True] + [False] * (FRAMES - 1),
          "only frame 0 should be a keyframe")
    check(not any(l["scene_cut"] for l in lines), "no scene cut on a moving square")
    residual = lines[1:]
    macs = sum(l["macs"] for l in residual)
    bops = sum(l["bops"] for l in residual)
    check(macs > 0 and abs(bops / (8 * macs) - bits) < 0.01,
          f"bits/MAC {bits} is not BOPs/(8 MACs) = {bops / (8 * macs) if macs else 0}")
    check(all(l["bits"] and l["blocks"] > 0 for l in lines), "no bit histogram per frame")
    check(lines[0]["bops"] == 64 * lines[0]["macs"], "a keyframe MAC is 8 x 8 bits")
    passed(f"ResQ build: 1 keyframe, {bits} activation bits/MAC, {skipped}% skipped, "
           f"IoU {row[2]} against int8")

    done = tools.resq_run("--video", clip, "--task", "segmentation", "--float", int8,
                          "--resq", "s4=" + resq, "--keyframe-at", "0,8", "--quiet")
    check(done.stdout == "", f"--quiet printed:\n{done.stdout}")
    done = tools.resq_run("--video", clip, "--task", "segmentation", "--float", int8,
                          "--resq", "s4=" + resq, "--keyframe-at", "8", "--threads", "2")
    row = table_rows(done.stdout)["resq:s4"]
    check(row[6] == f"2 of {FRAMES}", f"--keyframe-at 8: expected 2 keyframes:\n{done.stdout}")
    check("concurrently on 2 threads" in done.stdout, "--threads 2 not reported")
    passed("--keyframe-at 8 gives 2 keyframes (with --threads 2)")


if __name__ == "__main__":
    main(test)
