#!/usr/bin/env bash
# Installs, builds and runs every test (lit suite and unit tests) via ctest.
#   scripts/check.sh [BUILD_DIR]      (default: build)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
bash "$ROOT/scripts/setup.sh" "$BUILD"
cd "$BUILD"
ctest --output-on-failure -j 2
