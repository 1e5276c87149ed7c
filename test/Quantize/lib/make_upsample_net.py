"""Writes a small float TOSA net ending in a 2x2 stride-2 transposed
convolution (as selfie_segmentation's head), and float calibration frames.

    make_upsample_net.py OUT_DIR
"""
import os
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(1)


def dense(a):
    return ("dense<" + np.array2string(
        a, separator=", ", threshold=10**9,
        formatter={"float_kind": lambda v: "%.6g" % v}).replace("\n", "") +
        f"> : tensor<{'x'.join(str(d) for d in a.shape)}xf32>")


w1 = rng.normal(0, 0.3, (8, 3, 3, 3)).astype(np.float32)
b1 = rng.normal(0, 0.1, 8).astype(np.float32)
w2 = rng.normal(0, 0.3, (3, 2, 2, 8)).astype(np.float32)  # OC, KH, KW, IC
b2 = rng.normal(0, 0.1, 3).astype(np.float32)
net = f'''func.func @main(%x: tensor<1x16x16x3xf32>) -> tensor<1x32x32x3xf32> {{
  %zp = "tosa.const"() {{values = dense<0.0> : tensor<1xf32>}} : () -> tensor<1xf32>
  %w1 = "tosa.const"() {{values = {dense(w1)}}} : () -> tensor<8x3x3x3xf32>
  %b1 = "tosa.const"() {{values = {dense(b1)}}} : () -> tensor<8xf32>
  %c1 = tosa.conv2d %x, %w1, %b1, %zp, %zp {{acc_type = f32, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}} : (tensor<1x16x16x3xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x16x8xf32> loc("conv1")
  %r1 = tosa.clamp %c1 {{min_val = 0.0 : f32, max_val = 6.0 : f32}} : (tensor<1x16x16x8xf32>) -> tensor<1x16x16x8xf32>
  %w2 = "tosa.const"() {{values = {dense(w2)}}} : () -> tensor<3x2x2x8xf32>
  %b2 = "tosa.const"() {{values = {dense(b2)}}} : () -> tensor<3xf32>
  %up = tosa.transpose_conv2d %r1, %w2, %b2, %zp, %zp {{acc_type = f32, out_pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>}} : (tensor<1x16x16x8xf32>, tensor<3x2x2x8xf32>, tensor<3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x32x32x3xf32> loc("up")
  return %up : tensor<1x32x32x3xf32>
}}'''
with open(os.path.join(out, "float.mlir"), "w") as f:
    f.write(net + "\n")
frames = (rng.integers(0, 256, (12, 1, 16, 16, 3)) / 255.0).astype(np.float32)
np.save(os.path.join(out, "frames.npy"), frames)
