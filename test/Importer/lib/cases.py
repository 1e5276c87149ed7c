"""Small TFLite models, one per operator kind and variant, for the importer
tests. Each case builds a tflite_builder.Model with random (seeded) weights;
`inputs(model)` gives matching random inputs.

    python3 cases.py NAME OUT.tflite     # writes one case (lit RUN lines)
    python3 cases.py --list
"""

import sys

import numpy as np

from tflite_builder import (FLOAT16, FLOAT32, INT8, INT32, Model,
                            activation_options, concatenation_options,
                            conv2d_options, depthwise_options,
                            fully_connected_options, pool_options,
                            reducer_options, resize_bilinear_options,
                            transpose_conv_bias_custom_options,
                            transpose_conv_options)

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def rng(name):
    return np.random.RandomState(
        sum(ord(c) * (i + 1) for i, c in enumerate(name)) % (1 << 31))


def f32(r, *shape, scale=1.0):
    return (r.standard_normal(shape) * scale).astype(np.float32)


# --- float ------------------------------------------------------------------

def _conv(name, in_shape, out_ch, k, padding, stride, dilation=(1, 1),
          act="NONE", bias=True):
    r = rng(name)
    m = Model()
    x = m.tensor("input", in_shape)
    w = m.const("conv/weights", f32(r, out_ch, k[0], k[1], in_shape[3], scale=0.3))
    b = m.const("conv/bias", f32(r, out_ch)) if bias else -1
    h, wd = in_shape[1], in_shape[2]

    def osize(n, kk, s, d):
        eff = (kk - 1) * d + 1
        return (n + s - 1) // s if padding == "SAME" else (n - eff) // s + 1
    out = [in_shape[0], osize(h, k[0], stride[0], dilation[0]),
           osize(wd, k[1], stride[1], dilation[1]), out_ch]
    y = m.tensor("conv/output", out)
    m.op("CONV_2D", [x, w, b], [y], conv2d_options(padding, stride, act, dilation))
    m.inputs, m.outputs = [x], [y]
    return m


@case
def conv_same():
    return _conv("conv_same", [1, 9, 10, 3], 4, (3, 3), "SAME", (1, 1), act="RELU6")


@case
def conv_same_stride2():
    # 8 -> 4 with k 3: total padding 1, all of it at the bottom/right.
    return _conv("conv_same_stride2", [1, 8, 7, 2], 5, (3, 3), "SAME", (2, 2))


@case
def conv_valid_crop():
    # (10 - 3) % 2 == 1: the last row/column is unused and must be sliced off.
    return _conv("conv_valid_crop", [1, 10, 10, 3], 4, (3, 3), "VALID", (2, 2),
                 act="RELU")


@case
def conv_dilated_nobias():
    return _conv("conv_dilated_nobias", [1, 11, 9, 2], 3, (3, 2), "SAME", (1, 1),
                 dilation=(2, 3), bias=False, act="RELU_N1_TO_1")


@case
def conv_tanh():
    return _conv("conv_tanh", [1, 6, 6, 2], 2, (1, 1), "VALID", (1, 1), act="TANH")


@case
def depthwise():
    r = rng("depthwise")
    m = Model()
    x = m.tensor("input", [1, 9, 9, 3])
    w = m.const("dw/weights", f32(r, 1, 3, 3, 6, scale=0.5))  # multiplier 2
    b = m.const("dw/bias", f32(r, 6))
    y = m.tensor("dw/output", [1, 5, 5, 6])
    m.op("DEPTHWISE_CONV_2D", [x, w, b], [y],
         depthwise_options("SAME", (2, 2), 2, "RELU6"))
    m.inputs, m.outputs = [x], [y]
    return m


@case
def fully_connected():
    r = rng("fully_connected")
    m = Model()
    x = m.tensor("input", [2, 3, 4])
    w = m.const("fc/weights", f32(r, 5, 12, scale=0.3))
    b = m.const("fc/bias", f32(r, 5))
    y = m.tensor("fc/output", [2, 5])
    m.op("FULLY_CONNECTED", [x, w, b], [y], fully_connected_options("RELU"))
    m.inputs, m.outputs = [x], [y]
    return m


