// The wasm half of the benchmark; the same code runs in Node and in Chromium.
// `env` gives: init() → InitOutput (instantiates the wasm), FaceBridge, bytes(name).

/** Median, min and max of the times in `v` (sorted in place). */
export const stats = (v) => {
  v.sort((a, b) => a - b);
  return { median: v[v.length >> 1], min: v[0], max: v[v.length - 1], runs: v.length };
};

/** Times `runs` calls of `f` after `warmups` untimed ones. */
export async function time(runs, f, warmups = 1) {
  for (let i = 0; i < warmups; i++) await f();
  const v = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    v.push(performance.now() - t);
  }
  return stats(v);
}

/**
 * Node side, with a Playwright `browser` and the bench server's `origin`:
 * `fn(arg)` evaluated in the blank page of a new context (cache cold); its
 * result. The context is closed after.
 */
export async function inFreshPage(browser, origin, fn, arg) {
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    await page.goto(`${origin}/tests/js/blank.html`);
    return await page.evaluate(fn, arg);
  } finally {
    await ctx.close();
  }
}

/**
 * Node side, as `inFreshPage`, but the page stays open for the caller (who
 * closes `ctx`): the anchors' 640×480 frame as `frame`, a FaceBridge from
 * pkg/ as `fb` (warmed up when `warm`), and the anchors' short-range
 * options as `opts`.
 */
export async function detectorPage(browser, origin, { warm = false } = {}) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${origin}/tests/js/blank.html`);
  await page.evaluate(async (warm) => {
    globalThis.frame = new Uint8Array(await (await fetch("/bench-out/anchors/frame-640x480.jpg")).arrayBuffer());
    globalThis.fb = new (await import("/pkg/index.js")).FaceBridge();
    globalThis.opts = { role: "selfie", model: "short", tiles: "off", minScore: 0.5 };
    if (warm) await globalThis.fb.warmUp("short");
  }, warm);
  return { ctx, page };
}

/**
 * Times several functions in turns (f0, f1, …, f0, f1, …) after `warmups`
 * turns: each run of one sits between runs of the others, so all see the
 * engine in the same state (tier-up, caches) and ratios between them hold
 * up. One stats object per function.
 */
export async function timeInTurns(runs, fs, warmups = 1) {
  for (let i = 0; i < warmups; i++) for (const f of fs) await f();
  const v = fs.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [k, f] of fs.entries()) {
      const t = performance.now();
      await f();
      v[k].push(performance.now() - t);
    }
  }
  return v.map(stats);
}

export async function runWasmBench(env) {
  const r = {};
  const rgb = await env.bytes("frame-640x480.rgb");
  const rgba = new Uint8Array(640 * 480 * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgba[j] = rgb[i]; rgba[j + 1] = rgb[i + 1]; rgba[j + 2] = rgb[i + 2]; rgba[j + 3] = 255;
  }
  // Cold start: instantiate the wasm, build the short-range plan, first detection.
  let t = performance.now();
  const wasm = await env.init();
  r.coldStartInstantiate = performance.now() - t;
  const first = new env.FaceBridge();
  first.detectPixels(rgba, 640, 480, {});
  r.coldStartToFirstDetection = performance.now() - t;
  first.free();

  // A fresh instance each time: the short-range model is embedded; the
  // full-range one is read from the package (fetch, SHA-256 check, load).
  const load = async (kind) => time(10, async () => { const fb = new env.FaceBridge(); await fb.warmUp(kind); fb.free(); });
  r["modelLoad_short-range"] = await load("short");
  r["modelLoad_full-range"] = await load("full");

  const fb = new env.FaceBridge();
  await fb.warmUp("full");
  r["detectFrame640_short-range"] = await time(30, () => fb.detectPixels(rgba, 640, 480, { model: "short" }));
  r["detectFrame640_full-range"] = await time(30, () => fb.detectPixels(rgba, 640, 480, { model: "full" }));
  const one = await env.bytes("photo-1mp.jpg");
  const twelve = await env.bytes("photo-12mp.jpg");
  const doc = (maxSide) => ({ role: "document", maxBytes: 2_000_000, maxSide, enforceGate: false });
  r.prepare1mp_2MB = await time(30, () => fb.prepare(one, doc(2048)));
  r.prepare12mp_2MB_side2048 = await time(10, () => fb.prepare(twelve, doc(2048)));
  r.prepare12mp_2MB_noresize = await time(5, () => fb.prepare(twelve, doc(4032)));
  // wasm memory only grows: its size now is the peak of everything above.
  r.wasmMemoryBytesAfterAll = wasm.memory.buffer.byteLength;
  return r;
}

/** Peak wasm memory of one 12 MP prepare on a fresh instance. */
export async function runPeak12mp(env) {
  const wasm = await env.init();
  const before = wasm.memory.buffer.byteLength;
  const fb = new env.FaceBridge();
  await fb.prepare(await env.bytes("photo-12mp.jpg"), { role: "document", maxBytes: 2_000_000, maxSide: 4032, enforceGate: false });
  return { wasmMemoryBefore: before, wasmMemoryPeak: wasm.memory.buffer.byteLength };
}
