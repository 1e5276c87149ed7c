# RUN: %python %s resq-opt resq-run %t
#
# Self-checks of the numpy ResQ reference (test/e2e/lib), without the resq
# tools: the properties RESQ-SEMANTICS.md promises must hold for the
# reference simulation itself before other tests compare the tools with it.
#   * MAC counting (taps per input pixel) equals a brute-force count: the
#     reference op (checked against upstream) with all-ones weights applied to
#     the mask of executed pixels;
#   * A == ACC(R) after every frame, |X - R| <= s/2 where Q was not clamped;
#   * dynamic bits with the full set == static 8 bits;
#   * a static sequence skips every block after frame 0;
#   * on the moving square with an odd step, exactly the blocks under the
#     square's old or new position run;
#   * an abrupt scene change fires the scene-cut rule;
#   * interleaved streams == separate runs.

import numpy as np

import e2e
import netgen
import resq_ref as ref
import sequences


def ones_like_layer(layer):
    """The same geometry with one input and one output channel of ones."""
    w = layer.weight
    if layer.kind == "depthwise_conv2d":
        ones = np.ones((w.shape[0], w.shape[1], 1, 1), dtype=np.int64)
    elif layer.kind == "matmul":
        ones = np.ones((w.shape[0], 1, 1), dtype=np.int64)
    else:
        ones = np.ones((1, w.shape[1], w.shape[2], 1), dtype=np.int64)
    return ref.LinearLayer(layer.kind, ones, None, 0, layer.pad, layer.stride,
                           layer.dilation)


def check_mac_counting(rng):
    cases = [
        ("conv2d", (1, 13, 11, 3), dict(out_channels=4, pad=(1, 1, 1, 1))),
        ("conv2d", (1, 12, 12, 2), dict(out_channels=3, pad=(1, 0, 1, 0), stride=(2, 2))),
        ("conv2d", (2, 10, 9, 2), dict(out_channels=3, pad=(2, 2, 1, 3), dilation=(2, 2))),
        ("depthwise_conv2d", (1, 12, 12, 3), dict(multiplier=2, pad=(0, 1, 0, 1), stride=(2, 2))),
        ("transpose_conv2d", (1, 7, 6, 2), dict(out_channels=3, kernel=(4, 4),
                                                pad=(-1, -1, -1, -1), stride=(2, 2))),
        ("transpose_conv2d", (1, 5, 6, 2), dict(out_channels=3, pad=(0, 1, 1, 0), stride=(2, 3))),
        ("matmul", (2, 9, 5), dict(out_channels=4)),
    ]
    for kind, shape, args in cases:
        layer = netgen.random_layer(rng, kind, shape, **args)
        taps = layer.taps_per_input_pixel(shape)
        counter = ones_like_layer(layer)
        for trial in range(3):
            mask = rng.integers(0, 2, size=shape[:-1])
            executed = counter.linear(mask[..., None]).sum()
            if int(taps[mask == 1].sum()) != int(executed):
                e2e.fail(f"MAC counting {kind} {shape}: taps {taps[mask == 1].sum()} "
                         f"!= brute force {executed}")
        e2e.passed(f"reference MAC counting == brute force: {kind} {shape} {args}")


def check_invariants(what, layer, frames, config, result):
    for f, (x, r, a) in enumerate(zip(frames, result["R"], result["A"])):
        e2e.expect_equal(f"{what}: A == ACC(R) at frame {f}", a[None],
                         layer.acc(r)[None])
        if f > 0 and not result["stats"][f].keyframe:
            clamped = ref.clamped_elements(x, result["R"][f - 1], config)
            error = np.abs(ref.as_int(x) - r)
            if np.any(error[~clamped] > config.step / 2):
                e2e.fail(f"{what}: |X - R| > s/2 unclamped at frame {f}")


