#!/usr/bin/env bash
# The CLI tour (the demo page is scripts/demo.sh): find and draw the faces in a sample
# photo, show the quality gate refusing a group photo as a selfie (nothing
# would be sent), prepare a photo within Valify's 2 MB counted as base64, and
# compare two photos through the local AIGEN simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --profile native --features native --quiet
B="${CARGO_TARGET_DIR:-target}/native/facebridge"
out=${1:-demo-out}
mkdir -p "$out"

"$B" detect tests/fixtures/photos/sample3.jpg --role selfie --annotate "$out/sample3-faces.png" > "$out/detect.json"
"$B" prepare tests/fixtures/photos/sample3.jpg --role selfie -o "$out/refused.jpg" > "$out/refused.json" || true
"$B" prepare tests/fixtures/photos/sample6.jpg --role document --no-gate --max-bytes 2000000 --base64 \
  -o "$out/document.jpg" > "$out/document.json"

# Two photos of one person for the comparison: the middle face of sample3,
# cropped as a selfie and as a smaller card-like shot (the CLI has no crop
# command, so python3 takes the box from the detection above and ffmpeg cuts).
python3 - "$out" <<'PY'
import json, subprocess, sys
out = sys.argv[1]
r = json.load(open(f"{out}/detect.json"))
faces = sorted(r["faces"], key=lambda f: abs(f["box"]["x"] + f["box"]["w"] / 2 - r["width"] / 2))
b = faces[0]["box"]
s = max(b["w"], b["h"])
cx, cy = b["x"] + b["w"] / 2, b["y"] + b["h"] / 2
w, h = int(s * 2.2) // 2 * 2, int(s * 2.9) // 2 * 2
x, y = max(0, int(cx - w / 2)), max(0, int(cy - h * 0.42))
for name, scale in (("selfie", 1.0), ("card", 0.7)):
    sw, sh = int(w * scale) // 2 * 2, int(h * scale) // 2 * 2
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", "tests/fixtures/photos/sample3.jpg", "-vf",
                    f"crop={w}:{h}:{x}:{y},scale={sw}:{sh}", "-q:v", "3", f"{out}/{name}.jpg"], check=True)
PY

sim_log="$out/simulator.txt"
"$B" simulate --listen 127.0.0.1:0 > "$sim_log" 2>/dev/null &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$sim_log" ] && break; sleep 0.1; done
base=$(head -1 "$sim_log")
"$B" compare --provider aigen --base-url "$base" --dev-secrets "$out/card.jpg" "$out/selfie.jpg" > "$out/compare.json" || true

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
d = json.load(open(f"{out}/detect.json"))
print(f"== detect sample3.jpg: {len(d['faces'])} faces in {d['width']}x{d['height']} (drawn in {out}/sample3-faces.png)")
for f in d["faces"]:
    b = f["box"]
    print(f"   box {b['x']:.0f},{b['y']:.0f} {b['w']:.0f}x{b['h']:.0f}  score {f['score']:.2f}")
e = json.load(open(f"{out}/refused.json"))["error"]
print(f"== prepare sample3.jpg as a selfie: refused before any billed call: {e['code']}")
print(f"   {e['message']}")
r = json.load(open(f"{out}/document.json"))["report"]
print(f"== prepare sample6.jpg as a document for Valify: {r['width']}x{r['height']}, {r['bytes']} bytes "
      f"({r['base64Bytes']} as base64, budget 2000000), JPEG quality {r['jpegQuality']}, {r['encodes']} encodes")
c = json.load(open(f"{out}/compare.json"))
if "result" in c:
    m = c["result"]
    print(f"== compare card.jpg with selfie.jpg through the local AIGEN simulator: {m['decision']}, "
          f"similarity {m['similarity']:.3f} (simulator score, not a biometric result)")
else:
    print(f"== compare failed: {c['error']['code']}: {c['error']['message']}")
print(f"outputs in {out}/")
PY
