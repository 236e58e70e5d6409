#!/usr/bin/env bash
# Runs every cargo-fuzz target (fuzz/fuzz_targets/) for a set time and prints
# executions and findings; fails on any crash, timeout, leak or allocation
# over the target's limit.
#
#   bash scripts/fuzz.sh [seconds per target] [target ...]    (default: 30 s, all)
#
# FB_FUZZ_RUNS=N ends a target after N executions if that comes first (the
# long run: `FB_FUZZ_RUNS=1000000 bash scripts/fuzz.sh 1200`).
#
# An input slower than its target's limit (1 s; `prepare` 3 s under ASan) is
# a finding; the CI smoke run (scripts/test.sh) sets FB_FUZZ_TIMEOUT=5, so a
# busy machine does not fail it.
#
# Needs the nightly toolchain (on these machines through rustup) and
# cargo-fuzz (installed here from crates.io when missing). Seeds come from the
# test fixtures and are written to fuzz-out/seeds/; the corpus grows in
# fuzz-out/corpus/ (both ignored by git), crashes land in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode prepare budget fbnet tokens edge_body responses frames)

rustup toolchain list | grep -q '^nightly' || {
  echo "fuzz: the nightly toolchain is missing (rustup toolchain install nightly)" >&2
  exit 1
}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
# The embedded networks the fuzz build links (no tract in it).
[ -f models/blazeface_front_128.fbnet ] || cargo run --profile native --example convert_models --quiet
# The seeds' photos (tests/fixtures/generated/).
[ -f tests/fixtures/generated/selfie-a.jpg ] ||
  cargo run --profile native --features native --example js_fixtures --quiet
export CARGO_TARGET_DIR="${FB_FUZZ_TARGET_DIR:-$HOME/.cache/facebridge/fuzz-target}"

# ── Seeds ─────────────────────────────────────────────────────────────────
seeds=fuzz-out/seeds
rm -rf "$seeds"
mkdir -p "$seeds"/{decode,prepare,budget,fbnet,tokens,edge_body,responses,frames} fuzz-out/corpus
for f in selfie-a.jpg card-a.jpg wall.jpg; do
  cp "tests/fixtures/generated/$f" "$seeds/decode/"
  cp "tests/fixtures/generated/$f" "$seeds/prepare/"
done
ffmpeg -v error -y -f lavfi -i testsrc=size=64x48 -frames:v 1 "$seeds/decode/t.webp" 2>/dev/null || true
ffmpeg -v error -y -f lavfi -i testsrc=size=64x48 -frames:v 1 "$seeds/decode/t.png" 2>/dev/null || true
cp models/blazeface_front_128.fbnet "$seeds/fbnet/"
python3 - "$seeds" <<'PY'
import base64, hashlib, hmac, json, os, sys
seeds = sys.argv[1]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def jws(header, claims, key=b"fuzzing-secret-of-more-than-32-bytes!!"):
    si = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    return si + "." + b64(hmac.new(key, si.encode(), hashlib.sha256).digest())
claims = {"aud": "https://edge.fuzz", "sub": "s", "iat": 1800000000, "exp": 1800000100,
          "jti": "j", "fbp": "aigen", "fbo": "compare", "fbd": b64(hashlib.sha256(b"{}").digest())}
receipt = {"iss": "https://edge.fuzz", "aud": "https://backend.fuzz", "sub": "s", "jti": "j",
           "iat": 1800000000, "exp": 1800000600, "fbp": "aigen", "fbo": "compare", "fbd": "d",
           "decision": "match", "similarity": 0.9}
for i, t in enumerate([
    jws({"alg": "HS256", "kid": "k"}, claims),
    jws({"alg": "HS256", "kid": "h", "typ": "fb-receipt+jwt"}, receipt),
    jws({"alg": "EdDSA", "kid": "e", "typ": "fb-receipt+jwt"}, receipt),
    '{"kty":"OKP","crv":"Ed25519","kid":"e","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}',
    '{"keys":[{"kty":"oct","kid":"h","k":"ZnV6emluZy1zZWNyZXQtb2YtbW9yZS10aGFuLTMyLWJ5dGVzISE"}]}',
]):
    open(f"{seeds}/tokens/{i}", "w").write(t)
jpeg = open("tests/fixtures/generated/wall.jpg", "rb").read()
img = base64.b64encode(jpeg).decode()
for i, ty in enumerate(["image/jpeg", "video/webm;codecs=vp8"]):
    body = {"document": {"type": "image/jpeg", "data": img}, "selfie": {"type": ty, "data": img}}
    open(f"{seeds}/edge_body/{i}", "w").write(json.dumps(body))
