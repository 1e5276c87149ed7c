# RUN: %python %s resq-opt resq-run %t
#
# Threads change nothing but speed: the same residualized net stepped with
# --step-threads 2 and 3 (OpenMP threads share the rows of the kernels and
# of the glue) gives the outputs, dumped state (R, A) and per-frame stats of
# the sequential build, bit for bit; the plain int8 graph too. Static and
# dynamic residuals, keyframes and residual frames, and 9-bit blocks, whose
# rounds fork once per round.

import numpy as np

import e2e
import netgen
import sequences

FRAMES = 30


def test(tools):
    frames, _ = sequences.moving_square(frames=FRAMES, height=24, width=20,
                                        channels=4, square=7, velocity=(1, 2),
                                        seed=41)
    frames = sequences.with_jump_band(frames)
    net = netgen.multi_layer_net(np.random.default_rng(41), frames[0], input_zp=-3)
    layers = [n.name for n in net.linear_layers()]
    model = e2e.write_model(tools, net, "net")
    path = e2e.save_frames(tools, frames, "frames")

    plain = [e2e.resq_run(tools, model, path, f"plain{t}", step_threads=t)
             for t in (1, 2)]
    e2e.expect_equal("plain int8 graph: 2 threads vs 1", plain[1]["outputs"][0],
                     plain[0]["outputs"][0])

    runs = [("static 8 bits step 4", dict(step=4, bits=8, keyframe_interval=10)),
            ("dynamic 0,2,4,8 block 2 step 6",
             dict(step=6, bits=8, dynamic=dict(bit_set=[0, 2, 4, 8], block=2,
                                                scene_cut=0.5))),
            ("dynamic 0,2,4,8,9 block 2 step 1",
             dict(step=1, bits=8, dynamic=dict(bit_set=[0, 2, 4, 8, 9], block=2,
                                                scene_cut=1.0)))]
    for k, (what, options) in enumerate(runs):
        resq_model = e2e.residualize(tools, model, f"net{k}", **options)
        results = {t: e2e.resq_run(tools, resq_model, path, f"run{k}.{t}",
                                   stats=True, dump_state=True, step_threads=t)
                   for t in (1, 2, 3)}
        for t in (2, 3):
            e2e.expect_equal(f"{what}: outputs, {t} threads vs 1",
                             results[t]["outputs"][0], results[1]["outputs"][0])
            for layer in layers:
                for part, got, want in zip(
                        "RA", e2e.load_state(results[t]["state_dir"], layer),
                        e2e.load_state(results[1]["state_dir"], layer)):
                    e2e.expect_equal(f"{what}: {layer}.{part}, {t} threads vs 1",
                                     got, want)
            e2e.expect_stats(f"{what}: stats, {t} threads vs 1", results[t]["stats"],
                             results[1]["stats"])
        residual = [s for s in results[1]["stats"] if not s["keyframe"]]
        skipped = np.mean([s["skipped"] for s in residual])
        nine = sum(s["bits"].get("9", 0) for s in residual)
        if 9 in options.get("dynamic", {}).get("bit_set", []) and nine == 0:
            e2e.fail(f"{what}: no block took 9 bits; the rounds went untested")
        e2e.passed(f"threads {what}: 2 and 3 threads == 1 thread over {FRAMES} "
                   f"frames (outputs, R, A, stats; {len(layers)} layers, "
                   f"{skipped:.0%} of blocks skipped, {nine} at 9 bits on residual "
                   f"frames)")


if __name__ == "__main__":
    e2e.main(test)
