//! The edge proxy's logic, sans-IO: everything the Cloudflare Worker
//! (`edge/worker.mjs`) decides, as plain Rust the native tests exercise. The
//! Worker only moves bytes: it reads the request, asks [`Edge`] what to do,
//! consumes the token's `jti` in a Durable Object, calls the service and
//! hands the answer back to [`Edge::finish`].
//!
//! A request goes through these checks, in this order, and the first failure
//! ends it with a typed error before anything is sent to a service:
//!
//! 1. route (`POST /v1/match/{provider}` for a provider this edge serves),
//! 2. `Origin` against the allow-list,
//! 3. body size (the declared length first, then the bytes read),
//! 4. the token (see [`crate::auth::verify`]), bound to this exact body,
//! 5. the `jti` (single use; the Worker's Durable Object),
//! 6. the body's shape and both images again ([`Edge::validate`]): a client
//!    can skip the SDK, so nothing it checked is trusted here.
//!
//! Only then is the credential added and the billed call made, once: a
//! timeout or a 5xx comes back as a typed error and is never retried here.

use crate::image::Limits;

mod config;
mod http;
mod proxy;

use crate::wire::decode_body;
pub use crate::wire::{MATCH_PREFIX, OP_COMPARE, OP_VALIFY_TOKEN, VALIFY_DIRECT_PATH};
use config::misconfigured;
pub use config::*;
pub use http::*;
pub use proxy::*;

