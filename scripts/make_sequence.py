#!/usr/bin/python3
"""Writes a moving-pattern video as an int8 .npy of shape [F, 1, H, W, C]:
a textured square moving over a static textured background (see
test/e2e/lib/sequences.py). The default shape is tiny_segnet's input.

    scripts/make_sequence.py OUTPUT FRAMES SEED [--shape 1x64x64x8] [--square 16]
"""

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "test", "e2e", "lib"))

import numpy as np  # noqa: E402

import sequences  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("frames", type=int)
    parser.add_argument("seed", type=int)
    parser.add_argument("--shape", default="1x64x64x8",
                        help="input shape NxHxWxC of the model (N must be 1)")
    parser.add_argument("--square", type=int, default=16,
                        help="side of the moving square in pixels")
    args = parser.parse_args()
    n, height, width, channels = (int(d) for d in args.shape.split("x"))
    if n != 1:
        parser.error("only batch 1 is supported")
    video, positions = sequences.moving_square(
        frames=args.frames, height=height, width=width, channels=channels,
        square=args.square, velocity=(1, 2), seed=args.seed)
    np.save(args.output, video)
    area = np.mean(sequences.pattern_area(positions, args.square, height, width))
    print(f"wrote {args.output}: {video.shape} int8, square {args.square}px "
          f"covering {area:.1%} of the frame")


if __name__ == "__main__":
    main()
