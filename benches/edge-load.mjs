// The edge under load, on loopback: the simulators and the Worker in workerd
// (Miniflare), driven by wrk (Debian's package) with valid compare requests,
// each with a fresh token, at several concurrencies; and the same service
// request sent to the simulator directly, so the edge's added latency shows.
// Every valid request must get exactly one service call: the simulator's
// counter is checked against the answers.
//
//   node benches/edge-load.mjs [seconds per run] [concurrency ...]   (default: 60 s; 1 16 64)
//
// Needs what scripts/test.sh builds (pkg/edge/, the simulators, the fixtures)
// and wrk (apt-get install wrk). Prints a Markdown table.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ORIGIN, benchEdge, logLines, pkg, preparedAigen, simulators, token } from "./edge-bench.mjs";

const secs = Number(process.argv[2] ?? 60);
const levels = process.argv.slice(3).map(Number);
if (levels.length === 0) levels.push(1, 16, 64);

const dir = mkdtempSync(join(tmpdir(), "fb-load-"));
const { card, selfie } = await preparedAigen();
const body = pkg.matchRequestBody(card, selfie);
const digest = pkg.bodyDigest(body);
writeFileSync(join(dir, "body.json"), body);
// What the edge sends AIGEN for the same photos (src/providers/aigen.rs).
const b64 = (u8) => Buffer.from(u8).toString("base64");
writeFileSync(join(dir, "service.json"), JSON.stringify({ image1: b64(card), image2: b64(selfie), image1_is_document: true }));

const services = await simulators("l-");
const { sim, secrets, stats } = services;
const { mf, url: edgeUrl, lines } = await benchEdge(services, { FB_SERVICE_TIMEOUT_MS: "10000" });

// wrk: each thread walks its own stride of the token file; statuses counted
// (globals: `thread:get` reads a thread's globals only).
const lua = `
tokens, statuses, threads = {}, {}, {}
function setup(thread) thread:set("id", #threads); table.insert(threads, thread) end
function init(args)
  if args[1] ~= "-" then for line in io.lines(args[1]) do tokens[#tokens + 1] = line end end
  local f = io.open(args[2], "rb"); payload = f:read("*a"); f:close()
  stride = tonumber(args[3]); i = id + 1; headers = {}
  for h = 4, #args, 2 do headers[args[h]] = args[h + 1] end
end
function request()
  local t = tokens[i]; i = i + stride
  if t then headers["authorization"] = "Bearer " .. t end
  return wrk.format("POST", nil, headers, payload)
end
function response(status) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency)
  local total = {}
  for _, t in ipairs(threads) do for k, v in pairs(t:get("statuses")) do total[k] = (total[k] or 0) + v end end
  for k, v in pairs(total) do io.write(string.format("STATUS %d %d\\n", k, v)) end
  io.write(string.format("LAT %d %d %d\\n", latency:percentile(50), latency:percentile(99), latency.max))
  io.write(string.format("SUM %d %d %d\\n", summary.requests, summary.duration, summary.errors.timeout + summary.errors.read + summary.errors.write + summary.errors.connect))
end`;
writeFileSync(join(dir, "load.lua"), lua);

async function tokens(n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await token("aigen", digest, 290));
  writeFileSync(join(dir, "tokens.txt"), out.join("\n") + "\n");
}

function wrk(url, conns, args) {
  const threads = Math.min(2, conns);
  const out = execFileSync("wrk", [
    "-t", String(threads), "-c", String(conns), "-d", `${secs}s`, "--timeout", "15s",
    "-s", join(dir, "load.lua"), url, "--", ...args(threads),
  ], { encoding: "utf8", maxBuffer: 1 << 24, timeout: (secs + 60) * 1000 });
  const grab = (re) => {
    const m = out.match(re);
    if (!m) throw new Error(`wrk printed no ${re}:\n${out}`);
    return m.slice(1).map(Number);
  };
  const statuses = Object.fromEntries([...out.matchAll(/STATUS (\d+) (\d+)/g)].map((m) => [m[1], Number(m[2])]));
  const [p50, p99] = grab(/LAT (\d+) (\d+) (\d+)/);
  const [requests, durationUs, errors] = grab(/SUM (\d+) (\d+) (\d+)/);
  return { statuses, p50, p99, requests, rps: requests / (durationUs / 1e6), errors };
}

const ms = (us) => (us / 1000).toFixed(1);
const rows = [];
let mismatch = false;
for (const c of levels) {
  // Enough fresh tokens for the run at 200 requests a second, never reused.
  await tokens(Math.ceil(secs * 200 + 100));
  const before = await stats();
  const e = wrk(`${edgeUrl}/v1/match/aigen`, c, (t) => [join(dir, "tokens.txt"), join(dir, "body.json"), String(t),
    "origin", ORIGIN, "content-type", "application/json"]);
  await new Promise((r) => setTimeout(r, 1000));
  const calls = (await stats()) - before;
  const ok = e.statuses["200"] ?? 0;
  const s = wrk(`${sim.url}/aiface/face-compare/v1`, c, (t) => ["-", join(dir, "service.json"), String(t),
    "content-type", "application/json", "x-aigen-key", secrets.FB_AIGEN_KEY]);
  const mem = logLines(lines).pop()?.wasmMiB;
  rows.push(`| ${c} | ${e.rps.toFixed(1)} | ${ms(e.p50)} / ${ms(e.p99)} | ${s.rps.toFixed(1)} | ${ms(s.p50)} / ${ms(s.p99)} | ${ms(e.p50 - s.p50)} | ${JSON.stringify(e.statuses)}, ${e.errors} socket errors | ${calls} (${ok} answered 200, ${calls - ok} cut off by wrk's stop) | ${mem} |`);
  // wrk stops mid-flight: a request it sent but no longer waited for was
  // still served (one call, its answer unread), so calls may exceed the 200s
  // by at most one per connection; never fall short of them.
  if (calls < ok || calls > ok + c) mismatch = true;
}
await mf.dispose();
sim.child.kill();
console.log(`wrk, ${secs} s a run, AIGEN compare with prepared photos (body ${body.length} B), face detection at the edge off (the shipped default)`);
console.log("| connections | edge req/s | edge p50 / p99 ms | simulator alone req/s | alone p50 / p99 ms | added p50 ms | edge answers | service calls | Worker wasm MiB |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const r of rows) console.log(r);
process.exit(mismatch ? 1 : 0);
