// The edge under load, on loopback: the simulators and the Worker in workerd
// (Miniflare), driven by wrk (Debian's package).
//
//   node benches/edge-load.mjs [seconds per run] [run ...]
//     run: N          valid AIGEN compares at N connections, each with a fresh
//                     token; then the same service request straight to the
//                     simulator at N connections, for the edge's added latency
//          mixed@N    half the requests refused: a bad token, a bad origin, a
//                     body over the route's limit, a decompression bomb
//          soak@N     valid compares while the simulator draws faults in turn
//                     (latency, reset, 5xx, an HTML page, malformed JSON, a
//                     hang past the edge's timeout)
//     (default: 60 s; 1 16 64 mixed@16 soak@16)
//
// Every run is accounted for exactly, from the Worker's own log line per
// request (it reaches the log even when wrk stopped waiting for the answer)
// and the simulator's counters: each request that should reach the service
// made exactly one service call, each refused one made none, and each fault
// the service showed came back as its typed code. The script fails otherwise.
//
// Needs what scripts/test.sh builds (pkg/edge/, the simulators, the fixtures)
// and wrk (apt-get install wrk). Prints Markdown tables.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ORIGIN, benchEdge, logLines, pkg, preparedAigen, simulators, token } from "./edge-bench.mjs";
import { pngOfZeros } from "../tests/js/hostile.mjs";

const secs = Number(process.argv[2] ?? 60);
const runs = process.argv.slice(3);
if (runs.length === 0) runs.push("1", "16", "64", "mixed@16", "soak@16");

const dir = mkdtempSync(join(tmpdir(), "fb-load-"));
const file = (name, data) => {
  writeFileSync(join(dir, name), data);
  return join(dir, name);
};
const { card, selfie } = await preparedAigen();
const body = pkg.matchRequestBody(card, selfie);
const digest = pkg.bodyDigest(body);
const bodyFile = file("body.json", body);
// What the edge sends AIGEN for the same photos (src/providers/aigen.rs).
const b64 = (u8) => Buffer.from(u8).toString("base64");
const serviceFile = file("service.json", JSON.stringify({ image1: b64(card), image2: b64(selfie), image1_is_document: true }));
// The refused kinds of the mixed run. The bomb: a 6324² PNG (120 MB of
// pixels in 120 KB), its token valid and bound to it. The oversize body:
// past AIGEN's route limit (src/edge/mod.rs `body_limit`: twice the base64
// of 5 MB, plus 1 KiB: 13.3 MB), refused from its Content-Length.
const bomb = pkg.matchRequestBody(card, pngOfZeros(6324, 6324));
const bombDigest = pkg.bodyDigest(bomb);
const bombFile = file("bomb.json", bomb);
const oversizeFile = file("oversize.json", Buffer.alloc(13_400_000, 0x20));
const emptyFile = file("empty", "");
const forged = `${(await token("aigen", digest, 290)).slice(0, -6)}AAAAAA`;

// The soak's mix (src/sim/mod.rs, `/__sim/fault-mix`), and the code each
// fault must come back as. The edge's timeout is 3 s; a hang lasts 5 s.
const SOAK_TIMEOUT_MS = 3000;
const SOAK_MIX = {
  none: "ok", "latency=1000": "ok", reset: "NETWORK", "status=503": "SERVICE_UNAVAILABLE",
  "status=500": "SERVICE_UNAVAILABLE", html: "SERVICE_UNAVAILABLE", malformed: "PROTOCOL", "hang=5000": "TIMEOUT",
};
const SOAK_WEIGHTS = { none: 4 };

const services = await simulators("l-");
const { sim, secrets } = services;
const simStats = async () => (await fetch(`${sim.url}/__sim/stats`)).json();
const setMix = (mix) => fetch(`${sim.url}/__sim/fault-mix`, { method: "POST", body: mix });
const edges = {
  plain: await benchEdge(services, { FB_SERVICE_TIMEOUT_MS: "10000" }),
  soak: await benchEdge(services, { FB_SERVICE_TIMEOUT_MS: String(SOAK_TIMEOUT_MS) }),
};

