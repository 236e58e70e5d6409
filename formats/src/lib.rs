//! PNG and WebP → 8-bit RGB, for facebridge.
//!
//! Two ways in. Native builds and the edge's wasm link this crate and call
//! [`decode`] (facebridge's feature `png-webp`). The browser's wasm leaves
//! both formats out; its JS loads this crate's own wasm (`cdylib`, the raw
//! exports in [`abi`]) the first time a page hands it a PNG or WebP file,
//! and passes the pixels on. Either way the caller's size check sees the
//! header's dimensions before a pixel buffer exists.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, metadata::Orientation};

/// The two containers this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Png,
    Webp,
}

impl Kind {
    fn format(self) -> image::ImageFormat {
        match self {
            Kind::Png => image::ImageFormat::Png,
            Kind::Webp => image::ImageFormat::WebP,
        }
    }
}

/// Stored pixels (orientation not applied), alpha flattened on white.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    /// The EXIF orientation the file carries (1–8; 1 when none).
    pub orientation: u8,
    /// `width * height * 3` bytes, rows top to bottom.
    pub rgb: Vec<u8>,
}

/// Why a file was not decoded.
#[derive(Debug)]
pub enum Error {
    /// The caller's size check refused the header's dimensions.
    Refused,
    /// A buffer the decoder needs would pass `max_alloc`.
    Limits,
    /// A variant of the format this decoder does not read.
    Unsupported(String),
    /// Not a readable file.
    Decoding(image::ImageError),
}

fn reader(bytes: &[u8], kind: Kind, max_alloc: u64) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_alloc);
    reader.limits(limits);
    reader
}

/// The stored size, from the header alone.
pub fn dimensions(bytes: &[u8], kind: Kind, max_alloc: u64) -> Result<(u32, u32), Error> {
    reader(bytes, kind, max_alloc)
        .into_dimensions()
        .map_err(from_image)
}

/// Decodes `bytes`. `check(width, height, bytes_per_pixel)` runs on the
/// header's size before any pixel buffer exists (`false`: refused);
/// `bytes_per_pixel` counts the decoder's buffer, the RGB result and, with
/// alpha, the RGBA copy the flattening makes. Not generic, so that its code
/// and image's are compiled once, here, at this crate's size setting.
pub fn decode(
    bytes: &[u8],
    kind: Kind,
    max_alloc: u64,
    check: &mut dyn FnMut(u32, u32, u64) -> bool,
) -> Result<Pixels, Error> {
    let mut dec = reader(bytes, kind, max_alloc)
        .into_decoder()
        .map_err(from_image)?;
    let (width, height) = dec.dimensions();
    let color = dec.color_type();
    let bpp = color.bytes_per_pixel() as u64 + 3 + if color.has_alpha() { 4 } else { 0 };
    if !check(width, height, bpp) {
        return Err(Error::Refused);
    }
    let orientation = dec.orientation().map_or(1, orientation_code);
    let dynamic = DynamicImage::from_decoder(dec).map_err(from_image)?;
    let rgb = if dynamic.color().has_alpha() {
        flatten_on_white(dynamic)
    } else {
        dynamic.into_rgb8().into_raw()
    };
    Ok(Pixels {
        width,
        height,
        orientation,
        rgb,
    })
}

/// Transparent pixels become white, not black: ID-card scans with a
/// transparent background must not turn into a dark frame around the card.
fn flatten_on_white(d: DynamicImage) -> Vec<u8> {
    let rgba = d.into_rgba8();
    let mut out = Vec::with_capacity(rgba.len() / 4 * 3);
    for p in rgba.chunks_exact(4) {
        let a = p[3] as u32;
        for &c in &p[..3] {
            out.push(((c as u32 * a + 255 * (255 - a) + 127) / 255) as u8);
        }
    }
    out
}

