"""Helpers of the video tests: synthetic clips and small float TOSA models.

Clips are written without FFmpeg's command-line tool (not a dependency of the
product): an uncompressed AVI (24-bit BGR DIB frames, what FFmpeg's AVI demuxer
and `rawvideo` decoder read) and a YUV4MPEG2 stream (no frame count in the
header, so a reader has to count).

Models are float32 TOSA v1.0 functions with the shapes of the real MediaPipe
models: `segmentation_model` maps 1xHxWx3 to a 1xHxWx1 probability,
`pose_model` to [1,195] landmarks (39 x (x, y, z, visibility, presence)) and a
[1,1] pose flag.
"""

import struct

import numpy as np


# ---------------------------------------------------------------------------
# Clips
# ---------------------------------------------------------------------------

def _chunk(tag, payload):
    pad = b"\0" if len(payload) % 2 else b""
    return tag + struct.pack("<I", len(payload)) + payload + pad


def _list(kind, payload):
    return _chunk(b"LIST", kind + payload)


def write_avi(path, frames, fps=10):
    """frames: uint8 [F, H, W, 3] RGB. Writes an uncompressed AVI."""
    frames = np.asarray(frames, dtype=np.uint8)
    count, height, width, _ = frames.shape
    row = (width * 3 + 3) & ~3  # DIB rows are padded to 4 bytes
    size = row * height
    avih = struct.pack("<IIIIIIIIII4I", 1000000 // fps, size * fps, 0, 0x10,
                       count, 0, 1, size, width, height, 0, 0, 0, 0)
    strh = struct.pack("<4s4sIHHIIIIIIIIhhhh", b"vids", b"DIB ", 0, 0, 0, 0,
                       1, fps, 0, count, size, 0xFFFFFFFF, 0, 0, 0, width,
                       height)
    strf = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, size, 0, 0,
                       0, 0)
    hdrl = _list(b"hdrl", _chunk(b"avih", avih) +
                 _list(b"strl", _chunk(b"strh", strh) + _chunk(b"strf", strf)))
    movi, index, offset = b"", b"", 4
    for frame in frames:
        # Bottom-up rows, BGR order, each row padded.
        bgr = frame[::-1, :, ::-1]
        data = b"".join(r.tobytes() + b"\0" * (row - width * 3) for r in bgr)
        movi += _chunk(b"00db", data)
        index += struct.pack("<4sIII", b"00db", 0x10, offset, len(data))
        offset += 8 + len(data)
    body = b"AVI " + hdrl + _list(b"movi", movi) + _chunk(b"idx1", index)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)


def write_y4m(path, frames, fps=10):
    """frames: uint8 [F, H, W, 3] RGB, written as YUV 4:4:4 (BT.601 limited
    range, what FFmpeg assumes for y4m)."""
    frames = np.asarray(frames, dtype=np.float64)
    count, height, width, _ = frames.shape
    r, g, b = frames[..., 0], frames[..., 1], frames[..., 2]
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    planes = [np.clip(np.rint(p), 0, 255).astype(np.uint8) for p in (y, u, v)]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C444\n".encode())
        for i in range(count):
            f.write(b"FRAME\n")
            for p in planes:
                f.write(p[i].tobytes())


def moving_square(count, height, width, size=None, seed=0, step=(3, 5)):
    """A bright square moving over a textured dark background by `step`
    (rows, columns) per frame: frames uint8 [count, height, width, 3]."""
    rng = np.random.default_rng(seed)
    size = size or min(height, width) // 3
    background = rng.integers(0, 60, size=(height, width, 3), dtype=np.uint8)
    frames = np.repeat(background[None], count, axis=0)
    for i in range(count):
        top = (i * step[0]) % max(1, height - size)
        left = (i * step[1]) % max(1, width - size)
        frames[i, top:top + size, left:left + size] = (230, 200, 40)
    return frames


# ---------------------------------------------------------------------------
# Float TOSA models
# ---------------------------------------------------------------------------

def _tensor(shape):
    return "tensor<" + "x".join(str(d) for d in shape) + "xf32>"


