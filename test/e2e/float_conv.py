# RUN: %python %s resq-opt resq-run %t
#
# resq-float-conv moves the loops of float convolutions (input channels in
# chunks inside the loop over output channels, so they vectorize) without
# changing any sum: conv2d 3x3 / stride 2 with padding (32 input channels,
# chunks of 16) and 1x1 (56 input channels, chunks of 14), around a
# depthwise layer, through resq-to-llvm equal upstream's lowering of the
# same TOSA bit for bit.

import numpy as np

import e2e
import upstream

H, C, F, G = 13, 32, 56, 40


def hex_dense(a):
    return 'dense<"0x' + np.ascontiguousarray(a, dtype="<f4").tobytes().hex().upper() + '">'


def net_mlir(rng):
    """The output size, and the network as a function @net."""
    w1 = rng.standard_normal((F, 3, 3, C)).astype(np.float32)
    b1 = rng.standard_normal(F).astype(np.float32)
    w2 = rng.standard_normal((3, 3, F, 1)).astype(np.float32)
    b2 = rng.standard_normal(F).astype(np.float32)
    w3 = rng.standard_normal((G, 1, 1, F)).astype(np.float32)
    b3 = rng.standard_normal(G).astype(np.float32)
    o = (H + 2 - 3) // 2 + 1
    t = lambda s: "tensor<" + "x".join(str(d) for d in s) + "xf32>"
    return o, f"""func.func @net(%x: {t((1, H, H, C))}) -> {t((1, o, o, G))} {{
  %zp = "tosa.const"() {{values = dense<0.0> : tensor<1xf32>}} : () -> tensor<1xf32>
  %w1 = "tosa.const"() {{values = {hex_dense(w1)} : {t(w1.shape)}}} : () -> {t(w1.shape)}
  %b1 = "tosa.const"() {{values = {hex_dense(b1)} : {t(b1.shape)}}} : () -> {t(b1.shape)}
  %y1 = tosa.conv2d %x, %w1, %b1, %zp, %zp {{acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 2, 2>}} : ({t((1, H, H, C))}, {t(w1.shape)}, {t(b1.shape)}, tensor<1xf32>, tensor<1xf32>) -> {t((1, o, o, F))}
  %w2 = "tosa.const"() {{values = {hex_dense(w2)} : {t(w2.shape)}}} : () -> {t(w2.shape)}
  %b2 = "tosa.const"() {{values = {hex_dense(b2)} : {t(b2.shape)}}} : () -> {t(b2.shape)}
  %y2 = tosa.depthwise_conv2d %y1, %w2, %b2, %zp, %zp {{acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>}} : ({t((1, o, o, F))}, {t(w2.shape)}, {t(b2.shape)}, tensor<1xf32>, tensor<1xf32>) -> {t((1, o, o, F))}
  %w3 = "tosa.const"() {{values = {hex_dense(w3)} : {t(w3.shape)}}} : () -> {t(w3.shape)}
  %b3 = "tosa.const"() {{values = {hex_dense(b3)} : {t(b3.shape)}}} : () -> {t(b3.shape)}
  %y3 = tosa.conv2d %y2, %w3, %b3, %zp, %zp {{acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>}} : ({t((1, o, o, F))}, {t(w3.shape)}, {t(b3.shape)}, tensor<1xf32>, tensor<1xf32>) -> {t((1, o, o, G))}
  return %y3 : {t((1, o, o, G))}
}}
"""


def upstream_bits(net, o, x):
    """The network's result through upstream's lowering, as int32 bits."""
    t = lambda s, e="f32": "tensor<" + "x".join(str(d) for d in s) + f"x{e}>"
    out, out32 = t((1, o, o, G)), t((1, o, o, G), "i32")
    module = f"""module {{
  func.func private @printMemrefI32(memref<*xi32>)
{net}
  func.func @main() {{
    %x = arith.constant {hex_dense(x)} : {t(x.shape)}
    %y = call @net(%x) : ({t(x.shape)}) -> {out}
    %bits = arith.bitcast %y : {out} to {out32}
    %m = bufferization.to_buffer %bits : {out32} to {out32.replace("tensor", "memref")}
    %u = memref.cast %m : {out32.replace("tensor", "memref")} to memref<*xi32>
    call @printMemrefI32(%u) : (memref<*xi32>) -> ()
    return
  }}
}}
"""
    stdout = upstream.lower_and_run(module)
    return upstream.parse_printed_memrefs(stdout, [(1, o, o, G)])[0]


def test(tools):
    rng = np.random.default_rng(7)
    o, net = net_mlir(rng)
    path = tools.path("float_conv.mlir")
    with open(path, "w") as f:
        f.write(net.replace("func.func @net(", "func.func @main("))
    x = rng.standard_normal((2, 1, H, H, C)).astype(np.float32)
    np.save(tools.path("x.npy"), x)
    got = e2e.resq_run(tools, path, tools.path("x.npy"), "float_conv")["outputs"][0]
    for f in range(len(x)):
        expected = upstream_bits(net, o, x[f]).astype(np.int32)
        e2e.expect_equal(f"frame {f}: bits", got[f].view(np.int32), expected)
    e2e.passed(f"float conv2d 3x3/2, depthwise 3x3, conv2d 1x1 ({C}->{F}->{G} "
               f"channels) == upstream's lowering, bit for bit ({len(x)} frames)")


if __name__ == "__main__":
    e2e.main(test)