fn orientation_code(o: Orientation) -> u8 {
    match o {
        Orientation::NoTransforms => 1,
        Orientation::FlipHorizontal => 2,
        Orientation::Rotate180 => 3,
        Orientation::FlipVertical => 4,
        Orientation::Rotate90FlipH => 5,
        Orientation::Rotate90 => 6,
        Orientation::Rotate270FlipH => 7,
        Orientation::Rotate270 => 8,
    }
}

fn from_image(e: image::ImageError) -> Error {
    match e {
        image::ImageError::Limits(_) => Error::Limits,
        image::ImageError::Unsupported(u) => Error::Unsupported(u.to_string()),
        other => Error::Decoding(other),
    }
}

/// The wasm's exports, for the browser package's loader (src/wasm/assets.js
/// in facebridge). One decode per instance: the loader copies the file into
/// the input buffer, calls [`abi::fb_decode`], reads the result through the
/// getters and copies the pixels out; the instance, and its memory, then go.
#[cfg(target_arch = "wasm32")]
pub mod abi {
    use std::cell::RefCell;

    use super::{Error, Kind, decode};

    /// `fb_decode`'s answers.
    pub const OK: u32 = 0;
    /// Over `max_pixels` or `max_alloc` by the header (`fb_width`,
    /// `fb_height`, `fb_bytes_per_pixel` say by how much), or no pixels at all.
    pub const REFUSED: u32 = 1;
    /// A buffer inside the decoder would pass `max_alloc`.
    pub const LIMITS: u32 = 2;
    pub const UNSUPPORTED: u32 = 3;
    pub const UNREADABLE: u32 = 4;
    /// Not 0 (PNG) or 1 (WebP), or no input buffer.
    pub const BAD_CALL: u32 = 5;

    #[derive(Default)]
    struct State {
        input: Vec<u8>,
        output: Vec<u8>,
        message: String,
        width: u32,
        height: u32,
        bytes_per_pixel: u32,
        orientation: u32,
    }

    thread_local! {
        static STATE: RefCell<State> = RefCell::default();
    }

    fn with<T>(f: impl FnOnce(&mut State) -> T) -> T {
        STATE.with(|s| f(&mut s.borrow_mut()))
    }

    /// A buffer of `len` bytes for the file; its address, or 0 when memory
    /// cannot hold it.
    #[unsafe(no_mangle)]
    pub extern "C" fn fb_input(len: u32) -> u32 {
        with(|s| {
            s.input = Vec::new();
            s.output = Vec::new();
            if s.input.try_reserve_exact(len as usize).is_err() {
                return 0;
            }
            s.input.resize(len as usize, 0);
            s.input.as_ptr() as u32
        })
    }

