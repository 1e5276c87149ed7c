"""Synthetic int8 video sequences (NHWC frames with a leading frames axis).

moving_square: a textured square moving over a static textured background.
The square's texture (values 40..120) and the background's (-120..-30) are
far apart, so every pixel the square enters or leaves changes by at least 70
codes; inside the square its own texture moves with it.
"""

import numpy as np


def textured_background(rng, height, width, channels):
    return rng.integers(-120, -29, size=(height, width, channels))


def square_texture(rng, size, channels):
    return rng.integers(40, 121, size=(size, size, channels))


def bounce(start, velocity, limit, frames):
    """Positions 0 <= p <= limit moving at `velocity`, reflecting at ends."""
    positions, p, v = [], start, velocity
    for _ in range(frames):
        positions.append(p)
        if not 0 <= p + v <= limit:
            v = -v
        p += v
    return positions


def moving_square(frames=60, height=32, width=32, channels=4, square=8,
                  velocity=(1, 2), seed=0):
    """Returns (frames int8 [F, 1, H, W, C], positions [(y, x)] of the
    square's top-left corner per frame)."""
    rng = np.random.default_rng(seed)
    background = textured_background(rng, height, width, channels)
    texture = square_texture(rng, square, channels)
    ys = bounce(int(rng.integers(0, height - square + 1)), velocity[0],
                height - square, frames)
    xs = bounce(int(rng.integers(0, width - square + 1)), velocity[1],
                width - square, frames)
    video = np.empty((frames, 1, height, width, channels), dtype=np.int8)
    for f, (y, x) in enumerate(zip(ys, xs)):
        frame = background.copy()
        frame[y:y + square, x:x + square] = texture
        video[f, 0] = frame
    return video, list(zip(ys, xs))


def static_sequence(frames=60, height=32, width=32, channels=4, seed=0):
    """Every frame the same textured image: int8 [F, 1, H, W, C]."""
    rng = np.random.default_rng(seed)
    image = rng.integers(-128, 128, size=(height, width, channels))
    return np.broadcast_to(image, (frames, 1, height, width, channels)).astype(np.int8)


def square_mask(position, square, height, width):
    """bool [H, W]: the pixels the square covers at `position`."""
    mask = np.zeros((height, width), dtype=bool)
    y, x = position
    mask[y:y + square, x:x + square] = True
    return mask


def pattern_area(positions, square, height, width):
    """Fraction of the frame the square covers, per frame."""
    return [square_mask(p, square, height, width).mean() for p in positions]


def changed_mask(previous, current, square, height, width):
    """bool [H, W]: pixels under the square's old or new position."""
    return (square_mask(previous, square, height, width) |
            square_mask(current, square, height, width))


def blocks_touched(mask, block):
    """bool [ceil(H/block), ceil(W/block)]: blocks holding a masked pixel
    (blocks tile from (0, 0); edge blocks are partial)."""
    h, w = mask.shape
    rows, cols = -(-h // block), -(-w // block)
    padded = np.zeros((rows * block, cols * block), dtype=bool)
    padded[:h, :w] = mask
    return padded.reshape(rows, block, cols, block).any(axis=(1, 3))


def interleave(a, b):
    """Two sequences [F, ...] as one [2F, ...]: a0, b0, a1, b1, ..."""
    assert a.shape == b.shape
    out = np.empty((2 * a.shape[0],) + a.shape[1:], dtype=a.dtype)
    out[0::2], out[1::2] = a, b
    return out


def with_jump_band(frames):
    """The frames with their two top rows, left corner, swapping between
    the ends of the int8 range on every frame (residuals of 255 codes:
    9 bits at step 1), and the three rows below changing a little (no
    clamping there, but a 3x3 window reads both)."""
    frames = frames.copy()
    for f in range(len(frames)):
        frames[f, :, 0:2, 0:6, :] = 127 if f % 2 else -128
        frames[f, :, 2:5, 0:6, :] = -60 + 7 * (f % 3)
    return frames


def with_channel_changes(frames, seed, fraction=0.2):
    """The frames with, on every frame, a random `fraction` of the pixels
    changed in one random channel each by up to +-40 codes."""
    rng = np.random.default_rng(seed)
    frames = frames.copy()
    f, n, h, w, c = frames.shape
    for k in range(1, f):
        hit = rng.random((n, h, w)) < fraction
        channel = rng.integers(0, c, size=(n, h, w))
        delta = rng.integers(-40, 41, size=(n, h, w))
        ys = np.nonzero(hit)
        values = frames[k][ys + (channel[ys],)].astype(np.int32) + delta[ys]
        frames[k][ys + (channel[ys],)] = np.clip(values, -128, 127)
    return frames
