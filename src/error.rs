//! One error taxonomy for the whole crate.
//!
//! Errors are grouped by who is at fault, the way `image::ImageError` groups
//! them: the input photo, a limit, an unsupported feature, the detector's
//! model, the face-quality gate, or the caller's options. Every error has a
//! stable [`Error::code`] string; the JS bindings put it on `Error.code`, and
//! `FaceBridgeErrorCode` in the TypeScript declarations lists them all.
//!
//! Messages say what to do next. None ever contains a credential or image bytes.
//! Where another crate's error is the cause (a decoder, the encoder, the HTTP
//! client), it is kept as the [`std::error::Error::source`], as image-rs
//! does, and its words are in the message too, for the JS side, which sees
//! the message only.

use std::fmt;

use serde::Serialize;

/// Another crate's error, kept as the cause of one of ours.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A fieldless enum with its stable codes: the variants, `ALL` (every
/// variant, so tests cannot miss one) and `as_str`, written once.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $code:literal, )*
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $code, )*
                }
            }
        }
    };
}

/// Every way a facebridge call can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The photo could not be read.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// The face detector could not be loaded or run.
    #[error(transparent)]
    Detect(#[from] DetectError),
    /// The photo was read, but the face in it is not good enough to send.
    #[error(transparent)]
    Quality(#[from] QualityError),
    /// A face-match service refused the request or answered something we
    /// cannot read.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The service could not be reached, or did not answer in time. A
    /// timeout after the request was sent may still have been billed: retry
    /// only where the service is idempotent.
    #[error("{}: {reason}", if *.timeout { "the service did not answer in time" } else { "the service could not be reached" })]
    Network {
        timeout: bool,
        reason: String,
        /// The HTTP client's own error, natively.
        #[source]
        source: Option<Cause>,
    },
    /// The caller passed options that cannot work.
    #[error("invalid option `{field}`: {reason}")]
    InvalidOptions { field: &'static str, reason: String },
    /// The edge refused the request's token. Only `TOKEN_EXPIRED` is worth a
    /// retry (with a new token); nothing was sent to the service either way.
    #[error(transparent)]
    Token(#[from] crate::auth::TokenError),
    /// The edge refused the request before any service call (route, origin,
    /// size, body shape, or its own configuration).
    #[error("{reason}")]
    Refused { code: Refusal, reason: String },
}

impl Error {
    /// The stable code: one of [`CODES`].
    pub fn code(&self) -> &'static str {
        match self {
            Error::Image(e) => e.code(),
            Error::Detect(_) => "MODEL_ERROR",
            Error::Quality(q) => q.failures.first().map_or("QUALITY", |f| f.code.as_str()),
            Error::Service(e) => e.code.as_str(),
            Error::Network { timeout: true, .. } => "TIMEOUT",
            Error::Network { timeout: false, .. } => "NETWORK",
            Error::InvalidOptions { .. } => "INVALID_OPTIONS",
            Error::Token(t) => t.code(),
            Error::Refused { code, .. } => code.as_str(),
        }
    }

    pub(crate) fn refused(code: Refusal, reason: impl Into<String>) -> Self {
        Error::Refused {
            code,
            reason: reason.into(),
        }
    }

    /// A `NETWORK` or `TIMEOUT` error with no cause to keep (what a JS
    /// `fetch` says is not an error object Rust can hold).
    pub fn network(timeout: bool, reason: impl Into<String>) -> Self {
        Error::Network {
            timeout,
            reason: reason.into(),
            source: None,
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidOptions {
            field,
            reason: reason.into(),
        }
    }
}

/// Every code an error can carry, in a stable order. The TypeScript union
/// `FaceBridgeErrorCode` is generated from the same list (see `src/wasm`).
pub const CODES: &[&str] = &[
    "IMAGE_EMPTY",
    "IMAGE_UNREADABLE",
    "IMAGE_TOO_LARGE",
    "IMAGE_TOO_SMALL",
    "UNSUPPORTED_FORMAT",
    "BUDGET_UNREACHABLE",
    "RESIZE_FAILED",
    "ENCODE_FAILED",
    "MODEL_ERROR",
    "NO_FACE",
    "MULTIPLE_FACES",
    "FACE_TOO_SMALL",
    "FACE_TOO_LARGE",
    "FACE_AT_EDGE",
    "BLURRY",
    "TOO_DARK",
    "TOO_BRIGHT",
    "TILTED",
    "TURNED",
    "CARD_NOT_FOUND",
    "CARD_AT_EDGE",
    "CARD_TOO_SMALL",
    "GLARE",
    "INVALID_OPTIONS",
    "UNAUTHORIZED",
    "QUOTA_EXHAUSTED",
    "SUBSCRIPTION_INACTIVE",
    "IMAGE_REJECTED",
    "BAD_REQUEST",
    "SERVICE_UNAVAILABLE",
    "SERVICE_ERROR",
    "PROTOCOL",
    "TIMEOUT",
    "NETWORK",
    "TOKEN_EXPIRED",
    "TOKEN_REJECTED",
    "ORIGIN_REJECTED",
    "BODY_TOO_LARGE",
    "NOT_FOUND",
    "EDGE_MISCONFIGURED",
];

code_enum! {
    /// Why the edge refused a request before looking at its token or images.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    #[non_exhaustive]
    pub enum Refusal {
        /// The page's `Origin` is not on the edge's allow-list.
        OriginRejected => "ORIGIN_REJECTED",
        /// The body is over the edge's limit (checked before it is read).
        BodyTooLarge => "BODY_TOO_LARGE",
        /// No such route, method, or provider on this edge.
        NotFound => "NOT_FOUND",
        /// The body is not the JSON the SDK sends.
        BadRequest => "BAD_REQUEST",
        /// The edge lacks a secret or a setting: its operator must fix it.
        EdgeMisconfigured => "EDGE_MISCONFIGURED",
    }
}

/// The photo's bytes are the problem: empty, damaged, too big, or a kind we
/// do not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    #[error("the image is empty (0 bytes): pass the file's contents, not its name")]
    Empty,
    #[error("the image could not be decoded ({reason}): ask the user for another photo")]
    Unreadable {
        reason: String,
        /// The decoder's own error, when one said so.
        #[source]
        source: Option<Cause>,
    },
    #[error("unsupported image: {what}. Send a JPEG, PNG or WebP photo")]
    UnsupportedFormat { what: String },
    #[error(
        "the image is {width}×{height} ({megapixels:.1} MP), over the limit of {limit_megapixels:.1} MP: \
         resize it before calling, or raise `limits.maxPixels`"
    )]
    TooLarge {
        width: u32,
        height: u32,
        megapixels: f64,
        limit_megapixels: f64,
    },
    #[error(
        "decoding this image needs more than {limit_bytes} bytes of memory: raise `limits.maxAlloc` \
         or send a smaller photo"
    )]
    AllocationLimit { limit_bytes: u64 },
    #[error(
        "no JPEG of at least {min_side} px fits in {budget} bytes{b64}: raise the byte budget or lower the minimum size",
        b64 = if *.base64 { " (counted as base64)" } else { "" }
    )]
    BudgetUnreachable {
        budget: usize,
        min_side: u32,
        base64: bool,
    },
    /// The JPEG encoder failed: a bug, or an image it cannot take.
    #[error("JPEG encoding failed: {reason}")]
    Encode {
        reason: String,
        #[source]
        source: Option<Cause>,
    },
    /// A crop or resize was asked for something impossible (an empty region).
    #[error("resizing failed: {reason}")]
    Resize { reason: String },
    #[error("the {what} is {width}×{height}: {needed}")]
    TooSmall {
        what: &'static str,
        width: u32,
        height: u32,
        needed: String,
    },
}

