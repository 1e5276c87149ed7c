"""A tiny generator of int8 TOSA v1.0 networks with random constant weights.

A `Net` is a list of TOSA ops in program order. The same object

  * prints itself as MLIR text (`Net.to_mlir()`), accepted by mlir-opt;
  * runs itself as the standard int8 graph in numpy (`Net.run(x)`);
  * runs itself as a ResQ step function over a video, one residualized state
    per linear layer and per stream (`Net.run_resq(...)`), following
    docs RESQ-SEMANTICS.md.

Linear layers are named like resq-opt names them: `<tosa op>_<index>`, the
index counting linear ops in program order (`conv2d_0`,
`depthwise_conv2d_1`, ...).
"""

import math
import re
from dataclasses import dataclass, field

import numpy as np

import resq_ref as ref

ELEMENT = {"i8": np.int8, "i32": np.int32}


def tensor_type(shape, element):
    return "tensor<" + "x".join(str(d) for d in shape) + "x" + element + ">"


def dense_literal(values, element):
    """A dense elements literal: a splat when all values agree, else hex."""
    values = np.asarray(values)
    flat = values.reshape(-1)
    if flat.size > 0 and np.all(flat == flat[0]):
        return f"dense<{int(flat[0])}>"
    little_endian = np.dtype(ELEMENT[element]).newbyteorder("<")
    data = values.astype(little_endian).tobytes()
    return 'dense<"0x' + data.hex().upper() + '">'


def quantize_scale(scale):
    """A real scale as a TOSA scale32 (multiplier, shift): multiplier in
    [2^30, 2^31), scale ~= multiplier * 2^-shift."""
    mantissa, exponent = math.frexp(scale)
    multiplier = int(round(mantissa * (1 << 31)))
    if multiplier == 1 << 31:
        multiplier //= 2
        exponent += 1
    shift = 31 - exponent
    while shift > 62:
        multiplier >>= 1
        shift -= 1
    assert 2 <= shift <= 62, f"scale {scale} out of range"
    return multiplier, shift


@dataclass
class Node:
    """One op: `kind` is a TOSA op name; `inputs` are value ids (0 is the
    function argument, node k defines value k + 1)."""
    kind: str
    inputs: list
    shape: tuple
    element: str
    params: dict = field(default_factory=dict)
    layer: ref.LinearLayer = None
    name: str = None  # linear layers only


