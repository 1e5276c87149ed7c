"""A numpy interpreter of TFLite models, written from the semantics of the
TFLite reference kernels (tensorflow/lite/kernels/internal/reference), to
check the importer's TOSA numerically without a TFLite runtime.

Float ops compute in float32 (convolutions accumulate in float64 and round
once, so they are at least as accurate as the reference). int8 ops follow
the integer kernels: int32 accumulators, QuantizeMultiplier and
MultiplyByQuantizedMultiplier with TFLite's rounding.

    model = tflite_reader.read(path)
    outputs = run(model, [input_array, ...])
"""

import math

import numpy as np

import tflite_reader

ACT_NONE, ACT_RELU, ACT_RELU_N1_TO_1, ACT_RELU6, ACT_TANH = range(5)


class Unsupported(Exception):
    pass


# --- float helpers ------------------------------------------------------------

def out_size(padding, size, k, stride, dilation=1):
    eff = (k - 1) * dilation + 1
    if padding == 0:  # SAME
        return (size + stride - 1) // stride
    return (size + stride - eff) // stride


def pad_before(padding, size, k, stride, dilation, out):
    """TFLite's ComputePaddingWithOffset: total // 2 (VALID: 0)."""
    if padding != 0:
        return 0
    eff = (k - 1) * dilation + 1
    return max((out - 1) * stride + eff - size, 0) // 2


def activation(x, act):
    if act == ACT_NONE:
        return x
    if act == ACT_RELU:
        return np.maximum(x, 0)
    if act == ACT_RELU6:
        return np.clip(x, 0, 6)
    if act == ACT_RELU_N1_TO_1:
        return np.clip(x, -1, 1)
    if act == ACT_TANH:
        return np.tanh(x)
    raise Unsupported("activation %d" % act)


def windows(x, kh, kw, stride, dilation, pads, out_hw, fill=0.0):
    """Yields (ky, kx, view [N, OH, OW, C]) of the padded input."""
    n, h, w, c = x.shape
    oh, ow = out_hw
    need_h = (kh - 1) * dilation[0] + (oh - 1) * stride[0] + 1
    need_w = (kw - 1) * dilation[1] + (ow - 1) * stride[1] + 1
    top, left = pads
    bottom = max(need_h - top - h, 0)
    right = max(need_w - left - w, 0)
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)),
                constant_values=fill)
    for ky in range(kh):
        for kx in range(kw):
            y0, x0 = ky * dilation[0], kx * dilation[1]
            yield ky, kx, xp[:, y0:y0 + (oh - 1) * stride[0] + 1:stride[0],
                             x0:x0 + (ow - 1) * stride[1] + 1:stride[1], :]


def conv_geometry(op, x, kh, kw, depthwise=False):
    shift = 1 if depthwise else 0
    padding = op.opt(0, "b")
    stride = (op.opt(2, "i"), op.opt(1, "i"))
    dilation = (op.opt(5 + shift, "i", 1), op.opt(4 + shift, "i", 1))
    act = op.opt(3 + shift, "b")
    h, w = x.shape[1], x.shape[2]
    oh = out_size(padding, h, kh, stride[0], dilation[0])
    ow = out_size(padding, w, kw, stride[1], dilation[1])
    pads = (pad_before(padding, h, kh, stride[0], dilation[0], oh),
            pad_before(padding, w, kw, stride[1], dilation[1], ow))
    return stride, dilation, pads, (oh, ow), act


def conv2d_acc(x, w, stride, dilation, pads, out_hw, fill=0.0):
    """sum over the window of x * w, w [O, KH, KW, C]; float64 or int64."""
    acc = None
    for ky, kx, v in windows(x, w.shape[1], w.shape[2], stride, dilation, pads,
                             out_hw, fill):
        t = np.tensordot(v, w[:, ky, kx, :], axes=([3], [1]))
        acc = t if acc is None else acc + t
    return acc


def depthwise_acc(x, w, stride, dilation, pads, out_hw, fill=0.0):
    """w [1, KH, KW, C*M]; output channel c*M + m reads input channel c."""
    m = w.shape[3] // x.shape[3]
    xr = np.repeat(x, m, axis=3)
    acc = None
    for ky, kx, v in windows(xr, w.shape[1], w.shape[2], stride, dilation,
                             pads, out_hw, fill):
        t = v * w[0, ky, kx, :]
        acc = t if acc is None else acc + t
    return acc


