//! The JWS readers: request tokens (`auth::verify`, `verify_header`), receipts
//! (`verify_receipt`, HS256 and Ed25519 keys), and the JWK parsers of both
//! key sets. Nothing here may verify without the key; nothing may panic.
#![no_main]

use facebridge::auth::{self, Expect, KeySet, ReceiptExpect, ReceiptKeys, ReceiptSigner};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const SECRET: &[u8] = b"fuzzing-secret-of-more-than-32-bytes!!";

fn receipt_keys() -> &'static ReceiptKeys {
    static K: OnceLock<ReceiptKeys> = OnceLock::new();
    K.get_or_init(|| {
        ReceiptKeys::from_jwks(
            r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"e","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
                {"kty":"oct","kid":"h","k":"ZnV6emluZy1zZWNyZXQtb2YtbW9yZS10aGFuLTMyLWJ5dGVzISE"}]}"#,
        )
        .expect("the fuzz target's own keys")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let keys = KeySet::single("k", SECRET);
    let expect = Expect {
        audience: "https://edge.fuzz",
        provider: "aigen",
        operation: "compare",
        body: b"{}",
        now_s: 1_800_000_000,
    };
    // The seeds hold one token signed with SECRET, so that mutations reach
    // the claim checks; whatever verifies is that token's claims.
    if let Ok(c) = auth::verify(text, &keys, &expect) {
        assert_eq!(
            (c.aud.as_str(), c.fbp.as_str()),
            (expect.audience, expect.provider)
        );
    }
    let _ = auth::verify_header(
        text,
        &keys,
        &auth::ExpectHeader {
            audience: expect.audience,
            provider: expect.provider,
            operation: expect.operation,
            now_s: expect.now_s,
        },
    );
    let r = ReceiptExpect {
        audience: "https://backend.fuzz",
        sub: "s",
        jti: "j",
        digest: "d",
        now_s: 1_800_000_000,
    };
    let _ = auth::verify_receipt(text, receipt_keys(), &r);
    let _ = ReceiptSigner::from_jwks(text);
    let _ = ReceiptKeys::from_jwks(text);
});
