# RUN: %python %s resq-opt resq-run %t
#
# resq-float-conv turns float convolutions into vector loops (partial sums
# in vectors over output channels) without changing any sum: conv2d 3x3 /
# stride 2 with padding (32 -> 56 channels, vectors of 14), depthwise 3x3
# and 5x5 / stride 2 (vectors of 14), conv2d 1x1 (56 -> 40, 4 vectors of
# 10) and 3x3 to a single channel (vectors of 1), through resq-to-llvm on 1
# and 2 threads equal upstream's lowering of the same TOSA bit for bit.

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
    w4 = rng.standard_normal((5, 5, F, 1)).astype(np.float32)
    b4 = rng.standard_normal(F).astype(np.float32)
    w3 = rng.standard_normal((G, 1, 1, F)).astype(np.float32)
    b3 = rng.standard_normal(G).astype(np.float32)
    w5 = rng.standard_normal((1, 3, 3, G)).astype(np.float32)
    b5 = rng.standard_normal(1).astype(np.float32)
    o1 = (H + 2 - 3) // 2 + 1
    o = (o1 + 4 - 5) // 2 + 1
    t = lambda s: "tensor<" + "x".join(str(d) for d in s) + "xf32>"
    return o, f"""func.func @net(%x: {t((1, H, H, C))}) -> ({t((1, o, o, G))}, {t((1, o, o, 1))}) {{
  %zp = "tosa.const"() {{values = dense<0.0> : tensor<1xf32>}} : () -> tensor<1xf32>
  %w1 = "tosa.const"() {{values = {hex_dense(w1)} : {t(w1.shape)}}} : () -> {t(w1.shape)}
  %b1 = "tosa.const"() {{values = {hex_dense(b1)} : {t(b1.shape)}}} : () -> {t(b1.shape)}
  %y1 = tosa.conv2d %x, %w1, %b1, %zp, %zp {{acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 2, 2>}} : ({t((1, H, H, C))}, {t(w1.shape)}, {t(b1.shape)}, tensor<1xf32>, tensor<1xf32>) -> {t((1, o1, o1, F))}
  %w2 = "tosa.const"() {{values = {hex_dense(w2)} : {t(w2.shape)}}} : () -> {t(w2.shape)}
  %b2 = "tosa.const"() {{values = {hex_dense(b2)} : {t(b2.shape)}}} : () -> {t(b2.shape)}
  %y2 = tosa.depthwise_conv2d %y1, %w2, %b2, %zp, %zp {{acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>}} : ({t((1, o1, o1, F))}, {t(w2.shape)}, {t(b2.shape)}, tensor<1xf32>, tensor<1xf32>) -> {t((1, o1, o1, F))}
  %w4 = "tosa.const"() {{values = {hex_dense(w4)} : {t(w4.shape)}}} : () -> {t(w4.shape)}
  %b4 = "tosa.const"() {{values = {hex_dense(b4)} : {t(b4.shape)}}} : () -> {t(b4.shape)}
  %y4 = tosa.depthwise_conv2d %y2, %w4, %b4, %zp, %zp {{acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 2, 2, 2, 2>, stride = array<i64: 2, 2>}} : ({t((1, o1, o1, F))}, {t(w4.shape)}, {t(b4.shape)}, tensor<1xf32>, tensor<1xf32>) -> {t((1, o, o, F))}
  %w3 = "tosa.const"() {{values = {hex_dense(w3)} : {t(w3.shape)}}} : () -> {t(w3.shape)}
  %b3 = "tosa.const"() {{values = {hex_dense(b3)} : {t(b3.shape)}}} : () -> {t(b3.shape)}
  %y3 = tosa.conv2d %y4, %w3, %b3, %zp, %zp {{acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>}} : ({t((1, o, o, F))}, {t(w3.shape)}, {t(b3.shape)}, tensor<1xf32>, tensor<1xf32>) -> {t((1, o, o, G))}
  %w5 = "tosa.const"() {{values = {hex_dense(w5)} : {t(w5.shape)}}} : () -> {t(w5.shape)}
  %b5 = "tosa.const"() {{values = {hex_dense(b5)} : {t(b5.shape)}}} : () -> {t(b5.shape)}
  %y5 = tosa.conv2d %y3, %w5, %b5, %zp, %zp {{acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>}} : ({t((1, o, o, G))}, {t(w5.shape)}, {t(b5.shape)}, tensor<1xf32>, tensor<1xf32>) -> {t((1, o, o, 1))}
  return %y3, %y5 : {t((1, o, o, G))}, {t((1, o, o, 1))}
}}
"""


def upstream_bits(net, o, x):
    """The network's results through upstream's lowering, as int32 bits."""
    t = lambda s, e="f32": "tensor<" + "x".join(str(d) for d in s) + f"x{e}>"
    shapes = [(1, o, o, G), (1, o, o, 1)]
    prints = ""
    for k, shape in enumerate(shapes):
        out, out32 = t(shape), t(shape, "i32")
        mem32 = out32.replace("tensor", "memref")
        prints += f"""    %bits{k} = arith.bitcast %y#{k} : {out} to {out32}
    %m{k} = bufferization.to_buffer %bits{k} : {out32} to {mem32}
    %u{k} = memref.cast %m{k} : {mem32} to memref<*xi32>
    call @printMemrefI32(%u{k}) : (memref<*xi32>) -> ()
"""
    module = f"""module {{
  func.func private @printMemrefI32(memref<*xi32>)
{net}
  func.func @main() {{
    %x = arith.constant {hex_dense(x)} : {t(x.shape)}
    %y:2 = call @net(%x) : ({t(x.shape)}) -> ({t(shapes[0])}, {t(shapes[1])})
{prints}    return
  }}
}}
"""
    stdout = upstream.lower_and_run(module)
    return upstream.parse_printed_memrefs(stdout, shapes)


def test(tools):
    rng = np.random.default_rng(7)
    o, net = net_mlir(rng)
    path = tools.path("float_conv.mlir")
    with open(path, "w") as f:
        f.write(net.replace("func.func @net(", "func.func @main("))
    x = rng.standard_normal((2, 1, H, H, C)).astype(np.float32)
    np.save(tools.path("x.npy"), x)
    expected = [upstream_bits(net, o, x[f]) for f in range(len(x))]
    for threads in (1, 2):
        got = e2e.resq_run(tools, path, tools.path("x.npy"), f"float_conv{threads}",
                           results=2, step_threads=threads)["outputs"]
        for f in range(len(x)):
            for k in range(2):
                e2e.expect_equal(f"{threads} thread(s), frame {f}, result {k}: bits",
                                 got[k][f].view(np.int32),
                                 expected[f][k].astype(np.int32))
    e2e.passed(f"float conv2d 3x3/2, depthwise 3x3 and 5x5/2, conv2d 1x1 and "
               f"3x3 ({C}->{F}->{G}->1 channels) == upstream's lowering, bit for "
               f"bit ({len(x)} frames, 1 and 2 threads)")


if __name__ == "__main__":
    e2e.main(test)
