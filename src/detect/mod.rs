//! Face detection with BlazeFace: tract reads the ONNX models and compiles
//! them to layers of our own (`net`, `ops`), which is what runs.
//!
//! ```no_run
//! # fn main() -> Result<(), facebridge::Error> {
//! use facebridge::detect::{Detector, DetectOptions};
//! let photo = facebridge::image::decode(&std::fs::read("selfie.jpg").unwrap(),
//!     &Default::default(), Default::default())?;
//! let faces = Detector::embedded().detect(&photo.image, &DetectOptions::default())?;
//! println!("{} face(s), first at {:?}", faces.len(), faces.first().map(|f| f.bbox));
//! # Ok(()) }
//! ```
//!
//! The image is letterboxed into the model's square input (no aspect
//! distortion), decoded against MediaPipe's anchors and merged with weighted
//! NMS. Boxes and landmarks come back in pixels of the image passed in.
//!
//! **Small faces.** BlazeFace sees a 128² or 256² copy of the whole frame, so a
//! face under ~6 % of the long side (a standing person in a tall photo, the
//! people at the back of a group) falls below what it can find. With
//! [`TileMode::Auto`] the frame is also cut into overlapping square tiles of
//! half the short side, each run through the full-range model, and the
//! detections are merged with the whole-frame ones. Tiling costs one inference
//! per tile, so it is on for still photos where counting every face matters
//! (the CLI, the document role) and off for the camera loop.

#[cfg(feature = "onnx")]
mod compile;
mod decode;
mod model;
mod net;
mod ops;

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

pub use model::ModelKind;
#[cfg(feature = "onnx")]
pub use model::onnx_to_fbnet;

use crate::error::DetectError;
#[cfg(test)]
use crate::image::RgbImage;
use crate::image::{Filter, ImageView, Rect};

#[cfg(all(feature = "embed-short", feature = "onnx"))]
static SHORT_MODEL: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/models/blazeface_front_128.onnx"
));
#[cfg(all(feature = "embed-full", feature = "onnx"))]
static FULL_MODEL: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/models/blazeface_back_256.onnx"
));
// Without the ONNX front end (the wasm build), the networks that
// scripts/build-wasm.sh compiles from the same ONNX files.
#[cfg(all(feature = "embed-short", not(feature = "onnx")))]
static SHORT_MODEL: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/models/blazeface_front_128.fbnet"
));
#[cfg(all(feature = "embed-full", not(feature = "onnx")))]
static FULL_MODEL: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/models/blazeface_back_256.fbnet"
));
/// The full-range `.fbnet` this build was made with, when it does not embed
/// it: what a network fetched from the package must hash to.
#[cfg(not(feature = "embed-full"))]
static FULL_MODEL_SHA256: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/models/blazeface_back_256.fbnet.sha256"
));

/// The file name of a model's `.fbnet` network, as the npm package ships it.
pub fn model_file_name(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Short => "blazeface_front_128.fbnet",
        ModelKind::Full => "blazeface_back_256.fbnet",
    }
}

/// The SHA-256 (lower-case hex) that a network of this build's package must
/// have, for a model this build does not embed; `None` when it is embedded.
pub fn published_model_sha256(kind: ModelKind) -> Option<&'static str> {
    match kind {
        #[cfg(not(feature = "embed-full"))]
        ModelKind::Full => Some(FULL_MODEL_SHA256.trim()),
        _ => None,
    }
}

/// SHA-256 in lower-case hex, as the `.fbnet.sha256` files hold it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks that `bytes` are the network this build's package ships for `kind`;
/// always passes for a model the build embeds (it publishes no digest).
pub fn check_published_model(kind: ModelKind, bytes: &[u8]) -> Result<(), DetectError> {
    match published_model_sha256(kind) {
        Some(expected) => {
            let actual = sha256_hex(bytes);
            if actual == expected {
                Ok(())
            } else {
                Err(DetectError::ModelMismatch {
                    file: model_file_name(kind),
                    expected,
                    actual,
                })
            }
        }
        None => Ok(()),
    }
}

/// One detected face, in pixels of the image it was found in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Face {
    #[serde(rename = "box")]
    pub bbox: Rect,
    /// Detector confidence, 0..1.
    pub score: f32,
    /// Six points: right eye, left eye, nose tip, mouth centre, right ear
    /// tragion, left ear tragion ("right" is the subject's right, on the
    /// viewer's left in an unmirrored photo).
    pub landmarks: [[f32; 2]; 6],
}

