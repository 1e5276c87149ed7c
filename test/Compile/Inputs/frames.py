"""Writes a moving-square int8 sequence for a 1xHxWxC input both as .npy
(for resq-run) and as raw bytes, frame after frame (for the C programs).

    frames.py OUT_PREFIX FRAMES HEIGHT WIDTH CHANNELS SEED [CUT]
writes OUT_PREFIX.npy [F, 1, H, W, C] and OUT_PREFIX.raw. With CUT, the
frames from CUT on come from another sequence (a scene cut).
"""
import sys

import numpy as np

import sequences


def sequence(frames, height, width, channels, seed):
    video, _ = sequences.moving_square(frames=frames, height=height,
                                       width=width, channels=channels,
                                       square=height // 4, velocity=(1, 2),
                                       seed=seed)
    return video


prefix = sys.argv[1]
frames, height, width, channels, seed = (int(a) for a in sys.argv[2:7])
video = sequence(frames, height, width, channels, seed)
if len(sys.argv) > 7:
    cut = int(sys.argv[7])
    other = sequence(frames, height, width, channels, seed + 1000)
    video[cut:] = other[:frames - cut]
np.save(prefix + ".npy", video)
video.tofile(prefix + ".raw")
print(f"frames: {video.shape} {video.dtype}")
