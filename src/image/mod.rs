//! Photos in and out: safe decoding with limits, EXIF orientation, crop,
//! resize, and JPEG encoding to a byte budget.
//!
//! Every decode is bounded by [`Limits`] before a pixel buffer is allocated:
//! the header's dimensions are checked first, so a file that claims
//! 65535×65535 costs nothing.

mod baseline;
mod decode;
mod encode;
mod exif;
mod resize;
mod view;

pub use decode::{DecodeTarget, Decoded, External, Format, Probe, decode, decode_external, probe};
pub use encode::{Budget, Encoded, encode_jpeg, encode_to_budget};
#[doc(hidden)]
pub use exif::exif_with_orientation;
pub use exif::orientation_from_exif;
pub use resize::{Filter, crop, resize_plane, resize_region, resize_region_rgb, resize_rgb};
pub use view::{ImageView, YuvColor, YuvMatrix, i420_from_rgb};

use serde::{Deserialize, Serialize};

/// An RGB image, 8 bits per channel, rows top to bottom, no padding.
pub type RgbImage = image::RgbImage;

/// Bounds on what one decode may cost. The defaults let any phone photo in
/// (a 12 MP phone photo is 12 MP; a 48 MP sensor bins to 12 MP by default) and
/// keep one decode under 512 MiB, so a hostile file cannot take the tab down.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Limits {
    /// The most pixels an image may have (width × height). Default 40 MP.
    pub max_pixels: u64,
    /// The most bytes one decode may allocate. Default 512 MiB.
    pub max_alloc: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pixels: 40_000_000,
            max_alloc: 512 * 1024 * 1024,
        }
    }
}

/// An axis-aligned rectangle in pixels of some image.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl Rect {
    pub fn right(&self) -> f32 {
        self.x + self.w
    }
    pub fn bottom(&self) -> f32 {
        self.y + self.h
    }
    pub fn area(&self) -> f32 {
        self.w.max(0.0) * self.h.max(0.0)
    }
    pub fn center(&self) -> (f32, f32) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }
    /// Intersection over union; 0 for empty rectangles.
    pub fn iou(&self, other: &Rect) -> f32 {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = self.right().min(other.right());
        let y1 = self.bottom().min(other.bottom());
        let inter = (x1 - x0).max(0.0) * (y1 - y0).max(0.0);
        let union = self.area() + other.area() - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }
    /// Scales every coordinate by `k`.
    pub fn scaled(&self, k: f32) -> Rect {
        Rect {
            x: self.x * k,
            y: self.y * k,
            w: self.w * k,
            h: self.h * k,
        }
    }
    /// The whole-pixel rectangle inside `width`×`height` that covers this one.
    pub fn clamp_to(&self, width: u32, height: u32) -> (u32, u32, u32, u32) {
        let x0 = self.x.floor().clamp(0.0, width as f32) as u32;
        let y0 = self.y.floor().clamp(0.0, height as f32) as u32;
        let x1 = self.right().ceil().clamp(0.0, width as f32) as u32;
        let y1 = self.bottom().ceil().clamp(0.0, height as f32) as u32;
        (x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0))
    }
}

/// Rec. 601 luma of one RGB pixel, 0..255.
#[inline]
pub fn luma(p: &[u8]) -> f32 {
    0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32
}

/// Drops the alpha of RGBA pixels (a camera frame from a canvas or a
/// `VideoFrame`): four bytes in, three out, into one pre-sized buffer, in
/// chunks of four pixels so the compiler keeps it branch-free.
pub fn rgba_to_rgb(rgba: &[u8]) -> Vec<u8> {
    let n = rgba.len() / 4;
    let mut out = vec![0u8; n * 3];
    let done = drop_alpha_simd(rgba, &mut out);
    let mut src = rgba[done * 4..].chunks_exact(16);
    let mut dst = out[done * 3..].chunks_exact_mut(12);
    for (s, d) in (&mut src).zip(&mut dst) {
        for k in 0..4 {
            d[k * 3..k * 3 + 3].copy_from_slice(&s[k * 4..k * 4 + 3]);
        }
    }
    for (s, d) in src
        .remainder()
        .chunks_exact(4)
        .zip(dst.into_remainder().chunks_exact_mut(3))
    {
        d.copy_from_slice(&s[..3]);
    }
    out
}

