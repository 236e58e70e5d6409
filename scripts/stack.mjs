// The whole system on loopback, with no keys and no internet:
//   - the five services' simulators (the native `facebridge simulate`),
//   - the edge Worker (edge/worker.mjs) in workerd, through Miniflare,
//   - a static server for the demo page (www/) and the npm package (pkg/),
//     sent with a strict Content-Security-Policy, plus the customer's backend
//     (scripts/backend.mjs): POST /kyc/token mints request tokens under its
//     policy, POST /kyc/result trusts a verdict only through the edge's
//     signed receipt.
//
// `node scripts/stack.mjs [--port 5173]` runs it until Ctrl-C (scripts/demo.sh
// does that); the browser tests import startStack().
import { createServer } from "node:http";
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { exportJWK, generateKeyPair } from "jose";
import { makeBackend } from "./backend.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const PROVIDERS = ["biometric_kz", "valify", "biometry", "cvs", "aigen"];
const SECRET_NAMES = [
  "FB_BIOMETRIC_KZ_API_KEY", "FB_VALIFY_USERNAME", "FB_VALIFY_PASSWORD", "FB_VALIFY_CLIENT_ID",
  "FB_VALIFY_CLIENT_SECRET", "FB_VALIFY_BUNDLE_KEY", "FB_BIOMETRY_TOKEN", "FB_CVS_API_KEY",
  "FB_CVS_API_SECRET", "FB_AIGEN_KEY",
];
const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
  ".wasm": "application/wasm", ".json": "application/json", ".jpg": "image/jpeg",
  ".png": "image/png", ".css": "text/css", ".svg": "image/svg+xml", ".mp4": "video/mp4",
};

/** A fresh set of random service secrets (nothing here is a real credential). */
export function randomSecrets(prefix = "dev-") {
  return Object.fromEntries(SECRET_NAMES.map((n) => [n, `${prefix}${randomBytes(9).toString("hex")}`]));
}

/**
 * A fresh Ed25519 receipt key pair as JWKs: `privateJwk` is the edge's
 * FB_RECEIPT_KEYS, `publicJwk` what the backend verifies with. This is how
 * an operator makes one too (README, "Receipts").
 */
export async function receiptKeyPair(kid = "r1") {
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  return {
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: "EdDSA" },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "EdDSA" },
  };
}

/** The native binary with the simulators (FB_BIN overrides it). */
export function simulatorBin() {
  const target = process.env.CARGO_TARGET_DIR || join(ROOT, "target");
  return process.env.FB_BIN || join(target, "native", "facebridge");
}

/** The native simulators on a free loopback port; resolves to {child, url}. */
export function startSimulator(bin, env) {
  const child = spawn(bin, ["simulate", "--listen", "127.0.0.1:0"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (c) => reject(new Error(`the simulator exited (${c})`)));
    child.stdout.once("data", (d) => resolve({ child, url: d.toString().trim().split("\n")[0] }));
  });
}

/**
 * The edge Worker (edge/worker.mjs on pkg/) in workerd with every service
 * pointed at `simUrl`, the service `secrets` and `bindings` (FB_* settings).
 * Resolves to {mf, url}; `log` receives the Worker's output.
 */
export async function startEdge({ simUrl, secrets, bindings, log = () => {}, main = null }) {
  const mf = new Miniflare({
    modulesRoot: ROOT,
    // What wrangler's bundler would pick up: the Worker, the package's JS
    // and its snippets, the wasm, and the full-range model as a Data module.
    // `main` (tests only) wraps the Worker, e.g. with a failing jti ledger.
    modules: [
      ...(main ? [{ type: "ESModule", path: join(ROOT, main) }] : []),
      { type: "ESModule", path: join(ROOT, "edge/worker.mjs") },
      { type: "ESModule", path: join(ROOT, "pkg/edge/facebridge_edge.js") },
      ...readdirSync(join(ROOT, "pkg/edge"), { recursive: true })
        .filter((f) => f.startsWith("snippets") && f.endsWith(".js"))
        .map((f) => ({ type: "ESModule", path: join(ROOT, "pkg/edge", f) })),
      { type: "CompiledWasm", path: join(ROOT, "pkg/edge/facebridge_edge_bg.wasm") },
      { type: "Data", path: join(ROOT, "pkg/blazeface_back_256.fbnet") },
    ],
    compatibilityDate: "2025-09-01",
    durableObjects: { JTI: "JtiLedger" },
    bindings: {
      ...Object.fromEntries(PROVIDERS.map((p) => [`FB_${p.toUpperCase()}_BASE_URL`, simUrl])),
      ...secrets,
      ...bindings,
    },
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (d) => log(d.toString()));
      stderr.on("data", (d) => log(d.toString()));
    },
  });
  return { mf, url: (await mf.ready).toString().replace(/\/$/, "") };
}

/**
 * Starts everything. Resolves to {pageUrl, edgeUrl, simUrl, stats(), stop()}.
 * `port` is the static server's (0: any free one); `log` receives the
 * Worker's log lines.
 */
