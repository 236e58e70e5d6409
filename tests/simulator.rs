//! The five services end to end against the local simulators: adapter →
//! native transport → simulator → parser, and the CLI on top.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use common::*;
use facebridge::image::{self, RgbImage};
use facebridge::providers::secrets::{DEV_VALUES, Secrets, env_or_dev};
use facebridge::providers::{
    Credential, Decision, MatchRequest, Media, Provider, ProviderConfig, Secret, valify,
};
use facebridge::sim::{self, SimConfig, Simulator};
use facebridge::transport::{NativeTransport, compare};

fn simulator() -> &'static Simulator {
    static SIM: OnceLock<Simulator> = OnceLock::new();
    SIM.get_or_init(|| {
        let mut cfg = SimConfig::from_env();
        cfg.url_allow_list = vec!["http://127.0.0.1:9/allowed/".into()];
        sim::start("127.0.0.1:0", cfg, 4).unwrap()
    })
}

fn cfg() -> ProviderConfig {
    ProviderConfig::with_base_url(simulator().base_url())
}

fn dev() -> Secrets<impl Fn(&str) -> Option<String>> {
    Secrets::new(|n: &str| {
        DEV_VALUES
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.to_string())
    })
}

fn transport() -> NativeTransport {
    NativeTransport::new(Duration::from_secs(20))
}

#[test]
fn all_five_services_end_to_end() {
    let (card_a, selfie_a, card_b) = people();
    for p in Provider::ALL {
        let v = (p == Provider::Biometry).then(|| video("mp4"));
        let same = compare(
            p,
            &cfg(),
            &card_a,
            &selfie_a,
            v.clone(),
            &dev(),
            &transport(),
        )
        .unwrap();
        let diff = compare(p, &cfg(), &card_b, &selfie_a, v, &dev(), &transport()).unwrap();
        assert_eq!(same.result.provider, p);
        assert!(
            same.result.similarity > diff.result.similarity,
            "{p}: same person {} ≤ different people {}",
            same.result.similarity,
            diff.result.similarity
        );
        if p != Provider::Biometry {
            // Biometry compares the video with the card: both runs use A's video.
            assert_eq!(
                same.result.decision,
                Decision::Match,
                "{p}: {:?}",
                same.result
            );
            assert_ne!(
                diff.result.decision,
                Decision::Match,
                "{p}: {:?}",
                diff.result
            );
        }
    }
}

#[test]
fn biometry_takes_mp4_and_mediarecorder_webm() {
    let (card_a, selfie_a, _) = people();
    for kind in ["mp4", "webm"] {
        let c = compare(
            Provider::Biometry,
            &cfg(),
            &card_a,
            &selfie_a,
            Some(video(kind)),
            &dev(),
            &transport(),
        )
        .unwrap();
        let pct = c.result.raw["data"]["percentages"].as_array().unwrap();
        assert!(
            pct.len() >= 2,
            "{kind}: one score per extracted frame, got {pct:?}"
        );
        assert_eq!(c.result.decision, Decision::Match, "{kind}");
    }
}

fn wrong(name: &'static str) -> Secrets<impl Fn(&str) -> Option<String>> {
    Secrets::new(move |n: &str| {
        if n == name {
            Some("wrong-value".into())
        } else {
            env_or_dev(n)
        }
    })
}

#[test]
fn a_wrong_credential_is_unauthorized_for_each_service() {
    let (card_a, selfie_a, _) = people();
    let rows = [
        (Provider::BiometricKz, "FB_BIOMETRIC_KZ_API_KEY"),
        (Provider::Valify, "FB_VALIFY_CLIENT_SECRET"),
        (Provider::Valify, "FB_VALIFY_PASSWORD"),
        (Provider::Valify, "FB_VALIFY_BUNDLE_KEY"),
        (Provider::Biometry, "FB_BIOMETRY_TOKEN"),
        (Provider::Cvs, "FB_CVS_API_SECRET"),
        (Provider::Aigen, "FB_AIGEN_KEY"),
    ];
    for (p, name) in rows {
        let v = (p == Provider::Biometry).then(|| video("mp4"));
        let e = compare(p, &cfg(), &card_a, &selfie_a, v, &wrong(name), &transport()).unwrap_err();
        assert_eq!(e.code(), "UNAUTHORIZED", "{p} with a wrong {name}: {e}");
        assert!(
            !e.to_string().contains("wrong-value"),
            "the credential leaked into the error"
        );
    }
}