/// Default body limit: two 5 MB images as base64 plus a short video.
pub const DEFAULT_MAX_BODY: usize = 24 << 20;
/// The largest liveness video the edge forwards to Biometry (raw bytes; it
/// travels as base64 in the body). Biometry documents no limit: a liveness
/// clip of a few seconds from MediaRecorder is 1–5 MB, and 8 MB keeps the
/// largest Biometry request within the edge's memory figure
/// (docs/security.md).
pub const MAX_VIDEO_BYTES: usize = 8_000_000;
/// The JSON around the files in the SDK's body: field names, media types.
pub const BODY_OVERHEAD: usize = 1024;
/// What one image may cost the edge to read. A Worker isolate has 128 MB
/// for everything; one request's peak (docs/security.md, measured in
/// workerd) is the body, its two decoded files and at most one decode at a
/// time under this limit:
/// - `max_pixels`: 24 MP, checked from the header before anything else,
///   with or without face detection;
/// - `max_alloc`: 24 MiB for one decode (face detection only), progressive
///   JPEG coefficients and PNG's RGBA copy included. A baseline JPEG decodes
///   at the reduced DCT scale the detector needs, so a 24 MP phone photo fits;
///   a progressive one or a PNG must be about 2–4 MP.
pub const EDGE_LIMITS: Limits = Limits {
    max_pixels: 24_000_000,
    max_alloc: 24 << 20,
};
/// Default time a service has to answer.
pub const DEFAULT_TIMEOUT_MS: u64 = 25_000;

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use base64::Engine;

    use super::*;
    use crate::auth::{self, Claims, KeySet};
    use crate::error::{Error, ServiceCode};
    use crate::providers::{HttpResponse, MatchRequest, Media, Provider};
    use crate::wire::encode_body;

    const KEY: &str = "edge-test-secret-0123456789abcdef0123";
    // RFC 8037 §A.1's Ed25519 test key.
    const RECEIPT_JWK: &str = r#"{"kty":"OKP","crv":"Ed25519","kid":"r1","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    const RECEIPT_PUBLIC: &str = r#"{"kty":"OKP","crv":"Ed25519","kid":"r1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;

    fn env(extra: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let mut m: HashMap<String, String> = [
            ("FB_EDGE_AUDIENCE", "https://edge.test"),
            (
                "FB_ALLOWED_ORIGINS",
                "https://shop.test, http://127.0.0.1:5173",
            ),
            ("FB_AIGEN_BASE_URL", "http://127.0.0.1:9"),
            ("FB_VALIFY_BASE_URL", "http://127.0.0.1:9/"),
            ("FB_AIGEN_KEY", "aigen-secret-value"),
            ("FB_RECEIPT_KEYS", RECEIPT_JWK),
            ("FB_RECEIPT_AUDIENCE", "https://backend.test"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        m.insert("FB_TOKEN_KEYS".into(), format!("{{\"k1\": \"{KEY}\"}}"));
        for (k, v) in extra {
            m.insert(k.to_string(), v.to_string());
        }
        move |n| m.get(n).cloned()
    }

    #[test]
    fn a_full_model_passed_in_must_load() {
        let on = env(&[("FB_EDGE_DETECT_FACES", "true")]);
        let e = Edge::from_env_with(&on, Some(b"not a network")).unwrap_err();
        assert_eq!(e.code(), "EDGE_MISCONFIGURED");
        assert!(e.to_string().contains("models.fullModel"), "{e}");
        // Natively both models are embedded: the shared detector serves.
        assert!(Edge::from_env(&on).is_ok());
    }

    #[test]
    fn configuration_errors_name_the_variable_not_the_value() {
        let e =
            Edge::from_env(&env(&[("FB_TOKEN_KEYS", "{\"k\": \"short-secret\"}")])).unwrap_err();
        assert_eq!(e.code(), "EDGE_MISCONFIGURED");
        assert!(e.to_string().contains("FB_TOKEN_KEYS"));
        assert!(!e.to_string().contains("short-secret"));
        let e = Edge::from_env(&env(&[("FB_AIGEN_BASE_URL", "ftp://x")])).unwrap_err();
        assert!(e.to_string().contains("FB_AIGEN_BASE_URL"));
        // Each service takes its own options only, by their own names.
        for (options, why) in [
            (
                r#"{"aigen": {"cvsMultipart": true}}"#,
                "FB_PROVIDER_OPTIONS.aigen",
            ),
            (
                r#"{"aigen": {"blurDetection": "yes"}}"#,
                "FB_PROVIDER_OPTIONS.aigen",
            ),
            (
                r#"{"biometric_kz": {"lang": "en"}}"#,
                "FB_PROVIDER_OPTIONS.biometric_kz",
            ),
            (r#"{"aigenn": {}}"#, "`aigenn`, which is not a service"),
            ("[]", "FB_PROVIDER_OPTIONS must be a JSON object"),
        ] {
            let e = Edge::from_env(&env(&[("FB_PROVIDER_OPTIONS", options)])).unwrap_err();
            assert!(e.to_string().contains(why), "{options}: {e}");
        }
        let edge = Edge::from_env(&env(&[(
            "FB_PROVIDER_OPTIONS",
            r#"{"aigen": {"blurDetection": true}, "biometric_kz": {}}"#,
        )]))
        .unwrap();
        let aigen = edge.config().provider(Provider::Aigen).unwrap();
        assert!(aigen.aigen.blur_detection && !aigen.aigen.verify_document);
        let edge = Edge::from_env(&env(&[])).unwrap();
        assert!(!format!("{edge:?}").contains("aigen-secret-value"));
        assert_eq!(edge.config().providers.len(), 2);
    }

    #[test]
    fn routes_and_origins() {
        let edge = Edge::from_env(&env(&[])).unwrap();
        assert_eq!(
            edge.route("POST", "/v1/match/aigen").unwrap(),
            Route::Match {
                provider: Provider::Aigen
            }
        );
        assert_eq!(
            edge.route("OPTIONS", "/v1/match/aigen").unwrap(),
            Route::Preflight
        );
        for (m, p) in [
            ("GET", "/v1/match/aigen"),
            ("POST", "/v1/match/cvs"),
            ("POST", "/v1/match/nope"),
            ("POST", "/"),
            ("POST", VALIFY_DIRECT_PATH),
        ] {
            let e = edge.route(m, p).unwrap_err();
            assert_eq!(e.code(), "NOT_FOUND", "{m} {p}");
        }
        assert!(edge.check_origin(Some("https://shop.test")).is_ok());
        assert!(edge.check_origin(Some("http://127.0.0.1:5173/")).is_ok());
        for o in [
            Some("https://evil.test"),
            Some("https://shop.test.evil"),
            None,
        ] {
            assert_eq!(edge.check_origin(o).unwrap_err().code(), "ORIGIN_REJECTED");
        }
        assert!(
            !edge
                .cors_headers(Some("https://evil.test"))
                .iter()
                .any(|(k, _)| k == "access-control-allow-origin")
        );
        let edge = Edge::from_env(&env(&[("FB_ALLOW_NO_ORIGIN", "true")])).unwrap();
        assert!(edge.check_origin(None).is_ok());
    }

    #[test]
    fn admits_only_the_body_the_token_signs() {
        let edge = Edge::from_env(&env(&[("FB_MAX_BODY_BYTES", "1000")])).unwrap();
        let body = br#"{"document": 1}"#;
        let now = 1_900_000_000;
        let keys = KeySet::single("k1", KEY.as_bytes());
        let c = Claims::new(
            &auth::TokenSpec {
                audience: "https://edge.test",
                subject: "s",
                provider: "aigen",
                operation: "compare",
                jti: "j1",
                now_s: now,
                ttl_s: 60,
            },
            body,
        );
        let token = auth::mint(&c, &keys).unwrap();
        let route = edge.route("POST", "/v1/match/aigen").unwrap();
        let bearer = format!("Bearer {token}");
        let a = edge.admit(route, Some(&bearer), body, now).unwrap();
        assert_eq!((a.jti.as_str(), a.exp), ("j1", now + 60));
        let e = edge
            .admit(route, Some(&bearer), br#"{"document": 2}"#, now)
            .unwrap_err();
        assert_eq!((e.code(), http_status(&e)), ("TOKEN_REJECTED", 401));
        let e = edge.admit(route, None, body, now).unwrap_err();
        assert_eq!(e.code(), "TOKEN_REJECTED");
        let e = edge
            .admit(route, Some(&bearer), body, now + 200)
            .unwrap_err();
        assert_eq!(e.code(), "TOKEN_EXPIRED");
        let big = vec![b' '; 1001];
        let e = edge.admit(route, Some(&bearer), &big, now).unwrap_err();
        assert_eq!((e.code(), http_status(&e)), ("BODY_TOO_LARGE", 413));
        assert_eq!(
            edge.check_route_length(route, Some(1001))
                .unwrap_err()
                .code(),
            "BODY_TOO_LARGE"
        );
    }

    #[test]
    fn the_body_round_trips_and_bad_bodies_are_typed() {
        let req = MatchRequest {
            document: Media::jpeg(vec![0xff, 0xd8, 1, 2]),
            selfie: Media::jpeg(vec![0xff, 0xd8, 3]),
            video: Some(Media {
                bytes: vec![9; 10],
                content_type: "video/mp4".into(),
            }),
        };
        let back = decode_body(&encode_body(&req)).unwrap();
        assert_eq!(back, req);
        for bad in [
            &b"not json"[..],
            br#"{"document": {"type": "image/jpeg", "data": "%%%"}, "selfie": {"type": "image/jpeg", "data": ""}}"#,
            br#"{"document": {"type": "image/jpeg", "data": ""}, "selfie": {"type": "image/jpeg", "data": ""}, "extra": 1}"#,
        ] {
            let e = decode_body(bad).unwrap_err();
            assert_eq!((e.code(), http_status(&e)), ("BAD_REQUEST", 400));
        }
    }

    fn token_for(body: &[u8], now: u64, jti: &str) -> String {
        let keys = KeySet::single("k1", KEY.as_bytes());
        let c = Claims::new(
            &auth::TokenSpec {
                audience: "https://edge.test",
                subject: "session-9",
                provider: "aigen",
                operation: "compare",
                jti,
                now_s: now,
                ttl_s: 60,
            },
            body,
        );
        format!("Bearer {}", auth::mint(&c, &keys).unwrap())
    }

    #[test]
    fn every_answer_after_the_token_carries_a_receipt_the_backend_verifies() {
        use crate::auth::{ReceiptExpect, ReceiptKeys, Verdict, verify_receipt};
        let edge = Edge::from_env(&env(&[])).unwrap();
        let now = 1_900_000_000;
        let body = br#"{"document": 1}"#;
        let route = edge.route("POST", "/v1/match/aigen").unwrap();
        let a = edge
            .admit(route, Some(&token_for(body, now, "j-7")), body, now)
            .unwrap();
        let keys = ReceiptKeys::from_jwks(RECEIPT_PUBLIC).unwrap();
        let digest = auth::body_digest(body);
        let expect = ReceiptExpect {
            audience: "https://backend.test",
            sub: "session-9",
            jti: "j-7",
            digest: &digest,
            now_s: now + 1,
        };
        // A result: the receipt sits beside it.
        let result =
            r#"{"provider":"aigen","decision":"match","similarity":0.93,"requestId":"r-1"}"#;
        let sealed: serde_json::Value =
            serde_json::from_str(&edge.seal(&a, result, now).unwrap()).unwrap();
        let r = verify_receipt(sealed["receipt"].as_str().unwrap(), &keys, &expect).unwrap();
        assert_eq!(r.decision, Verdict::Match);
        assert_eq!(
            (r.similarity, r.request_id.as_deref()),
            (Some(0.93), Some("r-1"))
        );
        assert_eq!(
            (r.fbp.as_str(), r.fbo.as_str(), r.iss.as_str()),
            ("aigen", "compare", "https://edge.test")
        );
        // A refusal: inside the error, with the codes.
        let refused = error_body(&Error::Service(crate::error::ServiceError::new(
            "aigen",
            ServiceCode::NoFace,
            422,
            Some("E_NO_FACE".into()),
            "no face",
        )));
        let sealed: serde_json::Value =
            serde_json::from_str(&edge.seal(&a, &refused.to_string(), now).unwrap()).unwrap();
        let r =
            verify_receipt(sealed["error"]["receipt"].as_str().unwrap(), &keys, &expect).unwrap();
        assert_eq!(r.decision, Verdict::Refused);
        assert_eq!(r.code.as_deref(), Some("NO_FACE"));
        assert_eq!(r.service_code.as_deref(), Some("E_NO_FACE"));
        // Another session's token, or another body: the backend refuses it.
        for (sub, jti, d, want) in [
            ("session-9", "j-8", digest.as_str(), auth::TokenError::Id),
            (
                "session-1",
                "j-7",
                digest.as_str(),
                auth::TokenError::Subject,
            ),
            (
                "session-9",
                "j-7",
                "another-digest",
                auth::TokenError::Digest,
            ),
        ] {
            let e = verify_receipt(
                sealed["error"]["receipt"].as_str().unwrap(),
                &keys,
                &ReceiptExpect {
                    sub,
                    jti,
                    digest: d,
                    ..expect
                },
            )
            .unwrap_err();
            assert_eq!(e, want);
        }
        // Nothing to sign without a decision.
        assert!(edge.seal(&a, r#"{"decision":"maybe"}"#, now).is_err());
    }

    #[test]
    fn receipt_keys_are_required_and_their_own() {
        for (extra, why) in [
            (("FB_RECEIPT_KEYS", "{}"), "FB_RECEIPT_KEYS"),
            (("FB_RECEIPT_AUDIENCE", " "), "FB_RECEIPT_AUDIENCE"),
        ] {
            let e = Edge::from_env(&env(&[extra])).unwrap_err();
            assert_eq!(e.code(), "EDGE_MISCONFIGURED");
            assert!(e.to_string().contains(why), "{e}");
        }
        // An HS256 receipt key equal to a token key: a receipt could pass for a token.
        use base64::Engine;
        let k = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(KEY);
        let shared = format!(r#"{{"kty":"oct","k":"{k}"}}"#);
        let e = Edge::from_env(&env(&[("FB_RECEIPT_KEYS", &shared)])).unwrap_err();
        assert!(e.to_string().contains("shares a secret"), "{e}");
        // The client never sees which variable: that is for the log.
        let body = error_body(&e).to_string();
        assert!(!body.contains("FB_"), "{body}");
        assert!(body.contains("EDGE_MISCONFIGURED"));
    }

    #[test]
    fn the_token_is_checked_before_the_body_and_limits_are_per_route() {
        let edge = Edge::from_env(&env(&[])).unwrap();
        let now = 1_900_000_000;
        let aigen = edge.route("POST", "/v1/match/aigen").unwrap();
        // No token, a bad one: refused from the header alone.
        assert_eq!(
            edge.authorize(aigen, None, now).unwrap_err().code(),
            "TOKEN_REJECTED"
        );
        assert_eq!(
            edge.authorize(aigen, Some("Bearer x.y.z"), now)
                .unwrap_err()
                .code(),
            "TOKEN_REJECTED"
        );
        assert_eq!(
            edge.authorize(aigen, Some("Bearer \u{e9}\u{e9}\u{e9}\u{e9}"), now)
                .unwrap_err()
                .code(),
            "TOKEN_REJECTED"
        );
        let body = b"{}";
        let a = edge
            .authorize(aigen, Some(&token_for(body, now, "j-1")), now)
            .unwrap();
        assert!(edge.bind(&a, &auth::body_digest(body)).is_ok());
        assert_eq!(
            edge.bind(&a, &auth::body_digest(b"{ }"))
                .unwrap_err()
                .code(),
            "TOKEN_REJECTED"
        );
        // AIGEN: two 5 MB images (counted as base64) and the JSON around them.
        assert_eq!(edge.body_limit(aigen), 2 * 5_000_000 + BODY_OVERHEAD);
        let valify = edge.route("POST", "/v1/match/valify").unwrap();
        assert_eq!(edge.body_limit(valify), 2 * 2_000_000 + BODY_OVERHEAD);
        assert_eq!(
            edge.check_route_length(valify, Some(4_100_000))
                .unwrap_err()
                .code(),
            "BODY_TOO_LARGE"
        );
        let small = Edge::from_env(&env(&[("FB_MAX_BODY_BYTES", "1000")])).unwrap();
        assert_eq!(small.body_limit(aigen), 1000);
    }

    #[test]
    fn plain_http_only_to_loopback_and_null_origin_never_by_wildcard() {
        for ok in [
            "http://127.0.0.1:8787",
            "http://localhost:9",
            "http://[::1]:80/x",
            "https://api.example",
        ] {
            assert!(
                Edge::from_env(&env(&[("FB_AIGEN_BASE_URL", ok)])).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "http://api.example",
            "http://10.0.0.1",
            "http://127.0.0.1.evil.example",
            "http://user@127.0.0.1",
            "http://localhost.evil.example",
        ] {
            let e = Edge::from_env(&env(&[("FB_AIGEN_BASE_URL", bad)])).unwrap_err();
            assert!(e.to_string().contains("FB_AIGEN_BASE_URL"), "{bad}");
        }
        let star = Edge::from_env(&env(&[("FB_ALLOWED_ORIGINS", "*")])).unwrap();
        assert!(star.check_origin(Some("https://any.example")).is_ok());
        assert_eq!(
            star.check_origin(Some("null")).unwrap_err().code(),
            "ORIGIN_REJECTED"
        );
        assert!(
            !star
                .cors_headers(Some("null"))
                .iter()
                .any(|(k, _)| k == "access-control-allow-origin")
        );
    }

    #[test]
    fn client_media_types_never_reach_a_header() {
        let jpeg = base64::engine::general_purpose::STANDARD.encode([0xff, 0xd8, 0xff, 0xe0]);
        for t in [
            "image/jpeg\r\nX-Injected: 1",
            "image/jpeg\nContent-Disposition: form-data; name=\"image\"",
            "image/jpeg; name=\"x\"",
            "image/ jpeg",
            "image",
            "",
        ] {
            let body = serde_json::json!({
                "document": {"type": t, "data": jpeg},
                "selfie": {"type": "image/jpeg", "data": jpeg},
            });
            let e = decode_body(body.to_string().as_bytes()).unwrap_err();
            assert_eq!(e.code(), "BAD_REQUEST", "{t:?}");
        }
        for t in [
            "image/jpeg",
            "video/webm;codecs=vp8,opus",
            "video/mp4; codecs=avc1",
        ] {
            let body = serde_json::json!({
                "document": {"type": t, "data": jpeg},
                "selfie": {"type": "image/jpeg", "data": jpeg},
            });
            assert!(decode_body(body.to_string().as_bytes()).is_ok(), "{t}");
        }
    }

    #[test]
    fn valify_needs_a_token_in_the_same_step_that_spends_it() {
        let mut edge = Edge::from_env(&env(&[
            ("FB_VALIFY_BUNDLE_KEY", "bundle-key-value"),
            ("FB_VALIFY_USERNAME", "u"),
            ("FB_VALIFY_PASSWORD", "p@ss word&=1"),
            ("FB_VALIFY_CLIENT_ID", "client-id-1"),
            ("FB_VALIFY_CLIENT_SECRET", "client-secret-1"),
        ]))
        .unwrap();
        let now = 1_900_000_000;
        let jpeg = crate::image::encode_jpeg(&crate::image::RgbImage::new(8, 8), 80).unwrap();
        let req = MatchRequest {
            document: Media::jpeg(jpeg.clone()),
            selfie: Media::jpeg(jpeg),
            video: None,
        };
        // No token yet: asked for one, never EDGE_MISCONFIGURED.
        assert!(
            edge.service_request(Provider::Valify, &req, now)
                .unwrap()
                .is_none()
        );
        let grant = br#"{"access_token": "valify-access-token-1", "expires_in": 600, "token_type": "Bearer"}"#;
        let ok = HttpResponse {
            status: 200,
            content_type: Some("application/json"),
            body: grant,
        };
        edge.accept_valify_token(&ok, now).unwrap();
        // Three calls, then it asks again (two requests in flight never share the last call).
        for _ in 0..3 {
            assert!(
                edge.service_request(Provider::Valify, &req, now)
                    .unwrap()
                    .is_some()
            );
        }
        assert!(
            edge.service_request(Provider::Valify, &req, now)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn secrets_are_scrubbed_in_every_spelling_before_the_answer_is_read() {
        use base64::Engine;
        let mut edge = Edge::from_env(&env(&[
            ("FB_CVS_API_KEY", "cvs-key-123"),
            ("FB_CVS_API_SECRET", "cvs-secret-\"quoted\"-456"),
            ("FB_CVS_BASE_URL", "http://127.0.0.1:9"),
            ("FB_VALIFY_PASSWORD", "p@ss word&=1"),
        ]))
        .unwrap();
        let b64 = base64::engine::general_purpose::STANDARD;
        let basic = b64.encode("cvs-key-123:cvs-secret-\"quoted\"-456");
        // A long echo puts the secret across the 300-character cut.
        let pad = "x".repeat(290);
        let echoes = [
            format!("{pad}aigen-secret-value and more"),
            format!("Authorization: Basic {basic}"),
            serde_json::to_string("cvs-secret-\"quoted\"-456").unwrap(),
            "password=p%40ss+word%26%3D1&grant_type=password".to_string(),
        ];
        for echo in echoes {
            for status in [200, 500] {
                let body = serde_json::json!({"errorCode": 9, "errorMessage": echo, "echo": echo})
                    .to_string();
                let resp = HttpResponse {
                    status,
                    content_type: Some("application/json"),
                    body: body.as_bytes(),
                };
                let out = match edge.finish(Provider::Cvs, &resp) {
                    Ok(json) => json,
                    Err(e) => format!("{e} {}", error_body(&e)),
                };
                for leaked in [
                    "aigen-se",
                    "cvs-key-123",
                    "cvs-secret-",
                    "quoted\\\"-456",
                    "p%40ss",
                    &basic[..20],
                ] {
                    assert!(!out.contains(leaked), "{leaked} in {out}");
                }
            }
        }
    }
}
