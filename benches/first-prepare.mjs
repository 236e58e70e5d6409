// The first prepare of a page's life against the later ones: the 12 MP
// photo at max side 2048 (the anchors' prepare job), each case in fresh Node
// processes. A KYC page prepares one or two photos, so the first is the one
// its user waits for, while V8 still runs the wasm's baseline code: it
// swaps optimised code in only at a function's next call, and the JPEG
// decode at reduced scale (jpeg-decoder) and the encode (jpeg-encoder) are
// each one long call.
//   cold            warmUp("full"), then prepares 1–5
//   after a small   the same after one prepare of a 556×733 selfie and 200 ms idle
//   baseline only   V8's optimising tier off (--liftoff-only): its floor
// Medians over the processes, ms. Needs pkg/ and bench-out/anchors/photo-12mp.jpg
// (scripts/bench-anchors.sh).
//
//   node benches/first-prepare.mjs [processes=3] [pkgDir=pkg]
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const processes = Number(process.argv[2] ?? 3);
const dir = resolve(process.argv[3] ?? `${root}pkg`);

const script = (small) => `
  import { readFileSync } from "node:fs";
  const glue = await import(${JSON.stringify(pathToFileURL(`${dir}/facebridge.js`).href)});
  glue.initSync({ module: readFileSync(${JSON.stringify(`${dir}/facebridge_bg.wasm`)}) });
  const fb = new glue.FaceBridge();
  await fb.warmUp("full");
  if (${small}) {
    await fb.prepare(readFileSync(${JSON.stringify(`${root}tests/fixtures/generated/selfie.jpg`)}),
      { role: "selfie", maxBytes: 200000, enforceGate: false });
    await new Promise((r) => setTimeout(r, 200));
  }
  const photo = readFileSync(${JSON.stringify(`${root}bench-out/anchors/photo-12mp.jpg`)});
  const options = { role: "document", maxBytes: 2000000, maxSide: 2048, enforceGate: false };
  const ms = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await fb.prepare(photo, options);
    ms.push(performance.now() - t);
  }
  console.log("MS " + JSON.stringify(ms));`;

const run = (flags, small) => {
  const out = execFileSync(process.execPath, [...flags, "--input-type=module", "-e", script(small)], { encoding: "utf8" });
  return JSON.parse(out.match(/MS (.*)/)[1]);
};
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];

const cases = [["cold", [], false], ["after a small prepare", [], true], ["baseline code only", ["--liftoff-only"], false]];
const rows = cases.map(([name]) => ({ name, runs: [] }));
for (let p = 0; p < processes; p++) {
  cases.forEach(([, flags, small], i) => rows[i].runs.push(run(flags, small)));
}
console.log(`Node ${process.version}, SIMD build, ${processes} processes per case, medians in ms:\n`);
console.log("| case | 1st prepare | 2nd | 5th |\n|---|---|---|---|");
for (const r of rows) {
  const col = (k) => median(r.runs.map((v) => v[k])).toFixed(0);
  console.log(`| ${r.name} | ${col(0)} | ${col(1)} | ${col(4)} |`);
}