def test(tools):
    rng = np.random.default_rng(11)
    check_mac_counting(rng)

    shape = (1, 24, 24, 4)
    frames, positions = sequences.moving_square(frames=60, height=24, width=24,
                                                channels=4, seed=3)
    layer = netgen.random_layer(rng, "conv2d", shape, out_channels=6)
    for step in (2, 3, 4, 5, 16):
        for config in (ref.static_config(step, 8), ref.static_config(step, 3),
                       ref.dynamic_config(step, [0, 2, 4, 8], 4, 0.5)):
            result = ref.run_single_layer(layer, frames, config)
            check_invariants(f"step {step} {config}", layer, frames, config, result)
    e2e.passed("reference: A == ACC(R) and |X - R| <= s/2 (unclamped), "
               "steps 2,3,4,5,16, static 8/3 bits and dynamic, 60 frames")

    # 9 bits never clamp: after every residual frame |X - R| <= s/2
    # everywhere, even where the square's edge jumps by up to 255 codes.
    jumps = frames[:12].copy()
    jumps[1::2, :, 4:12, 4:12, :] = 127   # the ends of the int8 range,
    jumps[0::2, :, 4:12, 4:12, :] = -128  # swapped on every frame
    for step in (1, 2, 3):
        for config in (ref.static_config(step, 9),
                       ref.dynamic_config(step, [0, 2, 4, 8, 9], 2, 1.0)):
            result = ref.run_single_layer(layer, jumps, config)
            # No element clamps at 9 bits, so check_invariants' bound on
            # unclamped elements covers every element.
            for f in range(1, len(jumps)):
                if ref.clamped_elements(jumps[f], result["R"][f - 1], config).any():
                    e2e.fail(f"9 bits step {step} frame {f}: a residual clamped")
            check_invariants(f"step {step} {config}", layer, jumps, config, result)
    e2e.passed("reference: 9 bits never clamp, |X - R| <= s/2 everywhere, "
               "steps 1,2,3, jumps of 255 codes")

    full = ref.run_single_layer(
        layer, frames, ref.dynamic_config(4, ref.BIT_WIDTHS, 4, 1.0))
    static8 = ref.run_single_layer(layer, frames, ref.static_config(4, 8))
    e2e.expect_equal("dynamic full set vs static 8: A", full["A"], static8["A"])
    e2e.expect_equal("dynamic full set vs static 8: R", full["R"], static8["R"])
    e2e.passed("reference: dynamic bits {0,2,...,8} == static 8 bits")

    still = sequences.static_sequence(frames=20, height=24, width=24, channels=4)
    result = ref.run_single_layer(layer, still, ref.dynamic_config(4, [0, 2, 4, 8], 4, 0.5))
    for f, s in enumerate(result["stats"][1:], start=1):
        if s.skipped != s.blocks or s.macs != 0 or s.bops != 0:
            e2e.fail(f"static sequence frame {f}: {s}")
    e2e.passed("reference: static sequence skips every block after frame 0")

    block, step = 4, 5
    result = ref.run_single_layer(layer, frames, ref.dynamic_config(step, [0, 2, 4, 8], block, 0.5))
    for f in range(1, len(frames)):
        changed = sequences.changed_mask(positions[f - 1], positions[f], 8, 24, 24)
        touched = sequences.blocks_touched(changed, block)
        if result["stats"][f].skipped != touched.size - touched.sum():
            e2e.fail(f"moving square frame {f}: skipped {result['stats'][f].skipped}, "
                     f"untouched blocks {touched.size - touched.sum()}")
    e2e.passed("reference: skipped blocks == blocks away from the square (step 5)")

    cut = np.concatenate([frames[:10], sequences.static_sequence(
        frames=5, height=24, width=24, channels=4, seed=9)])
    # 36 blocks: below the default minimum for the rule, so ask for it.
    result = ref.run_single_layer(layer, cut, ref.dynamic_config(4, [0, 2, 4, 8], 4, 0.5,
                                                                 scene_cut_min_blocks=1))
    flags = [s.scene_cut for s in result["stats"]]
    if flags != [False] * 10 + [True] + [False] * 4:
        e2e.fail(f"scene cut flags {flags}")
    e2e.passed("reference: a scene change at frame 10 fires the scene cut")

    other, _ = sequences.moving_square(frames=30, height=16, width=16, channels=4, seed=5)
    mine, _ = sequences.moving_square(frames=30, height=16, width=16, channels=4, seed=6)
    net = netgen.multi_layer_net(np.random.default_rng(2), mine[0], input_zp=-3)
    configs = {n.name: ref.dynamic_config(4, [0, 2, 4, 8], 4, 0.5) for n in net.linear_layers()}
    both = net.run_resq(sequences.interleave(mine, other), configs, streams=2)
    alone = [net.run_resq(seq, configs) for seq in (mine, other)]
    e2e.expect_equal("streams: stream 0", both["outputs"][0][0::2], alone[0]["outputs"][0])
    e2e.expect_equal("streams: stream 1", both["outputs"][0][1::2], alone[1]["outputs"][0])
    e2e.passed("reference: two interleaved streams == each alone")


if __name__ == "__main__":
    e2e.main(test)
