//! One photo in, the bytes to send out: decode → orient → detect → gate →
//! crop → resize → JPEG within a byte budget.
//!
//! ```no_run
//! # fn main() -> Result<(), facebridge::Error> {
//! use facebridge::prepare::{prepare, PrepareOptions};
//! use facebridge::quality::Role;
//! let bytes = std::fs::read("selfie.jpg").unwrap();
//! let out = prepare(&bytes, &PrepareOptions { role: Role::Selfie, max_bytes: 2_000_000, ..Default::default() })?;
//! println!("{} bytes, {}×{}, q{}", out.bytes.len(), out.report.width, out.report.height, out.report.jpeg_quality);
//! # Ok(()) }
//! ```

use serde::{Deserialize, Serialize};

use crate::detect::{self, DetectOptions, Detector, Face, ModelKind, TileMode};
use crate::error::{Error, GateFailure, QualityError, Result};
use crate::image::{self, Budget, DecodeTarget, Format, Limits, Rect, base64_len};
use crate::quality::{GateConfig, QualityReport, Role, assess};

mod json;
pub use json::detect_options_from_json;

/// How to make one photo fit a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct PrepareOptions {
    pub role: Role,
    /// Byte budget of the output JPEG (default 5 MB).
    pub max_bytes: usize,
    /// Count `max_bytes` on the base64 encoding (services that take JSON).
    pub base64: bool,
    /// Longest side of the output, at most. A larger photo comes out at this
    /// side, or up to 1/32 under it when that lets the JPEG decode at 1/2,
    /// 1/4 or 1/8 scale (a 4032-px photo at 2048 gives 2016). Default 1280:
    /// more detail than any face matcher uses, and it keeps uploads small on
    /// mobile networks.
    pub max_side: u32,
    /// Shortest side of the output (AIGEN needs more than 480). The crop
    /// grows to reach it; the image is upscaled only when the photo is smaller.
    pub min_side: u32,
    /// Smallest face box in the output, in its pixels (AIGEN: over 112). The
    /// output is kept large enough for it, never upscaled past the original.
    pub min_face_px_out: f32,
    /// Selfie crop: space added on each side of the face box, as a share of
    /// the face size. 0.6 gives a head-and-shoulders crop about 2.2 faces wide.
    pub crop_margin: f32,
    /// Best and worst JPEG quality tried before downscaling.
    pub max_quality: u8,
    pub min_quality: u8,
    /// Gate thresholds; `None` uses the role's defaults.
    pub gate: Option<GateConfig>,
    /// Refuse photos that fail the gate (default). Turn off only to inspect.
    pub enforce_gate: bool,
    /// Detector settings; `None` uses the role's defaults.
    pub detect: Option<DetectOptions>,
    pub limits: Limits,
}

impl Default for PrepareOptions {
    fn default() -> Self {
        PrepareOptions {
            role: Role::Selfie,
            max_bytes: 5_000_000,
            base64: false,
            max_side: 1280,
            min_side: 0,
            min_face_px_out: 0.0,
            crop_margin: 0.6,
            max_quality: 92,
            min_quality: 60,
            gate: None,
            enforce_gate: true,
            detect: None,
            limits: Limits::default(),
        }
    }
}

impl PrepareOptions {
    pub fn gate_config(&self) -> GateConfig {
        self.gate.unwrap_or_else(|| GateConfig::for_role(self.role))
    }
    pub fn detect_options(&self) -> DetectOptions {
        self.detect.unwrap_or_else(|| default_detect(self.role))
    }
    fn validate(&self) -> Result<()> {
        if self.max_bytes < 1024 {
            return Err(Error::invalid("maxBytes", "must be at least 1024"));
        }
        if self.max_side == 0 || (self.min_side > self.max_side) {
            return Err(Error::invalid(
                "maxSide",
                "must be positive and at least minSide",
            ));
        }
        if !(0.0..=3.0).contains(&self.crop_margin) {
            return Err(Error::invalid("cropMargin", "must be between 0 and 3"));
        }
        if self.min_quality == 0 || self.min_quality > self.max_quality || self.max_quality > 100 {
            return Err(Error::invalid(
                "minQuality",
                "need 1 ≤ minQuality ≤ maxQuality ≤ 100",
            ));
        }
        Ok(())
    }
}

