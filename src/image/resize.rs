//! Crop and resize. Resizing goes through `fast_image_resize` (SIMD natively
//! and with simd128 in wasm); a box pre-filter is built into its convolution,
//! so large downscales do not alias.

use fast_image_resize as fir;

use super::RgbImage;
use crate::error::ImageError;

/// Copies the `w`×`h` region at (`x`, `y`), clamped to the image.
pub fn crop(src: &RgbImage, x: u32, y: u32, w: u32, h: u32) -> RgbImage {
    let x = x.min(src.width());
    let y = y.min(src.height());
    let w = w.min(src.width() - x);
    let h = h.min(src.height() - y);
    image::imageops::crop_imm(src, x, y, w, h).to_image()
}

/// Resizes to exactly `w`×`h` with a Catmull-Rom convolution (sharp enough
/// for a face matcher, no ringing halos like Lanczos on JPEG edges).
pub fn resize_rgb(src: &RgbImage, w: u32, h: u32) -> Result<RgbImage, ImageError> {
    resize_region_rgb(src, (0, 0, src.width(), src.height()), w, h)
}

/// Resizes the region (`x`, `y`, `rw`, `rh`) of `src` to exactly `w`×`h`,
/// reading the source in place: no copy of the region is made first (for a
/// 12 MP photo that copy alone is 36 MB).
pub fn resize_region_rgb(
    src: &RgbImage,
    region: (u32, u32, u32, u32),
    w: u32,
    h: u32,
) -> Result<RgbImage, ImageError> {
    let (x, y, rw, rh) = region;
    let x = x.min(src.width());
    let y = y.min(src.height());
    let rw = rw.min(src.width() - x);
    let rh = rh.min(src.height() - y);
    if (x, y, rw, rh, w, h) == (0, 0, src.width(), src.height(), src.width(), src.height()) {
        return Ok(src.clone());
    }
    let err = |e: &dyn std::fmt::Display| ImageError::Encode {
        reason: format!("resize: {e}"),
    };
    let from = fir::images::ImageRef::new(
        src.width(),
        src.height(),
        src.as_raw(),
        fir::PixelType::U8x3,
    )
    .map_err(|e| err(&e))?;
    let mut to = fir::images::Image::new(w.max(1), h.max(1), fir::PixelType::U8x3);
    let opts = fir::ResizeOptions::new()
        .crop(x as f64, y as f64, rw as f64, rh as f64)
        .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::CatmullRom));
    fir::Resizer::new()
        .resize(&from, &mut to, &opts)
        .map_err(|e| err(&e))?;
    RgbImage::from_raw(w.max(1), h.max(1), to.into_vec()).ok_or_else(|| ImageError::Encode {
        reason: "resize produced a buffer of the wrong size".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resize_keeps_flat_colour_and_size() {
        let src = RgbImage::from_pixel(301, 207, image::Rgb([10, 120, 250]));
        for (w, h) in [(100, 69), (1, 1), (602, 414)] {
            let out = resize_rgb(&src, w, h).unwrap();
            assert_eq!(out.dimensions(), (w, h));
            let p = out.get_pixel(w / 2, h / 2);
            assert!(
                p.0.iter()
                    .zip([10, 120, 250])
                    .all(|(a, b)| (*a as i32 - b).abs() <= 1),
                "{p:?}"
            );
        }
    }

    #[test]
    fn resizing_a_region_equals_cropping_then_resizing() {
        let src = RgbImage::from_fn(300, 200, |x, y| {
            image::Rgb([x as u8, y as u8, (x ^ y) as u8])
        });
        let a = resize_region_rgb(&src, (40, 30, 120, 90), 60, 45).unwrap();
        let b = resize_rgb(&crop(&src, 40, 30, 120, 90), 60, 45).unwrap();
        // At the region's border the in-place resize reads the real
        // neighbours where the copy repeats its edge: compare the inside.
        let mut worst = 0;
        for y in 2..43 {
            for x in 2..58 {
                for c in 0..3 {
                    let d = (a.get_pixel(x, y).0[c] as i32 - b.get_pixel(x, y).0[c] as i32).abs();
                    worst = worst.max(d);
                }
            }
        }
        assert!(worst <= 1, "max difference inside {worst}");
        let same = resize_region_rgb(&src, (0, 0, 300, 200), 300, 200).unwrap();
        assert_eq!(same, src);
    }

    #[test]
    fn crop_is_clamped() {
        let src = RgbImage::new(10, 10);
        assert_eq!(crop(&src, 5, 5, 100, 100).dimensions(), (5, 5));
        assert_eq!(crop(&src, 50, 50, 1, 1).dimensions(), (0, 0));
    }
}
