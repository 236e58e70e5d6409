//! Options as JavaScript passes them: every field optional, unknown fields
//! refused (a typo must not fall back to a default silently), and the nested
//! `gate` and `detect` merged field by field onto the role's defaults or a
//! service's profile. The wasm bindings (`src/wasm`) are the callers.

use serde::Serialize;

use super::{PrepareOptions, default_detect};
use crate::detect::DetectOptions;
use crate::error::{Error, Result};
use crate::image::Limits;
use crate::quality::{GateConfig, Role};

impl PrepareOptions {
    /// Reads options as JS passes them: every field optional, unknown fields
    /// refused (a typo must not silently fall back to a default), and `gate`
    /// and `detect` merged field by field onto the role's defaults.
    pub fn from_json(value: serde_json::Value) -> Result<Self> {
        Self::from_json_over(None, value)
    }

    /// [`PrepareOptions::from_json`] over a base picked per role (a service's
    /// profile, see `Profile::prepare_options`): the caller's fields win, and
    /// `gate`/`detect` merge onto the base's.
    pub fn from_json_over(
        base: Option<&dyn Fn(Role) -> PrepareOptions>,
        value: serde_json::Value,
    ) -> Result<Self> {
        let Some(base) = base else {
            return Self::from_json_plain(value);
        };
        let mut obj = into_object(value)?;
        let role: Role = match obj.get("role") {
            Some(r) if !r.is_null() => from_value("role", r.clone())?,
            _ => Role::Selfie,
        };
        let base = base(role);
        let gate = obj.remove("gate");
        let detect = obj.remove("detect");
        let mut merged = match serde_json::to_value(&base) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        merged.extend(obj);
        let mut opts: PrepareOptions = from_value("options", serde_json::Value::Object(merged))?;
        if let Some(g) = gate.filter(|g| !g.is_null()) {
            opts.gate = Some(merge("gate", &opts.gate_config(), g)?);
        }
        if let Some(d) = detect.filter(|d| !d.is_null()) {
            opts.detect = Some(merge("detect", &opts.detect_options(), d)?);
        }
        Ok(opts)
    }

    fn from_json_plain(value: serde_json::Value) -> Result<Self> {
        let mut obj = into_object(value)?;
        let gate = obj.remove("gate");
        let detect = obj.remove("detect");
        let mut opts: PrepareOptions = from_value("options", serde_json::Value::Object(obj))?;
        if let Some(g) = gate.filter(|g| !g.is_null()) {
            opts.gate = Some(merge("gate", &GateConfig::for_role(opts.role), g)?);
        }
        if let Some(d) = detect.filter(|d| !d.is_null()) {
            opts.detect = Some(merge("detect", &default_detect(opts.role), d)?);
        }
        Ok(opts)
    }
}

/// Options of a detection call from JS: `{role, limits, ...DetectOptions}`.
pub fn detect_options_from_json(value: serde_json::Value) -> Result<(Role, DetectOptions, Limits)> {
    let mut obj = into_object(value)?;
    let role: Role = match obj.remove("role") {
        Some(r) if !r.is_null() => from_value("role", r)?,
        _ => Role::Selfie,
    };
    let limits: Limits = match obj.remove("limits") {
        Some(l) if !l.is_null() => from_value("limits", l)?,
        _ => Limits::default(),
    };
    let detect = merge(
        "options",
        &default_detect(role),
        serde_json::Value::Object(obj),
    )?;
    Ok((role, detect, limits))
}

fn into_object(value: serde_json::Value) -> Result<serde_json::Map<String, serde_json::Value>> {
    match value {
        serde_json::Value::Null => Ok(Default::default()),
        serde_json::Value::Object(o) => Ok(o),
        _ => Err(Error::invalid("options", "must be an object")),
    }
}

fn from_value<T: serde::de::DeserializeOwned>(
    field: &'static str,
    v: serde_json::Value,
) -> Result<T> {
    serde_json::from_value(v).map_err(|e| Error::invalid(field, e.to_string()))
}