class Net:
    def __init__(self, input_shape, func_name="main"):
        self.input_shape = tuple(input_shape)
        self.func_name = func_name
        self.nodes = []
        self.results = []

    # --- building -----------------------------------------------------------
    def shape_of(self, value):
        return self.input_shape if value == 0 else self.nodes[value - 1].shape

    def element_of(self, value):
        return "i8" if value == 0 else self.nodes[value - 1].element

    def _add(self, node):
        self.nodes.append(node)
        return len(self.nodes)

    def linear_layers(self):
        return [n for n in self.nodes if n.layer is not None]

    def linear(self, value, layer):
        """Appends a linear op (conv2d, depthwise_conv2d, transpose_conv2d,
        matmul) reading `value`; returns its int32 accumulator value."""
        assert self.element_of(value) == "i8"
        probe = np.zeros(self.shape_of(value), dtype=np.int64)
        shape = layer.linear(probe).shape
        name = f"{layer.kind}_{len(self.linear_layers())}"
        return self._add(Node(layer.kind, [value], shape, "i32", layer=layer,
                              name=name))

    def rescale(self, value, multiplier, shift, input_zp=0, output_zp=0,
                rounding_mode="DOUBLE_ROUND", out="i8"):
        multiplier = np.atleast_1d(np.asarray(multiplier, dtype=np.int64))
        shift = np.atleast_1d(np.asarray(shift, dtype=np.int64))
        per_channel = multiplier.size > 1
        return self._add(Node("rescale", [value], self.shape_of(value), out, {
            "multiplier": multiplier, "shift": shift, "input_zp": input_zp,
            "output_zp": output_zp, "rounding_mode": rounding_mode,
            "per_channel": per_channel}))

    def clamp(self, value, min_val, max_val):
        return self._add(Node("clamp", [value], self.shape_of(value),
                              self.element_of(value),
                              {"min_val": min_val, "max_val": max_val}))

    def add(self, a, b):
        assert self.element_of(a) == self.element_of(b) == "i32"
        return self._add(Node("add", [a, b], self.shape_of(a), "i32"))

    def output(self, *values):
        self.results = list(values)

    # --- running: the standard int8 graph -----------------------------------
    def _evaluate(self, node, inputs):
        if node.layer is not None:
            return node.layer.acc(inputs[0])
        p = node.params
        if node.kind == "rescale":
            bits = 8 if node.element == "i8" else 32
            return ref.rescale(inputs[0], p["multiplier"], p["shift"],
                               p["input_zp"], p["output_zp"],
                               p["rounding_mode"], p["per_channel"], bits)
        if node.kind == "clamp":
            return ref.clamp(inputs[0], p["min_val"], p["max_val"])
        if node.kind == "add":
            return ref.add(inputs[0], inputs[1])
        raise ValueError(node.kind)

    def run(self, x, values=None):
        """The standard int8 graph on one input. Returns the result arrays."""
        values = [ref.as_int(x)] if values is None else values
        for node in self.nodes:
            values.append(self._evaluate(node, [values[i] for i in node.inputs]))
        return [values[r] for r in self.results]

    # --- running: the ResQ step function ------------------------------------
    def run_resq(self, frames, configs, streams=1, keyframe_at=(),
                 keyframe_interval=0):
        """Runs frames [F] + input shape through the residualized net.

        configs: layer name -> ResidualConfig (missing layers: not allowed).
        Frame f belongs to stream f % streams, each with its own state;
        keyframe_at: frames f (of the whole sequence) forced to be keyframes,
        as resq-run --keyframe-at.
        Returns dict: outputs (list per result of [F]+shape arrays),
        X / R / A (layer -> [F]+shape: the layer's input, reconstructed
        input and accumulator after each frame), stats (list of dicts like resq-run's).
        """
        stream_states = [ref.StreamState(schedule=ref.KeyframeSchedule(
            keyframe_interval)) for _ in range(streams)]
        outputs = [[] for _ in self.results]
        xs = {n.name: [] for n in self.linear_layers()}
        rs = {n.name: [] for n in self.linear_layers()}
        accs = {n.name: [] for n in self.linear_layers()}
        stats = []
        for f, x in enumerate(frames):
            stream = f % streams
            state = stream_states[stream]
            keyframe = state.schedule.begin_frame(forced=f in keyframe_at)
            values = [ref.as_int(x)]
            for node in self.nodes:
                inputs = [values[i] for i in node.inputs]
                if node.layer is None:
                    values.append(self._evaluate(node, inputs))
                    continue
                layer_state = state.layers.setdefault(node.name,
                                                      ref.LayerState())
                acc, s = ref.resq_layer_frame(node.layer, layer_state,
                                              inputs[0], configs[node.name],
                                              keyframe)
                keyframe = keyframe or s.keyframe  # a scene cut propagates
                values.append(acc)
                xs[node.name].append(inputs[0])
                rs[node.name].append(layer_state.R.copy())
                accs[node.name].append(acc.copy())
                stats.append(dict(frame=f, stream=stream, layer=node.name,
                                  **s.as_dict()))
            for i, r in enumerate(self.results):
                outputs[i].append(values[r])
        return {"outputs": [np.stack(o) for o in outputs],
                "X": {k: np.stack(v) for k, v in xs.items()},
                "R": {k: np.stack(v) for k, v in rs.items()},
                "A": {k: np.stack(v) for k, v in accs.items()},
                "stats": stats}

    # --- printing -----------------------------------------------------------
    def to_mlir(self, func_name=None):
        func_name = func_name or self.func_name
        lines = []
        names = ["%x"]
        counter = [0]

        def const(values, shape, element):
            counter[0] += 1
            name = f"%c{counter[0]}"
            ty = tensor_type(shape, element)
            lines.append(f'  {name} = "tosa.const"() {{values = '
                         f'{dense_literal(values, element)} : {ty}}} : () -> {ty}')
            return name

        def ty(value):
            return tensor_type(self.shape_of(value), self.element_of(value))

        for index, node in enumerate(self.nodes):
            result = f"%v{index + 1}"
            args = [names[i] for i in node.inputs]
            arg_types = [ty(i) for i in node.inputs]
            out_ty = tensor_type(node.shape, node.element)
            if node.layer is not None:
                layer = node.layer
                w = const(layer.weight, layer.weight.shape, "i8")
                izp = const([layer.input_zp], (1,), "i8")
                wzp = const([0], (1,), "i8")
                wty = tensor_type(layer.weight.shape, "i8")
                zty = tensor_type((1,), "i8")
                if layer.kind == "matmul":
                    lines.append(f"  {result} = tosa.matmul {args[0]}, {w}, {izp}, {wzp} : "
                                 f"({arg_types[0]}, {wty}, {zty}, {zty}) -> {out_ty}")
                else:
                    b = const(layer.bias, layer.bias.shape, "i32")
                    bty = tensor_type(layer.bias.shape, "i32")
                    pad = ", ".join(str(v) for v in layer.pad)
                    stride = ", ".join(str(v) for v in layer.stride)
                    if layer.kind == "transpose_conv2d":
                        attrs = (f"acc_type = i32, out_pad = array<i64: {pad}>, "
                                 f"stride = array<i64: {stride}>")
                    else:
                        dilation = ", ".join(str(v) for v in layer.dilation)
                        attrs = (f"acc_type = i32, pad = array<i64: {pad}>, "
                                 f"stride = array<i64: {stride}>, "
                                 f"dilation = array<i64: {dilation}>")
                    lines.append(f"  {result} = tosa.{layer.kind} {args[0]}, {w}, {b}, {izp}, {wzp} "
                                 f"{{{attrs}}} : ({arg_types[0]}, {wty}, {bty}, {zty}, {zty}) -> {out_ty}")
            elif node.kind == "rescale":
                p = node.params
                n = p["multiplier"].size
                m = const(p["multiplier"], (n,), "i32")
                s = const(p["shift"], (n,), "i8")
                in_el = self.element_of(node.inputs[0])
                izp = const([p["input_zp"]], (1,), in_el)
                ozp = const([p["output_zp"]], (1,), node.element)
                per_channel = "true" if p["per_channel"] else "false"
                lines.append(
                    f"  {result} = tosa.rescale {args[0]}, {m}, {s}, {izp}, {ozp} "
                    f"{{scale32 = true, rounding_mode = {p['rounding_mode']}, "
                    f"per_channel = {per_channel}, input_unsigned = false, "
                    f"output_unsigned = false}} : ({arg_types[0]}, "
                    f"{tensor_type((n,), 'i32')}, {tensor_type((n,), 'i8')}, "
                    f"{tensor_type((1,), in_el)}, {tensor_type((1,), node.element)}) -> {out_ty}")
            elif node.kind == "clamp":
                p = node.params
                el = node.element
                lines.append(f"  {result} = tosa.clamp {args[0]} {{min_val = {p['min_val']} : {el}, "
                             f"max_val = {p['max_val']} : {el}}} : ({arg_types[0]}) -> {out_ty}")
            elif node.kind == "add":
                lines.append(f"  {result} = tosa.add {args[0]}, {args[1]} : "
                             f"({arg_types[0]}, {arg_types[1]}) -> {out_ty}")
            else:
                raise ValueError(node.kind)
            names.append(result)

        result_types = [ty(r) for r in self.results]
        header = (f"func.func @{func_name}(%x: {ty(0)}) -> "
                  f"{', '.join(result_types) if len(result_types) == 1 else '(' + ', '.join(result_types) + ')'} {{")
        ret = (f"  return {', '.join(names[r] for r in self.results)} : "
               f"{', '.join(result_types)}")
        return "\n".join([header] + lines + [ret, "}"]) + "\n"


