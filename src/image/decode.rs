//! Bytes → upright RGB, with limits checked against the header before any
//! pixel buffer exists.

use std::io::Cursor;

use serde::{Deserialize, Serialize};

use super::{Limits, RgbImage, exif::orientation_from_exif};
use crate::error::ImageError;

/// The container the bytes were in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Jpeg,
    Png,
    Webp,
}

impl Format {
    /// Sniffs the magic bytes. Other known image kinds get a precise refusal.
    pub fn sniff(bytes: &[u8]) -> Result<Format, ImageError> {
        let unsupported = |what: &str| {
            Err(ImageError::UnsupportedFormat {
                what: what.to_string(),
            })
        };
        match bytes {
            [] => Err(ImageError::Empty),
            [0xFF, 0xD8, 0xFF, ..] => Ok(Format::Jpeg),
            [0x89, b'P', b'N', b'G', ..] => Ok(Format::Png),
            [
                b'R',
                b'I',
                b'F',
                b'F',
                _,
                _,
                _,
                _,
                b'W',
                b'E',
                b'B',
                b'P',
                ..,
            ] => Ok(Format::Webp),
            [b'G', b'I', b'F', b'8', ..] => unsupported("GIF"),
            [b'B', b'M', ..] => unsupported("BMP"),
            [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] => unsupported("TIFF"),
            [
                _,
                _,
                _,
                _,
                b'f',
                b't',
                b'y',
                b'p',
                b'h' | b'm',
                b'e' | b'i' | b'f',
                ..,
            ] => unsupported(
                "HEIC/HEIF (iPhone photos: ask the browser for JPEG, e.g. <input accept=\"image/jpeg\">)",
            ),
            [
                _,
                _,
                _,
                _,
                b'f',
                b't',
                b'y',
                b'p',
                b'a',
                b'v',
                b'i',
                b'f',
                ..,
            ] => unsupported("AVIF"),
            _ => unsupported("unrecognised bytes (not a JPEG, PNG or WebP file)"),
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
        }
    }
}

/// How much resolution the caller needs. Large JPEGs are decoded at 1/2, 1/4
/// or 1/8 scale inside the IDCT when that still gives `min_long_side`, which
/// skips most of the decoding work and memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeTarget {
    /// The smallest long side (after any reduced-scale decode) that is still
    /// enough; `None` decodes at full resolution.
    pub min_long_side: Option<u32>,
}

/// An upright RGB image and what we learned on the way.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Upright (EXIF orientation applied), alpha flattened on white.
    pub image: RgbImage,
    pub format: Format,
    /// The EXIF orientation that was applied (1 = none).
    pub orientation: u8,
    /// Full-resolution size of the upright image, whatever scale was decoded.
    pub width: u32,
    pub height: u32,
    /// `image.width() / width`: 1.0, or 1/2, 1/4, 1/8 for reduced JPEG decodes.
    pub scale: f32,
}

/// What a photo's header says, read without decoding a pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub format: Format,
    /// Stored size (before EXIF orientation; a rotation swaps the sides but
    /// not the shorter one).
    pub width: u32,
    pub height: u32,
}

/// Reads the format and size from the header only, and refuses what is over
/// `limits.max_pixels` (`IMAGE_TOO_LARGE`). No pixel buffer is allocated: the
/// edge checks sizes this way when it does not detect faces.
pub fn probe(bytes: &[u8], limits: &Limits) -> Result<Probe, ImageError> {
    let format = Format::sniff(bytes)?;
    let (width, height) = match format {
        Format::Jpeg => {
            let mut dec = jpeg_decoder::Decoder::new(Cursor::new(bytes));
            dec.read_info().map_err(ImageError::decoding)?;
            let info = dec
                .info()
                .ok_or_else(|| ImageError::unreadable("no JPEG frame header"))?;
            (info.width as u32, info.height as u32)
        }
        Format::Png | Format::Webp => other_dimensions(bytes, format, limits)?,
    };
    check_size(width, height, 0, limits)?;
    Ok(Probe {
        format,
        width,
        height,
    })
}

/// Decodes a JPEG, PNG or WebP photo into upright RGB.
pub fn decode(bytes: &[u8], limits: &Limits, target: DecodeTarget) -> Result<Decoded, ImageError> {
    match Format::sniff(bytes)? {
        Format::Jpeg => decode_jpeg(bytes, limits, target),
        f @ (Format::Png | Format::Webp) => decode_with_image(bytes, f, limits),
    }
}

