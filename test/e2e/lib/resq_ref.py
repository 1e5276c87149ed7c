"""Plain numpy reference of the ResQ numeric contract.

Written for clarity, not speed. Two parts:

1. TOSA v1.0 int8 operators, integer-exact (conv2d, depthwise_conv2d,
   transpose_conv2d, matmul, rescale, clamp, add). Linear ops take any integer
   array (computed in int64), so they also accept the reconstructed input R,
   whose values may leave the int8 range.

2. The ResQ contract of docs RESQ-SEMANTICS.md for one residualized linear
   layer: per-stream state (R, A), keyframes, residual frames with a step and
   static or dynamic bit-widths per block, the scene-cut rule and the per-frame
   statistics (bit-width histogram, skipped blocks, MACs, BOPs).
"""

from dataclasses import dataclass, field

import numpy as np

INT8_MIN, INT8_MAX = -128, 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

LINEAR_KINDS = ("conv2d", "depthwise_conv2d", "transpose_conv2d", "matmul")


def as_int(x):
    return np.asarray(x, dtype=np.int64)


# ---------------------------------------------------------------------------
# TOSA v1.0 operators
# ---------------------------------------------------------------------------

def conv_output_size(in_size, kernel, pad_before, pad_after, stride, dilation):
    span = in_size - 1 + pad_before + pad_after - (kernel - 1) * dilation
    assert span >= 0 and span % stride == 0, "TOSA requires an exact output size"
    return span // stride + 1


def window_taps(x, kh, kw, pad, stride, dilation):
    """Yields (ky, kx, window): the input pixels each output pixel reads
    through tap (ky, kx), with padding as zeros. x is already zero-point
    shifted, so padded taps contribute nothing, as in TOSA."""
    n, ih, iw, _ = x.shape
    top, bottom, left, right = pad
    sy, sx = stride
    dy, dx = dilation
    oh = conv_output_size(ih, kh, top, bottom, sy, dy)
    ow = conv_output_size(iw, kw, left, right, sx, dx)
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    for ky in range(kh):
        for kx in range(kw):
            y0, x0 = ky * dy, kx * dx
            yield ky, kx, padded[:, y0:y0 + (oh - 1) * sy + 1:sy,
                                 x0:x0 + (ow - 1) * sx + 1:sx, :]


def conv2d(x, weight, bias, pad=(0, 0, 0, 0), stride=(1, 1), dilation=(1, 1),
           input_zp=0):
    """TOSA conv2d: x NHWC, weight OHWI, pad [top, bottom, left, right]."""
    x = as_int(x) - input_zp
    weight = as_int(weight)
    assert weight.shape[3] == x.shape[3]
    acc = 0
    for ky, kx, window in window_taps(x, weight.shape[1], weight.shape[2],
                                      pad, stride, dilation):
        acc = acc + np.einsum("nhwc,oc->nhwo", window, weight[:, ky, kx, :])
    if bias is not None:
        acc = acc + as_int(bias)
    return acc


def depthwise_conv2d(x, weight, bias, pad=(0, 0, 0, 0), stride=(1, 1),
                     dilation=(1, 1), input_zp=0):
    """TOSA depthwise_conv2d: weight [KH, KW, C, M]; output channel c*M + m."""
    x = as_int(x) - input_zp
    weight = as_int(weight)
    kh, kw, c, m = weight.shape
    assert c == x.shape[3]
    acc = 0
    for ky, kx, window in window_taps(x, kh, kw, pad, stride, dilation):
        acc = acc + window[..., None] * weight[ky, kx][None, None, None]
    n, oh, ow = acc.shape[:3]
    acc = acc.reshape(n, oh, ow, c * m)
    if bias is not None:
        acc = acc + as_int(bias)
    return acc


def transpose_conv_output_size(in_size, kernel, pad_before, pad_after, stride):
    return (in_size - 1) * stride + pad_before + pad_after + kernel


