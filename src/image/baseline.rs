//! A decoder of our own for the common JPEG: baseline (sequential Huffman),
//! 8-bit, one interleaved scan, greyscale or YCbCr with 4:4:4, 4:2:2 or
//! 4:2:0 chroma, decoded at full size. Anything else (progressive, reduced
//! scale, CMYK, Adobe RGB, odd sampling, a damaged stream) returns `None`
//! and jpeg-decoder takes the file from the start, so its error messages
//! and its tolerance of broken files stay what they were.
//!
//! Why a second decoder: the cold start. jpeg-decoder's scan loop is one
//! 34 KB wasm function after inlining. In a fresh page V8 first compiles it
//! with its baseline compiler on the main thread (6–12 ms), runs the first
//! decode in that code, and then spends about 100 ms of a background core
//! optimising it, while the page's own first detection waits for the same
//! two cores (docs/design-decisions.md, "A baseline JPEG decoder of our
//! own"). Here the hot work lives in small functions: one MCU row of
//! entropy decoding and IDCT, one row of upsampling and colour conversion.
//!
//! The arithmetic is the standard one (ITU T.81 and the JFIF colour
//! equations): a separable float IDCT with the LLM factorisation, the
//! triangle ("fancy") chroma upsampling and fixed-point YCbCr → RGB.

use super::RgbImage;

/// Natural-order index of the k-th coefficient in zigzag order.
const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Bits looked up at once in a Huffman table.
const FAST_BITS: u32 = 9;

/// `Huffman::ac`'s mark of the end-of-block code.
const END_OF_BLOCK: i32 = 1 << 12;

/// One Huffman table: a direct lookup for codes up to `FAST_BITS` long, the
/// canonical code ranges for the rest.
#[derive(Clone)]
struct Huffman {
    /// `len << 8 | symbol` for a code of `len ≤ FAST_BITS` bits; 0 = longer.
    fast: Vec<u16>,
    /// For an AC table, the whole coefficient where its code and its value
    /// bits fit in `FAST_BITS` together: `value << 16 | run << 8 | bits`;
    /// `END_OF_BLOCK | bits` for the end-of-block code; 0 = use `fast`.
    ac: Vec<i32>,
    /// The largest code of each length (−1: none), and where its symbols start.
    max_code: [i32; 17],
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl Huffman {
    #[inline(never)]
    fn new(counts: &[u8; 16], symbols: &[u8]) -> Option<Huffman> {
        let mut fast = vec![0u16; 1 << FAST_BITS];
        let mut max_code = [-1i32; 17];
        let mut offset = [0i32; 17];
        let (mut code, mut k) = (0u32, 0usize);
        for len in 1..=16usize {
            let n = counts[len - 1] as usize;
            offset[len] = k as i32 - code as i32;
            for _ in 0..n {
                if code >= 1 << len {
                    return None; // more codes than the length holds
                }
                if len as u32 <= FAST_BITS {
                    let shift = FAST_BITS - len as u32;
                    let entry = (len as u16) << 8 | *symbols.get(k)? as u16;
                    for f in &mut fast[(code << shift) as usize..((code + 1) << shift) as usize] {
                        *f = entry;
                    }
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                max_code[len] = code as i32 - 1;
            }
            code <<= 1;
        }
        let ac = (0..1u32 << FAST_BITS)
            .map(|p| {
                let e = fast[p as usize];
                let (len, rs) = ((e >> 8) as u32, e as u8);
                let (run, size) = ((rs >> 4) as i32, (rs & 15) as u32);
                if e == 0 {
                    0
                } else if rs == 0 {
                    END_OF_BLOCK | len as i32
                } else if size == 0 || len + size > FAST_BITS {
                    0
                } else {
                    let v = extend((p >> (FAST_BITS - len - size)) & ((1 << size) - 1), size);
                    v << 16 | run << 8 | (len + size) as i32
                }
            })
            .collect();
        Some(Huffman {
            fast,
            ac,
            max_code,
            offset,
            symbols: symbols.get(..k)?.to_vec(),
        })
    }
}

/// `v`, the `size` bits of a coefficient, sign-extended (T.81 F.2.2.1).
#[inline(always)]
fn extend(v: u32, size: u32) -> i32 {
    let v = v as i32;
    if size > 0 && v < 1 << (size - 1) {
        v - (1 << size) + 1
    } else {
        v
    }
}

/// The entropy-coded bytes as a bit stream: stuffed zeros removed, and zeros
/// fed once a marker (or the end) is reached.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    n: u32,
    /// Zero bytes fed past a marker or the end (the refill reads ahead, so
    /// some are normal; see `overrun`).
    past_end: u32,
}

impl<'a> Bits<'a> {
    /// Out of line: every read below may call it, and inlined into each it
    /// made `decode_mcus` a body V8's optimising tier took 30 ms to compile
    /// while the first detections ran on its baseline code.
    #[inline(never)]
    fn refill(&mut self) {
        while self.n <= 56 {
            let mut b = 0u8;
            match self.data.get(self.pos) {
                Some(&0xFF) => {
                    if self.data.get(self.pos + 1) == Some(&0) {
                        b = 0xFF;
                        self.pos += 2;
                    } else {
                        self.past_end += 1;
                    }
                }
                Some(&v) => {
                    b = v;
                    self.pos += 1;
                }
                None => self.past_end += 1,
            }
            self.acc |= (b as u64) << (56 - self.n);
            self.n += 8;
        }
    }

    #[inline(always)]
    fn bits(&mut self, k: u32) -> u32 {
        if k == 0 {
            return 0;
        }
        if self.n < k {
            self.refill();
        }
        let v = (self.acc >> (64 - k)) as u32;
        self.acc <<= k;
        self.n -= k;
        v
    }

    /// A symbol of `h`, or `None` for a code no table entry matches.
    #[inline(always)]
    fn symbol(&mut self, h: &Huffman) -> Option<u8> {
        if self.n < 16 {
            self.refill();
        }
        let e = h.fast[(self.acc >> (64 - FAST_BITS)) as usize];
        if e != 0 {
            let len = (e >> 8) as u32;
            self.acc <<= len;
            self.n -= len;
            return Some(e as u8);
        }
        for len in FAST_BITS as usize + 1..=16 {
            let code = (self.acc >> (64 - len)) as i32;
            if code <= h.max_code[len] {
                self.acc <<= len;
                self.n -= len as u32;
                return h.symbols.get((code + h.offset[len]) as usize).copied();
            }
        }
        None
    }

    /// `h.ac`'s entry for the next bits, consumed when it is not 0.
    #[inline(always)]
    fn ac_entry(&mut self, h: &Huffman) -> i32 {
        if self.n < 16 {
            self.refill();
        }
        let e = h.ac[(self.acc >> (64 - FAST_BITS)) as usize];
        let len = (e & 15) as u32;
        self.acc <<= len;
        self.n -= len;
        e
    }

