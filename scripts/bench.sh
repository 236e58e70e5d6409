#!/usr/bin/env bash
# The benchmark behind BENCHMARKS.md: native, wasm in Node, wasm in Chromium.
#   bash scripts/bench.sh   → bench-out/table.md and bench-out/results.json
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/build-wasm.sh
cargo build --profile native --features native --bench native --quiet
mkdir -p bench-out
bin=$(ls -t "${CARGO_TARGET_DIR:-target}"/native/deps/native-* | grep -v '\.d$' | head -1)
"$bin" > bench-out/native.json
"$bin" --peak-12mp > bench-out/native-peak.json
node benches/run.mjs
