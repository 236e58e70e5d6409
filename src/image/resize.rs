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
    if (w, h) == src.dimensions() {
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
    fn crop_is_clamped() {
        let src = RgbImage::new(10, 10);
        assert_eq!(crop(&src, 5, 5, 100, 100).dimensions(), (5, 5));
        assert_eq!(crop(&src, 50, 50, 1, 1).dimensions(), (0, 0));
    }
}
