#!/usr/bin/env bash
# Fails when what a page downloads for detection (the wasm, the JS a page
# imports: the entry, with js/entry/simd.js and js/frame.js written in, the
# glue and its snippets, each gzip -9) is over the
# budget in wasm-pack.toml, for each wasm build: a page loads the relaxed-SIMD
# one (Chromium), the SIMD one, or the no-SIMD one where the engine has no
# wasm SIMD. The full-range model,
# fetched only for documents, is reported, not counted, as is pkg/edge/ (the
# Worker's) and the Node and Worker entries. A second budget counts the page
# of the capture component, a third the PNG/WebP decoder (fetched on the
# first such file).
set -euo pipefail
cd "$(dirname "$0")/.."
read -r budget component_budget formats_budget < <(python3 -c 'import tomllib; b = tomllib.load(open("wasm-pack.toml","rb"))["budget"]; print(b["max_page_gzip_bytes"], b["max_component_gzip_bytes"], b["max_formats_gzip_bytes"])')
gz() { gzip -9 -c "$1" | wc -c; }
js=0
while IFS= read -r f; do js=$((js + $(gz "$f"))); done < <(
  { echo pkg/facebridge.js; echo pkg/index.js; find pkg/snippets -name '*.js'; } | sort)
status=0
wasm_of() { if [ "$1" = simd ]; then echo pkg/facebridge_bg.wasm; else echo "pkg/facebridge_$1_bg.wasm"; fi; }
for build in relaxed simd nosimd; do
  wasm=$(gz "$(wasm_of "$build")")
  page=$((wasm + js))
  echo "gzip -9, $build: wasm $wasm + JS $js = $page bytes a page loads (budget $budget)"
  [ "$page" -le "$budget" ] || status=1
done
# The selfie component's page (<facebridge-capture>, issue 15): the same plus
# the element, the controller, its worker and the words.
extra=0
for f in pkg/element.js pkg/capture.js pkg/capture-worker.js pkg/words.js; do extra=$((extra + $(gz "$f"))); done
for build in relaxed simd nosimd; do
  page=$(( $(gz "$(wasm_of "$build")") + js + extra ))
  echo "gzip -9, $build, with <facebridge-capture>: + $extra = $page bytes (budget $component_budget)"
  [ "$page" -le "$component_budget" ] || status=1
done
# PNG and WebP: the formats wasm, fetched on the first such file.
formats=$(gz pkg/facebridge_formats_bg.wasm)
echo "gzip -9, PNG/WebP decoder on first use: $formats bytes (budget $formats_budget)"
[ "$formats" -le "$formats_budget" ] || status=1
echo "full-range model on first use: $(gz pkg/blazeface_back_256.fbnet)"
if [ "$status" -ne 0 ]; then
  echo "over the size budget: find what grew (wasm-opt --func-metrics pkg/facebridge_bg.wasm), or raise the budget in wasm-pack.toml with the reason in BENCHMARKS.md" >&2
  exit 1
fi
