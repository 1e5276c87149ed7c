"""Builds small TFLite FlatBuffers for the importer tests (no flatbuffers
package needed).

The FlatBuffer is laid out front to back: a table's vtable right before it,
its children (tables, vectors, strings) after it, so every uoffset points
forward as the format requires. Field ids follow tensorflow/lite/schema/
schema.fbs (schema version 3).

    m = Model()
    x = m.tensor("x", [1, 8, 8, 3])
    w = m.const("w", np.ones((4, 3, 3, 3), np.float32))
    y = m.tensor("y", [1, 8, 8, 4])
    m.op("CONV_2D", [x, w, -1], [y], conv2d_options(padding="SAME"))
    m.inputs, m.outputs = [x], [y]
    open("model.tflite", "wb").write(m.build())
"""

import struct

import numpy as np

# enum TensorType
FLOAT32, FLOAT16, INT32, UINT8, INT64, STRING, BOOL, INT16, COMPLEX64, INT8 = range(10)

NUMPY_TYPES = {
    np.dtype(np.float32): FLOAT32,
    np.dtype(np.float16): FLOAT16,
    np.dtype(np.int32): INT32,
    np.dtype(np.uint8): UINT8,
    np.dtype(np.int64): INT64,
    np.dtype(np.bool_): BOOL,
    np.dtype(np.int16): INT16,
    np.dtype(np.int8): INT8,
}

# enum BuiltinOperator (the ones the tests use)
BUILTIN = {
    "ADD": 0, "AVERAGE_POOL_2D": 1, "CONCATENATION": 2, "CONV_2D": 3,
    "DEPTHWISE_CONV_2D": 4, "DEQUANTIZE": 6, "FULLY_CONNECTED": 9,
    "LOGISTIC": 14, "MAX_POOL_2D": 17, "MUL": 18, "RELU": 19,
    "RELU_N1_TO_1": 20, "RELU6": 21, "RESHAPE": 22, "RESIZE_BILINEAR": 23,
    "SOFTMAX": 25, "TANH": 28, "CUSTOM": 32, "PAD": 34, "TRANSPOSE": 39,
    "MEAN": 40, "SUB": 41, "SQUEEZE": 43, "SPLIT": 49, "PADV2": 60,
    "TRANSPOSE_CONV": 67, "EXPAND_DIMS": 70, "QUANTIZE": 114,
    "HARD_SWISH": 117, "GELU": 150,
}

# union BuiltinOptions type tags
CONV2D_OPTIONS = 1
DEPTHWISE_OPTIONS = 2
POOL2D_OPTIONS = 5
FULLY_CONNECTED_OPTIONS = 8
CONCATENATION_OPTIONS = 10
ADD_OPTIONS = 11
RESIZE_BILINEAR_OPTIONS = 15
RESHAPE_OPTIONS = 17
MUL_OPTIONS = 21
PAD_OPTIONS = 22
TRANSPOSE_OPTIONS = 26
REDUCER_OPTIONS = 27
SUB_OPTIONS = 28
TRANSPOSE_CONV_OPTIONS = 49

PADDING = {"SAME": 0, "VALID": 1}
ACTIVATION = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3, "TANH": 4,
              "SIGN_BIT": 5}


# --- FlatBuffer objects -----------------------------------------------------

class Table:
    """fields: list of (field id, struct format or 'off', value)."""

    def __init__(self, fields):
        self.fields = [f for f in fields if f[2] is not None]


class Vector:
    """A vector of scalars (fmt a struct code) or of objects (fmt 'off')."""

    def __init__(self, fmt, values, align=None):
        self.fmt = fmt
        self.values = list(values)
        self.align = align


class String:
    def __init__(self, text):
        self.data = text.encode() if isinstance(text, str) else bytes(text)


class Bytes:
    """A [ubyte] vector with forced alignment (buffer data)."""

    def __init__(self, data, align=16):
        self.data = bytes(data)
        self.align = align


