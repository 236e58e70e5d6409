//! The five services' simulated endpoints. Each checks what its documentation
//! says it checks, in the order a server would (credentials first), and
//! answers with the documented shapes.

use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde_json::{Value, json};

use super::multipart::{self, Part};
use super::similarity::{self, Analysed};
use super::{Reply, Req, State};
use crate::image::Format;
use crate::providers::valify::TokenBudget;

/// Score at or above which the simulators call two faces the same person,
/// and the lower edge of the "refer" band. Measured with
/// `examples/measure_similarity.rs` on the 22 faces of the sample photos:
/// each face against a card-like copy of itself scores 0.894–0.996; the 231
/// pairs of different faces score 0.000–0.766 (median 0.26), 8 of them at
/// or above 0.65 and none at 0.80.
pub const MATCH_AT: f64 = 0.80;
pub const REFER_AT: f64 = 0.65;

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn b64decode(s: &str) -> Option<Vec<u8>> {
    // Accept data URLs' payload and line-wrapped base64 (Python's encodebytes).
    let s = s.rsplit_once(',').map_or(s, |(_, b)| b);
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(clean).ok()
}

fn analyse(state: &State, bytes: &[u8]) -> Option<Analysed> {
    match Format::sniff(bytes) {
        Ok(Format::Jpeg | Format::Png) => similarity::analyse(state.detector, bytes).ok(),
        _ => None,
    }
}

fn bearer(req: &Req) -> Option<&str> {
    req.header("authorization")?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn round(x: f64, places: i32) -> f64 {
    let k = 10f64.powi(places);
    (x * k).round() / k
}

fn part<'a>(parts: &'a [Part], name: &str) -> Option<&'a Part> {
    parts.iter().find(|p| p.name == name)
}

fn ext_ok(filename: Option<&str>) -> bool {
    let ext = filename
        .and_then(|f| f.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase());
    matches!(ext.as_deref(), Some("jpg" | "jpeg" | "png"))
}

// ── biometric.kz ────────────────────────────────────────────────────────────

pub(super) fn biometric_kz(state: &State, req: &Req) -> Reply {
    let msg = |status, m: &str| Reply::json(status, json!({ "message": m }));
    let Some(parts) = multipart::parse(req.header("content-type").unwrap_or(""), &req.body) else {
        return msg(
            400,
            "multipart/form-data with api_key, img_1 and img_2 expected",
        );
    };
    // Undocumented by the service: a wrong key is refused like any API's.
    match part(&parts, "api_key") {
        Some(k) if k.data == state.cfg.secret("FB_BIOMETRIC_KZ_API_KEY").as_bytes() => {}
        _ => return Reply::json(401, json!({"detail": "Invalid api_key"})),
    }
    let (Some(a), Some(b)) = (part(&parts, "img_1"), part(&parts, "img_2")) else {
        return msg(400, "img_1 and img_2 are required");
    };
    if !ext_ok(a.filename.as_deref()) || !ext_ok(b.filename.as_deref()) {
        return msg(415, "Not allowed file, valid extensions: .jpg .png .jpeg");
    }
    let (Some(fa), Some(fb)) = (analyse(state, &a.data), analyse(state, &b.data)) else {
        return msg(415, "Not allowed file, valid extensions: .jpg .png .jpeg");
    };
    let Some(s) = similarity::score(&fa, &fb) else {
        return msg(400, "No face found");
    };
    Reply::json(
        200,
        json!({"result": s >= MATCH_AT, "prediction": round(s, 4), "prediction_percent": (s * 100.0).round() as i64}),
    )
}

// ── Valify ──────────────────────────────────────────────────────────────────