impl Face {
    /// Scales every coordinate by `k` (to go from a reduced decode to the original).
    pub fn scaled(&self, k: f32) -> Face {
        Face {
            bbox: self.bbox.scaled(k),
            score: self.score,
            landmarks: self.landmarks.map(|[x, y]| [x * k, y * k]),
        }
    }
    /// Roll in degrees from the eye line; positive when the subject's head
    /// leans towards their left shoulder (clockwise in the image).
    pub fn roll_degrees(&self) -> f32 {
        let [rx, ry] = self.landmarks[0];
        let [lx, ly] = self.landmarks[1];
        (ly - ry).atan2(lx - rx).to_degrees()
    }
    /// Yaw in degrees from where the nose tip falls between the ears: 0 when
    /// it is halfway (facing the camera), ±90 when it is over an ear (the
    /// head as a cylinder); positive when the subject turns towards their
    /// left (the nose nearer their left ear). Coarse (BlazeFace's ear points
    /// are the least precise), and enough to tell "look at the camera".
    pub fn yaw_degrees(&self) -> f32 {
        let [rx, ry] = self.landmarks[4];
        let [lx, ly] = self.landmarks[5];
        let [nx, ny] = self.landmarks[2];
        let (ex, ey) = (lx - rx, ly - ry);
        let len2 = ex * ex + ey * ey;
        let t = ((nx - rx) * ex + (ny - ry) * ey) / len2;
        if !t.is_finite() {
            return 0.0; // the ears on one point (or NaN landmarks)
        }
        (2.0 * t - 1.0).clamp(-1.0, 1.0).asin().to_degrees()
    }
}

/// Whether to tile the frame to find small faces; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TileMode {
    #[default]
    Off,
    Auto,
}

/// Detection settings. The defaults suit a selfie.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DetectOptions {
    pub model: ModelKind,
    /// Lowest score kept; `None` uses MediaPipe's value for the model.
    pub min_score: Option<f32>,
    /// Overlap above which detections merge (MediaPipe: 0.3).
    pub iou_threshold: f32,
    pub tiles: TileMode,
}

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions {
            model: ModelKind::Short,
            min_score: None,
            iou_threshold: 0.3,
            tiles: TileMode::Off,
        }
    }
}

struct Slot {
    kind: ModelKind,
    bytes: Option<Vec<u8>>,
    embedded: Option<&'static [u8]>,
    model: OnceLock<Result<net::Net, String>>,
    anchors: OnceLock<Vec<decode::Anchor>>,
}

impl Slot {
    fn new(kind: ModelKind, bytes: Option<Vec<u8>>, embedded: Option<&'static [u8]>) -> Self {
        Slot {
            kind,
            bytes,
            embedded,
            model: OnceLock::new(),
            anchors: OnceLock::new(),
        }
    }
    fn available(&self) -> bool {
        self.model.get().is_some() || self.bytes.is_some() || self.embedded.is_some()
    }
    /// Builds the plan on first use and keeps it: loading costs far more than a run.
    fn get(&self) -> Result<&net::Net, DetectError> {
        let loaded = match self.bytes.as_deref().or(self.embedded) {
            Some(bytes) => self
                .model
                .get_or_init(|| model::load(self.kind, bytes).map_err(|e| e.to_string())),
            // Supplied later (`Detector::supply_model`), or not at all.
            None => self.model.get().ok_or(DetectError::NotEmbedded {
                which: self.kind.name(),
            })?,
        };
        match loaded {
            Ok(m) => Ok(m),
            Err(reason) => Err(DetectError::ModelLoad {
                reason: reason.clone(),
            }),
        }
    }
    fn supply(&self, bytes: &[u8]) -> Result<(), DetectError> {
        if self.model.get().is_some() {
            return Ok(());
        }
        // Loaded before it is kept: bytes that fail leave the slot as it was.
        let net = model::load(self.kind, bytes)?;
        let _ = self.model.set(Ok(net));
        Ok(())
    }
    fn anchors(&self) -> &[decode::Anchor] {
        self.anchors.get_or_init(|| decode::anchors(self.kind))
    }
}

/// Both BlazeFace models, each loaded on first use and reused after.
pub struct Detector {
    short: Slot,
    full: Slot,
}

