#!/usr/bin/env bash
# Installs what resq needs on Debian 12 (idempotent) and builds it.
#   scripts/setup.sh [BUILD_DIR]      (default: build)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"

PACKAGES=(
  cmake ninja-build ccache git
  clang-22 lld-22 llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libgtest-dev python3 python3-numpy pkg-config
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libpng-dev
  libclang-rt-22-dev libxnnpack-dev libpthreadpool-dev libomp-22-dev
)
# npm fetches the real models; a machine with Node.js from elsewhere already
# has it, and Debian's npm would replace that Node.js.
command -v npm >/dev/null || PACKAGES+=(npm)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

export CCACHE_BASEDIR="$ROOT"
if [ ! -f "$BUILD/build.ninja" ]; then
  echo "== configuring $BUILD"
  cmake -G Ninja -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release
fi
echo "== building (2 jobs)"
ninja -C "$BUILD" -j 2
