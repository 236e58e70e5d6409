// Guidance for the person in front of the camera, by gate code, in the
// languages of the services' markets: English, Russian and Kazakh
// (biometric.kz), Arabic (Valify; right to left), Vietnamese
// (computervision.com.vn) and Thai (AIGEN). Short imperatives, one action
// each. Safe to import during server rendering: nothing reads `window`,
// `document` or `navigator` until a function is called.
//
//   import { guidance, direction, setWords } from "facebridge/words";
//   hint.textContent = guidance(report.gate[0].code);      // the page's lang, or the browser's
//   hint.dir = direction();                                 // "rtl" for Arabic
//   setWords("en", { TOO_DARK: "Find a brighter spot" });   // the integrator's own words win

/** The languages shipped, by BCP 47 primary subtag. */
export const LANGUAGES = ["en", "ru", "kk", "ar", "vi", "th"];

const RTL = new Set(["ar"]);

const WORDS = {
  en: {
    NO_FACE: "Look at the camera",
    MULTIPLE_FACES: "Only one person, please",
    FACE_TOO_SMALL: "Move closer",
    FACE_TOO_LARGE: "Move back",
    FACE_AT_EDGE: "Centre your face",
    BLURRY: "Hold still",
    TOO_DARK: "More light, please",
    TOO_BRIGHT: "Too bright: move away from the light",
    TILTED: "Hold your head straight",
    TURNED: "Look straight at the camera",
    CARD_NOT_FOUND: "Hold your ID card in the frame",
    CARD_AT_EDGE: "Show the whole card",
    CARD_TOO_SMALL: "Bring the card closer",
    GLARE: "Tilt the card away from the light",
  },
  ru: {
    NO_FACE: "Посмотрите в камеру",
    MULTIPLE_FACES: "В кадре должен быть один человек",
    FACE_TOO_SMALL: "Подойдите ближе",
    FACE_TOO_LARGE: "Отодвиньтесь дальше",
    FACE_AT_EDGE: "Поместите лицо в центр кадра",
    BLURRY: "Не двигайтесь",
    TOO_DARK: "Нужно больше света",
    TOO_BRIGHT: "Слишком ярко: отойдите от света",
    TILTED: "Держите голову прямо",
    TURNED: "Смотрите прямо в камеру",
    CARD_NOT_FOUND: "Покажите удостоверение в кадре",
    CARD_AT_EDGE: "Покажите карту целиком",
    CARD_TOO_SMALL: "Поднесите карту ближе",
    GLARE: "Наклоните карту, чтобы убрать блик",
  },
  kk: {
    NO_FACE: "Камераға қараңыз",
    MULTIPLE_FACES: "Кадрда тек бір адам болсын",
    FACE_TOO_SMALL: "Жақынырақ келіңіз",
    FACE_TOO_LARGE: "Сәл алысырақ тұрыңыз",
    FACE_AT_EDGE: "Бетіңізді кадрдың ортасына келтіріңіз",
    BLURRY: "Қозғалмаңыз",
    TOO_DARK: "Жарық жеткіліксіз",
    TOO_BRIGHT: "Тым жарық: жарықтан алыстаңыз",
    TILTED: "Басыңызды тік ұстаңыз",
    TURNED: "Камераға тура қараңыз",
    CARD_NOT_FOUND: "Куәлікті кадрға көрсетіңіз",
    CARD_AT_EDGE: "Картаны толық көрсетіңіз",
    CARD_TOO_SMALL: "Картаны жақынырақ ұстаңыз",
    GLARE: "Жарқыл түспес үшін картаны еңкейтіңіз",
  },
  ar: {
    NO_FACE: "انظر إلى الكاميرا",
    MULTIPLE_FACES: "شخص واحد فقط من فضلك",
    FACE_TOO_SMALL: "اقترب أكثر",
    FACE_TOO_LARGE: "ابتعد قليلًا",
    FACE_AT_EDGE: "ضع وجهك في منتصف الإطار",
    BLURRY: "لا تتحرك",
    TOO_DARK: "الإضاءة ضعيفة، زد الإضاءة",
    TOO_BRIGHT: "الإضاءة قوية، ابتعد عن الضوء",
    TILTED: "أبقِ رأسك مستقيمًا",
    TURNED: "انظر مباشرة إلى الكاميرا",
    CARD_NOT_FOUND: "ضع بطاقة الهوية داخل الإطار",
    CARD_AT_EDGE: "أظهر البطاقة كاملة",
    CARD_TOO_SMALL: "قرّب البطاقة أكثر",
    GLARE: "أمِل البطاقة بعيدًا عن الضوء",
  },
  vi: {
    NO_FACE: "Hãy nhìn vào camera",
    MULTIPLE_FACES: "Chỉ một người trong khung hình",
    FACE_TOO_SMALL: "Lại gần hơn",
    FACE_TOO_LARGE: "Lùi ra xa hơn",
    FACE_AT_EDGE: "Đưa khuôn mặt vào giữa khung hình",
    BLURRY: "Giữ yên",
    TOO_DARK: "Cần thêm ánh sáng",
    TOO_BRIGHT: "Quá sáng: tránh xa nguồn sáng",
    TILTED: "Giữ đầu thẳng",
    TURNED: "Nhìn thẳng vào camera",
    CARD_NOT_FOUND: "Đưa thẻ căn cước vào khung hình",
    CARD_AT_EDGE: "Hiển thị toàn bộ thẻ",
    CARD_TOO_SMALL: "Đưa thẻ lại gần hơn",
    GLARE: "Nghiêng thẻ để tránh lóa sáng",
  },
  th: {
    NO_FACE: "มองที่กล้อง",
    MULTIPLE_FACES: "ขอเพียงหนึ่งคนในภาพ",
    FACE_TOO_SMALL: "ขยับเข้ามาใกล้อีก",
    FACE_TOO_LARGE: "ถอยออกไปอีกนิด",
    FACE_AT_EDGE: "จัดใบหน้าให้อยู่กลางภาพ",
    BLURRY: "อยู่นิ่ง ๆ",
    TOO_DARK: "แสงน้อยเกินไป",
    TOO_BRIGHT: "สว่างเกินไป ถอยห่างจากแสง",
    TILTED: "ตั้งศีรษะให้ตรง",
    TURNED: "มองตรงไปที่กล้อง",
    CARD_NOT_FOUND: "ถือบัตรให้อยู่ในกรอบภาพ",
    CARD_AT_EDGE: "ให้เห็นบัตรทั้งใบ",
    CARD_TOO_SMALL: "ถือบัตรให้ใกล้ขึ้น",
    GLARE: "เอียงบัตรหลบแสงสะท้อน",
  },
};

