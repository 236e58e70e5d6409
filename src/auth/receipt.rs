//! Receipts: the edge's signed verdict, which the customer's backend trusts
//! instead of anything the browser says.
//!
//! Every final answer the edge gives after it accepted a request token (a
//! match, no match, refer, or a refusal: an image it re-checked, the
//! service's error, a timeout) carries a compact JWS whose claims tie the
//! verdict to the token the backend minted: the same `jti`, `sub`, provider
//! (`fbp`), operation (`fbo`) and body digest (`fbd`). The backend checks
//! those against what it minted and keeps the receipt; a browser that posts
//! `{"decision": "match"}`, or a receipt from another session, another body
//! or another token, gets nowhere.
//!
//! Keys are the edge's own (`FB_RECEIPT_KEYS`), never the request-token keys:
//! - `EdDSA` (Ed25519, RFC 8037): the backend holds only the public key, so
//!   nothing it stores can forge a receipt. Needs feature `eddsa` (native
//!   builds and the edge's wasm).
//! - `HS256`: a shared secret of at least 32 bytes, for backends that
//!   already share one with the edge.
//!
//! Both are written as JWKs (RFC 7517), the form `jose`'s `exportJWK` gives:
//! `{"kty":"OKP","crv":"Ed25519","d":…,"x":…,"kid":…}` or
//! `{"kty":"oct","k":…,"kid":…}`; a JWK set `{"keys":[…]}` lists several,
//! the first signs. The header's `typ` is `fb-receipt+jwt` (RFC 8725 §3.11),
//! so a receipt can never pass for a request token or the other way round.
//!
//! ```
//! use facebridge::auth::{self, Receipt, ReceiptExpect, ReceiptKeys, ReceiptSigner, Verdict};
//! let signer = ReceiptSigner::from_jwks(r#"{"kty":"oct","kid":"r1","k":"cmVjZWlwdC1zZWNyZXQtb2YtYXQtbGVhc3QtMzItYnl0ZXM"}"#).unwrap();
//! let r = Receipt {
//!     iss: "https://kyc-edge.example.com".into(), aud: "https://backend.example".into(),
//!     sub: "session-42".into(), jti: "j-1".into(), iat: 1_800_000_000, exp: 1_800_000_600,
//!     fbp: "aigen".into(), fbo: "compare".into(), fbd: "digest".into(),
//!     decision: Verdict::Match, similarity: Some(0.93), request_id: Some("r-9".into()),
//!     code: None, service_code: None,
//! };
//! let jws = signer.sign(&r).unwrap();
//! let keys = ReceiptKeys::from_jwks(r#"{"keys":[{"kty":"oct","kid":"r1","k":"cmVjZWlwdC1zZWNyZXQtb2YtYXQtbGVhc3QtMzItYnl0ZXM"}]}"#).unwrap();
//! let expect = ReceiptExpect { audience: "https://backend.example", sub: "session-42", jti: "j-1", digest: "digest", now_s: 1_800_000_010 };
//! assert_eq!(auth::verify_receipt(&jws, &keys, &expect).unwrap().decision, Verdict::Match);
//! ```

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::jws::{self, Alg};
use super::{MAX_SKEW_S, MIN_SECRET_LEN, TokenError};

/// The receipt's `typ` header.
pub const RECEIPT_TYP: &str = "fb-receipt+jwt";
/// How long a receipt is accepted after the edge signed it, by default
/// (`FB_RECEIPT_TTL_S`): long enough for the browser to hand it over.
pub const DEFAULT_RECEIPT_TTL_S: u64 = 600;

/// What the edge concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Match,
    NoMatch,
    /// Neither clearly the same nor clearly different: a person should look.
    Refer,
    /// No comparison result: `code` says why (an image the edge refused, the
    /// service's error, a timeout…).
    Refused,
}

/// The receipt's claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    /// The edge that signed (its `FB_EDGE_AUDIENCE`).
    pub iss: String,
    /// The backend the receipt is for (`FB_RECEIPT_AUDIENCE`).
    pub aud: String,
    /// The request token's `sub`.
    pub sub: String,
    /// The request token's `jti`: one receipt per token.
    pub jti: String,
    pub iat: u64,
    pub exp: u64,
    /// The request token's provider, operation and body digest.
    pub fbp: String,
    pub fbo: String,
    pub fbd: String,
    pub decision: Verdict,
    /// The service's similarity mapped to 0..1 (absent on a refusal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f64>,
    /// The service's request or transaction id.
    #[serde(rename = "requestId", default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The refusal's stable code (`NO_FACE`, `TIMEOUT`, `UNAUTHORIZED`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The service's own error code, where it gave one.
    #[serde(
        rename = "serviceCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub service_code: Option<String>,
}