/// How a square model input maps back to the source image.
#[derive(Debug, Clone, Copy)]
struct Letterbox {
    x0: f32,
    y0: f32,
    /// Source pixels per model-input pixel.
    inv_scale: f32,
    pad_x: f32,
    pad_y: f32,
    size: f32,
}

impl Letterbox {
    fn map_to_source(&self, xn: f32, yn: f32) -> (f32, f32) {
        (
            self.x0 + (xn * self.size - self.pad_x) * self.inv_scale,
            self.y0 + (yn * self.size - self.pad_y) * self.inv_scale,
        )
    }
}

impl Detector {
    /// The models compiled into this build (features `embed-short` and
    /// `embed-full`, both on by default; the wasm has the short range only).
    pub fn embedded() -> Self {
        #[cfg(feature = "embed-short")]
        let s = Some(SHORT_MODEL);
        #[cfg(not(feature = "embed-short"))]
        let s: Option<&'static [u8]> = None;
        #[cfg(feature = "embed-full")]
        let f = Some(FULL_MODEL);
        #[cfg(not(feature = "embed-full"))]
        let f: Option<&'static [u8]> = None;
        Detector {
            short: Slot::new(ModelKind::Short, None, s),
            full: Slot::new(ModelKind::Full, None, f),
        }
    }

    /// Models from bytes: `.fbnet` files (see `onnx_to_fbnet`), or the
    /// BlazeFace ONNX files unchanged in builds with the `onnx` feature. A
    /// `None` falls back to the embedded model, if this build has it.
    pub fn from_model_bytes(short: Option<Vec<u8>>, full: Option<Vec<u8>>) -> Self {
        let e = Detector::embedded();
        Detector {
            short: Slot::new(ModelKind::Short, short, e.short.embedded),
            full: Slot::new(ModelKind::Full, full, e.full.embedded),
        }
    }

    fn slot(&self, kind: ModelKind) -> &Slot {
        match kind {
            ModelKind::Short => &self.short,
            ModelKind::Full => &self.full,
        }
    }

    /// Loads a model now instead of at the first detection.
    pub fn warm_up(&self, kind: ModelKind) -> Result<(), DetectError> {
        self.slot(kind).get().map(|_| ())
    }

    /// Whether `kind` can run without more bytes: embedded, passed in, or
    /// supplied since.
    pub fn has_model(&self, kind: ModelKind) -> bool {
        self.slot(kind).available()
    }

    /// Supplies a model this detector was built without (the wasm fetches the
    /// full-range network on first use). The bytes are loaded and checked now;
    /// bytes that fail are an error and change nothing. A model already
    /// loaded is kept, and the bytes ignored.
    pub fn supply_model(&self, kind: ModelKind, bytes: &[u8]) -> Result<(), DetectError> {
        self.slot(kind).supply(bytes)
    }

    /// The models a detection with `opts` runs: its model, and the full-range
    /// one for the tiles.
    pub fn models_for(opts: &DetectOptions) -> Vec<ModelKind> {
        let mut kinds = vec![opts.model];
        if opts.tiles == TileMode::Auto && opts.model != ModelKind::Full {
            kinds.push(ModelKind::Full);
        }
        kinds
    }