pub(super) fn valify_token(state: &State, req: &Req) -> Reply {
    if req.content_type() != "application/x-www-form-urlencoded" {
        return Reply::json(400, json!({"error": "invalid_request"}));
    }
    let form = super::parse_query(&String::from_utf8_lossy(&req.body));
    let f = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if f("grant_type") != "password" {
        return Reply::json(400, json!({"error": "unsupported_grant_type"}));
    }
    let c = &state.cfg;
    if f("client_id") != c.secret("FB_VALIFY_CLIENT_ID")
        || f("client_secret") != c.secret("FB_VALIFY_CLIENT_SECRET")
    {
        return Reply::json(401, json!({"error": "invalid_client"}));
    }
    if f("username") != c.secret("FB_VALIFY_USERNAME")
        || f("password") != c.secret("FB_VALIFY_PASSWORD")
    {
        return Reply::json(
            400,
            json!({"error": "invalid_grant", "error_description": "Invalid credentials given."}),
        );
    }
    let n = state.next_id.fetch_add(1, Ordering::Relaxed);
    let token = format!(
        "simtok{:016x}{:08x}",
        now_s().wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n.wrapping_mul(0xBF58_476D_1CE4_E5B9),
        n
    );
    let lifetime = state.cfg.valify_token_lifetime_s;
    if let Ok(mut t) = state.valify_tokens.lock() {
        t.retain(|_, b| b.usable(now_s()));
        t.insert(token.clone(), TokenBudget::new(now_s(), lifetime));
    }
    Reply::json(
        200,
        json!({"access_token": token, "expires_in": lifetime, "token_type": "Bearer", "scope": "read write",
               "refresh_token": format!("simrefresh{n:08x}")}),
    )
}

pub(super) fn valify(state: &State, req: &Req) -> Reply {
    let msg = |status, m: &str| Reply::json(status, json!({ "message": m }));
    let err =
        |status, m: &str, code: i64| Reply::json(status, json!({"message": m, "error_code": code}));
    // Each call uses up one of the token's three; an expired or spent token is gone.
    let token_ok = bearer(req).is_some_and(|t| {
        let Ok(mut tokens) = state.valify_tokens.lock() else {
            return false;
        };
        let taken = tokens.get_mut(t).map(|b| b.take(now_s()));
        if taken == Some(false) {
            tokens.remove(t);
        }
        taken == Some(true)
    });
    if !token_ok {
        return msg(403, "Access token not found");
    }
    if req.content_type() != "application/json" {
        return msg(415, "Unsupported media type");
    }
    let Ok(v) = serde_json::from_slice::<Value>(&req.body) else {
        return msg(400, "Invalid JSON");
    };
    match v.get("bundle_key").and_then(Value::as_str) {
        None => return msg(400, "Missing bundle key"),
        Some(k) if k != state.cfg.secret("FB_VALIFY_BUNDLE_KEY") => {
            return msg(401, "Invalid bundle key");
        }
        _ => {}
    }
    if v.get("lang")
        .is_some_and(|lang| lang != "en" && lang != "ar")
    {
        return msg(400, "lang must be en or ar");
    }
    let (Some(a), Some(b)) = (
        v.get("first_img").and_then(Value::as_str),
        v.get("second_img").and_then(Value::as_str),
    ) else {
        if v.get("transaction_id").is_some() {
            return err(400, "Transaction not found", 1004);
        }
        return msg(
            400,
            "Missing parameters: first_img and second_img are required",
        );
    };
    // The customer's 2 MB limit, on the base64 string.
    if a.len() > 2_000_000 || b.len() > 2_000_000 {
        return err(400, "Image size exceeds 2 MB", 1101);
    }
    let (Some(a), Some(b)) = (b64decode(a), b64decode(b)) else {
        return err(400, "Invalid base64 image", 1102);
    };
    let (Some(fa), Some(fb)) = (analyse(state, &a), analyse(state, &b)) else {
        return err(400, "Invalid image format", 1103);
    };
    if fa.faces.is_empty() {
        return err(400, "No face detected in first_img", 1012);
    }
    let Some(s) = similarity::score(&fa, &fb) else {
        return err(400, "No face detected in second_img", 1012);
    };
    Reply::json(
        200,
        json!({"result": {"is_similar": s >= MATCH_AT, "confidence": round(s, 4)}, "transaction_id": state.id("valify-tx"),
               "trials_remaining": 2}),
    )
}

// ── Biometry ────────────────────────────────────────────────────────────────

