#!/usr/bin/env bash
# Builds pkg/ (the npm package) from wasm-pack.toml. Incremental: a second run
# with nothing changed takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(python3 - <<'PY'
import tomllib, shlex
c = tomllib.load(open("wasm-pack.toml", "rb"))
b, o = c["build"], c.get("wasm-opt", {})
print(f"TARGET={shlex.quote(b['target'])} OUT_DIR={shlex.quote(b['out-dir'])} OUT_NAME={shlex.quote(b['out-name'])}")
print(f"PROFILE={shlex.quote(b['profile'])} RUSTFLAGS_WASM={shlex.quote(b.get('rustflags', ''))}")
print(f"WASM_OPT={'1' if o.get('enabled') else ''} WASM_OPT_ARGS={shlex.quote(' '.join(o.get('args', [])))}")
cargo = [] if b.get("default-features", True) else ["--no-default-features"]
if b.get("features"):
    cargo += ["--features", ",".join(b["features"])]
print(f"CARGO_ARGS={shlex.quote(' '.join(cargo))}")
PY
)"

export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$RUSTFLAGS_WASM"
profile_flag=(--profile "$PROFILE")
[ "$PROFILE" = release ] && profile_flag=(--release)
# The `.fbnet` networks the wasm embeds, from models/*.onnx (rewritten only on change).
cargo run --profile native --example convert_models --quiet
# wasm-pack leaves snippets of an earlier build in place, and the entry
# imports every snippet it finds (below): start without them.
rm -rf "$OUT_DIR/snippets"
# shellcheck disable=SC2086
wasm-pack build --target "$TARGET" --out-dir "$OUT_DIR" --out-name "$OUT_NAME" "${profile_flag[@]}" "$@" -- $CARGO_ARGS

# The full-range network ships beside the wasm, which does not embed it:
# src/wasm/assets.js fetches it on first use and the wasm checks its SHA-256.
cp models/blazeface_back_256.fbnet "$OUT_DIR/"
python3 - "$OUT_DIR/package.json" <<'PY'
import json, sys
p = sys.argv[1]
m = json.load(open(p))
if "blazeface_back_256.fbnet" not in m["files"]:
    m["files"].append("blazeface_back_256.fbnet")
json.dump(m, open(p, "w"), indent=2, ensure_ascii=False)
open(p, "a").write("\n")
PY

# wasm-bindgen types the raw ABI exports in `InitOutput` (and the _bg.wasm.d.ts)
# with `any`; they are externref slots, and `unknown` says so without opening a
# hole in users' type checking. The public API is typed in src/wasm/types.d.ts.
for dts in "$OUT_DIR/$OUT_NAME.d.ts" "$OUT_DIR/${OUT_NAME}_bg.wasm.d.ts"; do
  sed -i -E '/^\s*(readonly|export const) /s/\bany\b/unknown/g' "$dts"
done
# An `unchecked_param_type` drops the `?` of an `Option<JsValue>` parameter:
# the options objects (all fields optional) may be left out, so say so.
sed -i -E 's/\b(options|models): (FaceBridgeOptions|DetectOptions|PrepareOptions|CompareOptions|EdgeModels)\)/\1?: \2)/' "$OUT_DIR/$OUT_NAME.d.ts"

