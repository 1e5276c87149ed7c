# RUN: %python %s resq-opt resq-run %t
#
# The error bound, with no drift: after every frame, wherever Q was not
# clamped, |X - R| <= s/2, over the whole sequence, for the dumped R of
#   * a single conv2d over 120 frames of a moving square (X = the frames),
#     steps 2, 3, 4, 8, 16 with static 8 bits, static 3 bits (clamps) and
#     dynamic bits;
#   * every layer of a multi-layer net, with per-layer steps and bit-widths
#     (layer-steps / layer-bits), X being the layer's input in the reference
#     simulation.
# The dumped R also equals the reference simulation's R bit for bit.

import numpy as np

import e2e
import netgen
import resq_ref as ref
import sequences


def check_bound(what, x_frames, r_frames, keyframes, config):
    """Largest |X - R| over unclamped elements, per frame; fails above s/2."""
    worst = []
    for f in range(len(x_frames)):
        x = ref.as_int(x_frames[f])
        error = np.abs(x - ref.as_int(r_frames[f]))
        if keyframes[f]:
            if error.any():
                e2e.fail(f"{what}: keyframe {f} has R != X")
            worst.append(0)
            continue
        clamped = ref.clamped_elements(x, ref.as_int(r_frames[f - 1]), config)
        unclamped_error = error[~clamped]
        worst.append(int(unclamped_error.max()) if unclamped_error.size else 0)
        if worst[-1] * 2 > config.step:
            where = np.argwhere((error * 2 > config.step) & ~clamped)[0]
            e2e.fail(f"{what}: frame {f}: |X - R| = {worst[-1]} > s/2 = "
                     f"{config.step / 2} at {tuple(where)} (not clamped)")
    return worst


def configs_for(step):
    return [
        ("static 8 bits", dict(bits=8), ref.static_config(step, 8)),
        ("static 3 bits", dict(bits=3), ref.static_config(step, 3)),
        ("dynamic 0,2,3,4,8 block 2",
         dict(bits=8, dynamic=dict(bit_set=[0, 2, 3, 4, 8], block=2, scene_cut=1.0)),
         ref.dynamic_config(step, [0, 2, 3, 4, 8], 2, 1.0)),
    ]


def test(tools):
    rng = np.random.default_rng(5)
    frames, _ = sequences.moving_square(frames=120, height=20, width=20,
                                        channels=3, square=7, velocity=(2, 3),
                                        seed=5)
    net = netgen.single_layer_net(
        netgen.random_layer(rng, "conv2d", (1, 20, 20, 3), out_channels=4),
        (1, 20, 20, 3))
    layer_node = net.linear_layers()[0]
    model = e2e.write_model(tools, net, "single")
    frames_path = e2e.save_frames(tools, frames, "frames")
    for step in (2, 3, 4, 8, 16):
        for what, options, config in configs_for(step):
            tag = f"single_s{step}_{what.split()[0]}{config.bits[-1] if not config.dynamic else ''}"
            resq_model = e2e.residualize(tools, model, tag, step=step, **options)
            run = e2e.resq_run(tools, resq_model, frames_path, tag, stats=True,
                               dump_state=True)
            R, _ = e2e.load_state(run["state_dir"], layer_node.name)
            expected = ref.run_single_layer(layer_node.layer, frames, config)
            e2e.expect_equal(f"step {step}, {what}: R", R, expected["R"])
            keyframes = [s.keyframe for s in expected["stats"]]
            worst = check_bound(f"step {step}, {what}", frames, R, keyframes, config)
            clamped = sum(int(ref.clamped_elements(frames[f], R[f - 1], config).sum())
                          for f in range(1, len(frames)))
            e2e.passed(f"error bound conv2d, step {step}, {what}: |X - R| <= "
                       f"{step / 2} unclamped over {len(frames)} frames (max "
                       f"{max(worst[:60])} in frames 0-59, {max(worst[60:])} in "
                       f"60-119; {clamped} clamped elements)")

    # Every layer of a multi-layer net, with per-layer steps and bit-widths.
    frames, _ = sequences.moving_square(frames=60, height=16, width=16,
                                        channels=4, square=5, velocity=(1, 2),
                                        seed=8)
    net = netgen.multi_layer_net(np.random.default_rng(8), frames[0], input_zp=-3)
    steps = {"conv2d_0": 2, "depthwise_conv2d_1": 6, "conv2d_2": 3,
             "transpose_conv2d_3": 4}
    bits = {"conv2d_2": 4, "transpose_conv2d_3": 3}
    configs = {name: ref.static_config(steps[name], bits.get(name, 8))
               for name in steps}
    model = e2e.write_model(tools, net, "net")
    frames_path = e2e.save_frames(tools, frames, "net_frames")
    resq_model = e2e.residualize(tools, model, "net", step=5, bits=8,
                                 layer_steps=steps, layer_bits=bits)
    run = e2e.resq_run(tools, resq_model, frames_path, "net", stats=True,
                       dump_state=True)
    expected = net.run_resq(frames, configs)
    e2e.expect_equal("net: outputs", run["outputs"][0], expected["outputs"][0])
    for name, config in configs.items():
        R, A = e2e.load_state(run["state_dir"], name)
        e2e.expect_equal(f"net layer {name}: R", R, expected["R"][name])
        e2e.expect_equal(f"net layer {name}: A", A, expected["A"][name])
        keyframes = [s["keyframe"] for s in expected["stats"] if s["layer"] == name]
        worst = check_bound(f"net layer {name}", expected["X"][name], R,
                            keyframes, config)
        e2e.passed(f"error bound net layer {name}, step {config.step}, "
                   f"{config.bits[0]} bits: |X - R| <= {config.step / 2} "
                   f"unclamped over {len(frames)} frames (max {max(worst)}); "
                   f"R, A == reference")


if __name__ == "__main__":
    e2e.main(test)