def transpose_conv2d(x, weight, bias, out_pad=(0, 0, 0, 0), stride=(1, 1),
                     input_zp=0):
    """TOSA transpose_conv2d: weight OHWI, out_pad [top, bottom, left, right].

    Input pixel (iy, ix) and tap (ky, kx) add into output
    (iy*sy + out_pad_top + ky, ix*sx + out_pad_left + kx) when that lies
    inside the output.
    """
    x = as_int(x) - input_zp
    weight = as_int(weight)
    n, ih, iw, ic = x.shape
    oc, kh, kw, wic = weight.shape
    assert wic == ic
    top, bottom, left, right = out_pad
    sy, sx = stride
    oh = transpose_conv_output_size(ih, kh, top, bottom, sy)
    ow = transpose_conv_output_size(iw, kw, left, right, sx)
    # Scatter into a canvas large enough for every (iy, ix, ky, kx), then crop.
    margin_y, margin_x = max(0, -top), max(0, -left)
    canvas = np.zeros((n, margin_y + (ih - 1) * sy + kh + max(0, top),
                       margin_x + (iw - 1) * sx + kw + max(0, left), oc),
                      dtype=np.int64)
    for ky in range(kh):
        for kx in range(kw):
            contribution = np.einsum("nhwc,oc->nhwo", x, weight[:, ky, kx, :])
            y0 = margin_y + top + ky
            x0 = margin_x + left + kx
            canvas[:, y0:y0 + (ih - 1) * sy + 1:sy,
                   x0:x0 + (iw - 1) * sx + 1:sx, :] += contribution
    acc = canvas[:, margin_y:margin_y + oh, margin_x:margin_x + ow, :]
    if acc.shape[1] < oh or acc.shape[2] < ow:  # bottom/right padding
        acc = np.pad(acc, ((0, 0), (0, oh - acc.shape[1]),
                           (0, ow - acc.shape[2]), (0, 0)))
    acc = acc.copy()
    if bias is not None:
        acc += as_int(bias)
    return acc


def matmul(a, b, a_zp=0, b_zp=0):
    """TOSA matmul: a [N, H, C], b [N, C, W] -> [N, H, W] int32."""
    return np.einsum("nhc,ncw->nhw", as_int(a) - a_zp, as_int(b) - b_zp)


def apply_scale_32(value, multiplier, shift, double_round):
    """TOSA apply_scale_32, elementwise (multiplier, shift broadcast)."""
    value = as_int(value)
    multiplier = as_int(multiplier)
    shift = as_int(shift)
    assert np.all(multiplier >= 0) and np.all((shift >= 2) & (shift <= 62))
    round_ = np.left_shift(np.int64(1), shift - 1)
    if double_round:
        high = shift > 31
        round_ = np.where(high & (value >= 0), round_ + (1 << 30), round_)
        round_ = np.where(high & (value < 0), round_ - (1 << 30), round_)
    # value is int32 and multiplier < 2^31: the product fits in int64.
    result = (value * multiplier + round_) >> shift
    assert np.all((result >= INT32_MIN) & (result <= INT32_MAX)), "rescale overflow"
    return result


def rescale(x, multiplier, shift, input_zp=0, output_zp=0,
            rounding_mode="DOUBLE_ROUND", per_channel=False, out_bits=8):
    """TOSA rescale (scale32) of a signed input to a signed out_bits output.

    per_channel: multiplier and shift hold one value per channel (last axis).
    """
    assert rounding_mode in ("DOUBLE_ROUND", "SINGLE_ROUND")
    multiplier = as_int(multiplier).reshape(-1)
    shift = as_int(shift).reshape(-1)
    if not per_channel:
        multiplier, shift = multiplier[:1], shift[:1]
    value = as_int(x) - input_zp
    result = apply_scale_32(value, multiplier, shift,
                            rounding_mode == "DOUBLE_ROUND")
    result = result + output_zp
    low, high = -(2 ** (out_bits - 1)), 2 ** (out_bits - 1) - 1
    return np.clip(result, low, high)


def clamp(x, min_val, max_val):
    return np.clip(as_int(x), min_val, max_val)


def add(a, b):
    """TOSA add on int32 (wrapping like the hardware)."""
    total = as_int(a) + as_int(b)
    return (total + 2**31) % 2**32 - 2**31


# ---------------------------------------------------------------------------
# A linear layer: the op, its constant weights and its geometry
# ---------------------------------------------------------------------------

