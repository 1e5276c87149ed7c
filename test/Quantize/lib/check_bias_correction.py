"""Bias correction removes the mean shift of rounded weights.

A depthwise 3x3 layer whose channels each have one large tap and eight
small ones: per-channel symmetric int8 rounds the small taps (0.0039, just
under half a step of 1/127) to 0, which shifts the output by
8 * 0.0039 * E[x]. On frames of constant channels (representable exactly by
the input's int8 grid) the int8 layer with --bias-correction (default)
matches float to the bias's rounding; without it, it is off by that shift.

    check_bias_correction.py DIR RESQ_QUANTIZE RESQ_RUN
"""
import os
import subprocess
import sys

import numpy as np

d, resq_quantize, resq_run = sys.argv[1:4]
os.makedirs(d, exist_ok=True)

w = np.full((3, 3, 2, 1), 0.0039, dtype=np.float32)
w[1, 1, :, 0] = 1.0
nested = str(w.tolist())
net = f'''func.func @main(%x: tensor<1x8x8x2xf32>) -> tensor<1x6x6x2xf32> {{
  %zp = "tosa.const"() {{values = dense<0.0> : tensor<1xf32>}} : () -> tensor<1xf32>
  %w = "tosa.const"() {{values = dense<{nested}> : tensor<3x3x2x1xf32>}} : () -> tensor<3x3x2x1xf32>
  %b = "tosa.const"() {{values = dense<[0.5, -0.25]> : tensor<2xf32>}} : () -> tensor<2xf32>
  %c = tosa.depthwise_conv2d %x, %w, %b, %zp, %zp {{acc_type = f32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}} : (tensor<1x8x8x2xf32>, tensor<3x3x2x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x6x6x2xf32> loc("dw")
  return %c : tensor<1x6x6x2xf32>
}}
'''
with open(f"{d}/float.mlir", "w") as f:
    f.write(net)
# Channel 0 at 100 (the top of its range), channel 1 at 0.
frames = np.zeros((4, 1, 8, 8, 2), dtype=np.float32)
frames[..., 0] = 100.0
np.save(f"{d}/frames.npy", frames)


def run(*args):
    subprocess.run(args, check=True, capture_output=True)


for name, extra in (("corrected", []), ("plain", ["--bias-correction=false"])):
    run(resq_quantize, f"{d}/float.mlir", "--calibrate", f"{d}/frames.npy",
        "--residual-target=0", *extra, "-o", f"{d}/{name}.mlir")
out = {}
for name in ("float", "corrected", "plain"):
    run(resq_run, f"{d}/{name}.mlir", "--input", f"{d}/frames.npy",
        "--output", f"{d}/{name}.out", "--quiet")
    out[name] = np.load(f"{d}/{name}.out0.npy")

shift = 8 * 0.0039 * 100.0
corrected = np.abs(out["corrected"] - out["float"]).max()
plain = np.abs(out["plain"] - out["float"])[..., 0].mean()
print(f"float vs int8: corrected max |error| {corrected:.4f}, uncorrected "
      f"mean error {plain:.4f} (expected shift {shift:.4f})")
if corrected > 0.05:
    sys.exit("FAIL: corrected int8 differs from float")
if abs(plain - shift) > 0.05:
    sys.exit("FAIL: the uncorrected int8 layer does not show the shift")
print("PASS bias correction: the mean shift of rounded weights is gone")