    /// Decodes the input buffer (0 = PNG, 1 = WebP). `max_pixels` and
    /// `max_alloc` are integers carried in f64 (exact below 2^53).
    #[unsafe(no_mangle)]
    pub extern "C" fn fb_decode(kind: u32, max_pixels: f64, max_alloc: f64) -> u32 {
        let kind = match kind {
            0 => Kind::Png,
            1 => Kind::Webp,
            _ => return BAD_CALL,
        };
        with(|s| {
            let input = std::mem::take(&mut s.input);
            s.output = Vec::new();
            s.message.clear();
            let (max_pixels, max_alloc) = (max_pixels as u64, max_alloc as u64);
            let mut seen = (0, 0, 0);
            let r = decode(&input, kind, max_alloc, &mut |w, h, bpp| {
                seen = (w, h, bpp);
                let pixels = w as u64 * h as u64;
                pixels > 0 && pixels <= max_pixels && pixels.saturating_mul(bpp) <= max_alloc
            });
            (s.width, s.height, s.bytes_per_pixel) = (seen.0, seen.1, seen.2 as u32);
            match r {
                Ok(px) => {
                    (s.width, s.height, s.orientation) =
                        (px.width, px.height, px.orientation as u32);
                    s.output = px.rgb;
                    OK
                }
                Err(Error::Refused) => REFUSED,
                Err(Error::Limits) => LIMITS,
                Err(Error::Unsupported(m)) => {
                    s.message = m;
                    UNSUPPORTED
                }
                Err(Error::Decoding(e)) => {
                    s.message = e.to_string();
                    UNREADABLE
                }
            }
        })
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn fb_width() -> u32 {
        with(|s| s.width)
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn fb_height() -> u32 {
        with(|s| s.height)
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn fb_bytes_per_pixel() -> u32 {
        with(|s| s.bytes_per_pixel)
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn fb_orientation() -> u32 {
        with(|s| s.orientation)
    }

    /// The RGB result: address and length (0 and 0 after a failure).
    #[unsafe(no_mangle)]
    pub extern "C" fn fb_output() -> u32 {
        with(|s| s.output.as_ptr() as u32)
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn fb_output_len() -> u32 {
        with(|s| s.output.len() as u32)
    }

    /// The decoder's words after UNSUPPORTED or UNREADABLE (UTF-8).
    #[unsafe(no_mangle)]
    pub extern "C" fn fb_message() -> u32 {
        with(|s| s.message.as_ptr() as u32)
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn fb_message_len() -> u32 {
        with(|s| s.message.len() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32, color: image::ExtendedColorType, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        image::ImageEncoder::write_image(
            image::codecs::png::PngEncoder::new(&mut out),
            data,
            w,
            h,
            color,
        )
        .unwrap_or_else(|e| panic!("encode: {e}"));
        out
    }

    #[test]
    fn rgb_png_round_trips() {
        let data: Vec<u8> = (0..4 * 3 * 3).map(|i| (i * 7) as u8).collect();
        let bytes = png(4, 3, image::ExtendedColorType::Rgb8, &data);
        let px = decode(&bytes, Kind::Png, 1 << 20, &mut |_, _, _| true)
            .unwrap_or_else(|e| panic!("decode: {e:?}"));
        assert_eq!((px.width, px.height, px.orientation), (4, 3, 1));
        assert_eq!(px.rgb, data);
    }

    #[test]
    fn alpha_is_flattened_on_white() {
        // Transparent black, half-transparent red, opaque blue.
        let data = [0, 0, 0, 0, 255, 0, 0, 128, 0, 0, 255, 255];
        let bytes = png(3, 1, image::ExtendedColorType::Rgba8, &data);
        let px = decode(&bytes, Kind::Png, 1 << 20, &mut |_, _, bpp| {
            bpp == 4 + 3 + 4
        })
        .unwrap_or_else(|e| panic!("decode: {e:?}"));
        assert_eq!(px.rgb, [255, 255, 255, 255, 127, 127, 0, 0, 255]);
    }

    #[test]
    fn the_check_sees_the_header_first() {
        let bytes = png(5, 2, image::ExtendedColorType::L8, &[9; 10]);
        let mut seen = None;
        let r = decode(&bytes, Kind::Png, 1 << 20, &mut |w, h, bpp| {
            seen = Some((w, h, bpp));
            false
        });
        assert!(matches!(r, Err(Error::Refused)), "{r:?}");
        assert_eq!(seen, Some((5, 2, 4)));
        assert!(matches!(dimensions(&bytes, Kind::Png, 1 << 20), Ok((5, 2))));
    }

    #[test]
    fn garbage_is_a_decoding_error() {
        let mut bytes = png(5, 2, image::ExtendedColorType::L8, &[9; 10]);
        bytes.truncate(bytes.len() - 20);
        let r = decode(&bytes, Kind::Png, 1 << 20, &mut |_, _, _| true);
        assert!(matches!(r, Err(Error::Decoding(_))), "{r:?}");
        let r = decode(
            b"RIFF\0\0\0\0WEBPjunk",
            Kind::Webp,
            1 << 20,
            &mut |_, _, _| true,
        );
        assert!(r.is_err());
    }
}
