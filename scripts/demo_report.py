#!/usr/bin/python3
"""Reports a demo run of scripts/demo.sh: a per-frame table of keyframes,
mean bit-width and skipped blocks for each residualized run, agreement with
the standard int8 graph on keyframes, and the exactness invariant A == ACC(R)
of every layer on every frame (from --dump-state). Exits 1 on a mismatch.

    scripts/demo_report.py --model M.mlir --plain PLAIN0.npy NAME=PREFIX...

where PREFIX0.npy, PREFIX.stats.jsonl and PREFIX.state/ are what
`resq-run --output PREFIX --stats PREFIX.stats.jsonl --dump-state
PREFIX.state` wrote.
"""

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "test", "e2e", "lib"))

import numpy as np  # noqa: E402

import netgen  # noqa: E402


def load_run(prefix):
    with open(prefix + ".stats.jsonl") as f:
        stats = [json.loads(line) for line in f if line.strip()]
    return {"output": np.load(prefix + "0.npy"), "stats": stats,
            "state": prefix + ".state"}


def per_frame(stats, frames):
    """frame -> (all layers keyframe, any scene cut, mean bits, skipped
    fraction, MACs) over all layers' blocks."""
    rows = {}
    for f in range(frames):
        entries = [s for s in stats if s["frame"] == f]
        blocks = sum(s["blocks"] for s in entries)
        if all(s["keyframe"] for s in entries):
            bits = 8.0
        else:
            bits = sum(8 * s["blocks"] if s["keyframe"] else
                       sum(int(b) * n for b, n in s["bits"].items())
                       for s in entries) / blocks
        skipped = sum(0 if s["keyframe"] else s["skipped"] * s["blocks"]
                      for s in entries) / blocks
        rows[f] = (all(s["keyframe"] for s in entries),
                   any(s["scene_cut"] for s in entries), bits, skipped,
                   sum(s["macs"] for s in entries))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--plain", required=True, help="standard graph output .npy")
    parser.add_argument("runs", nargs="+", metavar="NAME=PREFIX")
    args = parser.parse_args()

    with open(args.model) as f:
        net = netgen.parse_mlir(f.read())
    plain = np.load(args.plain)
    frames = plain.shape[0]
    runs = {}
    for spec in args.runs:
        name, prefix = spec.split("=", 1)
        runs[name] = load_run(prefix)
    rows = {name: per_frame(run["stats"], frames) for name, run in runs.items()}

    # Agreement with the standard int8 graph on the same frame: the share of
    # output codes that are identical (the residual error is bounded by the
    # step in every layer's input, so codes may move by a little).
    def agreement(run, f):
        return float(np.mean(run["output"][f] == plain[f]))

    header = "frame" + "".join(f" | {name:>7} key  bits  skip  same"
                               for name in runs)
    print(header)
    print("-" * len(header))
    for f in range(frames):
        line = f"{f:5d}"
        for name in runs:
            key, cut, bits, skipped, _ = rows[name][f]
            mark = "cut" if cut else ("K" if key else "")
            line += (f" | {'':>7} {mark:>3} {bits:5.2f} {skipped:5.0%}"
                     f" {agreement(runs[name], f):5.0%}")
        print(line)
    print()

    failures = []
    full_macs = rows[next(iter(runs))][0][4]  # frame 0 is a keyframe everywhere
    for name, run in runs.items():
        output = run["output"]
        keyframes = [f for f in range(frames) if rows[name][f][0]]
        agree = [f for f in keyframes if np.array_equal(output[f], plain[f])]
        differ = sum(not np.array_equal(output[f], plain[f]) for f in range(frames))
        if agree != keyframes:
            failures.append(f"{name}: keyframes {sorted(set(keyframes) - set(agree))} "
                            f"differ from the standard graph")
        exact = True
        for node in net.linear_layers():
            R = np.load(os.path.join(run["state"], node.name + ".R.npy"))
            A = np.load(os.path.join(run["state"], node.name + ".A.npy"))
            for f in range(frames):
                if not np.array_equal(A[f], node.layer.acc(R[f])):
                    failures.append(f"{name}: layer {node.name} frame {f}: A != ACC(R)")
                    exact = False
                    break
        macs = sum(r[4] for r in rows[name].values())
        diff = np.abs(output.astype(np.int32) - plain.astype(np.int32))
        print(f"{name}: keyframes {keyframes} == standard graph: "
              f"{'yes' if agree == keyframes else 'NO'}; A == ACC(R) for "
              f"{len(net.linear_layers())} layers x {frames} frames: "
              f"{'yes' if exact else 'NO'}; {differ} frames differ from the "
              f"standard graph (residual error: {np.mean(diff == 0):.1%} of "
              f"output codes identical, mean |diff| {diff.mean():.3f} codes, "
              f"max {diff.max()}); MACs {macs / (full_macs * frames):.1%} "
              f"of the standard graph's; mean bits "
              f"{np.mean([r[2] for r in rows[name].values()]):.2f}, skipped "
              f"{np.mean([r[3] for r in rows[name].values()]):.1%}")
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        sys.exit(1)
    print("\ndemo: all checks passed")


if __name__ == "__main__":
    main()
