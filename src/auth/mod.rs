//! Request tokens: short-lived HS256 JWTs, minted by the customer's backend,
//! bound to one request body, verified by the edge before any billed call.
//!
//! ```
//! use facebridge::auth::{self, Claims, Expect, KeySet, TokenSpec};
//! let body = br#"{"document": "...", "selfie": "..."}"#;
//! let now = 1_800_000_000;
//! let spec = TokenSpec {
//!     audience: "https://kyc-edge.example.com", subject: "session-42", provider: "aigen",
//!     operation: "compare", jti: "j-1", now_s: now, ttl_s: 120,
//! };
//! let claims = Claims::new(&spec, body);
//! let keys = KeySet::single("2026-11", b"a shared secret of at least 32 bytes!!");
//! let token = auth::mint(&claims, &keys).unwrap();
//! let expect = Expect { audience: "https://kyc-edge.example.com", provider: "aigen", operation: "compare", body, now_s: now };
//! assert_eq!(auth::verify(&token, &keys, &expect).unwrap().jti, "j-1");
//! ```
//!
//! Verification is strict and runs in this order: size and shape, the
//! algorithm allow-list (HS256 only: `none`, HS384/512 and every asymmetric
//! algorithm are refused before any key is touched), the key by `kid`, the
//! signature, then the claims: `exp`/`nbf`/`iat` with at most 30 s of clock
//! skew, a lifetime of at most 300 s, `aud`, provider (`fbp`), operation
//! (`fbo`) and the body digest (`fbd`). Single use (`jti`) is the edge's job:
//! it needs shared state.

mod jws;
mod receipt;

pub use receipt::{
    DEFAULT_RECEIPT_TTL_S, RECEIPT_TYP, Receipt, ReceiptExpect, ReceiptKeys, ReceiptSigner,
    Verdict, verify_receipt,
};

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Longest a token may live (`exp − iat`).
pub const MAX_LIFETIME_S: u64 = 300;
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const MAX_SKEW_S: u64 = 30;
/// Longest token accepted at all: a real one is about 400 bytes.
pub const MAX_TOKEN_LEN: usize = 4096;
/// Shortest HMAC secret accepted (RFC 7518: at least the hash size).
pub const MIN_SECRET_LEN: usize = 32;

/// SHA-256 of a request body, base64url without padding: the `fbd` claim.
pub fn body_digest(body: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(body))
}

/// The token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The edge this token is for.
    pub aud: String,
    /// The end user or session, for the customer's logs.
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Unique per token: the edge refuses a second use.
    pub jti: String,
    /// The provider the request goes to (`aigen`, `valify`, …).
    pub fbp: String,
    /// The operation (`compare`, `valify-token`).
    pub fbo: String,
    /// [`body_digest`] of the one body this token authorises.
    pub fbd: String,
}

/// What one token is for: the edge, the user, the call, and how long.
#[derive(Debug, Clone, Copy)]
pub struct TokenSpec<'a> {
    /// The edge (`aud`).
    pub audience: &'a str,
    /// The end user or session (`sub`).
    pub subject: &'a str,
    /// `fbp`: `aigen`, `valify`, …
    pub provider: &'a str,
    /// `fbo`: `compare` or `valify-token`.
    pub operation: &'a str,
    /// Unique per token.
    pub jti: &'a str,
    pub now_s: u64,
    /// Lifetime in seconds (the edge accepts at most 300).
    pub ttl_s: u64,
}

impl Claims {
    /// Claims for one request body.
    pub fn new(spec: &TokenSpec, body: &[u8]) -> Self {
        Self::from_digest(spec, &body_digest(body))
    }

    /// The same from the digest alone: what a backend receives from the
    /// SDK's `getToken({provider, op, digest, bytes})`.
    pub fn from_digest(spec: &TokenSpec, digest: &str) -> Self {
        Claims {
            aud: spec.audience.into(),
            sub: spec.subject.into(),
            iat: spec.now_s,
            exp: spec.now_s + spec.ttl_s,
            nbf: None,
            jti: spec.jti.into(),
            fbp: spec.provider.into(),
            fbo: spec.operation.into(),
            fbd: digest.into(),
        }
    }
}