@case
def transpose_conv():
    r = rng("transpose_conv")
    m = Model()
    x = m.tensor("input", [1, 5, 4, 3])
    shape = m.const("tconv/shape", np.array([1, 10, 8, 2], np.int32))
    w = m.const("tconv/weights", f32(r, 2, 3, 3, 3, scale=0.4))
    b = m.const("tconv/bias", f32(r, 2))
    y = m.tensor("tconv/output", [1, 10, 8, 2])
    m.op("TRANSPOSE_CONV", [shape, w, x, b], [y],
         transpose_conv_options("SAME", (2, 2)))
    m.inputs, m.outputs = [x], [y]
    return m


@case
def transpose_conv_valid():
    r = rng("transpose_conv_valid")
    m = Model()
    x = m.tensor("input", [1, 4, 3, 2])
    shape = m.const("tconv/shape", np.array([1, 9, 7, 3], np.int32))
    w = m.const("tconv/weights", f32(r, 3, 3, 3, 2, scale=0.4))
    y = m.tensor("tconv/output", [1, 9, 7, 3])
    m.op("TRANSPOSE_CONV", [shape, w, x], [y],
         transpose_conv_options("VALID", (2, 2)))
    m.inputs, m.outputs = [x], [y]
    return m


@case
def transpose_conv_bias():
    """MediaPipe's custom op as in selfie_segmentation (k 2, stride 2); the
    odd width shows MediaPipe's output size rule: total padding
    max(0, k - (in - 1) % s - 1), out = s * (in - 1) + k - padding (5 -> 9)."""
    r = rng("transpose_conv_bias")
    m = Model()
    x = m.tensor("input", [1, 6, 5, 4])
    w = m.const("up/weights", f32(r, 3, 2, 2, 4, scale=0.4))
    b = m.const("up/bias", f32(r, 3))
    y = m.tensor("up/output", [1, 12, 9, 3])
    m.op("CUSTOM", [x, w, b], [y], custom_code="Convolution2DTransposeBias",
         custom_options=transpose_conv_bias_custom_options("SAME", (2, 2)))
    m.inputs, m.outputs = [x], [y]
    return m


@case
def transpose_conv_bias_k3():
    """k 3, stride 2, SAME: padding 2 (height) and 1 (width) in total."""
    r = rng("transpose_conv_bias_k3")
    m = Model()
    x = m.tensor("input", [1, 5, 4, 2])
    w = m.const("up/weights", f32(r, 3, 3, 3, 2, scale=0.4))
    b = m.const("up/bias", f32(r, 3))
    y = m.tensor("up/output", [1, 9, 8, 3])
    m.op("CUSTOM", [x, w, b], [y], custom_code="Convolution2DTransposeBias",
         custom_options=transpose_conv_bias_custom_options("SAME", (2, 2)))
    m.inputs, m.outputs = [x], [y]
    return m


def _pool(name, kind, in_shape, padding, stride, filt, act="NONE"):
    m = Model()
    x = m.tensor("input", in_shape)
    h, w = in_shape[1], in_shape[2]
    osz = lambda n, k, s: (n + s - 1) // s if padding == "SAME" else (n - k) // s + 1
    y = m.tensor("pool/output", [in_shape[0], osz(h, filt[0], stride[0]),
                                 osz(w, filt[1], stride[1]), in_shape[3]])
    m.op(kind, [x], [y], pool_options(padding, stride, filt, act))
    m.inputs, m.outputs = [x], [y]
    return m


@case
def avgpool_same():
    # SAME padding: the count excludes the padded cells.
    return _pool("avgpool_same", "AVERAGE_POOL_2D", [1, 7, 6, 3], "SAME", (2, 2), (3, 3))