    /// A coefficient of `size` bits, sign-extended (T.81 F.2.2.1).
    #[inline(always)]
    fn extend(&mut self, size: u32) -> i32 {
        extend(self.bits(size), size)
    }

    /// Whether a bit fed past the data was read: the zeros fed sit at the
    /// end of the buffer, so fewer bits left than zeros fed means some were
    /// taken as data (a scan cut short).
    fn overrun(&self) -> bool {
        self.past_end * 8 > self.n
    }

    /// Past a restart marker: the bit buffer is dropped and the next RSTn
    /// must follow (padding bits aside).
    fn restart(&mut self) -> Option<()> {
        if self.overrun() {
            return None;
        }
        self.acc = 0;
        self.n = 0;
        match self.data.get(self.pos..self.pos + 2)? {
            [0xFF, m] if (0xD0..=0xD7).contains(m) => {
                self.pos += 2;
                self.past_end = 0;
                Some(())
            }
            _ => None,
        }
    }
}

/// A component of the frame and the scan.
#[derive(Clone, Copy)]
struct Component {
    id: u8,
    h: usize,
    v: usize,
    quant: usize,
    dc: usize,
    ac: usize,
}

/// Everything up to the scan's first entropy-coded byte.
pub(crate) struct Frame<'a> {
    pub width: u32,
    pub height: u32,
    /// The EXIF payload of an APP1 segment, if any.
    pub exif: Option<&'a [u8]>,
    comps: Vec<Component>,
    /// Dequantisation in natural order, with the IDCT's 1/8 folded in.
    quant: [Option<[f32; 64]>; 4],
    dc: [Option<Huffman>; 4],
    ac: [Option<Huffman>; 4],
    restart: usize,
    scan: &'a [u8],
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]) as usize)
}

/// Reads the headers; `None` for anything this decoder leaves to jpeg-decoder.
#[inline(never)]
pub(crate) fn parse(data: &[u8]) -> Option<Frame<'_>> {
    if data.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut pos = 2;
    let mut f = Frame {
        width: 0,
        height: 0,
        exif: None,
        comps: Vec::new(),
        quant: [None; 4],
        dc: [None, None, None, None],
        ac: [None, None, None, None],
        restart: 0,
        scan: &[],
    };
    let mut adobe_rgb = false;
    loop {
        if *data.get(pos)? != 0xFF {
            return None;
        }
        while *data.get(pos)? == 0xFF {
            pos += 1;
        }
        let marker = *data.get(pos)?;
        pos += 1;
        let len = be16(data, pos)?;
        let seg = data.get(pos + 2..pos.checked_add(len)?)?;
        if len < 2 {
            return None;
        }
        match marker {
            0xC0 | 0xC1 => {
                if !f.comps.is_empty() || *seg.first()? != 8 {
                    return None;
                }
                f.height = be16(seg, 1)? as u32;
                f.width = be16(seg, 3)? as u32;
                let n = *seg.get(5)? as usize;
                if f.width == 0 || f.height == 0 || !(n == 1 || n == 3) {
                    return None;
                }
                for i in 0..n {
                    let c = seg.get(6 + 3 * i..9 + 3 * i)?;
                    f.comps.push(Component {
                        id: c[0],
                        h: (c[1] >> 4) as usize,
                        v: (c[1] & 15) as usize,
                        quant: c[2] as usize,
                        dc: 0,
                        ac: 0,
                    });
                }
            }
            0xC4 => {
                let mut s = seg;
                while !s.is_empty() {
                    let (class, id) = (s[0] >> 4, (s[0] & 15) as usize);
                    let counts: [u8; 16] = s.get(1..17)?.try_into().ok()?;
                    let total: usize = counts.iter().map(|&c| c as usize).sum();
                    if id > 3 || class > 1 || total > 256 {
                        return None;
                    }
                    let table = Huffman::new(&counts, s.get(17..17 + total)?)?;
                    if class == 0 {
                        f.dc[id] = Some(table);
                    } else {
                        f.ac[id] = Some(table);
                    }
                    s = &s[17 + total..];
                }
            }
            0xDB => {
                let mut s = seg;
                while !s.is_empty() {
                    let (wide, id) = (s[0] >> 4, (s[0] & 15) as usize);
                    if id > 3 || wide > 1 {
                        return None;
                    }
                    let mut q = [0f32; 64];
                    for (k, &z) in ZIGZAG.iter().enumerate() {
                        let v = if wide == 1 {
                            be16(s, 1 + 2 * k)?
                        } else {
                            *s.get(1 + k)? as usize
                        };
                        q[z as usize] = v as f32 / 8.0;
                    }
                    f.quant[id] = Some(q);
                    s = &s[1 + 64 * (1 + wide as usize)..];
                }
            }
            0xDD => f.restart = be16(seg, 0)?,
            0xE1 => {
                if let Some(exif) = seg.strip_prefix(b"Exif\0\0") {
                    f.exif.get_or_insert(exif);
                }
            }
            // Adobe's transform flag 0 on three components: RGB, not YCbCr.
            0xEE => adobe_rgb = seg.starts_with(b"Adobe") && seg.get(11) == Some(&0),
            0xE0 | 0xE2..=0xED | 0xEF | 0xFE => {}
            0xDA => {
                let n = *seg.first()? as usize;
                if n != f.comps.len() || adobe_rgb {
                    return None;
                }
                for i in 0..n {
                    let (id, tables) = (*seg.get(1 + 2 * i)?, *seg.get(2 + 2 * i)?);
                    let c = &mut f.comps[i];
                    if c.id != id {
                        return None;
                    }
                    c.dc = (tables >> 4) as usize;
                    c.ac = (tables & 15) as usize;
                }
                if seg.get(1 + 2 * n..4 + 2 * n)? != [0, 63, 0] {
                    return None;
                }
                f.scan = data.get(pos + len..)?;
                return f.supported().then_some(f);
            }
            // Progressive, lossless, arithmetic, DNL, or a second frame.
            _ => return None,
        }
        pos += len;
    }
}