# binaryen on one wasm file, in place. It takes about 100 s here; the same
# input, arguments and binaryen give the same output, so keep the last few
# results. FB_WASM_OPT=0 skips it for a quick local loop (CI never sets it).
optimise() {
  local wasm=$1
  [ "${FB_WASM_OPT:-1}" = 0 ] && return 0
  [ -n "$WASM_OPT" ] || return 0
  local bin=node_modules/.bin/wasm-opt
  [ -x "$bin" ] || { echo "wasm-opt missing: run scripts/setup.sh" >&2; exit 1; }
  local cache="${FB_CACHE:-$HOME/.cache/facebridge}/wasm-opt" key start
  key=$({ sha256sum < "$wasm"; echo "$WASM_OPT_ARGS"; "$bin" --version; } | sha256sum | cut -c1-32)
  if [ -f "$cache/$key.wasm" ]; then
    cp "$cache/$key.wasm" "$wasm"
    echo "wasm-opt: unchanged input, cached output ($key)"
  else
    start=$(date +%s)
    # shellcheck disable=SC2086
    "$bin" $WASM_OPT_ARGS "$wasm" -o "$wasm.opt"
    mv "$wasm.opt" "$wasm"
    echo "wasm-opt $WASM_OPT_ARGS: $(( $(date +%s) - start )) s"
    mkdir -p "$cache"
    cp "$wasm" "$cache/$key.wasm.part" && mv "$cache/$key.wasm.part" "$cache/$key.wasm"
    # shellcheck disable=SC2012
    ls -t "$cache"/*.wasm | tail -n +7 | xargs -r rm -f
  fi
}

wasm="$OUT_DIR/${OUT_NAME}_bg.wasm"
optimise "$wasm"
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "wasm: $raw bytes raw, $gz bytes gzip -9"

# Two more builds of the same crate beside the SIMD one, for the entry
# (js/entry/simd.js) to pick from by what the engine validates:
# - relaxed: simd128 and relaxed SIMD, whose fused multiply-add
#   (`f32x4.relaxed_madd`, src/detect/ops/simd.rs) the detector's kernels use
#   (Chromium since 114, Node 22+);
# - nosimd: no simd128, for engines that cannot compile wasm SIMD (Safari
#   before 16.4, some embedded webviews).
# Each has its own target directory, so the builds do not invalidate each
# other, and the same JS glue, checked byte for byte below, so one
# facebridge.js drives any of them. The directories are keyed by this
# checkout's path: the wasm records the crate's root (wasm-bindgen reads its
# package.json from there), and cargo, judging by mtimes relative to the
# package, would call a build made in another clone of the same commit fresh.
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
profile_dir=$PROFILE
[ "$PROFILE" = dev ] && profile_dir=debug
checkout=$(pwd -P | sha256sum | cut -c1-12)
# variant NAME RUSTFLAGS WASM_OPT_ARGS: pkg/facebridge_NAME_bg.wasm.
variant() {
  local name=$1 flags=$2 opt_args=$3
  local dir="$target_dir/$name-$checkout" out
  # Other clones' (CI's fresh clones leave one each), once a day old.
  find "$target_dir" -mindepth 1 -maxdepth 1 -name "$name-*" ! -path "$dir" -mtime +0 -exec rm -rf {} + 2>/dev/null || true
  # shellcheck disable=SC2086
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$flags" cargo build --target wasm32-unknown-unknown \
    --target-dir "$dir" "${profile_flag[@]}" --lib $CARGO_ARGS
  out=$(mktemp -d)
  wasm-bindgen --target "$TARGET" --out-dir "$out" --out-name "$OUT_NAME" \
    "$dir/wasm32-unknown-unknown/$profile_dir/facebridge.wasm"
  if ! cmp -s "$out/$OUT_NAME.js" "$OUT_DIR/$OUT_NAME.js"; then
    echo "the $name build's JS glue differs from the SIMD build's:" >&2
    diff "$out/$OUT_NAME.js" "$OUT_DIR/$OUT_NAME.js" | head -20 >&2
    exit 1
  fi
  mv "$out/${OUT_NAME}_bg.wasm" "$OUT_DIR/${OUT_NAME}_${name}_bg.wasm"
  rm -rf "$out"
  WASM_OPT_ARGS=$opt_args optimise "$OUT_DIR/${OUT_NAME}_${name}_bg.wasm"
  echo "$name wasm: $(stat -c %s "$OUT_DIR/${OUT_NAME}_${name}_bg.wasm") bytes raw, $(gzip -9 -c "$OUT_DIR/${OUT_NAME}_${name}_bg.wasm" | wc -c) bytes gzip -9"
}
variant nosimd "" "${WASM_OPT_ARGS/ --enable-simd/}"
if node_modules/.bin/wasm-dis "$OUT_DIR/${OUT_NAME}_nosimd_bg.wasm" | grep -q 'v128'; then
  echo "the no-SIMD wasm has SIMD instructions" >&2
  exit 1
fi
variant relaxed "$RUSTFLAGS_WASM,+relaxed-simd" "$WASM_OPT_ARGS --enable-relaxed-simd"
if ! node_modules/.bin/wasm-dis "$OUT_DIR/${OUT_NAME}_relaxed_bg.wasm" | grep -q 'f32x4.relaxed_madd'; then
  echo "the relaxed-SIMD wasm has no fused multiply-add" >&2
  exit 1
fi
if node_modules/.bin/wasm-dis "$OUT_DIR/${OUT_NAME}_bg.wasm" | grep -q 'relaxed_'; then
  echo "the SIMD wasm has relaxed-SIMD instructions" >&2
  exit 1
fi

# PNG and WebP for the browser's wasm, which leaves their decoders out (a
# quarter of its code, docs/design-decisions.md "PNG and WebP on demand"):
# formats/ as a wasm of its own, raw exports and no JS glue, that
# src/wasm/assets.js fetches the first time a PNG or WebP file comes. No
# SIMD, so that one file runs in every engine the three builds cover.
formats_dir="$target_dir/formats-$checkout"
find "$target_dir" -mindepth 1 -maxdepth 1 -name "formats-*" ! -path "$formats_dir" -mtime +0 -exec rm -rf {} + 2>/dev/null || true
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="" cargo build --target wasm32-unknown-unknown \
  --target-dir "$formats_dir" "${profile_flag[@]}" -p facebridge-formats --lib
formats_wasm="$OUT_DIR/facebridge_formats_bg.wasm"
cp "$formats_dir/wasm32-unknown-unknown/$profile_dir/facebridge_formats.wasm" "$formats_wasm"
WASM_OPT_ARGS="${WASM_OPT_ARGS/ --enable-simd/}" optimise "$formats_wasm"
if node_modules/.bin/wasm-dis "$formats_wasm" | grep -q 'v128'; then
  echo "the formats wasm has SIMD instructions" >&2
  exit 1
fi
echo "formats wasm: $(stat -c %s "$formats_wasm") bytes raw, $(gzip -9 -c "$formats_wasm" | wc -c) bytes gzip -9"

# The edge's wasm (pkg/edge/): the same crate with EdgeProxy and the receipt
# signer (feature `edge`), which a page never loads. wasm-bindgen directly,
# for `--experimental-reset-state-function`: after a trap (out of memory,
# abort) the Worker calls `__wbg_reset_state()` and gets a fresh instance
# instead of a poisoned one (edge/worker.mjs).
EDGE_DIR="$OUT_DIR/edge"
# shellcheck disable=SC2086
cargo build --target wasm32-unknown-unknown "${profile_flag[@]}" --lib $CARGO_ARGS,edge
mkdir -p "$EDGE_DIR"
wasm-bindgen --target "$TARGET" --out-dir "$EDGE_DIR" --out-name facebridge_edge \
  --experimental-reset-state-function "$target_dir/wasm32-unknown-unknown/$profile_dir/facebridge.wasm"
optimise "$EDGE_DIR/facebridge_edge_bg.wasm"
for dts in "$EDGE_DIR/facebridge_edge.d.ts" "$EDGE_DIR/facebridge_edge_bg.wasm.d.ts"; do
  sed -i -E '/^\s*(readonly|export const) /s/\bany\b/unknown/g' "$dts"
done
sed -i -E 's/\b(options|models): (FaceBridgeOptions|DetectOptions|PrepareOptions|CompareOptions|EdgeModels)\)/\1?: \2)/' "$EDGE_DIR/facebridge_edge.d.ts"
python3 - "$OUT_DIR/package.json" <<'PY'
import json, sys
p = sys.argv[1]
m = json.load(open(p))
for f in ["edge/facebridge_edge.js", "edge/facebridge_edge.d.ts", "edge/facebridge_edge_bg.wasm"]:
    if f not in m["files"]:
        m["files"].append(f)
json.dump(m, open(p, "w"), indent=2, ensure_ascii=False)
open(p, "a").write("\n")
PY
# The entries each host resolves (js/entry/): browsers and bundlers get the
# module ready on import, Node reads the wasm from the package, Workers import
# it as a module; `facebridge/manual` is wasm-bindgen's own, with `init()`.
# npm shows the package's own README (wasm-pack copied the repository's).
cp js/README.md "$OUT_DIR/README.md"
cp js/entry/index.js js/entry/index.d.ts js/entry/node.js js/entry/workerd.js js/entry/simd.js js/entry/require.cjs "$OUT_DIR/"
# The entry imports the glue's snippets itself, beside the glue
# (js/entry/index.js), and re-exports the glue's names one by one.
imports=$(cd "$OUT_DIR" && find snippets -name '*.js' | sort | sed 's|.*|, import("./&")|' | paste -sd ' ' -)
[ -n "$imports" ] || { echo "no wasm-bindgen snippets in $OUT_DIR: js/entry/index.js expects them" >&2; exit 1; }
grep -q ' /\* snippets \*/\]' "$OUT_DIR/index.js" || { echo "js/entry/index.js has no /* snippets */ marker" >&2; exit 1; }
sed -i "s| /\* snippets \*/\]|$imports]|" "$OUT_DIR/index.js"
assets_snippet=$(cd "$OUT_DIR" && find snippets -path '*/src/wasm/assets.js')
[ -n "$assets_snippet" ] || { echo "no assets.js snippet in $OUT_DIR: js/entry/workerd.js expects it" >&2; exit 1; }
grep -q '"/\* assets snippet \*/"' "$OUT_DIR/workerd.js" || { echo "js/entry/workerd.js has no /* assets snippet */ marker" >&2; exit 1; }
sed -i "s|\"/\\* assets snippet \\*/\"|\"./$assets_snippet\"|" "$OUT_DIR/workerd.js"
names=$(node --input-type=module -e '
  const m = await import(process.argv[1]);
  console.log(Object.keys(m).filter((k) => k !== "default").sort().join(", "));' "$(pwd)/$OUT_DIR/$OUT_NAME.js")
case "$names" in *FaceBridge*) ;; *) echo "the glue's exports ($names) have no FaceBridge" >&2; exit 1 ;; esac
grep -q '^/\* glue exports \*/$' "$OUT_DIR/index.js" || { echo "js/entry/index.js has no /* glue exports */ marker" >&2; exit 1; }
sed -i "s|^/\* glue exports \*/\$|export const { $names } = glue;|" "$OUT_DIR/index.js"
# No static imports left in the browser entry, so that it runs (and sends
# the wasm's request) as soon as it arrives: its own helpers
# (js/entry/simd.js, js/frame.js) are written into pkg/index.js in place of
# their imports; the glue comes by dynamic import (above). Import + first
# detection 112 -> 100 ms over 40 fresh contexts (docs/design-decisions.md).
# The files stay in the package for node.js and workerd.js.
python3 - "$OUT_DIR/index.js" js/entry/simd.js js/frame.js <<'PY'
import re, sys
entry_path, modules = sys.argv[1], sys.argv[2:]
entry = open(entry_path).read()
decl = re.compile(r"^(?:export )?(?:async )?(?:function\*?|const|let|var|class) +([A-Za-z_$][\w$]*)", re.M)
taken = set(decl.findall(entry))
for group in re.findall(r"^export const \{([^}]*)\} = glue;", entry, re.M):
    taken |= {n.strip() for n in group.split(",")}
