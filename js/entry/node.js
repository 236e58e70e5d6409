// The package's entry in Node (20+): the wasm read from the package, no
// setup. The full-range model is read from the package on first use too.
import { readFileSync } from "node:fs";
import { initSync } from "./facebridge.js";

initSync({ module: readFileSync(new URL("./facebridge_bg.wasm", import.meta.url)) });

export * from "./facebridge.js";
export { default } from "./facebridge.js";