/// A JWK as this module reads it (RFC 7517, RFC 8037): members it does not
/// know (`alg`, `use`, `key_ops`…) are ignored, except that an `alg` that
/// contradicts the key type is refused.
#[derive(Deserialize)]
// Without `eddsa` an OKP key is refused before its members are read.
#[cfg_attr(not(feature = "eddsa"), allow(dead_code))]
struct Jwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    d: Option<String>,
    #[serde(default)]
    k: Option<String>,
}

/// One JWK or a set `{"keys": [...]}`.
fn read_jwks(json: &str) -> Result<Vec<Jwk>, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|_| "not JSON: a JWK or {\"keys\": [JWK…]}")?;
    let list = match v.get("keys") {
        Some(k) => k.clone(),
        None => serde_json::Value::Array(vec![v]),
    };
    let keys: Vec<Jwk> =
        serde_json::from_value(list).map_err(|_| "each key must be a JWK with `kty`")?;
    if keys.is_empty() {
        return Err("no key".into());
    }
    Ok(keys)
}

fn b64(field: &str, v: Option<&String>) -> Result<Vec<u8>, String> {
    let v = v.ok_or_else(|| format!("a JWK lacks `{field}`"))?;
    URL_SAFE_NO_PAD
        .decode(v.trim_end_matches('='))
        .map_err(|_| format!("`{field}` is not base64url"))
}

fn check_alg(jwk: &Jwk, alg: Alg) -> Result<(), String> {
    match &jwk.alg {
        Some(a) if a != alg.name() => Err(format!(
            "a {} key says alg `{a}`; it can only be {}",
            jwk.kty,
            alg.name()
        )),
        _ => Ok(()),
    }
}

fn kid_of(jwk: &Jwk, n: usize) -> Result<String, String> {
    match &jwk.kid {
        Some(k) if !k.is_empty() && k.len() <= 100 => Ok(k.clone()),
        Some(_) => Err("a `kid` must be 1 to 100 characters".into()),
        None if n == 1 => Ok(String::new()),
        None => Err("with several keys, each needs a `kid`".into()),
    }
}

fn secret_of(jwk: &Jwk) -> Result<Vec<u8>, String> {
    check_alg(jwk, Alg::Hs256)?;
    let k = b64("k", jwk.k.as_ref())?;
    if k.len() < MIN_SECRET_LEN {
        return Err(format!(
            "an HS256 key must be at least {MIN_SECRET_LEN} bytes"
        ));
    }
    Ok(k)
}

#[cfg(feature = "eddsa")]
fn ed25519_part(jwk: &Jwk, field: &str) -> Result<[u8; 32], String> {
    check_alg(jwk, Alg::EdDsa)?;
    if jwk.crv.as_deref() != Some("Ed25519") {
        return Err("an OKP key must be crv Ed25519".into());
    }
    let v = if field == "d" {
        b64("d", jwk.d.as_ref())?
    } else {
        b64("x", jwk.x.as_ref())?
    };
    v.try_into()
        .map_err(|_| format!("an Ed25519 `{field}` is 32 bytes"))
}

enum SignKey {
    Hs256(Vec<u8>),
    #[cfg(feature = "eddsa")]
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

/// The edge's receipt keys (`FB_RECEIPT_KEYS`): private JWKs, the first one
/// signs. `Debug` shows the key ids only.
pub struct ReceiptSigner {
    kid: String,
    key: SignKey,
    /// The public half of every Ed25519 key, for [`ReceiptSigner::public_jwks`].
    public: Vec<serde_json::Value>,
    /// Every HS256 secret, so the edge can refuse one shared with the tokens.
    secrets: Vec<Vec<u8>>,
}

impl std::fmt::Debug for ReceiptSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReceiptSigner(kid {:?}, secrets redacted)", self.kid)
    }
}

