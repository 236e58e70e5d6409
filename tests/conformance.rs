//! One conformance suite over the five adapters: every documented success and
//! error of docs/services.md in, the normalised result or the right code out;
//! and every request builder checked against the documented contract.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use facebridge::providers::{
    Credential, Decision, HttpRequest, HttpResponse, MatchRequest, Media, Provider, ProviderConfig,
    Secret,
};
use serde_json::json;

fn cred(p: Provider) -> Credential {
    match p {
        Provider::BiometricKz => Credential::BiometricKz {
            api_key: Secret::new("bkz-key-0123456789abcdef0123456789abcdef0123456789"),
        },
        Provider::Valify => Credential::Valify {
            access_token: Secret::new("valify-access-token"),
            bundle_key: Secret::new("bundle-key-1"),
        },
        Provider::Biometry => Credential::Biometry {
            token: Secret::new("eyJhbGciOi.biometry.token"),
        },
        Provider::Cvs => Credential::Cvs {
            api_key: Secret::new("cvs-key"),
            api_secret: Secret::new("cvs-secret"),
        },
        Provider::Aigen => Credential::Aigen {
            key: Secret::new("aigen-key-42"),
        },
    }
}

fn jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(32, 32, image::Rgb([120, 90, 60]));
    facebridge::image::encode_jpeg(&img, 80).unwrap()
}

fn request() -> MatchRequest {
    MatchRequest {
        document: Media::jpeg(jpeg()),
        selfie: Media::jpeg(jpeg()),
        video: Some(Media {
            bytes: b"\0\0\0\x18ftypmp42 fake video".to_vec(),
            content_type: "video/mp4".into(),
        }),
    }
}

