"""Writes a small float TOSA net (conv 3x3 -> relu6 -> depthwise 3x3 ->
relu6 -> conv 1x1 head -> sigmoid) and float calibration frames.

    make_float_net.py OUT_DIR
"""
import os
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng=np.random.default_rng(0)
def dense(a):
    flat=", ".join("%.6g"%v for v in a.ravel())
    shape="x".join(str(d) for d in a.shape)
    return f'dense<[{flat}]> : tensor<{shape}xf32>' if a.ndim==1 else 'dense<' + np.array2string(a, separator=', ', threshold=10**9, formatter={'float_kind':lambda v: '%.6g'%v}).replace('\n','') + f'> : tensor<{shape}xf32>'
w1=rng.normal(0,0.3,(8,3,3,3)).astype(np.float32); b1=rng.normal(0,0.1,8).astype(np.float32)
w2=rng.normal(0,0.3,(3,3,8,1)).astype(np.float32); b2=rng.normal(0,0.1,8).astype(np.float32)
w3=rng.normal(0,0.3,(2,1,1,8)).astype(np.float32); b3=rng.normal(0,0.1,2).astype(np.float32)
net = (f'''func.func @main(%x: tensor<1x16x16x3xf32>) -> tensor<1x16x16x2xf32> {{
  %zp = "tosa.const"() {{values = dense<0.0> : tensor<1xf32>}} : () -> tensor<1xf32>
  %w1 = "tosa.const"() {{values = {dense(w1)}}} : () -> tensor<8x3x3x3xf32>
  %b1 = "tosa.const"() {{values = {dense(b1)}}} : () -> tensor<8xf32>
  %c1 = tosa.conv2d %x, %w1, %b1, %zp, %zp {{acc_type = f32, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}} : (tensor<1x16x16x3xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x16x8xf32> loc("conv1")
  %r1 = tosa.clamp %c1 {{min_val = 0.0 : f32, max_val = 6.0 : f32}} : (tensor<1x16x16x8xf32>) -> tensor<1x16x16x8xf32>
  %w2 = "tosa.const"() {{values = {dense(w2)}}} : () -> tensor<3x3x8x1xf32>
  %b2 = "tosa.const"() {{values = {dense(b2)}}} : () -> tensor<8xf32>
  %c2 = tosa.depthwise_conv2d %r1, %w2, %b2, %zp, %zp {{acc_type = f32, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}} : (tensor<1x16x16x8xf32>, tensor<3x3x8x1xf32>, tensor<8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x16x8xf32> loc("dw2")
  %r2 = tosa.clamp %c2 {{min_val = 0.0 : f32, max_val = 6.0 : f32}} : (tensor<1x16x16x8xf32>) -> tensor<1x16x16x8xf32>
  %w3 = "tosa.const"() {{values = {dense(w3)}}} : () -> tensor<2x1x1x8xf32>
  %b3 = "tosa.const"() {{values = {dense(b3)}}} : () -> tensor<2xf32>
  %c3 = tosa.conv2d %r2, %w3, %b3, %zp, %zp {{acc_type = f32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}} : (tensor<1x16x16x8xf32>, tensor<2x1x1x8xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x16x2xf32> loc("head")
  %s = tosa.sigmoid %c3 : (tensor<1x16x16x2xf32>) -> tensor<1x16x16x2xf32>
  return %s : tensor<1x16x16x2xf32>
}}''')
with open(os.path.join(out, 'float.mlir'), 'w') as f:
    f.write(net + '\n')
f=(rng.integers(0,256,(20,1,16,16,3))/255.0).astype(np.float32)
# Frames of 8-bit video: multiples of 1/255.
np.save(os.path.join(out, 'frames.npy'), f)
# One still frame whose 4x4 corner inverts on every other frame: residuals
# of up to 255 codes (9 bits at steps of 1), everywhere else none.
jumps = np.repeat(f[:1], 20, axis=0)
jumps[1::2, 0, :4, :4, :] = 1.0 - jumps[1::2, 0, :4, :4, :]
np.save(os.path.join(out, 'jumps.npy'), jumps)
