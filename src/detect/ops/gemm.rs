//! The matrix micro-kernel shared by the 1×1 convolutions and the first
//! layer: `CO` output channels × `PX` pixels of sums kept in registers (8
//! four-lane vectors) over `k` inputs, then bias, shortcut and ReLU added
//! while storing into NCHW planes.

use super::simd::F32x4;

/// Output channels per block.
pub(super) const CO: usize = 4;
/// Pixels per block.
pub(super) const PX: usize = 8;
/// One input's `PX` pixels, as two lanes.
pub(super) type Pixels = [[f32; 4]; 2];

/// `weights` (`cout × k`, row-major) in blocks of `CO` output channels:
/// `[cout/CO][k][CO]`, the last block padded with zero rows.
#[cfg(any(feature = "onnx", test))]
pub(super) fn pack(weights: &[f32], cout: usize, k: usize) -> Vec<f32> {
    let mut packed = vec![0f32; cout.div_ceil(CO) * k * CO];
    for co in 0..cout {
        for i in 0..k {
            packed[(co / CO * k + i) * CO + co % CO] = weights[co * k + i];
        }
    }
    packed
}

/// The convolution's sums for output channels `b·CO..` and the pixels in
/// `xs` (one entry per input, in the order of the packed weights).
#[inline(always)]
pub(super) fn block(packed: &[f32], b: usize, bias: &[f32], xs: &[Pixels]) -> [[F32x4; 2]; CO] {
    let k = xs.len();
    let w = &packed[b * k * CO..][..k * CO];
    let mut acc: [[F32x4; 2]; CO] =
        std::array::from_fn(|j| [F32x4::splat(bias.get(b * CO + j).copied().unwrap_or(0.0)); 2]);
    for (w4, xv) in w.chunks_exact(CO).zip(xs) {
        let (lo, hi) = (F32x4::load(&xv[0]), F32x4::load(&xv[1]));
        for (row, wj) in acc.iter_mut().zip(w4) {
            let wj = F32x4::splat(*wj);
            row[0] = row[0].mul_add(wj, lo);
            row[1] = row[1].mul_add(wj, hi);
        }
    }
    acc
}

/// Where a block's sums go and what is added on the way.
pub(super) struct Store<'a> {
    /// NCHW output: `cout` planes of `plane` values.
    pub out: &'a mut [f32],
    pub plane: usize,
    pub cout: usize,
    /// A shortcut input with its channel count (planes of the same size);
    /// channels past it count as zero.
    pub shortcut: Option<(&'a [f32], usize)>,
    pub relu: bool,
}

impl Store<'_> {
    /// Stores block `b`'s sums at pixel `p` of every plane.
    #[inline(always)]
    pub(super) fn put(&mut self, acc: [[F32x4; 2]; CO], b: usize, p: usize) {
        for (j, mut row) in acc.into_iter().enumerate() {
            let co = b * CO + j;
            if co >= self.cout {
                break;
            }
            if let Some((s, cs)) = self.shortcut
                && co < cs
            {
                for (half, v) in row
                    .iter_mut()
                    .zip(s[co * self.plane + p..][..PX].chunks_exact(4))
                {
                    *half = half.add(F32x4::load(v.try_into().unwrap_or(&[0.0; 4])));
                }
            }
            let dst = &mut self.out[co * self.plane + p..][..PX];
            for (half, d) in row.into_iter().zip(dst.chunks_exact_mut(4)) {
                let half = if self.relu { half.relu() } else { half };
                if let Ok(d) = <&mut [f32; 4]>::try_from(d) {
                    half.store(d);
                }
            }
        }
    }
}