/// The wasm's fast path of [`rgba_to_rgb`]: four pixels a step, one load,
/// one byte shuffle and one 16-byte store, the store's last four bytes
/// overwritten by the next step (so it stops 4 bytes short of the end).
/// Returns the pixels done; the caller does the rest.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[allow(unsafe_code)]
fn drop_alpha_simd(rgba: &[u8], rgb: &mut [u8]) -> usize {
    use core::arch::wasm32::*;
    // Lanes 12..16 take index 0x80: zero (overwritten by the next step).
    const PACK: v128 = u8x16(
        0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 0x80, 0x80, 0x80, 0x80,
    );
    let (len, base) = (rgb.len(), rgb.as_mut_ptr());
    let mut px = 0;
    for s in rgba.chunks_exact(16) {
        if px * 3 + 16 > len {
            break;
        }
        // SAFETY: `s` is 16 readable bytes, and `rgb` has 16 writable bytes
        // from `px * 3` (checked above); v128_load and v128_store need no
        // alignment.
        unsafe {
            let v = v128_load(s.as_ptr().cast());
            v128_store(base.add(px * 3).cast(), i8x16_swizzle(v, PACK));
        }
        px += 4;
    }
    px
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn drop_alpha_simd(_rgba: &[u8], _rgb: &mut [u8]) -> usize {
    0
}

/// Length of the base64 (standard, padded) encoding of `n` bytes.
pub fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgba_to_rgb_drops_alpha_at_every_length() {
        for n in 0..41usize {
            let rgba: Vec<u8> = (0..n * 4).map(|i| i as u8).collect();
            let want: Vec<u8> = rgba
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect();
            assert_eq!(rgba_to_rgb(&rgba), want, "{n} pixels");
        }
    }

    #[test]
    fn iou_table() {
        let a = Rect {
            x: 0.0,
            y: 0.0,
            w: 10.0,
            h: 10.0,
        };
        let rows = [
            (
                Rect {
                    x: 0.0,
                    y: 0.0,
                    w: 10.0,
                    h: 10.0,
                },
                1.0,
            ),
            (
                Rect {
                    x: 5.0,
                    y: 0.0,
                    w: 10.0,
                    h: 10.0,
                },
                50.0 / 150.0,
            ),
            (
                Rect {
                    x: 20.0,
                    y: 20.0,
                    w: 10.0,
                    h: 10.0,
                },
                0.0,
            ),
            (
                Rect {
                    x: 0.0,
                    y: 0.0,
                    w: 0.0,
                    h: 0.0,
                },
                0.0,
            ),
        ];
        for (b, want) in rows {
            assert!((a.iou(&b) - want).abs() < 1e-6, "{b:?}");
        }
    }

    #[test]
    fn base64_len_table() {
        for (n, want) in [
            (0, 0),
            (1, 4),
            (2, 4),
            (3, 4),
            (4, 8),
            (2_000_000, 2_666_668),
        ] {
            assert_eq!(base64_len(n), want, "{n}");
            use base64::Engine;
            if n < 100 {
                assert_eq!(
                    base64::engine::general_purpose::STANDARD
                        .encode(vec![0u8; n])
                        .len(),
                    want
                );
            }
        }
    }

    #[test]
    fn clamp_to_stays_inside() {
        let r = Rect {
            x: -5.5,
            y: 3.2,
            w: 200.0,
            h: 10.0,
        };
        assert_eq!(r.clamp_to(100, 50), (0, 3, 100, 11));
        let out = Rect {
            x: 500.0,
            y: 500.0,
            w: 5.0,
            h: 5.0,
        };
        assert_eq!(out.clamp_to(100, 50), (100, 50, 0, 0));
    }
}
