# RUN: %python %s resq-opt resq-run %t
#
# resq-optimize-glue keeps the glue's numbers:
#   * global average pooling through resq-to-llvm equals, bit for bit, the
#     sum upstream's linalg.pooling_nhwc_sum computes (per channel, rows then
#     columns, in float32) divided by the window size;
#   * the sigmoid with the approximated exp stays within 4e-7 (relative,
#     float32 has 6e-8 per ulp) of the exact sigmoid.

import numpy as np

import e2e

H, W, C = 16, 12, 24

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


if __name__ == "__main__":
    e2e.main(test)