// wrk's script. Each thread walks its own stride of each token list; a
// request's kind follows the cycle given (v: valid, t: forged token,
// o: bad origin, s: oversize with a valid token, b: bomb). Counters are globals: `thread:get`
// reads only a thread's globals.
const lua = `
statuses, threads = {}, {}
function setup(thread) thread:set("id", #threads); table.insert(threads, thread) end
local function lines(path)
  local t = {}
  if path ~= "-" then for l in io.lines(path) do t[#t + 1] = l end end
  return t
end
local function slurp(path) local f = io.open(path, "rb"); local s = f:read("*a"); f:close(); return s end
function init(args)
  stride = tonumber(args[1]); cycle = args[2]; n = 0
  valid = { tokens = lines(args[3]), i = id + 1 }
  bombs = { tokens = lines(args[4]), i = id + 1 }
  forged = args[5]
  bodies = { v = slurp(args[6]), b = slurp(args[7]), s = slurp(args[8]) }
  headers = {}
  for h = 9, #args, 2 do headers[args[h]] = args[h + 1] end
end
local function take(list) local t = list.tokens[list.i]; list.i = list.i + stride; return t end
function request()
  n = n + 1
  local k = cycle:sub((n - 1) % #cycle + 1, (n - 1) % #cycle + 1)
  local h = {}
  for key, v in pairs(headers) do h[key] = v end
  local t, payload = nil, bodies.v
  if k == "v" then t = take(valid)
  elseif k == "b" then t = take(bombs); payload = bodies.b
  elseif k == "t" then t = forged
  elseif k == "o" then t = forged; h["origin"] = "https://evil.example"
  elseif k == "s" then t = take(valid); payload = bodies.s end
  if t then h["authorization"] = "Bearer " .. t end
  return wrk.format("POST", nil, h, payload)
end
function response(status) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency)
  local total = {}
  for _, t in ipairs(threads) do for k, v in pairs(t:get("statuses")) do total[k] = (total[k] or 0) + v end end
  for k, v in pairs(total) do io.write(string.format("STATUS %d %d\\n", k, v)) end
  io.write(string.format("LAT %d %d %d\\n", latency:percentile(50), latency:percentile(99), latency.max))
  io.write(string.format("SUM %d %d %d\\n", summary.requests, summary.duration, summary.errors.timeout + summary.errors.read + summary.errors.write + summary.errors.connect))
end`;
const luaFile = file("load.lua", lua);

/** `n` fresh tokens for the body with digest `d`, one a line. */
async function tokens(name, d, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await token("aigen", d, 290));
  return file(name, out.join("\n") + "\n");
}

/**
 * Runs wrk without blocking this process: workerd writes the Worker's log
 * lines to a pipe this process reads, and a blocked reader (execFileSync)
 * fills that pipe after about 280 lines, which stalls the Worker itself
 * (every 60 s run stopped at 279 requests that way).
 */
async function wrk(url, conns, { cycle = "v", valid = "-", bombs = "-", payload = bodyFile, headers = [] }) {
  const threads = Math.min(2, conns);
  const child = spawn("wrk", [
    "-t", String(threads), "-c", String(conns), "-d", `${secs}s`, "--timeout", "15s", "-s", luaFile, url, "--",
    String(threads), cycle, valid, bombs, forged, payload, bombFile, oversizeFile, ...headers,
  ]);
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const status = await new Promise((resolve) => child.on("close", resolve));
  // A Lua error stops a wrk thread quietly: say so, and fail.
  if (status !== 0 || err.trim()) throw new Error(`wrk: status ${status}\n${err}`);
  const grab = (re) => {
    const m = out.match(re);
    if (!m) throw new Error(`wrk printed no ${re}:\n${out}`);
    return m.slice(1).map(Number);
  };
  const statuses = Object.fromEntries([...out.matchAll(/STATUS (\d+) (\d+)/g)].map((m) => [m[1], Number(m[2])]));
  const [p50, p99, max] = grab(/LAT (\d+) (\d+) (\d+)/);
  const [requests, durationUs, errors] = grab(/SUM (\d+) (\d+) (\d+)/);
  return { statuses, p50, p99, max, requests, rps: requests / (durationUs / 1e6), errors };
}

/**
 * Waits until the Worker has logged every request it took (wrk stops without
 * waiting for the answers in flight), then returns this run's log lines.
 */