/// The detector settings each role starts from: the short-range model for a
/// selfie (face near the camera), the full-range one for a card (small face).
pub fn default_detect(role: Role) -> DetectOptions {
    match role {
        Role::Selfie => DetectOptions::default(),
        Role::Document => DetectOptions {
            model: ModelKind::Full,
            tiles: TileMode::Off,
            ..DetectOptions::default()
        },
    }
}

/// The source photo as it came in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceInfo {
    pub format: Format,
    pub width: u32,
    pub height: u32,
    pub orientation: u8,
    /// The JPEG IDCT scale used for decoding (1, 1/2, 1/4 or 1/8).
    pub decode_scale: f32,
}

/// What `prepare` did, for the UI and for logs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrepareReport {
    pub role: Role,
    pub mime: &'static str,
    /// Size of the JPEG file.
    pub bytes: usize,
    /// Size of its base64 encoding.
    pub base64_bytes: usize,
    pub width: u32,
    pub height: u32,
    pub jpeg_quality: u8,
    /// Encodes of the whole image spent meeting the budget. (A large image's
    /// search also encodes an eighth of its rows a few times: not counted.)
    pub encodes: u32,
    /// The region of the upright original that was kept.
    pub crop: Rect,
    pub source: SourceInfo,
    pub quality: QualityReport,
    /// Failed gate checks (empty when the photo passed).
    pub gate: Vec<GateFailure>,
    /// The main face in the output image's pixels.
    pub face: Option<Face>,
}

/// A photo ready to send.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub bytes: Vec<u8>,
    pub report: PrepareReport,
}

/// Detection on a photo, with its quality report and gate verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DetectionReport {
    pub width: u32,
    pub height: u32,
    /// The photo's container and decoding; absent for raw pixels (camera frames).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceInfo>,
    pub faces: Vec<Face>,
    pub quality: QualityReport,
    pub gate: Vec<GateFailure>,
}

/// Long side decoded for detection alone: enough for the gate's sharpness
/// measure on a face a fifth of the frame wide, and for 512 px tiles.
const DETECT_DECODE_LONG_SIDE: u32 = 1024;
const DETECT_DECODE_LONG_SIDE_TILED: u32 = 2048;

/// Detects faces in a photo and runs the quality gate (without refusing).
pub fn detect_photo(
    detector: &Detector,
    bytes: &[u8],
    role: Role,
    opts: &DetectOptions,
    limits: &Limits,
) -> Result<DetectionReport> {
    let target = if opts.tiles == TileMode::Auto {
        DETECT_DECODE_LONG_SIDE_TILED
    } else {
        DETECT_DECODE_LONG_SIDE
    };
    let decoded = image::decode(
        bytes,
        limits,
        DecodeTarget {
            min_long_side: Some(target),
        },
    )?;
    detect_decoded(detector, &decoded, role, opts)
}

/// [`detect_photo`] on a photo decoded already (a PNG or WebP file that the
/// browser package decoded with its formats wasm, [`image::decode_external`]).
pub fn detect_decoded(
    detector: &Detector,
    decoded: &image::Decoded,
    role: Role,
    opts: &DetectOptions,
) -> Result<DetectionReport> {
    let source = Some(source_info(decoded));
    detect_image(detector, &decoded.image, decoded.scale, source, role, opts)
}

/// Detects faces in an already decoded image (a photo at `scale` of its
/// original size, or a camera frame at 1.0) and runs the gate without refusing.
///
/// `img` is an [`RgbImage`](crate::image::RgbImage) or an
/// [`ImageView`](crate::image::ImageView) (a camera frame's RGBA, read in place).
pub fn detect_image<'a>(
    detector: &Detector,
    img: impl Into<crate::image::ImageView<'a>>,
    scale: f32,
    source: Option<SourceInfo>,
    role: Role,
    opts: &DetectOptions,
) -> Result<DetectionReport> {
    detect_view(detector, img.into(), scale, source, role, opts)
}

/// [`detect_image`], one copy of the code for every kind of image.
fn detect_view(
    detector: &Detector,
    img: crate::image::ImageView,
    scale: f32,
    source: Option<SourceInfo>,
    role: Role,
    opts: &DetectOptions,
) -> Result<DetectionReport> {
    let (width, height) = match &source {
        Some(s) => (s.width, s.height),
        None => img.dimensions(),
    };
    let faces = detector.detect(img, opts)?;
    let quality = assess(img, scale, width, height, &faces);
    let gate = GateConfig::for_role(role).check(&quality);
    Ok(DetectionReport {
        width,
        height,
        source,
        faces: quality.faces.clone(),
        quality,
        gate,
    })
}

