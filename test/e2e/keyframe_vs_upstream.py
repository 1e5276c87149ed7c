# RUN: %python %s resq-opt resq-run %t
#
# Keyframes are the standard int8 graph: for multi-layer nets (conv 3x3,
# depthwise stride 2, 1x1, transpose conv stride 2, add skip, rescales,
# clamps) the residualized model's outputs on keyframes (frame 0, frames
# forced with --keyframe-at, every K-th frame with keyframe-interval=K) are
# bit-identical to the plain graph run through resq-run, which lowers it with
# upstream MLIR. The plain run itself is checked against the numpy reference
# and, on frame 0, against mlir-opt + mlir-runner directly; the residual
# frames are checked against the reference simulation. With
# keyframe-interval=1 (every frame a keyframe) the stream keeps no R or A:
# every frame equals the plain graph, and --dump-state says there is nothing
# to dump.

import subprocess

import numpy as np

import e2e
import netgen
import resq_ref as ref
import sequences
import upstream

FRAMES = 60
FORCED = [17, 40]
INTERVAL = 16


def keyframe_list(stats, layer):
    return [s["frame"] for s in stats if s["layer"] == layer and s["keyframe"]]


def check_net(tools, what, net, frames, tag):
    model = e2e.write_model(tools, net, tag)
    frames_path = e2e.save_frames(tools, frames, tag)
    results = len(net.results)

    plain = e2e.resq_run(tools, model, frames_path, tag + ".plain",
                         results=results)["outputs"]
    standard = [np.stack(o) for o in zip(*[net.run(x) for x in frames])]
    for i in range(results):
        e2e.expect_dtype(f"{what}: plain output {i}", plain[i], np.int8)
        e2e.expect_equal(f"{what}: plain graph through resq-run vs reference "
                         f"(output {i})", plain[i], standard[i])
    oracle = upstream.run_net(net, frames[0])
    for i in range(results):
        e2e.expect_equal(f"{what}: plain graph through resq-run vs mlir-runner "
                         f"(output {i}, frame 0)", plain[i][:1], oracle[i][None])
    e2e.passed(f"keyframe {what}: plain graph through resq-run == reference "
               f"({len(frames)} frames) == upstream mlir-runner (frame 0)")

    layers = [n.name for n in net.linear_layers()]
    runs = [
        ("static 8 bits step 4, --keyframe-at " + ",".join(map(str, FORCED)),
         dict(step=4, bits=8), {n: ref.static_config(4, 8) for n in layers},
         dict(keyframe_at=FORCED), [0] + FORCED),
        ("static 4 bits step 2, keyframe-interval " + str(INTERVAL),
         dict(step=2, bits=4, keyframe_interval=INTERVAL),
         {n: ref.static_config(2, 4) for n in layers},
         dict(keyframe_interval=INTERVAL), list(range(0, FRAMES, INTERVAL))),
        ("dynamic 0,2,4,8 block 4 step 8, --keyframe-at " + ",".join(map(str, FORCED)),
         dict(step=8, bits=8, dynamic=dict(bit_set=[0, 2, 4, 8], block=4, scene_cut=1.0)),
         {n: ref.dynamic_config(8, [0, 2, 4, 8], 4, 1.0) for n in layers},
         dict(keyframe_at=FORCED), [0] + FORCED),
    ]
    for k, (run_what, options, configs, schedule, keyframes) in enumerate(runs):
        name = f"{tag}.resq{k}"
        resq_model = e2e.residualize(tools, model, name, **options)
        run = e2e.resq_run(tools, resq_model, frames_path, name, results=results,
                           stats=True, keyframe_at=schedule.get("keyframe_at"))
        expected = net.run_resq(frames, configs, **schedule)
        for layer in layers:
            got = keyframe_list(run["stats"], layer)
            if got != keyframes:
                e2e.fail(f"{what}, {run_what}: layer {layer} keyframes {got}, "
                         f"expected {keyframes}")
        for i in range(results):
            e2e.expect_equal(f"{what}, {run_what}: keyframe outputs {keyframes} "
                             f"vs plain graph (output {i})",
                             run["outputs"][i][keyframes], plain[i][keyframes])
            e2e.expect_equal(f"{what}, {run_what}: all outputs vs reference "
                             f"simulation (output {i})",
                             run["outputs"][i], expected["outputs"][i])
        e2e.expect_stats(f"{what}, {run_what}: stats", run["stats"],
                         expected["stats"])
        changed = sum(int(np.any(run["outputs"][0][f] != plain[0][f]))
                      for f in range(len(frames)))
        e2e.passed(f"keyframe {what}, {run_what}: keyframes {keyframes} == plain "
                   f"graph bit for bit; all {len(frames)} frames and stats == "
                   f"reference ({changed} residual frames differ from plain)")
    check_keyframe_only(tools, what, model, frames_path, plain, layers, tag)


def check_keyframe_only(tools, what, model, frames_path, plain, layers, tag):
    name = f"{tag}.every"
    resq_model = e2e.residualize(tools, model, name, step=4, bits=8,
                                 keyframe_interval=1)
    run = e2e.resq_run(tools, resq_model, frames_path, name, results=len(plain),
                       stats=True)
    frames = len(plain[0])
    for layer in layers:
        got = keyframe_list(run["stats"], layer)
        if got != list(range(frames)):
            e2e.fail(f"{what}, keyframe-interval 1: layer {layer} keyframes {got}")
    for i in range(len(plain)):
        e2e.expect_equal(f"{what}, keyframe-interval 1: outputs vs plain graph "
                         f"(output {i})", run["outputs"][i], plain[i])
    done = subprocess.run([tools.run, resq_model, "--input", frames_path,
                           "--output", tools.path(name + ".dump.out"),
                           "--dump-state", tools.path(name + ".state")],
                          capture_output=True, text=True)
    if done.returncode != 1 or "keeps no R or A" not in done.stderr:
        e2e.fail(f"{what}, keyframe-interval 1: --dump-state should fail "
                 f"(exit {done.returncode}): {done.stderr[-500:]}")
    e2e.passed(f"keyframe {what}, keyframe-interval 1: all {frames} frames == "
               f"plain graph bit for bit, no R or A kept (--dump-state refused)")


def test(tools):
    for seed, (height, width, channels) in enumerate([(16, 16, 4), (24, 32, 8)]):
        frames, _ = sequences.moving_square(frames=FRAMES, height=height,
                                            width=width, channels=channels,
                                            square=6, velocity=(1, 1), seed=seed)
        net = netgen.multi_layer_net(np.random.default_rng(100 + seed), frames[0],
                                     input_zp=-3, channels=8)
        check_net(tools, f"net {height}x{width}x{channels}", net, frames, f"net{seed}")


if __name__ == "__main__":
    e2e.main(test)
