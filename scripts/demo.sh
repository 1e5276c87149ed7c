#!/usr/bin/env bash
# The main job: a real model on real video, from the TFLite file to the
# residual-quantized step function, side by side with the float and the
# standard int8 builds.
#
#   scripts/demo.sh [--model selfie|pose] [--clip vtest|webcam]
#                   [--frames N] [--build DIR] [--out DIR] [--example]
#
# Defaults: selfie_segmentation on vtest.avi (all 795 frames). Installs and
# builds what is missing (scripts/setup.sh), fetches the models and clips
# (scripts/fetch-data.sh), then:
#   1. resq-translate  imports the TFLite model to float TOSA;
#   2. resq-quantize   calibrates standard int8 and the residual steps on
#                      frames of the clip;
#   3. resq-opt        residualizes it: ResQ static (8 bits) and ResQ
#                      dynamic (widths 0,2..9 per pixel, every layer
#                      residual), and dynamic-dense: the same with the
#                      dense rules (standard int8 where most pixels
#                      change: faster on this CPU, at 8 bits there);
#   4. resq-compile    compiles the dynamic build ahead of time (object +
#                      C header), to show the artifact and its compile time;
#   5. resq-run        plays the clip through float, int8, ResQ static,
#                      ResQ dynamic and dynamic-dense, and prints the table (ms per frame,
#                      accuracy against float, bits, skipped blocks);
#                      overlays go to OUT/report/overlays.
# --example runs the bundled synthetic example instead (no downloads).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL=selfie CLIP=vtest FRAMES=0 BUILD="$ROOT/build" OUT="" EXAMPLE=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) MODEL="$2"; shift 2 ;;
    --clip) CLIP="$2"; shift 2 ;;
    --frames) FRAMES="$2"; shift 2 ;;
    --build) BUILD="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --example) EXAMPLE=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "demo: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$MODEL" in
  selfie) TASK=segmentation ;;
  pose) TASK=pose ;;
  *) echo "demo: --model is selfie or pose" >&2; exit 2 ;;
esac
case "$CLIP" in
  vtest) VIDEO=vtest.avi ;;
  webcam) VIDEO=movie.avi ;;
  *) echo "demo: --clip is vtest or webcam" >&2; exit 2 ;;
esac

if [[ $EXAMPLE == 1 ]]; then
  exec bash "$ROOT/scripts/demo-example.sh" "$BUILD"
fi
bash "$ROOT/scripts/setup.sh" "$BUILD"
DATA="$ROOT/data"
bash "$ROOT/scripts/fetch-data.sh" "$DATA" > /dev/null
OUT="${OUT:-$ROOT/out/$MODEL-$CLIP}"
mkdir -p "$OUT"
BIN="$BUILD/bin"
step() { echo; echo "== $*"; }

bash "$ROOT/scripts/prepare-model.sh" --model "$MODEL" --clip "$CLIP" \
  --build "$BUILD" --out "$OUT"

step "4. compile ahead of time (resq-compile)"
"$BIN/resq-compile" "$OUT/model.dynamic.mlir" -o "$OUT/aot" --name "${MODEL}_resq" \
  --target-cpu native

step "5. play $VIDEO through float, int8, ResQ static, ResQ dynamic and ResQ dynamic with the dense rules"
FRAMEARGS=()
[[ "$FRAMES" != 0 ]] && FRAMEARGS=(--frames "$FRAMES")
"$BIN/resq-run" --video "$DATA/$VIDEO" --task "$TASK" "${FRAMEARGS[@]}" \
  --float "$OUT/model.mlir" --int8 "$OUT/model.int8.mlir" \
  --resq static="$OUT/model.static.mlir" --resq dynamic="$OUT/model.dynamic.mlir" \
  --resq dynamic-dense="$OUT/model.dynamic-dense.mlir" \
  --report "$OUT/report" --overlay-every 50
echo
echo "demo: report, per-frame metrics and overlays in $OUT/report"