@case
def avgpool_global():
    return _pool("avgpool_global", "AVERAGE_POOL_2D", [1, 8, 8, 5], "VALID", (8, 8), (8, 8))


@case
def maxpool():
    return _pool("maxpool", "MAX_POOL_2D", [1, 9, 8, 2], "SAME", (2, 2), (3, 3), "RELU")


def _binary(kind, a_shape, b_shape, out_shape, act="NONE", const_b=False):
    r = rng(kind + str(a_shape) + str(b_shape))
    m = Model()
    a = m.tensor("a", a_shape)
    b = m.const("b", f32(r, *b_shape)) if const_b else m.tensor("b", b_shape)
    y = m.tensor(kind.lower() + "/output", out_shape)
    m.op(kind, [a, b], [y], activation_options(kind, act))
    m.inputs, m.outputs = ([a] if const_b else [a, b]), [y]
    return m


@case
def add_broadcast():
    # rank 1 against rank 4: the importer reshapes to equal ranks.
    return _binary("ADD", [1, 4, 5, 3], [3], [1, 4, 5, 3], "RELU", const_b=True)


@case
def mul_broadcast():
    # squeeze-excite style: [1, H, W, C] * [1, 1, 1, C]
    return _binary("MUL", [1, 4, 5, 3], [1, 1, 1, 3], [1, 4, 5, 3])


@case
def sub():
    return _binary("SUB", [2, 3], [2, 3], [2, 3], "RELU6")


def _unary(kind, shape=(1, 4, 4, 3)):
    m = Model()
    x = m.tensor("input", list(shape))
    y = m.tensor(kind.lower() + "/output", list(shape))
    m.op(kind, [x], [y])
    m.inputs, m.outputs = [x], [y]
    return m


@case
def relu():
    return _unary("RELU")


@case
def relu6():
    return _unary("RELU6")


@case
def relu_n1_to_1():
    return _unary("RELU_N1_TO_1")


@case
def tanh():
    return _unary("TANH")


@case
def logistic():
    return _unary("LOGISTIC")


@case
def hard_swish():
    return _unary("HARD_SWISH")


@case
def pad():
    m = Model()
    x = m.tensor("input", [1, 4, 5, 2])
    p = m.const("pad/paddings", np.array([[0, 0], [1, 2], [3, 0], [0, 1]], np.int32))
    y = m.tensor("pad/output", [1, 7, 8, 3])
    m.op("PAD", [x, p], [y])
    m.inputs, m.outputs = [x], [y]
    return m


@case
def reshape():
    m = Model()
    x = m.tensor("input", [1, 4, 6])
    s = m.const("reshape/shape", np.array([3, 8], np.int32))
    y = m.tensor("reshape/output", [3, 8])
    m.op("RESHAPE", [x, s], [y])
    m.inputs, m.outputs = [x], [y]
    return m


def _resize(name, in_hw, out_hw, align=False, half=False):
    m = Model()
    x = m.tensor("input", [1, in_hw[0], in_hw[1], 2])
    s = m.const("resize/size", np.array(out_hw, np.int32))
    y = m.tensor("resize/output", [1, out_hw[0], out_hw[1], 2])
    m.op("RESIZE_BILINEAR", [x, s], [y], resize_bilinear_options(align, half))
    m.inputs, m.outputs = [x], [y]
    return m


@case
def resize_half_pixel():
    return _resize("resize_half_pixel", (4, 5), (8, 10), half=True)


@case
def resize_half_pixel_odd():
    return _resize("resize_half_pixel_odd", (5, 3), (7, 9), half=True)


@case
def resize_align_corners():
    return _resize("resize_align_corners", (4, 5), (7, 13), align=True)


@case
def resize_plain():
    return _resize("resize_plain", (4, 6), (10, 9))


@case
def resize_down():
    return _resize("resize_down", (9, 8), (4, 3), half=True)