/// Signing keys by `kid`; the first one signs, all of them verify (rotation:
/// add the new key first, drop the old one after the longest token lifetime).
#[derive(Clone)]
pub struct KeySet {
    keys: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|(k, _)| k.as_str()).collect();
        write!(f, "KeySet(kids {kids:?}, secrets redacted)")
    }
}

impl KeySet {
    pub fn single(kid: &str, secret: &[u8]) -> Self {
        KeySet {
            keys: vec![(kid.into(), secret.to_vec())],
        }
    }
    /// Keys in order of preference; the first signs.
    pub fn new(keys: Vec<(String, Vec<u8>)>) -> Self {
        KeySet { keys }
    }
    fn find(&self, kid: Option<&str>) -> Option<&[u8]> {
        match kid {
            Some(k) => self
                .keys
                .iter()
                .find(|(id, _)| id == k)
                .map(|(_, s)| s.as_slice()),
            // No kid: only unambiguous with a single key.
            None if self.keys.len() == 1 => self.keys.first().map(|(_, s)| s.as_slice()),
            None => None,
        }
    }
}

/// Why a token was refused. Only `Expired` may be retried with a new token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenError {
    #[error("no token: send `Authorization: Bearer <token>` from getToken")]
    Missing,
    #[error("the token is not a compact JWT")]
    Malformed,
    #[error("the token's algorithm is not allowed (HS256 only)")]
    Algorithm,
    #[error("the token's key id is unknown")]
    UnknownKey,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token has expired: get a new one")]
    Expired,
    #[error("the token is not valid yet (check the backend's clock)")]
    NotYetValid,
    #[error("the token lives longer than 300 s")]
    Lifetime,
    #[error("the token is for another audience")]
    Audience,
    #[error("the token is for another provider")]
    Provider,
    #[error("the token is for another operation")]
    Operation,
    #[error("the token was minted for another request body")]
    Digest,
    #[error("the token was already used")]
    Replayed,
    #[error("the signing secret is too short (at least 32 bytes)")]
    WeakSecret,
    #[error(
        "the token's type is wrong (a receipt is not a request token, nor the other way round)"
    )]
    Type,
    #[error("the token has no id, or another one (`jti`)")]
    Id,
    #[error("the token is for another subject (`sub`)")]
    Subject,
}

impl TokenError {
    /// `TOKEN_EXPIRED` (fetch a new token and retry) or `TOKEN_REJECTED`.
    pub fn code(self) -> &'static str {
        match self {
            TokenError::Expired => "TOKEN_EXPIRED",
            _ => "TOKEN_REJECTED",
        }
    }
}

/// What the edge expects of a token for the request in hand.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    pub audience: &'a str,
    pub provider: &'a str,
    pub operation: &'a str,
    /// The request body exactly as received.
    pub body: &'a [u8],
    pub now_s: u64,
}

/// Signs `claims` with the set's first key, `kid` in the header.
pub fn mint(claims: &Claims, keys: &KeySet) -> Result<String, TokenError> {
    let (kid, secret) = keys.keys.first().ok_or(TokenError::UnknownKey)?;
    if secret.len() < MIN_SECRET_LEN {
        return Err(TokenError::WeakSecret);
    }
    jws::sign(kid, "JWT", claims, secret)
}

/// Verifies a token for one request; returns its claims.
pub fn verify(token: &str, keys: &KeySet, expect: &Expect) -> Result<Claims, TokenError> {
    let c = verify_header(
        token,
        keys,
        &ExpectHeader {
            audience: expect.audience,
            provider: expect.provider,
            operation: expect.operation,
            now_s: expect.now_s,
        },
    )?;
    if c.fbd != body_digest(expect.body) {
        return Err(TokenError::Digest);
    }
    Ok(c)
}

/// What the edge expects of a token before it has read the body.
#[derive(Debug, Clone, Copy)]
pub struct ExpectHeader<'a> {
    pub audience: &'a str,
    pub provider: &'a str,
    pub operation: &'a str,
    pub now_s: u64,
}

