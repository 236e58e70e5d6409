//! BlazeFace's 2×2, stride-2 max pooling (the shortcut of its downsampling
//! blocks), NCHW f32. Four outputs at a time from two rows of 8 inputs:
//! the rows' larger values lane by lane, then the larger of each pair of
//! neighbours (simd128's `pmax` and one shuffle each for the even and odd
//! lanes). Written with plain comparisons it stayed scalar with bounds
//! checks and took 11 % of a short-range detection in the wasm. The inputs
//! are activations, never NaN, so which of two equal values wins and NaN
//! rules do not matter.

use super::simd::F32x4;
use crate::detect::net::Reader;
#[cfg(feature = "onnx")]
use crate::detect::net::Writer;

#[derive(Debug, Clone)]
pub(crate) struct MaxPool2x2 {
    channels: usize,
    /// Input height and width; both even.
    h: usize,
    w: usize,
}

impl MaxPool2x2 {
    /// Never inlined: see `detect::net::Net::run`.
    #[inline(never)]
    pub(crate) fn run(&self, input: &[f32], output: &mut [f32]) {
        let (ow, planes) = (self.w / 2, self.channels * self.h / 2);
        for (pair, out) in input
            .chunks_exact(2 * self.w)
            .zip(output.chunks_exact_mut(ow))
            .take(planes)
        {
            let (top, bottom) = pair.split_at(self.w);
            let body = ow - ow % 4;
            let rows = top.chunks_exact(8).zip(bottom.chunks_exact(8));
            for ((t, b), o) in rows.zip(out[..body].chunks_exact_mut(4)) {
                let lanes =
                    |s: &[f32], i: usize| F32x4::load(s[i..i + 4].try_into().unwrap_or(&[0.0; 4]));
                let left = lanes(t, 0).max(lanes(b, 0));
                let right = lanes(t, 4).max(lanes(b, 4));
                if let Ok(o) = <&mut [f32; 4]>::try_from(o) {
                    left.max_of_pairs(right).store(o);
                }
            }
            for (x, o) in out.iter_mut().enumerate().skip(body) {
                let m = larger(top[2 * x], top[2 * x + 1]);
                *o = larger(m, larger(bottom[2 * x], bottom[2 * x + 1]));
            }
        }
    }
}

#[inline(always)]
fn larger(a: f32, b: f32) -> f32 {
    if a > b { a } else { b }
}

impl MaxPool2x2 {
    pub(crate) fn input_len(&self) -> usize {
        self.channels * self.h * self.w
    }
    /// Comparisons of one run, for the network's cost bound.
    pub(crate) fn macs(&self) -> u64 {
        self.output_len() as u64 * 4
    }
    pub(crate) fn output_len(&self) -> usize {
        self.channels * (self.h / 2) * (self.w / 2)
    }
    #[cfg(feature = "onnx")]
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.dim(self.channels);
        w.dim(self.h);
        w.dim(self.w);
    }
    pub(crate) fn decode(r: &mut Reader) -> Result<Self, String> {
        let (channels, h, w) = (r.dim()?, r.dim()?, r.dim()?);
        if channels == 0 || h == 0 || w == 0 || h % 2 != 0 || w % 2 != 0 {
            return Err(format!("max pooling of {channels}×{h}×{w}"));
        }
        Ok(MaxPool2x2 { channels, h, w })
    }
}

#[cfg(feature = "onnx")]
pub(super) use tract_op::replacement;

/// The layer as a tract operator, and where tract's model has one.
#[cfg(feature = "onnx")]
mod tract_op {
    use super::*;
    use tract_core::internal::*;
    use tract_core::ops::cnn::{MaxPool, PaddingSpec};
    use tract_core::ops::nn::DataFormat;

    stateless_op!(MaxPool2x2);

    impl MaxPool2x2 {
        fn evaluate(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
            let shapes = (
                [1, self.channels, self.h, self.w],
                [1, self.channels, self.h / 2, self.w / 2],
            );
            super::super::tract::eval_f32("MaxPool2x2", inputs, shapes, |i, o| self.run(i, o))
        }
    }

