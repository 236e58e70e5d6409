#!/usr/bin/env bash
# facebridge against MediaPipe (tasks-vision and legacy), face-api and
# browser-image-compression in one headless Chromium session.
#   bash scripts/bench-anchors.sh   → the tables on stdout, bench-out/anchors.{md,json},
#                                     then scripts/bench.sh's native-vs-wasm table
#   ANCHORS_ONLY=1 bash scripts/bench-anchors.sh   → the anchors alone
# The anchors are installed here only (benches/anchors/node_modules), never in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/build-wasm.sh >/dev/null
(cd benches/anchors && npm ci --no-audit --no-fund --loglevel=error)

out=bench-out/anchors
mkdir -p "$out"
# tasks-vision@20230920 refuses a model without normalisation metadata, and the
# .tflite that @mediapipe/face_detection ships has none: add it (tflite-support).
venv="${XDG_CACHE_HOME:-$HOME/.cache}/facebridge/venv-anchors"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import tensorflow_lite_support" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet tflite-support==0.4.4
fi
"$venv/bin/python" benches/anchors/add_tflite_metadata.py \
  benches/anchors/node_modules/@mediapipe/face_detection/face_detection_short_range.tflite \
  "$out/face_detection_short_range_md.tflite" >/dev/null

# Inputs: one large face in a 640×480 frame (the rightmost person of sample2),
# and a 4032×3024 phone-like JPEG of sample1 with Gaussian noise (~3.7 MB).
ffmpeg -v error -y -i tests/fixtures/photos/sample2.jpg \
  -vf "crop=587:440:1260:73,scale=640:480" -q:v 3 "$out/frame-640x480.jpg"
ffmpeg -v error -y -i tests/fixtures/photos/sample1.jpg \
  -vf "scale=4032:3024:flags=bicubic,noise=alls=7:allf=t:all_seed=42" -q:v 2 "$out/photo-12mp.jpg"
# Selfie-like frames, one per face of sample1–6, for box agreement.
cargo build --profile native --features native --quiet
python3 benches/anchors/make_selfies.py "${CARGO_TARGET_DIR:-target}/native/facebridge" \
  tests/fixtures/photos "$out/selfies"
echo "inputs: $(stat -c %s "$out/frame-640x480.jpg") B frame, $(stat -c %s "$out/photo-12mp.jpg") B 12 MP photo" >&2

node benches/anchors.mjs
# Our native-vs-wasm ratios from the same machine and build (scripts/bench.sh).
if [ "${ANCHORS_ONLY:-0}" != 1 ]; then
  echo
  echo "## facebridge: native vs wasm (scripts/bench.sh)"
  bash scripts/bench.sh | sed -n '/^Chromium/,$p'
fi