fn source_info(d: &image::Decoded) -> SourceInfo {
    SourceInfo {
        format: d.format,
        width: d.width,
        height: d.height,
        orientation: d.orientation,
        decode_scale: d.scale,
    }
}

/// [`prepare_with`] on the embedded detector.
pub fn prepare(bytes: &[u8], opts: &PrepareOptions) -> Result<Prepared> {
    prepare_with(detect::shared(), bytes, opts)
}

/// Turns one photo into a JPEG that fits `opts`, or says why it cannot.
pub fn prepare_with(detector: &Detector, bytes: &[u8], opts: &PrepareOptions) -> Result<Prepared> {
    prepare_from(detector, bytes, None, opts)
}

/// [`prepare_with`] on a photo decoded already, at full size (a PNG or WebP
/// file that the browser package decoded with its formats wasm,
/// [`image::decode_external`]).
pub fn prepare_decoded(
    detector: &Detector,
    decoded: image::Decoded,
    opts: &PrepareOptions,
) -> Result<Prepared> {
    if decoded.scale != 1.0 {
        return Err(Error::invalid(
            "input",
            "a photo decoded at reduced scale cannot be prepared without its bytes",
        ));
    }
    prepare_from(detector, &[], Some(decoded), opts)
}

/// `first`: the photo decoded already, at full size; else `bytes` are.
fn prepare_from(
    detector: &Detector,
    bytes: &[u8],
    first: Option<image::Decoded>,
    opts: &PrepareOptions,
) -> Result<Prepared> {
    opts.validate()?;
    let want_side = opts.max_side.max(opts.min_side);
    // A selfie crop is rarely under 40 % of the photo's long side; decoding
    // that much resolution is enough. A 12 MP JPEG then decodes at 1/2 for
    // an output up to 806 px, and in full at the default 1280 (a face under
    // 37 % of the short side would need the full decode anyway).
    let target = match opts.role {
        Role::Document => want_side,
        Role::Selfie => (want_side as f32 / 0.4).ceil() as u32,
    };
    let mut decoded = match first {
        Some(d) => d,
        None => image::decode(
            bytes,
            &opts.limits,
            DecodeTarget {
                min_long_side: Some(nearly(target)),
            },
        )?,
    };
    let detect_opts = opts.detect_options();
    let faces = detector.detect(&decoded.image, &detect_opts)?;
    let quality = assess(
        &decoded.image,
        decoded.scale,
        decoded.width,
        decoded.height,
        &faces,
    );
    let gate = opts.gate_config().check(&quality);
    if opts.enforce_gate && !gate.is_empty() {
        return Err(QualityError {
            failures: gate,
            report: Box::new(quality),
        }
        .into());
    }

    let crop = crop_region(opts, &quality);
    // The crop needs more pixels than the reduced decode has (for the long
    // side, the short side or the service's face size): decode again in full.
    let s = decoded.scale;
    if s < 1.0
        && (crop.w.max(crop.h) * s < nearly(want_side) as f32
            || crop.w.min(crop.h) * s < opts.min_side as f32
            || quality
                .primary
                .as_ref()
                .is_some_and(|f| f.size_px * s < opts.min_face_px_out))
    {
        decoded = image::decode(bytes, &opts.limits, DecodeTarget::default())?;
    }
    let (cx, cy, cw, ch) = crop
        .scaled(decoded.scale)
        .clamp_to(decoded.image.width(), decoded.image.height());
    if cw == 0 || ch == 0 {
        return Err(Error::invalid(
            "cropMargin",
            "the crop around the face is empty",
        ));
    }
    let mut k = output_scale(cw, ch, opts);
    if let Some(face) = &quality.primary {
        // Keep the face as large as the service needs, up to the original's size.
        let face_px = face.size_px * decoded.scale;
        if face_px * k < opts.min_face_px_out {
            k = (opts.min_face_px_out / face_px).min(1.0).max(k);
        }
    }
    let (ow, oh) = (
        ((cw as f32 * k).round() as u32).max(1),
        ((ch as f32 * k).round() as u32).max(1),
    );
    // Straight from the decoded image: no copy of the crop first, and for a
    // whole document at its own size, no copy at all.
    let resized_owned;
    let resized = if (cx, cy, cw, ch, ow, oh)
        == (0, 0, decoded.image.width(), decoded.image.height(), cw, ch)
    {
        &decoded.image
    } else {
        resized_owned = image::resize_region_rgb(&decoded.image, (cx, cy, cw, ch), ow, oh)?;
        &resized_owned
    };
    let budget = Budget {
        max_bytes: opts.max_bytes,
        base64: opts.base64,
        max_quality: opts.max_quality,
        min_quality: opts.min_quality,
        min_side: opts.min_side.max(64),
    };
    let enc = image::encode_to_budget(resized, &budget)?;
    // The main face in output pixels, for overlays and for services' face-size rules.
    let to_out = enc.width as f32 / crop.w;
    let face = quality.faces.first().map(|f| {
        let mut g = f.clone();
        g.bbox = Rect {
            x: (f.bbox.x - crop.x) * to_out,
            y: (f.bbox.y - crop.y) * to_out,
            w: f.bbox.w * to_out,
            h: f.bbox.h * to_out,
        };
        g.landmarks = f
            .landmarks
            .map(|[x, y]| [(x - crop.x) * to_out, (y - crop.y) * to_out]);
        g
    });
    let report = PrepareReport {
        role: opts.role,
        mime: "image/jpeg",
        bytes: enc.bytes.len(),
        base64_bytes: base64_len(enc.bytes.len()),
        width: enc.width,
        height: enc.height,
        jpeg_quality: enc.quality,
        encodes: enc.encodes,
        crop,
        source: source_info(&decoded),
        quality,
        gate,
        face,
    };
    Ok(Prepared {
        bytes: enc.bytes,
        report,
    })
}

