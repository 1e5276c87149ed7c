# RUN: %python %s resq-opt resq-run %t
#
# Stream state: two sequences interleaved (a0, b0, a1, b1, ...) and run with
# --streams 2 give the same outputs, dumped state and stats as each sequence
# run alone; frame f belongs to stream f % 2. Static and dynamic residuals,
# multi-layer net; also against the reference simulation.

import numpy as np

import e2e
import netgen
import resq_ref as ref
import sequences

FRAMES = 50


def test(tools):
    a, _ = sequences.moving_square(frames=FRAMES, height=16, width=16, channels=4,
                                   square=6, velocity=(1, 1), seed=31)
    b, _ = sequences.moving_square(frames=FRAMES, height=16, width=16, channels=4,
                                   square=4, velocity=(2, 1), seed=32)
    net = netgen.multi_layer_net(np.random.default_rng(31), a[0], input_zp=-3)
    layers = [n.name for n in net.linear_layers()]
    model = e2e.write_model(tools, net, "net")
    paths = {name: e2e.save_frames(tools, frames, name)
             for name, frames in (("a", a), ("b", b),
                                  ("ab", sequences.interleave(a, b)))}
    runs = [
        ("static 8 bits step 4", dict(step=4, bits=8),
         {n: ref.static_config(4, 8) for n in layers}),
        ("dynamic 0,2,4,8 block 2 step 6",
         dict(step=6, bits=8, dynamic=dict(bit_set=[0, 2, 4, 8], block=2, scene_cut=0.5)),
         {n: ref.dynamic_config(6, [0, 2, 4, 8], 2, 0.5) for n in layers}),
    ]
    for k, (what, options, configs) in enumerate(runs):
        resq_model = e2e.residualize(tools, model, f"net{k}", **options)
        alone = {name: e2e.resq_run(tools, resq_model, paths[name], f"{name}{k}",
                                    stats=True, dump_state=True)
                 for name in ("a", "b")}
        both = e2e.resq_run(tools, resq_model, paths["ab"], f"ab{k}", streams=2,
                            stats=True, dump_state=True)
        for stream, name in enumerate("ab"):
            e2e.expect_equal(f"{what}: stream {stream} outputs vs {name} alone",
                             both["outputs"][0][stream::2], alone[name]["outputs"][0])
            for layer in layers:
                for part, got, want in zip(
                        "RA", e2e.load_state(both["state_dir"], layer),
                        e2e.load_state(alone[name]["state_dir"], layer)):
                    e2e.expect_equal(f"{what}: stream {stream} {layer}.{part} vs "
                                     f"{name} alone", got[stream::2], want)
            # Stats of stream s at frame 2t are those of the lone run at frame t.
            lone = [dict(entry, frame=2 * entry["frame"] + stream, stream=stream)
                    for entry in alone[name]["stats"]]
            mine = [entry for entry in both["stats"] if entry["frame"] % 2 == stream]
            e2e.expect_stats(f"{what}: stream {stream} stats vs {name} alone", mine, lone)
        expected = net.run_resq(sequences.interleave(a, b), configs, streams=2)
        e2e.expect_equal(f"{what}: interleaved outputs vs reference",
                         both["outputs"][0], expected["outputs"][0])
        e2e.expect_stats(f"{what}: interleaved stats vs reference", both["stats"],
                         expected["stats"])
        keyframes = sorted({s["frame"] for s in both["stats"] if s["keyframe"]})
        e2e.passed(f"streams {what}: 2 interleaved streams of {FRAMES} frames == "
                   f"each alone (outputs, R, A, stats) == reference; keyframes "
                   f"{keyframes}")


if __name__ == "__main__":
    e2e.main(test)