enum Want {
    Ok(Decision, f64),
    Err(&'static str),
}

fn run(p: Provider, status: u16, body: &str, want: Want) {
    let resp = HttpResponse {
        status,
        content_type: Some("application/json"),
        body: body.as_bytes(),
    };
    let got = p.parse_response(&resp, &cred(p));
    match (got, want) {
        (Ok(r), Want::Ok(d, s)) => {
            assert_eq!(r.decision, d, "{p} {status} {body}");
            assert!(
                (r.similarity - s).abs() < 1e-9,
                "{p}: similarity {} != {s}",
                r.similarity
            );
            assert_eq!(r.provider, p);
        }
        (Err(e), Want::Err(code)) => {
            assert_eq!(e.code.as_str(), code, "{p} {status} {body}: {e}");
            assert!(e.message.chars().count() <= 301);
        }
        (Ok(r), Want::Err(code)) => panic!("{p} {status} {body}: wanted {code}, got {r:?}"),
        (Err(e), Want::Ok(..)) => panic!("{p} {status} {body}: wanted a result, got {e}"),
    }
}

use Want::{Err as E, Ok as O};

#[test]
fn biometric_kz_documented_answers() {
    let p = Provider::BiometricKz;
    run(
        p,
        200,
        r#"{"result": true, "prediction": 0.9636, "prediction_percent": 96}"#,
        O(Decision::Match, 0.9636),
    );
    run(
        p,
        200,
        r#"{"result": false, "prediction": "0.1200", "prediction_percent": "12"}"#,
        O(Decision::NoMatch, 0.12),
    );
    let errors = [
        (400, "No face found", "NO_FACE"),
        (
            400,
            "Can`t connect to face2face service",
            "SERVICE_UNAVAILABLE",
        ),
        (
            400,
            "Can't connect to face2face service",
            "SERVICE_UNAVAILABLE",
        ),
        (
            400,
            "Client does not have access to Face2Face technology",
            "SUBSCRIPTION_INACTIVE",
        ),
        (400, "Face2Face result does not exist", "SERVICE_ERROR"),
        (
            415,
            "Not allowed file, valid extensions: .jpg .png .jpeg",
            "UNSUPPORTED_FORMAT",
        ),
        (400, "Subscription has not started", "SUBSCRIPTION_INACTIVE"),
        (
            400,
            "No active or future subscription for technology",
            "SUBSCRIPTION_INACTIVE",
        ),
        (
            400,
            "Client does not have subscription",
            "SUBSCRIPTION_INACTIVE",
        ),
    ];
    for (status, msg, code) in errors {
        // The body's shape is undocumented: a JSON message field, a JSON string, or text.
        run(p, status, &json!({"message": msg}).to_string(), E(code));
        run(p, status, &json!({"detail": msg}).to_string(), E(code));
        run(p, status, &json!(msg).to_string(), E(code));
        run(p, status, msg, E(code));
    }
    run(p, 200, r#"{"result": true}"#, E("PROTOCOL"));
    run(
        p,
        200,
        r#"{"result": true, "prediction": 96}"#,
        E("PROTOCOL"),
    );
    run(
        p,
        502,
        "<html><body>Bad Gateway</body></html>",
        E("SERVICE_UNAVAILABLE"),
    );
    run(p, 400, "<html>nope</html>", E("PROTOCOL"));
}

#[test]
fn valify_documented_answers() {
    let p = Provider::Valify;
    let ok = |sim: bool, conf: &str| {
        format!(
            r#"{{"result": {{"is_similar": {sim}, "confidence": {conf}}}, "transaction_id": "t-1", "trials_remaining": 2}}"#
        )
    };
    run(p, 200, &ok(true, "0.93"), O(Decision::Match, 0.93));
    run(p, 200, &ok(false, "0.21"), O(Decision::NoMatch, 0.21));
    run(p, 200, &ok(true, "\"0.88\""), O(Decision::Match, 0.88));
    run(
        p,
        200,
        r#"{"result": {"is_similar": "True", "confidence": 0.9}, "transaction_id": "t"}"#,
        O(Decision::Match, 0.9),
    );
    run(
        p,
        400,
        r#"{"message": "Missing bundle key"}"#,
        E("BAD_REQUEST"),
    );
    run(p, 400, r#"{"message": "Invalid JSON"}"#, E("BAD_REQUEST"));
    run(
        p,
        401,
        r#"{"message": "Invalid bundle key"}"#,
        E("UNAUTHORIZED"),
    );
    run(
        p,
        403,
        r#"{"message": "Access token not found"}"#,
        E("UNAUTHORIZED"),
    );
    run(p, 404, r#"{"detail": "Not found."}"#, E("PROTOCOL"));
    run(
        p,
        415,
        r#"{"message": "Unsupported media type"}"#,
        E("UNSUPPORTED_FORMAT"),
    );
    run(
        p,
        500,
        r#"{"message": "Internal error"}"#,
        E("SERVICE_UNAVAILABLE"),
    );
    run(p, 500, "<html>500</html>", E("SERVICE_UNAVAILABLE"));
    run(
        p,
        200,
        r#"{"message": "Face not detected", "error_code": 1012}"#,
        E("SERVICE_ERROR"),
    );
    run(p, 200, r#"{"result": {"is_similar": true}}"#, E("PROTOCOL"));
    let b = ok(true, "0.93");
    let resp = HttpResponse {
        status: 200,
        content_type: None,
        body: b.as_bytes(),
    };
    let r = p.parse_response(&resp, &cred(p)).unwrap();
    assert_eq!(
        (r.request_id.as_deref(), r.trials_remaining),
        (Some("t-1"), Some(2))
    );
    let resp = HttpResponse {
        status: 400,
        content_type: None,
        body: br#"{"message": "bad", "error_code": 7}"#,
    };
    assert_eq!(
        p.parse_response(&resp, &cred(p))
            .unwrap_err()
            .service_code
            .as_deref(),
        Some("7")
    );
}

#[test]
fn biometry_documented_answers() {
    let p = Provider::Biometry;
    let full = |status: &str| {
        json!({
            "data": {"anchor": {"code": 0, "description": "ok"}, "code": 0, "description": "Successful check",
                     "percentages": [91, 88, 93], "result": true, "score": 91, "target": {"code": 0, "description": "ok"}},
            "score": 91,
            "scoring_result": {"failed_conditions": [], "failed_refer_conditions": ["low_light"], "status": status},
            "message": "ok"
        })
        .to_string()
    };
    run(p, 200, &full("pass"), O(Decision::Match, 0.91));
    run(p, 200, &full("refer"), O(Decision::Refer, 0.91));
    run(p, 200, &full("fail"), O(Decision::NoMatch, 0.91));
    // `scoring_result` absent, `result` as a number (older docs, vendor's SDK types).
    run(
        p,
        200,
        r#"{"data": {"result": 1, "score": 80, "percentages": [80]}, "score": 80, "message": "ok"}"#,
        O(Decision::Match, 0.8),
    );
    run(
        p,
        200,
        r#"{"data": {"result": 0, "score": 12}, "message": "ok"}"#,
        O(Decision::NoMatch, 0.12),
    );
    run(
        p,
        400,
        r#"{"error": "video is required"}"#,
        E("BAD_REQUEST"),
    );
    run(p, 500, r#"{"error": "internal"}"#, E("SERVICE_UNAVAILABLE"));
    run(p, 401, r#"{"error": "invalid token"}"#, E("UNAUTHORIZED"));
    run(p, 401, "", E("UNAUTHORIZED"));
    run(p, 404, r#"{"error": "not found"}"#, E("PROTOCOL"));
    run(
        p,
        200,
        r#"{"data": {"score": 50}, "scoring_result": {"status": "maybe"}}"#,
        E("PROTOCOL"),
    );
    let b = full("refer");
    let resp = HttpResponse {
        status: 200,
        content_type: None,
        body: b.as_bytes(),
    };
    let r = p.parse_response(&resp, &cred(p)).unwrap();
    assert_eq!(r.warnings[0].code, "refer:low_light");
}

#[test]
fn cvs_documented_answers() {
    let p = Provider::Cvs;
    let ok = |matching: &str, m: &str, invalid: &str| {
        format!(
            r#"{{"data": {{"matching": {matching}, "face1": "f1", "face2": "f2", "face1_score": "0.99", "face2_score": "0.98",
            "invalidCode": {invalid}, "invalidMessage": "", "match": {m}}}, "errorCode": "0", "errorMessage": "Success"}}"#
        )
    };
    run(
        p,
        200,
        &ok("\"86.5\"", "\"1\"", "\"0\""),
        O(Decision::Match, 0.865),
    );
    run(
        p,
        200,
        &ok("\"70\"", "\"0\"", "\"0\""),
        O(Decision::Refer, 0.70),
    );
    run(
        p,
        200,
        &ok("\"30.2\"", "\"-1\"", "\"0\""),
        O(Decision::NoMatch, 0.302),
    );
    // Codes as integers too.
    run(
        p,
        200,
        &ok("86.5", "1", "0").replace(r#""errorCode": "0""#, r#""errorCode": 0"#),
        O(Decision::Match, 0.865),
    );
    for (ec, msg, code) in [
        ("1", "The photo does not contain content", "BAD_REQUEST"),
        ("2", "Url is unavailable", "BAD_REQUEST"),
        ("3", "Incorrect image format", "UNSUPPORTED_FORMAT"),
        ("3", "No face detected", "NO_FACE"),
        ("4", "Out of requests", "QUOTA_EXHAUSTED"),
        ("5", "Incorrect api_key or api_secret", "UNAUTHORIZED"),
        ("6", "Incorrect format type", "BAD_REQUEST"),
    ] {
        run(
            p,
            200,
            &json!({"data": {}, "errorCode": ec, "errorMessage": msg}).to_string(),
            E(code),
        );
        run(
            p,
            200,
            &json!({"errorCode": ec.parse::<i64>().unwrap(), "errorMessage": msg}).to_string(),
            E(code),
        );
    }
    // Every documented warning comes back as a warning, with the result.
    for ic in 1..=12 {
        let resp_body = ok("\"80\"", "\"1\"", &format!("\"{ic}\""));
        let resp = HttpResponse {
            status: 200,
            content_type: None,
            body: resp_body.as_bytes(),
        };
        let r = p.parse_response(&resp, &cred(p)).unwrap();
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.warnings[0].code, format!("cvs:{ic}"));
        assert!(!r.warnings[0].message.is_empty());
    }
    run(p, 200, &ok("\"80\"", "\"2\"", "\"0\""), E("PROTOCOL"));
    run(p, 401, "", E("UNAUTHORIZED"));
    run(p, 503, "<html>down</html>", E("SERVICE_UNAVAILABLE"));
}

#[test]
fn aigen_documented_answers() {
    let p = Provider::Aigen;
    let ok = |c: f64| {
        format!(
            r#"{{"request_id": "r-9", "confidence": {c}, "thresholds": {{"err_01": 45.92, "err_001": 54.36, "err_0001": 59.71}}, "time_used": 0.4}}"#
        )
    };
    run(p, 200, &ok(72.5), O(Decision::Match, 0.725));
    run(p, 200, &ok(59.71), O(Decision::Match, 0.5971));
    run(p, 200, &ok(50.0), O(Decision::Refer, 0.5));
    run(p, 200, &ok(45.92), O(Decision::Refer, 0.4592));
    run(p, 200, &ok(12.0), O(Decision::NoMatch, 0.12));
    run(
        p,
        400,
        r#"{"request_id": "r", "error_message": "IMAGE_ERROR_UNSUPPORTED_FORMAT: image1"}"#,
        E("UNSUPPORTED_FORMAT"),
    );
    run(
        p,
        200,
        r#"{"request_id": "r", "error_message": "CAN_NOT_DETECT_FACE: image2", "time_used": 0.1}"#,
        E("NO_FACE"),
    );
    run(
        p,
        200,
        r#"{"request_id": "r", "error_message": "IMAGE_BLURED: image1"}"#,
        E("BLURRY"),
    );
    run(
        p,
        200,
        r#"{"request_id": "r", "error_message": "CAN_NOT_DETECT_IDCARD: image1"}"#,
        E("IMAGE_REJECTED"),
    );
    run(p, 401, r#"{"message": "Unauthorized"}"#, E("UNAUTHORIZED"));
    run(
        p,
        403,
        r#"{"message": "Forbidden"}"#,
        E("SUBSCRIPTION_INACTIVE"),
    );
    run(p, 429, r#"{"message": "Too many"}"#, E("QUOTA_EXHAUSTED"));
    run(
        p,
        200,
        r#"{"request_id": "r", "confidence": 70}"#,
        E("PROTOCOL"),
    );
    run(p, 200, "{not json", E("PROTOCOL"));
    let b = ok(50.0);
    let resp = HttpResponse {
        status: 200,
        content_type: None,
        body: b.as_bytes(),
    };
    let r = p.parse_response(&resp, &cred(p)).unwrap();
    assert_eq!(r.thresholds.unwrap().err_001, 54.36);
    assert_eq!(r.request_id.as_deref(), Some("r-9"));
}

#[test]
fn every_adapter_turns_garbage_into_protocol_errors() {
    let garbage: [&[u8]; 6] = [
        b"",
        b"null",
        b"[]",
        b"<!doctype html><h1>502</h1>",
        b"{\"data\": 5}",
        &[0xff, 0xfe, 0x00],
    ];
    for p in Provider::ALL {
        for body in garbage {
            let resp = HttpResponse {
                status: 200,
                content_type: None,
                body,
            };
            let e = p.parse_response(&resp, &cred(p)).unwrap_err();
            assert_eq!(e.code.as_str(), "PROTOCOL", "{p} {body:?}");
        }
    }
}

fn built(p: Provider, cfg: &ProviderConfig) -> HttpRequest {
    p.build_request(&request(), &cred(p), cfg).unwrap()
}

fn multipart_fields(r: &HttpRequest) -> Vec<(String, Option<String>)> {
    let ct = r.header("content-type").unwrap();
    let boundary = ct.split("boundary=").nth(1).unwrap();
    let body = String::from_utf8_lossy(&r.body).into_owned();
    body.split(&format!("--{boundary}"))
        .filter_map(|part| {
            let name = part.split("name=\"").nth(1)?.split('"').next()?.to_string();
            let filename = part
                .split("filename=\"")
                .nth(1)
                .and_then(|f| f.split('"').next())
                .map(str::to_string);
            Some((name, filename))
        })
        .collect()
}

#[test]
fn request_builders_follow_the_contracts() {
    let cfg = ProviderConfig::with_base_url("https://svc.example");

    let r = built(Provider::BiometricKz, &cfg);
    assert_eq!(
        (r.method, r.url.as_str()),
        (
            "POST",
            "https://svc.example/api/v1/backend/face2face/compare/"
        )
    );
    assert_eq!(
        multipart_fields(&r),
        vec![
            ("api_key".into(), None),
            ("img_1".into(), Some("img_1.jpg".into())),
            ("img_2".into(), Some("img_2.jpg".into()))
        ]
    );
    assert!(
        r.header("authorization").is_none(),
        "biometric.kz's key travels in the body"
    );

    let r = built(Provider::Valify, &cfg);
    assert_eq!(r.url, "https://svc.example/api/v1/face/match/");
    assert_eq!(
        r.header("authorization"),
        Some("Bearer valify-access-token")
    );
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert!(v["first_img"].is_string() && v["second_img"].is_string());
    assert_eq!(v["bundle_key"], "bundle-key-1");
    let mut v11 = cfg.clone();
    v11.valify.version = "v1.1".into();
    assert_eq!(
        built(Provider::Valify, &v11).url,
        "https://svc.example/api/v1.1/face/match/"
    );

    let mut consent = cfg.clone();
    consent.biometry.session_id = Some("sess-1".into());
    consent.biometry.user_fullname = Some("Alice Example".into());
    let r = built(Provider::Biometry, &consent);
    assert_eq!(r.url, "https://svc.example/api-gateway/match-faces");
    assert_eq!(r.header("x-session-id"), Some("sess-1"));
    assert!(
        r.header("x-user-fullname").is_none(),
        "no name without consent"
    );
    assert_eq!(
        multipart_fields(&r),
        vec![
            ("video".into(), Some("video.mp4".into())),
            ("image".into(), Some("image.jpg".into()))
        ]
    );
    assert!(String::from_utf8_lossy(&r.body).contains("Content-Type: video/mp4"));
    let mut with = consent.clone();
    with.biometry.fullname_consent = true;
    assert_eq!(
        built(Provider::Biometry, &with).header("x-user-fullname"),
        Some("Alice Example")
    );
    let mut pre = cfg.clone();
    pre.biometry.use_prefilled_video = true;
    let r = built(Provider::Biometry, &pre);
    assert_eq!(r.header("x-use-prefilled-video"), Some("true"));
    assert_eq!(
        multipart_fields(&r),
        vec![("image".into(), Some("image.jpg".into()))]
    );
    let no_video = MatchRequest {
        video: None,
        ..request()
    };
    assert_eq!(
        Provider::Biometry
            .build_request(&no_video, &cred(Provider::Biometry), &cfg)
            .unwrap_err()
            .code(),
        "INVALID_OPTIONS"
    );
    let mut evil = cfg.clone();
    evil.biometry.fullname_consent = true;
    evil.biometry.user_fullname = Some("A\r\nX-Evil: 1".into());
    assert!(
        Provider::Biometry
            .build_request(&request(), &cred(Provider::Biometry), &evil)
            .is_err()
    );

    let r = built(Provider::Cvs, &cfg);
    assert_eq!(
        r.url,
        "https://svc.example/api/v2/ekyc/face_matching?type1=card&format_type=base64"
    );
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode("cvs-key:cvs-secret");
    assert_eq!(
        r.header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert!(v["img1"].is_string() && v["img2"].is_string());
    let mut files = cfg.clone();
    files.cvs.multipart = true;
    let r = built(Provider::Cvs, &files);
    assert!(r.url.ends_with("format_type=file"));
    assert_eq!(
        multipart_fields(&r),
        vec![
            ("img1".into(), Some("img1.jpg".into())),
            ("img2".into(), Some("img2.jpg".into()))
        ]
    );

    let r = built(Provider::Aigen, &cfg);
    assert_eq!(r.url, "https://svc.example/aiface/face-compare/v1");
    assert_eq!(r.header("x-aigen-key"), Some("aigen-key-42"));
    assert!(!r.url.contains("aigen_key"), "never the query parameter");
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert!(v["image1"].is_string() && v["image2"].is_string());
}

#[test]
fn builders_refuse_what_the_service_would() {
    let cfg = ProviderConfig::with_base_url("https://svc.example");
    // A PNG is fine; a WebP is not accepted by any of the five.
    let webp = b"RIFF\x10\0\0\0WEBPVP8 ".to_vec();
    for p in Provider::ALL {
        let req = MatchRequest {
            document: Media {
                bytes: webp.clone(),
                content_type: "image/webp".into(),
            },
            ..request()
        };
        assert_eq!(
            p.build_request(&req, &cred(p), &cfg).unwrap_err().code(),
            "UNSUPPORTED_FORMAT",
            "{p}"
        );
        // The wrong service's credential is a typed error, not a panic.
        let other = cred(if p == Provider::Aigen {
            Provider::Cvs
        } else {
            Provider::Aigen
        });
        assert_eq!(
            p.build_request(&request(), &other, &cfg)
                .unwrap_err()
                .code(),
            "INVALID_OPTIONS"
        );
        // Debug output of a request never shows header values (they hold secrets).
        let r = built(p, &cfg);
        let dbg = format!("{r:?}");
        for secret in [
            "bkz-key",
            "valify-access-token",
            "eyJhbGciOi",
            "cvs-secret",
            "aigen-key-42",
            "Basic ",
        ] {
            assert!(!dbg.contains(secret), "{p}: {dbg}");
        }
    }
    // Valify's 2 MB is counted on the base64 string: 1.6 MB of JPEG is over.
    let mut big = jpeg();
    big.resize(1_600_000, 0);
    let req = MatchRequest {
        selfie: Media::jpeg(big),
        ..request()
    };
    assert_eq!(
        Provider::Valify
            .build_request(&req, &cred(Provider::Valify), &cfg)
            .unwrap_err()
            .code(),
        "INVALID_OPTIONS"
    );
    assert!(
        Provider::Aigen
            .build_request(&req, &cred(Provider::Aigen), &cfg)
            .is_ok()
    );
}

#[test]
fn profiles_drive_prepare() {
    use facebridge::quality::Role;
    let a = Provider::Aigen.profile().prepare_options(Role::Selfie);
    assert_eq!(
        (a.min_side, a.min_face_px_out, a.base64),
        (481, 113.0, true)
    );
    assert!(a.gate.unwrap().min_face_px >= 113.0);
    let v = Provider::Valify.profile().prepare_options(Role::Document);
    assert_eq!((v.max_bytes, v.base64), (2_000_000, true));
}

#[test]
fn a_client_media_type_never_reaches_the_service_request() {
    // Whatever a client names its files, each adapter writes the type it
    // sniffed from the bytes: no CR/LF, no quote, no second part.
    let evil = [
        "image/jpeg\r\nX-Injected: 1",
        "image/jpeg\r\n\r\n--boundary\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nEVIL",
        "image/jpeg\"; filename=\"x.php",
    ];
    for p in Provider::ALL {
        for t in evil {
            let mut req = request();
            req.document.content_type = t.into();
            req.selfie.content_type = t.into();
            let cfg = ProviderConfig::with_base_url("https://svc.example");
            let r = built(p, &cfg);
            let r2 = p.build_request(&req, &cred(p), &cfg).unwrap();
            let text = String::from_utf8_lossy(&r2.body);
            assert!(!text.contains("X-Injected"), "{p}: {text:.300}");
            assert!(!text.contains("EVIL"), "{p}: a smuggled part");
            assert!(!text.contains("x.php"), "{p}: a smuggled filename");
            for (k, v) in &r2.headers {
                assert!(
                    !k.contains(['\r', '\n']) && !v.contains(['\r', '\n']),
                    "{p}: {k}: {v}"
                );
            }
            // Same shape as the honest request: only the boundary may differ.
            assert_eq!(r.headers.len(), r2.headers.len(), "{p}");
            if r.header("content-type")
                .is_some_and(|c| c.contains("boundary="))
            {
                assert_eq!(multipart_fields(&r), multipart_fields(&r2), "{p}");
            }
        }
    }
    // A video's type is one of three, matched, never copied.
    let cfg = ProviderConfig::with_base_url("https://svc.example");
    let mut req = request();
    req.video.as_mut().unwrap().content_type = "video/mp4\r\nX-Injected: 1".into();
    let e = Provider::Biometry
        .build_request(&req, &cred(Provider::Biometry), &cfg)
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_OPTIONS");
    req.video.as_mut().unwrap().content_type = "VIDEO/WEBM; codecs=vp8".into();
    let ok = Provider::Biometry
        .build_request(&req, &cred(Provider::Biometry), &cfg)
        .unwrap();
    assert!(String::from_utf8_lossy(&ok.body).contains("Content-Type: video/webm\r\n"));
}
