// What a worker start costs prepareInWorker: in each of 7 fresh Chromium
// contexts (the package in the HTTP cache), selfie.jpg prepared on the page
// (warm), then in the worker three times: the first call starts the worker
// (its own wasm compile and instantiation, the model load). Needs pkg/
// (scripts/build-wasm.sh).
//
//   node benches/worker-start.mjs
import { fileURLToPath } from "node:url";
import { launchChromium } from "../tests/js/chromium.mjs";
import { serve } from "../tests/js/serve.mjs";
const root = fileURLToPath(new URL("../", import.meta.url));
const { server, origin } = await serve(root, { headers: { "cache-control": "public, max-age=3600" } });
const browser = await launchChromium();
const rows = [];
for (let i = 0; i < 7; i++) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${origin}/tests/js/blank.html`);
  rows.push(await page.evaluate(async () => {
    const bytes = new Uint8Array(await (await fetch("/tests/fixtures/generated/selfie.jpg")).arrayBuffer());
    const { FaceBridge } = await import("/pkg/index.js");
    await import("/pkg/capture.js");
    const fb = new FaceBridge();
    const o = { role: "selfie", maxBytes: 300000 };
    await fb.prepare(bytes, o); await fb.prepare(bytes, o);
    let t = performance.now(); await fb.prepare(bytes, o); const page = performance.now() - t;
    t = performance.now(); await fb.prepareInWorker(bytes, o); const first = performance.now() - t;
    t = performance.now(); await fb.prepareInWorker(bytes, o); const second = performance.now() - t;
    t = performance.now(); await fb.prepareInWorker(bytes, o); const third = performance.now() - t;
    return [page, first, second, third];
  }));
  await ctx.close();
}
const med = (k) => rows.map((r) => r[k]).sort((a, b) => a - b)[rows.length >> 1].toFixed(1);
console.log(`selfie.jpg prepare, medians of ${rows.length} fresh contexts: page (warm) ${med(0)} ms; worker 1st call ${med(1)}, 2nd ${med(2)}, 3rd ${med(3)}`);
await browser.close(); server.close();