@case
def concatenation():
    m = Model()
    a = m.tensor("a", [1, 3, 4, 2])
    b = m.tensor("b", [1, 3, 4, 5])
    y = m.tensor("concat/output", [1, 3, 4, 7])
    m.op("CONCATENATION", [a, b], [y], concatenation_options(-1, "RELU"))
    m.inputs, m.outputs = [a, b], [y]
    return m


@case
def mean():
    m = Model()
    x = m.tensor("input", [1, 5, 6, 3])
    axes = m.const("mean/axes", np.array([1, 2], np.int32))
    y = m.tensor("mean/output", [1, 3])
    m.op("MEAN", [x, axes], [y], reducer_options(False))
    m.inputs, m.outputs = [x], [y]
    return m


@case
def transpose():
    m = Model()
    x = m.tensor("input", [2, 3, 4])
    p = m.const("transpose/perm", np.array([2, 0, 1], np.int32))
    y = m.tensor("transpose/output", [4, 2, 3])
    m.op("TRANSPOSE", [x, p], [y])
    m.inputs, m.outputs = [x], [y]
    return m


@case
def dequantize_fp16_conv():
    """MediaPipe's float models: fp16 weights behind DEQUANTIZE."""
    r = rng("dequantize_fp16_conv")
    m = Model()
    x = m.tensor("input", [1, 6, 6, 2])
    w16 = m.const("conv/weights_fp16", f32(r, 3, 3, 3, 2, scale=0.3).astype(np.float16))
    b16 = m.const("conv/bias_fp16", f32(r, 3).astype(np.float16))
    w = m.tensor("conv/weights", [3, 3, 3, 2])
    b = m.tensor("conv/bias", [3])
    y = m.tensor("conv/output", [1, 6, 6, 3])
    m.op("DEQUANTIZE", [w16], [w])
    m.op("DEQUANTIZE", [b16], [b])
    m.op("CONV_2D", [x, w, b], [y], conv2d_options("SAME", (1, 1), "RELU"))
    m.inputs, m.outputs = [x], [y]
    return m


# --- int8 -------------------------------------------------------------------

def _qtensor(m, name, shape, scale, zp):
    return m.tensor(name, shape, INT8, quant=([scale], [zp]))


def _qweights(r, shape, axis):
    """int8 per-channel symmetric weights along `axis`."""
    w = r.standard_normal(shape) * 0.4
    reduce = tuple(i for i in range(len(shape)) if i != axis)
    scales = np.maximum(np.abs(w).max(axis=reduce), 1e-3) / 127.0
    bshape = [1] * len(shape)
    bshape[axis] = -1
    q = np.clip(np.round(w / scales.reshape(bshape)), -127, 127).astype(np.int8)
    return q, scales.astype(np.float32)


def _qconv_model(name, kind):
    r = rng(name)
    m = Model()
    in_scale, in_zp = 0.02, -5
    out_scale, out_zp = 0.05, 3
    if kind == "CONV_2D":
        x = _qtensor(m, "input", [1, 15, 15, 3], in_scale, in_zp)
        wq, ws = _qweights(r, (8, 3, 3, 3), 0)
        w = m.const("conv/weights", wq, quant=(ws.tolist(), [0] * 8, 0))
        out_ch, out_shape = 8, [1, 8, 8, 8]
        options = conv2d_options("SAME", (2, 2), "RELU6")
    elif kind == "DEPTHWISE_CONV_2D":
        x = _qtensor(m, "input", [1, 12, 12, 6], in_scale, in_zp)
        wq, ws = _qweights(r, (1, 3, 3, 6), 3)
        w = m.const("dw/weights", wq, quant=(ws.tolist(), [0] * 6, 3))
        out_ch, out_shape = 6, [1, 12, 12, 6]
        options = depthwise_options("SAME", (1, 1), 1, "RELU")
    else:
        x = _qtensor(m, "input", [4, 32], in_scale, in_zp)
        wq, ws = _qweights(r, (16, 32), 0)
        w = m.const("fc/weights", wq, quant=(ws.tolist(), [0] * 16, 0))
        out_ch, out_shape = 16, [4, 16]
        options = fully_connected_options("NONE")
    bias_scale = (in_scale * ws).astype(np.float64)
    bf = r.standard_normal(out_ch) * 0.2
    bq = np.round(bf / bias_scale).astype(np.int32)
    b = m.const("bias", bq, quant=(bias_scale.astype(np.float32).tolist(), [0] * out_ch, 0))
    y = _qtensor(m, "output", out_shape, out_scale, out_zp)
    m.op(kind, [x, w, b], [y], options)
    m.inputs, m.outputs = [x], [y]
    return m


