# RUN: %python %s resq-opt resq-run %t
#
# The numpy reference (test/e2e/lib/resq_ref.py) against the oracle: the
# standard int8 TOSA graph lowered by upstream MLIR (mlir-opt with the
# reference pipeline of docs TOOLCHAIN.md, run by mlir-runner). Every linear
# op kind with strides, padding, dilation, per-channel weights, depthwise
# multipliers, transpose out_pad, matmul batches; rescale in both rounding
# modes, per tensor and per channel; whole multi-layer nets. Bit for bit.
# Also: examples/tiny_segnet.mlir is what scripts/make_example.py generates,
# reads back into the same net, and matches upstream on a frame.
# Needs only upstream tools; the resq tools are not used.

import os

import numpy as np

import e2e
import netgen
import sequences
import upstream


def random_input(rng, shape):
    return rng.integers(-128, 128, size=shape).astype(np.int8)


def check_net(what, net, rng):
    upstream.check_with_mlir_opt(net.to_mlir())
    x = random_input(rng, net.input_shape)
    expected = net.run(x)
    got = upstream.run_net(net, x)
    for i, (g, e) in enumerate(zip(got, expected)):
        e2e.expect_equal(f"{what}: result {i}", g[None], e[None])
    e2e.passed(f"reference == upstream: {what}")


def linear_cases():
    """(description, kind, input shape, random_layer arguments)."""
    return [
        ("conv2d 3x3 pad 1", "conv2d", (1, 9, 9, 5),
         dict(out_channels=6)),
        ("conv2d 3x3 stride 2 pad 1,0,1,0", "conv2d", (1, 8, 8, 4),
         dict(out_channels=8, pad=(1, 0, 1, 0), stride=(2, 2))),
        ("conv2d 3x3 dilation 2 pad 2", "conv2d", (1, 10, 9, 3),
         dict(out_channels=5, pad=(2, 2, 2, 2), dilation=(2, 2))),
        ("conv2d 5x3 stride 2,1 pad 2,2,1,1", "conv2d", (1, 9, 7, 4),
         dict(out_channels=7, kernel=(5, 3), pad=(2, 2, 1, 1), stride=(2, 1))),
        ("conv2d 1x1 stride 2 pad 0,1,0,1", "conv2d", (1, 8, 8, 6),
         dict(out_channels=4, kernel=(1, 1), pad=(0, 1, 0, 1), stride=(2, 2))),
        ("conv2d 3x3 batch 2 dilation 1,2", "conv2d", (2, 6, 8, 3),
         dict(out_channels=4, pad=(1, 1, 2, 2), dilation=(1, 2))),
        ("depthwise_conv2d 3x3 multiplier 1", "depthwise_conv2d", (1, 8, 8, 6),
         dict(multiplier=1)),
        ("depthwise_conv2d 3x3 multiplier 2 stride 2", "depthwise_conv2d",
         (1, 8, 8, 4), dict(multiplier=2, pad=(0, 1, 0, 1), stride=(2, 2))),
        ("depthwise_conv2d 3x3 multiplier 3 dilation 2", "depthwise_conv2d",
         (1, 9, 9, 3), dict(multiplier=3, pad=(2, 2, 2, 2), dilation=(2, 2))),
        ("transpose_conv2d 3x3 stride 1", "transpose_conv2d", (1, 6, 6, 4),
         dict(out_channels=5, pad=(0, 0, 0, 0))),
        ("transpose_conv2d 3x3 stride 1 out_pad -1", "transpose_conv2d",
         (1, 7, 6, 3), dict(out_channels=4, pad=(-1, -1, -1, -1))),
        ("transpose_conv2d 4x4 stride 2 out_pad -1", "transpose_conv2d",
         (1, 5, 5, 4), dict(out_channels=6, kernel=(4, 4),
                            pad=(-1, -1, -1, -1), stride=(2, 2))),
        ("transpose_conv2d 3x3 stride 2 out_pad 0,1,1,0", "transpose_conv2d",
         (1, 4, 5, 3), dict(out_channels=4, pad=(0, 1, 1, 0), stride=(2, 2))),
        ("transpose_conv2d 2x3 stride 2,3 out_pad 1,0,0,2", "transpose_conv2d",
         (1, 4, 3, 5), dict(out_channels=3, kernel=(2, 3), pad=(1, 0, 0, 2),
                            stride=(2, 3))),
        ("matmul 1x12x16 * 1x16x10", "matmul", (1, 12, 16),
         dict(out_channels=10)),
        ("matmul batch 2", "matmul", (2, 5, 7), dict(out_channels=3)),
    ]


