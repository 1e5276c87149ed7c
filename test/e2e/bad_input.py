# RUN: %python %s resq-opt resq-run %t
#
# resq-run rejects bad inputs cleanly: a missing input or model file, an
# .npy of the wrong dtype (int16, uint8, float32), of the wrong shape (a
# spatial size, a channel count, a rank too small), and a file that is
# not an .npy at all each give a non-zero exit (not a crash) and a message on
# stderr that names the problem. Both for the plain and the residualized
# model.

import subprocess

import numpy as np

import e2e
import netgen


def expect_rejected(tools, what, model, input_path, keywords):
    args = [tools.run, model, "--input", input_path, "--output",
            tools.path("rejected.out")]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode == 0:
        e2e.fail(f"{what}: resq-run accepted it (exit 0):\n  {' '.join(args)}")
    if done.returncode < 0:
        e2e.fail(f"{what}: resq-run crashed with signal {-done.returncode}:\n"
                 f"  {' '.join(args)}\n{done.stderr[-2000:]}")
    message = done.stderr.strip()
    if not message:
        e2e.fail(f"{what}: resq-run exited {done.returncode} without a message")
    if keywords and not any(k.lower() in message.lower() for k in keywords):
        e2e.fail(f"{what}: the message does not mention any of {keywords}:\n{message}")
    e2e.passed(f"bad input {what}: exit {done.returncode}, "
               f"'{message.splitlines()[0][:100]}'")


def test(tools):
    shape = (1, 8, 8, 4)
    layer = netgen.random_layer(np.random.default_rng(0), "conv2d", shape, out_channels=4)
    plain = e2e.write_model(tools, netgen.single_layer_net(layer, shape), "model")
    residual = e2e.residualize(tools, plain, "model", step=4, bits=8)
    good = np.zeros((3,) + shape, dtype=np.int8)

    def save(name, array):
        path = tools.path(name + ".npy")
        np.save(path, array)
        return path

    garbage = tools.path("garbage.npy")
    with open(garbage, "wb") as f:
        f.write(b"this is not a numpy file\n" * 4)

    cases = [
        ("missing input file", tools.path("no_such_frames.npy"),
         ["no_such_frames", "no such", "not found", "cannot open", "does not exist"]),
        ("dtype int16", save("int16", good.astype(np.int16)), ["int16", "dtype", "int8", "type"]),
        ("dtype uint8", save("uint8", good.astype(np.uint8)), ["uint8", "dtype", "int8", "type"]),
        ("dtype float32", save("float32", good.astype(np.float32)),
         ["float", "dtype", "int8", "type", "<f4"]),
        ("wrong height", save("height", np.zeros((3, 1, 9, 8, 4), dtype=np.int8)), ["shape"]),
        ("wrong channels", save("channels", np.zeros((3, 1, 8, 8, 3), dtype=np.int8)), ["shape"]),
        ("rank 3", save("rank", np.zeros(shape[1:], dtype=np.int8)), ["shape", "rank"]),
        ("not an .npy file", garbage, []),
    ]
    for model_what, model in (("plain model", plain), ("residualized model", residual)):
        for what, path, keywords in cases:
            expect_rejected(tools, f"{model_what}, {what}", model, path, keywords)
    expect_rejected(tools, "missing model file", tools.path("no_such_model.mlir"),
                    save("good", good), ["no_such_model", "no such", "not found",
                                         "cannot open", "does not exist"])


if __name__ == "__main__":
    e2e.main(test)