/// Overlays the keys of `overrides` on `base`; unknown keys are refused.
fn merge<T: Serialize + serde::de::DeserializeOwned>(
    field: &'static str,
    base: &T,
    overrides: serde_json::Value,
) -> Result<T> {
    let mut merged =
        serde_json::to_value(base).map_err(|e| Error::invalid(field, e.to_string()))?;
    let (serde_json::Value::Object(m), serde_json::Value::Object(o)) = (&mut merged, overrides)
    else {
        return Err(Error::invalid(field, "must be an object"));
    };
    for (k, v) in o {
        if !m.contains_key(&k) {
            return Err(Error::invalid(field, format!("unknown field `{k}`")));
        }
        m.insert(k, v);
    }
    from_value(field, merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{ModelKind, TileMode};
    use crate::prepare::prepare;

    #[test]
    fn options_over_a_base_keep_the_callers_fields() {
        let base = |role: Role| PrepareOptions {
            role,
            max_bytes: 2_000_000,
            base64: true,
            min_side: 481,
            max_side: 1280,
            ..PrepareOptions::default()
        };
        let o = PrepareOptions::from_json_over(
            Some(&base),
            serde_json::json!({"role": "document", "maxSide": 2000, "gate": {"minSharpness": 3.0}}),
        )
        .unwrap();
        assert_eq!(o.role, Role::Document);
        assert_eq!(
            (o.max_bytes, o.base64, o.min_side, o.max_side),
            (2_000_000, true, 481, 2000)
        );
        let g = o.gate_config();
        assert_eq!(g.min_sharpness, 3.0);
        assert_eq!(
            g.min_face_px,
            GateConfig::for_role(Role::Document).min_face_px
        );
        let e = PrepareOptions::from_json_over(Some(&base), serde_json::json!({"maxbytes": 1}))
            .unwrap_err();
        assert_eq!(e.code(), "INVALID_OPTIONS");
    }

    #[test]
    fn options_from_js_objects() {
        use serde_json::json;
        let o = PrepareOptions::from_json(
            json!({"role": "document", "maxBytes": 2000000, "gate": {"minFacePx": 160}}),
        )
        .unwrap();
        assert_eq!(o.role, Role::Document);
        assert_eq!(o.max_bytes, 2_000_000);
        let g = o.gate.unwrap();
        assert_eq!(g.min_face_px, 160.0);
        assert_eq!(
            g.max_roll_degrees,
            GateConfig::for_role(Role::Document).max_roll_degrees
        );
        assert_eq!(
            PrepareOptions::from_json(json!(null)).unwrap(),
            PrepareOptions::default()
        );
        for bad in [
            json!({"maxbytes": 1}),
            json!({"gate": {"minFace": 1}}),
            json!({"role": "cat"}),
            json!([1]),
            json!({"maxBytes": "big"}),
        ] {
            assert_eq!(
                PrepareOptions::from_json(bad.clone()).unwrap_err().code(),
                "INVALID_OPTIONS",
                "{bad}"
            );
        }
        let (role, d, _) =
            detect_options_from_json(json!({"role": "document", "tiles": "auto"})).unwrap();
        assert_eq!(
            (role, d.model, d.tiles),
            (Role::Document, ModelKind::Full, TileMode::Auto)
        );
        assert!(detect_options_from_json(json!({"tile": "auto"})).is_err());
    }

    #[test]
    fn invalid_options_are_typed() {
        for o in [
            PrepareOptions {
                max_bytes: 10,
                ..Default::default()
            },
            PrepareOptions {
                min_side: 2000,
                max_side: 1000,
                ..Default::default()
            },
            PrepareOptions {
                min_quality: 95,
                max_quality: 90,
                ..Default::default()
            },
            PrepareOptions {
                crop_margin: -1.0,
                ..Default::default()
            },
        ] {
            assert_eq!(
                prepare(b"\xff\xd8\xff", &o).unwrap_err().code(),
                "INVALID_OPTIONS"
            );
        }
    }
}
