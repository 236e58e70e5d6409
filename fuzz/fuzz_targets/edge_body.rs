//! What the edge reads from a client after the token: the SDK's JSON body
//! (`decode_body`) and the re-validation of both images against each
//! service's profile (`Edge::validate`, face detection off: header checks
//! only, under the edge's limits).
#![no_main]

use facebridge::edge::Edge;
use facebridge::providers::Provider;
use facebridge::wire::decode_body;
use libfuzzer_sys::fuzz_target;

thread_local! {
    // One per Worker isolate in production (it holds an `Rc`): one per thread here.
    static EDGE: Edge = {
        let env = |name: &str| -> Option<String> {
            Some(match name {
                "FB_EDGE_AUDIENCE" => "https://edge.fuzz".into(),
                "FB_TOKEN_KEYS" => r#"{"k": "fuzzing-secret-of-more-than-32-bytes!!"}"#.into(),
                "FB_RECEIPT_KEYS" => r#"{"kty":"oct","k":"cmVjZWlwdC1zZWNyZXQtb2YtYXQtbGVhc3QtMzItYnl0ZXM"}"#.into(),
                "FB_RECEIPT_AUDIENCE" => "https://backend.fuzz".into(),
                n if n.ends_with("_BASE_URL") => "http://127.0.0.1:9".into(),
                _ => return None,
            })
        };
        Edge::from_env(&env).expect("the fuzz target's own settings")
    };
}

fuzz_target!(|data: &[u8]| {
    let _ = decode_body(data);
    let p = Provider::ALL[data.first().map_or(0, |b| *b as usize) % Provider::ALL.len()];
    EDGE.with(|e| {
        let _ = e.validate(p, data);
    });
});
