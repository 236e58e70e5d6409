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
