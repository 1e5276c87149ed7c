# RUN: %python %s resq-opt resq-run %t
#
# Copies between strided buffers (a padded tensor filled, a transposed,
# sliced or concatenated one) run as loops around contiguous runs
# (resq-lower-copies), not through the C runner utilities: the outputs
# equal numpy's pad, transpose, slice and concatenate, bit for bit, on 1
# thread and on 2 (where a copy of 256 KiB or more, the large pad, is
# shared by the threads).

import numpy as np

import e2e

MODEL = """func.func @main(%x: tensor<1x5x7x3xf32>, %y: tensor<1x5x7x3xi8>, %z: tensor<1x96x96x8xf32>) -> (tensor<1x8x10x3xf32>, tensor<1x3x7x4xi8>, tensor<1x5x11x3xf32>, tensor<1x99x98x8xf32>) {
  %pad = tosa.const_shape {values = dense<[0, 0, 1, 2, 2, 1, 0, 0]> : tensor<8xindex>} : () -> !tosa.shape<8>
  %padv = "tosa.const"() {values = dense<-1.5> : tensor<1xf32>} : () -> tensor<1xf32>
  %p = tosa.pad %x, %pad, %padv : (tensor<1x5x7x3xf32>, !tosa.shape<8>, tensor<1xf32>) -> tensor<1x8x10x3xf32>
  %t = tosa.transpose %y {perms = array<i32: 0, 3, 2, 1>} : (tensor<1x5x7x3xi8>) -> tensor<1x3x7x5xi8>
  %start = tosa.const_shape {values = dense<[0, 0, 0, 1]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %size = tosa.const_shape {values = dense<[1, 3, 7, 4]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %s = tosa.slice %t, %start, %size : (tensor<1x3x7x5xi8>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x3x7x4xi8>
  %cstart = tosa.const_shape {values = dense<[0, 0, 3, 0]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %csize = tosa.const_shape {values = dense<[1, 5, 4, 3]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %part = tosa.slice %x, %cstart, %csize : (tensor<1x5x7x3xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x5x4x3xf32>
  %c = tosa.concat %x, %part {axis = 2 : i32} : (tensor<1x5x7x3xf32>, tensor<1x5x4x3xf32>) -> tensor<1x5x11x3xf32>
  %zpad = tosa.const_shape {values = dense<[0, 0, 2, 1, 1, 1, 0, 0]> : tensor<8xindex>} : () -> !tosa.shape<8>
  %zp = tosa.pad %z, %zpad, %padv : (tensor<1x96x96x8xf32>, !tosa.shape<8>, tensor<1xf32>) -> tensor<1x99x98x8xf32>
  return %p, %s, %c, %zp : tensor<1x8x10x3xf32>, tensor<1x3x7x4xi8>, tensor<1x5x11x3xf32>, tensor<1x99x98x8xf32>
}
"""


def test(tools):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 1, 5, 7, 3)).astype(np.float32)
    y = rng.integers(-128, 128, (3, 1, 5, 7, 3)).astype(np.int8)
    model = tools.path("copies.mlir")
    with open(model, "w") as f:
        f.write(MODEL)
    z = rng.standard_normal((3, 1, 96, 96, 8)).astype(np.float32)
    np.save(tools.path("x.npy"), x)
    np.save(tools.path("y.npy"), y)
    np.save(tools.path("z.npy"), z)
    for threads in (1, 2):
        out = e2e.resq_run(tools, model, [tools.path(f"{v}.npy") for v in "xyz"],
                           f"copies{threads}", results=4,
                           step_threads=threads)["outputs"]
        check(x, y, z, out, f"{threads} thread(s)")
    e2e.passed(f"pad, transpose + slice, concat, large pad equal numpy's "
               f"({len(x)} frames, 1 and 2 threads)")


def check(x, y, z, out, threads):
    for f in range(len(x)):
        padded = np.pad(x[f], ((0, 0), (1, 2), (2, 1), (0, 0)),
                        constant_values=np.float32(-1.5))
        e2e.expect_equal(f"{threads}, frame {f}: pad", out[0][f], padded)
        e2e.expect_equal(f"{threads}, frame {f}: transpose + slice", out[1][f],
                         y[f].transpose(0, 3, 2, 1)[:, :, :, 1:5])
        e2e.expect_equal(f"{threads}, frame {f}: concat", out[2][f],
                         np.concatenate([x[f], x[f][:, :, 3:7]], axis=2))
        e2e.expect_equal(f"{threads}, frame {f}: large pad", out[3][f],
                         np.pad(z[f], ((0, 0), (2, 1), (1, 1), (0, 0)),
                                constant_values=np.float32(-1.5)))


if __name__ == "__main__":
    e2e.main(test)
