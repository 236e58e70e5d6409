//! HS256 in JWS compact serialisation (RFC 7515 §3.1, §7.1): the one form
//! request tokens take, read and written here.
//!
//! The cryptography and the encodings are maintained crates: HMAC-SHA256 from
//! `hmac` + `sha2` (verification through `hmac`'s constant-time comparison),
//! base64url from `base64`, JSON from `serde_json`. What is ours is the framing,
//! and it accepts one shape only:
//!
//! - three base64url segments, unpadded and canonical (no stray bits);
//! - a protected header that is a JSON object with `alg` exactly `"HS256"`
//!   (read before anything else, so `none`, `HS512` or `RS256` are an
//!   algorithm refusal, not a parse error), an optional string `kid`, and no
//!   `crit`: this verifier understands no extension (RFC 7515 §4.1.11);
//! - a 32-byte signature over the first two segments as sent.
//!
//! It replaced `jsonwebtoken`, whose generic header type, JWK deserialisers and
//! algorithm dispatch were 90 KB of the wasm for a single algorithm.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::TokenError;

/// The protected header, as minted.
#[derive(Serialize)]
struct HeaderOut<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

/// The protected header, as read: other members (`typ`, `cty`…) are ignored,
/// as RFC 7515 allows for parameters that are not critical.
#[derive(Deserialize)]
struct HeaderIn {
    alg: Option<serde_json::Value>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// A token's parts once its framing and algorithm have been accepted; the
/// signature is not checked yet.
pub(super) struct Unverified<'a> {
    pub kid: Option<String>,
    signing_input: &'a str,
    payload: &'a str,
    signature: Vec<u8>,
}

fn mac(secret: &[u8]) -> Result<Hmac<Sha256>, TokenError> {
    Hmac::<Sha256>::new_from_slice(secret).map_err(|_| TokenError::WeakSecret)
}

/// `header.payload.signature` for `payload`, signed with `secret`.
pub(super) fn sign<T: Serialize>(
    kid: &str,
    payload: &T,
    secret: &[u8],
) -> Result<String, TokenError> {
    let header = HeaderOut {
        alg: "HS256",
        typ: "JWT",
        kid,
    };
    let header = serde_json::to_vec(&header).map_err(|_| TokenError::Malformed)?;
    let payload = serde_json::to_vec(payload).map_err(|_| TokenError::Malformed)?;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let mut m = mac(secret)?;
    m.update(input.as_bytes());
    let sig = m.finalize().into_bytes();
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

/// Splits a token and checks everything but the signature and the claims.
pub(super) fn parse(token: &str) -> Result<Unverified<'_>, TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header = URL_SAFE_NO_PAD
        .decode(h)
        .map_err(|_| TokenError::Malformed)?;
    let header: HeaderIn = serde_json::from_slice(&header).map_err(|_| TokenError::Malformed)?;
    match header.alg {
        Some(serde_json::Value::String(a)) if a == "HS256" => {}
        Some(_) => return Err(TokenError::Algorithm),
        None => return Err(TokenError::Malformed),
    }
    if header.crit.is_some() {
        return Err(TokenError::Malformed);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| TokenError::Malformed)?;
    Ok(Unverified {
        kid: header.kid,
        signing_input: &token[..h.len() + 1 + p.len()],
        payload: p,
        signature,
    })
}

impl Unverified<'_> {
    /// Checks the signature with `secret`, then reads the payload as `T`.
    pub fn verify<T: for<'de> Deserialize<'de>>(&self, secret: &[u8]) -> Result<T, TokenError> {
        let mut m = mac(secret)?;
        m.update(self.signing_input.as_bytes());
        // Constant time, and a signature of any other length fails.
        m.verify_slice(&self.signature)
            .map_err(|_| TokenError::Signature)?;
        let payload = URL_SAFE_NO_PAD
            .decode(self.payload)
            .map_err(|_| TokenError::Malformed)?;
        serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)
    }
}
