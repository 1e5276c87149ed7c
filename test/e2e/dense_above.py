# RUN: %python %s resq-opt resq-run %t
#
# Dense above (resq-dynamic-bits dense-above=F): when more than F of a
# layer's blocks changed, that layer and every later one run the frame on
# the keyframe path. Step 4, so a residual frame is not the plain graph:
#   * a threshold that fires in the first layer on every frame with motion
#     makes those frames equal the plain (standard int8) graph, although no
#     frame after frame 0 is a keyframe of the stream; once the square stops,
#     every block is skipped and the outputs stay equal to the plain graph
#     (R == X was left in every layer);
#   * a threshold that fires only deeper in the net leaves the first layer
#     residual (with skipped blocks) and, within a frame, every layer after
#     the first dense one is dense too;
#   * disabled (1.0), the outputs differ from the plain graph on moving
#     frames, so the checks above can tell the rule fired.

import numpy as np

import e2e
import netgen
import sequences

SIZE, CHANNELS = 32, 4
MOVING, STILL = 16, 6


def residualize(tools, model, tag, dense_above):
    return e2e.residualize(tools, model, tag, step=4, bits=8, dynamic=dict(
        bit_set=[0, 2, 4, 8], block=4, scene_cut=1.0, dense_above=dense_above,
        scene_cut_min_blocks=1))


def layer_rows(stats, frame, order):
    rows = {s["layer"]: s for s in stats if s["frame"] == frame}
    return [rows[name] for name in order]


def test(tools):
    moving, _ = sequences.moving_square(frames=MOVING, height=SIZE, width=SIZE,
                                        channels=CHANNELS, square=8, seed=31)
    frames = np.concatenate([moving, np.repeat(moving[-1:], STILL, axis=0)])
    net = netgen.multi_layer_net(np.random.default_rng(31), frames[0], input_zp=-3)
    order = [n.name for n in net.linear_layers()]
    tag = "dense_above"
    model = e2e.write_model(tools, net, tag)
    frames_path = e2e.save_frames(tools, frames, tag)
    plain = e2e.resq_run(tools, model, frames_path, tag + ".plain")["outputs"][0]

    # Disabled: residual frames are not the plain graph.
    off = e2e.resq_run(tools, residualize(tools, model, tag + ".off", 1.0),
                       frames_path, tag + ".off", stats=True)
    differing = [f for f in range(1, MOVING)
                 if not np.array_equal(off["outputs"][0][f], plain[f])]
    if not differing:
        e2e.fail(f"{tag}: with step 4 no residual frame differs from the plain "
                 "graph; the test cannot see the rule")
    if any(s["keyframe"] for s in off["stats"] if s["frame"] > 0):
        e2e.fail(f"{tag}: dense-above=1.0 ran a layer densely")

    # Fires in the first layer on every frame with motion.
    everywhere = e2e.resq_run(tools, residualize(tools, model, tag + ".all", 0.01),
                              frames_path, tag + ".all", stats=True)
    for f in range(1, MOVING):
        rows = layer_rows(everywhere["stats"], f, order)
        if not all(r["keyframe"] for r in rows):
            e2e.fail(f"{tag}: frame {f}: a layer stayed residual although the "
                     f"first layer changed: {[r['keyframe'] for r in rows]}")
        e2e.expect_equal(f"{tag}: frame {f} (dense from the first layer) vs plain",
                         everywhere["outputs"][0][f], plain[f])
    for f in range(MOVING, MOVING + STILL):
        for r in layer_rows(everywhere["stats"], f, order):
            if r["keyframe"] or r["skipped"] != 1:
                e2e.fail(f"{tag}: still frame {f}: layer {r['layer']} did work: {r}")
        e2e.expect_equal(f"{tag}: still frame {f} vs plain",
                         everywhere["outputs"][0][f], plain[f])

    # Fires deeper only: a residual prefix, then dense to the end.
    deep = e2e.resq_run(tools, residualize(tools, model, tag + ".deep", 0.5),
                        frames_path, tag + ".deep", stats=True)
    mixed = 0
    for f in range(1, MOVING + STILL):
        dense = [r["keyframe"] for r in layer_rows(deep["stats"], f, order)]
        if True in dense and not all(dense[dense.index(True):]):
            e2e.fail(f"{tag}: frame {f}: a layer after a dense one stayed "
                     f"residual: {dense}")
        if not dense[0] and any(dense):
            mixed += 1
    if mixed == 0:
        e2e.fail(f"{tag}: dense-above=0.5 never left the first layer residual "
                 "while a deeper one ran dense")
    e2e.passed(f"dense above: threshold 0.01 -> frames 1..{MOVING - 1} dense in "
               f"every layer and == plain graph, {STILL} still frames skipped "
               f"and == plain; threshold 0.5 -> {mixed} frames with a residual "
               f"prefix and a dense suffix; 1.0 -> {len(differing)} frames "
               f"differ from plain")


if __name__ == "__main__":
    e2e.main(test)
