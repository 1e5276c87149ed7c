"""Runs the float, int8 and residualized int8 nets of resq-quantize.test
and checks the numbers: int8 stays close to float, and the residual graph's
keyframes equal the int8 graph exactly.

    check_quantized.py DIR RESQ_OPT RESQ_RUN
(DIR holds float.mlir, int8.mlir, frames.npy)
"""
import os
import subprocess
import sys

import numpy as np

d, resq_opt, resq_run = sys.argv[1:4]


def run(*args):
    subprocess.run(args, check=True, capture_output=True)


run(resq_opt, f"{d}/int8.mlir", "--resq-residualize=step=2",
    "--resq-dynamic-bits", "-o", f"{d}/resq.mlir")
for name in ("float", "int8", "resq"):
    args = [resq_run, f"{d}/{name}.mlir", "--input", f"{d}/frames.npy",
            "--output", f"{d}/{name}.out", "--quiet"]
    if name == "resq":
        args += ["--keyframe-at", "0,5,10"]
    run(*args)
out = {n: np.load(f"{d}/{n}.out0.npy") for n in ("float", "int8", "resq")}

error = np.abs(out["int8"] - out["float"])
span = out["float"].max() - out["float"].min()
print(f"int8 vs float: max |error| {error.max():.5f}, mean {error.mean():.6f},"
      f" output span {span:.3f}")
if error.max() > 0.02 * max(span, 1e-6) + 0.01:
    sys.exit("FAIL: int8 output too far from float")
for f in (0, 5, 10):
    if not np.array_equal(out["resq"][f], out["int8"][f]):
        sys.exit(f"FAIL: residual keyframe {f} differs from the int8 graph")
print("PASS quantized: int8 close to float; residual keyframes 0, 5, 10 == int8")