/// Everything [`verify`] checks but the body digest: what the edge runs on
/// the `Authorization` header alone, so a client without a valid token
/// costs it no body read. The caller then hashes the body as it arrives
/// and compares with the returned `fbd`.
pub fn verify_header(
    token: &str,
    keys: &KeySet,
    expect: &ExpectHeader,
) -> Result<Claims, TokenError> {
    // Size, framing, then the algorithm allow-list on the raw `alg` ("none",
    // "None", "HS512", "RS256"… refused), before any key is looked up.
    let token = jws::parse(token, &[jws::Alg::Hs256])?;
    // A receipt is never a request token, whatever keys it was signed with.
    if token.typ.as_deref() == Some(RECEIPT_TYP) {
        return Err(TokenError::Type);
    }
    let secret = keys
        .find(token.kid.as_deref())
        .ok_or(TokenError::UnknownKey)?;
    // The 32-byte floor holds for verifying as for minting: a short key set
    // built in code is refused here, not trusted.
    if secret.len() < MIN_SECRET_LEN {
        return Err(TokenError::WeakSecret);
    }
    let c: Claims = token.verify(secret)?;
    let now = expect.now_s;
    if c.exp.saturating_sub(c.iat) > MAX_LIFETIME_S || c.exp < c.iat {
        return Err(TokenError::Lifetime);
    }
    if now > c.exp.saturating_add(MAX_SKEW_S) {
        return Err(TokenError::Expired);
    }
    let late = now.saturating_add(MAX_SKEW_S);
    if c.iat > late || c.nbf.is_some_and(|nbf| nbf > late) {
        return Err(TokenError::NotYetValid);
    }
    // Single use is by `jti`: a token without one could never be spent.
    if c.jti.trim().is_empty() || c.jti.len() > 200 {
        return Err(TokenError::Id);
    }
    if c.aud != expect.audience {
        return Err(TokenError::Audience);
    }
    if c.fbp != expect.provider {
        return Err(TokenError::Provider);
    }
    if c.fbo != expect.operation {
        return Err(TokenError::Operation);
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";
    const AUD: &str = "https://edge.example";
    const NOW: u64 = 1_800_000_000;
    const BODY: &[u8] = b"{\"document\":\"abc\",\"selfie\":\"def\"}";

    fn keys() -> KeySet {
        KeySet::single("k1", SECRET)
    }
    fn claims() -> Claims {
        Claims::new(
            &TokenSpec {
                audience: AUD,
                subject: "user-1",
                provider: "aigen",
                operation: "compare",
                jti: "jti-1",
                now_s: NOW,
                ttl_s: 120,
            },
            BODY,
        )
    }
    fn expect(now_s: u64) -> Expect<'static> {
        Expect {
            audience: AUD,
            provider: "aigen",
            operation: "compare",
            body: BODY,
            now_s,
        }
    }
    fn b64(v: &serde_json::Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    }
    /// A token with any header, signed with HMAC-SHA256 or HMAC-SHA512 over SECRET.
    fn forged(header: serde_json::Value, claims: &Claims, sign: &str) -> String {
        use hmac::{Hmac, Mac};
        let input = format!(
            "{}.{}",
            b64(&header),
            b64(&serde_json::to_value(claims).unwrap())
        );
        let sig = match sign {
            "hs256" => {
                let mut m = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
                m.update(input.as_bytes());
                m.finalize().into_bytes().to_vec()
            }
            "hs512" => {
                let mut m = Hmac::<sha2::Sha512>::new_from_slice(SECRET).unwrap();
                m.update(input.as_bytes());
                m.finalize().into_bytes().to_vec()
            }
            _ => vec![],
        };
        format!(
            "{input}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig)
        )
    }

    fn check(token: &str, e: Expect) -> Result<Claims, TokenError> {
        verify(token, &keys(), &e)
    }

    #[test]
    fn the_attack_matrix() {
        let good = mint(&claims(), &keys()).unwrap();
        assert_eq!(check(&good, expect(NOW + 10)).unwrap(), claims());
        let with = |f: &dyn Fn(&mut Claims)| {
            let mut c = claims();
            f(&mut c);
            mint(&c, &keys()).unwrap()
        };
        let other_key = KeySet::single("k1", b"another secret of thirty-two bytes or more");
        let rows: Vec<(&str, String, Expect, TokenError)> = vec![
            (
                "expired",
                good.clone(),
                expect(NOW + 120 + 31),
                TokenError::Expired,
            ),
            (
                "not yet valid (iat)",
                good.clone(),
                expect(NOW - 31),
                TokenError::NotYetValid,
            ),
            (
                "not yet valid (nbf)",
                with(&|c| c.nbf = Some(NOW + 100)),
                expect(NOW),
                TokenError::NotYetValid,
            ),
            (
                "lifetime over 300 s",
                with(&|c| c.exp = c.iat + 301),
                expect(NOW),
                TokenError::Lifetime,
            ),
            (
                "exp before iat",
                with(&|c| c.exp = c.iat - 1),
                expect(NOW),
                TokenError::Lifetime,
            ),
            (
                "bad signature",
                mint(&claims(), &other_key).unwrap(),
                expect(NOW),
                TokenError::Signature,
            ),
            (
                "alg none",
                forged(
                    serde_json::json!({"alg": "none", "typ": "JWT"}),
                    &claims(),
                    "none",
                ),
                expect(NOW),
                TokenError::Algorithm,
            ),
            (
                "alg None",
                forged(serde_json::json!({"alg": "None"}), &claims(), "none"),
                expect(NOW),
                TokenError::Algorithm,
            ),
            (
                "no alg",
                forged(serde_json::json!({"typ": "JWT"}), &claims(), "hs256"),
                expect(NOW),
                TokenError::Malformed,
            ),
            (
                "HS512 with the same secret",
                forged(
                    serde_json::json!({"alg": "HS512", "kid": "k1"}),
                    &claims(),
                    "hs512",
                ),
                expect(NOW),
                TokenError::Algorithm,
            ),
            // Algorithm confusion: RS256 in the header, an HMAC made with the "public key" as secret.
            (
                "RS256 confusion",
                forged(
                    serde_json::json!({"alg": "RS256", "kid": "k1"}),
                    &claims(),
                    "hs256",
                ),
                expect(NOW),
                TokenError::Algorithm,
            ),
            (
                "unknown kid",
                forged(
                    serde_json::json!({"alg": "HS256", "kid": "k9"}),
                    &claims(),
                    "hs256",
                ),
                expect(NOW),
                TokenError::UnknownKey,
            ),
            (
                "wrong aud",
                with(&|c| c.aud = "https://other.example".into()),
                expect(NOW),
                TokenError::Audience,
            ),
            (
                "wrong provider",
                with(&|c| c.fbp = "valify".into()),
                expect(NOW),
                TokenError::Provider,
            ),
            (
                "wrong operation",
                with(&|c| c.fbo = "valify-token".into()),
                expect(NOW),
                TokenError::Operation,
            ),
            (
                "body changed after signing",
                good.clone(),
                Expect {
                    body: b"{\"document\":\"abc\",\"selfie\":\"XXX\"}",
                    ..expect(NOW)
                },
                TokenError::Digest,
            ),
            ("empty", String::new(), expect(NOW), TokenError::Missing),
            (
                "two segments",
                "a.b".into(),
                expect(NOW),
                TokenError::Malformed,
            ),
            (
                "garbage",
                "not.a.jwt".into(),
                expect(NOW),
                TokenError::Malformed,
            ),
            ("huge", "a".repeat(5000), expect(NOW), TokenError::Malformed),
            (
                "four segments",
                format!("{good}.e30"),
                expect(NOW),
                TokenError::Malformed,
            ),
            (
                "alg not a string",
                forged(serde_json::json!({"alg": 256}), &claims(), "hs256"),
                expect(NOW),
                TokenError::Algorithm,
            ),
            (
                "header not an object",
                forged(serde_json::json!("HS256"), &claims(), "hs256"),
                expect(NOW),
                TokenError::Malformed,
            ),
            (
                "a critical extension",
                forged(
                    serde_json::json!({"alg": "HS256", "kid": "k1", "crit": ["b64"], "b64": false}),
                    &claims(),
                    "hs256",
                ),
                expect(NOW),
                TokenError::Malformed,
            ),
            (
                "padded signature",
                format!("{good}="),
                expect(NOW),
                TokenError::Malformed,
            ),
            (
                "signature with stray bits",
                // 32 bytes are 43 characters whose last carries two unused
                // bits: set one, and the same bytes have a second spelling.
                {
                    let (head, last) = good.split_at(good.len() - 1);
                    let i = B64.find(last).unwrap();
                    format!("{head}{}", &B64[(i | 1)..(i | 1) + 1])
                },
                expect(NOW),
                TokenError::Malformed,
            ),
            (
                "a receipt posing as a token",
                forged(
                    serde_json::json!({"alg": "HS256", "kid": "k1", "typ": RECEIPT_TYP}),
                    &claims(),
                    "hs256",
                ),
                expect(NOW),
                TokenError::Type,
            ),
            (
                "EdDSA header on a request token",
                forged(
                    serde_json::json!({"alg": "EdDSA", "kid": "k1"}),
                    &claims(),
                    "hs256",
                ),
                expect(NOW),
                TokenError::Algorithm,
            ),
            (
                "empty jti (could never be spent)",
                with(&|c| c.jti = String::new()),
                expect(NOW),
                TokenError::Id,
            ),
            (
                "exp near u64::MAX (no overflow past the skew)",
                with(&|c| {
                    c.iat = u64::MAX - 100;
                    c.exp = u64::MAX - 1;
                }),
                expect(NOW),
                TokenError::NotYetValid,
            ),
            (
                "truncated signature",
                {
                    let (input, sig) = good.rsplit_once('.').unwrap();
                    format!("{input}.{}", &sig[..20])
                },
                expect(NOW),
                TokenError::Signature,
            ),
        ];
        for (name, token, e, want) in rows {
            assert_eq!(check(&token, e).unwrap_err(), want, "{name}");
        }
        // Within the 30 s skew both ways, the token still passes.
        assert!(check(&good, expect(NOW + 120 + 30)).is_ok());
        assert!(check(&good, expect(NOW - 30)).is_ok());
        // A hand-made HS256 token with the right secret verifies: the forger above is honest.
        let hs = forged(
            serde_json::json!({"alg": "HS256", "kid": "k1"}),
            &claims(),
            "hs256",
        );
        assert!(check(&hs, expect(NOW)).is_ok());
        // Header members that are not critical are ignored, as RFC 7515 asks.
        let extra = forged(
            serde_json::json!({"alg": "HS256", "kid": "k1", "typ": "JWT", "cty": "x"}),
            &claims(),
            "hs256",
        );
        assert!(check(&extra, expect(NOW)).is_ok());
    }

    const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    #[test]
    fn key_rotation_by_kid() {
        let old = KeySet::single("2026-10", b"old secret, thirty-two bytes or more..");
        let both = KeySet::new(vec![
            (
                "2026-11".into(),
                b"new secret, thirty-two bytes or more..".to_vec(),
            ),
            (
                "2026-10".into(),
                b"old secret, thirty-two bytes or more..".to_vec(),
            ),
        ]);
        let from_old = mint(&claims(), &old).unwrap();
        let from_new = mint(&claims(), &both).unwrap();
        assert!(verify(&from_old, &both, &expect(NOW)).is_ok());
        assert!(verify(&from_new, &both, &expect(NOW)).is_ok());
        assert_eq!(
            verify(&from_new, &old, &expect(NOW)).unwrap_err(),
            TokenError::UnknownKey
        );
        assert_eq!(
            mint(&claims(), &KeySet::single("k", b"short")).unwrap_err(),
            TokenError::WeakSecret
        );
        assert!(!format!("{both:?}").contains("secret, thirty"));
        // A key set built in code with a short secret verifies nothing, even a
        // token that secret really signed.
        let short = KeySet::single("k", b"short");
        let t = forged_with(b"short", &claims());
        assert_eq!(
            verify(&t, &short, &expect(NOW)).unwrap_err(),
            TokenError::WeakSecret
        );
    }

    fn forged_with(secret: &[u8], c: &Claims) -> String {
        use hmac::{Hmac, Mac};
        let input = format!(
            "{}.{}",
            b64(&serde_json::json!({"alg": "HS256", "kid": "k"})),
            b64(&serde_json::to_value(c).unwrap())
        );
        let mut m = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        m.update(input.as_bytes());
        format!(
            "{input}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
        )
    }

    #[test]
    fn digest_is_sha256_base64url() {
        // SHA-256("abc"), a published test vector.
        assert_eq!(
            body_digest(b"abc"),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
        assert_eq!(TokenError::Expired.code(), "TOKEN_EXPIRED");
        assert_eq!(TokenError::Digest.code(), "TOKEN_REJECTED");
    }
}
