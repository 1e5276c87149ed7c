# RUN: %python %s resq-opt resq-run %t
#
# The exactness invariant, for every linear op kind as a single raw layer
# (the function returns the int32 accumulator), over 60 frames of a moving
# textured square (and a corner swapping between -128 and 127), with static 8-bit, static 4-bit (clamping) and dynamic
# residuals at step 4, and at step 1 (where R is kept as int8 codes) static
# 3-bit (clamping on most changes) and dynamic residuals, and 9-bit ones
# (never clamping: the layer runs further rounds) at steps 1 and 2:
#   * every frame's dumped A equals the reference op applied to the dumped R
#     (A == ACC(R), computed independently of any simulation);
#   * R, A, the outputs and the per-frame stats (bit-width histogram, skipped
#     blocks, MACs, BOPs) equal the reference-contract simulation bit for bit.
# Kernels for this CPU; depthwise layers also for plain x86-64.

import numpy as np

import e2e
import netgen
import resq_ref as ref
import sequences

FRAMES = 60
STEP = 4

CONFIGS = [
    ("static 8 bits", STEP, dict(bits=8), ref.static_config(STEP, 8)),
    ("static 4 bits", STEP, dict(bits=4), ref.static_config(STEP, 4)),
    ("dynamic 0,2,4,8 block 4", STEP,
     dict(bits=8, dynamic=dict(bit_set=[0, 2, 4, 8], block=4, scene_cut=0.5)),
     ref.dynamic_config(STEP, [0, 2, 4, 8], 4, 0.5)),
    ("static 3 bits", 1, dict(bits=3), ref.static_config(1, 3)),
    ("dynamic 0,2,3,...,8 block 2", 1,
     dict(bits=8, dynamic=dict(bit_set=[0, 2, 3, 4, 5, 6, 7, 8], block=2,
                               scene_cut=1.0)),
     ref.dynamic_config(1, [0, 2, 3, 4, 5, 6, 7, 8], 2, 1.0)),
    # 9 bits: residuals of up to 255 codes in rounds of byte codes.
    ("dynamic 0,2,4,8,9 block 2", 1,
     dict(bits=8, dynamic=dict(bit_set=[0, 2, 4, 8, 9], block=2,
                               scene_cut=1.0)),
     ref.dynamic_config(1, [0, 2, 4, 8, 9], 2, 1.0)),
    ("static 9 bits", 2, dict(bits=9), ref.static_config(2, 9)),
    # Blocks of one pixel: widths of 16 pixels at a time (more than 4
    # channels), rounded after the largest residual is taken.
    ("dynamic 0,2,3,...,9 block 1", 3,
     dict(bits=8, dynamic=dict(bit_set=[0, 2, 3, 4, 5, 6, 7, 8, 9], block=1,
                               scene_cut=1.0)),
     ref.dynamic_config(3, [0, 2, 3, 4, 5, 6, 7, 8, 9], 1, 1.0)),
]


def image_cases():
    """(description, kind, input shape, random_layer arguments)."""
    shape = (1, 24, 24, 4)
    return [
        ("conv2d 3x3 stride 1 pad 1", "conv2d", shape, dict(out_channels=8)),
        ("conv2d 3x3 stride 2 pad 1,0,1,0", "conv2d", shape,
         dict(out_channels=6, pad=(1, 0, 1, 0), stride=(2, 2))),
        ("conv2d 3x3 dilation 2 pad 2,2,1,3", "conv2d", shape,
         dict(out_channels=5, pad=(2, 2, 1, 3), dilation=(2, 2))),
        ("conv2d 1x1", "conv2d", shape,
         dict(out_channels=8, kernel=(1, 1), pad=(0, 0, 0, 0))),
        ("depthwise_conv2d 3x3 multiplier 1", "depthwise_conv2d", shape,
         dict(multiplier=1)),
        ("depthwise_conv2d 3x3 multiplier 2 stride 2", "depthwise_conv2d",
         shape, dict(multiplier=2, pad=(0, 1, 0, 1), stride=(2, 2))),
        # Rows of whole windows go in chunks of pixels sharing input
        # columns: 5x5 stride 2 over 20 channels (a partial second block),
        # and 3x3 dilation 2 with uneven padding.
        ("depthwise_conv2d 5x5 stride 2 pad 2, 20 channels",
         "depthwise_conv2d", (1, 25, 31, 20),
         dict(kernel=(5, 5), pad=(2, 2, 2, 2), stride=(2, 2))),
        # 24 channels (a partial second vector), 70 columns (from 64 on,
        # blocks of one pixel take their widths 16 at a time: four chunks
        # and a rest).
        ("conv2d 1x1, 24 channels, 70 columns", "conv2d", (1, 10, 70, 24),
         dict(out_channels=16, kernel=(1, 1), pad=(0, 0, 0, 0))),
        # 5 to 8 channels hold 8 per pixel in R and Q (passes on 8 lanes,
        # quantized in runs where X is contiguous).
        ("conv2d 3x3, 6 channels", "conv2d", (1, 12, 20, 6),
         dict(out_channels=8)),
        ("conv2d 3x3, 8 channels", "conv2d", (1, 12, 20, 8),
         dict(out_channels=8)),
        ("depthwise_conv2d 3x3 dilation 2 pad 2,1,3,0", "depthwise_conv2d",
         shape, dict(pad=(2, 1, 3, 0), dilation=(2, 2))),
        ("transpose_conv2d 3x3 stride 1", "transpose_conv2d", shape,
         dict(out_channels=6, pad=(0, 0, 0, 0))),
        ("transpose_conv2d 3x3 stride 2 out_pad 1,0,0,1", "transpose_conv2d",
         shape, dict(out_channels=4, pad=(1, 0, 0, 1), stride=(2, 2))),
        # TOSA allows out_pad > -K: a negative out_pad crops the output.
        ("transpose_conv2d 4x4 stride 2 out_pad -1 (crop)", "transpose_conv2d",
         shape, dict(out_channels=4, kernel=(4, 4), pad=(-1, -1, -1, -1),
                     stride=(2, 2))),
        # One output channel: the pixels whose windows lie inside
        # go kLanes / (channels / 4) to a dot product, in chunks of 8 such
        # groups and a rest; the other pixels one at a time.
        ("conv2d 3x3 to one channel, 8 channels, 80 columns", "conv2d",
         (1, 10, 80, 8), dict(out_channels=1)),
        ("conv2d 3x3 to one channel, 16 channels", "conv2d", (1, 10, 40, 16),
         dict(out_channels=1)),
        ("conv2d 3x5 to one channel, 4 channels", "conv2d", (1, 10, 50, 4),
         dict(out_channels=1, kernel=(3, 5), pad=(1, 1, 2, 2))),
    ]


