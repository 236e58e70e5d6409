#!/usr/bin/env bash
# The main job, until the demo page exists: detect the faces in a sample
# photo (and draw them), then prepare a selfie crop of one face for Valify.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --profile native --features native --quiet
target=${CARGO_TARGET_DIR:-target}
B="$target/native/facebridge"
out=${1:-demo-out}
mkdir -p "$out"

echo "== detect: tests/fixtures/photos/sample3.jpg (boxes drawn in $out/sample3-faces.png)"
"$B" detect tests/fixtures/photos/sample3.jpg --annotate "$out/sample3-faces.png" \
  | python3 -c 'import json,sys; r=json.load(sys.stdin); print(f"{len(r["faces"])} faces in {r["width"]}x{r["height"]}:"); [print(f"  box {f["box"]["x"]:.0f},{f["box"]["y"]:.0f} {f["box"]["w"]:.0f}x{f["box"]["h"]:.0f}  score {f["score"]:.2f}") for f in r["faces"]]; print("gate as a selfie:", [g["code"] for g in r["gate"]] or "pass")'

echo "== prepare: the whole group photo as a selfie is refused before any billed call"
"$B" prepare tests/fixtures/photos/sample3.jpg --role selfie -o "$out/refused.jpg" \
  | python3 -c 'import json,sys; e=json.load(sys.stdin)["error"]; print(f"  {e["code"]}: {e["message"]}")' || true

echo "== prepare: a document photo, whole, within Valify's 2 MB counted as base64"
"$B" prepare tests/fixtures/photos/sample6.jpg --role document --no-gate --max-bytes 2000000 --base64 -o "$out/document.jpg" \
  | python3 -c 'import json,sys; r=json.load(sys.stdin)["report"]; print(f"  {r["width"]}x{r["height"]}, {r["bytes"]} bytes ({r["base64Bytes"]} as base64), JPEG quality {r["jpegQuality"]}, {r["encodes"]} encodes")'
echo "outputs in $out/"
