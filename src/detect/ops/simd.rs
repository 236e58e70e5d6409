//! Four f32 lanes: simd128 in the wasm (built with `+simd128`; with
//! `+relaxed-simd` too, the multiply-add is one fused `f32x4.relaxed_madd`),
//! SSE on x86_64 (always present there), plain arrays elsewhere. LLVM left the
//! pointwise kernel's 32 running sums as scalar code with spills when written
//! with arrays, so the kernel says what it wants.
//!
//! The only `unsafe` is the intrinsics themselves: every load and store goes
//! through a `&[f32; 4]` / `&mut [f32; 4]`, so the pointer is always valid for
//! four floats (unaligned loads and stores are used throughout).
#![allow(unsafe_code)]

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    pub(crate) struct F32x4(v128);

    impl F32x4 {
        #[inline(always)]
        pub(crate) fn splat(v: f32) -> Self {
            F32x4(f32x4_splat(v))
        }
        #[inline(always)]
        pub(crate) fn load(a: &[f32; 4]) -> Self {
            // SAFETY: `a` is 16 readable bytes; v128_load has no alignment requirement.
            F32x4(unsafe { v128_load(a.as_ptr().cast()) })
        }
        #[inline(always)]
        pub(crate) fn store(self, a: &mut [f32; 4]) {
            // SAFETY: `a` is 16 writable bytes; v128_store has no alignment requirement.
            unsafe { v128_store(a.as_mut_ptr().cast(), self.0) }
        }
        /// `self + a·b`: one fused multiply-add where the engine has
        /// relaxed SIMD (a build with `+relaxed-simd`), else two.
        #[inline(always)]
        pub(crate) fn mul_add(self, a: Self, b: Self) -> Self {
            #[cfg(target_feature = "relaxed-simd")]
            return F32x4(f32x4_relaxed_madd(a.0, b.0, self.0));
            #[cfg(not(target_feature = "relaxed-simd"))]
            F32x4(f32x4_add(self.0, f32x4_mul(a.0, b.0)))
        }
        #[inline(always)]
        pub(crate) fn add(self, a: Self) -> Self {
            F32x4(f32x4_add(self.0, a.0))
        }
        /// Lanes below zero become zero (`pmax`: one instruction, no NaN rules).
        #[inline(always)]
        pub(crate) fn relu(self) -> Self {
            F32x4(f32x4_pmax(self.0, f32x4_splat(0.0)))
        }
        /// The larger of each pair of lanes (`pmax`).
        #[inline(always)]
        pub(crate) fn max(self, a: Self) -> Self {
            F32x4(f32x4_pmax(self.0, a.0))
        }
        /// The larger of each two neighbouring lanes of `self` then `a`
        /// (8 lanes in, 4 out): the even lanes against the odd ones.
        #[inline(always)]
        pub(crate) fn max_of_pairs(self, a: Self) -> Self {
            let even = i32x4_shuffle::<0, 2, 4, 6>(self.0, a.0);
            let odd = i32x4_shuffle::<1, 3, 5, 7>(self.0, a.0);
            F32x4(f32x4_pmax(even, odd))
        }
        /// The even lanes of `self` then `a`, and the odd ones.
        #[inline(always)]
        pub(crate) fn split_pairs(self, a: Self) -> (Self, Self) {
            (
                F32x4(i32x4_shuffle::<0, 2, 4, 6>(self.0, a.0)),
                F32x4(i32x4_shuffle::<1, 3, 5, 7>(self.0, a.0)),
            )
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod imp {
    use core::arch::x86_64::*;

    #[derive(Clone, Copy)]
    pub(crate) struct F32x4(__m128);

    impl F32x4 {
        #[inline(always)]
        pub(crate) fn splat(v: f32) -> Self {
            // SAFETY: SSE is part of the x86_64 baseline.
            F32x4(unsafe { _mm_set1_ps(v) })
        }
        #[inline(always)]
        pub(crate) fn load(a: &[f32; 4]) -> Self {
            // SAFETY: `a` is 16 readable bytes; loadu has no alignment requirement.
            F32x4(unsafe { _mm_loadu_ps(a.as_ptr()) })
        }
        #[inline(always)]
        pub(crate) fn store(self, a: &mut [f32; 4]) {
            // SAFETY: `a` is 16 writable bytes; storeu has no alignment requirement.
            unsafe { _mm_storeu_ps(a.as_mut_ptr(), self.0) }
        }
        #[inline(always)]
        pub(crate) fn mul_add(self, a: Self, b: Self) -> Self {
            // SAFETY: SSE is part of the x86_64 baseline.
            F32x4(unsafe { _mm_add_ps(self.0, _mm_mul_ps(a.0, b.0)) })
        }
        #[inline(always)]
        pub(crate) fn add(self, a: Self) -> Self {
            // SAFETY: SSE is part of the x86_64 baseline.
            F32x4(unsafe { _mm_add_ps(self.0, a.0) })
        }
        #[inline(always)]
        pub(crate) fn relu(self) -> Self {
            // SAFETY: SSE is part of the x86_64 baseline.
            F32x4(unsafe { _mm_max_ps(self.0, _mm_setzero_ps()) })
        }
        #[inline(always)]
        pub(crate) fn max(self, a: Self) -> Self {
            // SAFETY: SSE is part of the x86_64 baseline.
            F32x4(unsafe { _mm_max_ps(self.0, a.0) })
        }
        #[inline(always)]
        pub(crate) fn max_of_pairs(self, a: Self) -> Self {
            // SAFETY: SSE is part of the x86_64 baseline.
            unsafe {
                let even = _mm_shuffle_ps::<0b10_00_10_00>(self.0, a.0);
                let odd = _mm_shuffle_ps::<0b11_01_11_01>(self.0, a.0);
                F32x4(_mm_max_ps(even, odd))
            }
        }
        #[inline(always)]
        pub(crate) fn split_pairs(self, a: Self) -> (Self, Self) {
            // SAFETY: SSE is part of the x86_64 baseline.
            unsafe {
                (
                    F32x4(_mm_shuffle_ps::<0b10_00_10_00>(self.0, a.0)),
                    F32x4(_mm_shuffle_ps::<0b11_01_11_01>(self.0, a.0)),
                )
            }
        }
    }
}

#[cfg(not(any(
    all(target_arch = "wasm32", target_feature = "simd128"),
    target_arch = "x86_64"
)))]
mod imp {
    #[derive(Clone, Copy)]
    pub(crate) struct F32x4([f32; 4]);

