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
#   3. resq-opt        residualizes it: ResQ static (8 bits) and dynamic;
#   4. resq-compile    compiles the dynamic build ahead of time (object +
#                      C header), to show the artifact and its compile time;
#   5. resq-run        plays the clip through float, int8, ResQ static and
#                      ResQ dynamic, and prints the table (ms per frame,
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
  selfie) TFLITE=selfie_segmentation.tflite TASK=segmentation ;;
  pose) TFLITE=pose_landmark_lite.tflite TASK=pose ;;
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

step "1. import $TFLITE"
"$BIN/resq-translate" --import-tflite "$DATA/$TFLITE" -o "$OUT/model.mlir"

# Calibration frames come from the clip itself: the webcam clip whole (68
# consecutive frames); vtest.avi every 16th frame across its length. Ranges
# from the webcam clip do not carry to vtest (int8 IoU 0.16). With the
# first 64 consecutive vtest frames instead, the residual steps come out
# coarser (3.85 bits/MAC) but ResQ then loses 0.072 pooled IoU against
# int8 on vtest, more than the 0.02 allowed; the strided frames calibrate
# steps of 1 (4.41 bits/MAC, -0.019).
if [[ "$CLIP" == webcam ]]; then CAL=(--frames 68); else CAL=(--frames 48 --stride 16); fi
# Then ten single-layer step increases, costliest layers first.
CAL+=(--refine-steps 10)
step "2. calibrate int8 and residual steps on $VIDEO (${CAL[*]})"
# Calibration depends only on the model and clip: a second run reuses it.
if [[ ! -s "$OUT/model.int8.mlir" || "$OUT/model.mlir" -nt "$OUT/model.int8.mlir" ]]; then
  "$BIN/resq-quantize" "$OUT/model.mlir" --calibrate "$DATA/$VIDEO" \
    "${CAL[@]}" -o "$OUT/model.int8.mlir" 2>&1 | tee "$OUT/calibration.txt" |
    grep -v "^  ranges\|^  histograms"
else
  echo "(reusing $OUT/model.int8.mlir; delete it to calibrate again)"
fi

step "3. residualize: ResQ static (8 bits) and ResQ dynamic (bits 0,2..8 per pixel)"
"$BIN/resq-opt" "$OUT/model.int8.mlir" --resq-residualize="bits=8" \
  -o "$OUT/model.static.mlir"
"$BIN/resq-opt" "$OUT/model.int8.mlir" --resq-residualize="bits=8" \
  --resq-dynamic-bits="bit-set=0,2,3,4,5,6,7,8 block=1" -o "$OUT/model.dynamic.mlir"
echo "steps per layer (from calibration):" \
  "$(grep -o 'residual <step = [0-9]*' "$OUT/model.dynamic.mlir" |
     grep -o '[0-9]*$' | sort -n | uniq -c | awk '{printf "%s x %s, ", $1, $2}')"

step "4. compile ahead of time (resq-compile)"
"$BIN/resq-compile" "$OUT/model.dynamic.mlir" -o "$OUT/aot" --name "${MODEL}_resq" \
  --target-cpu native

step "5. play $VIDEO through float, int8, ResQ static and ResQ dynamic"
FRAMEARGS=()
[[ "$FRAMES" != 0 ]] && FRAMEARGS=(--frames "$FRAMES")
"$BIN/resq-run" --video "$DATA/$VIDEO" --task "$TASK" "${FRAMEARGS[@]}" \
  --float "$OUT/model.mlir" --int8 "$OUT/model.int8.mlir" \
  --resq static="$OUT/model.static.mlir" --resq dynamic="$OUT/model.dynamic.mlir" \
  --report "$OUT/report" --overlay-every 50
echo
echo "demo: report, per-frame metrics and overlays in $OUT/report"
