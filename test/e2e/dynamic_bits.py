# RUN: %python %s resq-opt resq-run %t
#
# Dynamic ResQ:
#   * with the full bit-set 0,2,3,4,5,6,7,8 it computes exactly what static
#     8-bit residuals compute at the same step (outputs, R, A);
#   * on a static sequence every block after frame 0 is skipped:
#     bits {"0": blocks}, no MACs, outputs unchanged;
#   * on the moving square the skipped blocks follow the geometry: with an
#     odd step exactly the blocks under the square's old or new position run
#     and R changes only there; with an even step those blocks run at least;
#     histograms, skipped counts, MACs and BOPs equal the reference;
#   * an abrupt scene change fires the scene-cut rule: that frame is a
#     keyframe and equals the plain graph.

import numpy as np

import e2e
import netgen
import resq_ref as ref
import sequences

FRAMES = 60
SIZE, CHANNELS, SQUARE = 32, 4, 8
FULL_SET = [0, 2, 3, 4, 5, 6, 7, 8]


def dynamic(bit_set, block, scene_cut):
    return dict(bits=8, dynamic=dict(bit_set=bit_set, block=block, scene_cut=scene_cut))


def check_full_set_is_static_8(tools, net, frames, tag):
    model = e2e.write_model(tools, net, tag)
    frames_path = e2e.save_frames(tools, frames, tag)
    static = e2e.resq_run(tools, e2e.residualize(tools, model, tag + ".static8",
                                                 step=4, bits=8),
                          frames_path, tag + ".static8", dump_state=True)
    full = e2e.resq_run(tools, e2e.residualize(tools, model, tag + ".full", step=4,
                                               **dynamic(FULL_SET, 4, 1.0)),
                        frames_path, tag + ".full", dump_state=True, stats=True)
    e2e.expect_equal(f"{tag}: dynamic full set vs static 8 outputs",
                     full["outputs"][0], static["outputs"][0])
    for node in net.linear_layers():
        for part, a, b in zip("RA", e2e.load_state(full["state_dir"], node.name),
                              e2e.load_state(static["state_dir"], node.name)):
            e2e.expect_equal(f"{tag}: dynamic full set vs static 8, {node.name}.{part}", a, b)
    skipped = (sum(e2e.skipped_blocks(s) for s in full["stats"]) /
               sum(s["blocks"] for s in full["stats"]))
    e2e.passed(f"dynamic bits {','.join(map(str, FULL_SET))} == static 8 bits, step 4: "
               f"{tag}, {len(net.linear_layers())} layers, {len(frames)} frames "
               f"(outputs, R, A; {skipped:.0%} of blocks skipped)")


def check_static_sequence(tools, net, tag):
    frames = sequences.static_sequence(frames=20, height=net.input_shape[1],
                                       width=net.input_shape[2],
                                       channels=net.input_shape[3], seed=4)
    model = e2e.write_model(tools, net, tag)
    frames_path = e2e.save_frames(tools, frames, tag)
    run = e2e.resq_run(tools, e2e.residualize(tools, model, tag, step=4,
                                              **dynamic([0, 2, 4, 8], 4, 0.5)),
                       frames_path, tag, stats=True)
    for s in run["stats"]:
        if s["frame"] == 0:
            continue
        if (s["keyframe"] or e2e.normalized_bits(s["bits"]) != {"0": s["blocks"]}
                or s["skipped"] != 1 or s["macs"] != 0 or s["bops"] != 0):
            e2e.fail(f"{tag}: static sequence, frame {s['frame']} layer "
                     f"{s['layer']} did work: {s}")
    output = run["outputs"][0]
    e2e.expect_equal(f"{tag}: static sequence outputs", output,
                     np.broadcast_to(output[:1], output.shape))
    e2e.passed(f"dynamic bits static sequence {tag}: every block of every layer "
               f"skipped after frame 0 ({len(frames) - 1} frames), outputs unchanged")