# ---------------------------------------------------------------------------
# Random layers
# ---------------------------------------------------------------------------

def random_weights(rng, shape, per_channel_axis=None, low=-20, high=20):
    """int8 weights; with per_channel_axis, each output channel gets its own
    range (as per-channel quantized weights do)."""
    w = rng.integers(low, high + 1, size=shape)
    if per_channel_axis is not None:
        channels = shape[per_channel_axis]
        spread = rng.integers(1, 6, size=channels)  # 1..5 x a base range
        view = [1] * len(shape)
        view[per_channel_axis] = channels
        w = w * spread.reshape(view) // 2
    return np.clip(w, -127, 127).astype(np.int64)


def random_layer(rng, kind, input_shape, out_channels=None, kernel=(3, 3),
                 pad=None, stride=(1, 1), dilation=(1, 1), multiplier=1,
                 input_zp=None, bias_range=1000):
    """A LinearLayer with random int8 weights, per-channel ranges and an
    int32 bias. `pad` is out_pad for transpose_conv2d."""
    input_zp = int(rng.integers(-10, 11)) if input_zp is None else input_zp
    if kind == "matmul":
        n, h, c = input_shape
        w = out_channels
        weight = random_weights(rng, (n, c, w), per_channel_axis=2)
        return ref.LinearLayer("matmul", weight, None, input_zp)
    n, ih, iw, ic = input_shape
    kh, kw = kernel
    if kind == "depthwise_conv2d":
        weight = random_weights(rng, (kh, kw, ic, multiplier), per_channel_axis=2)
        oc = ic * multiplier
    else:
        oc = out_channels
        weight = random_weights(rng, (oc, kh, kw, ic), per_channel_axis=0)
    if pad is None:
        pad = (kh // 2, kh // 2, kw // 2, kw // 2)
    bias = rng.integers(-bias_range, bias_range + 1, size=oc).astype(np.int64)
    return ref.LinearLayer(kind, weight, bias, input_zp, tuple(pad),
                           tuple(stride), tuple(dilation))


def single_layer_net(layer, input_shape, func_name="main"):
    """One raw linear layer returning its int32 accumulator."""
    net = Net(input_shape, func_name)
    net.output(net.linear(0, layer))
    return net


# ---------------------------------------------------------------------------
# Multi-layer nets with calibrated (unsaturated) rescales
# ---------------------------------------------------------------------------

class Builder:
    """Builds a Net while running a calibration input through it, so that
    biases centre each channel and per-channel rescales map the channel's
    range to about +-`target` int8 codes (no saturation)."""

    def __init__(self, rng, calibration, input_zp, func_name="main"):
        self.rng = rng
        self.net = Net(calibration.shape, func_name)
        self.values = [ref.as_int(calibration)]
        self.zero_points = [input_zp]  # int8 zero point of every value

    def _evaluate_last(self, zero_point):
        node = self.net.nodes[-1]
        self.values.append(self.net._evaluate(
            node, [self.values[i] for i in node.inputs]))
        self.zero_points.append(zero_point)
        return len(self.net.nodes)

    def linear(self, value, kind, **geometry):
        layer = random_layer(self.rng, kind, self.net.shape_of(value),
                             input_zp=self.zero_points[value], bias_range=0,
                             **geometry)
        # Centre every output channel on the calibration input.
        raw = layer.acc(self.values[value])
        centre = np.median(raw.reshape(-1, raw.shape[-1]), axis=0)
        jitter = self.rng.integers(-50, 51, size=centre.shape)
        layer.bias = (-np.round(centre).astype(np.int64) + jitter)
        self.net.linear(value, layer)
        return self._evaluate_last(0)

    def rescale_to_int8(self, value, target=100, output_zp=None,
                        rounding_mode="DOUBLE_ROUND"):
        acc = self.values[value]
        channels = acc.shape[-1]
        peak = np.abs(acc.reshape(-1, channels)).max(axis=0)
        pairs = [quantize_scale(target / max(int(p), 1)) for p in peak]
        if output_zp is None:
            output_zp = int(self.rng.integers(-8, 9))
        self.net.rescale(value, [m for m, _ in pairs], [s for _, s in pairs],
                         0, output_zp, rounding_mode)
        return self._evaluate_last(output_zp)

    def relu(self, value):
        zp = self.zero_points[value]
        self.net.clamp(value, zp, 127)
        return self._evaluate_last(zp)

    def add_int8(self, a, b, output_zp=0):
        """int8 + int8 the TOSA way: rescale both to int32 (zero points
        removed), add, rescale back to int8 at half scale."""
        self.net.rescale(a, 1 << 30, 30, self.zero_points[a], 0,
                         "SINGLE_ROUND", out="i32")
        a32 = self._evaluate_last(0)
        self.net.rescale(b, 1 << 30, 30, self.zero_points[b], 0,
                         "SINGLE_ROUND", out="i32")
        b32 = self._evaluate_last(0)
        self.net.add(a32, b32)
        total = self._evaluate_last(0)
        self.net.rescale(total, 1 << 30, 31, 0, output_zp, "DOUBLE_ROUND")
        return self._evaluate_last(output_zp)


def multi_layer_net(rng, calibration, input_zp, channels=8, func_name="main"):
    """conv 3x3 -> rescale -> ReLU -> depthwise 3x3 stride 2 -> rescale ->
    ReLU -> conv 1x1 -> rescale -> transpose conv 2x2 stride 2 -> rescale,
    plus an add skip from the first ReLU; output int8 at the input's size.

    calibration: one int8 input frame (shape 1xHxWxC, H and W even).
    """
    b = Builder(rng, calibration, input_zp, func_name)
    c = channels
    x = 0
    y = b.relu(b.rescale_to_int8(b.linear(x, "conv2d", out_channels=c)))
    skip = y
    y = b.relu(b.rescale_to_int8(b.linear(
        y, "depthwise_conv2d", kernel=(3, 3), pad=(0, 1, 0, 1), stride=(2, 2),
        multiplier=2)))
    y = b.relu(b.rescale_to_int8(b.linear(
        y, "conv2d", out_channels=c, kernel=(1, 1), pad=(0, 0, 0, 0)),
        rounding_mode="SINGLE_ROUND"))
    y = b.rescale_to_int8(b.linear(
        y, "transpose_conv2d", out_channels=c, kernel=(2, 2),
        pad=(0, 0, 0, 0), stride=(2, 2)))
    y = b.add_int8(skip, y, output_zp=int(rng.integers(-5, 6)))
    b.net.output(y)
    return b.net


def tiny_segnet(seed=2023, height=64, width=64, channels=8):
    """The example network of examples/tiny_segnet.mlir: an encoder-decoder
    with depthwise and 1x1 convolutions, a stride-2 transpose convolution
    and an add skip, 2 output channels (segmentation logits)."""
    import sequences
    rng = np.random.default_rng(seed)
    frames, _ = sequences.moving_square(
        frames=1, height=height, width=width, channels=channels, seed=seed)
    b = Builder(rng, frames[0], input_zp=-3)
    y = b.relu(b.rescale_to_int8(b.linear(0, "conv2d", out_channels=16)))
    skip = y
    y = b.relu(b.rescale_to_int8(b.linear(
        y, "depthwise_conv2d", kernel=(3, 3), pad=(0, 1, 0, 1), stride=(2, 2))))
    y = b.relu(b.rescale_to_int8(b.linear(
        y, "conv2d", out_channels=32, kernel=(1, 1), pad=(0, 0, 0, 0))))
    y = b.relu(b.rescale_to_int8(b.linear(
        y, "depthwise_conv2d", kernel=(3, 3), multiplier=1)))
    y = b.relu(b.rescale_to_int8(b.linear(
        y, "conv2d", out_channels=16, kernel=(1, 1), pad=(0, 0, 0, 0))))
    y = b.rescale_to_int8(b.linear(
        y, "transpose_conv2d", out_channels=16, kernel=(2, 2),
        pad=(0, 0, 0, 0), stride=(2, 2)))
    y = b.relu(b.add_int8(skip, y))
    y = b.rescale_to_int8(b.linear(
        y, "conv2d", out_channels=2, kernel=(1, 1), pad=(0, 0, 0, 0)))
    b.net.output(y)
    return b.net


# ---------------------------------------------------------------------------
# Reading back what to_mlir() prints
# ---------------------------------------------------------------------------

def _parse_type(text):
    """'tensor<1x8x8x4xi8>' -> ((1, 8, 8, 4), 'i8')."""
    body = re.fullmatch(r"tensor<(.*)>", text.strip()).group(1)
    *dims, element = body.split("x")
    return tuple(int(d) for d in dims), element


def _parse_dense(literal, shape, element):
    splat = re.fullmatch(r"dense<(-?\d+)>", literal)
    if splat:
        return np.full(shape, int(splat.group(1)), dtype=np.int64)
    data = bytes.fromhex(re.fullmatch(r'dense<"0x([0-9A-Fa-f]*)">', literal).group(1))
    dtype = np.dtype(ELEMENT[element]).newbyteorder("<")
    return np.frombuffer(data, dtype=dtype).astype(np.int64).reshape(shape)


def _array_attr(attrs, name):
    match = re.search(name + r" = array<i64: ([-\d, ]+)>", attrs)
    return tuple(int(v) for v in match.group(1).split(","))


def parse_mlir(text):
    """Rebuilds the Net from the text Net.to_mlir() printed (only that
    format: one op per line, operands named %x, %cN, %vN)."""
    header = re.search(r"func\.func @(\w+)\(%x: (tensor<[^>]*>)\)", text)
    input_shape, _ = _parse_type(header.group(2))
    net = Net(input_shape, header.group(1))
    consts, values = {}, {"%x": 0}
    for line in text.splitlines():
        line = line.strip()
        const = re.fullmatch(r'(%c\d+) = "tosa.const"\(\) \{values = (dense<.*>) : '
                             r'(tensor<[^>]*>)\} : .*', line)
        if const:
            shape, element = _parse_type(const.group(3))
            consts[const.group(1)] = _parse_dense(const.group(2), shape, element)
            continue
        op = re.fullmatch(r"(%v\d+) = tosa\.(\w+) ([^{:]*?) ?(\{.*\})? : \((.*)\) -> (tensor<[^>]*>)", line)
        if op:
            result, kind, operands, attrs = op.group(1), op.group(2), \
                [o.strip() for o in op.group(3).split(",")], op.group(4) or ""
            _, out_element = _parse_type(op.group(6))
            scalar = lambda name: int(consts[name].reshape(-1)[0])
            if kind in ref.LINEAR_KINDS:
                weight = consts[operands[1]]
                if kind == "matmul":
                    layer = ref.LinearLayer(kind, weight, None, scalar(operands[2]))
                else:
                    pad_name = "out_pad" if kind == "transpose_conv2d" else "pad"
                    layer = ref.LinearLayer(
                        kind, weight, consts[operands[2]], scalar(operands[3]),
                        _array_attr(attrs, pad_name), _array_attr(attrs, "stride"),
                        (1, 1) if kind == "transpose_conv2d"
                        else _array_attr(attrs, "dilation"))
                values[result] = net.linear(values[operands[0]], layer)
            elif kind == "rescale":
                rounding = re.search(r"rounding_mode = (\w+)", attrs).group(1)
                values[result] = net.rescale(
                    values[operands[0]], consts[operands[1]], consts[operands[2]],
                    scalar(operands[3]), scalar(operands[4]), rounding,
                    out=out_element)
            elif kind == "clamp":
                low = int(re.search(r"min_val = (-?\d+)", attrs).group(1))
                high = int(re.search(r"max_val = (-?\d+)", attrs).group(1))
                values[result] = net.clamp(values[operands[0]], low, high)
            elif kind == "add":
                values[result] = net.add(values[operands[0]], values[operands[1]])
            else:
                raise ValueError(f"cannot read op tosa.{kind}")
            continue
        ret = re.fullmatch(r"return (.*) : .*", line)
        if ret:
            net.output(*[values[v.strip()] for v in ret.group(1).split(",")])
    return net