def _dense(values):
    values = np.asarray(values, dtype="<f4")
    flat = values.reshape(-1)
    if flat.size and np.all(flat == flat[0]):
        return f"dense<{float(flat[0])!r}>"
    return 'dense<"0x' + values.tobytes().hex().upper() + '">'


class _Builder:
    def __init__(self):
        self.lines, self.count = [], 0

    def value(self):
        self.count += 1
        return f"%v{self.count}"

    def const(self, values, shape):
        name = self.value()
        ty = _tensor(shape)
        self.lines.append(f'  {name} = "tosa.const"() {{values = '
                          f'{_dense(np.reshape(values, shape))} : {ty}}} : () -> {ty}')
        return name

    def conv2d(self, x, in_shape, weight, bias, out_shape, stride=(1, 1)):
        w = self.const(weight, weight.shape)
        b = self.const(bias, bias.shape)
        zp = self.const([0.0], (1,))
        out = self.value()
        self.lines.append(
            f"  {out} = tosa.conv2d {x}, {w}, {b}, {zp}, {zp} {{acc_type = f32, "
            f"pad = array<i64: 0, 0, 0, 0>, stride = array<i64: {stride[0]}, {stride[1]}>, "
            f"dilation = array<i64: 1, 1>}} : ({_tensor(in_shape)}, {_tensor(weight.shape)}, "
            f"{_tensor(bias.shape)}, tensor<1xf32>, tensor<1xf32>) -> {_tensor(out_shape)}")
        return out

    def avg_pool(self, x, in_shape, kernel, out_shape):
        zp = self.const([0.0], (1,))
        out = self.value()
        self.lines.append(
            f"  {out} = tosa.avg_pool2d {x}, {zp}, {zp} {{acc_type = f32, "
            f"kernel = array<i64: {kernel}, {kernel}>, pad = array<i64: 0, 0, 0, 0>, "
            f"stride = array<i64: {kernel}, {kernel}>}} : ({_tensor(in_shape)}, "
            f"tensor<1xf32>, tensor<1xf32>) -> {_tensor(out_shape)}")
        return out

    def unary(self, op, x, shape):
        out = self.value()
        self.lines.append(f"  {out} = tosa.{op} {x} : ({_tensor(shape)}) -> {_tensor(shape)}")
        return out

    def reshape(self, x, in_shape, out_shape):
        s = self.value()
        rank = len(out_shape)
        dims = ", ".join(str(d) for d in out_shape)
        self.lines.append(f"  {s} = tosa.const_shape {{values = dense<[{dims}]> : "
                          f"tensor<{rank}xindex>}} : () -> !tosa.shape<{rank}>")
        out = self.value()
        self.lines.append(f"  {out} = tosa.reshape {x}, {s} : ({_tensor(in_shape)}, "
                          f"!tosa.shape<{rank}>) -> {_tensor(out_shape)}")
        return out

    def function(self, input_shape, results):
        """results: list of (value, shape, name). The names only document
        the result: `{resq.name = ...}` result attributes (what the TFLite
        importer writes) make the runtime's LLVM translation print a warning
        per attribute, which would clutter the test logs."""
        types = ", ".join(_tensor(s) for _, s, _ in results)
        header = f"func.func @main(%x: {_tensor(input_shape)}) -> ({types}) {{"
        ret = (f"  return {', '.join(v for v, _, _ in results)} : "
               f"{', '.join(_tensor(s) for _, s, _ in results)}")
        return "\n".join([header] + self.lines + [ret, "}"]) + "\n"


def segmentation_model(size=64, weights=(4.0, 4.0, -6.0), bias=-2.0):
    """Person probability = sigmoid(w . rgb + b) per pixel (a 1x1 conv)."""
    b = _Builder()
    shape = (1, size, size, 3)
    out_shape = (1, size, size, 1)
    weight = np.asarray(weights, dtype=np.float32).reshape(1, 1, 1, 3)
    y = b.conv2d("%x", shape, weight, np.asarray([bias], np.float32), out_shape)
    p = b.unary("sigmoid", y, out_shape)
    return b.function(shape, [(p, out_shape, "segment")])


