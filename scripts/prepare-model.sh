#!/usr/bin/env bash
# Steps 1-3 of the main job for one model and clip, shared by demo.sh and
# bench.sh: import the TFLite model, calibrate standard int8 and the
# residual steps on frames of the clip, residualize. Writes into OUT:
#   model.mlir            float TOSA (resq-translate)
#   model.int8.mlir       standard int8 TOSA with calibrated steps
#   model.keyframes.mlir  the int8 graph as a ResQ step with a keyframe every
#                         frame: standard int8 through resq's kernels
#   model.static.mlir     ResQ static (8 bits)
#   model.dynamic.mlir    ResQ dynamic: every layer residual, bits 0,2..9 per
#                         pixel (the operating point of the accuracy bars)
#   model.dynamic-dense.mlir  the same with the dense rules: dense above 50%
#                         changed, standard int8 where calibration saw more
#                         than 50% change (faster on this CPU, more bits)
#   model.all-int8.mlir, model.all-int8.keyframes.mlir  (pose) every layer
#                         in int8, where model.int8.mlir keeps the most
#                         sensitive ones in float
#
#   scripts/prepare-model.sh --model selfie|pose --clip vtest|webcam
#                            --build DIR --out DIR
# Expects the build and data/ to exist (setup.sh, fetch-data.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL=selfie CLIP=vtest BUILD="$ROOT/build" OUT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) MODEL="$2"; shift 2 ;;
    --clip) CLIP="$2"; shift 2 ;;
    --build) BUILD="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "prepare-model: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
case "$MODEL" in
  selfie) TFLITE=selfie_segmentation.tflite ;;
  pose) TFLITE=pose_landmark_lite.tflite ;;
  *) echo "prepare-model: --model is selfie or pose" >&2; exit 2 ;;
esac
case "$CLIP" in
  vtest) VIDEO=vtest.avi ;;
  webcam) VIDEO=movie.avi ;;
  *) echo "prepare-model: --clip is vtest or webcam" >&2; exit 2 ;;
esac
DATA="$ROOT/data"
OUT="${OUT:-$ROOT/out/$MODEL-$CLIP}"
mkdir -p "$OUT"
BIN="$BUILD/bin"
step() { echo; echo "== $*"; }

step "1. import $TFLITE"
# Imported again only when the model or the importer changed, so that the
# calibration below (minutes) is reused too.
if [[ ! -s "$OUT/model.mlir" || "$DATA/$TFLITE" -nt "$OUT/model.mlir" ||
      "$BIN/resq-translate" -nt "$OUT/model.mlir" ]]; then
  "$BIN/resq-translate" --import-tflite "$DATA/$TFLITE" -o "$OUT/model.mlir"
else
  echo "(reusing $OUT/model.mlir)"
fi

# Calibration frames come from the clip itself: the webcam clip whole (68
# consecutive frames); vtest.avi every 16th frame across its length. Ranges
# from the webcam clip do not carry to vtest (int8 IoU 0.16). With the
# first 64 consecutive vtest frames instead, the residual steps came out
# coarser (3.85 bits/MAC) but ResQ then lost 0.072 pooled IoU against
# int8 on vtest, more than the 0.02 allowed. Strided frames are not what
# the stream plays, so resq-quantize keeps steps of 1 for them: with
# 9-bit residuals every vtest frame is then exact (ResQ's pooled IoU is
# int8's, 4.42 bits/MAC residual only).
if [[ "$CLIP" == webcam ]]; then CAL=(--frames 68); else CAL=(--frames 48 --stride 16); fi
# Then up to 60 single-layer step increases, costliest layers first, each
# kept if the error stays within the target and bits per MAC drop (one
# compile of the model each, at -O1; about 7 s for selfie). On the webcam
# clip: 4.40 -> 3.84 bits/MAC (residual only), mean IoU 0.9779 -> 0.9782.
# On vtest (strided frames) no step search and no trial runs.
CAL+=(--refine-steps 60 --candidate-opt-level 1)
# pose: with every layer in int8 its landmarks move 8.2 px against float on
# the 48 flagged vtest frames (bar: 3.0). Its 16 layers most sensitive on
# the landmarks (each alone in int8 against float, on 6 frames: one compile
# per layer, ~10 minutes once) stay in float: int8 2.48 px, ResQ dynamic
# 3.21 (with 12: 2.37 and 3.35, 0.02 px inside the bar int8 + 1.0; float
# layers cost 0.3 ms per frame more). The model with every layer in int8 is
# kept beside it (model.all-int8*.mlir) for comparison.
if [[ "$MODEL" == pose ]]; then
  CAL+=(--sensitivity --sensitivity-frames 6 --keep-float-top 16
        --error-outputs Identity)