/**
 * The capture component's own words (buttons, states), by key. Replaced
 * like the guidance, with `setWords(lang, { START: "…" })`.
 */
const LABELS = {
  en: {
    START: "Start the camera",
    TAKE: "Take the photo",
    RETAKE: "Take it again",
    STARTING: "Starting the camera…",
    HOLD: "Good. Hold still",
    DONE: "Photo taken",
    CAMERA_DENIED: "The camera is blocked. Allow it in the browser's settings.",
    CAMERA_UNAVAILABLE: "No camera could be opened.",
  },
  ru: {
    START: "Включить камеру",
    TAKE: "Сделать снимок",
    RETAKE: "Переснять",
    STARTING: "Включаем камеру…",
    HOLD: "Хорошо. Не двигайтесь",
    DONE: "Снимок сделан",
    CAMERA_DENIED: "Доступ к камере запрещён. Разрешите его в настройках браузера.",
    CAMERA_UNAVAILABLE: "Не удалось открыть камеру.",
  },
  kk: {
    START: "Камераны қосу",
    TAKE: "Суретке түсіру",
    RETAKE: "Қайта түсіру",
    STARTING: "Камера қосылуда…",
    HOLD: "Жақсы. Қозғалмаңыз",
    DONE: "Сурет түсірілді",
    CAMERA_DENIED: "Камераға рұқсат жоқ. Браузер баптауларынан рұқсат беріңіз.",
    CAMERA_UNAVAILABLE: "Камераны ашу мүмкін болмады.",
  },
  ar: {
    START: "تشغيل الكاميرا",
    TAKE: "التقط الصورة",
    RETAKE: "أعد الالتقاط",
    STARTING: "جارٍ تشغيل الكاميرا…",
    HOLD: "جيد. لا تتحرك",
    DONE: "تم التقاط الصورة",
    CAMERA_DENIED: "الكاميرا محظورة. اسمح بها من إعدادات المتصفح.",
    CAMERA_UNAVAILABLE: "تعذّر فتح الكاميرا.",
  },
  vi: {
    START: "Bật camera",
    TAKE: "Chụp ảnh",
    RETAKE: "Chụp lại",
    STARTING: "Đang bật camera…",
    HOLD: "Tốt. Giữ yên",
    DONE: "Đã chụp ảnh",
    CAMERA_DENIED: "Camera bị chặn. Hãy cho phép trong cài đặt trình duyệt.",
    CAMERA_UNAVAILABLE: "Không mở được camera.",
  },
  th: {
    START: "เปิดกล้อง",
    TAKE: "ถ่ายภาพ",
    RETAKE: "ถ่ายใหม่",
    STARTING: "กำลังเปิดกล้อง…",
    HOLD: "ดีมาก อยู่นิ่ง ๆ",
    DONE: "ถ่ายภาพแล้ว",
    CAMERA_DENIED: "กล้องถูกบล็อก โปรดอนุญาตในการตั้งค่าเบราว์เซอร์",
    CAMERA_UNAVAILABLE: "เปิดกล้องไม่ได้",
  },
};

