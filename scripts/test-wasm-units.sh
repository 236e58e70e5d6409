#!/usr/bin/env bash
# The crate's unit tests compiled for wasm32 with simd128, as the shipped wasm
# is (wasm-pack.toml), and run by libtest in Node's WASI (scripts/wasi-run.mjs):
# the simd128 paths (src/image/resize.rs, src/detect/ops/) are only compiled
# there, so only there can their tests fail. wasm32-wasip1 rather than
# wasm32-unknown-unknown: the same code generation, with a libtest harness
# that runs plain #[test] functions.
#
#   bash scripts/test-wasm-units.sh [libtest filter and flags ...]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS="-C target-feature=+simd128"
export CARGO_TARGET_WASM32_WASIP1_RUNNER="node --no-warnings $PWD/scripts/wasi-run.mjs"
# The edge's features too: its admission and receipts run in a wasm as well.
# --nocapture: a failing test aborts the wasm (panic=abort), so its message
# must already be out.
cargo test --target wasm32-wasip1 --lib --no-default-features --features embed-models,edge \
  --quiet -- --nocapture "$@"

# The detector's tests again with relaxed SIMD, as the build Chromium loads
# (pkg/facebridge_relaxed_bg.wasm): its kernels take the fused multiply-add.
# Its own target directory; Node 20 needs a flag for relaxed SIMD.
if [ $# -eq 0 ]; then
  flag=
  node --v8-options | grep -q -- '--experimental-wasm-relaxed-simd' && flag=--experimental-wasm-relaxed-simd
  target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
  CARGO_TARGET_WASM32_WASIP1_RUNNER="node --no-warnings $flag $PWD/scripts/wasi-run.mjs" \
    cargo test --target wasm32-wasip1 --target-dir "$target_dir/wasi-relaxed" --lib \
    --no-default-features --features embed-models --quiet -- --nocapture detect::
fi