for path in modules:
    name = path.rsplit("/", 1)[1]
    line = re.compile(r'^import \{([^}]*)\} from "\./' + re.escape(name) + r'";\n', re.M)
    found = line.findall(entry)
    if len(found) != 1:
        sys.exit(f"index.js should import {name} once, as `import {{ ... }} from \"./{name}\";`")
    body = open(path).read()
    if re.search(r"^\s*(import|export) *(\{|\*|default)", body, re.M) or re.search(r"\bimport\s*\(|\bimport\.meta\b", body):
        sys.exit(f"{path} has an import, a re-export or a default export: it cannot be written into index.js")
    exported = set(re.findall(r"^export (?:async )?(?:function\*?|const|let|class) +([A-Za-z_$][\w$]*)", body, re.M))
    wanted = {n.strip() for n in found[0].split(",") if n.strip()}
    if not wanted <= exported:
        sys.exit(f"{path} does not export {sorted(wanted - exported)}")
    names = set(decl.findall(body))
    if names & taken:
        sys.exit(f"{path} declares {sorted(names & taken)}, a name index.js already has")
    taken |= names
    body = re.sub(r"^export ", "", body, flags=re.M)
    entry = line.sub(lambda _: f"// ---- {name}, written in by scripts/build-wasm.sh ----\n{body}// ---- end of {name} ----\n", entry)
