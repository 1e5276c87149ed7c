# RUN: %python %s resq-opt resq-run %t
#
# Standard layers (resq-residualize standard-layers=...): a standard layer
# runs the standard int8 op on every frame and keeps no state, while the
# other layers stay residual. On a moving square, dynamic bits with step 4:
#   * every layer standard: every frame equals the plain (standard int8)
#     graph, every layer reports a keyframe-like frame (all blocks 8-bit,
#     dense MACs), and the stream keeps no R or A;
#   * the first layer residual, the rest standard: the first layer's
#     statistics and state are those of the build where every layer is
#     residual (its input is the frame either way), the others run dense on
#     every frame and keep no state; with step 1 and inputs whose residuals
#     never clamp, the residual first layer is exact, so every frame equals
#     the plain graph; with step 4 moving frames differ from it.

import os

import numpy as np

import e2e
import netgen
import sequences

SIZE, CHANNELS = 32, 4
MOVING, STILL = 12, 4
DYNAMIC = dict(bit_set=[0, 2, 4, 8], block=4, scene_cut=1.0,
               scene_cut_min_blocks=1)


def layer_rows(stats, frame, order):
    rows = {s["layer"]: s for s in stats if s["frame"] == frame}
    return [rows[name] for name in order]


def expect_dense(tag, stats, frames, names):
    for f in frames:
        rows = {s["layer"]: s for s in stats if s["frame"] == f}
        for name in names:
            r = rows[name]
            if not r["keyframe"] or r["skipped"] != 0 or \
                    e2e.normalized_bits(r["bits"]) != {"8": r["blocks"]}:
                e2e.fail(f"{tag}: frame {f}: standard layer {name} did not "
                         f"run dense: {r}")


def test(tools):
    moving, _ = sequences.moving_square(frames=MOVING, height=SIZE, width=SIZE,
                                        channels=CHANNELS, square=8, seed=5)
    # Codes within +-60: a residual (X - R) stays within +-120, so with step 1
    # and 8 bits it never clamps and a residual layer is exact.
    moving = np.clip(moving, -60, 60).astype(np.int8)
    frames = np.concatenate([moving, np.repeat(moving[-1:], STILL, axis=0)])
    net = netgen.multi_layer_net(np.random.default_rng(5), frames[0], input_zp=2)
    order = [n.name for n in net.linear_layers()]
    tag = "standard_layers"
    model = e2e.write_model(tools, net, tag)
    frames_path = e2e.save_frames(tools, frames, tag)
    plain = e2e.resq_run(tools, model, frames_path, tag + ".plain")["outputs"][0]
    everything = range(len(frames))

    # Every layer standard.
    all_std = e2e.resq_run(
        tools, e2e.residualize(tools, model, tag + ".all", step=4,
                               dynamic=DYNAMIC, standard_layers=order),
        frames_path, tag + ".all", stats=True)
    for f in everything:
        e2e.expect_equal(f"{tag}: every layer standard, frame {f} vs plain",
                         all_std["outputs"][0][f], plain[f])
    expect_dense(tag + " (all)", all_std["stats"], everything, order)

    # The first layer residual, the rest standard, against every layer
    # residual: the first layer sees the same input in both.
    rest = order[1:]
    mixed = e2e.resq_run(
        tools, e2e.residualize(tools, model, tag + ".mixed", step=4,
                               dynamic=DYNAMIC, standard_layers=rest),
        frames_path, tag + ".mixed", stats=True, dump_state=True)
    residual = e2e.resq_run(
        tools, e2e.residualize(tools, model, tag + ".residual", step=4,
                               dynamic=DYNAMIC),
        frames_path, tag + ".residual", stats=True, dump_state=True)
    first = order[0]
    for f in everything:
        got = layer_rows(mixed["stats"], f, [first])[0]
        want = layer_rows(residual["stats"], f, [first])[0]
        if got != want:
            e2e.fail(f"{tag}: frame {f}: first layer stats {got} != {want} "
                     "of the all-residual build")
    skipped = sum(layer_rows(mixed["stats"], f, [first])[0]["skipped"]
                  for f in range(1, len(frames)))
    if skipped == 0:
        e2e.fail(f"{tag}: the residual first layer never skipped a block")
    for got, want in zip(e2e.load_state(mixed["state_dir"], first),
                         e2e.load_state(residual["state_dir"], first)):
        e2e.expect_equal(f"{tag}: first layer state, mixed vs all residual",
                         got, want)
    for name in rest:
        path = os.path.join(mixed["state_dir"], name + ".R.npy")
        if os.path.exists(path):
            e2e.fail(f"{tag}: standard layer {name} has a dumped state {path}")
    expect_dense(tag + " (mixed)", mixed["stats"], range(1, len(frames)), rest)
    differing = [f for f in range(1, MOVING)
                 if not np.array_equal(mixed["outputs"][0][f], plain[f])]
    if not differing:
        e2e.fail(f"{tag}: with step 4 no frame of the mixed build differs from "
                 "the plain graph; the test cannot tell the first layer is "
                 "residual")

    # Step 1 in the residual first layer: exact, so the mixed build is the
    # plain graph on every frame.
    exact = e2e.resq_run(
        tools, e2e.residualize(tools, model, tag + ".exact", step=1,
                               dynamic=DYNAMIC,
                               standard_layers=rest),
        frames_path, tag + ".exact", stats=True)
    for f in everything:
        e2e.expect_equal(f"{tag}: step-1 first layer + standard rest, frame "
                         f"{f} vs plain", exact["outputs"][0][f], plain[f])
    if all(r["keyframe"] for r in exact["stats"]
           if r["layer"] == first and r["frame"] > 0):
        e2e.fail(f"{tag}: the step-1 first layer never ran residual")
    e2e.passed(f"standard layers: all standard == plain on {len(frames)} "
               f"frames; first layer residual: its stats and state match the "
               f"all-residual build, {len(differing)} moving frames differ "
               f"from plain at step 4, == plain at step 1")


if __name__ == "__main__":
    e2e.main(test)
