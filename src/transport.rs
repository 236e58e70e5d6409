//! The native transport (feature `native`): sends an adapter's
//! [`HttpRequest`] with ureq and hands back the raw answer. The CLI uses it;
//! the edge Worker has its own, over `fetch`.

use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::Error;
use crate::prepare::{PrepareReport, prepare};
use crate::providers::secrets::Secrets;
use crate::providers::{
    HttpRequest, HttpResponse, MatchRequest, MatchResult, Media, Provider, ProviderConfig, valify,
};
use crate::quality::Role;

/// Largest answer read from a service: all five answer with small JSON.
const MAX_ANSWER: u64 = 4 << 20;

/// A raw answer.
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn as_response(&self) -> HttpResponse<'_> {
        HttpResponse {
            status: self.status,
            content_type: self.content_type.as_deref(),
            body: &self.body,
        }
    }
}

/// Blocking HTTP with a whole-request timeout and no redirects (a redirect
/// would resend the credential somewhere else).
pub struct NativeTransport {
    agent: ureq::Agent,
}

impl NativeTransport {
    pub fn new(timeout: Duration) -> Self {
        NativeTransport {
            agent: ureq::AgentBuilder::new()
                .timeout(timeout)
                .redirects(0)
                .build(),
        }
    }

    pub fn send(&self, req: &HttpRequest) -> Result<Answer, Error> {
        let mut r = self.agent.request(req.method, &req.url);
        for (k, v) in &req.headers {
            r = r.set(k, v);
        }
        let resp = match r.send_bytes(&req.body) {
            Ok(resp) | Err(ureq::Error::Status(_, resp)) => resp,
            Err(ureq::Error::Transport(t)) => {
                let reason = t.to_string();
                let timeout = reason.contains("timed out") || reason.contains("Timeout");
                // The URL is kept out of the message: some carry keys in their query.
                return Err(Error::Network {
                    timeout,
                    reason: t.kind().to_string(),
                    source: Some(Box::new(t)),
                });
            }
        };
        let status = resp.status();
        let content_type = resp.header("content-type").map(str::to_string);
        let mut body = Vec::new();
        resp.into_reader()
            .take(MAX_ANSWER)
            .read_to_end(&mut body)
            .map_err(|e| {
                let timeout = e.kind() == std::io::ErrorKind::TimedOut
                    || e.kind() == std::io::ErrorKind::WouldBlock;
                Error::Network {
                    timeout,
                    reason: format!("reading the answer: {}", e.kind()),
                    source: Some(Box::new(e)),
                }
            })?;
        Ok(Answer {
            status,
            content_type,
            body,
        })
    }
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What `compare` did: both prepared images' reports and the result.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    pub result: MatchResult,
    pub document: PrepareReport,
    pub selfie: PrepareReport,
}

/// Prepares both photos for `provider`'s profile, sends them, parses the
/// answer. Secrets come from `secrets` (the `FB_*` names); Valify's access
/// token is minted first with the password grant.
pub fn compare<F: Fn(&str) -> Option<String>>(
    provider: Provider,
    cfg: &ProviderConfig,
    document: &[u8],
    selfie: &[u8],
    video: Option<Media>,
    secrets: &Secrets<F>,
    transport: &NativeTransport,
) -> Result<Comparison, Error> {
    let profile = provider.profile();
    let doc = prepare(document, &profile.prepare_options(Role::Document))?;
    let sel = prepare(selfie, &profile.prepare_options(Role::Selfie))?;
    let token = if provider == Provider::Valify {
        let answer = transport.send(&valify::token_request(&secrets.valify_client()?, cfg)?)?;
        Some(valify::parse_token(&answer.as_response(), now_s())?.token)
    } else {
        None
    };
    let cred = secrets.credential(provider, token)?;
    let req = MatchRequest {
        document: Media::jpeg(doc.bytes),
        selfie: Media::jpeg(sel.bytes),
        video,
    };
    let answer = transport.send(&provider.build_request(&req, &cred, cfg)?)?;
    let result = provider.parse_response(&answer.as_response(), &cred)?;
    Ok(Comparison {
        result,
        document: doc.report,
        selfie: sel.report,
    })
}
