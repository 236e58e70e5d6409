//! Helpers shared by the five answer parsers and request builders: the
//! services' documentation is loose (numbers as strings, `result` as bool or
//! 0/1, errors under any of six member names), so every parser reads values
//! through these, and what none of them accepts is `PROTOCOL`, never a panic.

use super::{HttpResponse, Provider};
use crate::error::{ServiceCode, ServiceError};

/// The answer as JSON, or `PROTOCOL` with an excerpt (HTML error pages,
/// truncated bodies, proxies' plain-text errors).
pub(crate) fn json_body(
    provider: Provider,
    resp: &HttpResponse,
) -> Result<serde_json::Value, ServiceError> {
    serde_json::from_slice(resp.body)
        .map_err(|_| protocol(provider, resp, "the answer is not JSON"))
}

pub(crate) fn protocol(provider: Provider, resp: &HttpResponse, why: &str) -> ServiceError {
    let text = String::from_utf8_lossy(&resp.body[..resp.body.len().min(600)]);
    ServiceError::new(
        provider.name(),
        ServiceCode::Protocol,
        resp.status,
        None,
        &format!("{why}: {text}"),
    )
}

/// A number, or a string holding one (several services send both).
pub(crate) fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().trim_end_matches('%').trim().parse().ok(),
        _ => None,
    }
    .filter(|x: &f64| x.is_finite())
}

/// A bool, or 1/0 (as number or string), or "true"/"false".
pub(crate) fn boolean(v: &serde_json::Value) -> Option<bool> {
    match v {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::Number(n) => n.as_i64().and_then(|i| match i {
            1 => Some(true),
            0 => Some(false),
            _ => None,
        }),
        serde_json::Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A short code as a string, whether sent as a string or a number.
pub(crate) fn code_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The message of an error body, wherever the service put it.
pub(crate) fn error_message(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => [
            "message",
            "error",
            "detail",
            "error_message",
            "errorMessage",
            "msg",
        ]
        .iter()
        .find_map(|k| o.get(*k).and_then(error_message)),
        serde_json::Value::Array(a) => a.first().and_then(error_message),
        _ => None,
    }
}

/// A generic refusal whose message says no face was found becomes `NO_FACE`
/// (services that have no code of their own for it say it in words).
pub(crate) fn no_face_if_said(code: ServiceCode, message: &str) -> ServiceCode {
    let lower = message.to_ascii_lowercase();
    let said = lower.contains("no face") || lower.contains("face not");
    if said && matches!(code, ServiceCode::BadRequest | ServiceCode::ServiceError) {
        ServiceCode::NoFace
    } else {
        code
    }
}

/// `v` cut to the members `fields` names (an object: member → `true` for a
/// value, or an object of its own members). A kept value is a number, a
/// bool, `null`, a string of at most 300 characters, or an array of at most
/// 100 of those; anything else a service sends is dropped.
pub(crate) fn allow_listed(v: &serde_json::Value, fields: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    fn scalar(v: &Value) -> Option<Value> {
        match v {
            Value::String(s) if s.chars().count() <= 300 => Some(v.clone()),
            Value::String(_) | Value::Object(_) | Value::Array(_) => None,
            _ => Some(v.clone()),
        }
    }
    let (Value::Object(have), Value::Object(want)) = (v, fields) else {
        return Value::Null;
    };
    let mut out = serde_json::Map::new();
    for (k, spec) in want {
        let Some(x) = have.get(k) else { continue };
        let kept = match (spec, x) {
            (Value::Object(_), Value::Object(_)) => Some(allow_listed(x, spec)),
            (Value::Bool(true), Value::Array(items)) if items.len() <= 100 => items
                .iter()
                .map(scalar)
                .collect::<Option<Vec<_>>>()
                .map(Value::Array),
            (Value::Bool(true), _) => scalar(x),
            _ => None,
        };
        if let Some(kept) = kept {
            out.insert(k.clone(), kept);
        }
    }
    Value::Object(out)
}

/// A JSON object body: each of `files` as a base64 string member, then the
/// members of `rest` (an object). Written into one buffer sized up front,
/// the base64 encoded straight into it: a 5 MB image costs its base64 once,
/// not three times (string, JSON value, text), which was most of the edge's
/// memory peak for the JSON services.
pub(crate) fn json_with_files(files: &[(&str, &[u8])], rest: &serde_json::Value) -> Vec<u8> {
    use base64::Engine;
    let rest = serde_json::to_string(rest).unwrap_or_else(|_| "{}".into());
    let inner = rest.get(1..rest.len().saturating_sub(1)).unwrap_or("");
    let size: usize = files
        .iter()
        .map(|(k, b)| k.len() + 6 + crate::image::base64_len(b.len()))
        .sum::<usize>()
        + inner.len()
        + 3;
    let mut out = String::with_capacity(size);
    out.push('{');
    for (i, (k, b)) in files.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::Value::from(*k).to_string());
        out.push_str(":\"");
        base64::engine::general_purpose::STANDARD.encode_string(b, &mut out);
        out.push('"');
    }
    if !inner.is_empty() {
        out.push(',');
        out.push_str(inner);
    }
    out.push('}');
    out.into_bytes()
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_values_table() {
        use serde_json::json;
        for (v, want) in [
            (json!(0.96), Some(0.96)),
            (json!("96"), Some(96.0)),
            (json!(" 85.5 % "), Some(85.5)),
            (json!("x"), None),
            (json!(null), None),
        ] {
            assert_eq!(number(&v), want, "{v}");
        }
        for (v, want) in [
            (json!(true), Some(true)),
            (json!(1), Some(true)),
            (json!("0"), Some(false)),
            (json!(2), None),
            (json!("yes"), None),
        ] {
            assert_eq!(boolean(&v), want, "{v}");
        }
        assert_eq!(
            error_message(&json!({"detail": [{"msg": "bad"}]})),
            Some("bad".into())
        );
    }

    #[test]
    fn excerpts_are_bounded() {
        let long = "<html>".repeat(500);
        let e = ServiceError::new("aigen", ServiceCode::Protocol, 502, None, &long);
        assert!(e.message.chars().count() <= ServiceError::MAX_MESSAGE + 1);
    }
}
