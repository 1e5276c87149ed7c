#!/usr/bin/env bash
# The ResQ demo: residualizes examples/tiny_segnet.mlir (static 8-bit and
# Dynamic ResQ), runs it over a generated 60-frame moving-pattern sequence
# with resq-run, and reports per frame whether it was a keyframe, the mean
# residual bit-width and the fraction of skipped blocks, plus agreement with
# the standard int8 graph on keyframes and the exactness check A == ACC(R).
#
#   scripts/demo-example.sh [BUILD_DIR [WORK_DIR]]
#
# Installs what is missing and builds first (scripts/setup.sh). BUILD_DIR
# (default: build) receives bin/resq-opt and bin/resq-run; WORK_DIR (default
# BUILD_DIR/demo) the sequence, models, outputs, stats and state.
set -euo pipefail

if [[ $# -gt 2 ]]; then
  echo "usage: $0 [BUILD_DIR [WORK_DIR]]" >&2
  exit 2
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh" "${1:-$ROOT/build}"
BUILD="$(cd "${1:-$ROOT/build}" && pwd)"
WORK="${2:-$BUILD/demo}"
RESQ_OPT="$BUILD/bin/resq-opt"
RESQ_RUN="$BUILD/bin/resq-run"
PYTHON=/usr/bin/python3   # Debian's, which has numpy
MODEL="$ROOT/examples/tiny_segnet.mlir"
FRAMES=60
SEED=7
STEP=4
DYNAMIC="bit-set=0,2,4,8 block=4 scene-cut=0.5"

for tool in "$RESQ_OPT" "$RESQ_RUN"; do
  [[ -x "$tool" ]] || { echo "demo: $tool not found; build first" >&2; exit 1; }
done
rm -rf "$WORK"
mkdir -p "$WORK"

timed() {  # timed LABEL COMMAND...: runs it and prints the wall time
  local label="$1"; shift
  local start="$EPOCHREALTIME"
  "$@"
  awk -v label="$label" -v t0="$start" -v t1="$EPOCHREALTIME" \
    'BEGIN { printf "%-28s %6.2f s\n", label, t1 - t0 }'
}

"$PYTHON" "$ROOT/scripts/make_sequence.py" "$WORK/frames.npy" "$FRAMES" "$SEED"

timed "resq-run standard graph" \
  "$RESQ_RUN" "$MODEL" --input "$WORK/frames.npy" --output "$WORK/plain"

"$RESQ_OPT" "$MODEL" --resq-residualize="step=$STEP bits=8" -o "$WORK/static.mlir"
"$RESQ_OPT" "$MODEL" --resq-residualize="step=$STEP bits=8" \
  --resq-dynamic-bits="$DYNAMIC" -o "$WORK/dynamic.mlir"
echo "residualized: static (step=$STEP bits=8), dynamic (step=$STEP $DYNAMIC)"

for run in static dynamic; do
  mkdir -p "$WORK/$run.state"
  timed "resq-run $run" \
    "$RESQ_RUN" "$WORK/$run.mlir" --input "$WORK/frames.npy" \
      --output "$WORK/$run" --stats "$WORK/$run.stats.jsonl" \
      --dump-state "$WORK/$run.state"
done
echo

"$PYTHON" "$ROOT/scripts/demo_report.py" --model "$MODEL" \
  --plain "$WORK/plain0.npy" static="$WORK/static" dynamic="$WORK/dynamic"
