#!/usr/bin/env bash
# The README's first command: the demo page with everything behind it, on
# loopback, with no keys and no internet. Builds what is missing, starts the
# five simulators, the edge Worker in workerd and the page's server, and
# prints the URL to open.
#
#   bash scripts/demo.sh            # then open http://127.0.0.1:5173/
#   PORT=8080 bash scripts/demo.sh
#   bash scripts/demo.sh --smoke    # start, load the page once, stop (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --profile native --features native --quiet
# The wasm: rebuilt when pkg/ is missing or older than the sources.
if [ ! -f pkg/facebridge_bg.wasm ] ||
  [ -n "$(find src Cargo.toml Cargo.lock wasm-pack.toml -newer pkg/facebridge_bg.wasm -print -quit)" ]; then
  bash scripts/build-wasm.sh
fi
exec node scripts/stack.mjs --port "${PORT:-5173}" "$@"