# Answers as the services document them, behind the target's 3-byte prefix
# (status 200 = 100 + 100, content type JSON).
answers = [
    {"result": True, "prediction": 0.9636, "prediction_percent": 96},
    {"result": {"is_similar": True, "confidence": 0.91}, "transaction_id": "t", "trials_remaining": 2},
    {"data": {"code": 0, "score": 91, "result": True, "percentages": [90, 92]}, "score": 91,
     "scoring_result": {"status": "pass", "failed_conditions": []}, "message": "ok"},
    {"data": {"matching": "91.5", "match": "1", "invalidCode": "0"}, "errorCode": "0", "errorMessage": ""},
    {"request_id": "r", "confidence": 91.2, "thresholds": {"err_01": 70, "err_001": 80, "err_0001": 90}},
    {"access_token": "a", "expires_in": 600, "token_type": "Bearer"},
]
# The budget target: a 9-byte head (width, height, budget, qualities), then
# pixels. Two tall images (the search on bands) and a small one.
for i, head in enumerate([bytes([0x30, 1, 0xF0, 4, 0x40, 0x9C, 0, 92, 60]),
                          bytes([0x20, 1, 0x00, 5, 0x10, 0x27, 0, 0xDC, 60]),
                          bytes([64, 0, 48, 0, 0xE8, 3, 0, 92, 60])]):
    open(f"{seeds}/budget/{i}", "wb").write(head + hashlib.sha256(bytes([i])).digest() * 40)
for i, a in enumerate(answers):
    open(f"{seeds}/responses/{i}", "wb").write(bytes([100, 0, 0]) + json.dumps(a).encode())
# The frames target: a 20-byte head (width, height, format and colour, the
# buffer's length / 8, three planes' offset / 4 and stride), then bytes that
# tile the buffer. A 64×48 frame in each layout, the planes packed.
import struct
w, h = 64, 48
y, c = w * h, (w // 2) * (h // 2)
for i, (fmt, length, planes) in enumerate([
    (0, 4 * y, [(0, 0), (0, 0), (0, 0)]),
    (1, 4 * y, [(0, 0), (0, 0), (0, 0)]),
    (2, y + 2 * c, [(0, w), (y, w // 2), (y + c, w // 2)]),
    (3 | 4 | 8, y + 2 * c, [(0, w), (y, w), (0, 0)]),
]):
    head = struct.pack("<HHBBH", w - 1, h - 1, fmt, 0, length // 8)
    head += b"".join(struct.pack("<HH", o // 4, s) for o, s in planes)
    open(f"{seeds}/frames/{i}", "wb").write(head + hashlib.sha256(bytes([i])).digest() * 30)
PY

# ── Runs ──────────────────────────────────────────────────────────────────
# Per target: the largest input, and the most one allocation and the whole
# process may take (the decode targets run under 64 MiB limits; ASan doubles
# what the process holds).
declare -A max_len=([decode]=400000 [prepare]=400000 [budget]=65536 [fbnet]=400000 [tokens]=8192 [edge_body]=200000 [responses]=16384 [frames]=4096)
declare -A malloc_mb=([decode]=160 [prepare]=160 [budget]=64 [fbnet]=160 [tokens]=32 [edge_body]=96 [responses]=64 [frames]=64)
# Seconds an input may take under ASan before it is a finding. `prepare` runs
# decode, both detectors and the budget search: ASan makes that about 8× the
# native time (a 556×733 JPEG: 0.2 s natively, 1.65 s here), so 3 s.
declare -A slow_s=([decode]=1 [prepare]=3 [budget]=3 [fbnet]=1 [tokens]=1 [edge_body]=1 [responses]=1 [frames]=1)

cargo +nightly fuzz build --fuzz-dir fuzz -O 2>&1 | tail -1
# Leaks a native decoder's worker threads report at the check (fuzz/lsan.supp).
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
status=0
printf '\n%-10s %12s %8s %10s %s\n' target executions exec/s corpus result
for t in "${targets[@]}"; do
  mkdir -p "fuzz-out/corpus/$t"
  log="fuzz-out/$t.log"
  set +e
  cargo +nightly fuzz run --fuzz-dir fuzz -O "$t" "fuzz-out/corpus/$t" "$seeds/$t" -- \
    -max_total_time="$secs" ${FB_FUZZ_RUNS:+-runs="$FB_FUZZ_RUNS"} -timeout="${FB_FUZZ_TIMEOUT:-${slow_s[$t]}}" -max_len="${max_len[$t]}" \
    -rss_limit_mb=2048 -malloc_limit_mb="${malloc_mb[$t]}" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  corpus=$(find "fuzz-out/corpus/$t" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then result=ok; else result="FAILED (rc $rc, see $log)"; status=1; fi
  printf '%-10s %12s %8s %10s %s\n' "$t" "${execs:-?}" "${rate:-?}" "$corpus" "$result"
  [ "$rc" -eq 0 ] || grep -E 'ERROR|panicked|Test unit written|SUMMARY' "$log" | head -5 >&2
done
exit $status
