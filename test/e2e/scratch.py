# RUN: %python %s resq-opt resq-run %t
#
# A step's intermediate tensors live in one scratch block per step
# (resq-plan-scratch), whatever its size against the stream state: here one
# small residualized layer (a 704-byte state) beside float glue with 1.1 MB
# of intermediates. Outputs over keyframes and residual frames equal numpy
# (integer-valued floats: every sum is exact).

import numpy as np

import e2e

MODEL = """func.func @main(%big: tensor<1x128x128x16xf32>) -> (tensor<1x2x2x16xi32>, tensor<1x128x128x16xf32>) {
  %start = tosa.const_shape {values = dense<0> : tensor<4xindex>} : () -> !tosa.shape<4>
  %size = tosa.const_shape {values = dense<[1, 2, 2, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %xs = tosa.slice %big, %start, %size : (tensor<1x128x128x16xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x2x16xf32>
  %x = tosa.cast %xs : (tensor<1x2x2x16xf32>) -> tensor<1x2x2x16xi8>
  %w = "tosa.const"() <{values = dense<1> : tensor<16x1x1x16xi8>}> : () -> tensor<16x1x1x16xi8>
  %b = "tosa.const"() <{values = dense<0> : tensor<16xi32>}> : () -> tensor<16xi32>
  %zp = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = i32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x16xi8>, tensor<16x1x1x16xi8>, tensor<16xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x2x2x16xi32> loc("tiny")
  %s = tosa.reduce_sum %big {axis = 3 : i32} : (tensor<1x128x128x16xf32>) -> tensor<1x128x128x1xf32>
  %t = tosa.add %big, %s : (tensor<1x128x128x16xf32>, tensor<1x128x128x1xf32>) -> tensor<1x128x128x16xf32>
  %u = tosa.reduce_max %t {axis = 2 : i32} : (tensor<1x128x128x16xf32>) -> tensor<1x128x1x16xf32>
  %v = tosa.sub %t, %u : (tensor<1x128x128x16xf32>, tensor<1x128x1x16xf32>) -> tensor<1x128x128x16xf32>
  return %c, %v : tensor<1x2x2x16xi32>, tensor<1x128x128x16xf32>
}
"""


def test(tools):
    rng = np.random.default_rng(9)
    frames = rng.integers(-20, 21, (4, 1, 128, 128, 16)).astype(np.float32)
    frames[2] = frames[1]  # an unchanged frame: every block 0-bit
    model = tools.path("scratch.mlir")
    with open(model, "w") as f:
        f.write(MODEL)
    resq_model = e2e.residualize(tools, model, "scratch", step=1, bits=8)
    path = tools.path("frames.npy")
    np.save(path, frames)
    out = e2e.resq_run(tools, resq_model, path, "scratch", results=2)["outputs"]
    for f, big in enumerate(frames[:, 0]):
        x = big[:2, :2].astype(np.int64)
        conv = np.repeat(x.sum(axis=-1, keepdims=True), 16, axis=-1)
        e2e.expect_equal(f"frame {f}: residualized 1x1 conv", out[0][f, 0],
                         conv.astype(np.int32))
        t = big + big.sum(axis=-1, keepdims=True)
        e2e.expect_equal(f"frame {f}: float glue", out[1][f, 0],
                         (t - t.max(axis=1, keepdims=True)).astype(np.float32))
    e2e.passed("scratch block larger than the stream state: outputs exact over "
               f"{len(frames)} frames")


if __name__ == "__main__":
    e2e.main(test)
