"""Shared plumbing of the end-to-end tests: driving resq-opt and resq-run,
reading what they write, and comparing it with the numpy reference.

Every test script is run by lit as
    # RUN: %python %s resq-opt resq-run %t
and fails (non-zero exit, a message on stderr) at the first mismatch.
"""

import json
import os
import shutil
import subprocess
import sys

import numpy as np


class CheckFailed(Exception):
    pass


def fail(message):
    raise CheckFailed(message)


def passed(message):
    print("PASS " + message, flush=True)


def main(*tests):
    """Runs each test(tools) and turns a failed check into exit code 1."""
    try:
        tools = Tools.from_argv()
        for test in tests:
            test(tools)
    except CheckFailed as error:
        print(f"FAIL {os.path.basename(sys.argv[0])}: {error}", file=sys.stderr)
        sys.exit(1)


def _resolve_tool(arg, name):
    """A tool path from the command line; tolerates a lit '%' prefix and
    falls back to PATH."""
    candidate = arg.lstrip("%") if arg else name
    if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(os.path.basename(candidate)) or shutil.which(name)
    if not found:
        fail(f"cannot find the '{name}' tool (got '{arg}'); build it first")
    return found


class Tools:
    """The tools and the scratch directory a test got from lit. Tools are
    looked up when first used, so tests that need only upstream tools run
    before resq-opt and resq-run exist."""

    def __init__(self, opt_arg, run_arg, tmp):
        self._args = {"resq-opt": opt_arg, "resq-run": run_arg}
        self.tmp = tmp

    @property
    def opt(self):
        return _resolve_tool(self._args["resq-opt"], "resq-opt")

    @property
    def run(self):
        return _resolve_tool(self._args["resq-run"], "resq-run")

    @staticmethod
    def from_argv():
        if len(sys.argv) != 4:
            print(f"usage: {sys.argv[0]} RESQ-OPT RESQ-RUN TMPDIR", file=sys.stderr)
            sys.exit(2)
        tmp = sys.argv[3]
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        return Tools(sys.argv[1], sys.argv[2], tmp)

    def path(self, name):
        return os.path.join(self.tmp, name)


def run_tool(args, what):
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"{what} failed (exit {done.returncode}):\n  {' '.join(args)}\n"
             f"{done.stderr[-3000:]}")
    return done


# ---------------------------------------------------------------------------
# resq-opt
# ---------------------------------------------------------------------------

def write_model(tools, net, name):
    path = tools.path(name + ".mlir")
    with open(path, "w") as f:
        f.write(net.to_mlir())
    return path


def residualize(tools, model, name, step=4, bits=8, keyframe_interval=0,
                dynamic=None, layer_steps=None, layer_bits=None,
                standard_layers=None):
    """resq-opt MODEL --resq-residualize=... [--resq-dynamic-bits=...].

    dynamic: None (static bits) or dict(bit_set=[...], block=B, scene_cut=F,
    optional dense_above=F and scene_cut_min_blocks=N).
    layer_steps / layer_bits: dicts layer name -> value.
    standard_layers: names of layers that run standard int8 every frame.
    """
    options = [f"step={step}", f"bits={bits}",
               f"keyframe-interval={keyframe_interval}"]
    if standard_layers:
        options.append("standard-layers=" + ",".join(standard_layers))
    if layer_steps:
        options.append("layer-steps=" + ",".join(
            f"{k}:{v}" for k, v in layer_steps.items()))
    if layer_bits:
        options.append("layer-bits=" + ",".join(
            f"{k}:{v}" for k, v in layer_bits.items()))
    args = [tools.opt, model, "--resq-residualize=" + " ".join(options)]
    if dynamic is not None:
        args.append("--resq-dynamic-bits=" + " ".join([
            "bit-set=" + ",".join(str(b) for b in dynamic["bit_set"]),
            f"block={dynamic['block']}",
            f"scene-cut={dynamic['scene_cut']}",
            f"scene-cut-min-blocks={dynamic.get('scene_cut_min_blocks', 64)}",
            f"dense-above={dynamic.get('dense_above', 1.0)}",
            # The reference applies the rule in every layer.
            "scene-cut-layers=all"]))
    out = tools.path(name + ".resq.mlir")
    run_tool(args + ["-o", out], "resq-opt")
    return out


# ---------------------------------------------------------------------------
# resq-run
# ---------------------------------------------------------------------------

def save_frames(tools, frames, name):
    path = tools.path(name + ".npy")
    np.save(path, np.asarray(frames, dtype=np.int8))
    return path


