//! The one EXIF field we need: Orientation (tag 0x0112 in IFD0).
//!
//! A small bounded reader instead of a general EXIF crate: the input is
//! untrusted, we read one SHORT, and every offset is checked against the slice.

/// Reads the orientation (1–8) from an EXIF block. Accepts the block with or
/// without its `Exif\0\0` prefix. Returns `None` for anything malformed or
/// missing, and for values outside 1–8, so a bad tag means "upright".
pub fn orientation_from_exif(data: &[u8]) -> Option<u8> {
    let tiff = data.strip_prefix(b"Exif\0\0").unwrap_or(data);
    let big_endian = match tiff.get(0..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let u16_at = |off: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(off..off.checked_add(2)?)?.try_into().ok()?;
        Some(if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |off: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(off..off.checked_add(4)?)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    if u16_at(2)? != 42 {
        return None;
    }
    let ifd = u32_at(4)? as usize;
    let count = u16_at(ifd)? as usize;
    for i in 0..count.min(512) {
        let entry = ifd.checked_add(2)?.checked_add(i.checked_mul(12)?)?;
        if u16_at(entry)? == 0x0112 {
            // Type SHORT (3), count 1: the value sits in the first two bytes of the value field.
            if u16_at(entry + 2)? != 3 {
                return None;
            }
            let v = u16_at(entry + 8)?;
            return (1..=8).contains(&v).then_some(v as u8);
        }
    }
    None
}

/// Builds a minimal EXIF block holding only an orientation; tests use it to
/// generate the eight orientation variants of a photo.
pub fn exif_with_orientation(orientation: u16, big_endian: bool) -> Vec<u8> {
    let mut v = b"Exif\0\0".to_vec();
    let w16 = |v: &mut Vec<u8>, x: u16| {
        v.extend_from_slice(&if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    let w32 = |v: &mut Vec<u8>, x: u32| {
        v.extend_from_slice(&if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    v.extend_from_slice(if big_endian { b"MM" } else { b"II" });
    w16(&mut v, 42);
    w32(&mut v, 8);
    w16(&mut v, 1); // one entry
    w16(&mut v, 0x0112);
    w16(&mut v, 3);
    w32(&mut v, 1);
    w16(&mut v, orientation);
    w16(&mut v, 0);
    w32(&mut v, 0); // no next IFD
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_all_eight_both_byte_orders() {
        for o in 1..=8u16 {
            for be in [true, false] {
                let block = exif_with_orientation(o, be);
                assert_eq!(orientation_from_exif(&block), Some(o as u8));
                assert_eq!(
                    orientation_from_exif(&block[6..]),
                    Some(o as u8),
                    "without prefix"
                );
            }
        }
    }

    #[test]
    fn malformed_blocks_are_none_not_panics() {
        let good = exif_with_orientation(6, true);
        for cut in 0..good.len() {
            let _ = orientation_from_exif(&good[..cut]);
        }
        assert_eq!(orientation_from_exif(&exif_with_orientation(0, true)), None);
        assert_eq!(
            orientation_from_exif(&exif_with_orientation(9, false)),
            None
        );
        assert_eq!(
            orientation_from_exif(b"Exif\0\0MM\0\x2a\xff\xff\xff\xff"),
            None
        );
        assert_eq!(orientation_from_exif(b""), None);
        // An IFD count that points past the end.
        assert_eq!(orientation_from_exif(b"II\x2a\0\x08\0\0\0\xff\xff"), None);
    }
}
