# RUN: %python %s resq-opt resq-run %t
#
# resq-run --video, pose: the landmark error of an identical build is 0 on
# every flagged frame, a different model's is > 0; frames without the pose
# flag do not count; a flag output given as a logit is recognized (auto) or
# declared (--pose-flag logit).

import math

import videogen
from videotest import check, main, passed, png_size, read_jsonl, table_rows

FRAMES = 10


def run(tools, clip, models, report=None, extra=()):
    args = ["--video", clip, "--task", "pose", "--float", models[0]]
    if len(models) > 1:
        args += ["--int8", models[1]]
    for i, m in enumerate(models[2:]):
        args += ["--resq", f"m{i}={m}"]
    if report:
        args += ["--report", report, "--overlay-every", "4"]
    return tools.resq_run(*args, *extra)


def test(tools):
    clip = tools.path("square.avi")
    videogen.write_avi(clip, videogen.moving_square(FRAMES, 72, 96))
    model = tools.write("pose.mlir", videogen.pose_model(64))
    same = tools.write("pose_same.mlir", videogen.pose_model(64))
    other = tools.write("pose_other.mlir", videogen.pose_model(64, scale=1.3))
    report = tools.path("report")

    done = run(tools, clip, [model, same, other], report)
    rows = table_rows(done.stdout)
    check(rows["build"][2:4] == ["landmark error vs float (px)", "frames with pose"],
          f"unexpected header:\n{done.stdout}")
    check(rows["float"][2:4] == ["0.00", str(FRAMES)], f"float row:\n{done.stdout}")
    check(rows["int8"][2:4] == ["0.00", str(FRAMES)], f"identical build:\n{done.stdout}")
    error = float(rows["resq:m0"][2])
    check(error > 0, f"a different model should move the landmarks:\n{done.stdout}")
    passed(f"identical build 0.00 px, different build {error} px over {FRAMES} flagged frames")

    lines = read_jsonl(f"{report}/frames.jsonl")
    check(len(lines) == 3 * FRAMES, f"{len(lines)} lines in frames.jsonl")
    for l in lines:
        check(l["counted"] and l["visible"] > 0, f"frame not counted: {l}")
        check(0.5 <= l["pose_flag"] <= 1, f"pose flag {l['pose_flag']}")
        if l["build"] != "resq:m0":
            check(l["landmark_error_px"] == 0, f"identical build moved: {l}")
    errors = [l["landmark_error_px"] for l in lines if l["build"] == "resq:m0"]
    check(abs(sum(errors) / len(errors) - error) < 0.01, "jsonl errors != table")
    check(all(e > 0 for e in errors), "the different build matched on a frame")
    for f in (0, 4, 8):
        width, _ = png_size(f"{report}/overlays/frame_{f:06d}.png")
        check(width == 3 * 256 + 8, f"overlay width {width}")
    passed("frames.jsonl and overlays")

    # No pose flag: nothing counts.
    absent = tools.write("pose_absent.mlir", videogen.pose_model(64, flag_bias=-3.0))
    done = run(tools, clip, [absent, other])
    rows = table_rows(done.stdout)
    check(rows["int8"][2:4] == ["-", "0"], f"unflagged frames counted:\n{done.stdout}")
    passed("frames without the pose flag do not count")

    # The flag as a logit. About 2.2 is outside [0, 1]: auto reads it as a
    # logit (sigmoid 0.9: flagged). About 0.35 could be either: auto reads a
    # probability (not flagged), --pose-flag logit a logit (sigmoid 0.59:
    # flagged).
    logit = tools.write("pose_logit.mlir", videogen.pose_model(64, flag_sigmoid=False))
    done = run(tools, clip, [logit, other])
    check(table_rows(done.stdout)["int8"][3] == str(FRAMES), f"auto logit:\n{done.stdout}")
    low = tools.write("pose_low.mlir",
                      videogen.pose_model(64, flag_sigmoid=False, flag_bias=0.1))
    done = run(tools, clip, [low, other], report=tools.path("auto"))
    raw = [l["pose_flag"] for l in read_jsonl(tools.path("auto/frames.jsonl"))
           if l["build"] == "float"]
    check(all(0.1 < f < 0.5 for f in raw), f"expected flags in (0.1, 0.5): {raw}")
    check(table_rows(done.stdout)["int8"][3] == "0", f"auto, 0.35:\n{done.stdout}")
    done = run(tools, clip, [low, other], report=tools.path("logit"),
               extra=["--pose-flag", "logit"])
    flags = [l["pose_flag"] for l in read_jsonl(tools.path("logit/frames.jsonl"))
             if l["build"] == "float"]
    check(all(abs(f - 1 / (1 + math.exp(-r))) < 1e-6 for f, r in zip(flags, raw)),
          f"--pose-flag logit: {flags} are not sigmoid({raw})")
    check(table_rows(done.stdout)["int8"][3] == str(FRAMES),
          f"--pose-flag logit, 0.35:\n{done.stdout}")
    passed("pose flag logits: auto outside [0, 1], --pose-flag logit inside")

if __name__ == "__main__":
    main(test)
