
/** Every `code` a FaceBridgeError can carry (src/error.rs, `CODES`). */
export type FaceBridgeErrorCode =
  | "IMAGE_EMPTY"
  | "IMAGE_UNREADABLE"
  | "IMAGE_TOO_LARGE"
  | "IMAGE_TOO_SMALL"
  | "UNSUPPORTED_FORMAT"
  | "BUDGET_UNREACHABLE"
  | "RESIZE_FAILED"
  | "ENCODE_FAILED"
  | "MODEL_ERROR"
  | "NO_FACE"
  | "MULTIPLE_FACES"
  | "FACE_TOO_SMALL"
  | "FACE_TOO_LARGE"
  | "FACE_AT_EDGE"
  | "BLURRY"
  | "TOO_DARK"
  | "TOO_BRIGHT"
  | "TILTED"
  | "TURNED"
  | "CARD_NOT_FOUND"
  | "CARD_AT_EDGE"
  | "CARD_TOO_SMALL"
  | "GLARE"
  | "INVALID_OPTIONS"
  | "UNAUTHORIZED"
  | "QUOTA_EXHAUSTED"
  | "SUBSCRIPTION_INACTIVE"
  | "IMAGE_REJECTED"
  | "BAD_REQUEST"
  | "SERVICE_UNAVAILABLE"
  | "SERVICE_ERROR"
  | "PROTOCOL"
  | "TIMEOUT"
  | "NETWORK"
  | "TOKEN_EXPIRED"
  | "TOKEN_REJECTED"
  | "ORIGIN_REJECTED"
  | "BODY_TOO_LARGE"
  | "NOT_FOUND"
  | "EDGE_MISCONFIGURED";

/** The quality gate's failure codes, a subset of FaceBridgeErrorCode. */
export type GateCode =
  | "NO_FACE"
  | "MULTIPLE_FACES"
  | "FACE_TOO_SMALL"
  | "FACE_TOO_LARGE"
  | "FACE_AT_EDGE"
  | "BLURRY"
  | "TOO_DARK"
  | "TOO_BRIGHT"
  | "TILTED"
  | "TURNED"
  | "CARD_NOT_FOUND"
  | "CARD_AT_EDGE"
  | "CARD_TOO_SMALL"
  | "GLARE";

/** What every promise of this package rejects with. */
export interface FaceBridgeError extends Error {
  name: "FaceBridgeError";
  code: FaceBridgeErrorCode;
  /** Quality-gate refusals only: every failed check. */
  failures?: GateFailure[];
  /** Quality-gate refusals only: what was measured. */
  report?: QualityReport;
  /** Answers from the edge: its HTTP status. */
  status?: number;
  /** Service errors: which service, its HTTP status and its own code. */
  provider?: Provider;
  serviceStatus?: number;
  serviceCode?: string;
  /** Token refusals: which check failed (`expired`, `digest`, `replayed`, …). */
  reason?: string;
  /**
   * Refusals the edge gave after it accepted the token (an image it
   * re-checked, the service's error, a timeout): its signed receipt (a
   * compact JWS), for your backend to verify.
   */
  receipt?: string;
}

export type Provider = "biometric_kz" | "valify" | "biometry" | "cvs" | "aigen";

/** What `getToken` receives: enough for your backend to mint a token bound to this request. */
export interface TokenRequest {
  provider: Provider;
  /** "compare", or "valify-token" in direct mode. */
  op: "compare" | "valify-token";
  /** SHA-256 of the request body, base64url: put it in the token's `fbd` claim. */
  digest: string;
  /** The body's size in bytes. */
  bytes: number;
}

export type GetToken = (req: TokenRequest) => Promise<{ token: string } | string> | { token: string } | string;

export interface CompareOptions {
  /** Biometry only: the liveness video (`video/mp4` or `video/webm`). */
  video?: Blob | Uint8Array;
}

/** AIGEN's score thresholds (0..100) at error rates of 1 %, 0.1 % and 0.01 %, as sent with the answer. */
export interface Thresholds { err_01: number; err_001: number; err_0001: number }

export interface MatchWarning { code: string; message: string }

/** One result shape for all five services. */
export interface MatchResult {
  /**
   * Through the edge: its signed receipt of this verdict (a compact JWS,
   * `typ` `fb-receipt+jwt`). The page's copy of the result is untrusted;
   * your backend verifies this (README, "Receipts"). Absent in Valify direct mode.
   */
  receipt?: string;
  provider: Provider;
  decision: "match" | "refer" | "no_match";
  /** The service's similarity mapped to 0..1. */
  similarity: number;
  /** The service's own score, as it sent it. */
  providerScore: number | string | null;
  thresholds: Thresholds | null;
  warnings: MatchWarning[];
  requestId: string | null;
  trialsRemaining: number | null;
  /** The service's whole answer. */
  raw: unknown;
}

/** The Worker's view of a request (EdgeProxy). */
export type EdgeRoute =
  | { kind: "preflight" }
  | { kind: "match"; provider: Provider }
  | { kind: "valifyDirect" };

/** What `new EdgeProxy(env, models)` detects faces with (`FB_EDGE_DETECT_FACES`). */
export interface EdgeModels {
  /** The package's `blazeface_back_256.fbnet` (a Data module import in the Worker); its SHA-256 is checked. */
  fullModel?: ArrayBuffer | Uint8Array;
}

export interface ServiceRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array;
}

export type ImageInput = Uint8Array | ArrayBuffer | Blob;
export type Role = "selfie" | "document";
export type ModelKind = "short" | "full";
export type TileMode = "off" | "auto";