/// Frames from a video through Debian's ffmpeg: at most 8, 2 per second.
fn frames(video: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    // One directory per call: concurrent requests must never share files.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = CALLS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("fb-sim-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let input = dir.join("in.video");
    std::fs::write(&input, video).map_err(|e| e.to_string())?;
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(&input)
        .args([
            "-vf",
            "fps=2,scale='min(960,iw)':-2",
            "-frames:v",
            "8",
            "-q:v",
            "3",
        ])
        .arg(dir.join("f%02d.jpg"))
        .status()
        .map_err(|e| format!("ffmpeg: {e}"))?;
    let mut out = Vec::new();
    if status.success() {
        for i in 1..=8 {
            if let Ok(b) = std::fs::read(dir.join(format!("f{i:02}.jpg"))) {
                out.push(b);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    if out.is_empty() {
        Err("no frames could be read from the video".into())
    } else {
        Ok(out)
    }
}

pub(super) fn biometry(state: &State, req: &Req) -> Reply {
    let error = |status, m: &str| Reply::json(status, json!({ "error": m }));
    if bearer(req) != Some(state.cfg.secret("FB_BIOMETRY_TOKEN")) {
        return error(401, "Invalid or missing API token");
    }
    let Some(parts) = multipart::parse(req.header("content-type").unwrap_or(""), &req.body) else {
        return error(400, "multipart/form-data expected");
    };
    let Some(image) = part(&parts, "image") else {
        return error(400, "image is required");
    };
    let prefilled = req
        .header("x-use-prefilled-video")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let video = part(&parts, "video");
    let video = match (video, prefilled) {
        (Some(v), _) => v,
        (None, true) => return error(400, "no video was processed earlier in this session"),
        (None, false) => return error(400, "video is required"),
    };
    let vt = video.content_type.as_deref().unwrap_or("");
    if !(vt.starts_with("video/mp4")
        || vt.starts_with("video/webm")
        || vt.starts_with("video/quicktime"))
    {
        return error(400, "video must be MP4 or WebM");
    }
    let Some(target) = analyse(state, &image.data) else {
        return error(400, "image must be a JPEG or PNG");
    };
    let Some(face) = target.faces.first() else {
        return error(400, "No face found on image");
    };
    let patch = similarity::patch(&target.image, face);
    let frames = match frames(&video.data) {
        Ok(f) => f,
        Err(e) => return error(400, &format!("video could not be read: {e}")),
    };
    let percentages: Vec<i64> = frames
        .iter()
        .filter_map(|f| analyse(state, f))
        .filter_map(|a| {
            a.faces
                .first()
                .map(|fc| similarity::similarity(&similarity::patch(&a.image, fc), &patch))
        })
        .map(|s| (s * 100.0).round() as i64)
        .collect();
    if percentages.is_empty() {
        return error(400, "No face found in video");
    }
    let score = percentages.iter().sum::<i64>() / percentages.len() as i64;
    let (status, failed, refer): (&str, Vec<&str>, Vec<&str>) = if score as f64 >= MATCH_AT * 100.0
    {
        ("pass", vec![], vec![])
    } else if score as f64 >= REFER_AT * 100.0 {
        ("refer", vec![], vec!["score_in_refer_band"])
    } else {
        ("fail", vec!["score_below_threshold"], vec![])
    };
    let ok = json!({"code": 0, "description": "Successful check"});
    Reply::json(
        200,
        json!({
            "data": {"anchor": ok, "code": 0, "description": "Successful check", "percentages": percentages,
                     "result": status == "pass", "score": score, "target": ok},
            "score": score,
            "scoring_result": {"failed_conditions": failed, "failed_refer_conditions": refer, "status": status},
            "message": "Successful check"
        }),
    )
}

// ── computervision.com.vn ───────────────────────────────────────────────────

fn fetch_allowed(state: &State, url: &str) -> Option<Vec<u8>> {
    if url.is_empty()
        || !state
            .cfg
            .url_allow_list
            .iter()
            .any(|p| url.starts_with(p.as_str()))
    {
        return None;
    }
    let resp = ureq::AgentBuilder::new()
        .timeout(std::time::Duration::from_secs(5))
        .redirects(0)
        .build()
        .get(url)
        .call()
        .ok()?;
    let mut body = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(resp.into_reader(), 16 << 20),
        &mut body,
    )
    .ok()?;
    Some(body)
}

pub(super) fn cvs(state: &State, req: &Req) -> Reply {
    let fail = |code: &str, m: &str| {
        Reply::json(
            200,
            json!({"data": {}, "errorCode": code, "errorMessage": m}),
        )
    };
    let basic = format!(
        "{}:{}",
        state.cfg.secret("FB_CVS_API_KEY"),
        state.cfg.secret("FB_CVS_API_SECRET")
    );
    let want = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(basic)
    );
    if req.header("authorization") != Some(want.as_str()) {
        return fail("5", "Incorrect api_key or api_secret");
    }
    let q = |k: &str| req.query.get(k).map(String::as_str).unwrap_or("");
    if !matches!(q("type1"), "portrait" | "card") {
        return fail("6", "type1 must be portrait or card");
    }
    let (img1, img2) = match (q("format_type"), req.method.as_str()) {
        ("url", "GET") => match (
            fetch_allowed(state, q("img1")),
            fetch_allowed(state, q("img2")),
        ) {
            (Some(a), Some(b)) => (a, b),
            _ => return fail("2", "Url is unavailable"),
        },
        ("file", "POST") => {
            let Some(parts) = multipart::parse(req.header("content-type").unwrap_or(""), &req.body)
            else {
                return fail("1", "The photo does not contain content");
            };
            match (part(&parts, "img1"), part(&parts, "img2")) {
                (Some(a), Some(b)) => (a.data.clone(), b.data.clone()),
                _ => return fail("1", "The photo does not contain content"),
            }
        }
        ("base64", "POST") => {
            if req.content_type() != "application/json" {
                return fail("6", "Incorrect format type");
            }
            let v: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let get = |k: &str| v.get(k).and_then(Value::as_str).and_then(b64decode);
            match (get("img1"), get("img2")) {
                (Some(a), Some(b)) => (a, b),
                _ => return fail("1", "The photo does not contain content"),
            }
        }
        _ => return fail("6", "Incorrect format type"),
    };
    if img1.is_empty() || img2.is_empty() {
        return fail("1", "The photo does not contain content");
    }
    let (Some(a), Some(b)) = (analyse(state, &img1), analyse(state, &img2)) else {
        return fail("3", "Incorrect image format");
    };
    let Some(s) = similarity::score(&a, &b) else {
        return fail("3", "Incorrect image format: no face detected");
    };
    let percent = s * 100.0;
    let invalid = if a.faces.len() > 1 || b.faces.len() > 1 {
        ("6", "Photo contains more than one face")
    } else if a.face_px().unwrap_or(0.0) < 40.0 || b.face_px().unwrap_or(0.0) < 40.0 {
        ("11", "The face in the picture is too small")
    } else {
        ("0", "")
    };
    let m = if percent > 75.0 {
        "1"
    } else if percent >= 65.0 {
        "0"
    } else {
        "-1"
    };
    Reply::json(
        200,
        json!({
            "data": {"matching": format!("{percent:.2}"), "face1": "", "face2": "",
                     "face1_score": format!("{:.4}", a.faces[0].score), "face2_score": format!("{:.4}", b.faces[0].score),
                     "invalidCode": invalid.0, "invalidMessage": invalid.1, "match": m},
            "errorCode": "0", "errorMessage": "Success"
        }),
    )
}

// ── AIGEN ───────────────────────────────────────────────────────────────────

/// The simulator's thresholds on its own 0..100 scale: refer from REFER_AT,
/// match from MATCH_AT.
const AIGEN_THRESHOLDS: (f64, f64, f64) = (REFER_AT * 100.0, 72.5, MATCH_AT * 100.0);

pub(super) fn aigen(state: &State, req: &Req) -> Reply {
    let err = |status, m: String| {
        Reply::json(
            status,
            json!({"request_id": state.id("aigen"), "error_message": m, "time_used": 0.01}),
        )
    };
    let key = req
        .header("x-aigen-key")
        .or_else(|| req.query.get("aigen_key").map(String::as_str));
    if key != Some(state.cfg.secret("FB_AIGEN_KEY")) {
        return Reply::json(401, json!({"message": "Unauthorized"}));
    }
    if req.content_type() != "application/json" {
        return err(400, "IMAGE_ERROR_UNSUPPORTED_FORMAT: image1".into());
    }
    let v: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
    let mut analysed = Vec::new();
    for param in ["image1", "image2"] {
        let Some(bytes) = v.get(param).and_then(Value::as_str).and_then(b64decode) else {
            return err(400, format!("IMAGE_ERROR_UNSUPPORTED_FORMAT: {param}"));
        };
        let Some(a) = analyse(state, &bytes) else {
            return err(400, format!("IMAGE_ERROR_UNSUPPORTED_FORMAT: {param}"));
        };
        // "Must be over 480*480 pixels."
        if a.width <= 480 || a.height <= 480 {
            return err(400, format!("IMAGE_ERROR_UNSUPPORTED_FORMAT: {param}"));
        }
        // "The bounding size of a detected face should be over 112 pixels."
        if a.face_px().is_none_or(|px| px <= 112.0) {
            return err(200, format!("CAN_NOT_DETECT_FACE: {param}"));
        }
        if flag("blur_detection") {
            let q = crate::quality::assess(&a.image, a.scale, a.width, a.height, &a.faces);
            if q.primary.is_some_and(|p| p.sharpness < 12.0) {
                return err(200, format!("IMAGE_BLURED: {param}"));
            }
        }
        analysed.push(a);
    }
    let s = similarity::score(&analysed[0], &analysed[1]).unwrap_or(0.0);
    let (e01, e001, e0001) = AIGEN_THRESHOLDS;
    Reply::json(
        200,
        json!({"request_id": state.id("aigen"), "confidence": round(s * 100.0, 2),
               "thresholds": {"err_01": e01, "err_001": e001, "err_0001": e0001}, "time_used": 0.05}),
    )
}

// ── Documented errors on demand ─────────────────────────────────────────────

/// The documented error `name` of the service at `path`, exactly as the
/// documentation shows it; `x-facebridge-sim-fault: error=<name>` asks for it
/// (for errors that depend on the account, such as an expired subscription).
pub(super) fn documented_error(path: &str, name: &str) -> Option<Reply> {
    let msg = |status, m: &str| Some(Reply::json(status, json!({ "message": m })));
    let error = |status, m: &str| Some(Reply::json(status, json!({ "error": m })));
    let aigen = |status, m: &str| {
        Some(Reply::json(
            status,
            json!({"request_id": "sim", "error_message": m, "time_used": 0.01}),
        ))
    };
    match (path, name) {
        ("/api/v1/backend/face2face/compare/", n) => match n {
            "no_face" => msg(400, "No face found"),
            "unavailable" => msg(400, "Can`t connect to face2face service"),
            "no_access" => msg(400, "Client does not have access to Face2Face technology"),
            "no_result" => msg(400, "Face2Face result does not exist"),
            "bad_extension" => msg(415, "Not allowed file, valid extensions: .jpg .png .jpeg"),
            "not_started" => msg(400, "Subscription has not started"),
            "no_active_subscription" => msg(400, "No active or future subscription for technology"),
            "no_subscription" => msg(400, "Client does not have subscription"),
            _ => None,
        },
        ("/api/v1/face/match/" | "/api/v1.1/face/match/", n) => match n {
            "missing_bundle_key" => msg(400, "Missing bundle key"),
            "invalid_json" => msg(400, "Invalid JSON"),
            "invalid_bundle_key" => msg(401, "Invalid bundle key"),
            "token_not_found" => msg(403, "Access token not found"),
            "not_found" => Some(Reply::json(404, json!({"detail": "Not found."}))),
            "unsupported_media" => msg(415, "Unsupported media type"),
            "server" => msg(500, "Internal server error"),
            "service_error" => Some(Reply::json(
                200,
                json!({"message": "Service temporarily failed", "error_code": 5001}),
            )),
            _ => None,
        },
        ("/api-gateway/match-faces", n) => match n {
            "bad_request" => error(400, "image is required"),
            "unauthorized" => error(401, "Invalid or missing API token"),
            "not_found" => error(404, "Not found"),
            "server" => error(500, "Internal server error"),
            _ => None,
        },
        ("/api/v2/ekyc/face_matching", n) => {
            let m = match n {
                "1" => "The photo does not contain content",
                "2" => "Url is unavailable",
                "3" => "Incorrect image format",
                "4" => "Out of requests",
                "5" => "Incorrect api_key or api_secret",
                "6" => "Incorrect format type",
                _ => return None,
            };
            Some(Reply::json(
                200,
                json!({"data": {}, "errorCode": n, "errorMessage": m}),
            ))
        }
        ("/aiface/face-compare/v1", n) => match n {
            "unsupported_format" => aigen(400, "IMAGE_ERROR_UNSUPPORTED_FORMAT: image1"),
            "no_face" => aigen(200, "CAN_NOT_DETECT_FACE: image2"),
            "blurred" => aigen(200, "IMAGE_BLURED: image1"),
            "no_idcard" => aigen(200, "CAN_NOT_DETECT_IDCARD: image1"),
            "unauthorized" => msg(401, "Unauthorized"),
            "forbidden" => msg(403, "Forbidden"),
            "no_credit" => msg(429, "Credit exhausted"),
            _ => None,
        },
        _ => None,
    }
}
