//! Valify Face Match (two images), and its OAuth password grant.
//!
//! An access token lasts 10 minutes and at most 3 API calls
//! ([`TokenBudget`]); minting one needs the client secret and the password, so
//! it happens at the edge.

use super::*;
use crate::image::Format;

pub const TOKEN_PATH: &str = "/api/o/token/";
/// Valify's documented token lifetime and call budget.
pub const TOKEN_LIFETIME_S: u64 = 600;
pub const TOKEN_MAX_CALLS: u32 = 3;

pub static PROFILE: Profile = Profile {
    provider: Provider::Valify,
    formats: &[Format::Jpeg, Format::Png],
    // The customer's requirement: 2 MB per image, counted on the base64 string.
    max_bytes: 2_000_000,
    budget_on_base64: true,
    min_side: 0,
    min_face_px: 0.0,
    first: "first_img",
    second: "second_img",
};

/// Valify's request options (`FB_PROVIDER_OPTIONS.valify` at the edge).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Options {
    /// The API version in the path: "v1" (the documentation's page) or "v1.1".
    pub version: String,
    /// The language of error messages: "en" or "ar".
    pub lang: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            version: "v1".into(),
            lang: None,
        }
    }
}

pub fn match_path(version: &str) -> Result<String, Error> {
    match version {
        "v1" | "v1.1" => Ok(format!("/api/{version}/face/match/")),
        _ => Err(Error::invalid(
            "valify.version",
            "must be \"v1\" or \"v1.1\"",
        )),
    }
}

pub(super) fn build(
    req: &MatchRequest,
    cred: &Credential,
    cfg: &ProviderConfig,
    opts: &Options,
) -> Result<HttpRequest, Error> {
    let Credential::Valify {
        access_token,
        bundle_key,
    } = cred
    else {
        return Err(Credential::wrong(Provider::Valify));
    };
    let mut body = serde_json::json!({
        "bundle_key": bundle_key.expose(),
    });
    if let Some(lang) = &opts.lang {
        if lang != "en" && lang != "ar" {
            return Err(Error::invalid("valify.lang", "must be \"en\" or \"ar\""));
        }
        body["lang"] = lang.as_str().into();
    }
    Ok(HttpRequest {
        method: "POST",
        url: cfg.url(&match_path(&opts.version)?)?,
        // The docs' table says `Authentication`; the service reads `Authorization`.
        headers: vec![
            ("content-type".into(), "application/json".into()),
            (
                "authorization".into(),
                format!("Bearer {}", access_token.expose()),
            ),
        ],
        body: json_with_files(
            &[
                (PROFILE.first, &req.document.bytes),
                (PROFILE.second, &req.selfie.bytes),
            ],
            &body,
        ),
    })
}

pub(super) fn parse(resp: &HttpResponse) -> Result<MatchResult, ServiceError> {
    let p = Provider::Valify;
    let body = serde_json::from_slice::<serde_json::Value>(resp.body).ok();
    if resp.status != 200 {
        let message = body.as_ref().and_then(error_message).unwrap_or_default();
        let service_code = body
            .as_ref()
            .and_then(|b| b.get("error_code"))
            .and_then(code_string);
        let code = match resp.status {
            400 => ServiceCode::BadRequest,
            401 | 403 => ServiceCode::Unauthorized,
            415 => ServiceCode::UnsupportedFormat,
            404 => {
                return Err(protocol(
                    p,
                    resp,
                    "not found: check the base URL and API version",
                ));
            }
            500..=599 => ServiceCode::ServiceUnavailable,
            _ => return Err(protocol(p, resp, "undocumented status")),
        };
        if body.is_none() && resp.status != 500 {
            return Err(protocol(p, resp, "error without a JSON body").with_code(code));
        }
        let message = if message.is_empty() {
            format!("HTTP {}", resp.status)
        } else {
            message
        };
        // Valify's "no face" errors come as 400 with a service error code.
        let code = no_face_if_said(code, &message);
        return Err(ServiceError::new(
            p.name(),
            code,
            resp.status,
            service_code,
            &message,
        ));
    }
    let v = body.ok_or_else(|| protocol(p, resp, "the answer is not JSON"))?;
    // A service error can also come with 200: `{message, error_code}` and no result.
    let Some(result) = v.get("result").filter(|r| r.is_object()) else {
        if let Some(message) = v.get("message").and_then(|m| m.as_str()) {
            let sc = v.get("error_code").and_then(code_string);
            return Err(ServiceError::new(
                p.name(),
                ServiceCode::ServiceError,
                resp.status,
                sc,
                message,
            ));
        }
        return Err(protocol(p, resp, "no `result`"));
    };
    let similar = result.get("is_similar").and_then(boolean);
    let confidence = result.get("confidence").and_then(number);
    let (Some(similar), Some(confidence)) = (similar, confidence) else {
        return Err(protocol(p, resp, "no `is_similar` and `confidence`"));
    };
    // Documented as a float; a value over 1 is read as a percentage.
    let similarity = if confidence > 1.0 {
        confidence / 100.0
    } else {
        confidence
    };
    if !(0.0..=1.0).contains(&similarity) {
        return Err(protocol(p, resp, "`confidence` out of range"));
    }
    Ok(MatchResult {
        provider: p,
        decision: if similar {
            Decision::Match
        } else {
            Decision::NoMatch
        },
        similarity,
        provider_score: result.get("confidence").cloned().unwrap_or_default(),
        thresholds: None,
        warnings: vec![],
        request_id: v.get("transaction_id").and_then(code_string),
        trials_remaining: v.get("trials_remaining").and_then(number).map(|n| n as i64),
        raw: v,
    })
}

