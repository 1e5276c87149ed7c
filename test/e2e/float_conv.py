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


def tensor(shape, element="f32"):
    return "tensor<" + "x".join(str(d) for d in shape) + f"x{element}>"


def net_mlir(rng):
    """The output size, and the network as a function @net."""
    o1 = (H + 2 - 3) // 2 + 1
    o = (o1 + 4 - 5) // 2 + 1
    lines = []

    def layer(op, x, in_shape, weight_shape, out_shape, pad, stride):
        """Appends one float layer with random weights and bias; returns its
        result's name."""
        k = len(lines)
        w = rng.standard_normal(weight_shape).astype(np.float32)
        b = rng.standard_normal(out_shape[-1]).astype(np.float32)
        lines.append(f"""  %w{k} = "tosa.const"() {{values = {hex_dense(w)} : {tensor(w.shape)}}} : () -> {tensor(w.shape)}
  %b{k} = "tosa.const"() {{values = {hex_dense(b)} : {tensor(b.shape)}}} : () -> {tensor(b.shape)}
  %y{k} = tosa.{op} {x}, %w{k}, %b{k}, %zp, %zp {{acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: {pad}, {pad}, {pad}, {pad}>, stride = array<i64: {stride}, {stride}>}} : ({tensor(in_shape)}, {tensor(w.shape)}, {tensor(b.shape)}, tensor<1xf32>, tensor<1xf32>) -> {tensor(out_shape)}""")
        return f"%y{k}"

    y1 = layer("conv2d", "%x", (1, H, H, C), (F, 3, 3, C), (1, o1, o1, F), 1, 2)
    y2 = layer("depthwise_conv2d", y1, (1, o1, o1, F), (3, 3, F, 1), (1, o1, o1, F), 1, 1)
    y3 = layer("depthwise_conv2d", y2, (1, o1, o1, F), (5, 5, F, 1), (1, o, o, F), 2, 2)
    y4 = layer("conv2d", y3, (1, o, o, F), (G, 1, 1, F), (1, o, o, G), 0, 1)
    y5 = layer("conv2d", y4, (1, o, o, G), (1, 3, 3, G), (1, o, o, 1), 1, 1)
    body = "\n".join(lines)
    return o, f"""func.func @net(%x: {tensor((1, H, H, C))}) -> ({tensor((1, o, o, G))}, {tensor((1, o, o, 1))}) {{
  %zp = "tosa.const"() {{values = dense<0.0> : tensor<1xf32>}} : () -> tensor<1xf32>
{body}
  return {y4}, {y5} : {tensor((1, o, o, G))}, {tensor((1, o, o, 1))}
}}
"""


def upstream_bits(net, o, x):
    """The network's results through upstream's lowering, as int32 bits."""
    t = tensor
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
