#!/usr/bin/env bash
# Fails when the wasm's gzip size is over the budget in wasm-pack.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=$(python3 -c 'import tomllib; print(tomllib.load(open("wasm-pack.toml","rb"))["budget"]["max_wasm_gzip_bytes"])')
wasm=pkg/facebridge_bg.wasm
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "wasm gzip -9: $gz bytes (budget $budget)"
if [ "$gz" -gt "$budget" ]; then
  echo "over the size budget: find what grew (twiggy top $wasm), or raise the budget in wasm-pack.toml with the reason in BENCHMARKS.md" >&2
  exit 1
fi