impl ImageError {
    /// `IMAGE_UNREADABLE` with our words only.
    pub(crate) fn unreadable(reason: impl Into<String>) -> Self {
        ImageError::Unreadable {
            reason: reason.into(),
            source: None,
        }
    }

    /// `IMAGE_UNREADABLE` caused by a decoder's error, its words in the message.
    pub(crate) fn decoding(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        ImageError::Unreadable {
            reason: cause.to_string(),
            source: Some(Box::new(cause)),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ImageError::Empty => "IMAGE_EMPTY",
            ImageError::Unreadable { .. } => "IMAGE_UNREADABLE",
            ImageError::Encode { .. } => "ENCODE_FAILED",
            ImageError::Resize { .. } => "RESIZE_FAILED",
            ImageError::UnsupportedFormat { .. } => "UNSUPPORTED_FORMAT",
            ImageError::TooLarge { .. } | ImageError::AllocationLimit { .. } => "IMAGE_TOO_LARGE",
            ImageError::BudgetUnreachable { .. } => "BUDGET_UNREACHABLE",
            ImageError::TooSmall { .. } => "IMAGE_TOO_SMALL",
        }
    }
}

/// The detector's model could not be loaded or run. With the embedded models
/// this is a bug; with models passed as bytes, the bytes are probably wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    #[error(
        "the face model could not be loaded ({reason}): pass the package's .fbnet network or the BlazeFace ONNX file, unchanged"
    )]
    ModelLoad { reason: String },
    #[error("face detection failed while running the model ({reason})")]
    Inference { reason: String },
    #[error(
        "the {which} model is not loaded: this build does not embed it (in JS, `await warmUp(\"full\")` fetches it; natively, pass its bytes to `Detector::from_model_bytes`)"
    )]
    NotEmbedded { which: &'static str },
    #[error("the {which} model could not be fetched from {url} ({reason})")]
    ModelFetch {
        which: &'static str,
        url: String,
        reason: String,
    },
    #[error("its SHA-256 is {actual}, not the {expected} of the {file} this build was made with")]
    ModelMismatch {
        file: &'static str,
        expected: &'static str,
        actual: String,
    },
}