def pose_model(size=64, seed=0, scale=1.0, flag_bias=2.0, flag_sigmoid=True):
    """Landmarks and a pose flag from an 8x8 average-pooled frame. x, y land
    around the frame centre and move with the content; visibility logits are
    positive for most body landmarks. `scale` scales the landmark weights: a
    model with another scale is a deliberately different build. Without
    `flag_sigmoid` the pose flag is returned as a logit."""
    rng = np.random.default_rng(seed)
    b = _Builder()
    shape = (1, size, size, 3)
    cell = size // 8
    pooled_shape = (1, 8, 8, 3)
    pooled = b.avg_pool("%x", shape, cell, pooled_shape)
    weight = rng.normal(0, 1, size=(195, 8, 8, 3)).astype(np.float32)
    bias = np.zeros((39, 5), np.float32)
    bias[:, 0] = bias[:, 1] = size / 2
    bias[:, 3] = 3.0   # visibility logit
    bias[:, 4] = 3.0   # presence logit
    field_scale = np.array([size / 16, size / 16, 1, 0.5, 0.5], np.float32)
    weight *= (np.tile(field_scale, 39) * scale).reshape(195, 1, 1, 1)
    lm = b.conv2d(pooled, pooled_shape, weight, bias.reshape(-1), (1, 1, 1, 195), stride=(8, 8))
    landmarks = b.reshape(lm, (1, 1, 1, 195), (1, 195))
    flag_weight = np.full((1, 8, 8, 3), 0.01, np.float32)
    fl = b.conv2d(pooled, pooled_shape, flag_weight, np.asarray([flag_bias], np.float32),
                  (1, 1, 1, 1), stride=(8, 8))
    flag = b.reshape(fl, (1, 1, 1, 1), (1, 1))
    if flag_sigmoid:
        flag = b.unary("sigmoid", flag, (1, 1))
    return b.function(shape, [(landmarks, (1, 195), "landmarks"), (flag, (1, 1), "pose_flag")])


def int8_segmentation_model(size=64, weights=(3, 3, -5), bias=-200, scale=0.01):
    """A segmentation model with float edges and an int8 layer inside, the
    shape of what int8 calibration produces: q = cast_i8(x * 127), an int8
    1x1 conv (int32 accumulator), then sigmoid(scale * acc). `resq-opt
    --resq-residualize` turns it into a ResQ step function."""
    shape = (1, size, size, 3)
    out = (1, size, size, 1)
    w = ", ".join(str(int(v)) for v in weights)
    t = _tensor
    return f"""func.func @main(%x: {t(shape)}) -> {t(out)} {{
  %in_scale = "tosa.const"() {{values = dense<127.0> : tensor<1x1x1x1xf32>}} : () -> tensor<1x1x1x1xf32>
  %shift = "tosa.const"() {{values = dense<0> : tensor<1xi8>}} : () -> tensor<1xi8>
  %scaled = tosa.mul %x, %in_scale, %shift : ({t(shape)}, tensor<1x1x1x1xf32>, tensor<1xi8>) -> {t(shape)}
  %q = tosa.cast %scaled : ({t(shape)}) -> tensor<1x{size}x{size}x3xi8>
  %w = "tosa.const"() {{values = dense<[[[[{w}]]]]> : tensor<1x1x1x3xi8>}} : () -> tensor<1x1x1x3xi8>
  %b = "tosa.const"() {{values = dense<{int(bias)}> : tensor<1xi32>}} : () -> tensor<1xi32>
  %zp = "tosa.const"() {{values = dense<0> : tensor<1xi8>}} : () -> tensor<1xi8>
  %acc = tosa.conv2d %q, %w, %b, %zp, %zp {{acc_type = i32, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>}} : (tensor<1x{size}x{size}x3xi8>, tensor<1x1x1x3xi8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x{size}x{size}x1xi32>
  %f = tosa.cast %acc : (tensor<1x{size}x{size}x1xi32>) -> {t(out)}
  %out_scale = "tosa.const"() {{values = dense<{float(scale)!r}> : tensor<1x1x1x1xf32>}} : () -> tensor<1x1x1x1xf32>
  %logit = tosa.mul %f, %out_scale, %shift : ({t(out)}, tensor<1x1x1x1xf32>, tensor<1xi8>) -> {t(out)}
  %p = tosa.sigmoid %logit : ({t(out)}) -> {t(out)}
  return %p : {t(out)}
}}
"""