def transpose_conv(x, w, bias, stride, pad_top, pad_left, out_hw):
    """The reference TransposeConv: every input pixel scatters x @ w into
    out[iy * s - pad + ky, ix * s - pad + kx] (out-of-range dropped)."""
    n, h, wd, c = x.shape
    oc, kh, kw, _ = w.shape
    oh, ow = out_hw
    canvas_h = max((h - 1) * stride[0] + kh, pad_top + oh)
    canvas_w = max((wd - 1) * stride[1] + kw, pad_left + ow)
    canvas = np.zeros((n, canvas_h, canvas_w, oc), np.float64)
    xd = x.astype(np.float64)
    for ky in range(kh):
        for kx in range(kw):
            t = np.tensordot(xd, w[:, ky, kx, :].astype(np.float64),
                             axes=([3], [1]))
            canvas[:, ky:ky + (h - 1) * stride[0] + 1:stride[0],
                   kx:kx + (wd - 1) * stride[1] + 1:stride[1], :] += t
    out = canvas[:, pad_top:pad_top + oh, pad_left:pad_left + ow, :]
    if bias is not None:
        out = out + bias
    return out.astype(np.float32)


def resize_bilinear(x, oh, ow, align_corners, half_pixel):
    """The reference ResizeBilinear, in float32 like the kernel."""
    n, ih, iw, c = x.shape

    def axis(insize, outsize):
        if align_corners and outsize > 1:
            scale = np.float32(insize - 1) / np.float32(outsize - 1)
        else:
            scale = np.float32(insize) / np.float32(outsize)
        o = np.arange(outsize, dtype=np.float32)
        if half_pixel:
            v = (o + np.float32(0.5)) * scale - np.float32(0.5)
        else:
            v = o * scale
        v = v.astype(np.float32)
        lo = np.maximum(np.floor(v).astype(np.int64), 0)
        hi = np.minimum(np.ceil(v).astype(np.int64), insize - 1)
        return v, lo, hi

    vy, y0, y1 = axis(ih, oh)
    vx, x0, x1 = axis(iw, ow)
    dy = (vy - y0.astype(np.float32))[None, :, None, None]
    dx = (vx - x0.astype(np.float32))[None, None, :, None]
    one = np.float32(1)
    a = x[:, y0][:, :, x0]
    b = x[:, y1][:, :, x0]
    cc = x[:, y0][:, :, x1]
    d = x[:, y1][:, :, x1]
    return (a * (one - dy) * (one - dx) + b * dy * (one - dx) +
            cc * (one - dy) * dx + d * dy * dx).astype(np.float32)


def pool(x, op, average, fill):
    padding = op.opt(0, "b")
    stride = (op.opt(2, "i"), op.opt(1, "i"))
    kh, kw = op.opt(4, "i"), op.opt(3, "i")
    h, w = x.shape[1], x.shape[2]
    oh, ow = out_size(padding, h, kh, stride[0]), out_size(padding, w, kw, stride[1])
    pads = (pad_before(padding, h, kh, stride[0], 1, oh),
            pad_before(padding, w, kw, stride[1], 1, ow))
    if average:
        total = count = 0
        ones = np.ones_like(x, dtype=np.float64)
        for (_, _, v), (_, _, m) in zip(
                windows(x.astype(np.float64), kh, kw, stride, (1, 1), pads, (oh, ow)),
                windows(ones, kh, kw, stride, (1, 1), pads, (oh, ow))):
            total = total + v
            count = count + m
        return total, count, op.opt(5, "b")
    result = None
    for _, _, v in windows(x, kh, kw, stride, (1, 1), pads, (oh, ow), fill):
        result = v if result is None else np.maximum(result, v)
    return result, None, op.opt(5, "b")


# --- int8 helpers (TFLite fixed point) ------------------------------------

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def quantize_multiplier(m):
    if m == 0:
        return 0, 0
    q, shift = math.frexp(m)
    q_fixed = int(math.floor(abs(q) * (1 << 31) + 0.5)) * (1 if q >= 0 else -1)
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return q_fixed, shift


