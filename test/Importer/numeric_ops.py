# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s resq-translate resq-run %t
#
# Every operator kind the importer supports, as a small TFLite model built
# here (lib/cases.py): imported to TOSA, JIT-run by resq-run on random
# inputs, and compared with a numpy interpreter of the TFLite reference
# kernels (lib/tflite_ref.py).
#   float: |tosa - ref| <= 1e-4 * (1 + max |ref|)
#   int8:  |tosa - ref| <= 1 LSB (TOSA's rescale rounds once where some
#          TFLite kernels round twice; ADD's input rescales and QUANTIZE's
#          ties are the known sources), and >= 90% of the values exact.

import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import cases  # noqa: E402
import tflite_reader  # noqa: E402
import tflite_ref  # noqa: E402

# Cases that are meant to fail import (see errors.test).
ERROR_CASES = {"unsupported_ops", "bad_conv_shape", "bad_constant_size",
               "bad_tensor_index", "bad_resize_size_index", "never_produced",
               "dynamic_shape"}


def tool(arg):
    return arg.lstrip("%")


def main():
    translate, run, workdir = tool(sys.argv[1]), tool(sys.argv[2]), sys.argv[3]
    failures = []
    names = [n for n in cases.CASES if n not in ERROR_CASES]
    if len(sys.argv) > 4:
        names = sys.argv[4:]
    for name in names:
        model = cases.CASES[name]()
        path = os.path.join(workdir, name + ".tflite")
        with open(path, "wb") as f:
            f.write(model.build())
        mlir = os.path.join(workdir, name + ".mlir")
        subprocess.run([translate, "--import-tflite", path, "-o", mlir,
                        "--quiet"], check=True)
        ins = cases.inputs(model)
        cmd = [run, mlir, "--quiet", "--output", os.path.join(workdir, name + ".out")]
        for k, arr in enumerate(ins):
            p = os.path.join(workdir, "%s.in%d.npy" % (name, k))
            np.save(p, arr[None])
            cmd += ["--input", p]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            sys.stdout.write(proc.stdout.decode(errors="replace")[-4000:])
            failures.append("%s: resq-run failed" % name)
            continue
        ref = tflite_ref.run(tflite_reader.read(path), ins)
        for k, expected in enumerate(ref):
            got = np.load(os.path.join(workdir, "%s.out%d.npy" % (name, k)))[0]
            expected = np.asarray(expected)
            if got.shape != expected.shape or got.dtype != expected.dtype:
                failures.append("%s: result %d is %s %s, expected %s %s" % (
                    name, k, got.dtype, got.shape, expected.dtype, expected.shape))
                continue
            diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
            if got.dtype == np.int8:
                exact = float((diff == 0).mean())
                ok = diff.max() <= 1 and exact >= 0.9
                detail = "max diff %d LSB, %.1f%% exact" % (diff.max(), 100 * exact)
            else:
                bound = 1e-4 * (1 + np.abs(expected).max())
                ok = diff.max() <= bound
                detail = "max diff %.3g (bound %.3g), range [%.3g, %.3g]" % (
                    diff.max(), bound, expected.min(), expected.max())
            print("%s %s result %d %s: %s" % ("PASS" if ok else "FAIL", name, k,
                                             expected.shape, detail), flush=True)
            if not ok:
                failures.append("%s result %d: %s" % (name, k, detail))
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
