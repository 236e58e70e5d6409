#!/usr/bin/env bash
# Fails when what a page downloads for detection (the wasm, the JS glue and
# its snippets, each gzip -9) is over the budget in wasm-pack.toml. The
# full-range model, fetched only for documents, is reported, not counted.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=$(python3 -c 'import tomllib; print(tomllib.load(open("wasm-pack.toml","rb"))["budget"]["max_page_gzip_bytes"])')
gz() { gzip -9 -c "$1" | wc -c; }
wasm=$(gz pkg/facebridge_bg.wasm)
js=0
while IFS= read -r f; do js=$((js + $(gz "$f"))); done < <(find pkg -path pkg/edge -prune -o -name '*.js' -print | sort)
page=$((wasm + js))
echo "gzip -9: wasm $wasm + JS $js = $page bytes a page loads (budget $budget); full-range model on first use: $(gz pkg/blazeface_back_256.fbnet)"
if [ "$page" -gt "$budget" ]; then
  echo "over the size budget: find what grew (wasm-opt --func-metrics pkg/facebridge_bg.wasm), or raise the budget in wasm-pack.toml with the reason in BENCHMARKS.md" >&2
  exit 1
fi