def check_geometry(tools, step, block):
    """A single conv2d reading the frames directly."""
    frames, positions = sequences.moving_square(
        frames=FRAMES, height=SIZE, width=SIZE, channels=CHANNELS, square=SQUARE,
        velocity=(1, 2), seed=12)
    layer = netgen.random_layer(np.random.default_rng(12), "conv2d",
                                (1, SIZE, SIZE, CHANNELS), out_channels=8)
    net = netgen.single_layer_net(layer, (1, SIZE, SIZE, CHANNELS))
    tag = f"geometry_s{step}_b{block}"
    model = e2e.write_model(tools, net, tag)
    frames_path = e2e.save_frames(tools, frames, tag)
    run = e2e.resq_run(tools, e2e.residualize(tools, model, tag, step=step,
                                              **dynamic([0, 2, 4, 8], block, 0.5)),
                       frames_path, tag, stats=True, dump_state=True)
    config = ref.dynamic_config(step, [0, 2, 4, 8], block, 0.5)
    expected = ref.run_single_layer(layer, frames, config)
    e2e.expect_stats(f"{tag}: stats", run["stats"],
                     [dict(frame=f, stream=0, layer="conv2d_0", **s.as_dict())
                      for f, s in enumerate(expected["stats"])])
    R, _ = e2e.load_state(run["state_dir"], "conv2d_0")
    e2e.expect_equal(f"{tag}: R", R, expected["R"])

    exact = step % 2 == 1
    stats = e2e.stats_by_key(run["stats"])
    areas, fractions = [], []
    for f in range(1, FRAMES):
        s = stats[(f, "conv2d_0")]
        changed = sequences.changed_mask(positions[f - 1], positions[f], SQUARE, SIZE, SIZE)
        touched = sequences.blocks_touched(changed, block)
        untouched = touched.size - int(touched.sum())
        skipped = e2e.skipped_blocks(s)
        if exact and skipped != untouched:
            e2e.fail(f"{tag}: frame {f}: {skipped} blocks skipped, expected the "
                     f"{untouched} blocks away from the square")
        if skipped > untouched:
            e2e.fail(f"{tag}: frame {f}: {skipped} blocks skipped, but only "
                     f"{untouched} are away from the square")
        # R changes exactly in executed blocks; it never changes under a
        # block the square does not touch when the step is odd.
        moved = np.abs(R[f].astype(np.int64) - R[f - 1]).max(axis=-1)[0] > 0
        moved_blocks = sequences.blocks_touched(moved, block)
        if np.any(moved_blocks & ~touched) and exact:
            e2e.fail(f"{tag}: frame {f}: R changed in blocks the square did not touch")
        areas.append(touched.mean())
        fractions.append(s["skipped"])
    kind = "==" if exact else "<="
    e2e.passed(f"dynamic bits geometry, step {step}, block {block}: skipped blocks {kind} "
               f"blocks away from the square on all {FRAMES - 1} residual frames "
               f"(mean skipped {np.mean(fractions):.1%}, mean untouched "
               f"{1 - np.mean(areas):.1%}); stats and R == reference")


def check_scene_cut(tools, net, tag):
    first, _ = sequences.moving_square(frames=20, height=net.input_shape[1],
                                       width=net.input_shape[2],
                                       channels=net.input_shape[3], seed=21)
    second, _ = sequences.moving_square(frames=20, height=net.input_shape[1],
                                        width=net.input_shape[2],
                                        channels=net.input_shape[3], seed=22)
    frames = np.concatenate([first, second])
    model = e2e.write_model(tools, net, tag)
    frames_path = e2e.save_frames(tools, frames, tag)
    plain = e2e.resq_run(tools, model, frames_path, tag + ".plain")["outputs"][0]
    run = e2e.resq_run(tools, e2e.residualize(tools, model, tag, step=4,
                                              **dynamic([0, 2, 4, 8], 4, 0.5)),
                       frames_path, tag, stats=True)
    configs = {n.name: ref.dynamic_config(4, [0, 2, 4, 8], 4, 0.5)
               for n in net.linear_layers()}
    expected = net.run_resq(frames, configs)
    first_layer = net.linear_layers()[0].name
    cuts = [s["frame"] for s in run["stats"] if s["layer"] == first_layer and s["scene_cut"]]
    if 20 not in cuts:
        e2e.fail(f"{tag}: the scene change at frame 20 did not fire the scene cut "
                 f"(scene cuts at {cuts})")
    for s in run["stats"]:
        if s["frame"] == 20 and not s["keyframe"]:
            e2e.fail(f"{tag}: frame 20 layer {s['layer']} is not a keyframe after the scene cut")
    e2e.expect_equal(f"{tag}: scene-cut frame vs plain graph", run["outputs"][0][20],
                     plain[20])
    e2e.expect_equal(f"{tag}: outputs vs reference", run["outputs"][0],
                     expected["outputs"][0])
    e2e.expect_stats(f"{tag}: stats", run["stats"], expected["stats"])
    e2e.passed(f"dynamic bits scene cut {tag}: scene change at frame 20 -> keyframe "
               f"in every layer, output == plain graph; scene cuts at {cuts}; "
               f"outputs and stats == reference")


def test(tools):
    frames, _ = sequences.moving_square(frames=FRAMES, height=SIZE, width=SIZE,
                                        channels=CHANNELS, square=SQUARE, seed=3)
    net = netgen.multi_layer_net(np.random.default_rng(3), frames[0], input_zp=-3)
    check_full_set_is_static_8(tools, net, frames, "multi-layer net")
    rng = np.random.default_rng(4)
    for kind, args in [("depthwise_conv2d", dict(multiplier=2)),
                       ("transpose_conv2d", dict(out_channels=4, pad=(1, 0, 1, 0),
                                                 stride=(2, 2)))]:
        layer = netgen.random_layer(rng, kind, (1, SIZE, SIZE, CHANNELS), **args)
        check_full_set_is_static_8(
            tools, netgen.single_layer_net(layer, (1, SIZE, SIZE, CHANNELS)),
            frames, kind)

    check_static_sequence(tools, net, "multi-layer net")
    for step, block in [(5, 4), (3, 1), (7, 8), (4, 4)]:
        check_geometry(tools, step, block)
    check_scene_cut(tools, net, "multi-layer net")


if __name__ == "__main__":
    e2e.main(test)
