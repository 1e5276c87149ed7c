#!/usr/bin/env bash
# Runs the TFLite importer fuzzer for a bounded time; fails on any crash.
#   run_tflite_fuzzer.sh FUZZER SOURCE_DIR WORK_DIR SECONDS [PYTHON]
# Seeds: the real models in SOURCE_DIR/data (skipped, exit 77, when absent:
# run scripts/fetch-data.sh) and every small model of test/Importer/lib/
# cases.py. New coverage-increasing inputs accumulate in WORK_DIR/corpus;
# a crash leaves WORK_DIR/crash-* (reproduce: FUZZER WORK_DIR/crash-...).
set -u
fuzzer="$1"; src="$2"; work="$3"; seconds="$4"; python="${5:-/usr/bin/python3}"
[ -x "$python" ] || python=python3

missing=()
for m in selfie_segmentation.tflite pose_landmark_lite.tflite; do
  [ -s "$src/data/$m" ] || missing+=("$m")
done
if ((${#missing[@]})); then
  echo "SKIP: ${missing[*]} not in $src/data (run scripts/fetch-data.sh)"
  exit 77
fi

mkdir -p "$work/corpus" "$work/seeds"
cp "$src/data/selfie_segmentation.tflite" "$src/data/pose_landmark_lite.tflite" "$work/seeds/"
for c in $("$python" "$src/test/Importer/lib/cases.py" --list); do
  "$python" "$src/test/Importer/lib/cases.py" "$c" "$work/seeds/$c.tflite" || exit 1
done
echo "seeds: $(ls "$work/seeds" | wc -l) models; corpus: $(ls "$work/corpus" | wc -l) inputs"

# Inputs that crashed earlier versions: each must now be handled.
regressions=("$src"/test/fuzz/regressions/*.bin)
if [ -e "${regressions[0]}" ]; then
  if ! "$fuzzer" -rss_limit_mb=4096 "${regressions[@]}" >"$work/regressions.log" 2>&1; then
    tail -30 "$work/regressions.log"
    echo "FAIL: a regression input crashes again (log: $work/regressions.log)"
    exit 1
  fi
  echo "regressions: ${#regressions[@]} former crash inputs handled"
fi

"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=60 -max_len=3000000 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "$work/seeds" \
  "$src/test/fuzz/regressions" 2>&1 |
  grep -v "^#[0-9]*.*\(NEW\|REDUCE\|pulse\)\|NEW_FUNC\|^INFO: \|^ *\"\|Recommended dictionary"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
  echo "FAIL: the fuzzer found a crash (exit $status); inputs: $(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null)"
  exit 1
fi
echo "PASS: no crash in $seconds s"