export async function startStack({ port = 0, log = () => {}, simBin } = {}) {
  // Random per run: nothing here is a real credential, and nothing leaks by chance.
  const secrets = randomSecrets();
  const key = randomBytes(32).toString("base64url");
  const kid = "dev";
  const audience = "http://facebridge-edge.local";
  const receipts = await receiptKeyPair("dev-receipts");
  const sim = await startSimulator(simBin || simulatorBin(), secrets);

  // The page's origin must be known before the Worker starts (its allow-list).
  const server = createServer();
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  const pageOrigin = `http://127.0.0.1:${server.address().port}`;
  // The backend: this demo lets a visitor pick any service, for comparisons
  // only (no Valify direct mode). Yours names the one service it pays for.
  const backend = await makeBackend({
    edgeAudience: audience,
    kid,
    tokenKey: new TextEncoder().encode(key),
    receiptJwk: receipts.publicJwk,
    receiptAudience: pageOrigin,
    allow: (_session, { provider, op }) => PROVIDERS.includes(provider) && op === "compare",
  });

  const { mf, url: edgeUrl } = await startEdge({
    simUrl: sim.url,
    secrets,
    bindings: {
      FB_EDGE_AUDIENCE: audience,
      FB_TOKEN_KEYS: JSON.stringify({ [kid]: key }),
      FB_RECEIPT_KEYS: JSON.stringify(receipts.privateJwk),
      FB_RECEIPT_AUDIENCE: pageOrigin,
      FB_ALLOWED_ORIGINS: pageOrigin,
      FB_EDGE_DETECT_FACES: "true",
    },
    log,
  });

  const csp = [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    `connect-src 'self' ${edgeUrl}`,
    "img-src 'self' blob: data:",
    "media-src 'self' blob: mediastream:",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  const counts = { token: 0, result: 0 };
  const readJson = async (req) => {
    let body = "";
    for await (const chunk of req) {
      body += chunk;
      if (body.length > 16384) throw new Error("too large");
    }
    return JSON.parse(body);
  };
  const json = (res, status, v) => {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify(v));
  };

  server.on("request", async (req, res) => {
    const url = new URL(req.url, pageOrigin);
    try {
      if (url.pathname === "/config.json") {
        res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
        return res.end(JSON.stringify({ endpoint: edgeUrl, providers: PROVIDERS }));
      }
      // The customer's backend. A real one checks its own session cookie
      // here; the demo has one visitor, "demo-session".
      if (url.pathname === "/kyc/token" && req.method === "POST") {
        try {
          const out = await backend.mintToken("demo-session", await readJson(req));
          counts.token++;
          return json(res, 200, out);
        } catch (e) {
          return json(res, 403, { error: { code: "FORBIDDEN", message: String(e.message) } });
        }
      }
      if (url.pathname === "/kyc/result" && req.method === "POST") {
        try {
          const { receipt } = await readJson(req);
          const claims = await backend.verifyResult("demo-session", receipt);
          counts.result++;
          return json(res, 200, { verified: true, decision: claims.decision, code: claims.code ?? null, similarity: claims.similarity ?? null });
        } catch (e) {
          return json(res, 400, { verified: false, message: String(e.message) });
        }
      }
      let path = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, "");
      const base = path.startsWith("/pkg/") || path.startsWith("/tests/fixtures/") ? ROOT : join(ROOT, "www");
      if (path.endsWith("/")) path += "index.html";
      const body = await readFile(join(base, path));
      res.writeHead(200, {
        "content-type": TYPES[extname(path)] ?? "application/octet-stream",
        "content-security-policy": csp,
        "x-content-type-options": "nosniff",
        "cache-control": "no-cache",
      });
      res.end(body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });

  return {
    pageUrl: `${pageOrigin}/`,
    edgeUrl,
    simUrl: sim.url,
    csp,
    counts,
    async stats() {
      return (await (await fetch(`${sim.url}/__sim/stats`)).json()).requests;
    },
    async stop() {
      server.close();
      await mf.dispose();
      sim.child.kill();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--port");
  const smoke = process.argv.includes("--smoke");
  const port = smoke ? 0 : i > 0 ? Number(process.argv[i + 1]) : 5173;
  const stack = await startStack({ port, log: (l) => process.stdout.write(l) });
  if (smoke) {
    // The command works: the page, its config and the package load, the edge answers a preflight.
    for (const path of ["", "app.js", "config.json", "pkg/facebridge.js"]) {
      const r = await fetch(stack.pageUrl + path);
      if (!r.ok) throw new Error(`${path || "/"}: HTTP ${r.status}`);
    }
    const pre = await fetch(`${stack.edgeUrl}/v1/match/aigen`, {
      method: "OPTIONS",
      headers: { origin: new URL(stack.pageUrl).origin, "access-control-request-method": "POST" },
    });
    if (pre.status !== 204) throw new Error(`edge preflight: HTTP ${pre.status}`);
    console.log(`demo smoke test passed: ${stack.pageUrl}`);
    await stack.stop();
    process.exit(0);
  }
  console.log(`\nfacebridge demo (simulated services, no keys, loopback only)
  page:       ${stack.pageUrl}
  edge:       ${stack.edgeUrl}   (the Worker, in workerd)
  simulators: ${stack.simUrl}   (not biometrics: image similarity of face crops)
Open the page in a browser on this machine. Ctrl-C stops everything.`);
  const stop = async () => { await stack.stop(); process.exit(0); };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