impl ReceiptSigner {
    /// Reads a private JWK or JWK set. Errors say what is wrong, never a value.
    pub fn from_jwks(json: &str) -> Result<Self, String> {
        let jwks = read_jwks(json)?;
        let n = jwks.len();
        let mut first: Option<(String, SignKey)> = None;
        #[cfg_attr(not(feature = "eddsa"), allow(unused_mut))]
        let mut public = Vec::new();
        let mut secrets = Vec::new();
        for jwk in &jwks {
            let kid = kid_of(jwk, n)?;
            let key = match jwk.kty.as_str() {
                "oct" => {
                    let s = secret_of(jwk)?;
                    secrets.push(s.clone());
                    SignKey::Hs256(s)
                }
                #[cfg(feature = "eddsa")]
                "OKP" => {
                    let d = ed25519_part(jwk, "d")?;
                    let sk = ed25519_dalek::SigningKey::from_bytes(&d);
                    let x = sk.verifying_key().to_bytes();
                    if jwk.x.is_some() && ed25519_part(jwk, "x")? != x {
                        return Err("an Ed25519 key's `x` is not the public half of its `d`".into());
                    }
                    public.push(serde_json::json!({
                        "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
                        "kid": kid, "x": URL_SAFE_NO_PAD.encode(x),
                    }));
                    SignKey::Ed25519(Box::new(sk))
                }
                #[cfg(not(feature = "eddsa"))]
                "OKP" => return Err("this build has no Ed25519 (feature `eddsa`)".into()),
                _ => return Err("a key must be kty OKP (Ed25519) or oct (HS256)".into()),
            };
            if first.is_none() {
                first = Some((kid, key));
            }
        }
        let (kid, key) = first.ok_or("no key")?;
        Ok(ReceiptSigner {
            kid,
            key,
            public,
            secrets,
        })
    }

    /// Signs a receipt with the first key.
    pub fn sign(&self, r: &Receipt) -> Result<String, TokenError> {
        match &self.key {
            SignKey::Hs256(s) => jws::sign(&self.kid, RECEIPT_TYP, r, s),
            #[cfg(feature = "eddsa")]
            SignKey::Ed25519(sk) => {
                use ed25519_dalek::Signer;
                let input = jws::signing_input(Alg::EdDsa, RECEIPT_TYP, &self.kid, r)?;
                let sig = sk.sign(input.as_bytes());
                Ok(jws::attach(input, &sig.to_bytes()))
            }
        }
    }

    /// The algorithm receipts are signed with (`EdDSA` or `HS256`).
    pub fn algorithm(&self) -> &'static str {
        match &self.key {
            SignKey::Hs256(_) => Alg::Hs256.name(),
            #[cfg(feature = "eddsa")]
            SignKey::Ed25519(_) => Alg::EdDsa.name(),
        }
    }

    /// The public JWK set of the Ed25519 keys (HS256 secrets are never
    /// listed): what a backend configures [`ReceiptKeys`] or `jose` with.
    pub fn public_jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": self.public })
    }

    /// Whether `secret` is one of this set's HS256 keys.
    pub fn shares_secret(&self, secret: &[u8]) -> bool {
        self.secrets.iter().any(|s| s == secret)
    }
}

enum VerifyKey {
    Hs256(Vec<u8>),
    #[cfg(feature = "eddsa")]
    Ed25519(ed25519_dalek::VerifyingKey),
}

/// The keys a backend verifies receipts with: public Ed25519 JWKs (`x`
/// only; a private `d` is refused, it does not belong on the backend) or
/// HS256 secrets.
pub struct ReceiptKeys {
    keys: Vec<(String, VerifyKey)>,
}

impl std::fmt::Debug for ReceiptKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|(k, _)| k.as_str()).collect();
        write!(f, "ReceiptKeys(kids {kids:?}, secrets redacted)")
    }
}

impl ReceiptKeys {
    /// Reads a public JWK or JWK set (what [`ReceiptSigner::public_jwks`]
    /// prints), or `oct` JWKs for HS256.
    pub fn from_jwks(json: &str) -> Result<Self, String> {
        let jwks = read_jwks(json)?;
        let n = jwks.len();
        let mut keys = Vec::new();
        for jwk in &jwks {
            let kid = kid_of(jwk, n)?;
            let key = match jwk.kty.as_str() {
                "oct" => VerifyKey::Hs256(secret_of(jwk)?),
                #[cfg(feature = "eddsa")]
                "OKP" => {
                    if jwk.d.is_some() {
                        return Err(
                            "a private Ed25519 key (`d`): give the backend the public JWK only"
                                .into(),
                        );
                    }
                    let x = ed25519_part(jwk, "x")?;
                    VerifyKey::Ed25519(
                        ed25519_dalek::VerifyingKey::from_bytes(&x)
                            .map_err(|_| "an Ed25519 `x` that is not a curve point")?,
                    )
                }
                #[cfg(not(feature = "eddsa"))]
                "OKP" => return Err("this build has no Ed25519 (feature `eddsa`)".into()),
                _ => return Err("a key must be kty OKP (Ed25519) or oct (HS256)".into()),
            };
            keys.push((kid, key));
        }
        Ok(ReceiptKeys { keys })
    }