class Builder:
    def __init__(self):
        self.buf = bytearray()

    def _align(self, n, offset=0):
        """Pads so that (len + offset) is a multiple of n."""
        while (len(self.buf) + offset) % n:
            self.buf.append(0)

    def _patch_uoffset(self, at, target):
        struct.pack_into("<I", self.buf, at, target - at)

    def place(self, obj):
        if isinstance(obj, Table):
            return self._table(obj)
        if isinstance(obj, Vector):
            return self._vector(obj)
        if isinstance(obj, String):
            self._align(4)
            pos = len(self.buf)
            self.buf += struct.pack("<I", len(obj.data)) + obj.data + b"\0"
            return pos
        if isinstance(obj, Bytes):
            self._align(obj.align, 4)
            pos = len(self.buf)
            self.buf += struct.pack("<I", len(obj.data)) + obj.data
            return pos
        raise TypeError(obj)

    def _table(self, t):
        num_fields = max([f[0] for f in t.fields], default=-1) + 1
        # Inline layout: biggest fields first, each aligned to its size.
        items = []
        for fid, fmt, value in t.fields:
            size = 4 if fmt == "off" else struct.calcsize("<" + fmt)
            items.append((size, fid, fmt, value))
        items.sort(key=lambda i: -i[0])
        max_align = max([4] + [i[0] for i in items])
        vt_size = 4 + 2 * num_fields
        self._align(2)
        vt_pos = len(self.buf)
        self.buf += bytes(vt_size)
        self._align(max_align)
        pos = len(self.buf)
        self.buf += struct.pack("<i", pos - vt_pos)
        field_pos = {}
        children = []
        for size, fid, fmt, value in items:
            self._align(size)
            field_pos[fid] = len(self.buf)
            if fmt == "off":
                self.buf += bytes(4)
                children.append((len(self.buf) - 4, value))
            else:
                self.buf += struct.pack("<" + fmt, value)
        table_size = len(self.buf) - pos
        struct.pack_into("<HH", self.buf, vt_pos, vt_size, table_size)
        for fid, at in field_pos.items():
            struct.pack_into("<H", self.buf, vt_pos + 4 + 2 * fid, at - pos)
        for at, child in children:
            self._patch_uoffset(at, self.place(child))
        return pos

    def _vector(self, v):
        if v.fmt == "off":
            self._align(4)
            pos = len(self.buf)
            self.buf += struct.pack("<I", len(v.values)) + bytes(4 * len(v.values))
            for i, child in enumerate(v.values):
                self._patch_uoffset(pos + 4 + 4 * i, self.place(child))
            return pos
        size = struct.calcsize("<" + v.fmt)
        self._align(max(size, v.align or 0, 4), 4)
        pos = len(self.buf)
        self.buf += struct.pack("<I", len(v.values))
        for value in v.values:
            self.buf += struct.pack("<" + v.fmt, value)
        return pos

    def finish(self, root, identifier=b"TFL3"):
        self.buf = bytearray(8)
        self.buf[4:8] = identifier
        self._patch_uoffset(0, self.place(root))
        return bytes(self.buf)


# --- options ----------------------------------------------------------------

def _act(a):
    return ACTIVATION[a] if isinstance(a, str) else a


def _pad(p):
    return PADDING[p] if isinstance(p, str) else p


def conv2d_options(padding="SAME", stride=(1, 1), act="NONE", dilation=(1, 1)):
    """stride and dilation as (h, w)."""
    return (CONV2D_OPTIONS, [(0, "b", _pad(padding)), (1, "i", stride[1]),
                             (2, "i", stride[0]), (3, "b", _act(act)),
                             (4, "i", dilation[1]), (5, "i", dilation[0])])


def depthwise_options(padding="SAME", stride=(1, 1), multiplier=1, act="NONE",
                      dilation=(1, 1)):
    return (DEPTHWISE_OPTIONS, [(0, "b", _pad(padding)), (1, "i", stride[1]),
                                (2, "i", stride[0]), (3, "i", multiplier),
                                (4, "b", _act(act)), (5, "i", dilation[1]),
                                (6, "i", dilation[0])])


def pool_options(padding="VALID", stride=(2, 2), filter=(2, 2), act="NONE"):
    return (POOL2D_OPTIONS, [(0, "b", _pad(padding)), (1, "i", stride[1]),
                             (2, "i", stride[0]), (3, "i", filter[1]),
                             (4, "i", filter[0]), (5, "b", _act(act))])


def fully_connected_options(act="NONE", keep_num_dims=False):
    return (FULLY_CONNECTED_OPTIONS, [(0, "b", _act(act)), (1, "b", 0),
                                      (2, "?", keep_num_dims)])


def concatenation_options(axis, act="NONE"):
    return (CONCATENATION_OPTIONS, [(0, "i", axis), (1, "b", _act(act))])


def activation_options(kind, act="NONE"):
    tag = {"ADD": ADD_OPTIONS, "MUL": MUL_OPTIONS, "SUB": SUB_OPTIONS}[kind]
    return (tag, [(0, "b", _act(act))])


