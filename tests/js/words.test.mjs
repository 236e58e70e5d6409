// The guidance catalog (js/words.js, `facebridge/words`): every gate code in
// every shipped language, the language picked as a page would, Arabic right
// to left, the integrator's words first; importable without a DOM (SSR).
import { test } from "node:test";
import assert from "node:assert/strict";

const words = await import("../../js/words.js");
const { CODES, LANGUAGES, direction, guidance, language, setWords } = words;

test("every gate code has words in every shipped language, none left in English", async () => {
  const types = (await import("node:fs")).readFileSync(new URL("../../src/wasm/types.d.ts", import.meta.url), "utf8");
  const gate = types.slice(types.indexOf("type GateCode"), types.indexOf(";", types.indexOf("type GateCode")));
  const gateCodes = [...gate.matchAll(/"([A-Z_]+)"/g)].map((m) => m[1]);
  assert.deepEqual([...CODES].sort(), [...gateCodes].sort(), "the catalog covers exactly the gate's codes");
  for (const lang of LANGUAGES) {
    for (const code of CODES) {
      const w = guidance(code, lang);
      assert.ok(w && w !== code, `${lang} ${code}`);
      assert.ok(w.length <= 45, `${lang} ${code}: "${w}" is long for a hint`);
      if (lang !== "en") assert.notEqual(w, guidance(code, "en"), `${lang} ${code} is still English`);
    }
  }
});

test("the language follows what the page asks, by primary subtag, else English", () => {
  assert.equal(language("ru-KZ"), "ru");
  assert.equal(language("kk"), "kk");
  assert.equal(language("TH_th"), "th");
  assert.equal(language("de-DE"), "en");
  assert.equal(language(), "en"); // Node: no document; navigator.language is "en-US"
  assert.equal(guidance("FACE_TOO_LARGE", "ar-EG"), "ابتعد قليلًا");
  assert.equal(guidance("SOMETHING_NEW", "vi"), "SOMETHING_NEW");
});

test("Arabic is right to left, the rest left to right", () => {
  for (const lang of LANGUAGES) assert.equal(direction(lang), lang === "ar" ? "rtl" : "ltr", lang);
});

test("the integrator's words win, and a new language can be added", () => {
  setWords("en", { TOO_DARK: "Find a brighter spot" });
  assert.equal(guidance("TOO_DARK", "en"), "Find a brighter spot");
  assert.equal(guidance("BLURRY", "en"), "Hold still");
  setWords("fa", { NO_FACE: "به دوربین نگاه کنید" }, { dir: "rtl" });
  assert.equal(language("fa-IR"), "fa");
  assert.equal(guidance("NO_FACE", "fa"), "به دوربین نگاه کنید");
  assert.equal(guidance("BLURRY", "fa"), "Hold still", "falls back to English");
  assert.equal(direction("fa"), "rtl");
});

test("the capture component's labels exist in every shipped language and can be replaced", () => {
  const { LABEL_KEYS, label } = words;
  for (const lang of LANGUAGES) {
    for (const key of LABEL_KEYS) {
      const w = label(key, lang);
      assert.ok(w && w !== key, `${lang} ${key}`);
      if (lang !== "en") assert.notEqual(w, label(key, "en"), `${lang} ${key} is still English`);
    }
  }
  setWords("kk", { TAKE: "Түсіру" });
  assert.equal(label("TAKE", "kk-KZ"), "Түсіру");
  assert.equal(label("UNKNOWN_KEY", "ru"), "UNKNOWN_KEY");
});
