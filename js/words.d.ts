// Types of facebridge/words: guidance for the person in front of the camera.
import type { GateCode } from "./facebridge.js";

/** The languages shipped: English, Russian, Kazakh, Arabic, Vietnamese, Thai. */
export declare const LANGUAGES: readonly ["en", "ru", "kk", "ar", "vi", "th"];
/** Every gate code with shipped words. */
export declare const CODES: readonly GateCode[];
/** The language used for `lang` (or the page's, or the browser's): a shipped one, else "en". */
export declare function language(lang?: string): string;
/** "rtl" for Arabic (or a language added as right to left), else "ltr". */
export declare function direction(lang?: string): "rtl" | "ltr";
/** The guidance for a gate code; English where the language has none; an unknown code as it is. */
export declare function guidance(code: GateCode | string, lang?: string): string;
/** The integrator's words over the shipped ones, or a new language. */
export declare function setWords(lang: string, words: Partial<Record<GateCode | LabelKey, string>>, options?: { dir?: "rtl" | "ltr" }): void;
/** The capture component's labels, keyed (buttons and states). */
export type LabelKey = "START" | "TAKE" | "RETAKE" | "STARTING" | "HOLD" | "DONE" | "CAMERA_DENIED" | "CAMERA_UNAVAILABLE";
/** Every label key. */
export declare const LABEL_KEYS: readonly LabelKey[];
/** A label of the capture component in `lang`; English where the language has none. */
export declare function label(key: LabelKey | string, lang?: string): string;