/// Sends a request built straight from raw images, bypassing `prepare`, as a
/// client that skips the SDK would.
fn raw(
    p: Provider,
    document: Vec<u8>,
    selfie: Vec<u8>,
    video: Option<Media>,
) -> Result<facebridge::providers::MatchResult, facebridge::Error> {
    let token = (p == Provider::Valify).then(|| {
        let a = transport()
            .send(&valify::token_request(&dev().valify_client().unwrap(), &cfg()).unwrap())
            .unwrap();
        valify::parse_token(&a.as_response(), now()).unwrap().token
    });
    let cred = dev().credential(p, token).unwrap();
    let req = MatchRequest {
        document: Media::jpeg(document),
        selfie: Media::jpeg(selfie),
        video,
    };
    let answer = transport().send(&p.build_request(&req, &cred, &cfg())?)?;
    Ok(p.parse_response(&answer.as_response(), &cred)?)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn documented_errors_come_back_typed() {
    let (card_a, selfie_a, _) = people();
    let wall = jpeg(
        &RgbImage::from_fn(640, 640, |x, y| {
            ::image::Rgb([(x % 200) as u8, (y % 180) as u8, 90])
        }),
        90,
    );
    let small = jpeg(&image::resize_rgb(&selfie(), 300, 400).unwrap(), 90);
    let code = |r: Result<_, facebridge::Error>| r.map(|_| "OK").unwrap_or_else(|e| e.code());
    assert_eq!(
        code(raw(
            Provider::BiometricKz,
            wall.clone(),
            selfie_a.clone(),
            None
        )),
        "NO_FACE"
    );
    assert_eq!(
        code(raw(Provider::Valify, wall.clone(), selfie_a.clone(), None)),
        "NO_FACE"
    );
    assert_eq!(
        code(raw(
            Provider::Biometry,
            wall.clone(),
            selfie_a.clone(),
            Some(video("mp4"))
        )),
        "NO_FACE"
    );
    assert_eq!(
        code(raw(Provider::Cvs, wall.clone(), selfie_a.clone(), None)),
        "NO_FACE"
    );
    assert_eq!(
        code(raw(Provider::Aigen, wall, selfie_a.clone(), None)),
        "NO_FACE"
    );
    assert_eq!(
        code(raw(Provider::Aigen, small, selfie_a.clone(), None)),
        "UNSUPPORTED_FORMAT",
        "AIGEN: not over 480×480"
    );
    // CVS answers a group photo with a result and warning 6 (more than one face).
    let group = raw(Provider::Cvs, photo("sample6.jpg"), selfie_a.clone(), None).unwrap();
    assert_eq!(
        group.warnings.first().map(|w| w.code.as_str()),
        Some("cvs:6"),
        "{:?}",
        group.warnings
    );
    // Biometry without a video, and with prefilled video the session never had.
    let biometry = Credential::Biometry {
        token: Secret::new(env_or_dev("FB_BIOMETRY_TOKEN").unwrap()),
    };
    let mut pre = cfg();
    pre.biometry.use_prefilled_video = true;
    let req = MatchRequest {
        document: Media::jpeg(card_a.clone()),
        selfie: Media::jpeg(selfie_a.clone()),
        video: None,
    };
    let a = transport()
        .send(
            &Provider::Biometry
                .build_request(&req, &biometry, &pre)
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        Provider::Biometry
            .parse_response(&a.as_response(), &biometry)
            .unwrap_err()
            .code
            .as_str(),
        "BAD_REQUEST"
    );
}

#[test]
fn valify_tokens_last_three_calls() {
    let (card_a, selfie_a, _) = people();
    let a = transport()
        .send(&valify::token_request(&dev().valify_client().unwrap(), &cfg()).unwrap())
        .unwrap();
    let token = valify::parse_token(&a.as_response(), now()).unwrap();
    assert_eq!(token.budget.calls_left, 3);
    let cred = dev()
        .credential(Provider::Valify, Some(token.token))
        .unwrap();
    let req = MatchRequest {
        document: Media::jpeg(card_a),
        selfie: Media::jpeg(selfie_a),
        video: None,
    };
    for call in 1..=4 {
        let a = transport()
            .send(&Provider::Valify.build_request(&req, &cred, &cfg()).unwrap())
            .unwrap();
        let r = Provider::Valify.parse_response(&a.as_response(), &cred);
        if call <= 3 {
            assert!(r.is_ok(), "call {call}: {r:?}");
        } else {
            assert_eq!(
                r.unwrap_err().code.as_str(),
                "UNAUTHORIZED",
                "a fourth call on one token"
            );
        }
    }
}

#[test]
fn injected_faults_are_typed() {
    let (card_a, selfie_a, _) = people();
    let cred = dev().credential(Provider::Aigen, None).unwrap();
    let aigen = |fault: &str, timeout_ms: u64| {
        let req = MatchRequest {
            document: Media::jpeg(card_a.clone()),
            selfie: Media::jpeg(selfie_a.clone()),
            video: None,
        };
        let mut http = Provider::Aigen.build_request(&req, &cred, &cfg()).unwrap();
        http.headers
            .push(("x-facebridge-sim-fault".into(), fault.into()));
        match NativeTransport::new(Duration::from_millis(timeout_ms)).send(&http) {
            Ok(a) => Provider::Aigen
                .parse_response(&a.as_response(), &cred)
                .map(|_| "OK")
                .unwrap_or_else(|e| e.code.as_str()),
            Err(e) => e.code(),
        }
    };
    assert_eq!(aigen("status=503", 10_000), "SERVICE_UNAVAILABLE");
    assert_eq!(aigen("html", 10_000), "SERVICE_UNAVAILABLE");
    assert_eq!(aigen("malformed", 10_000), "PROTOCOL");
    assert_eq!(aigen("reset", 10_000), "NETWORK");
    assert_eq!(aigen("hang=3000", 500), "TIMEOUT");
    assert_eq!(aigen("status=418", 10_000), "PROTOCOL");
}

#[test]
fn a_fault_mix_is_drawn_in_turn_and_counted() {
    // Its own simulator: the mix applies to every request without a fault.
    let sim = sim::start("127.0.0.1:0", SimConfig::from_env(), 2).unwrap();
    let post = |path: &str, body: &str| {
        ureq::post(&format!("{}{path}", sim.base_url()))
            .send_string(body)
            .unwrap()
            .into_string()
            .unwrap()
    };
    assert_eq!(
        post("/__sim/fault-mix", "none*2, status=503 ,malformed*1"),
        r#"{"entries":4}"#
    );
    let (card_a, selfie_a, _) = people();
    let cred = dev().credential(Provider::BiometricKz, None).unwrap();
    let cfg = ProviderConfig::with_base_url(sim.base_url());
    let codes: Vec<String> = (0..8)
        .map(|_| {
            let req = MatchRequest {
                document: Media::jpeg(card_a.clone()),
                selfie: Media::jpeg(selfie_a.clone()),
                video: None,
            };
            let http = Provider::BiometricKz
                .build_request(&req, &cred, &cfg)
                .unwrap();
            match transport().send(&http) {
                Ok(a) => Provider::BiometricKz
                    .parse_response(&a.as_response(), &cred)
                    .map(|_| "OK".to_string())
                    .unwrap_or_else(|e| e.code.as_str().to_string()),
                Err(e) => e.code().to_string(),
            }
        })
        .collect();
    let want = ["OK", "OK", "SERVICE_UNAVAILABLE", "PROTOCOL"];
    assert_eq!(codes, [want, want].concat());
    let stats: serde_json::Value = serde_json::from_str(
        &ureq::get(&format!("{}/__sim/stats", sim.base_url()))
            .call()
            .unwrap()
            .into_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(stats["requests"], 8);
    assert_eq!(
        stats["faults"],
        serde_json::json!({"none": 4, "status=503": 2, "malformed": 2})
    );
    // Cleared: back to answering.
    assert_eq!(post("/__sim/fault-mix", ""), r#"{"entries":0}"#);
    sim.stop();
}

#[test]
fn every_answer_says_it_is_a_simulator() {
    let r = ureq::get(&format!(
        "{}/aiface/face-compare/v1",
        simulator().base_url()
    ))
    .call();
    let resp = match r {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    assert!(
        resp.header("x-facebridge-simulator")
            .unwrap()
            .contains("not a biometric result")
    );
}

#[test]
fn cvs_url_mode_fetches_only_from_the_allow_list() {
    let cred = dev().credential(Provider::Cvs, None).unwrap();
    let Credential::Cvs {
        api_key,
        api_secret,
    } = &cred
    else {
        unreachable!()
    };
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        api_key.expose(),
        api_secret.expose()
    ));
    for target in [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:9/not-allowed/a.jpg",
        "file:///etc/passwd",
    ] {
        let url = format!(
            "{}/api/v2/ekyc/face_matching?type1=card&format_type=url&img1={target}&img2={target}",
            simulator().base_url()
        );
        let resp = ureq::get(&url)
            .set("authorization", &format!("Basic {auth}"))
            .call()
            .unwrap();
        let v: serde_json::Value = serde_json::from_reader(resp.into_reader()).unwrap();
        assert_eq!(v["errorCode"], "2", "{target}: {v}");
    }
}

#[test]
fn cli_compares_against_the_simulator() {
    let bin = env!("CARGO_BIN_EXE_facebridge");
    let dir = std::env::temp_dir().join(format!("fb-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (card_a, selfie_a, _) = people();
    std::fs::write(dir.join("card.jpg"), card_a).unwrap();
    std::fs::write(dir.join("selfie.jpg"), selfie_a).unwrap();
    std::fs::write(dir.join("video.webm"), video("webm").bytes).unwrap();
    let run = |provider: &str, env: &[(&str, &str)]| {
        let mut c = Command::new(bin);
        c.args([
            "compare",
            "--provider",
            provider,
            "--base-url",
            &simulator().base_url(),
            "--dev-secrets",
        ])
        .arg(dir.join("card.jpg"))
        .arg(dir.join("selfie.jpg"));
        if provider == "biometry" {
            c.arg("--video").arg(dir.join("video.webm"));
        }
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{provider}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), v)
    };
    for p in Provider::ALL {
        let (code, v) = run(p.name(), &[]);
        assert_eq!(code, Some(0), "{p}: {v}");
        assert_eq!(v["result"]["provider"], p.name());
        assert_eq!(v["result"]["decision"], "match", "{p}: {v}");
        let (code, v) = run(
            p.name(),
            &[
                ("FB_AIGEN_KEY", "x"),
                ("FB_BIOMETRIC_KZ_API_KEY", "x"),
                ("FB_VALIFY_BUNDLE_KEY", "x"),
                ("FB_BIOMETRY_TOKEN", "x"),
                ("FB_CVS_API_KEY", "x"),
            ],
        );
        assert_eq!(code, Some(2), "{p}");
        assert_eq!(v["error"]["code"], "UNAUTHORIZED", "{p}: {v}");
    }
}

#[test]
fn every_documented_error_comes_through_the_simulator_typed() {
    let (card_a, selfie_a, _) = people();
    let rows: &[(Provider, &[(&str, &str)])] = &[
        (
            Provider::BiometricKz,
            &[
                ("no_face", "NO_FACE"),
                ("unavailable", "SERVICE_UNAVAILABLE"),
                ("no_access", "SUBSCRIPTION_INACTIVE"),
                ("no_result", "SERVICE_ERROR"),
                ("bad_extension", "UNSUPPORTED_FORMAT"),
                ("not_started", "SUBSCRIPTION_INACTIVE"),
                ("no_active_subscription", "SUBSCRIPTION_INACTIVE"),
                ("no_subscription", "SUBSCRIPTION_INACTIVE"),
            ],
        ),
        (
            Provider::Valify,
            &[
                ("missing_bundle_key", "BAD_REQUEST"),
                ("invalid_json", "BAD_REQUEST"),
                ("invalid_bundle_key", "UNAUTHORIZED"),
                ("token_not_found", "UNAUTHORIZED"),
                ("not_found", "PROTOCOL"),
                ("unsupported_media", "UNSUPPORTED_FORMAT"),
                ("server", "SERVICE_UNAVAILABLE"),
                ("service_error", "SERVICE_ERROR"),
            ],
        ),
        (
            Provider::Biometry,
            &[
                ("bad_request", "BAD_REQUEST"),
                ("unauthorized", "UNAUTHORIZED"),
                ("not_found", "PROTOCOL"),
                ("server", "SERVICE_UNAVAILABLE"),
            ],
        ),
        (
            Provider::Cvs,
            &[
                ("1", "BAD_REQUEST"),
                ("2", "BAD_REQUEST"),
                ("3", "UNSUPPORTED_FORMAT"),
                ("4", "QUOTA_EXHAUSTED"),
                ("5", "UNAUTHORIZED"),
                ("6", "BAD_REQUEST"),
            ],
        ),
        (
            Provider::Aigen,
            &[
                ("unsupported_format", "UNSUPPORTED_FORMAT"),
                ("no_face", "NO_FACE"),
                ("blurred", "BLURRY"),
                ("no_idcard", "IMAGE_REJECTED"),
                ("unauthorized", "UNAUTHORIZED"),
                ("forbidden", "SUBSCRIPTION_INACTIVE"),
                ("no_credit", "QUOTA_EXHAUSTED"),
            ],
        ),
    ];
    for (p, errors) in rows {
        let token = (*p == Provider::Valify).then(|| Secret::new("unused-the-fault-answers-first"));
        let cred = dev().credential(*p, token).unwrap();
        let req = MatchRequest {
            document: Media::jpeg(card_a.clone()),
            selfie: Media::jpeg(selfie_a.clone()),
            video: (*p == Provider::Biometry).then(|| Media {
                bytes: b"\0\0\0\x18ftypmp42".to_vec(),
                content_type: "video/mp4".into(),
            }),
        };
        for (name, want) in *errors {
            let mut http = p.build_request(&req, &cred, &cfg()).unwrap();
            http.headers
                .push(("x-facebridge-sim-fault".into(), format!("error={name}")));
            let a = transport().send(&http).unwrap();
            let e = p.parse_response(&a.as_response(), &cred).unwrap_err();
            assert_eq!(e.code.as_str(), *want, "{p} {name}: {e}");
        }
    }
}