    /// Finds faces in `img`; boxes and landmarks are in `img`'s pixels,
    /// best score first.
    ///
    /// `img` is an [`RgbImage`](crate::image::RgbImage) or an [`ImageView`] (a camera frame's RGBA,
    /// read in place).
    pub fn detect<'a>(
        &self,
        img: impl Into<ImageView<'a>>,
        opts: &DetectOptions,
    ) -> Result<Vec<Face>, DetectError> {
        self.detect_view(img.into(), opts)
    }

    /// [`Detector::detect`], one copy of the code for every kind of image.
    fn detect_view(&self, img: ImageView, opts: &DetectOptions) -> Result<Vec<Face>, DetectError> {
        let (w, h) = img.dimensions();
        if w == 0 || h == 0 {
            return Ok(Vec::new());
        }
        let mut raw = self.run_region(&img, opts.model, opts, (0, 0, w, h), false)?;
        if opts.tiles == TileMode::Auto {
            for region in tiles(w, h, ModelKind::Full.input_size() as u32) {
                raw.extend(self.run_region(&img, ModelKind::Full, opts, region, true)?);
            }
        }
        let merged = decode::weighted_nms(raw, opts.iou_threshold);
        Ok(merged
            .into_iter()
            .map(|d| Face {
                bbox: Rect {
                    x: d.bbox[0],
                    y: d.bbox[1],
                    w: d.bbox[2] - d.bbox[0],
                    h: d.bbox[3] - d.bbox[1],
                },
                score: d.score,
                landmarks: d.keypoints,
            })
            .collect())
    }

    /// Runs one model on one region; detections come back in image pixels.
    fn run_region(
        &self,
        img: &ImageView,
        kind: ModelKind,
        opts: &DetectOptions,
        region: (u32, u32, u32, u32),
        is_tile: bool,
    ) -> Result<Vec<decode::RawDetection>, DetectError> {
        let slot = self.slot(kind);
        let net = slot.get()?;
        let (input, lb) = letterbox(img, region, kind.input_size())?;
        let outputs = net
            .run(input)
            .map_err(|reason| DetectError::Inference { reason })?;
        let [s_fine, s_coarse, b_fine, b_coarse] = &outputs.0;
        let scores: Vec<f32> = s_fine.iter().chain(s_coarse).copied().collect();
        let boxes: Vec<f32> = b_fine.iter().chain(b_coarse).copied().collect();
        let min_score = opts.min_score.unwrap_or(kind.default_min_score());
        let dets = decode::decode(kind, slot.anchors(), &scores, &boxes, min_score);
        let (rx, ry, rw, rh) = region;
        let (iw, ih) = img.dimensions();
        let mut out = Vec::with_capacity(dets.len());
        for d in dets {
            let (x0, y0) = lb.map_to_source(d.bbox[0], d.bbox[1]);
            let (x1, y1) = lb.map_to_source(d.bbox[2], d.bbox[3]);
            if is_tile {
                // A face cut by a tile's inner edge is half a face: the
                // neighbouring tile or the whole-frame pass sees all of it.
                let m = 0.02 * rw.max(rh) as f32;
                let cut = (x0 < rx as f32 + m && rx > 0)
                    || (y0 < ry as f32 + m && ry > 0)
                    || (x1 > (rx + rw) as f32 - m && rx + rw < iw)
                    || (y1 > (ry + rh) as f32 - m && ry + rh < ih);
                // A face this large relative to the tile is plainly visible to
                // the whole-frame pass; a tile's zoomed-in view of it adds only
                // false positives on textured background.
                let big = (x1 - x0).max(y1 - y0) > 0.4 * rw.max(rh) as f32;
                if cut || big {
                    continue;
                }
            }
            let keypoints = d.keypoints.map(|[x, y]| {
                let (sx, sy) = lb.map_to_source(x, y);
                [sx, sy]
            });
            out.push(decode::RawDetection {
                score: d.score,
                bbox: [x0, y0, x1, y1],
                keypoints,
            });
        }
        Ok(out)
    }
}

/// Overlapping square tiles of half the short side (at least `min_side`),
/// 25 % overlap. None when the frame is too small to gain from tiling.
fn tiles(w: u32, h: u32, min_side: u32) -> Vec<(u32, u32, u32, u32)> {
    let side = (w.min(h) / 2).max(min_side);
    if side * 2 > w.max(h) && side >= w.min(h) {
        return Vec::new();
    }
    let starts = |len: u32| -> Vec<u32> {
        if len <= side {
            return vec![0];
        }
        let step = side * 3 / 4;
        let n = (len - side).div_ceil(step) + 1;
        (0..n)
            .map(|i| ((len - side) as u64 * i as u64 / (n - 1).max(1) as u64) as u32)
            .collect()
    };
    let mut out = Vec::new();
    for y in starts(h) {
        for x in starts(w) {
            out.push((x, y, side.min(w), side.min(h)));
        }
    }
    out
}