fn check_size(
    width: u32,
    height: u32,
    bytes_per_pixel: u64,
    limits: &Limits,
) -> Result<(), ImageError> {
    let pixels = width as u64 * height as u64;
    if width == 0 || height == 0 {
        return Err(ImageError::unreadable("the image has no pixels"));
    }
    if pixels > limits.max_pixels {
        return Err(ImageError::TooLarge {
            width,
            height,
            megapixels: pixels as f64 / 1e6,
            limit_megapixels: limits.max_pixels as f64 / 1e6,
        });
    }
    if pixels.saturating_mul(bytes_per_pixel) > limits.max_alloc {
        return Err(ImageError::AllocationLimit {
            limit_bytes: limits.max_alloc,
        });
    }
    Ok(())
}

fn decode_jpeg(bytes: &[u8], limits: &Limits, target: DecodeTarget) -> Result<Decoded, ImageError> {
    // The common file, at full size or at the half size a phone photo's
    // prepare asks for, goes through our baseline decoder
    // (src/image/baseline.rs); everything else, and anything it stumbles
    // on, through jpeg-decoder from the start.
    if let Some(frame) = super::baseline::parse(bytes) {
        let (w, h) = (frame.width, frame.height);
        check_size(w, h, 0, limits)?;
        let eighths = match target.min_long_side {
            Some(m) if m > 0 && m < w.max(h) => {
                let (rw, rh) = reduced_request(w, h, m);
                idct_eighths(w, h, rw, rh)
            }
            _ => 8,
        };
        let (dw, dh) = ((w * eighths).div_ceil(8), (h * eighths).div_ceil(8));
        // Planes (at most 3 bytes a pixel, padded to whole MCUs) and the
        // RGB output: the 6 bytes a pixel jpeg-decoder is allowed below.
        if eighths >= 4
            && (dw as u64 * dh as u64).saturating_mul(6) <= limits.max_alloc
            && let Some(image) = match eighths {
                8 => frame.decode(),
                _ => frame.decode_half(),
            }
        {
            let orientation = frame.exif.and_then(orientation_from_exif).unwrap_or(1);
            return Ok(finish(image, Format::Jpeg, orientation, w, h));
        }
    }
    decode_jpeg_general(bytes, limits, target)
}