def resize_bilinear_options(align_corners=False, half_pixel_centers=False):
    return (RESIZE_BILINEAR_OPTIONS, [(2, "?", align_corners),
                                      (3, "?", half_pixel_centers)])


def reducer_options(keep_dims=False):
    return (REDUCER_OPTIONS, [(0, "?", keep_dims)])


def transpose_conv_options(padding="SAME", stride=(2, 2), act="NONE"):
    return (TRANSPOSE_CONV_OPTIONS, [(0, "b", _pad(padding)),
                                     (1, "i", stride[1]), (2, "i", stride[0]),
                                     (3, "b", _act(act))])


def transpose_conv_bias_custom_options(padding="SAME", stride=(2, 2)):
    """MediaPipe's Convolution2DTransposeBias: TfLiteTransposeConvParams
    {TfLitePadding padding (1 SAME, 2 VALID); int stride_width, stride_height}."""
    return struct.pack("<iii", {"SAME": 1, "VALID": 2}[padding], stride[1],
                       stride[0])


# --- model ------------------------------------------------------------------

class Model:
    def __init__(self):
        self.tensors = []   # dicts
        self.buffers = [b""]  # buffer 0: the empty sentinel
        self.opcodes = []   # (builtin, custom)
        self.operators = []
        self.inputs = []
        self.outputs = []

    def tensor(self, name, shape, type=FLOAT32, quant=None, buffer=0):
        """quant: (scales, zero_points[, dimension]) or None."""
        self.tensors.append(dict(name=name, shape=list(shape), type=type,
                                 quant=quant, buffer=buffer))
        return len(self.tensors) - 1

    def const(self, name, array, quant=None, type=None):
        array = np.ascontiguousarray(array)
        self.buffers.append(array.tobytes())
        t = NUMPY_TYPES[array.dtype] if type is None else type
        return self.tensor(name, array.shape, t, quant, len(self.buffers) - 1)

    def op(self, name, inputs, outputs, options=None, custom_code=None,
           custom_options=None):
        key = (BUILTIN[name] if isinstance(name, str) else name, custom_code)
        if key not in self.opcodes:
            self.opcodes.append(key)
        self.operators.append(dict(opcode=self.opcodes.index(key),
                                   inputs=list(inputs), outputs=list(outputs),
                                   options=options,
                                   custom_options=custom_options))

    def _tensor_table(self, t):
        quant = None
        if t["quant"] is not None:
            scales, zps = t["quant"][0], t["quant"][1]
            dim = t["quant"][2] if len(t["quant"]) > 2 else 0
            quant = Table([(2, "off", Vector("f", scales)),
                           (3, "off", Vector("q", zps)),
                           (6, "i", dim)])
        return Table([(0, "off", Vector("i", t["shape"])), (1, "b", t["type"]),
                      (2, "I", t["buffer"]), (3, "off", String(t["name"])),
                      (4, "off", quant)])

    def _operator_table(self, o):
        fields = [(0, "I", o["opcode"]), (1, "off", Vector("i", o["inputs"])),
                  (2, "off", Vector("i", o["outputs"]))]
        if o["options"] is not None:
            tag, opt_fields = o["options"]
            fields += [(3, "B", tag), (4, "off", Table(opt_fields))]
        if o["custom_options"] is not None:
            fields += [(5, "off", Bytes(o["custom_options"], 4))]
        return Table(fields)

    def build(self, identifier=b"TFL3"):
        codes = []
        for builtin, custom in self.opcodes:
            codes.append(Table([(0, "b", min(builtin, 127)),
                                (1, "off", String(custom) if custom else None),
                                (2, "i", 1), (3, "i", builtin)]))
        subgraph = Table([
            (0, "off", Vector("off", [self._tensor_table(t) for t in self.tensors])),
            (1, "off", Vector("i", self.inputs)),
            (2, "off", Vector("i", self.outputs)),
            (3, "off", Vector("off", [self._operator_table(o) for o in self.operators])),
            (4, "off", String("main")),
        ])
        buffers = [Table([(0, "off", Bytes(b) if b else None)]) for b in self.buffers]
        model = Table([(0, "I", 3), (1, "off", Vector("off", codes)),
                       (2, "off", Vector("off", [subgraph])),
                       (3, "off", String("resq importer test")),
                       (4, "off", Vector("off", buffers))])
        return Builder().finish(model, identifier)