code_enum! {
    /// One reason the quality gate refused a photo.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    #[non_exhaustive]
    pub enum GateCode {
        NoFace => "NO_FACE",
        MultipleFaces => "MULTIPLE_FACES",
        FaceTooSmall => "FACE_TOO_SMALL",
        FaceTooLarge => "FACE_TOO_LARGE",
        FaceAtEdge => "FACE_AT_EDGE",
        Blurry => "BLURRY",
        TooDark => "TOO_DARK",
        TooBright => "TOO_BRIGHT",
        Tilted => "TILTED",
        Turned => "TURNED",
        /// Document capture (`crate::card`): no ID card in the frame.
        CardNotFound => "CARD_NOT_FOUND",
        /// A corner of the card touches or leaves the frame.
        CardAtEdge => "CARD_AT_EDGE",
        /// The card fills too little of the frame.
        CardTooSmall => "CARD_TOO_SMALL",
        /// Clipped highlights over the card's portrait.
        Glare => "GLARE",
    }
}

impl fmt::Display for GateCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed gate check: its code, the measured value and the threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateFailure {
    pub code: GateCode,
    /// What was measured (face count, pixels, variance, luminance, degrees…).
    pub value: f64,
    /// The configured limit that `value` did not meet.
    pub limit: f64,
    /// Plain words for the person holding the camera.
    pub hint: &'static str,
}

/// The quality gate refused the photo; nothing was sent anywhere.
#[derive(Debug, thiserror::Error)]
#[error("the photo did not pass the quality gate: {}", summary(.failures))]
pub struct QualityError {
    /// Every failed check, the most fundamental first (no face before blur).
    pub failures: Vec<GateFailure>,
    /// The full report, so a UI can draw boxes and say why.
    pub report: Box<crate::quality::QualityReport>,
}

fn summary(failures: &[GateFailure]) -> String {
    failures
        .iter()
        .map(|f| format!("{} ({})", f.code, f.hint))
        .collect::<Vec<_>>()
        .join(", ")
}