/// Any JPEG through jpeg-decoder (progressive, 12-bit, CMYK, reduced
/// scale, or what our baseline decoder stops at). Kept out of
/// `decode_jpeg`, as `decode_with_image` is out of `decode`: a camera frame
/// never takes these paths, and inlined they made the function every
/// detection calls 14 KB, which V8's optimising tier compiled for 30-45 ms
/// on this machine while the first detections waited on its baseline code.
#[inline(never)]
fn decode_jpeg_general(
    bytes: &[u8],
    limits: &Limits,
    target: DecodeTarget,
) -> Result<Decoded, ImageError> {
    let unreadable = |e: jpeg_decoder::Error| match e {
        jpeg_decoder::Error::Unsupported(u) => ImageError::UnsupportedFormat {
            what: format!("JPEG feature {u:?}"),
        },
        other => ImageError::decoding(other),
    };
    let mut dec = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    dec.read_info().map_err(unreadable)?;
    let info = dec
        .info()
        .ok_or_else(|| ImageError::unreadable("no JPEG frame header"))?;
    let (w, h) = (info.width as u32, info.height as u32);
    // The decoder holds one plane per component plus the interleaved output,
    // both at the decoded (possibly reduced) scale: about 2× the output.
    let (bpp, components) = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => (2, 1),
        jpeg_decoder::PixelFormat::L16 => (4, 1),
        jpeg_decoder::PixelFormat::RGB24 => (6, 3),
        jpeg_decoder::PixelFormat::CMYK32 => (8, 4),
    };
    check_size(w, h, 0, limits)?;
    let (mut dw, mut dh) = (w, h);
    if let Some(min_long) = target.min_long_side {
        let long = w.max(h);
        if min_long > 0 && min_long < long {
            let (rw, rh) = reduced_request(w, h, min_long);
            let (sw, sh) = dec.scale(rw as u16, rh as u16).map_err(unreadable)?;
            (dw, dh) = (sw as u32, sh as u32);
        }
    }
    // A progressive JPEG keeps every DCT coefficient of the whole image
    // until the last scan, whatever the output scale: 64 × i16 per 8×8
    // block of each component, i.e. 2 bytes per full-size sample (counted as
    // if no component were subsampled, the worst case).
    let coefficients = if info.coding_process == jpeg_decoder::CodingProcess::DctProgressive {
        (w as u64).div_ceil(8) * (h as u64).div_ceil(8) * 64 * 2 * components
    } else {
        0
    };
    let need = (dw as u64 * dh as u64)
        .saturating_mul(bpp)
        .saturating_add(coefficients);
    if need > limits.max_alloc {
        return Err(ImageError::AllocationLimit {
            limit_bytes: limits.max_alloc,
        });
    }
    dec.set_max_decoding_buffer_size(usize::try_from(limits.max_alloc).unwrap_or(usize::MAX));
    let pixels = dec.decode().map_err(unreadable)?;
    let n = dw as usize * dh as usize;
    let rgb: Vec<u8> = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels,
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&g| [g, g, g]).collect(),
        // Lossless 16-bit grey, big-endian: keep the high byte.
        jpeg_decoder::PixelFormat::L16 => pixels
            .chunks_exact(2)
            .flat_map(|g| [g[0], g[0], g[0]])
            .collect(),
        // jpeg-decoder gives ink amounts (0 = no ink; it undoes Adobe's
        // inversion itself): R = (1 − C)(1 − K), and so on.
        jpeg_decoder::PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|p| {
                let k = 255 - p[3] as u16;
                [
                    ((255 - p[0] as u16) * k / 255) as u8,
                    ((255 - p[1] as u16) * k / 255) as u8,
                    ((255 - p[2] as u16) * k / 255) as u8,
                ]
            })
            .collect(),
    };
    if rgb.len() != n * 3 {
        return Err(ImageError::unreadable(
            "the JPEG decoded to fewer pixels than its header says",
        ));
    }
    let image = RgbImage::from_raw(dw, dh, rgb)
        .ok_or_else(|| ImageError::unreadable("pixel buffer does not match the size"))?;
    let orientation = dec.exif_data().and_then(orientation_from_exif).unwrap_or(1);
    Ok(finish(image, Format::Jpeg, orientation, w, h))
}

/// The scale, in eighths, jpeg-decoder's reduced IDCT picks for a request
/// of `rw`×`rh` (its `choose_idct_size`): the smallest of 1, 2 and 4 that
/// gives either side, else 8. Our decoder takes 8 and 4 at the same output
/// size, so a file decodes to the same size whichever decoder reads it.
fn idct_eighths(w: u32, h: u32, rw: u32, rh: u32) -> u32 {
    let scaled = |len: u32, s: u32| (len * s - 1) / 8 + 1;
    [1, 2, 4]
        .into_iter()
        .find(|&s| scaled(w, s) >= rw || scaled(h, s) >= rh)
        .unwrap_or(8)
}

/// The size to ask jpeg-decoder's reduced-scale IDCT for, so that the long
/// side is at least `min_long` (it picks the scale, `idct_eighths`): each
/// side scaled alike, rounded up.
fn reduced_request(w: u32, h: u32, min_long: u32) -> (u32, u32) {
    let k = (min_long as f64 / w.max(h) as f64).min(1.0);
    let side = |s: u32| ((s as f64 * k).ceil() as u32).clamp(1, u16::MAX as u32);
    (side(w), side(h))
}

/// PNG and WebP, when this build reads them itself (feature `png-webp`).
#[cfg(feature = "png-webp")]
fn formats_kind(format: Format) -> Result<facebridge_formats::Kind, ImageError> {
    match format {
        Format::Png => Ok(facebridge_formats::Kind::Png),
        Format::Webp => Ok(facebridge_formats::Kind::Webp),
        Format::Jpeg => Err(ImageError::unreadable(
            "a JPEG was handed to the PNG/WebP decoder",
        )),
    }
}

#[cfg(feature = "png-webp")]
fn other_dimensions(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
) -> Result<(u32, u32), ImageError> {
    facebridge_formats::dimensions(bytes, formats_kind(format)?, limits.max_alloc)
        .map_err(|e| from_formats_error(e, None, limits))
}