impl Frame<'_> {
    fn supported(&self) -> bool {
        let c = &self.comps;
        if c.iter().any(|c| {
            c.quant > 3
                || c.dc > 3
                || c.ac > 3
                || self.quant[c.quant].is_none()
                || self.dc[c.dc].is_none()
                || self.ac[c.ac].is_none()
        }) {
            return false;
        }
        match c.len() {
            1 => true,
            // Component ids R, G, B: jpeg-decoder reads those as RGB.
            // Luma at 1 or 2 blocks each way; both chroma planes alike, at
            // full, half-across, or half both ways of its resolution.
            3 => {
                [c[0].id, c[1].id, c[2].id] != [b'R', b'G', b'B']
                    && (1..=2).contains(&c[0].h)
                    && (1..=2).contains(&c[0].v)
                    && c[1].h == c[2].h
                    && c[1].v == c[2].v
                    && self.chroma_ratio().is_some()
            }
            _ => false,
        }
    }

    /// How many luma samples each chroma sample covers, across and down:
    /// (1, 1), (2, 1) or (2, 2).
    fn chroma_ratio(&self) -> Option<(usize, usize)> {
        let (y, c) = (self.comps.first()?, self.comps.get(1)?);
        if c.h == 0 || c.v == 0 || y.h % c.h != 0 || y.v % c.v != 0 {
            return None;
        }
        let r = (y.h / c.h, y.v / c.v);
        matches!(r, (1, 1) | (2, 1) | (2, 2)).then_some(r)
    }

    /// The blocks per MCU of component `i` across and down.
    fn blocks(&self, i: usize) -> (usize, usize) {
        if self.comps.len() == 1 {
            (1, 1)
        } else {
            (self.comps[i].h, self.comps[i].v)
        }
    }

    /// Decodes the scan and converts to RGB; `None` on a damaged stream.
    pub(crate) fn decode(&self) -> Option<RgbImage> {
        self.decode_at(false)
    }

    /// [`Frame::decode`] at half the size each way (sides rounded up, as
    /// jpeg-decoder's 1/2 scale): each block's 4×4 lowest frequencies
    /// through a 4-point IDCT, the same MCU-row calls, the same upsampling
    /// and colour conversion on planes half as wide.
    pub(crate) fn decode_half(&self) -> Option<RgbImage> {
        self.decode_at(true)
    }

    #[inline(never)]
    fn decode_at(&self, half: bool) -> Option<RgbImage> {
        let (hmax, vmax) = self.blocks(0);
        let (full_w, full_h) = (self.width as usize, self.height as usize);
        let (mcux, mcuy) = (full_w.div_ceil(8 * hmax), full_h.div_ceil(8 * vmax));
        let (side, (w, h)) = if half {
            (4, (full_w.div_ceil(2), full_h.div_ceil(2)))
        } else {
            (8, (full_w, full_h))
        };
        let mut planes: Vec<Plane> = (0..self.comps.len())
            .map(|i| {
                let (bh, bv) = self.blocks(i);
                let (pw, ph) = (mcux * bh * side, mcuy * bv * side);
                Plane {
                    stride: pw,
                    rows: ph,
                    px: vec![0u8; pw * ph],
                }
            })
            .collect();
        let mut bits = Bits {
            data: self.scan,
            pos: 0,
            acc: 0,
            n: 0,
            past_end: 0,
        };
        let mut pred = [0i32; 3];
        let mut left = self.restart;
        for my in 0..mcuy {
            let mut mx = 0;
            while mx < mcux {
                // Up to the next restart, or the row's end.
                let run = if self.restart > 0 {
                    if left == 0 {
                        bits.restart()?;
                        pred = [0; 3];
                        left = self.restart;
                    }
                    left.min(mcux - mx)
                } else {
                    mcux - mx
                };
                let at = (my, mx, run);
                self.decode_mcus(&mut bits, &mut planes, &mut pred, at, half)?;
                mx += run;
                left = left.saturating_sub(run);
            }
            // A scan that ended early (a cut file) is declined at the row
            // it ran out in, not after decoding the rest from padding.
            if bits.overrun() {
                return None;
            }
        }
        let mut out = vec![0u8; w * h * 3];
        if planes.len() == 1 {
            for (y, o) in out.chunks_exact_mut(w * 3).enumerate() {
                grey_row(&planes[0].px[y * planes[0].stride..][..w], o);
            }
        } else {
            let ratio = self.chroma_ratio()?;
            let mut cb = vec![0u8; w];
            let mut cr = vec![0u8; w];
            for (y, o) in out.chunks_exact_mut(w * 3).enumerate() {
                for (plane, row) in planes[1..].iter().zip([&mut cb, &mut cr]) {
                    match ratio {
                        (1, 1) => row[..w].copy_from_slice(&plane.px[y * plane.stride..][..w]),
                        (2, 1) => upsample_h2(plane.row(y), &mut row[..w]),
                        _ => upsample_h2v2(
                            plane.row(y / 2),
                            plane.row(neighbour(y, plane.rows)),
                            &mut row[..w],
                        ),
                    }
                }
                ycc_row(
                    &planes[0].px[y * planes[0].stride..][..w],
                    &cb[..w],
                    &cr[..w],
                    o,
                );
            }
        }
        RgbImage::from_raw(w as u32, h as u32, out)
    }

    /// `run` MCUs of MCU row `my` from column `mx`: entropy decoding and IDCT
    /// into the planes, 8×8 a block or (`half`) 4×4.
    #[inline(never)]
    fn decode_mcus(
        &self,
        bits: &mut Bits,
        planes: &mut [Plane],
        pred: &mut [i32; 3],
        (my, mx, run): (usize, usize, usize),
        half: bool,
    ) -> Option<()> {
        let mut coef = [0f32; 64];
        for m in mx..mx + run {
            for (i, c) in self.comps.iter().enumerate() {
                let (bh, bv) = self.blocks(i);
                let (dc, ac) = (self.dc[c.dc].as_ref()?, self.ac[c.ac].as_ref()?);
                let q = self.quant[c.quant].as_ref()?;
                for by in 0..bv {
                    for bx in 0..bh {
                        coef.fill(0.0);
                        let s = bits.symbol(dc)? as u32;
                        if s > 11 {
                            return None;
                        }
                        pred[i] = pred[i].wrapping_add(bits.extend(s));
                        coef[0] = pred[i] as f32 * q[0];
                        // Which rows and columns hold a coefficient (bit 0:
                        // the first; the DC always counts).
                        let (mut rows, mut cols) = (1u8, 1u8);
                        let mut k = 1;
                        while k < 64 {
                            let e = bits.ac_entry(ac);
                            let (r, v) = if e & END_OF_BLOCK != 0 {
                                break;
                            } else if e != 0 {
                                ((e >> 8 & 15) as usize, e >> 16)
                            } else {
                                let rs = bits.symbol(ac)?;
                                let (r, s) = ((rs >> 4) as usize, (rs & 15) as u32);
                                if s == 0 {
                                    if r != 15 {
                                        break;
                                    }
                                    k += 16;
                                    continue;
                                }
                                (r, bits.extend(s))
                            };
                            k += r;
                            if k > 63 {
                                return None;
                            }
                            let z = ZIGZAG[k] as usize;
                            coef[z] = v as f32 * q[z];
                            rows |= 1 << (z / 8);
                            cols |= 1 << (z % 8);
                            k += 1;
                        }
                        let p = &mut planes[i];
                        if half {
                            let (x, y) = ((m * bh + bx) * 4, (my * bv + by) * 4);
                            idct_block_4x4(&coef, &mut p.px[y * p.stride + x..], p.stride);
                        } else {
                            let (x, y) = ((m * bh + bx) * 8, (my * bv + by) * 8);
                            let at = y * p.stride + x;
                            idct_block(&coef, rows, cols, &mut p.px[at..], p.stride);
                        }
                    }
                }
            }
        }
        Some(())
    }
}

