//! The services' secrets, under the same names everywhere: the simulator, the
//! CLI (process environment) and the edge Worker (Worker secrets).

use super::{Credential, Provider, Secret, valify::OAuthClient};
use crate::error::Error;

/// Every secret name, by service.
pub const NAMES: &[(Provider, &[&str])] = &[
    (Provider::BiometricKz, &["FB_BIOMETRIC_KZ_API_KEY"]),
    (
        Provider::Valify,
        &[
            "FB_VALIFY_USERNAME",
            "FB_VALIFY_PASSWORD",
            "FB_VALIFY_CLIENT_ID",
            "FB_VALIFY_CLIENT_SECRET",
            "FB_VALIFY_BUNDLE_KEY",
        ],
    ),
    (Provider::Biometry, &["FB_BIOMETRY_TOKEN"]),
    (Provider::Cvs, &["FB_CVS_API_KEY", "FB_CVS_API_SECRET"]),
    (Provider::Aigen, &["FB_AIGEN_KEY"]),
];

/// Secrets read through a lookup function (`std::env::var`, a Worker's env…).
pub struct Secrets<F: Fn(&str) -> Option<String>> {
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> Secrets<F> {
    pub fn new(lookup: F) -> Self {
        Secrets { lookup }
    }

    fn get(&self, name: &'static str) -> Result<Secret, Error> {
        match (self.lookup)(name) {
            Some(v) if !v.is_empty() => Ok(Secret::new(v)),
            _ => Err(Error::invalid("credentials", format!("{name} is not set"))),
        }
    }

    /// Valify's password-grant client (the access token is minted from it).
    pub fn valify_client(&self) -> Result<OAuthClient, Error> {
        Ok(OAuthClient {
            username: self.get("FB_VALIFY_USERNAME")?,
            password: self.get("FB_VALIFY_PASSWORD")?,
            client_id: self.get("FB_VALIFY_CLIENT_ID")?,
            client_secret: self.get("FB_VALIFY_CLIENT_SECRET")?,
        })
    }

    /// The credential for `provider`. Valify needs its access token, minted
    /// with [`Secrets::valify_client`] beforehand.
    pub fn credential(
        &self,
        provider: Provider,
        valify_access_token: Option<Secret>,
    ) -> Result<Credential, Error> {
        Ok(match provider {
            Provider::BiometricKz => Credential::BiometricKz {
                api_key: self.get("FB_BIOMETRIC_KZ_API_KEY")?,
            },
            Provider::Valify => Credential::Valify {
                access_token: valify_access_token.ok_or_else(|| {
                    Error::invalid(
                        "credentials",
                        "Valify needs an access token from its token endpoint",
                    )
                })?,
                bundle_key: self.get("FB_VALIFY_BUNDLE_KEY")?,
            },
            Provider::Biometry => Credential::Biometry {
                token: self.get("FB_BIOMETRY_TOKEN")?,
            },
            Provider::Cvs => Credential::Cvs {
                api_key: self.get("FB_CVS_API_KEY")?,
                api_secret: self.get("FB_CVS_API_SECRET")?,
            },
            Provider::Aigen => Credential::Aigen {
                key: self.get("FB_AIGEN_KEY")?,
            },
        })
    }
}

/// Development values the simulator accepts when the environment sets none.
/// They are not secrets: they only open the local simulator.
pub const DEV_VALUES: &[(&str, &str)] = &[
    (
        "FB_BIOMETRIC_KZ_API_KEY",
        "sim-biometric-kz-api-key-0000000000000000000000000000",
    ),
    ("FB_VALIFY_USERNAME", "sim-valify-user"),
    ("FB_VALIFY_PASSWORD", "sim-valify-password"),
    ("FB_VALIFY_CLIENT_ID", "sim-valify-client-id"),
    ("FB_VALIFY_CLIENT_SECRET", "sim-valify-client-secret"),
    ("FB_VALIFY_BUNDLE_KEY", "sim-valify-bundle-key"),
    ("FB_BIOMETRY_TOKEN", "sim-biometry-token"),
    ("FB_CVS_API_KEY", "sim-cvs-key"),
    ("FB_CVS_API_SECRET", "sim-cvs-secret"),
    ("FB_AIGEN_KEY", "sim-aigen-key"),
];

/// The environment's value of `name`, or its development value.
pub fn env_or_dev(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| {
            DEV_VALUES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
}

/// Every spelling of each secret a service (or a proxy's error page) could
/// echo back: the value itself, its JSON-string inside escaped once and
/// twice, form-encoded (Valify's password grant), base64 with and without
/// padding, and `base64(a:b)` for each pair (CVS's and Valify's Basic
/// credentials). Longest first, so a longer spelling is replaced before a
/// part of it; values under 4 bytes are left alone (they would redact noise).
pub fn spellings(values: &[&str], pairs: &[(&str, &str)]) -> Vec<String> {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let escaped = |s: &str| {
        let j = serde_json::to_string(s).unwrap_or_default();
        j.get(1..j.len().saturating_sub(1))
            .unwrap_or("")
            .to_string()
    };
    let mut forms = Vec::new();
    for v in values.iter().filter(|v| v.len() >= 4) {
        forms.push(v.to_string());
        let once = escaped(v);
        forms.push(escaped(&once));
        forms.push(once);
        forms.push(form_encode(v));
        let e = b64(v);
        forms.push(e.trim_end_matches('=').to_string());
        forms.push(e);
    }
    for (a, b) in pairs {
        let e = b64(&format!("{a}:{b}"));
        forms.push(e.trim_end_matches('=').to_string());
        forms.push(e);
    }
    forms.retain(|f| f.len() >= 4);
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    forms
}

/// `text` with every one of `forms` replaced by `[redacted]`.
pub fn scrub(text: &str, forms: &[String]) -> String {
    let mut out = text.to_string();
    for f in forms {
        if out.contains(f.as_str()) {
            out = out.replace(f.as_str(), "[redacted]");
        }
    }
    out
}

/// `application/x-www-form-urlencoded` spelling of a value: unreserved
/// characters as they are, space as `+`, every other byte `%XX`. The one
/// encoder for what is sent (Valify's password grant) and what is scrubbed.
pub(crate) fn form_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_names_are_named_in_the_error() {
        let s = Secrets::new(|_| None);
        let e = s.credential(Provider::Aigen, None).unwrap_err();
        assert!(e.to_string().contains("FB_AIGEN_KEY"));
        let dev = Secrets::new(|n| {
            DEV_VALUES
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        });
        for p in Provider::ALL {
            assert!(dev.credential(p, Some(Secret::new("t"))).is_ok(), "{p}");
        }
        let listed: usize = NAMES.iter().map(|(_, n)| n.len()).sum();
        assert_eq!(listed, DEV_VALUES.len());
    }
}