    fn find(&self, kid: Option<&str>) -> Option<&VerifyKey> {
        match kid {
            Some(k) => self.keys.iter().find(|(id, _)| id == k).map(|(_, v)| v),
            None if self.keys.len() == 1 => self.keys.first().map(|(_, v)| v),
            None => None,
        }
    }
}

/// What the backend expects of a receipt: what it minted the request token
/// with.
#[derive(Debug, Clone, Copy)]
pub struct ReceiptExpect<'a> {
    /// This backend (the edge's `FB_RECEIPT_AUDIENCE`).
    pub audience: &'a str,
    /// The `sub` the backend put in the token (the user's session).
    pub sub: &'a str,
    /// The token's `jti`.
    pub jti: &'a str,
    /// The token's `fbd`: the digest `getToken` was called with.
    pub digest: &'a str,
    pub now_s: u64,
}

/// Verifies a receipt for the token a backend minted; returns its claims.
/// The verdict is `decision`: only `match` is a match.
pub fn verify_receipt(
    receipt: &str,
    keys: &ReceiptKeys,
    expect: &ReceiptExpect,
) -> Result<Receipt, TokenError> {
    let t = jws::parse(receipt, &[Alg::EdDsa, Alg::Hs256])?;
    if t.typ.as_deref() != Some(RECEIPT_TYP) {
        return Err(TokenError::Type);
    }
    let r: Receipt = match keys.find(t.kid.as_deref()).ok_or(TokenError::UnknownKey)? {
        VerifyKey::Hs256(s) => t.verify(s)?,
        #[cfg(feature = "eddsa")]
        VerifyKey::Ed25519(k) => t.verify_ed25519(k)?,
    };
    let now = expect.now_s;
    if now > r.exp.saturating_add(MAX_SKEW_S) {
        return Err(TokenError::Expired);
    }
    if r.iat > now.saturating_add(MAX_SKEW_S) || r.exp < r.iat {
        return Err(TokenError::NotYetValid);
    }
    if r.aud != expect.audience {
        return Err(TokenError::Audience);
    }
    if r.jti.is_empty() || r.jti != expect.jti {
        return Err(TokenError::Id);
    }
    if r.sub != expect.sub {
        return Err(TokenError::Subject);
    }
    if r.fbd != expect.digest {
        return Err(TokenError::Digest);
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;
    const HS: &str =
        r#"{"kty":"oct","kid":"h1","k":"cmVjZWlwdC1zZWNyZXQtb2YtYXQtbGVhc3QtMzItYnl0ZXM"}"#;
    // RFC 8037 §A.1's test key.
    const ED_PRIVATE: &str = r#"{"kty":"OKP","crv":"Ed25519","kid":"e1","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    const ED_PUBLIC: &str = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"e1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;

    fn receipt() -> Receipt {
        Receipt {
            iss: "https://edge.test".into(),
            aud: "https://backend.test".into(),
            sub: "session-1".into(),
            jti: "jti-1".into(),
            iat: NOW,
            exp: NOW + DEFAULT_RECEIPT_TTL_S,
            fbp: "aigen".into(),
            fbo: "compare".into(),
            fbd: "digest-1".into(),
            decision: Verdict::Match,
            similarity: Some(0.91),
            request_id: Some("req-1".into()),
            code: None,
            service_code: None,
        }
    }
    fn expect() -> ReceiptExpect<'static> {
        ReceiptExpect {
            audience: "https://backend.test",
            sub: "session-1",
            jti: "jti-1",
            digest: "digest-1",
            now_s: NOW + 5,
        }
    }

    #[test]
    fn hs256_and_ed25519_round_trip() {
        for (private, public) in [(HS, HS), (ED_PRIVATE, ED_PUBLIC)] {
            let signer = ReceiptSigner::from_jwks(private).unwrap();
            let jws = signer.sign(&receipt()).unwrap();
            let keys = ReceiptKeys::from_jwks(public).unwrap();
            assert_eq!(verify_receipt(&jws, &keys, &expect()).unwrap(), receipt());
        }
        let ed = ReceiptSigner::from_jwks(ED_PRIVATE).unwrap();
        assert_eq!(ed.algorithm(), "EdDSA");
        let jwks = ed.public_jwks().to_string();
        assert!(jwks.contains("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"));
        assert!(
            !jwks.contains("nWGxne"),
            "the private half is never published"
        );
        assert!(ReceiptKeys::from_jwks(&jwks).is_ok());
        assert!(!format!("{ed:?}").contains("nWGxne"));
    }

    #[test]
    fn refused_receipts() {
        let signer = ReceiptSigner::from_jwks(ED_PRIVATE).unwrap();
        let keys = ReceiptKeys::from_jwks(ED_PUBLIC).unwrap();
        let good = signer.sign(&receipt()).unwrap();
        let with = |f: &dyn Fn(&mut Receipt)| {
            let mut r = receipt();
            f(&mut r);
            signer.sign(&r).unwrap()
        };
        // Flip one payload character: the signature no longer covers it.
        let mut tampered: Vec<char> = good.chars().collect();
        let dot = good.find('.').unwrap() + 5;
        tampered[dot] = if tampered[dot] == 'A' { 'B' } else { 'A' };
        let tampered: String = tampered.into_iter().collect();
        let hs = ReceiptSigner::from_jwks(HS)
            .unwrap()
            .sign(&receipt())
            .unwrap();
        let token = {
            // A request token (typ JWT) is not a receipt, even with a matching key.
            let mut r = receipt();
            r.aud = "https://backend.test".into();
            jws::sign("h1", "JWT", &r, b"receipt-secret-of-at-least-32-bytes").unwrap()
        };
        let hs_keys = ReceiptKeys::from_jwks(HS).unwrap();
        let rows: Vec<(&str, String, &ReceiptKeys, TokenError)> = vec![
            ("tampered", tampered, &keys, TokenError::Signature),
            (
                "other jti (replayed)",
                with(&|r| r.jti = "jti-2".into()),
                &keys,
                TokenError::Id,
            ),
            (
                "other body",
                with(&|r| r.fbd = "digest-2".into()),
                &keys,
                TokenError::Digest,
            ),
            (
                "other subject",
                with(&|r| r.sub = "session-2".into()),
                &keys,
                TokenError::Subject,
            ),
            (
                "other backend",
                with(&|r| r.aud = "https://other.test".into()),
                &keys,
                TokenError::Audience,
            ),
            (
                "expired",
                with(&|r| {
                    r.iat = NOW - 1000;
                    r.exp = NOW - 400
                }),
                &keys,
                TokenError::Expired,
            ),
            (
                "HS256 where the backend holds an Ed25519 key",
                hs,
                &keys,
                TokenError::UnknownKey,
            ),
            ("a request token", token, &hs_keys, TokenError::Type),
            ("empty", String::new(), &keys, TokenError::Missing),
            ("two parts", "a.b".into(), &keys, TokenError::Malformed),
        ];
        for (name, jws, k, want) in rows {
            assert_eq!(
                verify_receipt(&jws, k, &expect()).unwrap_err(),
                want,
                "{name}"
            );
        }
        // An Ed25519 public key can never serve as an HMAC secret (alg confusion):
        // an HS256 header under kid e1 is refused before any HMAC runs.
        let confused = {
            let input = jws::signing_input(Alg::Hs256, RECEIPT_TYP, "e1", &receipt()).unwrap();
            let x = URL_SAFE_NO_PAD
                .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
                .unwrap();
            let sig = jws::hs256(&x, &input).unwrap();
            jws::attach(input, &sig)
        };
        assert_eq!(
            verify_receipt(&confused, &keys, &expect()).unwrap_err(),
            TokenError::Algorithm
        );
    }

    #[test]
    fn key_files_are_checked() {
        for (bad, why) in [
            ("not json", "not JSON"),
            (r#"{"kty":"oct","k":"c2hvcnQ"}"#, "at least 32"),
            (r#"{"kty":"RSA"}"#, "OKP"),
            (r#"{"keys":[]}"#, "no key"),
            (
                r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"AAAAAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
                "public half",
            ),
            (
                r#"{"kty":"oct","alg":"HS512","k":"cmVjZWlwdC1zZWNyZXQtb2YtYXQtbGVhc3QtMzItYnl0ZXM"}"#,
                "alg",
            ),
        ] {
            let e = ReceiptSigner::from_jwks(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
            assert!(!e.contains("nWGxne"), "{e}");
        }
        let e = ReceiptKeys::from_jwks(ED_PRIVATE).unwrap_err();
        assert!(e.contains("public JWK only"), "{e}");
    }
}