def rescale_cases(rng):
    """(description, multipliers, shifts, rounding) after a conv2d."""
    channels = 6
    return [
        ("rescale per-channel DOUBLE_ROUND shift > 31",
         rng.integers(1 << 30, 1 << 31, channels), rng.integers(32, 44, channels),
         "DOUBLE_ROUND"),
        ("rescale per-channel SINGLE_ROUND shift > 31",
         rng.integers(1 << 30, 1 << 31, channels), rng.integers(32, 44, channels),
         "SINGLE_ROUND"),
        ("rescale per-tensor DOUBLE_ROUND shift > 31 (saturating)",
         [int(rng.integers(1 << 30, 1 << 31))], [33], "DOUBLE_ROUND"),
        ("rescale per-channel DOUBLE_ROUND shift <= 31",
         rng.integers(1, 1 << 12, channels), rng.integers(16, 32, channels),
         "DOUBLE_ROUND"),
        ("rescale per-tensor SINGLE_ROUND shift <= 31",
         [int(rng.integers(1, 1 << 10))], [17], "SINGLE_ROUND"),
    ]


def test(tools):
    rng = np.random.default_rng(20240601)
    for what, kind, shape, args in linear_cases():
        layer = netgen.random_layer(rng, kind, shape, **args)
        check_net(what, netgen.single_layer_net(layer, shape), rng)

    shape = (1, 8, 8, 5)
    for what, multipliers, shifts, rounding in rescale_cases(rng):
        net = netgen.Net(shape)
        layer = netgen.random_layer(rng, "conv2d", shape, out_channels=6)
        acc = net.linear(0, layer)
        net.output(net.rescale(acc, multipliers, shifts, 0,
                               int(rng.integers(-10, 11)), rounding))
        check_net(what, net, rng)

    # int8 -> int8 rescale with input and output zero points, then clamp.
    net = netgen.Net(shape)
    y = net.rescale(0, [1518500250], [31], -7, 5, "SINGLE_ROUND")
    net.output(net.clamp(y, -20, 90))
    check_net("rescale int8 -> int8 with zero points + clamp", net, rng)

    for seed in (1, 2):
        frames, _ = sequences.moving_square(frames=1, height=16, width=16,
                                            channels=4, seed=seed)
        net = netgen.multi_layer_net(np.random.default_rng(seed), frames[0],
                                     input_zp=-3, channels=8)
        upstream.check_with_mlir_opt(net.to_mlir())
        expected = net.run(frames[0])
        got = upstream.run_net(net, frames[0])
        e2e.expect_equal(f"multi-layer net seed {seed}", got[0][None],
                         expected[0][None])
        saturated = np.mean((expected[0] == -128) | (expected[0] == 127))
        e2e.passed(f"reference == upstream: multi-layer net seed {seed} "
                   f"(conv, depthwise, 1x1, transpose, add skip; "
                   f"{saturated:.1%} saturated outputs)")
        check_net(f"multi-layer net seed {seed} on random input", net, rng)

    check_example(rng)


def check_example(rng):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(root, "examples", "tiny_segnet.mlir")
    with open(path) as f:
        text = f.read()
    net = netgen.tiny_segnet()
    if net.to_mlir() not in text:
        e2e.fail(f"{path} is not what scripts/make_example.py generates; rerun it")
    if netgen.parse_mlir(text).to_mlir() != net.to_mlir():
        e2e.fail(f"{path} does not read back into the same net")
    frames, _ = sequences.moving_square(frames=3, height=64, width=64, channels=8,
                                        square=16, seed=7)
    e2e.expect_equal("examples/tiny_segnet.mlir: frame 2",
                     upstream.run_net(net, frames[2])[0][None], net.run(frames[2])[0][None])
    e2e.passed("reference == upstream: examples/tiny_segnet.mlir (regenerated "
               "identically, 7 linear layers, 1x64x64x8)")


if __name__ == "__main__":
    e2e.main(test)
