//! JPEG encoding that guarantees a byte budget.
//!
//! The output is re-encoded from pixels, so it carries no EXIF, GPS, ICC or
//! comment: only the JFIF header `jpeg-encoder` writes.

use serde::{Deserialize, Serialize};

use super::{RgbImage, base64_len, resize_rgb};
use crate::error::ImageError;

/// Encodes RGB pixels as a baseline JPEG at `quality` (1–100), 4:2:0.
pub fn encode_jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, ImageError> {
    let (w, h) = img.dimensions();
    let (w16, h16) = match (u16::try_from(w), u16::try_from(h)) {
        (Ok(a), Ok(b)) if a > 0 && b > 0 => (a, b),
        _ => {
            return Err(ImageError::Encode {
                reason: format!("cannot encode a {w}×{h} JPEG"),
                source: None,
            });
        }
    };
    let mut out = Vec::with_capacity((w as usize * h as usize) / 4);
    let enc = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
    enc.encode(img.as_raw(), w16, h16, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| ImageError::Encode {
            reason: e.to_string(),
            source: Some(Box::new(e)),
        })?;
    Ok(out)
}

/// What the encoded file must fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    /// The most bytes allowed.
    pub max_bytes: usize,
    /// Count the budget on the base64 encoding (4/3 of the file), as services
    /// that take images inside JSON do.
    pub base64: bool,
    /// The best quality tried first. A face matcher gains nothing above ~92.
    pub max_quality: u8,
    /// Below this quality the image is downscaled instead: JPEG blocking
    /// hurts a matcher more than losing resolution does.
    pub min_quality: u8,
    /// Downscaling stops at this short side; below it the budget is unreachable.
    pub min_side: u32,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_bytes: 5_000_000,
            base64: false,
            max_quality: 92,
            min_quality: 60,
            min_side: 64,
        }
    }
}

impl Budget {
    /// The size that counts against `max_bytes` for a file of `n` bytes.
    pub fn counted(&self, n: usize) -> usize {
        if self.base64 { base64_len(n) } else { n }
    }
    fn fits(&self, n: usize) -> bool {
        self.counted(n) <= self.max_bytes
    }
}

/// A JPEG that fits its budget, and how it was found.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub quality: u8,
    /// How many times the encoder ran in all.
    pub encodes: u32,
}

/// At most this many downscale rounds: each shrinks the pixel count by at
/// least 10 %, and the budget arithmetic usually lands in one or two.
const MAX_SCALE_ROUNDS: u32 = 8;
/// Bisection steps on quality per size: 92→60 in 5 steps is ±1 quality.
const MAX_QUALITY_STEPS: u32 = 5;

/// Encodes `img` as the best JPEG that fits `budget`. The returned file's
/// counted size is always ≤ `budget.max_bytes`; when no encoding of at least
/// `budget.min_side` fits, the result is [`ImageError::BudgetUnreachable`].
///
/// Per size: one encode at `max_quality` (the usual case ends here), one at
/// `min_quality`, then at most [`MAX_QUALITY_STEPS`] bisection steps. When even
/// `min_quality` is too big, the image is downscaled by the square root of the
/// overshoot (JPEG size is roughly proportional to pixel count) and retried.
pub fn encode_to_budget(img: &RgbImage, budget: &Budget) -> Result<Encoded, ImageError> {
    let unreachable = || ImageError::BudgetUnreachable {
        budget: budget.max_bytes,
        min_side: budget.min_side,
        base64: budget.base64,
    };
    let (qmax, qmin) = (
        budget.max_quality.clamp(1, 100),
        budget.min_quality.clamp(1, budget.max_quality.max(1)),
    );
    let mut encodes = 0;
    let mut scaled: Option<RgbImage> = None;
    for _ in 0..MAX_SCALE_ROUNDS {
        let cur = scaled.as_ref().unwrap_or(img);
        let (w, h) = cur.dimensions();
        let best = encode_jpeg(cur, qmax)?;
        encodes += 1;
        if budget.fits(best.len()) {
            return Ok(Encoded {
                bytes: best,
                width: w,
                height: h,
                quality: qmax,
                encodes,
            });
        }
        let low = encode_jpeg(cur, qmin)?;
        encodes += 1;
        if budget.fits(low.len()) {
            // Bisect quality: `lo` always fits, `hi` never does.
            let (mut lo, mut hi, mut lo_bytes) = (qmin, qmax, low);
            for _ in 0..MAX_QUALITY_STEPS {
                if hi - lo <= 1 {
                    break;
                }
                let mid = lo + (hi - lo) / 2;
                let b = encode_jpeg(cur, mid)?;
                encodes += 1;
                if budget.fits(b.len()) {
                    (lo, lo_bytes) = (mid, b);
                } else {
                    hi = mid;
                }
            }
            return Ok(Encoded {
                bytes: lo_bytes,
                width: w,
                height: h,
                quality: lo,
                encodes,
            });
        }
        // Too big even at min quality: shrink the pixel count by the overshoot.
        let short = w.min(h);
        if short <= budget.min_side {
            return Err(unreachable());
        }
        let ratio = budget.max_bytes as f64 / budget.counted(low.len()) as f64;
        let k = (ratio.sqrt() * 0.95).clamp(0.25, 0.9);
        let k = k.max(budget.min_side as f64 / short as f64);
        let nw = ((w as f64 * k).round() as u32).max(1);
        let nh = ((h as f64 * k).round() as u32).max(1);
        scaled = Some(resize_rgb(img, nw, nh)?);
    }
    Err(unreachable())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(w: u32, h: u32, seed: u32) -> RgbImage {
        let mut s = seed;
        RgbImage::from_fn(w, h, |_, _| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            image::Rgb([s as u8, (s >> 8) as u8, (s >> 16) as u8])
        })
    }

    #[test]
    fn small_image_fits_at_first_try() {
        let img = RgbImage::from_pixel(64, 64, image::Rgb([200, 100, 50]));
        let e = encode_to_budget(&img, &Budget::default()).unwrap();
        assert_eq!((e.encodes, e.quality), (1, 92));
        assert_eq!(&e.bytes[..2], &[0xFF, 0xD8]);
    }

    #[test]
    fn noise_is_squeezed_under_raw_and_base64_budgets() {
        let img = noise(800, 600, 7);
        for max_bytes in [20_000, 60_000, 150_000] {
            for base64 in [false, true] {
                let b = Budget {
                    max_bytes,
                    base64,
                    ..Budget::default()
                };
                let e = encode_to_budget(&img, &b).unwrap();
                assert!(
                    b.counted(e.bytes.len()) <= max_bytes,
                    "{max_bytes} {base64}: {}",
                    e.bytes.len()
                );
                assert!(e.encodes <= MAX_SCALE_ROUNDS * (2 + MAX_QUALITY_STEPS));
            }
        }
    }

    #[test]
    fn impossible_budget_is_a_typed_error() {
        let img = noise(300, 300, 3);
        let b = Budget {
            max_bytes: 500,
            min_side: 200,
            ..Budget::default()
        };
        assert_eq!(
            encode_to_budget(&img, &b).unwrap_err().code(),
            "BUDGET_UNREACHABLE"
        );
    }
}