/// The long side a reduced-scale decode must reach for an output of `side`:
/// up to 1/32 short of it. Phone photos are 4000–4080 or 8064–8160 px wide,
/// so at the common limit of 2048 the exact rule decoded them in full to cut
/// 1.6–2.3 % off; now they decode at 1/2 or 1/4 (a third less time for a
/// 12 MP photo, a quarter of the memory) and come out 1.6–2.3 % smaller.
/// Only `max_side` bends: `min_side` and `min_face_px_out` are kept exactly.
fn nearly(side: u32) -> u32 {
    side - side / 32
}

/// The part of the upright original to keep, in its pixels.
fn crop_region(opts: &PrepareOptions, q: &QualityReport) -> Rect {
    let (w, h) = (q.width as f32, q.height as f32);
    let whole = Rect {
        x: 0.0,
        y: 0.0,
        w,
        h,
    };
    let (Role::Selfie, Some(face)) = (opts.role, &q.primary) else {
        return whole;
    };
    let size = face.size_px;
    // Portrait 4:5, the face a little above the centre (room for the chin and neck).
    let mut cw = size * (1.0 + 2.0 * opts.crop_margin);
    let mut ch = cw * 1.25;
    // Grow to the minimum output size when the photo has the pixels.
    let min = opts.min_side as f32;
    if cw < min {
        ch *= min / cw;
        cw = min;
    }
    cw = cw.min(w);
    ch = ch.min(h);
    let (fx, fy) = face.bbox.center();
    let x = (fx - cw / 2.0).clamp(0.0, w - cw);
    let y = (fy + size * 0.1 - ch / 2.0).clamp(0.0, h - ch);
    Rect { x, y, w: cw, h: ch }
}

/// Output scale: shrink to `max_side`, grow to `min_side` (the two cannot
/// conflict: `validate` checks min ≤ max).
fn output_scale(w: u32, h: u32, opts: &PrepareOptions) -> f32 {
    let long = w.max(h) as f32;
    let short = w.min(h) as f32;
    let mut k = (opts.max_side as f32 / long).min(1.0);
    if short * k < opts.min_side as f32 {
        k = opts.min_side as f32 / short;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_scale_table() {
        let o = |max_side, min_side| PrepareOptions {
            max_side,
            min_side,
            ..Default::default()
        };
        assert_eq!(output_scale(4000, 3000, &o(1000, 0)), 0.25);
        assert_eq!(output_scale(400, 300, &o(1000, 0)), 1.0);
        assert_eq!(output_scale(400, 300, &o(1000, 600)), 2.0);
        assert!((output_scale(3000, 400, &o(1000, 481)) - 481.0 / 400.0).abs() < 1e-6);
    }
}