@case
def int8_conv():
    return _qconv_model("int8_conv", "CONV_2D")


@case
def int8_depthwise():
    return _qconv_model("int8_depthwise", "DEPTHWISE_CONV_2D")


@case
def int8_fully_connected():
    return _qconv_model("int8_fully_connected", "FULLY_CONNECTED")


@case
def int8_add():
    m = Model()
    a = _qtensor(m, "a", [1, 16, 16, 8], 0.03, -2)
    b = _qtensor(m, "b", [1, 16, 16, 8], 0.05, 7)
    y = _qtensor(m, "add/output", [1, 16, 16, 8], 0.07, -1)
    m.op("ADD", [a, b], [y], activation_options("ADD", "RELU"))
    m.inputs, m.outputs = [a, b], [y]
    return m


@case
def int8_sub():
    m = Model()
    a = _qtensor(m, "a", [1, 16, 16, 8], 0.04, 3)
    b = _qtensor(m, "b", [1, 1, 1, 8], 0.02, -6)
    y = _qtensor(m, "sub/output", [1, 16, 16, 8], 0.05, -10)
    m.op("SUB", [a, b], [y], activation_options("SUB", "RELU6"))
    m.inputs, m.outputs = [a, b], [y]
    return m


@case
def int8_avgpool():
    m = Model()
    x = _qtensor(m, "input", [1, 9, 9, 4], 0.1, -4)
    y = _qtensor(m, "pool/output", [1, 5, 5, 4], 0.1, -4)
    m.op("AVERAGE_POOL_2D", [x], [y], pool_options("SAME", (2, 2), (3, 3)))
    m.inputs, m.outputs = [x], [y]
    return m


@case
def int8_pad_concat():
    """PAD fills with the zero point; CONCATENATION requantizes an input
    whose scale differs from the output's."""
    m = Model()
    a = _qtensor(m, "a", [1, 4, 4, 2], 0.05, 10)
    p = m.const("pad/paddings", np.array([[0, 0], [1, 1], [0, 2], [0, 0]], np.int32))
    ap = _qtensor(m, "pad/output", [1, 6, 6, 2], 0.05, 10)
    b = _qtensor(m, "b", [1, 6, 6, 3], 0.03, -20)
    y = _qtensor(m, "concat/output", [1, 6, 6, 5], 0.05, 10)
    m.op("PAD", [a, p], [ap])
    m.op("CONCATENATION", [ap, b], [y], concatenation_options(3))
    m.inputs, m.outputs = [a, b], [y]
    return m


@case
def int8_mul():
    m = Model()
    a = _qtensor(m, "a", [1, 4, 4, 3], 0.03, -2)
    b = _qtensor(m, "b", [1, 1, 1, 3], 0.05, 7)
    y = _qtensor(m, "mul/output", [1, 4, 4, 3], 0.02, 1)
    m.op("MUL", [a, b], [y], activation_options("MUL"))
    m.inputs, m.outputs = [a, b], [y]
    return m