@dataclass
class LinearLayer:
    """One int8 linear op with constant weights (weight zero point 0).

    kind: conv2d | depthwise_conv2d | transpose_conv2d | matmul
    pad: [top, bottom, left, right] (out_pad for transpose_conv2d)
    For matmul the residualized input is `a` [N, H, C] and `weight` is `b`
    [N, C, W]; there is no bias.
    """
    kind: str
    weight: np.ndarray
    bias: np.ndarray = None
    input_zp: int = 0
    pad: tuple = (0, 0, 0, 0)
    stride: tuple = (1, 1)
    dilation: tuple = (1, 1)

    def linear(self, x):
        """L(x, W): no zero point, no bias."""
        return self._apply(x, bias=None, input_zp=0)

    def acc(self, x):
        """ACC(X) = L(X - zx, W) + B, the standard int8 accumulator."""
        return self._apply(x, bias=self.bias, input_zp=self.input_zp)

    def _apply(self, x, bias, input_zp):
        if self.kind == "conv2d":
            return conv2d(x, self.weight, bias, self.pad, self.stride,
                          self.dilation, input_zp)
        if self.kind == "depthwise_conv2d":
            return depthwise_conv2d(x, self.weight, bias, self.pad,
                                    self.stride, self.dilation, input_zp)
        if self.kind == "transpose_conv2d":
            return transpose_conv2d(x, self.weight, bias, self.pad,
                                    self.stride, input_zp)
        if self.kind == "matmul":
            return matmul(x, self.weight, input_zp, 0)
        raise ValueError(self.kind)

    def macs_per_tap(self):
        """MACs one (output pixel, window tap) pair costs."""
        if self.kind == "conv2d" or self.kind == "transpose_conv2d":
            oc, _, _, ic = self.weight.shape
            return ic * oc
        if self.kind == "depthwise_conv2d":
            _, _, c, m = self.weight.shape
            return c * m
        if self.kind == "matmul":
            _, c, w = self.weight.shape
            return c * w
        raise ValueError(self.kind)

    def taps_per_input_pixel(self, input_shape):
        """How many valid (output pixel, window tap) pairs read each input
        pixel: shape (N, H, W), or (N, H) rows for matmul.

        Summing it over the pixels of executed blocks and multiplying by
        macs_per_tap() gives the MACs executed.
        """
        if self.kind == "matmul":
            n, h, _ = input_shape
            return np.ones((n, h), dtype=np.int64)
        n, ih, iw, _ = input_shape
        if self.kind == "transpose_conv2d":
            _, kh, kw, _ = self.weight.shape
            top, bottom, left, right = self.pad
            sy, sx = self.stride
            oh = transpose_conv_output_size(ih, kh, top, bottom, sy)
            ow = transpose_conv_output_size(iw, kw, left, right, sx)
            uses_y = [sum(0 <= iy * sy + top + ky < oh for ky in range(kh))
                      for iy in range(ih)]
            uses_x = [sum(0 <= ix * sx + left + kx < ow for kx in range(kw))
                      for ix in range(iw)]
        else:
            if self.kind == "conv2d":
                _, kh, kw, _ = self.weight.shape
            else:
                kh, kw, _, _ = self.weight.shape
            top, bottom, left, right = self.pad
            sy, sx = self.stride
            dy, dx = self.dilation
            oh = conv_output_size(ih, kh, top, bottom, sy, dy)
            ow = conv_output_size(iw, kw, left, right, sx, dx)
            uses_y = np.zeros(ih, dtype=np.int64)
            uses_x = np.zeros(iw, dtype=np.int64)
            for oy in range(oh):
                for ky in range(kh):
                    iy = oy * sy - top + ky * dy
                    if 0 <= iy < ih:
                        uses_y[iy] += 1
            for ox in range(ow):
                for kx in range(kw):
                    ix = ox * sx - left + kx * dx
                    if 0 <= ix < iw:
                        uses_x[ix] += 1
        # The window is separable: pixel (y, x) is read uses_y[y]*uses_x[x] times.
        per_pixel = np.outer(uses_y, uses_x).astype(np.int64)
        return np.broadcast_to(per_pixel, (n, ih, iw)).copy()


# ---------------------------------------------------------------------------
# The ResQ contract for one residualized layer
# ---------------------------------------------------------------------------

BIT_WIDTHS = (0, 2, 3, 4, 5, 6, 7, 8)


def bit_range(b):
    """Largest |Q| a b-bit symmetric residual code holds (b = 0: nothing)."""
    return 0 if b == 0 else 2 ** (b - 1) - 1