#[cfg(feature = "png-webp")]
#[inline(never)]
fn decode_with_image(bytes: &[u8], format: Format, limits: &Limits) -> Result<Decoded, ImageError> {
    let mut refused = None;
    let px = facebridge_formats::decode(
        bytes,
        formats_kind(format)?,
        limits.max_alloc,
        &mut |w, h, bpp| match check_size(w, h, bpp, limits) {
            Ok(()) => true,
            Err(e) => {
                refused = Some(e);
                false
            }
        },
    )
    .map_err(|e| from_formats_error(e, refused.take(), limits))?;
    from_pixels(px.rgb, format, px.orientation, px.width, px.height)
}

/// `refused`: what the size check said, when it refused.
#[cfg(feature = "png-webp")]
fn from_formats_error(
    e: facebridge_formats::Error,
    refused: Option<ImageError>,
    limits: &Limits,
) -> ImageError {
    use facebridge_formats::Error as E;
    // The decoder's own buffers are held to `max_alloc` too (image's limits).
    let over = ImageError::AllocationLimit {
        limit_bytes: limits.max_alloc,
    };
    match e {
        E::Refused => refused.unwrap_or(over),
        E::Limits => over,
        E::Unsupported(what) => ImageError::UnsupportedFormat { what },
        E::Decoding(e) => ImageError::decoding(e),
    }
}

/// Without feature `png-webp` (the browser's wasm) PNG and WebP files are
/// decoded by the package's second wasm (formats/, loaded by
/// src/wasm/assets.js) and come back through [`decode_external`]; these
/// entry points only say so.
#[cfg(not(feature = "png-webp"))]
fn not_here(format: Format) -> ImageError {
    ImageError::UnsupportedFormat {
        what: format!(
            "{} in this build (the JS API decodes it with facebridge_formats_bg.wasm)",
            format.mime()
        ),
    }
}

#[cfg(not(feature = "png-webp"))]
fn other_dimensions(_: &[u8], format: Format, _: &Limits) -> Result<(u32, u32), ImageError> {
    Err(not_here(format))
}

#[cfg(not(feature = "png-webp"))]
fn decode_with_image(_: &[u8], format: Format, _: &Limits) -> Result<Decoded, ImageError> {
    Err(not_here(format))
}

/// What the formats wasm answered for one PNG or WebP file
/// (formats/src/lib.rs, `abi`), read back by src/wasm/assets.js.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum External {
    /// Stored RGB pixels and the file's EXIF orientation.
    Pixels {
        width: u32,
        height: u32,
        orientation: u8,
        rgb: Vec<u8>,
    },
    /// Its size check refused the header's dimensions.
    Refused {
        width: u32,
        height: u32,
        bytes_per_pixel: u64,
    },
    /// A buffer inside the decoder would pass the allocation limit.
    Limits,
    Unsupported(String),
    Unreadable(String),
}

/// A PNG or WebP decoded outside this wasm, turned into what [`decode`]
/// returns, with the same size check and the same errors.
pub fn decode_external(
    format: Format,
    answer: External,
    limits: &Limits,
) -> Result<Decoded, ImageError> {
    match answer {
        External::Pixels {
            width,
            height,
            orientation,
            rgb,
        } => {
            // The other wasm checked the header; the pixels it sent are checked here.
            check_size(width, height, 0, limits)?;
            from_pixels(rgb, format, orientation, width, height)
        }
        External::Refused {
            width,
            height,
            bytes_per_pixel,
        } => {
            check_size(width, height, bytes_per_pixel, limits)?;
            Err(ImageError::AllocationLimit {
                limit_bytes: limits.max_alloc,
            })
        }
        External::Limits => Err(ImageError::AllocationLimit {
            limit_bytes: limits.max_alloc,
        }),
        External::Unsupported(what) => Err(ImageError::UnsupportedFormat { what }),
        External::Unreadable(reason) => Err(ImageError::unreadable(reason)),
    }
}

fn from_pixels(
    rgb: Vec<u8>,
    format: Format,
    orientation: u8,
    w: u32,
    h: u32,
) -> Result<Decoded, ImageError> {
    let image = RgbImage::from_raw(w, h, rgb)
        .ok_or_else(|| ImageError::unreadable("the decoder returned fewer pixels than its size"))?;
    Ok(finish(image, format, orientation, w, h))
}

