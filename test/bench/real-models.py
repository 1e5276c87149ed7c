# REQUIRES: real-models
# RUN: %python %s resq-opt resq-bench %t %resq_data
#
# XNNPACK built from the imported real models computes what the float build
# computes: every op of selfie_segmentation and pose_landmark_lite has its
# XNNPACK counterpart (the first 8 / 40 frames of vtest.avi).

import os
import subprocess
import sys

from videotest import CheckFailed, Tools, bench_rows, check, passed


def test(tools, data):
    translate = os.path.join(os.path.dirname(tools.run), "resq-translate")
    # vtest.avi's first pose-flagged frames come after frame 8.
    for name, task, bound, frames in (("selfie_segmentation", "segmentation", 0.99, 8),
                                      ("pose_landmark_lite", "pose", 0.5, 40)):
        model = tools.path(name + ".mlir")
        done = subprocess.run([translate, "--import-tflite",
                               os.path.join(data, name + ".tflite"), "-o", model],
                              capture_output=True, text=True)
        check(done.returncode == 0, f"import failed:\n{done.stderr[-2000:]}")
        done = tools.resq_run("--video", os.path.join(data, "vtest.avi"), "--task", task,
                              "--float", model, "--frames", str(frames), "--warmup", "1",
                              "--xnn-threads", "1", "--no-float-timing")
        fp32 = bench_rows(done.stdout).get(("XNNPACK fp32", "1"))
        check(fp32 is not None, f"no XNNPACK fp32 row:\n{done.stdout}")
        value = float(fp32[4])
        ok = value >= bound if task == "segmentation" else value <= bound
        check(ok, f"{name}: XNNPACK fp32 against float: {value} (bound {bound})")
        check(task == "segmentation" or int(fp32[5]) > 0,
              f"{name}: no frame with a pose to compare: {fp32}")
        passed(f"{name}: XNNPACK fp32 against float {value}")


if __name__ == "__main__":
    tools = Tools(sys.argv[1], sys.argv[2], sys.argv[3])
    try:
        test(tools, sys.argv[4])
    except CheckFailed as error:
        print(f"FAIL real-models.py: {error}", file=sys.stderr)
        sys.exit(1)