code_enum! {
    /// What a service's refusal means for the caller, whichever service said it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    #[non_exhaustive]
    pub enum ServiceCode {
        /// The credential is missing, wrong or expired: fix the edge's secrets.
        Unauthorized => "UNAUTHORIZED",
        /// Out of requests or credit: top up with the service.
        QuotaExhausted => "QUOTA_EXHAUSTED",
        /// No (active) subscription to this technology: talk to the service.
        SubscriptionInactive => "SUBSCRIPTION_INACTIVE",
        /// The service found no face in an image.
        NoFace => "NO_FACE",
        /// The service found more than one face.
        MultipleFaces => "MULTIPLE_FACES",
        /// The service could not read an image's format.
        UnsupportedFormat => "UNSUPPORTED_FORMAT",
        /// The service said an image is blurred.
        Blurry => "BLURRY",
        /// The service rejected an image for another reason (no ID card found…).
        ImageRejected => "IMAGE_REJECTED",
        /// The request itself was malformed: a bug in the adapter or the options.
        BadRequest => "BAD_REQUEST",
        /// The service is down or could not reach its own backend: retry later.
        ServiceUnavailable => "SERVICE_UNAVAILABLE",
        /// The service failed in a way it documents but that fits nothing above.
        ServiceError => "SERVICE_ERROR",
        /// The answer is not what the service documents (HTML, bad JSON, unknown shape).
        Protocol => "PROTOCOL",
    }
}

/// A service's refusal, with its own words kept (bounded, never a secret).
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("{provider} refused the request ({}, HTTP {status}): {message}", code.as_str())]
pub struct ServiceError {
    pub code: ServiceCode,
    pub provider: &'static str,
    pub status: u16,
    /// The service's own code, when it gives one (CVS `errorCode`, Valify `error_code`…).
    pub service_code: Option<String>,
    /// The service's message, or an excerpt of an unreadable answer (at most
    /// [`ServiceError::MAX_MESSAGE`] characters).
    pub message: String,
}

impl ServiceError {
    pub const MAX_MESSAGE: usize = 300;

    pub fn new(
        provider: &'static str,
        code: ServiceCode,
        status: u16,
        service_code: Option<String>,
        message: &str,
    ) -> Self {
        ServiceError {
            code,
            provider,
            status,
            service_code,
            message: excerpt(message),
        }
    }

    /// The same error with another code (the message and status kept).
    pub fn with_code(mut self, code: ServiceCode) -> Self {
        self.code = code;
        self
    }

    /// Removes every occurrence of each secret from the message: a service
    /// that echoes its request must not leak the credential through us.
    pub fn scrubbed(mut self, secrets: &[&str]) -> Self {
        for s in secrets.iter().filter(|s| s.len() >= 4) {
            self.message = self.message.replace(*s, "[redacted]");
        }
        self
    }
}

