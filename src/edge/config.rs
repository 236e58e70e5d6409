//! The edge's settings, read once per isolate from the Worker's environment.

use std::rc::Rc;

use crate::auth::{self, KeySet, ReceiptSigner};
use crate::error::{Error, Refusal};
use crate::providers::{Provider, ProviderConfig, is_loopback_http};

use super::*;

/// The edge's settings, read from the Worker's environment (`[vars]` and
/// secrets in `wrangler.toml`); see [`EdgeConfig::from_env`] for the names.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// `FB_EDGE_AUDIENCE`: the `aud` every token must carry.
    pub audience: String,
    /// `FB_TOKEN_KEYS` (a secret): `{"<kid>": "<HMAC secret>", …}`.
    pub keys: KeySet,
    /// `FB_ALLOWED_ORIGINS`: exact origins, separated by commas or spaces.
    pub allowed_origins: Vec<String>,
    /// `FB_ALLOW_NO_ORIGIN=true` admits requests without `Origin`
    /// (server-to-server clients). Browsers always send it on a POST.
    pub allow_no_origin: bool,
    /// `FB_MAX_BODY_BYTES`, default [`DEFAULT_MAX_BODY`].
    pub max_body_bytes: usize,
    /// `FB_SERVICE_TIMEOUT_MS`, default [`DEFAULT_TIMEOUT_MS`].
    pub timeout_ms: u64,
    /// `FB_EDGE_DETECT_FACES=true` runs face detection on both images
    /// before the billed call (CPU time on the Worker; off by default).
    pub detect_faces: bool,
    /// `FB_VALIFY_DIRECT=true` opens the direct-mode route.
    pub valify_direct: bool,
    /// The providers this edge serves: those with `FB_<PROVIDER>_BASE_URL`
    /// set, with options from `FB_PROVIDER_OPTIONS` (`{"cvs": {…}, …}`).
    pub providers: Vec<(Provider, ProviderConfig)>,
    /// `FB_RECEIPT_KEYS` (a secret): the private JWK or JWK set every final
    /// answer's receipt is signed with (first key), never a token key.
    pub receipts: Rc<ReceiptSigner>,
    /// `FB_RECEIPT_AUDIENCE`: the backend receipts are for (their `aud`).
    pub receipt_audience: String,
    /// `FB_RECEIPT_TTL_S`, default [`auth::DEFAULT_RECEIPT_TTL_S`].
    pub receipt_ttl_s: u64,
}

pub(super) fn truthy(v: Option<String>) -> bool {
    matches!(
        v.as_deref().map(str::trim),
        Some("1" | "true" | "yes" | "on")
    )
}

pub(super) fn misconfigured(why: impl Into<String>) -> Error {
    Error::refused(Refusal::EdgeMisconfigured, why)
}

/// `FB_AIGEN_BASE_URL`, `FB_BIOMETRIC_KZ_BASE_URL`, …
pub fn base_url_name(p: Provider) -> String {
    format!("FB_{}_BASE_URL", p.name().to_ascii_uppercase())
}

