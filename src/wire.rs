//! The request body between the SDK and the edge, and the routes it goes
//! to: written by the browser client (`src/wasm/client.rs`), read by the edge
//! ([`crate::edge`]). Both sides are built from this one file, so they cannot
//! drift; it is compiled into every build, the browser's included.

use std::borrow::Cow;

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Refusal};
use crate::providers::{MatchRequest, Media};

/// The comparison route's prefix; the provider's name follows.
pub const MATCH_PREFIX: &str = "/v1/match/";
/// Direct mode: the edge hands a Valify access token to the browser.
pub const VALIFY_DIRECT_PATH: &str = "/v1/direct/valify/token";
/// The token operation (`fbo`) of a comparison.
pub const OP_COMPARE: &str = "compare";
/// The token operation (`fbo`) of a direct-mode Valify token request.
pub const OP_VALIFY_TOKEN: &str = "valify-token";

// Borrowed where the JSON allows (base64 has nothing to unescape), so reading
// a body does not copy its largest part: the edge's memory peak counts it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireMedia<'a> {
    #[serde(rename = "type", borrow)]
    content_type: Cow<'a, str>,
    /// Standard base64 with padding.
    #[serde(borrow)]
    data: Cow<'a, str>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireBody<'a> {
    #[serde(borrow)]
    document: WireMedia<'a>,
    #[serde(borrow)]
    selfie: WireMedia<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    video: Option<WireMedia<'a>>,
}

fn wire(m: &Media) -> WireMedia<'_> {
    WireMedia {
        content_type: Cow::Borrowed(&m.content_type),
        data: Cow::Owned(base64::engine::general_purpose::STANDARD.encode(&m.bytes)),
    }
}

/// The body the SDK sends to `POST /v1/match/{provider}`: JSON with each
/// file as `{"type": <media type>, "data": <base64>}`. The token's `fbd`
/// claim is the digest of exactly these bytes.
pub fn encode_body(req: &MatchRequest) -> Vec<u8> {
    let body = WireBody {
        document: wire(&req.document),
        selfie: wire(&req.selfie),
        video: req.video.as_ref().map(wire),
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Reads a body written by [`encode_body`] (or by any client that follows it).
pub fn decode_body(body: &[u8]) -> Result<MatchRequest, Error> {
    let bad = |why: String| Error::refused(Refusal::BadRequest, why);
    let w: WireBody = serde_json::from_slice(body)
        .map_err(|e| bad(format!("the body is not the SDK's JSON: {e}")))?;
    let media = |field: &str, m: WireMedia| -> Result<Media, Error> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(m.data.as_bytes())
            .map_err(|_| bad(format!("`{field}.data` is not base64")))?;
        if !is_media_type(&m.content_type) {
            return Err(bad(format!("`{field}.type` is not a media type")));
        }
        Ok(Media {
            bytes,
            content_type: m.content_type.into_owned(),
        })
    };
    Ok(MatchRequest {
        document: media("document", w.document)?,
        selfie: media("selfie", w.selfie)?,
        video: w.video.map(|v| media("video", v)).transpose()?,
    })
}

/// A media type as a client may name it: `type/subtype`, then optional
/// `; name=value` parameters (MediaRecorder's `video/webm;codecs=vp8,opus`),
/// at most 100 characters of RFC 9110 token characters. No CR, LF, quote,
/// space or control character: nothing that could end a header line or a
/// quoted string in the service's multipart body. The adapters never copy
/// it anyway (they write [`Media::mime`], from the bytes); this refuses the
/// attempt at the door.
pub(crate) fn is_media_type(t: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if t.len() > 100 {
        return false;
    }
    let mut parts = t.split(';');
    let Some((ty, sub)) = parts.next().and_then(|m| m.trim().split_once('/')) else {
        return false;
    };
    token(ty)
        && token(sub)
        && parts.all(|p| {
            p.trim()
                .split_once('=')
                .is_some_and(|(k, v)| token(k.trim()) && v.split(',').all(|x| token(x.trim())))
        })
}