/** The integrator's words, by language, over the shipped ones. */
const overrides = {};

/**
 * The language to speak: `lang` if given, else the page's `<html lang>`, else
 * the browser's; reduced to a shipped language by its primary subtag
 * ("ru-KZ" → "ru"), else English.
 */
export function language(lang) {
  const wanted = lang ?? globalThis.document?.documentElement?.lang ?? globalThis.navigator?.language ?? "en";
  const primary = String(wanted).toLowerCase().split(/[-_]/)[0];
  return primary in WORDS || primary in overrides ? primary : "en";
}

/** "rtl" for a right-to-left language (Arabic), else "ltr". */
export function direction(lang) {
  return RTL.has(language(lang)) ? "rtl" : "ltr";
}

/**
 * The guidance for a gate code (`report.gate[i].code`, `error.code`), in
 * `lang` (see `language`). A code with no words in that language falls back
 * to English; an unknown code comes back as it is (better than wrong advice).
 */
export function guidance(code, lang) {
  const l = language(lang);
  return overrides[l]?.[code] ?? WORDS[l]?.[code] ?? overrides.en?.[code] ?? WORDS.en[code] ?? String(code);
}

/** A label of the capture component (`LABELS` keys: START, TAKE, …), in `lang`. */
export function label(key, lang) {
  const l = language(lang);
  return overrides[l]?.[key] ?? LABELS[l]?.[key] ?? overrides.en?.[key] ?? LABELS.en[key] ?? String(key);
}

/**
 * Replaces some or all words of a language (a shipped one, or a new one);
 * `{ dir: "rtl" }` for a new right-to-left language.
 */
export function setWords(lang, words, { dir } = {}) {
  const l = String(lang).toLowerCase().split(/[-_]/)[0];
  overrides[l] = { ...overrides[l], ...words };
  if (dir === "rtl") RTL.add(l);
  else if (dir === "ltr") RTL.delete(l);
}

/** Every code with shipped words. */
export const CODES = Object.keys(WORDS.en);

/** Every label key of the capture component. */
export const LABEL_KEYS = Object.keys(LABELS.en);