impl EdgeConfig {
    /// Reads the settings through `lookup` (a Worker's `env`, or the process
    /// environment). Errors name the variable, never a value.
    pub fn from_env(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let audience = lookup("FB_EDGE_AUDIENCE")
            .filter(|a| !a.trim().is_empty())
            .ok_or_else(|| misconfigured("FB_EDGE_AUDIENCE is not set"))?;
        let keys_json =
            lookup("FB_TOKEN_KEYS").ok_or_else(|| misconfigured("FB_TOKEN_KEYS is not set"))?;
        let keys: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&keys_json)
            .map_err(|_| {
                misconfigured("FB_TOKEN_KEYS must be a JSON object {\"<kid>\": \"<secret>\"}")
            })?;
        let mut pairs = Vec::new();
        for (kid, v) in keys {
            let secret = v
                .as_str()
                .ok_or_else(|| misconfigured("FB_TOKEN_KEYS values must be strings"))?;
            if secret.len() < auth::MIN_SECRET_LEN {
                return Err(misconfigured(format!(
                    "FB_TOKEN_KEYS: the key `{kid}` is shorter than {} bytes",
                    auth::MIN_SECRET_LEN
                )));
            }
            pairs.push((kid, secret.as_bytes().to_vec()));
        }
        if pairs.is_empty() {
            return Err(misconfigured("FB_TOKEN_KEYS holds no key"));
        }
        let keys = KeySet::new(pairs.clone());
        let number = |name: &str, default: u64| -> Result<u64, Error> {
            match lookup(name).filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| misconfigured(format!("{name} must be a whole number"))),
            }
        };
        let options: serde_json::Map<String, serde_json::Value> =
            match lookup("FB_PROVIDER_OPTIONS").filter(|v| !v.trim().is_empty()) {
                None => serde_json::Map::new(),
                Some(v) => serde_json::from_str(&v).map_err(|_| {
                    misconfigured("FB_PROVIDER_OPTIONS must be a JSON object by provider")
                })?,
            };
        // Every service's options are checked, served or not: a misspelt
        // member is a mistake whichever service it was meant for.
        let mut set = ProviderConfig::default();
        for (k, o) in &options {
            let p = Provider::parse_name(k).ok_or_else(|| {
                misconfigured(format!(
                    "FB_PROVIDER_OPTIONS names `{k}`, which is not a service"
                ))
            })?;
            set.set_options(p, o.clone())
                .map_err(|e| misconfigured(format!("FB_PROVIDER_OPTIONS.{k}: {e}")))?;
        }
        let mut providers = Vec::new();
        for p in Provider::ALL {
            let Some(base) = lookup(&base_url_name(p)).filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            let cfg = ProviderConfig {
                base_url: base.trim().trim_end_matches('/').to_string(),
                ..set.clone()
            };
            if !(cfg.base_url.starts_with("https://") || is_loopback_http(&cfg.base_url)) {
                return Err(misconfigured(format!(
                    "{} must start with https:// (plain http only to a loopback simulator)",
                    base_url_name(p)
                )));
            }
            providers.push((p, cfg));
        }
        let receipts = ReceiptSigner::from_jwks(&lookup("FB_RECEIPT_KEYS").ok_or_else(|| {
            misconfigured(
                "FB_RECEIPT_KEYS is not set: the edge signs every answer (see docs/security.md)",
            )
        })?)
        .map_err(|why| misconfigured(format!("FB_RECEIPT_KEYS: {why}")))?;
        if pairs.iter().any(|(_, s)| receipts.shares_secret(s)) {
            return Err(misconfigured(
                "FB_RECEIPT_KEYS shares a secret with FB_TOKEN_KEYS: receipts need a key of their own",
            ));
        }
        let receipt_audience = lookup("FB_RECEIPT_AUDIENCE")
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .ok_or_else(|| misconfigured("FB_RECEIPT_AUDIENCE is not set"))?;
        Ok(EdgeConfig {
            receipts: Rc::new(receipts),
            receipt_audience,
            receipt_ttl_s: number("FB_RECEIPT_TTL_S", auth::DEFAULT_RECEIPT_TTL_S)?
                .clamp(30, 86_400),
            audience: audience.trim().to_string(),
            keys,
            allowed_origins: lookup("FB_ALLOWED_ORIGINS")
                .unwrap_or_default()
                .split([',', ' ', '\n'])
                .map(|o| o.trim().trim_end_matches('/').to_string())
                .filter(|o| !o.is_empty())
                .collect(),
            allow_no_origin: truthy(lookup("FB_ALLOW_NO_ORIGIN")),
            max_body_bytes: number("FB_MAX_BODY_BYTES", DEFAULT_MAX_BODY as u64)? as usize,
            timeout_ms: number("FB_SERVICE_TIMEOUT_MS", DEFAULT_TIMEOUT_MS)?,
            detect_faces: truthy(lookup("FB_EDGE_DETECT_FACES")),
            valify_direct: truthy(lookup("FB_VALIFY_DIRECT")),
            providers,
        })
    }

    pub(crate) fn provider(&self, p: Provider) -> Option<&ProviderConfig> {
        self.providers.iter().find(|(q, _)| *q == p).map(|(_, c)| c)
    }
}