/// One decoded component, padded to whole MCUs.
struct Plane {
    stride: usize,
    rows: usize,
    px: Vec<u8>,
}

impl Plane {
    fn row(&self, y: usize) -> &[u8] {
        &self.px[y.min(self.rows - 1) * self.stride..][..self.stride]
    }
}

/// The chroma row that output row `y` blends with its own (y/2) in 4:2:0:
/// the one above for an even row, below for an odd one (edges repeat).
fn neighbour(y: usize, rows: usize) -> usize {
    if y.is_multiple_of(2) {
        (y / 2).saturating_sub(1)
    } else {
        (y / 2 + 1).min(rows - 1)
    }
}

/// An IDCT output sample as a pixel: level shift, rounding, clamp.
#[inline(always)]
fn level_shift(v: f32) -> u8 {
    (v + 128.5).clamp(0.0, 255.0) as u8
}

/// One 8×8 block of dequantised coefficients (natural order): IDCT, level
/// shift, clamp, written at `out` with `stride`. `rows` and `cols` mark the
/// rows and columns that hold a coefficient: most blocks of a photo have
/// only a few low frequencies, and a pass over a single row or column of
/// them is that row or column repeated.
#[inline(always)]
fn idct_block(coef: &[f32; 64], rows: u8, cols: u8, out: &mut [u8], stride: usize) {
    if rows == 1 && cols == 1 {
        let v = level_shift(coef[0]);
        for r in 0..8 {
            out[r * stride..][..8].fill(v);
        }
        return;
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return lanes::idct_block(coef, rows, cols, out, stride);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    idct_block_arrays(coef, rows, cols, out, stride);
}

/// A block at half size: its 4×4 lowest frequencies through a 4-point IDCT
/// both ways (`llm_even`, the even half of the 8-point one, so the 1/8 in
/// the quantisation table scales it alike), level shift, clamp. Plain f32
/// in every build: the same bytes natively and in the wasm.
#[inline(always)]
fn idct_block_4x4(coef: &[f32; 64], out: &mut [u8], stride: usize) {
    let idct4 = |a: [f32; 4]| llm_even(a, |x, y| x + y, |x, y| x - y, |x, k| x * k);
    // Down each of the four columns, then across each pixel row.
    let down: [[f32; 4]; 4] =
        std::array::from_fn(|u| idct4([coef[u], coef[8 + u], coef[16 + u], coef[24 + u]]));
    for y in 0..4 {
        let row = idct4([down[0][y], down[1][y], down[2][y], down[3][y]]);
        for (o, v) in out[y * stride..][..4].iter_mut().zip(row) {
            *o = level_shift(v);
        }
    }
}

/// `idct_block` on plain arrays (every target but the simd128 wasm).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn idct_block_arrays(coef: &[f32; 64], rows: u8, cols: u8, out: &mut [u8], stride: usize) {
    let freq: [[f32; 8]; 8] = std::array::from_fn(|r| std::array::from_fn(|c| coef[r * 8 + c]));
    // Down the columns: each row of `freq` is one vertical frequency of all
    // 8 columns at once.
    let down = if rows == 1 {
        [freq[0]; 8]
    } else {
        idct_8(&freq)
    };
    if cols == 1 {
        // Every pixel row is flat: the column pass left only column 0.
        for (r, row) in down.iter().enumerate() {
            out[r * stride..][..8].fill(level_shift(row[0]));
        }
        return;
    }
    // Across the rows, through the transpose: `across[c][r]` is pixel (r, c).
    let across = idct_8(&transpose(&down));
    for r in 0..8 {
        for (c, o) in out[r * stride..][..8].iter_mut().enumerate() {
            *o = level_shift(across[c][r]);
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn transpose(b: &[[f32; 8]; 8]) -> [[f32; 8]; 8] {
    std::array::from_fn(|r| std::array::from_fn(|c| b[c][r]))
}

/// Eight 1-D IDCTs at once, one per lane: `s[k]` holds frequency k of each.
/// The result is √8 times the orthonormal IDCT, so a 2-D pass over both axes
/// needs the 1/8 that the quantisation table carries.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn idct_8(s: &[[f32; 8]; 8]) -> [[f32; 8]; 8] {
    type L = [f32; 8];
    llm(
        s,
        |a: L, b: L| std::array::from_fn(|i| a[i] + b[i]),
        |a: L, b: L| std::array::from_fn(|i| a[i] - b[i]),
        |a: L, k| a.map(|v| v * k),
    )
}

/// The 1-D IDCT's butterflies (the LLM factorisation) over any set of
/// lanes: plain arrays, or f32x4 in the simd128 wasm.
#[inline(always)]
fn llm<L: Copy>(
    s: &[L; 8],
    add: impl Fn(L, L) -> L,
    sub: impl Fn(L, L) -> L,
    mul: impl Fn(L, f32) -> L,
) -> [L; 8] {
    let [e0, e1, e2, e3] = llm_even([s[0], s[2], s[4], s[6]], &add, &sub, &mul);
    // Odd part.
    let (o0, o1, o2, o3) = (s[7], s[5], s[3], s[1]);
    let z5 = mul(add(add(o0, o2), add(o1, o3)), 1.175_875_6);
    let z1 = mul(add(o0, o3), -0.899_976_2);
    let z2 = mul(add(o1, o2), -2.562_915_4);
    let z3 = add(mul(add(o0, o2), -1.961_570_6), z5);
    let z4 = add(mul(add(o1, o3), -0.390_180_64), z5);
    let o0 = add(mul(o0, 0.298_631_34), add(z1, z3));
    let o1 = add(mul(o1, 2.053_12), add(z2, z4));
    let o2 = add(mul(o2, 3.072_711), add(z2, z3));
    let o3 = add(mul(o3, 1.501_321_1), add(z1, z4));
    [
        add(e0, o3),
        add(e1, o2),
        add(e2, o1),
        add(e3, o0),
        sub(e3, o0),
        sub(e2, o1),
        sub(e1, o2),
        sub(e0, o3),
    ]
}

/// The even half of `llm`: frequencies 0, 2, 4 and 6 to its outputs 0–3,
/// which is also a whole 4-point IDCT (frequency k of 4 in slot 2k of 8).
#[inline(always)]
fn llm_even<L: Copy>(
    [s0, s2, s4, s6]: [L; 4],
    add: impl Fn(L, L) -> L,
    sub: impl Fn(L, L) -> L,
    mul: impl Fn(L, f32) -> L,
) -> [L; 4] {
    let z1 = mul(add(s2, s6), 0.541_196_1);
    let t2 = add(z1, mul(s6, -1.847_759));
    let t3 = add(z1, mul(s2, 0.765_366_9));
    let (t0, t1) = (add(s0, s4), sub(s0, s4));
    [add(t0, t3), add(t1, t2), sub(t1, t2), sub(t0, t3)]
}

/// A chroma row doubled across, each new sample ¾ of its own and ¼ of its
/// neighbour's (the triangle filter; edges repeat).
#[inline(never)]
fn upsample_h2(src: &[u8], out: &mut [u8]) {
    let n = out.len().div_ceil(2).min(src.len());
    if n < 2 {
        out.fill(src.first().copied().unwrap_or(128));
        return;
    }
    let s = &src[..n];
    let tri = |c: u8, side: u8, bias: u16| ((3 * c as u16 + side as u16 + bias) >> 2) as u8;
    out[0] = s[0];
    out[1] = tri(s[0], s[1], 2);
    // The interior in a loop of known bounds, so the compiler can widen it.
    let body = &mut out[2..2 * (n - 1)];
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let start = lanes::upsample_h2_interior(s, body);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let start = 1;
    for i in start..n - 1 {
        body[2 * i - 2] = tri(s[i], s[i - 1], 1);
        body[2 * i - 1] = tri(s[i], s[i + 1], 2);
    }
    out[2 * (n - 1)] = tri(s[n - 1], s[n - 2], 1);
    if let Some(o) = out.get_mut(2 * n - 1) {
        *o = s[n - 1];
    }
}

/// A 4:2:0 chroma row doubled both ways: ¾ of the nearer row and ¼ of the
/// other, then the same across.
#[inline(never)]
fn upsample_h2v2(near: &[u8], far: &[u8], out: &mut [u8]) {
    let n = out.len().div_ceil(2).min(near.len()).min(far.len());
    if n == 0 {
        return;
    }
    let col = |i: usize| 3 * near[i] as u16 + far[i] as u16;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let start = lanes::upsample_h2v2_interior(&near[..n], &far[..n], out);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let start = 1;
    // `out` holds 2n − 1 or more samples: pair i's first always fits.
    for i in (0..1).chain(start..n) {
        let c = 3 * col(i);
        out[2 * i] = ((c + col(i.saturating_sub(1)) + 8) >> 4) as u8;
        if let Some(p) = out.get_mut(2 * i + 1) {
            *p = ((c + col((i + 1).min(n - 1)) + 7) >> 4) as u8;
        }
    }
}

/// JFIF's YCbCr → RGB in i16 fixed point with 7 fractional bits, the
/// arithmetic of wasm's `i16x8.q15mulr_sat_s` (`q15`), so the simd128 wasm
/// and every other build give the same bytes. 1.402 and 1.772 are 1 + a
/// Q15 fraction; within 0.01 of the exact value before rounding.
const R_CR: i32 = 13_173; // 1.402 − 1
const G_CB: i32 = -11_277; // −0.344136
const G_CR: i32 = -23_401; // −0.714136
const B_CB: i32 = 25_297; // 1.772 − 1

/// Q15 multiplication rounded, as `i16x8.q15mulr_sat_s` (whose saturating
/// case, −1 × −1, no constant here takes).
#[inline(always)]
fn q15(a: i32, k: i32) -> i32 {
    (a * k + (1 << 14)) >> 15
}

#[inline(never)]
fn ycc_row(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let (y, cb, cr, out) = {
        let done = lanes::ycc_rows(y, cb, cr, out);
        (&y[done..], &cb[done..], &cr[done..], &mut out[3 * done..])
    };
    for (((o, &y), &cb), &cr) in out.chunks_exact_mut(3).zip(y).zip(cb).zip(cr) {
        o.copy_from_slice(&ycc_px(y, cb, cr));
    }
}

#[inline(always)]
fn ycc_px(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let y = ((y as i32) << 7) + 64;
    let (cb, cr) = ((cb as i32 - 128) << 7, (cr as i32 - 128) << 7);
    let px = |v: i32| (v >> 7).clamp(0, 255) as u8;
    [
        px(y + cr + q15(cr, R_CR)),
        px(y + q15(cb, G_CB) + q15(cr, G_CR)),
        px(y + cb + q15(cb, B_CB)),
    ]
}

fn grey_row(y: &[u8], out: &mut [u8]) {
    for (o, &v) in out.chunks_exact_mut(3).zip(y) {
        o.fill(v);
    }
}

/// The simd128 wasm's versions of the hot loops: the IDCT on f32x4 (each
/// 8-wide lane set of the arrays version is two vectors), the interior of
/// the 4:2:2 upsampling and the colour conversion eight pixels at a time.
/// Safe intrinsics only: vectors are built from and read back to plain
/// integers, which LLVM turns into single loads and stores.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    use core::arch::wasm32::*;

    #[inline(always)]
    fn load4(a: &[f32]) -> v128 {
        f32x4(a[0], a[1], a[2], a[3])
    }

    /// Eight bytes from `a`, widened to eight u16 lanes.
    #[inline(always)]
    fn load8_u16(a: &[u8]) -> v128 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&a[..8]);
        u16x8_extend_low_u8x16(u64x2(u64::from_le_bytes(b), 0))
    }

    /// The low eight bytes of `v` into `out[..8]`.
    #[inline(always)]
    fn store8(v: v128, out: &mut [u8]) {
        out[..8].copy_from_slice(&i64x2_extract_lane::<0>(v).to_le_bytes());
    }

    #[inline(always)]
    fn store16(v: v128, out: &mut [u8]) {
        store8(v, out);
        out[8..16].copy_from_slice(&i64x2_extract_lane::<1>(v).to_le_bytes());
    }

    /// Rows `a`..`d` of a 4×4 block become its columns.
    #[inline(always)]
    fn transpose4(a: v128, b: v128, c: v128, d: v128) -> [v128; 4] {
        let ab0 = i32x4_shuffle::<0, 4, 1, 5>(a, b);
        let ab1 = i32x4_shuffle::<2, 6, 3, 7>(a, b);
        let cd0 = i32x4_shuffle::<0, 4, 1, 5>(c, d);
        let cd1 = i32x4_shuffle::<2, 6, 3, 7>(c, d);
        [
            i32x4_shuffle::<0, 1, 4, 5>(ab0, cd0),
            i32x4_shuffle::<2, 3, 6, 7>(ab0, cd0),
            i32x4_shuffle::<0, 1, 4, 5>(ab1, cd1),
            i32x4_shuffle::<2, 3, 6, 7>(ab1, cd1),
        ]
    }

    /// The 8×8 transpose of a block held as left halves `l` and right
    /// halves `r` of its rows; the result in the same form.
    #[inline(always)]
    fn transpose8(l: &[v128; 8], r: &[v128; 8]) -> ([v128; 8], [v128; 8]) {
        let [a0, a1, a2, a3] = transpose4(l[0], l[1], l[2], l[3]);
        let [b0, b1, b2, b3] = transpose4(l[4], l[5], l[6], l[7]);
        let [c0, c1, c2, c3] = transpose4(r[0], r[1], r[2], r[3]);
        let [d0, d1, d2, d3] = transpose4(r[4], r[5], r[6], r[7]);
        (
            [a0, a1, a2, a3, c0, c1, c2, c3],
            [b0, b1, b2, b3, d0, d1, d2, d3],
        )
    }

    /// Four 1-D IDCTs, one per lane.
    #[inline(always)]
    fn idct_4(s: &[v128; 8]) -> [v128; 8] {
        super::llm(
            s,
            |a, b| f32x4_add(a, b),
            |a, b| f32x4_sub(a, b),
            |a, k| f32x4_mul(a, f32x4_splat(k)),
        )
    }

    /// `super::idct_block` past its DC-only case. Columns 4–7 without a
    /// coefficient skip their half of the first pass; a block with only the
    /// first row of frequencies skips the first pass altogether.
    #[inline(never)]
    pub(super) fn idct_block(coef: &[f32; 64], rows: u8, cols: u8, out: &mut [u8], stride: usize) {
        let zero = f32x4_splat(0.0);
        let l: [v128; 8] = std::array::from_fn(|r| load4(&coef[r * 8..]));
        let r: [v128; 8] = if cols & 0xF0 == 0 {
            [zero; 8]
        } else {
            std::array::from_fn(|r| load4(&coef[r * 8 + 4..]))
        };
        let (l, r) = if rows == 1 {
            ([l[0]; 8], [r[0]; 8])
        } else if cols & 0xF0 == 0 {
            (idct_4(&l), [zero; 8])
        } else {
            (idct_4(&l), idct_4(&r))
        };
        // Rows 0–3 and 4–7, each as eight vectors of one frequency across.
        let (top, bottom) = transpose8(&l, &r);
        let (top, bottom) = (idct_4(&top), idct_4(&bottom));
        // Back to pixel rows: `l[r]`, `r[r]` are row r's halves.
        let (l, r) = transpose8(&top, &bottom);
        let bias = f32x4_splat(128.5);
        let px = |v: v128| i32x4_trunc_sat_f32x4(f32x4_add(v, bias));
        for y in (0..8).step_by(2) {
            let a = i16x8_narrow_i32x4(px(l[y]), px(r[y]));
            let b = i16x8_narrow_i32x4(px(l[y + 1]), px(r[y + 1]));
            let both = u8x16_narrow_i16x8(a, b);
            store8(both, &mut out[y * stride..]);
            out[(y + 1) * stride..][..8]
                .copy_from_slice(&i64x2_extract_lane::<1>(both).to_le_bytes());
        }
    }

    /// The interior of `super::upsample_h2` (`body[2i − 2]`, `body[2i − 1]`
    /// for input `i`) eight inputs at a time; returns the first `i` left.
    #[inline(always)]
    pub(super) fn upsample_h2_interior(s: &[u8], body: &mut [u8]) -> usize {
        let mut i = 1;
        let (one, two, three) = (u16x8_splat(1), u16x8_splat(2), u16x8_splat(3));
        while i + 9 <= s.len() {
            let c = u16x8_mul(load8_u16(&s[i..]), three);
            let even = u16x8_shr(u16x8_add(u16x8_add(c, load8_u16(&s[i - 1..])), one), 2);
            let odd = u16x8_shr(u16x8_add(u16x8_add(c, load8_u16(&s[i + 1..])), two), 2);
            store16(
                interleave(u8x16_narrow_i16x8(even, odd)),
                &mut body[2 * i - 2..],
            );
            i += 8;
        }
        i
    }

    /// The interior of `super::upsample_h2v2` (pairs 1.. of `out`) eight
    /// columns at a time; returns the first pair left.
    #[inline(always)]
    pub(super) fn upsample_h2v2_interior(near: &[u8], far: &[u8], out: &mut [u8]) -> usize {
        let three = u16x8_splat(3);
        let col = |i: usize| {
            u16x8_add(
                u16x8_mul(load8_u16(&near[i..]), three),
                load8_u16(&far[i..]),
            )
        };
        let mut i = 1;
        while i + 9 <= near.len().min(far.len()) && 2 * i + 16 <= out.len() {
            let c = u16x8_mul(col(i), three);
            let even = u16x8_shr(u16x8_add(u16x8_add(c, col(i - 1)), u16x8_splat(8)), 4);
            let odd = u16x8_shr(u16x8_add(u16x8_add(c, col(i + 1)), u16x8_splat(7)), 4);
            store16(interleave(u8x16_narrow_i16x8(even, odd)), &mut out[2 * i..]);
            i += 8;
        }
        i
    }

    /// Bytes 0–7 and 8–15 of `v` taken in turns.
    #[inline(always)]
    fn interleave(v: v128) -> v128 {
        i8x16_shuffle::<0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15>(v, v)
    }

    /// The colour conversion of `super::ycc_row`, eight pixels at a time
    /// in i16 lanes; returns how many pixels it wrote. The sums saturate
    /// where the scalar version clamps: a lane past i16 is past 255 too.
    #[inline(always)]
    pub(super) fn ycc_rows(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) -> usize {
        use super::{B_CB, G_CB, G_CR, R_CR};
        let k = |c: i32| i16x8_splat(c as i16);
        let centred = |a: &[u8]| i16x8_shl(i16x8_sub(load8_u16(a), k(128)), 7);
        let px = |sum: v128, yv: v128| i16x8_shr(i16x8_add_sat(yv, sum), 7);
        let mut i = 0;
        // Chunks of known length: no bounds checks in the loop.
        let rows = y
            .chunks_exact(8)
            .zip(cb.chunks_exact(8))
            .zip(cr.chunks_exact(8));
        for (((y, cb), cr), o) in rows.zip(out.chunks_exact_mut(24)) {
            let yv = i16x8_add(i16x8_shl(load8_u16(y), 7), k(64));
            let (cbv, crv) = (centred(cb), centred(cr));
            let r = px(i16x8_add(crv, i16x8_q15mulr_sat(crv, k(R_CR))), yv);
            let g = px(
                i16x8_add(
                    i16x8_q15mulr_sat(cbv, k(G_CB)),
                    i16x8_q15mulr_sat(crv, k(G_CR)),
                ),
                yv,
            );
            let b = px(i16x8_add(cbv, i16x8_q15mulr_sat(cbv, k(B_CB))), yv);
            let rg = u8x16_narrow_i16x8(r, g);
            let b = u8x16_narrow_i16x8(b, b);
            let first =
                i8x16_shuffle::<0, 8, 16, 1, 9, 17, 2, 10, 18, 3, 11, 19, 4, 12, 20, 5>(rg, b);
            let rest = i8x16_shuffle::<13, 21, 6, 14, 22, 7, 15, 23, 0, 0, 0, 0, 0, 0, 0, 0>(rg, b);
            store16(first, o);
            store8(rest, &mut o[16..]);
            i += 8;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The IDCT against T.81's definition, in f64, on a few coefficient sets.
    #[test]
    fn idct_matches_the_definition() {
        let sets: [Vec<(usize, i32)>; 6] = [
            vec![(0, 40)],
            vec![(0, -12), (1, 30), (8, -25)],
            vec![(0, 7), (9, 14), (18, -9), (63, 5), (7, -20), (56, 11)],
            vec![(0, 10), (3, -20), (5, 9)],
            vec![(0, -5), (16, 22), (40, -13)],
            (0..64).map(|k| (k, ((k * 37) % 23) as i32 - 11)).collect(),
        ];
        let q = [2.0f32 / 8.0; 64]; // every coefficient doubled, 1/8 folded in
        for set in sets {
            let mut coef = [0i32; 64];
            for &(k, v) in &set {
                coef[k] = v;
            }
            let mut out = [0u8; 64];
            let deq: [f32; 64] = std::array::from_fn(|k| coef[k] as f32 * q[k]);
            let (mut rows, mut cols) = (1u8, 1u8);
            for &(k, _) in &set {
                rows |= 1 << (k / 8);
                cols |= 1 << (k % 8);
            }
            idct_block(&deq, rows, cols, &mut out, 8);
            for (n, &got) in out.iter().enumerate() {
                let (y, x) = ((n / 8) as f64, (n % 8) as f64);
                let mut s = 0.0;
                for (k, &c) in coef.iter().enumerate() {
                    let (v, u) = ((k / 8) as f64, (k % 8) as f64);
                    let cu = if u == 0.0 { 0.5f64.sqrt() } else { 1.0 };
                    let cv = if v == 0.0 { 0.5f64.sqrt() } else { 1.0 };
                    s += cu
                        * cv
                        * 2.0
                        * c as f64
                        * ((2.0 * x + 1.0) * u * std::f64::consts::PI / 16.0).cos()
                        * ((2.0 * y + 1.0) * v * std::f64::consts::PI / 16.0).cos();
                }
                let want = (s / 4.0 + 128.0).round().clamp(0.0, 255.0);
                assert!(
                    (got as f64 - want).abs() <= 1.0,
                    "{set:?} pixel {n}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn huffman_tables_that_overflow_are_refused() {
        // Three codes of one bit cannot exist.
        let mut counts = [0u8; 16];
        counts[0] = 3;
        assert!(Huffman::new(&counts, &[1, 2, 3]).is_none());
        // Fewer symbols than the counts promise.
        counts[0] = 2;
        assert!(Huffman::new(&counts, &[1]).is_none());
        assert!(Huffman::new(&counts, &[1, 2]).is_some());
    }

    #[test]
    fn upsampling_keeps_flat_chroma_flat_and_blends_edges() {
        let mut out = [0u8; 7];
        upsample_h2(&[100, 100, 100, 100], &mut out);
        assert_eq!(out, [100; 7]);
        upsample_h2(&[0, 200], &mut out[..4]);
        assert_eq!(&out[..4], &[0, 50, 150, 200]);
        let mut out = [0u8; 4];
        upsample_h2v2(&[0, 200], &[0, 200], &mut out);
        assert_eq!(out, [0, 50, 150, 200]);
    }

    /// Every row length through the upsamplers (in the wasm, the vector
    /// interiors and their scalar ends) against the triangle filter written
    /// per sample, edges repeated.
    #[test]
    fn upsampling_matches_the_filter_at_every_width() {
        let row = |seed: u32, n: usize| -> Vec<u8> {
            (0..n as u32)
                .map(|i| ((i * 97 + seed * 31) ^ (i * i)) as u8)
                .collect()
        };
        for w in 1..70usize {
            let n = w.div_ceil(2);
            let (s, far) = (row(1, n), row(2, n));
            let at = |i: usize, step: isize| (i as isize + step).clamp(0, n as isize - 1) as usize;
            let mut out = vec![0u8; w];
            upsample_h2(&s, &mut out);
            for (x, &o) in out.iter().enumerate() {
                let (i, step, bias) = if x % 2 == 0 {
                    (x / 2, -1, 1)
                } else {
                    (x / 2, 1, 2)
                };
                let want = (3 * s[i] as u16 + s[at(i, step)] as u16 + bias) >> 2;
                assert_eq!(o as u16, want, "h2, width {w}, x {x}");
            }
            upsample_h2v2(&s, &far, &mut out);
            let col = |i: usize| 3 * s[i] as u16 + far[i] as u16;
            for (x, &o) in out.iter().enumerate() {
                let (i, step, bias) = if x % 2 == 0 {
                    (x / 2, -1, 8)
                } else {
                    (x / 2, 1, 7)
                };
                let want = (3 * col(i) + col(at(i, step)) + bias) >> 4;
                assert_eq!(o as u16, want, "h2v2, width {w}, x {x}");
            }
        }
    }

    /// JFIF's YCbCr → RGB in f64, unrounded and unclamped.
    fn jfif(y: u8, cb: u8, cr: u8) -> [f64; 3] {
        let (l, b, r) = (y as f64, cb as f64 - 128.0, cr as f64 - 128.0);
        [
            l + 1.402 * r,
            l - 0.344_136 * b - 0.714_136 * r,
            l + 1.772 * b,
        ]
    }

    /// The colour conversion at every row length (in the wasm, eight pixels
    /// a vector and the rest one by one) against JFIF's equations in f64.
    #[test]
    fn colour_conversion_matches_jfif_at_every_width() {
        for w in 1..40usize {
            let v = |k: usize| -> Vec<u8> {
                (0..w)
                    .map(|i| (i * 53 + k * 91 + i * i * k) as u8)
                    .collect()
            };
            let (y, cb, cr) = (v(0), v(1), v(2));
            let mut out = vec![0u8; 3 * w];
            ycc_row(&y, &cb, &cr, &mut out);
            for i in 0..w {
                let want = jfif(y[i], cb[i], cr[i]);
                for (c, want) in want.into_iter().enumerate() {
                    let got = out[3 * i + c] as f64;
                    assert!(
                        (got - want.clamp(0.0, 255.0)).abs() <= 0.51,
                        "width {w}, pixel {i}, channel {c}: {got} vs {want}"
                    );
                }
            }
        }
    }

    /// Every luma against a grid of chroma pairs, as rows (the wasm's
    /// vectors) and pixel by pixel: the same bytes, within rounding of JFIF.
    #[test]
    fn colour_conversion_is_one_arithmetic_in_every_build() {
        let chroma: Vec<u8> = (0..=255).step_by(3).chain([255]).collect();
        let mut worst = 0f64;
        for &cb in &chroma {
            for &cr in &chroma {
                let y: Vec<u8> = (0..=255).collect();
                let mut out = vec![0u8; 3 * 256];
                ycc_row(&y, &[cb; 256], &[cr; 256], &mut out);
                for (l, o) in y.iter().zip(out.chunks_exact(3)) {
                    assert_eq!(o, ycc_px(*l, cb, cr), "y {l}, cb {cb}, cr {cr}");
                    for (got, want) in o.iter().zip(jfif(*l, cb, cr)) {
                        worst = worst.max((*got as f64 - want.clamp(0.0, 255.0)).abs());
                    }
                }
            }
        }
        assert!(worst <= 0.51, "{worst}");
    }

    /// Mean and largest per-channel difference between our decode and
    /// jpeg-decoder's, at full size or (`half`) at jpeg-decoder's 1/2 scale,
    /// whose output size ours must give too; `None` when ours declined the
    /// file, or where jpeg-decoder takes a smaller scale for that size (a
    /// side of 1 or 2 pixels already reaches it at 1/8).
    fn against_jpeg_decoder_at(bytes: &[u8], half: bool) -> Option<(f64, u8)> {
        let frame = parse(bytes)?;
        let ours = if half {
            frame.decode_half()?
        } else {
            frame.decode()?
        };
        let mut dec = jpeg_decoder::Decoder::new(std::io::Cursor::new(bytes));
        if half {
            let (w, h) = (
                frame.width.div_ceil(2) as u16,
                frame.height.div_ceil(2) as u16,
            );
            if dec.scale(w, h).unwrap() != (w, h) {
                return None;
            }
            assert_eq!(ours.dimensions(), (w as u32, h as u32));
        }
        let theirs = dec.decode().expect("jpeg-decoder reads it");
        let theirs: Vec<u8> = if ours.len() == theirs.len() {
            theirs
        } else {
            theirs.iter().flat_map(|&g| [g, g, g]).collect()
        };
        assert_eq!(ours.len(), theirs.len());
        let (mut sum, mut max) = (0u64, 0u8);
        for (a, b) in ours.as_raw().iter().zip(&theirs) {
            let d = a.abs_diff(*b);
            sum += d as u64;
            max = max.max(d);
        }
        Some((sum as f64 / theirs.len() as f64, max))
    }

    /// A pattern with edges, gradients and colour, `w`×`h`.
    fn pattern(w: u32, h: u32) -> Vec<u8> {
        let mut px = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                let ring =
                    ((x as f32 - w as f32 / 2.0).hypot(y as f32 - h as f32 / 2.0) / 6.0) as u32;
                px.extend([
                    (x * 255 / w) as u8,
                    if ring.is_multiple_of(2) { 40 } else { 210 },
                    ((x ^ y) & 0xFF) as u8,
                ]);
            }
        }
        px
    }

    /// Every layout this decoder takes, odd sizes and restart intervals
    /// included, decodes within a level or two of jpeg-decoder (the IDCT
    /// here is float, jpeg-decoder's fixed point).
    #[test]
    fn decodes_like_jpeg_decoder() {
        use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
        for (w, h) in [(64u32, 48u32), (77, 53), (8, 8), (1, 17), (203, 1)] {
            let px = pattern(w, h);
            for (sampling, grey, restart) in [
                (SamplingFactor::R_4_4_4, false, 0),
                (SamplingFactor::R_4_2_2, false, 0),
                (SamplingFactor::R_4_2_0, false, 0),
                (SamplingFactor::R_4_2_0, false, 3),
                (SamplingFactor::R_4_4_4, true, 1),
            ] {
                for quality in [30u8, 90, 100] {
                    let mut out = Vec::new();
                    let mut enc = Encoder::new(&mut out, quality);
                    enc.set_sampling_factor(sampling);
                    if restart > 0 {
                        enc.set_restart_interval(restart);
                    }
                    let grey_px: Vec<u8>;
                    let (data, color) = if grey {
                        grey_px = px.chunks(3).map(|p| p[1]).collect();
                        (&grey_px[..], ColorType::Luma)
                    } else {
                        (&px[..], ColorType::Rgb)
                    };
                    enc.encode(data, w as u16, h as u16, color).unwrap();
                    for half in [false, true] {
                        let what = format!(
                            "{w}×{h} {sampling:?} grey {grey} restart {restart} q{quality} half {half}"
                        );
                        let Some((mean, max)) = against_jpeg_decoder_at(&out, half) else {
                            assert!(half && w.min(h) <= 2, "declined {what}");
                            continue;
                        };
                        assert!(mean < 0.6 && max <= 6, "{what}: mean {mean:.3}, max {max}");
                    }
                }
            }
        }
    }

    /// The sample photos (fetched by scripts/setup.sh) where they are here.
    #[test]
    fn decodes_the_sample_photos_like_jpeg_decoder() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let photos = std::fs::read_dir(root.join("tests/fixtures/photos"))
            .into_iter()
            .flatten()
            .flatten();
        // The anchors' camera frame (scripts/bench-anchors.sh): luma 2×2 and
        // chroma 1×2 blocks per MCU, i.e. 4:2:2 in 16-row MCUs.
        let frame = root.join("bench-out/anchors/frame-640x480.jpg");
        let mut seen = 0;
        for path in photos
            .map(|e| e.path())
            .chain(frame.exists().then_some(frame))
        {
            let bytes = std::fs::read(&path).unwrap();
            for half in [false, true] {
                if let Some((mean, max)) = against_jpeg_decoder_at(&bytes, half) {
                    eprintln!("{path:?} half {half}: mean {mean:.3}, max {max}");
                    assert!(
                        mean < 0.6 && max <= 8,
                        "{path:?} half {half}: mean {mean:.3}, max {max}"
                    );
                    seen += 1;
                }
            }
        }
        eprintln!("{seen} sample photos decoded by ours");
    }

    /// Progressive files and damaged scans are left to jpeg-decoder.
    #[test]
    fn declines_what_it_does_not_decode() {
        let px = pattern(64, 48);
        let mut out = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut out, 80);
        enc.set_progressive(true);
        enc.encode(&px, 64, 48, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        assert!(parse(&out).is_none());
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 80)
            .encode(&px, 64, 48, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        assert!(parse(&out).and_then(|f| f.decode()).is_some());
        // Cut in the middle of the scan: ours declines, rather than guess.
        let cut = &out[..out.len() * 2 / 3];
        assert!(parse(cut).and_then(|f| f.decode()).is_none());
        // Every prefix and a corrupted copy: no panic, whatever the answer.
        for n in 0..out.len() {
            let _ = parse(&out[..n]).and_then(|f| f.decode());
        }
        let mut bad = out.clone();
        for i in (200..bad.len() - 2).step_by(7) {
            bad[i] ^= 0x5A;
        }
        let _ = parse(&bad).and_then(|f| f.decode());
    }
}
