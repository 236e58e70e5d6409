//! Every service's answer parser, on any status, content type and body, and
//! Valify's token answer: a `MatchResult` or a typed `ServiceError`, never a
//! panic; the credential never appears in what comes out.
#![no_main]

use facebridge::providers::{Credential, HttpResponse, Provider, Secret, valify};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "fuzz-credential-0123456789";

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let status = 100 + u16::from_le_bytes([data[0], data[1]]) % 500;
    let content_type = match data[2] % 4 {
        0 => Some("application/json"),
        1 => Some("text/html"),
        2 => Some("application/json; charset=utf-8"),
        _ => None,
    };
    let resp = HttpResponse {
        status,
        content_type,
        body: &data[3..],
    };
    let creds = [
        Credential::BiometricKz {
            api_key: Secret::new(SECRET),
        },
        Credential::Valify {
            access_token: Secret::new(SECRET),
            bundle_key: Secret::new(SECRET),
        },
        Credential::Biometry {
            token: Secret::new(SECRET),
        },
        Credential::Cvs {
            api_key: Secret::new(SECRET),
            api_secret: Secret::new(SECRET),
        },
        Credential::Aigen {
            key: Secret::new(SECRET),
        },
    ];
    for (p, cred) in Provider::ALL.into_iter().zip(creds.iter()) {
        let out = match p.parse_response(&resp, cred) {
            Ok(r) => serde_json::to_string(&r).unwrap_or_default(),
            Err(e) => e.to_string(),
        };
        assert!(!out.contains(SECRET), "{p} passed the credential on");
    }
    let _ = valify::parse_token(&resp, 1_800_000_000);
});