async function settle(edge, from, extraMs = 0) {
  await new Promise((r) => setTimeout(r, 1500 + extraMs));
  let seen = -1;
  for (;;) {
    const n = logLines(edge.lines).length;
    if (n === seen) break;
    seen = n;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return logLines(edge.lines).slice(from).filter((l) => l.path === "/v1/match/aigen");
}

const countBy = (xs, f) => xs.reduce((m, x) => ((m[f(x)] = (m[f(x)] ?? 0) + 1), m), {});
const ms = (us) => (us / 1000).toFixed(1);
const json = (o) => JSON.stringify(o).replaceAll('"', "").replaceAll(",", ", ");
const failures = [];
const check = (ok, what) => ok || failures.push(what);
const tables = { valid: [], mixed: [], soak: [] };
const HEADERS = ["origin", ORIGIN, "content-type", "application/json"];

for (const run of runs) {
  const [kind, at] = run.includes("@") ? run.split("@") : ["valid", run];
  const c = Number(at);
  const edge = kind === "soak" ? edges.soak : edges.plain;
  // Enough fresh tokens for 200 requests a second, never reused.
  const valid = await tokens("valid.txt", digest, Math.ceil(secs * 200 + 100));
  const from = logLines(edge.lines).length;
  const before = await simStats();
  if (kind === "soak") {
    await setMix(Object.keys(SOAK_MIX).map((f) => `${f}*${SOAK_WEIGHTS[f] ?? 1}`).join(","));
  }
  const cycle = kind === "mixed" ? "vtvovsvb" : "v";
  const bombs = kind === "mixed" ? await tokens("bombs.txt", bombDigest, Math.ceil(secs * 100 + 100)) : "-";
  const e = await wrk(`${edge.url}/v1/match/aigen`, c, { cycle, valid, bombs, headers: HEADERS });
  await setMix("");
  const lines = await settle(edge, from, kind === "soak" ? 5000 : 0);
  const after = await simStats();
  const calls = after.requests - before.requests;
  const codes = countBy(lines, (l) => l.code ?? "ok");
  const mem = Math.max(...lines.map((l) => l.wasmMiB));
  const maxMs = Math.max(...lines.map((l) => l.ms));
  if (kind === "valid") {
    const s = await wrk(`${sim.url}/aiface/face-compare/v1`, c, {
      payload: serviceFile, headers: ["content-type", "application/json", "x-aigen-key", secrets.FB_AIGEN_KEY],
    });
    await settle(edge, 0);
    tables.valid.push(`| ${c} | ${e.rps.toFixed(1)} | ${ms(e.p50)} / ${ms(e.p99)} | ${s.rps.toFixed(1)} | ${ms(s.p50)} / ${ms(s.p99)} | ${ms(e.p50 - s.p50)} | ${json(e.statuses)}; ${e.errors} socket errors | ${lines.length}: ${json(codes)} | ${calls} | ${mem} |`);
    check(calls === lines.length && codes.ok === lines.length, `${run}: ${lines.length} requests, ${json(codes)}, ${calls} service calls`);
  } else if (kind === "mixed") {
    const refused = lines.length - (codes.ok ?? 0);
    tables.mixed.push(`| ${c} | ${e.rps.toFixed(1)} | ${ms(e.p50)} / ${ms(e.p99)} | ${json(e.statuses)}; ${e.errors} socket errors | ${lines.length}: ${json(codes)} | ${refused} | ${calls} | ${mem} |`);
    const allowed = new Set(["ok", "TOKEN_REJECTED", "ORIGIN_REJECTED", "BODY_TOO_LARGE", "IMAGE_TOO_LARGE"]);
    check(Object.keys(codes).every((k) => allowed.has(k)), `${run}: unexpected codes ${json(codes)}`);
    check(calls === (codes.ok ?? 0), `${run}: ${codes.ok} answered, ${calls} service calls`);
  } else {
    const faults = Object.fromEntries(Object.entries(after.faults).map(([k, v]) => [k, v - (before.faults[k] ?? 0)]));
    const expected = {};
    for (const [f, n] of Object.entries(faults)) if (n > 0) expected[SOAK_MIX[f] ?? `?${f}`] = (expected[SOAK_MIX[f] ?? `?${f}`] ?? 0) + n;
    tables.soak.push(`| ${c} | ${e.rps.toFixed(1)} | ${ms(e.p50)} / ${ms(e.p99)} / ${ms(e.max)} | ${json(faults)} | ${lines.length}: ${json(codes)} | ${calls} | ${maxMs} | ${mem} |`);
    check(JSON.stringify(Object.entries(codes).sort()) === JSON.stringify(Object.entries(expected).sort()),
      `${run}: the service showed ${json(expected)}, the edge answered ${json(codes)}`);
    check(calls === lines.length, `${run}: ${lines.length} requests, ${calls} service calls`);
    check(maxMs <= SOAK_TIMEOUT_MS + 2000, `${run}: a request took ${maxMs} ms against a ${SOAK_TIMEOUT_MS} ms timeout`);
  }
}
for (const e of Object.values(edges)) await e.mf.dispose();
sim.child.kill();

console.log(`wrk, ${secs} s a run, AIGEN compare with prepared photos (body ${body.length} B), face detection at the edge off (the shipped default).`);
console.log("Requests and codes: the Worker's log line per request (those wrk stopped waiting for included); service calls: the simulator's counter.\n");
if (tables.valid.length) {
  console.log("| connections | edge req/s | edge p50 / p99 ms | simulator alone req/s | alone p50 / p99 ms | added p50 ms | wrk saw | edge requests: codes | service calls | Worker wasm MiB |");
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const r of tables.valid) console.log(r);
}
if (tables.mixed.length) {
  console.log("\nMixed: of every 8 requests, 4 valid, 1 forged token, 1 bad origin, 1 body of 13.4 MB, 1 PNG bomb (6324², valid token)\n");
  console.log("| connections | req/s | p50 / p99 ms | wrk saw | edge requests: codes | refused | service calls | Worker wasm MiB |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of tables.mixed) console.log(r);
}
if (tables.soak.length) {
  console.log(`\nFault soak: the edge's timeout ${SOAK_TIMEOUT_MS} ms; the simulator's mix ${json(SOAK_WEIGHTS)} none, one each of the rest\n`);
  console.log("| connections | req/s | p50 / p99 / max ms (wrk) | the service showed | edge requests: codes | service calls | slowest answer ms (Worker) | Worker wasm MiB |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of tables.soak) console.log(r);
}
for (const f of failures) console.error(`FAILED: ${f}`);
process.exit(failures.length ? 1 : 0);