fi
step "2. calibrate int8 and residual steps on $VIDEO (${CAL[*]})"
# Calibration depends only on the model and clip: a second run reuses it.
if [[ ! -s "$OUT/model.int8.mlir" || "$OUT/model.mlir" -nt "$OUT/model.int8.mlir" ]]; then
  "$BIN/resq-quantize" "$OUT/model.mlir" --calibrate "$DATA/$VIDEO" \
    "${CAL[@]}" -o "$OUT/model.int8.mlir" 2>&1 | tee "$OUT/calibration.txt" |
    grep -v "^  ranges\|^  histograms"
else
  echo "(reusing $OUT/model.int8.mlir; delete it to calibrate again)"
fi

if [[ "$MODEL" == pose ]]; then
  if [[ ! -s "$OUT/model.all-int8.mlir" || "$OUT/model.mlir" -nt "$OUT/model.all-int8.mlir" ]]; then
    step "2b. calibrate int8 with every layer in int8 (for comparison)"
    "$BIN/resq-quantize" "$OUT/model.mlir" --calibrate "$DATA/$VIDEO" \
      --frames 48 --stride 16 --residual-target 0 -o "$OUT/model.all-int8.mlir" \
      2>&1 | tail -1
  fi
  "$BIN/resq-opt" "$OUT/model.all-int8.mlir" --resq-residualize="keyframe-interval=1" \
    -o "$OUT/model.all-int8.keyframes.mlir"
fi

# Dynamic: bit-widths 0,2..9 per pixel (9 bits hold any change of an int8
# code: nothing clamps, and at steps of 1 every frame is exact). With the
# dense rules, a layer where more than half the pixels changed runs the
# rest of the frame dense (dense-above, exact int8), and a layer where more
# than half changed on the calibration clip's consecutive frames
# (resq.changed) runs standard int8 on every frame, keeping no state
# (standard-above).
step "3. residualize: ResQ static (8 bits), ResQ dynamic (bits 0,2..9 per pixel) and with the dense rules (50% changed)"
"$BIN/resq-opt" "$OUT/model.int8.mlir" --resq-residualize="keyframe-interval=1" \
  -o "$OUT/model.keyframes.mlir"
"$BIN/resq-opt" "$OUT/model.int8.mlir" --resq-residualize="bits=8" \
  -o "$OUT/model.static.mlir"
"$BIN/resq-opt" "$OUT/model.int8.mlir" --resq-residualize="bits=8" \
  --resq-dynamic-bits="bit-set=0,2,3,4,5,6,7,8,9 block=1" -o "$OUT/model.dynamic.mlir"
"$BIN/resq-opt" "$OUT/model.int8.mlir" --resq-residualize="bits=8 standard-above=0.5" \
  --resq-dynamic-bits="bit-set=0,2,3,4,5,6,7,8,9 block=1 dense-above=0.5" -o "$OUT/model.dynamic-dense.mlir"
rm -f "$OUT/model.residual-only.mlir" # the name of ResQ dynamic before
echo "standard int8 on every frame with the dense rules:" \
  "$(grep -c ', standard>' "$OUT/model.dynamic-dense.mlir" || true) of" \
  "$(grep -c 'residual <' "$OUT/model.dynamic-dense.mlir") layers"
echo "steps per layer (from calibration):" \
  "$(grep -o 'residual <step = [0-9]*' "$OUT/model.dynamic.mlir" |
     grep -o '[0-9]*$' | sort -n | uniq -c | awk '{printf "%s x %s, ", $1, $2}')"