def srdhm(a, b):
    """SaturatingRoundingDoublingHighMul on int64 arrays holding int32."""
    a = np.asarray(a, np.int64)
    ab = a * np.int64(b)
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    t = ab + nudge
    # C++ division truncates toward zero.
    res = np.where(t >= 0, t // (1 << 31), -((-t) // (1 << 31)))
    sat = (a == INT32_MIN) & (b == INT32_MIN)
    return np.where(sat, INT32_MAX, res).astype(np.int64)


def rdbpot(x, exponent):
    x = np.asarray(x, np.int64)
    if exponent == 0:
        return x
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def mbqm(x, multiplier, shift):
    """MultiplyByQuantizedMultiplier (int32 x, per-tensor multiplier)."""
    left, right = max(shift, 0), max(-shift, 0)
    return rdbpot(srdhm(np.asarray(x, np.int64) * (1 << left), multiplier), right)


def mbqm_per_channel(x, multipliers, shifts):
    out = np.empty_like(np.asarray(x, np.int64))
    for c, (m, s) in enumerate(zip(multipliers, shifts)):
        out[..., c] = mbqm(x[..., c], m, s)
    return out


def quant_activation_range(act, scale, zp):
    q = lambda v: zp + int(round_away(v / scale))
    lo, hi = -128, 127
    if act == ACT_RELU:
        lo = max(lo, q(0.0))
    elif act == ACT_RELU6:
        lo, hi = max(lo, q(0.0)), min(hi, q(6.0))
    elif act == ACT_RELU_N1_TO_1:
        lo, hi = max(lo, q(-1.0)), min(hi, q(1.0))
    elif act != ACT_NONE:
        raise Unsupported("int8 activation %d" % act)
    return lo, hi


def round_away(v):
    return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)


# --- interpreter --------------------------------------------------------------

def run(model, inputs):
    values = {}
    for idx, arr in zip(model.inputs, inputs):
        values[idx] = np.asarray(arr)

    def get(idx):
        if idx in values:
            return values[idx]
        t = model.tensors[idx]
        if t.data is None:
            raise Unsupported("tensor %s has no value" % t.name)
        return t.data

    for op in model.operators:
        ins = [get(i) if i >= 0 else None for i in op.inputs]
        tin = [model.tensors[i] if i >= 0 else None for i in op.inputs]
        tout = model.tensors[op.outputs[0]]
        values[op.outputs[0]] = _eval(op, ins, tin, tout)
    return [values[i] if i in values else model.tensors[i].data
            for i in model.outputs]


def _scale_zp(t):
    return float(t.scale[0]), int(t.zero_point[0])