fn finish(image: RgbImage, format: Format, orientation: u8, w: u32, h: u32) -> Decoded {
    let scale = image.width() as f32 / w as f32;
    let image = apply_orientation(image, orientation);
    let (width, height) = if orientation >= 5 { (h, w) } else { (w, h) };
    Decoded {
        image,
        format,
        orientation,
        width,
        height,
        scale,
    }
}

/// Turns stored pixels upright for an EXIF orientation (1–8; anything else
/// is left as it is). RGB only, in one pass: `image`'s own version is generic
/// over every pixel type and was 16 KB of the wasm.
#[inline(never)]
pub(crate) fn apply_orientation(image: RgbImage, orientation: u8) -> RgbImage {
    if !(2..=8).contains(&orientation) {
        return image;
    }
    let (w, h) = image.dimensions();
    let (ow, oh) = if orientation >= 5 { (h, w) } else { (w, h) };
    // The stored pixel that lands at (x, y) of the upright image.
    let from = |x: u32, y: u32| -> (u32, u32) {
        match orientation {
            2 => (w - 1 - x, y),         // mirrored
            3 => (w - 1 - x, h - 1 - y), // upside down
            4 => (x, h - 1 - y),         // mirrored upside down
            5 => (y, x),                 // transposed
            6 => (y, h - 1 - x),         // needs 90° clockwise
            7 => (w - 1 - y, h - 1 - x), // transversed
            _ => (w - 1 - y, x),         // 8: needs 90° anticlockwise
        }
    };
    RgbImage::from_fn(ow, oh, |x, y| {
        let (sx, sy) = from(x, y);
        *image.get_pixel(sx, sy)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_table() {
        let rows: &[(&[u8], &str)] = &[
            (b"", "IMAGE_EMPTY"),
            (b"\xff\xd8\xff\xe0", "ok"),
            (b"\x89PNG\r\n\x1a\n", "ok"),
            (b"RIFF\0\0\0\0WEBPVP8 ", "ok"),
            (b"GIF89a", "UNSUPPORTED_FORMAT"),
            (b"BM\0\0", "UNSUPPORTED_FORMAT"),
            (b"\0\0\0\x18ftypheic", "UNSUPPORTED_FORMAT"),
            (b"hello, this is a text file\n", "UNSUPPORTED_FORMAT"),
        ];
        for (bytes, want) in rows {
            let got = Format::sniff(bytes)
                .map(|_| "ok")
                .unwrap_or_else(|e| e.code());
            assert_eq!(got, *want, "{bytes:?}");
        }
    }

    /// A target a half-size decode meets goes through our decoder at half
    /// size, to the size jpeg-decoder gives for it; smaller targets go to
    /// jpeg-decoder's 1/4 and 1/8.
    #[test]
    fn reduced_targets_decode_to_jpeg_decoders_sizes() {
        let (w, h) = (403u16, 301u16);
        let px: Vec<u8> = (0..w as usize * h as usize * 3)
            .map(|i| ((i * 7) % 251) as u8)
            .collect();
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, 85)
            .encode(&px, w, h, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        let limits = Limits::default();
        for (min_long, side) in [
            (None, 403),
            (Some(403), 403),
            (Some(300), 403),
            (Some(202), 202),
            (Some(150), 202),
            (Some(100), 101),
            (Some(40), 51),
        ] {
            let target = DecodeTarget {
                min_long_side: min_long,
            };
            let ours = decode(&jpeg, &limits, target).unwrap();
            let theirs = decode_jpeg_general(&jpeg, &limits, target).unwrap();
            assert_eq!(ours.image.width(), side, "{min_long:?}");
            assert_eq!(
                ours.image.dimensions(),
                theirs.image.dimensions(),
                "{min_long:?}"
            );
            assert_eq!(ours.scale, theirs.scale);
            let diff = ours
                .image
                .as_raw()
                .iter()
                .zip(theirs.image.as_raw())
                .map(|(a, b)| a.abs_diff(*b) as u32)
                .max();
            assert!(diff.unwrap_or(0) <= 8, "{min_long:?}: {diff:?}");
        }
    }
}