def resq_run(tools, model, frames_path, name, results=1, stats=False,
             streams=None, dump_state=False, keyframe_at=None, step_threads=None,
             target_cpu=None):
    """Runs resq-run on one input's frames (a path) or several (a list of
    paths); returns dict(outputs=[arrays], stats=[dicts] or None,
    state_dir=path or None)."""
    prefix = tools.path(name + ".out")
    args = [tools.run, model, "--output", prefix]
    for path in [frames_path] if isinstance(frames_path, str) else frames_path:
        args += ["--input", path]
    stats_path = tools.path(name + ".stats.jsonl") if stats else None
    state_dir = tools.path(name + ".state") if dump_state else None
    if stats:
        args += ["--stats", stats_path]
    if streams is not None:
        args += ["--streams", str(streams)]
    if dump_state:
        os.makedirs(state_dir, exist_ok=True)
        args += ["--dump-state", state_dir]
    if keyframe_at:
        args += ["--keyframe-at", ",".join(str(f) for f in keyframe_at)]
    if step_threads is not None:
        args += ["--step-threads", str(step_threads)]
    if target_cpu is not None:
        args += ["--target-cpu", target_cpu]
    run_tool(args, "resq-run")
    outputs = []
    for i in range(results):
        path = f"{prefix}{i}.npy"
        if not os.path.exists(path):
            fail(f"resq-run wrote no {path}")
        outputs.append(np.load(path))
    return {"outputs": outputs,
            "stats": load_stats(stats_path) if stats else None,
            "state_dir": state_dir}


def load_stats(path):
    if not os.path.exists(path):
        fail(f"resq-run wrote no stats file {path}")
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def load_state(state_dir, layer):
    """(R, A) of one layer as dumped by --dump-state."""
    arrays = []
    for part, dtype in (("R", np.int16), ("A", np.int32)):
        path = os.path.join(state_dir, f"{layer}.{part}.npy")
        if not os.path.exists(path):
            fail(f"resq-run --dump-state wrote no {path}")
        array = np.load(path)
        if array.dtype != dtype:
            fail(f"{path}: dtype {array.dtype}, expected {np.dtype(dtype)}")
        arrays.append(array)
    return tuple(arrays)


# ---------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------

def expect_equal(what, got, expected):
    """Bit-exact comparison of integer arrays with a leading frames axis."""
    got = np.asarray(got)
    expected = np.asarray(expected)
    if got.shape != expected.shape:
        fail(f"{what}: shape {got.shape}, expected {expected.shape}")
    diff = got.astype(np.int64) != expected.astype(np.int64)
    if diff.any():
        where = np.argwhere(diff)
        first = tuple(int(i) for i in where[0])
        frames = sorted(set(int(i) for i in where[:, 0]))
        fail(f"{what}: {diff.sum()} of {diff.size} values differ, in frames "
             f"{frames[:10]}{'...' if len(frames) > 10 else ''}; first at "
             f"{first}: got {got[first]}, expected {expected[first]}")


def expect_dtype(what, array, dtype):
    if array.dtype != np.dtype(dtype):
        fail(f"{what}: dtype {array.dtype}, expected {np.dtype(dtype)}")


def normalized_bits(bits):
    return {str(k): int(v) for k, v in bits.items() if int(v) != 0}


def skipped_blocks(entry):
    """Number of 0-bit blocks of a stats line ("skipped" is a fraction)."""
    return round(entry["skipped"] * entry["blocks"])


def stats_by_key(stats):
    table = {}
    for entry in stats:
        key = (entry["frame"], entry["layer"])
        if key in table:
            fail(f"stats: two lines for frame {key[0]} layer {key[1]}")
        table[key] = entry
    return table


def expect_stats(what, got, expected):
    """Compares resq-run --stats lines with the reference's, per frame and
    layer: stream, keyframe, blocks, MACs and BOPs always; the bit-width
    histogram, skipped fraction and scene-cut flag on residual frames; the
    scene-cut flag of a layer whose scene-cut rule fired."""
    got_table = stats_by_key(got)
    for want in expected:
        key = (want["frame"], want["layer"])
        if key not in got_table:
            fail(f"{what}: no stats line for frame {key[0]} layer {key[1]}")
        have = got_table[key]
        fields = ["stream", "keyframe", "blocks", "macs", "bops"]
        if not want["keyframe"]:
            fields += ["skipped", "scene_cut"]
        elif want["scene_cut"]:
            fields += ["scene_cut"]
        for name in fields:
            if name not in have:
                fail(f"{what}: stats line for frame {key[0]} layer {key[1]} "
                     f"has no '{name}'")
            if name == "skipped":  # a fraction
                same = abs(have[name] - want[name]) <= 1e-9
            else:
                same = have[name] == want[name]
            if not same:
                fail(f"{what}: frame {key[0]} layer {key[1]}: {name} = "
                     f"{have[name]}, expected {want[name]}")
        if not want["keyframe"]:
            if normalized_bits(have["bits"]) != normalized_bits(want["bits"]):
                fail(f"{what}: frame {key[0]} layer {key[1]}: bits = "
                     f"{have['bits']}, expected {want['bits']}")
    if len(got_table) != len(expected):
        fail(f"{what}: {len(got_table)} stats lines, expected {len(expected)}")
