#!/usr/bin/env bash
# Installs, builds and runs every test (lit suite and unit tests) via ctest.
#   scripts/check.sh [BUILD_DIR]      (default: build)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
bash "$ROOT/scripts/setup.sh" "$BUILD"
# The real models and clips: importer, fuzzing and video tests use them.
bash "$ROOT/scripts/fetch-data.sh" "$ROOT/data" > /dev/null
cd "$BUILD"
ctest --output-on-failure -j 2