export interface Limits {
  /** Most pixels (width × height) a photo may have. Default 40 000 000. */
  maxPixels?: number;
  /** Most bytes one decode may allocate. Default 512 MiB. */
  maxAlloc?: number;
}

export interface FaceBridgeOptions {
  /** The service `compare` uses. */
  provider?: Provider;
  /** The edge proxy's URL (the Worker in `edge/`), e.g. "https://kyc-edge.example.com". */
  endpoint?: string;
  /** Asks your backend for a token bound to one request; called before every request. */
  getToken?: GetToken;
  /** Milliseconds before a request to the edge gives up with `TIMEOUT`. Default 30 000. */
  timeoutMs?: number;
  /** Valify only: call Valify from the page with an access token the edge hands over (see the README's trade-off). */
  direct?: boolean;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
  limits?: Limits;
  /** BlazeFace short-range network as `.fbnet` bytes (examples/convert_models.rs compiles one from the ONNX file), instead of the embedded one. */
  shortModel?: Uint8Array;
  /**
   * BlazeFace full-range network as `.fbnet` bytes (the package's
   * `blazeface_back_256.fbnet`, or one of your own). Without it, the first call
   * that needs it (role "document", model "full", tiles "auto") fetches it.
   */
  fullModel?: Uint8Array;
  /**
   * Where that fetch reads the package's `blazeface_back_256.fbnet` when you
   * serve it yourself (relative URLs resolve against the page). Default: the
   * file beside the package's wasm. Its SHA-256 must be the one this build was
   * made with, or the call fails with `MODEL_ERROR`.
   */
  fullModelUrl?: string | URL;
}

export interface DetectOptions {
  role?: Role;
  model?: ModelKind;
  minScore?: number | null;
  iouThreshold?: number;
  tiles?: TileMode;
  limits?: Limits;
}

export interface GateConfig {
  minFacePx?: number;
  minFaceFraction?: number;
  maxFaceFraction?: number;
  otherFaceRatio?: number;
  minEdgeMargin?: number;
  minSharpness?: number;
  minLuma?: number;
  maxLuma?: number;
  maxClipped?: number;
  maxRollDegrees?: number;
  maxYawDegrees?: number;
}

export interface PrepareOptions {
  role?: Role;
  maxBytes?: number;
  base64?: boolean;
  /**
   * Longest side of the output, at most (default 1280). A larger photo comes
   * out at this side, or up to 1/32 under it when that lets the JPEG decode
   * at 1/2, 1/4 or 1/8 scale: a 4032-px photo at 2048 gives 2016 px.
   */
  maxSide?: number;
  /** Shortest side of the output, at least: never bent, upscaled if the photo is smaller. */
  minSide?: number;
  cropMargin?: number;
  maxQuality?: number;
  minQuality?: number;
  gate?: GateConfig;
  enforceGate?: boolean;
  detect?: Omit<DetectOptions, "role" | "limits">;
  limits?: Limits;
}

export interface Rect { x: number; y: number; w: number; h: number }

export interface Face {
  box: Rect;
  score: number;
  /** Right eye, left eye, nose tip, mouth, right ear, left ear (the subject's sides). */
  landmarks: [number, number][];
}

export interface Edges { left: number; top: number; right: number; bottom: number }

export interface FaceQuality {
  box: Rect;
  sizePx: number;
  edges: Edges;
  sharpness: number;
  meanLuma: number;
  darkFraction: number;
  brightFraction: number;
  rollDegrees: number;
  /** 0 faces the camera; positive when the subject turns to their left. */
  yawDegrees: number;
}

export interface QualityReport {
  width: number;
  height: number;
  faces: Face[];
  primary: FaceQuality | null;
}

export interface GateFailure {
  code: GateCode;
  value: number;
  limit: number;
  /** Plain words for the person holding the camera. */
  hint: string;
}

export interface SourceInfo {
  format: "jpeg" | "png" | "webp";
  width: number;
  height: number;
  orientation: number;
  decodeScale: number;
}

export interface DetectionReport {
  width: number;
  height: number;
  source?: SourceInfo;
  faces: Face[];
  quality: QualityReport;
  /** Failed gate checks; empty when the photo would pass. */
  gate: GateFailure[];
}

/** A card found in a camera frame (document capture). */
export interface CardQuad {
  /** Top-left, top-right, bottom-right, bottom-left, in frame pixels. */
  corners: [[number, number], [number, number], [number, number], [number, number]];
  /** Share of its length the weakest side is backed by edge pixels. */
  support: number;
  /** The card's area over the frame's. */
  fill: number;
}

/** `detectCardPixels` / `detectCard`: the card check on one frame. */
export interface CardReport {
  width: number;
  height: number;
  card: CardQuad | null;
  /** Laplacian variance of the straightened card at 428 px wide. */
  sharpness: number;
  /** Share of clipped pixels over the portrait. */
  glare: number;
  /** Faces on the straightened card, in its pixels. */
  faces: Face[];
  /** Failed checks, the one to fix first first; empty: take the photo. */
  gate: GateFailure[];
}

export interface PrepareReport {
  role: Role;
  mime: "image/jpeg";
  bytes: number;
  base64Bytes: number;
  width: number;
  height: number;
  jpegQuality: number;
  encodes: number;
  crop: Rect;
  source: SourceInfo;
  quality: QualityReport;
  gate: GateFailure[];
  face: Face | null;
}

export interface PreparedImage {
  /** The JPEG to send: no EXIF, no metadata. */
  bytes: Uint8Array;
  report: PrepareReport;
}
