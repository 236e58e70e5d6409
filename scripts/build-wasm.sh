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
# shellcheck disable=SC2086
wasm-pack build --target "$TARGET" --out-dir "$OUT_DIR" --out-name "$OUT_NAME" "${profile_flag[@]}" "$@" -- $CARGO_ARGS

# The full-range network ships beside the wasm, which does not embed it:
# src/wasm/model.js fetches it on first use and the wasm checks its SHA-256.
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

wasm="$OUT_DIR/${OUT_NAME}_bg.wasm"
# FB_WASM_OPT=0 skips binaryen for a quick local loop (CI never sets it).
[ "${FB_WASM_OPT:-1}" = 0 ] && WASM_OPT=
if [ -n "$WASM_OPT" ]; then
  bin=node_modules/.bin/wasm-opt
  [ -x "$bin" ] || { echo "wasm-opt missing: run scripts/setup.sh" >&2; exit 1; }
  # binaryen takes about 100 s here; the same input, arguments and binaryen
  # give the same output, so keep the last few results.
  cache="${FB_CACHE:-$HOME/.cache/facebridge}/wasm-opt"
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
    ls -t "$cache"/*.wasm | tail -n +5 | xargs -r rm -f
  fi
fi
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "wasm: $raw bytes raw, $gz bytes gzip -9"