def quantize_residual(d, step):
    """sign(D) * ((|D| + floor(s/2)) div s): round half away from zero."""
    d = as_int(d)
    return np.sign(d) * ((np.abs(d) + step // 2) // step)


def choose_bit_width(m, bits):
    """Smallest allowed width whose range holds m, else the largest."""
    for b in sorted(bits):
        if bit_range(b) >= m:
            return b
    return max(bits)


@dataclass
class ResidualConfig:
    """How a layer quantizes residuals.

    bits: one width = static ResQ; several = Dynamic ResQ, chosen per block.
    block: block size in input pixels (rows for matmul).
    scene_cut: a residual frame becomes a keyframe (from this layer on) when
        the fraction of blocks needing the widest width exceeds it.
    scene_cut_min_blocks: layers with fewer blocks per frame do not apply
        the scene-cut rule (as `--resq-dynamic-bits` decides).
    """
    step: int = 4
    bits: tuple = (8,)
    block: int = 1
    scene_cut: float = 1.0
    scene_cut_min_blocks: int = 64

    @property
    def dynamic(self):
        return len(self.bits) > 1


def static_config(step, bits):
    """What `--resq-residualize="step=S bits=B"` gives a layer."""
    return ResidualConfig(step=step, bits=(bits,), block=1, scene_cut=1.0)


def dynamic_config(step, bits, block, scene_cut, scene_cut_min_blocks=64):
    """What `--resq-dynamic-bits="bit-set=.. block=.. scene-cut=..
    scene-cut-min-blocks=.."` gives."""
    return ResidualConfig(step=step, bits=tuple(sorted(bits)), block=block,
                          scene_cut=scene_cut,
                          scene_cut_min_blocks=scene_cut_min_blocks)


def block_ids(pixel_shape, block):
    """Block id of every pixel: blocks of block x block pixels tile each
    image's H, W plane from (0, 0), edge blocks partial. For matmul inputs
    the pixel shape is (N, H) and a block is `block` consecutive rows.
    Returns (ids with shape pixel_shape, number of blocks)."""
    if len(pixel_shape) == 2:
        n, h = pixel_shape
        rows = -(-h // block)
        ids = np.arange(n)[:, None] * rows + np.arange(h)[None, :] // block
        return ids, n * rows
    n, h, w = pixel_shape
    rows, cols = -(-h // block), -(-w // block)
    by = np.arange(h)[:, None] // block
    bx = np.arange(w)[None, :] // block
    ids = np.arange(n)[:, None, None] * rows * cols + (by * cols + bx)[None]
    return ids, n * rows * cols


@dataclass
class LayerState:
    """Stream state of one residualized layer."""
    R: np.ndarray = None  # reconstructed input (int16 range)
    A: np.ndarray = None  # int32 accumulator, A == ACC(R)


@dataclass
class FrameStats:
    keyframe: bool
    scene_cut: bool
    bits: dict          # bit-width -> number of blocks (residual frames)
    blocks: int
    skipped: int        # number of 0-bit blocks
    macs: int
    bops: int

    def as_dict(self):
        """The line resq-run --stats writes ("skipped" is a fraction)."""
        return {"keyframe": self.keyframe, "scene_cut": self.scene_cut,
                "bits": {str(b): n for b, n in sorted(self.bits.items())},
                "blocks": self.blocks, "skipped": self.skipped / self.blocks,
                "macs": self.macs, "bops": self.bops}


def keyframe_update(layer, state, x):
    """R <- X, A <- ACC(X)."""
    state.R = as_int(x).copy()
    state.A = layer.acc(x)


def block_bit_widths(q, config, pixel_ids, num_blocks):
    """Chosen bit-width of every block, from the unclamped rounded residual."""
    if not config.dynamic:
        return np.full(num_blocks, config.bits[0], dtype=np.int64)
    magnitude = np.abs(q)
    pixel_max = magnitude.max(axis=-1)  # over channels
    block_max = np.zeros(num_blocks, dtype=np.int64)
    np.maximum.at(block_max, pixel_ids.reshape(-1), pixel_max.reshape(-1))
    return np.array([choose_bit_width(m, config.bits) for m in block_max],
                    dtype=np.int64)


def clamped_elements(x, r_before, config):
    """bool, shape of x: where a residual frame clamped Q to its block's
    bit-width (the only places |X - R| may exceed s/2 afterwards)."""
    x = as_int(x)
    pixel_ids, num_blocks = block_ids(x.shape[:-1], config.block)
    q = quantize_residual(x - r_before, config.step)
    widths = block_bit_widths(q, config, pixel_ids, num_blocks)
    limit = np.vectorize(bit_range)(widths)[pixel_ids][..., None]
    return np.abs(q) > limit


CODE_RANGE = bit_range(8)


def residual_update(layer, state, x, config, widths, pixel_ids):
    """D = X - R; Q rounded and clamped per block width; R += s*Q;
    A += s*L(Q). The linear op takes byte codes: a 9-bit block runs in
    rounds, the first with Q clamped to 127, each next one quantizing what
    is left against the updated R, rounding half toward zero, while some
    pixel still needs more than 127 (with an odd step: the unclamped Q)."""
    step = config.step
    x = as_int(x)
    q = quantize_residual(x - state.R, step)
    limit = np.minimum(np.vectorize(bit_range)(widths)[pixel_ids][..., None],
                       CODE_RANGE)
    while True:
        clamped = np.abs(q) > limit
        q = np.clip(q, -limit, limit)
        state.R = state.R + step * q
        state.A = state.A + step * layer.linear(q)
        if max(config.bits) <= 8 or not clamped.any():
            return
        d = x - state.R
        q = np.sign(d) * ((np.abs(d) + (step - 1) // 2) // step)
        limit = CODE_RANGE


def resq_layer_frame(layer, state, x, config, keyframe):
    """Runs one frame of one residualized layer, updating `state`.

    keyframe: the frame is a keyframe at this layer (stream start, forced,
    interval, or an earlier layer's scene cut).
    Returns (A, stats); stats.keyframe tells whether this layer did a
    keyframe update (so the rest of the frame must as well).
    """
    x = as_int(x)
    pixel_shape = x.shape[:-1]
    pixel_ids, num_blocks = block_ids(pixel_shape, config.block)
    taps = layer.taps_per_input_pixel(x.shape)
    macs_per_tap = layer.macs_per_tap()
    scene_cut = False
    widths = None
    if not keyframe:
        q = quantize_residual(x - state.R, config.step)
        widths = block_bit_widths(q, config, pixel_ids, num_blocks)
        if config.dynamic and num_blocks >= config.scene_cut_min_blocks:
            widest = np.count_nonzero(widths == max(config.bits))
            scene_cut = widest / num_blocks > config.scene_cut
    if keyframe or scene_cut:
        keyframe_update(layer, state, x)
        macs = int(taps.sum()) * macs_per_tap
        stats = FrameStats(True, scene_cut, {8: num_blocks}, num_blocks, 0,
                           macs, macs * 8 * 8)
        return state.A, stats
    residual_update(layer, state, x, config, widths, pixel_ids)
    pixel_widths = widths[pixel_ids]
    executed = pixel_widths > 0
    macs = int(taps[executed].sum()) * macs_per_tap
    bops = int((taps * pixel_widths).sum()) * macs_per_tap * 8
    histogram = {int(b): int(n) for b, n in
                 zip(*np.unique(widths, return_counts=True))}
    stats = FrameStats(False, False, histogram, num_blocks,
                       int(np.count_nonzero(widths == 0)), macs, bops)
    return state.A, stats


@dataclass
class KeyframeSchedule:
    """When a stream's frame starts as a keyframe: the stream's first frame,
    a frame the caller forces, and, with an interval K > 0, the frame K
    frames (of this stream) after the last such keyframe."""
    interval: int = 0
    frames_seen: int = 0
    last_keyframe: int = None

    def begin_frame(self, forced=False):
        frame = self.frames_seen
        self.frames_seen += 1
        keyframe = (self.last_keyframe is None or forced or
                    (self.interval > 0 and
                     frame - self.last_keyframe >= self.interval))
        if keyframe:
            self.last_keyframe = frame
        return keyframe


@dataclass
class StreamState:
    """All per-layer state of one video stream."""
    layers: dict = field(default_factory=dict)  # layer name -> LayerState
    schedule: KeyframeSchedule = field(default_factory=KeyframeSchedule)


def run_single_layer(layer, frames, config, keyframe_at=(), keyframe_interval=0):
    """Runs a single residualized layer over frames [F] + input shape;
    keyframe_at: frames forced to be keyframes.

    Returns dict with R [F]+in, A [F]+acc (int64) and stats (FrameStats).
    """
    state = LayerState()
    schedule = KeyframeSchedule(keyframe_interval)
    rs, accs, stats = [], [], []
    for f, x in enumerate(frames):
        keyframe = schedule.begin_frame(forced=f in keyframe_at)
        acc, s = resq_layer_frame(layer, state, x, config, keyframe)
        rs.append(state.R.copy())
        accs.append(acc.copy())
        stats.append(s)
    return {"R": np.stack(rs), "A": np.stack(accs), "stats": stats}