open(entry_path, "w").write(entry)
PY
cp js/words.js js/words.d.ts js/frame.js js/capture.js js/capture.d.ts js/capture-worker.js js/element.js js/element.d.ts "$OUT_DIR/"
python3 - "$OUT_DIR/package.json" <<'PY'
import json, sys
p = sys.argv[1]
m = json.load(open(p))
types = "./index.d.ts"
m["exports"] = {
    ".": {
        "types": types,
        "workerd": "./workerd.js",
        "node": {"import": "./node.js", "require": "./require.cjs"},
        "require": "./require.cjs",
        "default": "./index.js",
    },
    "./manual": {"types": "./facebridge.d.ts", "default": "./facebridge.js"},
    "./edge": {"types": "./edge/facebridge_edge.d.ts", "default": "./edge/facebridge_edge.js"},
    "./words": {"types": "./words.d.ts", "default": "./words.js"},
    "./capture": {"types": "./capture.d.ts", "default": "./capture.js"},
    "./element": {"types": "./element.d.ts", "default": "./element.js"},
    "./facebridge_bg.wasm": "./facebridge_bg.wasm",
    "./facebridge_nosimd_bg.wasm": "./facebridge_nosimd_bg.wasm",
    "./facebridge_relaxed_bg.wasm": "./facebridge_relaxed_bg.wasm",
    "./facebridge_formats_bg.wasm": "./facebridge_formats_bg.wasm",
    "./blazeface_back_256.fbnet": "./blazeface_back_256.fbnet",
    "./package.json": "./package.json",
}
m["main"] = "./index.js"
m["module"] = "./index.js"
m["types"] = types
m["engines"] = {"node": ">=20.16"}
# The entries initialise the wasm when imported: a bundler must keep them.
m["sideEffects"] = ["./index.js", "./node.js", "./workerd.js", "./capture.js", "./capture-worker.js", "./element.js", "./snippets/*"]
for f in ["index.js", "index.d.ts", "node.js", "workerd.js", "simd.js", "require.cjs", "facebridge_nosimd_bg.wasm", "facebridge_relaxed_bg.wasm",
          "facebridge_formats_bg.wasm",
          "words.js", "words.d.ts", "frame.js",
          "capture.js", "capture.d.ts", "capture-worker.js", "element.js", "element.d.ts"]:
    if f not in m["files"]:
        m["files"].append(f)
json.dump(m, open(p, "w"), indent=2, ensure_ascii=False)
open(p, "a").write("\n")
PY

raw=$(stat -c %s "$EDGE_DIR/facebridge_edge_bg.wasm")
gz=$(gzip -9 -c "$EDGE_DIR/facebridge_edge_bg.wasm" | wc -c)
echo "edge wasm: $raw bytes raw, $gz bytes gzip -9"
