"""Reads a TFLite FlatBuffer into plain Python objects for the numpy
reference interpreter (tflite_ref.py). Independent of the C++ importer;
field ids follow tensorflow/lite/schema/schema.fbs.
"""

import struct

import numpy as np

BUILTIN_NAMES = {
    0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D",
    4: "DEPTHWISE_CONV_2D", 6: "DEQUANTIZE", 9: "FULLY_CONNECTED",
    14: "LOGISTIC", 17: "MAX_POOL_2D", 18: "MUL", 19: "RELU",
    20: "RELU_N1_TO_1", 21: "RELU6", 22: "RESHAPE", 23: "RESIZE_BILINEAR",
    28: "TANH", 32: "CUSTOM", 34: "PAD", 39: "TRANSPOSE", 40: "MEAN",
    41: "SUB", 43: "SQUEEZE", 60: "PADV2", 67: "TRANSPOSE_CONV",
    70: "EXPAND_DIMS", 114: "QUANTIZE", 117: "HARD_SWISH",
}

DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8,
          4: np.int64, 6: np.bool_, 7: np.int16, 9: np.int8}


class _Buf:
    def __init__(self, data):
        self.data = data

    def u8(self, at): return self.data[at]
    def u16(self, at): return struct.unpack_from("<H", self.data, at)[0]
    def i32(self, at): return struct.unpack_from("<i", self.data, at)[0]
    def u32(self, at): return struct.unpack_from("<I", self.data, at)[0]

    def table(self, pos):
        return _Table(self, pos)


class _Table:
    def __init__(self, buf, pos):
        self.buf, self.pos = buf, pos
        self.vt = pos - buf.i32(pos)
        self.vt_size = buf.u16(self.vt)

    def _off(self, fid):
        entry = 4 + 2 * fid
        return self.buf.u16(self.vt + entry) if entry < self.vt_size else 0

    def scalar(self, fid, fmt, default=0):
        off = self._off(fid)
        if not off:
            return default
        return struct.unpack_from("<" + fmt, self.buf.data, self.pos + off)[0]

    def _ref(self, fid):
        off = self._off(fid)
        if not off:
            return None
        at = self.pos + off
        return at + self.buf.u32(at)

    def table(self, fid):
        at = self._ref(fid)
        return None if at is None else _Table(self.buf, at)

    def vector(self, fid, fmt):
        at = self._ref(fid)
        if at is None:
            return None
        n = self.buf.u32(at)
        return list(struct.unpack_from("<%d%s" % (n, fmt), self.buf.data, at + 4))

    def tables(self, fid):
        at = self._ref(fid)
        if at is None:
            return []
        n = self.buf.u32(at)
        out = []
        for i in range(n):
            e = at + 4 + 4 * i
            out.append(_Table(self.buf, e + self.buf.u32(e)))
        return out

    def bytes(self, fid):
        at = self._ref(fid)
        if at is None:
            return b""
        n = self.buf.u32(at)
        return bytes(self.buf.data[at + 4:at + 4 + n])

    def string(self, fid):
        return self.bytes(fid).decode("utf-8", "replace")


class Tensor:
    def __init__(self, t, buffers):
        self.shape = t.vector(0, "i") or []
        self.type = t.scalar(1, "b")
        self.buffer = t.scalar(2, "I")
        self.name = t.string(3)
        q = t.table(4)
        self.scale = self.zero_point = None
        self.quant_dim = 0
        if q is not None and q.vector(2, "f"):
            self.scale = np.array(q.vector(2, "f"), np.float32)
            self.zero_point = np.array(q.vector(3, "q") or [0], np.int64)
            self.quant_dim = q.scalar(6, "i")
        data = buffers[self.buffer] if self.buffer < len(buffers) else b""
        self.data = None
        if data:
            self.data = np.frombuffer(data, DTYPES[self.type]).reshape(self.shape)


class Operator:
    def __init__(self, t, codes):
        self.opcode = codes[t.scalar(0, "I")]
        self.name = self.opcode[0]
        self.inputs = t.vector(1, "i") or []
        self.outputs = t.vector(2, "i") or []
        self.options_type = t.scalar(3, "B")
        self.options = t.table(4) if self.options_type else None
        self.custom_options = t.bytes(5)

    def opt(self, fid, fmt, default=0):
        if self.options is None:
            return default
        return self.options.scalar(fid, fmt, default)


class Model:
    def __init__(self, data):
        buf = _Buf(data)
        if data[4:8] != b"TFL3":
            raise ValueError("not a TFLite model")
        root = buf.table(buf.u32(0))
        codes = []
        for c in root.tables(1):
            builtin = max(c.scalar(0, "b"), c.scalar(3, "i"))
            name = BUILTIN_NAMES.get(builtin, "BUILTIN_%d" % builtin)
            codes.append((name, c.string(1)))
        buffers = [b.bytes(0) for b in root.tables(4)]
        sg = root.tables(2)[0]
        self.tensors = [Tensor(t, buffers) for t in sg.tables(0)]
        self.inputs = sg.vector(1, "i") or []
        self.outputs = sg.vector(2, "i") or []
        self.operators = [Operator(o, codes) for o in sg.tables(3)]

    def op_counts(self):
        counts = {}
        for op in self.operators:
            key = op.name if op.name != "CUSTOM" else "CUSTOM:" + op.opcode[1]
            counts[key] = counts.get(key, 0) + 1
        return counts


def read(path):
    with open(path, "rb") as f:
        return Model(f.read())