    impl TypedOp for MaxPool2x2 {
        fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
            ensure!(inputs.len() == 1);
            Ok(tvec!(f32::fact([1, self.channels, self.h / 2, self.w / 2])))
        }
        as_op!();
    }

    /// Ours for `pool` if it is a plain 2×2 stride-2 pooling of an even NCHW f32
    /// image; `None` leaves tract's.
    pub(crate) fn replacement(
        model: &TypedModel,
        node: &TypedNode,
        pool: &MaxPool,
    ) -> TractResult<Option<MaxPool2x2>> {
        let spec = &pool.pool_spec;
        let no_padding = match &spec.padding {
            PaddingSpec::Valid => true,
            PaddingSpec::Explicit(before, after) => {
                before.iter().chain(after.iter()).all(|p| *p == 0)
            }
            _ => false,
        };
        if pool.with_index_outputs.is_some()
            || spec.data_format != DataFormat::NCHW
            || spec.kernel_shape.as_slice() != [2, 2]
            || *spec.strides() != [2, 2]
            || spec.dilations().iter().any(|d| *d != 1)
            || !no_padding
            || node.inputs.len() != 1
        {
            return Ok(None);
        }
        let input = model.outlet_fact(node.inputs[0])?;
        let Some(&[1, c, h, w]) = input.shape.as_concrete() else {
            return Ok(None);
        };
        if input.datum_type != f32::datum_type() || h % 2 != 0 || w % 2 != 0 {
            return Ok(None);
        }
        Ok(Some(MaxPool2x2 { channels: c, h, w }))
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::detect::ops::tract::testing::{compare, tensor};
        use tract_core::ops::cnn::PoolSpec;

        fn pool(c: usize, padding: PaddingSpec) -> MaxPool {
            MaxPool {
                pool_spec: PoolSpec {
                    data_format: DataFormat::NCHW,
                    kernel_shape: tvec!(2, 2),
                    padding,
                    dilations: None,
                    strides: Some(tvec!(2, 2)),
                    input_channels: c,
                    output_channels: c,
                },
                with_index_outputs: None,
            }
        }

        #[test]
        fn agrees_with_tract() {
            let (c, h, w) = (5, 8, 12);
            let mut m = TypedModel::default();
            let x = m.add_source("x", f32::fact([1, c, h, w])).unwrap();
            let y = m
                .wire_node("pool", pool(c, PaddingSpec::Valid), &[x])
                .unwrap();
            m.set_output_outlets(&y).unwrap();
            assert_eq!(compare(m, 1, &[tensor(&[1, c, h, w], 0)]), 0.0);
        }

        #[test]
        fn leaves_padded_and_odd_poolings_to_tract() {
            for (h, padding) in [(8, PaddingSpec::SameUpper), (7, PaddingSpec::Valid)] {
                let mut m = TypedModel::default();
                let x = m.add_source("x", f32::fact([1, 3, h, 8])).unwrap();
                let y = m.wire_node("pool", pool(3, padding), &[x]).unwrap();
                m.set_output_outlets(&y).unwrap();
                assert_eq!(crate::detect::ops::tract::install(&mut m).unwrap(), 0);
            }
        }
    }
}

#[cfg(test)]
mod plain_tests {
    use super::*;
    use crate::detect::ops::plain::noise;

    #[test]
    fn agrees_with_plain_loops() {
        for (channels, h, w) in [(3, 4, 6), (5, 16, 34), (1, 2, 2), (2, 4, 64)] {
            let m = MaxPool2x2 { channels, h, w };
            let x = noise(m.input_len(), 7);
            let mut ours = vec![f32::NAN; m.output_len()];
            m.run(&x, &mut ours);
            let mut plain = Vec::new();
            for c in 0..channels {
                for oy in 0..h / 2 {
                    for ox in 0..w / 2 {
                        let at = |y: usize, x_: usize| x[(c * h + 2 * oy + y) * w + 2 * ox + x_];
                        plain.push(at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1)));
                    }
                }
            }
            assert_eq!(ours, plain, "{channels}×{h}×{w}");
        }
    }
}
