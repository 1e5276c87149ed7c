"""Random frames for Inputs/mixed.mlir: x int8 [F, 1, 5, 7, 3] and y float32
[F, 2, 3], as OUT_PREFIX.x.npy/.raw and OUT_PREFIX.y.npy/.raw.

    mixed_frames.py OUT_PREFIX FRAMES
"""
import sys

import numpy as np

prefix, frames = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(7)
x = rng.integers(-128, 128, size=(frames, 1, 5, 7, 3)).astype(np.int8)
y = rng.standard_normal(size=(frames, 2, 3)).astype(np.float32)
for name, array in (("x", x), ("y", y)):
    np.save(f"{prefix}.{name}.npy", array)
    array.tofile(f"{prefix}.{name}.raw")