    impl F32x4 {
        pub(crate) fn splat(v: f32) -> Self {
            F32x4([v; 4])
        }
        pub(crate) fn load(a: &[f32; 4]) -> Self {
            F32x4(*a)
        }
        pub(crate) fn store(self, a: &mut [f32; 4]) {
            *a = self.0;
        }
        pub(crate) fn mul_add(self, a: Self, b: Self) -> Self {
            F32x4(std::array::from_fn(|i| self.0[i] + a.0[i] * b.0[i]))
        }
        pub(crate) fn add(self, a: Self) -> Self {
            F32x4(std::array::from_fn(|i| self.0[i] + a.0[i]))
        }
        pub(crate) fn relu(self) -> Self {
            F32x4(self.0.map(|v| if v > 0.0 { v } else { 0.0 }))
        }
        pub(crate) fn max(self, a: Self) -> Self {
            F32x4(std::array::from_fn(|i| larger(self.0[i], a.0[i])))
        }
        pub(crate) fn max_of_pairs(self, a: Self) -> Self {
            let l = [self.0, a.0].concat();
            F32x4(std::array::from_fn(|i| larger(l[2 * i], l[2 * i + 1])))
        }
        pub(crate) fn split_pairs(self, a: Self) -> (Self, Self) {
            let l = [self.0, a.0].concat();
            (
                F32x4(std::array::from_fn(|i| l[2 * i])),
                F32x4(std::array::from_fn(|i| l[2 * i + 1])),
            )
        }
    }

    fn larger(a: f32, b: f32) -> f32 {
        if b > a { b } else { a }
    }
}

pub(crate) use imp::F32x4;

#[cfg(test)]
mod tests {
    use super::F32x4;

    #[test]
    fn lanes_do_what_they_say() {
        let mut out = [0f32; 4];
        let a = F32x4::load(&[1.0, -2.0, 3.0, -4.0]);
        a.mul_add(F32x4::splat(2.0), a).store(&mut out);
        assert_eq!(out, [3.0, -6.0, 9.0, -12.0]);
        a.add(F32x4::splat(1.0)).relu().store(&mut out);
        assert_eq!(out, [2.0, 0.0, 4.0, 0.0]);
        a.max(F32x4::splat(0.5)).store(&mut out);
        assert_eq!(out, [1.0, 0.5, 3.0, 0.5]);
        let b = F32x4::load(&[5.0, 6.0, -7.0, -8.0]);
        a.max_of_pairs(b).store(&mut out);
        assert_eq!(out, [1.0, 3.0, 6.0, -7.0]);
        let (even, odd) = a.split_pairs(b);
        even.store(&mut out);
        assert_eq!(out, [1.0, 3.0, 5.0, -7.0]);
        odd.store(&mut out);
        assert_eq!(out, [-2.0, -4.0, 6.0, -8.0]);
    }

    /// The wasm unit tests (scripts/test-wasm-units.sh) are there for the
    /// simd128 paths: a build without it would pass them on the plain arrays.
    #[cfg(target_arch = "wasm32")]
    #[test]
    fn the_wasm_tests_run_with_simd128() {
        assert!(cfg!(target_feature = "simd128"));
        let fused = cfg!(target_feature = "relaxed-simd");
        eprintln!("wasm kernels: simd128, fused multiply-add: {fused}");
    }
}
