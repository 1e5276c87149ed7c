# RUN: %python %s resq-opt resq-run %t
#
# Decoding and preprocessing, seen through `resq-run --video --save-inputs`
# (every model input as float32 [F, 1, H, W, 3]):
#  - an AVI announces its frame count, a y4m stream does not; both decode
#    every frame, in order and upright; --frames N stops after N;
#  - pixel values become byte / 255 exactly;
#  - --resize area halves a frame by averaging 2x2 blocks, --resize bilinear
#    by the [1, 3, 3, 1] / 8 triangle filter (swscale's widened bilinear);
#  - --fit letterbox keeps the aspect ratio with black bars, --fit stretch
#    fills the input.

import numpy as np

import videogen
from videotest import check, main, passed


def inputs(tools, clip, name, *extra):
    model = tools.path("model64.mlir")
    path = tools.path(name + ".npy")
    done = tools.resq_run("--video", clip, "--task", "segmentation", "--float", model,
                          "--save-inputs", path, *extra)
    return done.stdout, np.load(path)


def box_half(frames):
    f, h, w, c = frames.shape
    return frames.reshape(f, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def triangle_half(frames):
    """Halving with weights [1, 3, 3, 1] / 8 and clamped edges, per axis."""
    w = np.array([1, 3, 3, 1]) / 8
    for axis in (1, 2):
        a = np.moveaxis(frames, axis, 0)
        padded = np.concatenate([a[:1], a, a[-1:]])
        n = a.shape[0] // 2
        a = np.stack([sum(w[k] * padded[2 * i + k] for k in range(4)) for i in range(n)])
        frames = np.moveaxis(a, 0, axis)
    return frames


def test(tools):
    tools.write("model64.mlir", videogen.segmentation_model(64))

    # Frame count, order and orientation: a square moving right and down.
    frames = videogen.moving_square(9, 128, 128, size=32, step=(2, 4))
    avi, y4m = tools.path("clip.avi"), tools.path("clip.y4m")
    videogen.write_avi(avi, frames)
    videogen.write_y4m(y4m, frames)
    out, x = inputs(tools, avi, "avi", "--resize", "area")
    check("128x128 rawvideo, 10 fps, 9 frames;" in out, f"AVI header line:\n{out}")
    check(x.shape == (9, 1, 64, 64, 3) and x.dtype == np.float32, f"shape {x.shape} {x.dtype}")
    for i in range(9):
        m = x[i, 0, :, :, 0] > 0.8
        ys, xs = np.nonzero(m)
        top, left = i, 2 * i
        check((ys.min(), xs.min()) == (top, left) and m.sum() == 16 * 16,
              f"frame {i}: square at {(ys.min(), xs.min())}, expected {(top, left)}")
    passed("AVI: 9 frames announced and decoded, in order, upright")

    # Exact values: byte / 255, and area halving = 2x2 mean.
    expected = box_half(frames.astype(np.float64))
    got = x[:, 0].astype(np.float64) * 255
    check(np.abs(got - expected).max() <= 0.5 + 1e-3,
          f"area halving off by {np.abs(got - expected).max()} levels")
    flat = x[0, 0, 40:60, 40:60]
    check(np.all(np.isin(flat * 255, np.arange(256).astype(np.float32))),
          "inputs are not byte / 255")
    passed("area: 2x2 means (within rounding), values byte / 255")

    out, y = inputs(tools, y4m, "y4m", "--resize", "area")
    header = [line for line in out.splitlines() if "model input" in line]
    check(len(header) == 1 and "frames;" not in header[0] and "yuv4mpegpipe" not in header[0],
          f"y4m announces no frame count:\n{out}")
    check(y.shape[0] == 9, f"y4m: {y.shape[0]} frames decoded, expected 9")
    # 4:4:4 YUV in 8 bits: colours come back within a few levels.
    check(np.abs(y - x).max() * 255 < 4, f"y4m frames differ by {np.abs(y - x).max() * 255}")
    passed("y4m: no announced count, 9 frames decoded, same pictures")

    _, z = inputs(tools, avi, "first4", "--frames", "4", "--resize", "area")
    check(z.shape[0] == 4 and np.array_equal(z, x[:4]), "--frames 4")
    passed("--frames 4 stops after 4 frames")

    # Bilinear halving on noise: the widened triangle filter.
    noise = np.random.default_rng(1).integers(0, 256, size=(2, 128, 128, 3), dtype=np.uint8)
    noisy = tools.path("noise.avi")
    videogen.write_avi(noisy, noise)
    _, b = inputs(tools, noisy, "bilinear")
    diff = np.abs(b[:, 0].astype(np.float64) * 255 - triangle_half(noise.astype(np.float64)))
    check(diff.max() < 1, f"bilinear halving off by {diff.max()} levels")
    passed(f"bilinear: [1, 3, 3, 1] / 8 halving (max {diff.max():.2f} levels off)")

    # Letterbox: a 128x96 clip goes to 64x48 at rows 8..55, black above and
    # below; stretched it fills 64x64.
    wide = videogen.moving_square(2, 96, 128, size=32)
    clip = tools.path("wide.avi")
    videogen.write_avi(clip, wide)
    out, lb = inputs(tools, clip, "letterbox", "--resize", "area")
    check("letterbox" in out, f"the fit is not reported:\n{out}")
    check(np.all(lb[:, 0, :8] == 0) and np.all(lb[:, 0, 56:] == 0), "letterbox bars are not black")
    content = lb[:, 0, 8:56].astype(np.float64) * 255
    check(np.abs(content - box_half(wide.astype(np.float64))).max() <= 0.5 + 1e-3,
          "letterboxed content is not the halved frame")
    _, st = inputs(tools, clip, "stretch", "--fit", "stretch", "--resize", "area")
    check(st.shape == (2, 1, 64, 64, 3) and st[:, 0, :8].max() > 0, "stretch leaves bars")
    passed("letterbox: 64x48 content at row 8, black bars; stretch fills the input")


if __name__ == "__main__":
    main(test)