def _eval(op, ins, tin, tout):
    name = op.name
    x = ins[0]
    quantized = tin[0] is not None and tin[0].type == 9 and name not in (
        "DEQUANTIZE",)
    if name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        return _conv_like(op, ins, tin, tout, quantized)
    if name in ("TRANSPOSE_CONV", "CUSTOM"):
        if name == "CUSTOM":
            if op.opcode[1] != "Convolution2DTransposeBias":
                raise Unsupported(op.opcode[1])
            x, w, bias = ins
            import struct
            padding, sw, sh = struct.unpack_from("<iii", op.custom_options, 0)
            kh, kw = w.shape[1], w.shape[2]
            h, wd = x.shape[1], x.shape[2]
            th = max(0, kh - (h - 1) % sh - 1) if padding == 1 else 0
            tw = max(0, kw - (wd - 1) % sw - 1) if padding == 1 else 0
            oh, ow = sh * (h - 1) + kh - th, sw * (wd - 1) + kw - tw
            return transpose_conv(x, w, bias, (sh, sw), th // 2, tw // 2, (oh, ow))
        shape, w, x = ins[0], ins[1], ins[2]
        bias = ins[3] if len(ins) > 3 else None
        padding = op.opt(0, "b")
        stride = (op.opt(2, "i"), op.opt(1, "i"))
        oh, ow = int(shape[1]), int(shape[2])
        kh, kw = w.shape[1], w.shape[2]
        pt = pad_before(padding, oh, kh, stride[0], 1, out_size(padding, oh, kh, stride[0]))
        pl = pad_before(padding, ow, kw, stride[1], 1, out_size(padding, ow, kw, stride[1]))
        return activation(transpose_conv(x, w, bias, stride, pt, pl, (oh, ow)),
                          op.opt(3, "b"))
    if name in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        average = name == "AVERAGE_POOL_2D"
        if quantized:
            s, zp = _scale_zp(tout)
            if average:
                total, count, act = pool(x.astype(np.int64), op, True, 0)
                total = total.astype(np.int64)
                count = count.astype(np.int64)
                avg = np.where(total > 0, (total + count // 2) // count,
                               -((-total + count // 2) // count))
            else:
                avg, _, act = pool(x, op, False, -128)
            lo, hi = quant_activation_range(act, s, zp)
            return np.clip(avg, lo, hi).astype(np.int8)
        if average:
            total, count, act = pool(x, op, True, 0.0)
            return activation((total / count).astype(np.float32), act)
        result, _, act = pool(x, op, False, -np.inf)
        return activation(result, act)
    if name in ("ADD", "SUB", "MUL"):
        y = ins[1]
        act = op.opt(0, "b")
        if quantized:
            return _binary_int8(name, x, y, tin, tout, act)
        r = {"ADD": np.add, "SUB": np.subtract, "MUL": np.multiply}[name](x, y)
        return activation(r.astype(np.float32), act)
    if name in ("RELU", "RELU6", "RELU_N1_TO_1"):
        act = {"RELU": ACT_RELU, "RELU6": ACT_RELU6, "RELU_N1_TO_1": ACT_RELU_N1_TO_1}[name]
        if quantized:
            si, zi = _scale_zp(tin[0])
            so, zo = _scale_zp(tout)
            m, sh = quantize_multiplier(si / so)
            v = mbqm(x.astype(np.int64) - zi, m, sh) + zo
            lo, hi = quant_activation_range(act, so, zo)
            return np.clip(v, lo, hi).astype(np.int8)
        return activation(x, act)
    if name == "TANH":
        return np.tanh(x).astype(np.float32)
    if name == "LOGISTIC":
        with np.errstate(over="ignore"):
            return (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(np.float32)
    if name == "HARD_SWISH":
        return (x * np.minimum(np.float32(6), np.maximum(np.float32(0), x + np.float32(3)))
                / np.float32(6)).astype(np.float32)
    if name in ("PAD", "PADV2"):
        pads = [tuple(int(v) for v in p) for p in ins[1]]
        value = 0
        if quantized:
            value = _scale_zp(tout)[1]
        if name == "PADV2" and len(ins) > 2 and ins[2] is not None:
            value = ins[2].reshape(-1)[0]
        return np.pad(x, pads, constant_values=value)
    if name in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS"):
        return x.reshape(tout.shape)
    if name == "RESIZE_BILINEAR":
        return resize_bilinear(x, tout.shape[1], tout.shape[2],
                               bool(op.opt(2, "?")), bool(op.opt(3, "?")))
    if name == "CONCATENATION":
        axis = op.opt(0, "i")
        if quantized:
            so, zo = _scale_zp(tout)
            parts = []
            for v, t in zip(ins, tin):
                si, zi = _scale_zp(t)
                if (si, zi) == (so, zo):
                    parts.append(v.astype(np.int64))
                else:
                    scale = np.float32(si) * np.float32(1.0 / so)
                    bias = -np.float32(zi) * scale
                    f = v.astype(np.float32) * scale + bias
                    parts.append(np.vectorize(round_away)(f).astype(np.int64) + zo)
            return np.clip(np.concatenate(parts, axis), -128, 127).astype(np.int8)
        return activation(np.concatenate(ins, axis), op.opt(1, "b"))
    if name == "MEAN":
        axes = tuple(int(a) % x.ndim for a in np.asarray(ins[1]).reshape(-1))
        return np.mean(x.astype(np.float64), axis=axes,
                       keepdims=bool(op.opt(0, "?"))).astype(np.float32).reshape(tout.shape)
    if name == "TRANSPOSE":
        return np.transpose(x, [int(p) for p in ins[1]])
    if name == "DEQUANTIZE":
        if tin[0].type == 1:
            return x.astype(np.float32)
        t = tin[0]
        scale = t.scale.astype(np.float32)
        zp = t.zero_point
        if len(scale) > 1:
            shape = [1] * x.ndim
            shape[t.quant_dim] = -1
            scale = scale.reshape(shape)
            zp = zp.reshape(shape) if len(zp) > 1 else zp[0]
        else:
            scale, zp = scale[0], zp[0]
        return ((x.astype(np.int64) - zp).astype(np.float32) * scale).astype(np.float32)
    if name == "QUANTIZE":
        so, zo = _scale_zp(tout)
        if tin[0].type == 9:
            si, zi = _scale_zp(tin[0])
            m, sh = quantize_multiplier(si / so)
            return np.clip(mbqm(x.astype(np.int64) - zi, m, sh) + zo, -128, 127).astype(np.int8)
        v = x.astype(np.float32) / np.float32(so)
        r = np.where(v >= 0, np.floor(v + 0.5), -np.floor(-v + 0.5))
        return np.clip(r + zo, -128, 127).astype(np.int8)
    raise Unsupported(name)


def _conv_like(op, ins, tin, tout, quantized):
    x, w = ins[0], ins[1]
    bias = ins[2] if len(ins) > 2 else None
    name = op.name
    fc = name == "FULLY_CONNECTED"
    if fc:
        act = op.opt(0, "b")
        depth = w.shape[1]
        x4 = x.reshape(-1, 1, 1, depth)
        w4 = w.reshape(w.shape[0], 1, 1, depth)
        geometry = ((1, 1), (1, 1), (0, 0), (1, 1))
        out_shape = tout.shape
    else:
        x4, w4 = x, w
        stride, dilation, pads, out_hw, act = conv_geometry(
            op, x, w.shape[1], w.shape[2], name == "DEPTHWISE_CONV_2D")
        geometry = (stride, dilation, pads, out_hw)
        out_shape = None
    acc_fn = depthwise_acc if name == "DEPTHWISE_CONV_2D" else conv2d_acc
    if not quantized:
        acc = acc_fn(x4.astype(np.float64), w4.astype(np.float64), *geometry)
        if bias is not None:
            acc = acc + bias.astype(np.float64)
        r = activation(acc.astype(np.float32), act)
        return r.reshape(out_shape) if out_shape is not None else r
    si, zi = _scale_zp(tin[0])
    so, zo = _scale_zp(tout)
    wscale = tin[1].scale.astype(np.float64)
    acc = acc_fn(x4.astype(np.int64) - zi, w4.astype(np.int64), *geometry,
                 fill=0)
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    channels = acc.shape[-1]
    mults, shifts = [], []
    for c in range(channels):
        ws = wscale[c] if len(wscale) > 1 else wscale[0]
        m, s = quantize_multiplier(float(np.float64(si) * ws / np.float64(so)))
        mults.append(m)
        shifts.append(s)
    v = mbqm_per_channel(acc, mults, shifts) + zo
    lo, hi = quant_activation_range(act, so, zo)
    r = np.clip(v, lo, hi).astype(np.int8)
    return r.reshape(out_shape) if out_shape is not None else r


def _binary_int8(name, x, y, tin, tout, act):
    s1, z1 = _scale_zp(tin[0])
    s2, z2 = _scale_zp(tin[1])
    so, zo = _scale_zp(tout)
    a = x.astype(np.int64) - z1
    b = y.astype(np.int64) - z2
    if name == "MUL":
        m, s = quantize_multiplier(s1 * s2 / so)
        v = mbqm(a * b, m, s) + zo
    else:
        left_shift = 20
        twice_max = 2 * max(s1, s2)
        m1, e1 = quantize_multiplier(s1 / twice_max)
        m2, e2 = quantize_multiplier(s2 / twice_max)
        mo, eo = quantize_multiplier(twice_max / ((1 << left_shift) * so))
        sa = rdbpot(srdhm(a * (1 << left_shift), m1), -e1)
        sb = rdbpot(srdhm(b * (1 << left_shift), m2), -e2)
        raw = sa + sb if name == "ADD" else sa - sb
        v = rdbpot(srdhm(raw, mo), -eo) + zo
    lo, hi = quant_activation_range(act, so, zo)
    return np.clip(v, lo, hi).astype(np.int8)
