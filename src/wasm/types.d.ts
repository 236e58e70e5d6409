
/** Every `code` a FaceBridgeError can carry (src/error.rs, `CODES`). */
export type FaceBridgeErrorCode =
  | "IMAGE_EMPTY"
  | "IMAGE_UNREADABLE"
  | "IMAGE_TOO_LARGE"
  | "UNSUPPORTED_FORMAT"
  | "BUDGET_UNREACHABLE"
  | "MODEL_ERROR"
  | "NO_FACE"
  | "MULTIPLE_FACES"
  | "FACE_TOO_SMALL"
  | "FACE_AT_EDGE"
  | "BLURRY"
  | "TOO_DARK"
  | "TOO_BRIGHT"
  | "TILTED"
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
  | "TOKEN_REJECTED";

/** The quality gate's failure codes, a subset of FaceBridgeErrorCode. */
export type GateCode =
  | "NO_FACE"
  | "MULTIPLE_FACES"
  | "FACE_TOO_SMALL"
  | "FACE_AT_EDGE"
  | "BLURRY"
  | "TOO_DARK"
  | "TOO_BRIGHT"
  | "TILTED";

/** What every promise of this package rejects with. */
export interface FaceBridgeError extends Error {
  name: "FaceBridgeError";
  code: FaceBridgeErrorCode;
  /** Quality-gate refusals only: every failed check. */
  failures?: GateFailure[];
  /** Quality-gate refusals only: what was measured. */
  report?: QualityReport;
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
  limits?: Limits;
  /** BlazeFace short-range ONNX bytes, instead of the embedded model. */
  shortModel?: Uint8Array;
  /** BlazeFace full-range ONNX bytes, instead of the embedded model. */
  fullModel?: Uint8Array;
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
  otherFaceRatio?: number;
  minEdgeMargin?: number;
  minSharpness?: number;
  minLuma?: number;
  maxLuma?: number;
  maxClipped?: number;
  maxRollDegrees?: number;
}

export interface PrepareOptions {
  role?: Role;
  maxBytes?: number;
  base64?: boolean;
  maxSide?: number;
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
