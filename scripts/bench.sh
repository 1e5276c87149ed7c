#!/usr/bin/env bash
# The speed benchmark: resq against XNNPACK on the same frames of vtest.avi.
#
#   scripts/bench.sh [--model selfie|pose|both] [--frames N] [--build DIR]
#
# Installs and builds what is missing, fetches the data, prepares each model
# as the main job does (import, calibration on vtest.avi, residualization;
# scripts/prepare-model.sh, reused when already done), then runs resq-bench:
# XNNPACK fp32 and int8, resq's standard int8 (a keyframe every frame), ResQ
# static, ResQ dynamic and ResQ dynamic with the dense rules, each on 1 and
# 2 threads, and resq's float build
# (the accuracy reference); all frames (default) after 10 warm-up frames.
# Then, per model, the kernel of every linear layer shape against the CPU's
# measured VNNI peak, and the change sweep (ms per frame when p% of the
# input changes) of both ResQ dynamic builds. Tables and plots go to
# out/bench/MODEL/ (results.md, results.json, plot.svg, kernels.md,
# sweep-dynamic.md, sweep-dynamic-dense.md).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODELS=(selfie pose) FRAMES=0 BUILD="$ROOT/build"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) case "$2" in both) MODELS=(selfie pose) ;; *) MODELS=("$2") ;; esac; shift 2 ;;
    --frames) FRAMES="$2"; shift 2 ;;
    --build) BUILD="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
bash "$ROOT/scripts/setup.sh" "$BUILD"
bash "$ROOT/scripts/fetch-data.sh" "$ROOT/data" > /dev/null
for MODEL in "${MODELS[@]}"; do
  case "$MODEL" in
    selfie) TASK=segmentation ;;
    pose) TASK=pose ;;
    *) echo "bench: --model is selfie, pose or both" >&2; exit 2 ;;
  esac
  OUT="$ROOT/out/$MODEL-vtest"
  bash "$ROOT/scripts/prepare-model.sh" --model "$MODEL" --clip vtest \
    --build "$BUILD" --out "$OUT"
  echo
  echo "== benchmark: $MODEL on vtest.avi"
  # pose's int8 keeps its most sensitive layers in float (prepare-model.sh);
  # the build with every layer in int8 runs beside it.
  ALLINT8=() KERNELMODEL="$OUT/model.int8.mlir"
  if [[ -s "$OUT/model.all-int8.keyframes.mlir" ]]; then
    ALLINT8=(--resq int8-every-layer="$OUT/model.all-int8.keyframes.mlir")
    KERNELMODEL="$OUT/model.all-int8.mlir"
  fi
  "$BUILD/bin/resq-bench" --video "$ROOT/data/vtest.avi" --task "$TASK" \
    --frames "$FRAMES" --float "$OUT/model.mlir" \
    --resq int8="$OUT/model.keyframes.mlir" "${ALLINT8[@]}" \
    --resq static="$OUT/model.static.mlir" \
    --resq dynamic="$OUT/model.dynamic.mlir" \
    --resq dynamic-dense="$OUT/model.dynamic-dense.mlir" \
    --report "$ROOT/out/bench/$MODEL"
  echo
  echo "== kernels: every linear layer shape of $MODEL against the VNNI peak"
  "$BUILD/bin/resq-bench" --kernels "$KERNELMODEL" \
    --report "$ROOT/out/bench/$MODEL"
  echo
  # Both dynamic builds: ResQ dynamic runs the residual path in every
  # layer; dynamic-dense runs its standard layers dense on every frame.
  for BUILDNAME in dynamic dynamic-dense; do
    echo "== sweep: $MODEL ResQ $BUILDNAME, p% of the input blocks changing per frame"
    "$BUILD/bin/resq-bench" --sweep "$OUT/model.$BUILDNAME.mlir" \
      --video "$ROOT/data/vtest.avi" --report "$ROOT/out/bench/$MODEL"
  done
done