/// Resizes `region` of `img` into the model's square input, keeping its aspect
/// ratio and padding with black, as RGB in [-1, 1]: three `size`² planes.
///
/// Never inlined: see `Net::run`.
#[inline(never)]
fn letterbox(
    img: &ImageView,
    region: (u32, u32, u32, u32),
    size: usize,
) -> Result<(Vec<f32>, Letterbox), DetectError> {
    let (rx, ry, rw, rh) = region;
    let k = size as f32 / rw.max(rh) as f32;
    let nw = ((rw as f32 * k).round() as u32).clamp(1, size as u32);
    let nh = ((rh as f32 * k).round() as u32).clamp(1, size as u32);
    // Bilinear samples, not area averaging: what MediaPipe's own
    // pre-processing does. Measured (benches/anchors.mjs): median IoU with
    // legacy MediaPipe's boxes 0.869 → 0.911 and the same faces found; on a
    // large face the boxes agree within 0.03 px.
    let dst = crate::image::resize_region(*img, region, nw, nh, Filter::Bilinear).map_err(|e| {
        DetectError::Inference {
            reason: format!("letterbox: {e}"),
        }
    })?;
    let pad_x = (size as u32 - nw) / 2;
    let pad_y = (size as u32 - nh) / 2;
    let mut data = vec![-1.0f32; size * size * 3];
    let pixels = dst.as_raw();
    let plane = size * size;
    for y in 0..nh as usize {
        let row = &pixels[y * nw as usize * 3..(y + 1) * nw as usize * 3];
        let start = (y + pad_y as usize) * size + pad_x as usize;
        for (x, px) in row.chunks_exact(3).enumerate() {
            for (c, &v) in px.iter().enumerate() {
                data[c * plane + start + x] = v as f32 * (2.0 / 255.0) - 1.0;
            }
        }
    }
    // Source pixels per input pixel, from the rounded content size.
    let lb = Letterbox {
        x0: rx as f32,
        y0: ry as f32,
        inv_scale: rw as f32 / nw as f32,
        pad_x: pad_x as f32,
        pad_y: pad_y as f32,
        size: size as f32,
    };
    Ok((data, lb))
}

/// The embedded detector, built once per process (or wasm instance).
pub fn shared() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(Detector::embedded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "embed-full")]
    #[test]
    fn a_model_supplied_later_is_checked_first_and_then_used() {
        let d = Detector {
            short: Slot::new(ModelKind::Short, None, None),
            full: Slot::new(ModelKind::Full, None, None),
        };
        let img = RgbImage::from_pixel(64, 48, image::Rgb([90, 90, 90]));
        let full = DetectOptions {
            model: ModelKind::Full,
            ..Default::default()
        };
        assert!(!d.has_model(ModelKind::Full));
        assert!(matches!(
            d.detect(&img, &full),
            Err(DetectError::NotEmbedded {
                which: "full-range"
            })
        ));
        // Bad bytes are refused and leave the slot empty, so good ones still load.
        assert!(matches!(
            d.supply_model(ModelKind::Full, b"FBNET\0\x01\0 and then nothing"),
            Err(DetectError::ModelLoad { .. })
        ));
        assert!(!d.has_model(ModelKind::Full));
        d.supply_model(ModelKind::Full, FULL_MODEL).unwrap();
        assert!(d.has_model(ModelKind::Full));
        assert!(d.detect(&img, &full).unwrap().is_empty());
        assert!(!d.has_model(ModelKind::Short));
        let tiled = DetectOptions {
            tiles: TileMode::Auto,
            ..Default::default()
        };
        assert_eq!(
            Detector::models_for(&tiled),
            [ModelKind::Short, ModelKind::Full]
        );
        assert_eq!(Detector::models_for(&full), [ModelKind::Full]);
    }

    #[test]
    fn tiles_cover_the_frame() {
        assert!(tiles(200, 200, 256).is_empty());
        for (w, h) in [(1920, 1280), (1080, 1920), (4032, 3024), (600, 2000)] {
            let t = tiles(w, h, 256);
            assert!(!t.is_empty(), "{w}x{h}");
            for &(x, y, tw, th) in &t {
                assert!(x + tw <= w && y + th <= h);
            }
            let right = t.iter().map(|&(x, _, tw, _)| x + tw).max().unwrap();
            let bottom = t.iter().map(|&(_, y, _, th)| y + th).max().unwrap();
            assert_eq!((right, bottom), (w, h));
        }
    }

    #[test]
    fn letterbox_pads_and_maps_back() {
        let img = RgbImage::from_pixel(200, 100, image::Rgb([255, 255, 255]));
        let (v, lb) = letterbox(&(&img).into(), (0, 0, 200, 100), 128).unwrap();
        assert_eq!(v.len(), 3 * 128 * 128);
        assert_eq!(v[0], -1.0, "top padding is black");
        assert_eq!(v[2 * 128 * 128], -1.0, "in every plane");
        let mid = 2 * 128 * 128 + 64 * 128 + 64;
        assert!((v[mid] - 1.0).abs() < 1e-3, "content is white");
        let (x, y) = lb.map_to_source(0.5, 0.5);
        assert!((x - 100.0).abs() < 1.0 && (y - 50.0).abs() < 1.0, "{x},{y}");
    }
}