/// The password grant's fields (all secrets but the grant type).
#[derive(Debug, Clone)]
pub struct OAuthClient {
    pub username: Secret,
    pub password: Secret,
    pub client_id: Secret,
    pub client_secret: Secret,
}

/// `POST /api/o/token/`, form-urlencoded.
pub fn token_request(client: &OAuthClient, cfg: &ProviderConfig) -> Result<HttpRequest, Error> {
    let enc = super::secrets::form_encode;
    let body = format!(
        "username={}&password={}&client_id={}&client_secret={}&grant_type=password",
        enc(client.username.expose()),
        enc(client.password.expose()),
        enc(client.client_id.expose()),
        enc(client.client_secret.expose())
    );
    Ok(HttpRequest {
        method: "POST",
        url: cfg.url(TOKEN_PATH)?,
        headers: vec![(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        body: body.into_bytes(),
    })
}

/// A Valify access token and what is left of it.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: Secret,
    pub budget: TokenBudget,
}

/// Reads the token endpoint's answer; `now_s` is the current Unix time.
pub fn parse_token(resp: &HttpResponse, now_s: u64) -> Result<AccessToken, ServiceError> {
    let p = Provider::Valify;
    if resp.status == 400 || resp.status == 401 {
        let v = serde_json::from_slice::<serde_json::Value>(resp.body).ok();
        let msg = v
            .as_ref()
            .and_then(error_message)
            .unwrap_or_else(|| "token request refused".into());
        return Err(ServiceError::new(
            p.name(),
            ServiceCode::Unauthorized,
            resp.status,
            None,
            &msg,
        ));
    }
    if resp.status != 200 {
        return Err(
            protocol(p, resp, "token endpoint failed").with_code(ServiceCode::ServiceUnavailable)
        );
    }
    let v = json_body(p, resp)?;
    let token = v
        .get("access_token")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(protocol(p, resp, "no access_token"));
    };
    let expires_in = v
        .get("expires_in")
        .and_then(number)
        .map_or(TOKEN_LIFETIME_S, |e| (e as u64).min(TOKEN_LIFETIME_S));
    Ok(AccessToken {
        token: Secret::new(token),
        budget: TokenBudget::new(now_s, expires_in),
    })
}

/// Valify's 10-minute / 3-call budget of one access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBudget {
    pub expires_at_s: u64,
    pub calls_left: u32,
}

/// Seconds of margin: a token about to expire is not worth a billed call that
/// may arrive after it.
const EXPIRY_MARGIN_S: u64 = 15;

impl TokenBudget {
    pub fn new(issued_at_s: u64, expires_in_s: u64) -> Self {
        TokenBudget {
            expires_at_s: issued_at_s + expires_in_s.min(TOKEN_LIFETIME_S),
            calls_left: TOKEN_MAX_CALLS,
        }
    }
    /// Whether one more call may use this token at `now_s`.
    pub fn usable(&self, now_s: u64) -> bool {
        self.calls_left > 0 && now_s + EXPIRY_MARGIN_S < self.expires_at_s
    }
    /// Takes one call from the budget; false (and nothing taken) when spent.
    pub fn take(&mut self, now_s: u64) -> bool {
        if !self.usable(now_s) {
            return false;
        }
        self.calls_left -= 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_three_calls_or_ten_minutes() {
        let mut b = TokenBudget::new(1000, 600);
        assert!(b.take(1000) && b.take(1001) && b.take(1002));
        assert!(!b.take(1003), "a fourth call needs a new token");
        let mut b = TokenBudget::new(1000, 600);
        assert!(b.usable(1000 + 584));
        assert!(!b.usable(1000 + 590), "too close to expiry");
        assert!(!b.take(1000 + 601));
        assert_eq!(
            TokenBudget::new(0, 86_400).expires_at_s,
            600,
            "never trust a longer lifetime than documented"
        );
    }

    #[test]
    fn token_request_is_form_encoded() {
        let c = OAuthClient {
            username: Secret::new("u@x"),
            password: Secret::new("p&ss w"),
            client_id: Secret::new("id"),
            client_secret: Secret::new("s"),
        };
        let r = token_request(
            &c,
            &ProviderConfig::with_base_url("https://valifystage.com"),
        )
        .unwrap();
        assert_eq!(r.url, "https://valifystage.com/api/o/token/");
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            "username=u%40x&password=p%26ss+w&client_id=id&client_secret=s&grant_type=password"
        );
    }
}