/// At most `MAX_MESSAGE` characters of `s`, control characters folded to spaces.
fn excerpt(s: &str) -> String {
    let mut out: String = s
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(ServiceError::MAX_MESSAGE)
        .collect();
    if s.trim().chars().count() > ServiceError::MAX_MESSAGE {
        out.push('…');
    }
    out
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typescript_union_lists_every_code() {
        let ts = include_str!("wasm/types.d.ts");
        let union =
            &ts[ts.find("type FaceBridgeErrorCode").unwrap()..ts.find("type GateCode").unwrap()];
        for c in CODES {
            assert!(
                union.contains(&format!("\"{c}\"")),
                "{c} missing from FaceBridgeErrorCode"
            );
        }
        assert_eq!(
            union.matches('"').count(),
            CODES.len() * 2,
            "the union has codes CODES lacks"
        );
    }

    /// One error of every kind the crate has. The matches below have no
    /// wildcard: a new variant does not compile until it is listed here, and
    /// then `codes_are_exactly_what_the_errors_carry` checks its code.
    fn one_of_each() -> Vec<Error> {
        use crate::auth::TokenError as T;
        fn image(e: &ImageError) {
            match e {
                ImageError::Empty
                | ImageError::Unreadable { .. }
                | ImageError::UnsupportedFormat { .. }
                | ImageError::TooLarge { .. }
                | ImageError::AllocationLimit { .. }
                | ImageError::BudgetUnreachable { .. }
                | ImageError::Encode { .. }
                | ImageError::Resize { .. }
                | ImageError::TooSmall { .. } => {}
            }
        }
        fn token(t: T) {
            match t {
                T::Missing
                | T::Malformed
                | T::Algorithm
                | T::UnknownKey
                | T::Signature
                | T::Expired
                | T::NotYetValid
                | T::Lifetime
                | T::Audience
                | T::Provider
                | T::Operation
                | T::Digest
                | T::Replayed
                | T::WeakSecret
                | T::Type
                | T::Id
                | T::Subject => {}
            }
        }
        fn error(e: &Error) {
            match e {
                Error::Image(_)
                | Error::Detect(_)
                | Error::Quality(_)
                | Error::Service(_)
                | Error::Network { .. }
                | Error::InvalidOptions { .. }
                | Error::Token(_)
                | Error::Refused { .. } => {}
            }
        }
        let images = vec![
            ImageError::Empty,
            ImageError::unreadable(""),
            ImageError::UnsupportedFormat {
                what: String::new(),
            },
            ImageError::TooLarge {
                width: 1,
                height: 1,
                megapixels: 0.0,
                limit_megapixels: 0.0,
            },
            ImageError::AllocationLimit { limit_bytes: 0 },
            ImageError::BudgetUnreachable {
                budget: 0,
                min_side: 0,
                base64: true,
            },
            ImageError::Encode {
                reason: String::new(),
                source: None,
            },
            ImageError::Resize {
                reason: String::new(),
            },
            ImageError::TooSmall {
                what: "photo",
                width: 1,
                height: 1,
                needed: String::new(),
            },
        ];
        images.iter().for_each(image);
        let tokens = [
            T::Missing,
            T::Malformed,
            T::Algorithm,
            T::UnknownKey,
            T::Signature,
            T::Expired,
            T::NotYetValid,
            T::Lifetime,
            T::Audience,
            T::Provider,
            T::Operation,
            T::Digest,
            T::Replayed,
            T::WeakSecret,
            T::Type,
            T::Id,
            T::Subject,
        ];
        tokens.iter().copied().for_each(token);
        let quality = |code: GateCode| {
            let report = crate::quality::QualityReport {
                width: 1,
                height: 1,
                faces: Vec::new(),
                primary: None,
            };
            Error::Quality(QualityError {
                failures: vec![GateFailure {
                    code,
                    value: 0.0,
                    limit: 0.0,
                    hint: "",
                }],
                report: Box::new(report),
            })
        };
        let mut all: Vec<Error> = images.into_iter().map(Error::Image).collect();
        all.push(Error::Detect(DetectError::NotEmbedded { which: "x" }));
        all.extend(GateCode::ALL.iter().map(|g| quality(*g)));
        all.extend(
            ServiceCode::ALL
                .iter()
                .map(|c| Error::Service(ServiceError::new("aigen", *c, 400, None, ""))),
        );
        all.push(Error::network(true, ""));
        all.push(Error::network(false, ""));
        all.push(Error::invalid("x", "y"));
        all.extend(tokens.into_iter().map(Error::Token));
        all.extend(Refusal::ALL.iter().map(|r| Error::refused(*r, "")));
        all.iter().for_each(error);
        all
    }

    #[test]
    fn codes_are_exactly_what_the_errors_carry() {
        let mut seen = std::collections::HashSet::new();
        for c in CODES {
            assert!(seen.insert(*c), "{c} twice in CODES");
        }
        let carried: std::collections::HashSet<&str> =
            one_of_each().iter().map(Error::code).collect();
        for c in &carried {
            assert!(CODES.contains(c), "{c} is carried but missing from CODES");
        }
        for c in CODES {
            assert!(
                carried.contains(c),
                "{c} is in CODES but no error carries it"
            );
        }
    }

    #[test]
    fn causes_are_kept_as_sources() {
        use std::error::Error as _;
        let cause = std::io::Error::other("bad huffman table");
        let e = Error::Image(ImageError::decoding(cause));
        assert_eq!(e.code(), "IMAGE_UNREADABLE");
        assert!(e.to_string().contains("bad huffman table"), "{e}");
        // `Error::Image` is transparent: its source is the decoder's error.
        let source = e.source().unwrap();
        assert_eq!(source.to_string(), "bad huffman table");
        assert!(source.downcast_ref::<std::io::Error>().is_some());
    }
}
