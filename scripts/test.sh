#!/usr/bin/env bash
# Every test, from a fresh machine: setup, lints, native tests, the wasm
# build and its size budget, then the JS suites (Node, headless Chromium).
#
#   bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "setup"
bash scripts/setup.sh

step "format and lints"
cargo fmt --check
# The fuzz targets are a crate (and workspace) of their own: formatted alike.
cargo fmt --check --manifest-path fuzz/Cargo.toml
cargo clippy --profile native --features native --all-targets --quiet -- -D warnings
# formats/: PNG and WebP, linked natively and by the edge, its own wasm for pages.
cargo clippy -p facebridge-formats --all-targets --quiet -- -D warnings
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="" cargo clippy -p facebridge-formats --target wasm32-unknown-unknown --quiet -- -D warnings
# With the shipped target features (wasm-pack.toml): simd128 selects the
# wasm SIMD kernels in src/detect/ops/simd.rs.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128"
cargo clippy --target wasm32-unknown-unknown --lib --quiet -- -D warnings
# The wasm as shipped: no tract, `.fbnet` networks (compiled first).
cargo run --profile native --example convert_models --quiet
cargo clippy --target wasm32-unknown-unknown --lib --no-default-features --features embed-short --quiet -- -D warnings
# The edge's wasm (pkg/edge/): the same, with EdgeProxy and the receipt signer.
cargo clippy --target wasm32-unknown-unknown --lib --no-default-features --features embed-short,edge --quiet -- -D warnings

step "native tests"
cargo test --profile native --features native
cargo test -p facebridge-formats --quiet
# What the fuzzers' seeds, the wasm suites and the edge benches compare against.
cargo run --profile native --features native --example js_fixtures --quiet

step "the unit tests again on wasm32 with simd128 (Node's WASI): the SIMD kernels and resize where they run"
bash scripts/test-wasm-units.sh

step "fuzzing smoke: every cargo-fuzz target for 30 s (nightly; scripts/fuzz.sh)"
FB_FUZZ_TIMEOUT=5 bash scripts/fuzz.sh "${FB_FUZZ_SECONDS:-30}"

step "wasm build"
bash scripts/build-wasm.sh
bash scripts/size-budget.sh

step "JS: Node, headless Chromium, the edge Worker in workerd, the demo page"
node --test --test-concurrency=1 --test-reporter=spec tests/js/node.test.mjs tests/js/browser.test.mjs \
  tests/js/edge.test.mjs tests/js/demo.test.mjs tests/js/words.test.mjs tests/js/capture.test.mjs tests/js/element.test.mjs \
  tests/js/prepare-worker.test.mjs
echo "screenshots of the demo's flows: test-out/screens/"

step "the npm package as installed: npm pack, install the tarball, Node / CommonJS / a page / a Worker"
node --test --test-reporter=spec tests/packaging/packaging.test.mjs

step "the README's first command, started and stopped once"
bash scripts/demo.sh --smoke
