"""The oracle for "the standard int8 graph": upstream MLIR's own lowering.

run_net(net, x) wraps the network's TOSA function in a `@main` that builds
the input from a dense constant, calls the network and prints every result
with printMemrefI32; mlir-opt lowers it with the reference pipeline of
docs TOOLCHAIN.md and mlir-runner runs it.
"""

import os
import re
import subprocess
import tempfile

import numpy as np

import netgen

LLVM_BIN = "/usr/lib/llvm-22/bin"
MLIR_OPT = os.path.join(LLVM_BIN, "mlir-opt")
MLIR_RUNNER = os.path.join(LLVM_BIN, "mlir-runner")
RUNNER_LIBS = ",".join(os.path.join("/usr/lib/llvm-22/lib", lib) for lib in
                       ("libmlir_runner_utils.so", "libmlir_c_runner_utils.so"))

PIPELINE = ",".join([
    "func.func(tosa-optional-decompositions, tosa-to-linalg-named, "
    "tosa-to-linalg, tosa-to-arith{include-apply-rescale=true}, "
    "tosa-to-tensor, convert-elementwise-to-linalg)",
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map}",
    "buffer-deallocation-pipeline",
    "func.func(convert-linalg-to-loops)",
    "convert-bufferization-to-memref",
    "expand-strided-metadata",
    "lower-affine",
    "convert-scf-to-cf",
    "convert-to-llvm",
    "reconcile-unrealized-casts",
])


def check_with_mlir_opt(text):
    """Parses and verifies MLIR text with upstream mlir-opt; raises on error."""
    done = subprocess.run([MLIR_OPT, "-"], input=text, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError("mlir-opt rejected the generated MLIR:\n" + done.stderr)


def wrap_in_main(net, x):
    """A module: the network as @net plus a @main that prints its results."""
    lines = ["module {",
             "  func.func private @printMemrefI32(memref<*xi32>)",
             net.to_mlir("net")]
    in_ty = netgen.tensor_type(x.shape, "i8")
    result_types = [netgen.tensor_type(net.shape_of(r), net.element_of(r))
                    for r in net.results]
    lines += ["func.func @main() {",
              f"  %x = arith.constant {netgen.dense_literal(x, 'i8')} : {in_ty}",
              f"  %r:{len(result_types)} = call @net(%x) : ({in_ty}) -> "
              f"({', '.join(result_types)})"]
    for i, r in enumerate(net.results):
        shape = net.shape_of(r)
        ty32 = netgen.tensor_type(shape, "i32")
        mem32 = ty32.replace("tensor", "memref")
        value = f"%r#{i}"
        if net.element_of(r) == "i8":
            lines.append(f"  %w{i} = arith.extsi {value} : {result_types[i]} to {ty32}")
            value = f"%w{i}"
        lines += [f"  %m{i} = bufferization.to_buffer {value} : {ty32} to {mem32}",
                  f"  %u{i} = memref.cast %m{i} : {mem32} to memref<*xi32>",
                  f"  call @printMemrefI32(%u{i}) : (memref<*xi32>) -> ()"]
    lines += ["  return", "}", "}"]
    return "\n".join(lines) + "\n"


def run_net(net, x):
    """Runs `net` on one input through upstream MLIR; returns the results as
    int64 arrays."""
    x = np.asarray(x)
    assert tuple(x.shape) == net.input_shape
    stdout = lower_and_run(wrap_in_main(net, x))
    return parse_printed_memrefs(stdout, [net.shape_of(r) for r in net.results])


def lower_and_run(module):
    """Lowers a module with the reference pipeline, runs its @main with
    mlir-runner and returns what it printed."""
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "net.mlir")
        with open(source, "w") as f:
            f.write(module)
        lowered = subprocess.run(
            [MLIR_OPT, source, f"--pass-pipeline=builtin.module({PIPELINE})"],
            capture_output=True, text=True)
        if lowered.returncode != 0:
            raise RuntimeError("mlir-opt failed:\n" + lowered.stderr[-4000:])
        ran = subprocess.run(
            [MLIR_RUNNER, "-e", "main", "-entry-point-result=void",
             f"--shared-libs={RUNNER_LIBS}"],
            input=lowered.stdout, capture_output=True, text=True)
        if ran.returncode != 0:
            raise RuntimeError("mlir-runner failed:\n" + ran.stderr[-4000:])
    return ran.stdout


def parse_printed_memrefs(stdout, shapes):
    """The arrays printMemrefI32 printed, in order."""
    chunks = stdout.split("Unranked Memref")[1:]
    assert len(chunks) == len(shapes), f"expected {len(shapes)} printed results"
    arrays = []
    for chunk, shape in zip(chunks, shapes):
        data = chunk.split("data =", 1)[1]
        values = np.array([int(v) for v in re.findall(r"-?\d+", data)],
                          dtype=np.int64)
        arrays.append(values.reshape(shape))
    return arrays