def check_layer(tools, what, net, frames, seed, target_cpu=None):
    layer_node = net.linear_layers()[0]
    name, layer = layer_node.name, layer_node.layer
    model = e2e.write_model(tools, net, f"layer{seed}")
    frames_path = e2e.save_frames(tools, frames, f"frames{seed}")
    for config_what, step, options, config in CONFIGS:
        tag = (f"{seed}_s{step}_"
               f"{config_what.replace(' ', '_').replace(',', '').replace('.', '')}")
        resq_model = e2e.residualize(tools, model, tag, step=step, **options)
        run = e2e.resq_run(tools, resq_model, frames_path,
                           tag + (f"_{target_cpu}" if target_cpu else ""),
                           stats=True, dump_state=True, target_cpu=target_cpu)
        R, A = e2e.load_state(run["state_dir"], name)

        # A == ACC(R), frame by frame, from the dumped state alone.
        acc_of_r = np.stack([layer.acc(r) for r in R])
        e2e.expect_equal(f"{what}, {config_what}: A == ACC(R)", A, acc_of_r)

        expected = ref.run_single_layer(layer, frames, config)
        e2e.expect_equal(f"{what}, {config_what}: R", R, expected["R"])
        e2e.expect_equal(f"{what}, {config_what}: A", A, expected["A"])
        output = run["outputs"][0]
        e2e.expect_dtype(f"{what}, {config_what}: output", output, np.int32)
        e2e.expect_equal(f"{what}, {config_what}: output", output, expected["A"])
        e2e.expect_stats(f"{what}, {config_what}: stats", run["stats"],
                         [dict(frame=f, stream=0, layer=name, **s.as_dict())
                          for f, s in enumerate(expected["stats"])])
        residual_frames = sum(not s.keyframe for s in expected["stats"])
        e2e.passed(f"exactness {what}, {config_what}, step {step}: A == ACC(R) "
                   f"and R, A, outputs, stats == reference, {len(frames)} "
                   f"frames ({residual_frames} residual)")


def test(tools):
    rng = np.random.default_rng(7)
    for seed, (what, kind, shape, args) in enumerate(image_cases()):
        frames, _ = sequences.moving_square(
            frames=FRAMES, height=shape[1], width=shape[2], channels=shape[3],
            square=8, velocity=(1, 2), seed=seed)
        frames = sequences.with_jump_band(frames)
        if shape[3] > 16:
            # Single-channel changes: a pixel's width is its largest
            # channel's, wherever in the vector that channel sits.
            frames = sequences.with_channel_changes(frames, seed)
        layer = netgen.random_layer(rng, kind, shape, **args)
        net = netgen.single_layer_net(layer, shape)
        check_layer(tools, what, net, frames, seed)
        # Depthwise kernels have a portable path of their own (no VNNI);
        # the widths' shuffles lower differently without AVX-512.
        if (kind == "depthwise_conv2d" and args.get("multiplier", 1) == 1
                or shape[3] > 16):
            check_layer(tools, f"{what} (x86-64)", net, frames, seed,
                        target_cpu="x86-64")

    # matmul: a [1, H, C] input whose rows a moving band crosses.
    video, _ = sequences.moving_square(frames=FRAMES, height=24, width=12,
                                       channels=1, square=4, velocity=(1, 1),
                                       seed=99)
    frames = video.reshape(FRAMES, 1, 24, 12)
    layer = netgen.random_layer(rng, "matmul", (1, 24, 12), out_channels=8)
    check_layer(tools, "matmul 1x24x12 * 1x12x8",
                netgen.single_layer_net(layer, (1, 24, 12)), frames, 99)


if __name__ == "__main__":
    e2e.main(test)
