"""Compares what an ahead-of-time compiled model wrote with what resq-run
wrote for the same frames, bit for bit.

    compare.py outputs GOT.raw EXPECTED.npy [WHAT]
        raw bytes (frames back to back) vs an .npy of the same dtype
    compare.py stats GOT.jsonl EXPECTED.jsonl [WHAT]
        per-frame, per-layer statistics (the C demo's JSON lines vs
        resq-run --stats, one stream)
Prints one OK line, or a message and exit status 1.
"""
import json
import sys

import numpy as np


def fail(message):
    print("MISMATCH " + message)
    sys.exit(1)


def outputs(got_path, expected_path, what):
    expected = np.load(expected_path)
    got = np.fromfile(got_path, dtype=expected.dtype)
    if got.size != expected.size:
        fail(f"{what}: {got.size} elements, expected {expected.size}")
    got = got.reshape(expected.shape)
    if not np.array_equal(got, expected):
        bad = np.argwhere(got != expected)
        fail(f"{what}: {len(bad)} elements differ, first at {tuple(bad[0])}: "
             f"{got[tuple(bad[0])]} vs {expected[tuple(bad[0])]}")
    print(f"OK {what}: {expected.shape[0]} frames of {expected.dtype} "
          f"{tuple(expected.shape[1:])} identical")


def stats(got_path, expected_path, what):
    def load(path):
        entries = []
        for line in open(path):
            e = json.loads(line)
            bits = {int(b): n for b, n in e["bits"].items() if n}
            entries.append((e["frame"], e["layer"], e["keyframe"],
                            e["scene_cut"], sorted(bits.items()), e["blocks"],
                            e["macs"], e["bops"]))
        return entries
    got, expected = load(got_path), load(expected_path)
    if len(got) != len(expected):
        fail(f"{what}: {len(got)} entries, expected {len(expected)}")
    for g, e in zip(got, expected):
        if g != e:
            fail(f"{what}: frame {e[0]} layer {e[1]}: got {g}, expected {e}")
    keyframes = sorted({e[0] for e in expected if e[2]})
    print(f"OK {what}: {len(expected)} layer statistics identical; "
          f"keyframes at {keyframes}")


mode, got_path, expected_path = sys.argv[1:4]
what = sys.argv[4] if len(sys.argv) > 4 else mode
{"outputs": outputs, "stats": stats}[mode](got_path, expected_path, what)