@case
def int8_quantize_edges():
    """float -> QUANTIZE -> int8 conv -> DEQUANTIZE -> float."""
    m = _qconv_model("int8_quantize_edges", "CONV_2D")
    x_q, y_q = m.inputs[0], m.outputs[0]
    x = m.tensor("float_input", [1, 15, 15, 3])
    y = m.tensor("float_output", [1, 8, 8, 8])
    ops, m.operators = m.operators, []
    m.op("QUANTIZE", [x], [x_q])
    m.operators += ops
    m.op("DEQUANTIZE", [y_q], [y])
    m.inputs, m.outputs = [x], [y]
    return m


@case
def int8_requantize_relu():
    m = Model()
    x = _qtensor(m, "input", [1, 3, 3, 2], 0.04, 5)
    t = _qtensor(m, "requant", [1, 3, 3, 2], 0.02, -3)
    y = _qtensor(m, "relu/output", [1, 3, 3, 2], 0.02, -3)
    m.op("QUANTIZE", [x], [t])
    m.op("RELU", [t], [y])
    m.inputs, m.outputs = [x], [y]
    return m


@case
def int8_maxpool_reshape():
    m = Model()
    x = _qtensor(m, "input", [1, 6, 6, 2], 0.1, 0)
    p = _qtensor(m, "pool", [1, 3, 3, 2], 0.1, 0)
    s = m.const("shape", np.array([1, 18], np.int32))
    y = _qtensor(m, "flat", [1, 18], 0.1, 0)
    m.op("MAX_POOL_2D", [x], [p], pool_options("VALID", (2, 2), (2, 2)))
    m.op("RESHAPE", [p, s], [y])
    m.inputs, m.outputs = [x], [y]
    return m


# --- errors -----------------------------------------------------------------

@case
def unsupported_ops():
    m = Model()
    x = m.tensor("input", [1, 4])
    a = m.tensor("a", [1, 4])
    y = m.tensor("y", [1, 4])
    m.op("GELU", [x], [a])
    m.op("RELU", [a], [y])
    m.op("CUSTOM", [y], [y], custom_code="MyCustomOp")
    m.inputs, m.outputs = [x], [y]
    return m


@case
def bad_conv_shape():
    m = _conv("bad_conv_shape", [1, 8, 8, 3], 4, (3, 3), "SAME", (1, 1))
    m.tensors[m.outputs[0]]["shape"] = [1, 7, 8, 4]
    return m


@case
def bad_constant_size():
    m = _conv("bad_constant_size", [1, 4, 4, 2], 2, (1, 1), "SAME", (1, 1))
    m.buffers[1] = m.buffers[1][:-4]
    return m


@case
def bad_tensor_index():
    m = Model()
    x = m.tensor("input", [1, 4])
    y = m.tensor("y", [1, 4])
    m.op("RELU", [99], [y])
    m.inputs, m.outputs = [x], [y]
    return m


@case
def bad_resize_size_index():
    """Found by the fuzzer: an operand index past the tensor list."""
    m = _resize("bad_resize_size_index", (4, 5), (8, 10), half=True)
    m.operators[0]["inputs"][1] = 201326593
    return m


@case
def never_produced():
    m = Model()
    x = m.tensor("input", [1, 4])
    y = m.tensor("y", [1, 4])
    z = m.tensor("z", [1, 4])
    m.op("RELU", [x], [y])
    m.inputs, m.outputs = [x], [z]
    return m


@case
def dynamic_shape():
    m = _unary("RELU")
    m.tensors[0]["shape"] = [-1, 4, 4, 3]
    return m


def inputs(model, seed=1):
    """Random inputs matching the model's input tensors."""
    r = np.random.RandomState(seed)
    arrays = []
    for idx in model.inputs:
        t = model.tensors[idx]
        if t["type"] == INT8:
            arrays.append(r.randint(-128, 128, t["shape"]).astype(np.int8))
        else:
            arrays.append((r.standard_normal(t["shape"]) * 2).astype(np.float32))
    return arrays


if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        print("\n".join(CASES))
        sys.exit(0)
    name, path = sys.argv[1], sys.argv[2]
    with open(path, "wb") as f:
        f.write(CASES[name]().build())
