# RUN: %python %s resq-opt resq-run %t
#
# resq-optimize-glue changes how some glue loops run, never a number:
#   * bilinear resizing (tosa.resize, 24 channels), its four tensor.extract
#     per output pixel turned into contiguous vector reads per pixel;
#   * elementwise glue on 3 channels and on 1 channel with every operand
#     indexed by the identity (the models' input quantization and output),
#     its dimensions merged into rows of W x C;
#   * elementwise glue with per-channel operands (3 and 24 channels), one
#     vector op per pixel;
#   * global average pooling of an elementwise result used by nothing else
#     (x + x * per-channel scale), computed in the pooling's loop;
# through resq-to-llvm on 1 and 2 threads equal upstream's lowering of the
# same TOSA bit for bit.

import numpy as np

import e2e
import upstream


def tensor(shape, element="f32"):
    return "tensor<" + "x".join(str(d) for d in shape) + f"x{element}>"


def hex_dense(a):
    return 'dense<"0x' + np.ascontiguousarray(a, dtype="<f4").tobytes().hex().upper() + '">'


CASES = {
    # name: (input shape, output shape, body using %x and returning %y)
    "resize": ((1, 4, 5, 24), (1, 8, 10, 24), """
  %scale = tosa.const_shape {values = dense<[4, 2, 4, 2]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %offset = tosa.const_shape {values = dense<-1> : tensor<2xindex>} : () -> !tosa.shape<2>
  %border = tosa.const_shape {values = dense<1> : tensor<2xindex>} : () -> !tosa.shape<2>
  %y = tosa.resize %x, %scale, %offset, %border {mode = BILINEAR} : (@IN@, !tosa.shape<4>, !tosa.shape<2>, !tosa.shape<2>) -> @OUT@"""),
    "three_channels": ((1, 6, 7, 3), (1, 6, 7, 3), """
  %s = "tosa.const"() {values = dense<3.7> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %zp = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.mul %x, %s, %zp : (@IN@, tensor<1x1x1x1xf32>, tensor<1xi8>) -> @OUT@
  %y = tosa.clamp %m {max_val = 2.5 : f32, min_val = -1.25 : f32} : (@OUT@) -> @OUT@"""),
    "per_channel_24": ((1, 5, 6, 24), (1, 5, 6, 24), """
  %s = "tosa.const"() {values = dense<[[[[0.5, 1.5, -2.0, 3.25, 0.125, 7.0, -0.75, 1.0, 2.0, 3.0, 4.0, 5.0, -6.0, 0.3, 0.7, 1.1, 1.3, -1.7, 1.9, 2.3, 2.9, 3.1, -3.7, 4.1]]]]> : tensor<1x1x1x24xf32>} : () -> tensor<1x1x1x24xf32>
  %zp = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %y = tosa.mul %x, %s, %zp : (@IN@, tensor<1x1x1x24xf32>, tensor<1xi8>) -> @OUT@"""),
    "three_channels_identity": ((1, 6, 7, 3), (1, 6, 7, 3), """
  %y = tosa.clamp %x {max_val = 2.5 : f32, min_val = -1.25 : f32} : (@IN@) -> @OUT@"""),
    "one_channel": ((1, 6, 7, 1), (1, 6, 7, 1), """
  %y = tosa.clamp %x {max_val = 0.5 : f32, min_val = -3.25 : f32} : (@IN@) -> @OUT@"""),
    "pool_of_sum": ((1, 6, 7, 24), (1, 1, 1, 24), """
  %s = "tosa.const"() {values = dense<[[[[0.5, 1.5, -2.0, 3.25, 0.125, 7.0, -0.75, 1.0, 2.0, 3.0, 4.0, 5.0, -6.0, 0.3, 0.7, 1.1, 1.3, -1.7, 1.9, 2.3, 2.9, 3.1, -3.7, 4.1]]]]> : tensor<1x1x1x24xf32>} : () -> tensor<1x1x1x24xf32>
  %zp = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.mul %x, %s, %zp : (@IN@, tensor<1x1x1x24xf32>, tensor<1xi8>) -> @IN@
  %a = tosa.add %x, %m : (@IN@, @IN@) -> @IN@
  %z = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %y = tosa.avg_pool2d %a, %z, %z {acc_type = f32, kernel = array<i64: 6, 7>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 6, 7>} : (@IN@, tensor<1xf32>, tensor<1xf32>) -> @OUT@"""),
    "one_channel_broadcast": ((1, 6, 7, 1), (1, 6, 7, 1), """
  %s = "tosa.const"() {values = dense<0.37> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %y = tosa.add %x, %s : (@IN@, tensor<1x1x1x1xf32>) -> @OUT@"""),
}


def net_mlir(name):
    in_shape, out_shape, body = CASES[name]
    body = body.replace("@IN@", tensor(in_shape)).replace("@OUT@", tensor(out_shape))
    return f"""func.func @net(%x: {tensor(in_shape)}) -> {tensor(out_shape)} {{{body}
  return %y : {tensor(out_shape)}
}}
"""


def upstream_bits(net, x, out_shape):
    out, out32 = tensor(out_shape), tensor(out_shape, "i32")
    mem32 = out32.replace("tensor", "memref")
    module = f"""module {{
  func.func private @printMemrefI32(memref<*xi32>)
{net}
  func.func @main() {{
    %x = arith.constant {hex_dense(x)} : {tensor(x.shape)}
    %y = call @net(%x) : ({tensor(x.shape)}) -> {out}
    %bits = arith.bitcast %y : {out} to {out32}
    %m = bufferization.to_buffer %bits : {out32} to {mem32}
    %u = memref.cast %m : {mem32} to memref<*xi32>
    call @printMemrefI32(%u) : (memref<*xi32>) -> ()
    return
  }}
}}
"""
    stdout = upstream.lower_and_run(module)
    return upstream.parse_printed_memrefs(stdout, [out_shape])[0]


def test(tools):
    rng = np.random.default_rng(11)
    for name, (in_shape, out_shape, _) in CASES.items():
        net = net_mlir(name)
        path = tools.path(f"{name}.mlir")
        with open(path, "w") as f:
            f.write(net.replace("func.func @net(", "func.func @main("))
        x = (rng.standard_normal((2,) + in_shape) * 3).astype(np.float32)
        np.save(tools.path(f"{name}.npy"), x)
        expected = [upstream_bits(net, x[f], out_shape) for f in range(len(x))]
        for threads in (1, 2):
            got = e2e.resq_run(tools, path, tools.path(f"{name}.npy"),
                               f"{name}{threads}", step_threads=threads)["outputs"]
            for f in range(len(x)):
                e2e.expect_equal(f"{name}, {threads} thread(s), frame {f}: bits",
                                 got[0][f].view(np.int32),
                                 expected[f].astype(np.int32))
    e2e.passed("bilinear resize (24 channels), elementwise glue on 24, 3 and 1 "
               "channels, pooling of a sum == upstream's lowering, bit for bit "
               "(2 frames, 1 and 2 threads)")


if __name__ == "__main__":
    e2e.main(test)
