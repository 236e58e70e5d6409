//! JWS compact serialisation (RFC 7515 §3.1, §7.1) for the two algorithms
//! this crate speaks: HS256 (request tokens; receipts with a shared key) and
//! EdDSA over Ed25519 (RFC 8037; receipts a backend verifies with a public
//! key), read and written here.
//!
//! The cryptography and the encodings are maintained crates: HMAC-SHA256 from
//! `hmac` + `sha2` (verification through `hmac`'s constant-time comparison),
//! Ed25519 from `ed25519-dalek` (feature `eddsa`; `verify_strict`, which
//! refuses small-order keys and non-canonical signatures), base64url from
//! `base64`, JSON from `serde_json`. What is ours is the framing, and it
//! accepts one shape only:
//!
//! - three base64url segments, unpadded and canonical (no stray bits);
//! - a protected header that is a JSON object whose `alg` is exactly one of
//!   the algorithms the caller allows (read before anything else, so `none`,
//!   `HS512` or `RS256` are an algorithm refusal, not a parse error), an
//!   optional string `kid`, an optional string `typ`, and no `crit`: this
//!   verifier understands no extension (RFC 7515 §4.1.11);
//! - a signature of the algorithm's exact length over the first two segments
//!   as sent.
//!
//! It replaced `jsonwebtoken`, whose generic header type, JWK deserialisers and
//! algorithm dispatch were 90 KB of the wasm for a single algorithm.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::TokenError;

/// A signature algorithm this crate reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Alg {
    Hs256,
    EdDsa,
}

impl Alg {
    pub fn name(self) -> &'static str {
        match self {
            Alg::Hs256 => "HS256",
            Alg::EdDsa => "EdDSA",
        }
    }
}

/// The protected header, as minted.
#[derive(Serialize)]
struct HeaderOut<'a> {
    alg: &'static str,
    typ: &'a str,
    kid: &'a str,
}

/// The protected header, as read: other members (`cty`…) are ignored, as
/// RFC 7515 allows for parameters that are not critical.
#[derive(Deserialize)]
struct HeaderIn {
    alg: Option<serde_json::Value>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// A token's parts once its framing and algorithm have been accepted; the
/// signature is not checked yet.
pub(super) struct Unverified<'a> {
    pub alg: Alg,
    pub kid: Option<String>,
    pub typ: Option<String>,
    signing_input: &'a str,
    payload: &'a str,
    signature: Vec<u8>,
}

fn mac(secret: &[u8]) -> Result<Hmac<Sha256>, TokenError> {
    Hmac::<Sha256>::new_from_slice(secret).map_err(|_| TokenError::WeakSecret)
}

/// `header.payload`: what the signature covers.
pub(super) fn signing_input<T: Serialize>(
    alg: Alg,
    typ: &str,
    kid: &str,
    payload: &T,
) -> Result<String, TokenError> {
    let header = HeaderOut {
        alg: alg.name(),
        typ,
        kid,
    };
    let header = serde_json::to_vec(&header).map_err(|_| TokenError::Malformed)?;
    let payload = serde_json::to_vec(payload).map_err(|_| TokenError::Malformed)?;
    Ok(format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    ))
}

/// `input.signature`.
pub(super) fn attach(input: String, signature: &[u8]) -> String {
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// HMAC-SHA256 of the signing input.
pub(super) fn hs256(secret: &[u8], input: &str) -> Result<Vec<u8>, TokenError> {
    let mut m = mac(secret)?;
    m.update(input.as_bytes());
    Ok(m.finalize().into_bytes().to_vec())
}

/// `header.payload.signature` for `payload`, signed with HS256 and `secret`.
pub(super) fn sign<T: Serialize>(
    kid: &str,
    typ: &str,
    payload: &T,
    secret: &[u8],
) -> Result<String, TokenError> {
    let input = signing_input(Alg::Hs256, typ, kid, payload)?;
    let sig = hs256(secret, &input)?;
    Ok(attach(input, &sig))
}

/// Splits a token (surrounding whitespace ignored, at most
/// [`super::MAX_TOKEN_LEN`] bytes) and checks everything but the signature
/// and the claims; `alg` must be one of `allowed`.
pub(super) fn parse<'a>(token: &'a str, allowed: &[Alg]) -> Result<Unverified<'a>, TokenError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(TokenError::Missing);
    }
    if token.len() > super::MAX_TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
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
    let alg = match header.alg {
        Some(serde_json::Value::String(a)) => *allowed
            .iter()
            .find(|x| x.name() == a)
            .ok_or(TokenError::Algorithm)?,
        Some(_) => return Err(TokenError::Algorithm),
        None => return Err(TokenError::Malformed),
    };
    if header.crit.is_some() {
        return Err(TokenError::Malformed);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| TokenError::Malformed)?;
    Ok(Unverified {
        alg,
        kid: header.kid,
        typ: header.typ,
        signing_input: &token[..h.len() + 1 + p.len()],
        payload: p,
        signature,
    })
}

impl Unverified<'_> {
    /// Checks an HS256 signature with `secret`, then reads the payload as `T`.
    pub fn verify<T: for<'de> Deserialize<'de>>(&self, secret: &[u8]) -> Result<T, TokenError> {
        if self.alg != Alg::Hs256 {
            return Err(TokenError::Algorithm);
        }
        let mut m = mac(secret)?;
        m.update(self.signing_input.as_bytes());
        // Constant time, and a signature of any other length fails.
        m.verify_slice(&self.signature)
            .map_err(|_| TokenError::Signature)?;
        self.payload()
    }

    /// Checks an EdDSA (Ed25519) signature with a public key, then reads the
    /// payload as `T`.
    #[cfg(feature = "eddsa")]
    pub fn verify_ed25519<T: for<'de> Deserialize<'de>>(
        &self,
        key: &ed25519_dalek::VerifyingKey,
    ) -> Result<T, TokenError> {
        if self.alg != Alg::EdDsa {
            return Err(TokenError::Algorithm);
        }
        let sig = ed25519_dalek::Signature::from_slice(&self.signature)
            .map_err(|_| TokenError::Signature)?;
        key.verify_strict(self.signing_input.as_bytes(), &sig)
            .map_err(|_| TokenError::Signature)?;
        self.payload()
    }

    fn payload<T: for<'de> Deserialize<'de>>(&self) -> Result<T, TokenError> {
        let payload = URL_SAFE_NO_PAD
            .decode(self.payload)
            .map_err(|_| TokenError::Malformed)?;
        serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)
    }
}
