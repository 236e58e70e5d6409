//! Loading BlazeFace models into an optimised tract plan: NNEF archives
//! always, ONNX files in builds with the `onnx` feature.

use tract_core::prelude::*;
#[cfg(feature = "onnx")]
use tract_onnx::pb::{
    AttributeProto, TensorProto, attribute_proto::AttributeType, tensor_proto::DataType,
};

use crate::error::DetectError;

/// The two BlazeFace variants and the MediaPipe settings that decode them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// 128×128 "front" model: faces within about 2 m of the camera (selfies).
    Short,
    /// 256×256 "back" model: faces up to about 5 m away and small faces on
    /// ID cards or in wider shots.
    Full,
}

impl ModelKind {
    pub fn input_size(self) -> usize {
        match self {
            ModelKind::Short => 128,
            ModelKind::Full => 256,
        }
    }
    /// MediaPipe's SSD anchor strides for the model (four layers).
    pub fn strides(self) -> [usize; 4] {
        match self {
            ModelKind::Short => [8, 16, 16, 16],
            ModelKind::Full => [16, 32, 32, 32],
        }
    }
    /// MediaPipe's score threshold: 0.5 for the front model, 0.65 for back.
    pub fn default_min_score(self) -> f32 {
        match self {
            ModelKind::Short => 0.5,
            ModelKind::Full => 0.65,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Short => "short-range",
            ModelKind::Full => "full-range",
        }
    }
}

pub(crate) type Plan = TypedRunnableModel<TypedModel>;

/// A loaded model: the plan, and which output is which.
pub(crate) struct LoadedModel {
    pub plan: Plan,
    /// Output indices: scores of the fine grid, scores of the coarse grid,
    /// boxes of the fine grid, boxes of the coarse grid.
    pub outputs: [usize; 4],
}

/// The barracuda ONNX export leaves `ConstantOfShape` without its `value`
/// attribute. ONNX says that means a float32 zero; tract 0.21 infers f64 and
/// the graph then fails to type-check. Adding the default explicitly fixes it.
#[cfg(feature = "onnx")]
fn patch_constant_of_shape(proto: &mut tract_onnx::pb::ModelProto) -> usize {
    let Some(graph) = proto.graph.as_mut() else {
        return 0;
    };
    let mut patched = 0;
    for node in graph
        .node
        .iter_mut()
        .filter(|n| n.op_type == "ConstantOfShape")
    {
        if node.attribute.iter().any(|a| a.name == "value") {
            continue;
        }
        node.attribute.push(AttributeProto {
            name: "value".into(),
            r#type: AttributeType::Tensor as i32,
            t: Some(TensorProto {
                dims: vec![1],
                data_type: DataType::Float as i32,
                float_data: vec![0.0],
                ..Default::default()
            }),
            ..Default::default()
        });
        patched += 1;
    }
    patched
}

/// An NNEF archive is a tar: "ustar" at offset 257.
fn is_tar(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
}

/// The ONNX file as a decluttered typed model with its input shape fixed.
#[cfg(feature = "onnx")]
fn typed_from_onnx(kind: ModelKind, onnx_bytes: &[u8]) -> TractResult<TypedModel> {
    use tract_onnx::prelude::InferenceModelExt;
    let onnx = tract_onnx::onnx();
    let mut proto = onnx.proto_model_for_read(&mut &*onnx_bytes)?;
    patch_constant_of_shape(&mut proto);
    let s = kind.input_size();
    onnx.model_for_proto_model(&proto)?
        .with_input_fact(0, f32::fact([1, s, s, 3]).into())?
        .into_typed()?
        .into_decluttered()
}

/// Converts a BlazeFace ONNX file to the NNEF archive the wasm embeds.
#[cfg(feature = "onnx")]
pub fn onnx_to_nnef(kind: ModelKind, onnx_bytes: &[u8]) -> Result<Vec<u8>, DetectError> {
    let fail = |e: TractError| DetectError::ModelLoad {
        reason: format!("{e:#}"),
    };
    let model = typed_from_onnx(kind, onnx_bytes).map_err(fail)?;
    let f32_archive = tract_nnef::nnef()
        .write_to_tar(&model, Vec::new())
        .map_err(fail)?;
    with_f16_weights(&f32_archive).map_err(fail)
}

/// The same archive with every f32 tensor stored as f16: half the bytes of
/// weights in the wasm. The loader widens them back to f32
/// ([`load`]); tests/pipeline.rs checks the detections.
#[cfg(feature = "onnx")]
fn with_f16_weights(tar_bytes: &[u8]) -> TractResult<Vec<u8>> {
    let mut out = tar::Builder::new(Vec::new());
    let mut archive = tar::Archive::new(tar_bytes);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data)?;
        if path.extension().is_some_and(|e| e == "dat") {
            let t = tract_nnef::tensors::read_tensor(data.as_slice())?;
            if t.datum_type() == DatumType::F32 {
                let half = t.cast_to::<f16>()?.into_owned();
                data.clear();
                tract_nnef::tensors::write_tensor(&mut data, &half)?;
            }
        }
        let mut header = entry.header().clone();
        header.set_size(data.len() as u64);
        // tract stamps the time of writing: zero it, so the same model gives
        // the same bytes and the wasm build is not redone for nothing.
        header.set_mtime(0);
        header.set_cksum();
        out.append(&header, data.as_slice())?;
    }
    Ok(out.into_inner()?)
}

pub(crate) fn load(kind: ModelKind, bytes: &[u8]) -> Result<LoadedModel, DetectError> {
    let fail = |e: TractError| DetectError::ModelLoad {
        reason: format!("{e:#}"),
    };
    let typed = if is_tar(bytes) {
        // The plain NNEF registry: the graphs use standard operations only,
        // and leaving tract's core registry out keeps its other operators
        // (FFT, STFT, …) out of the wasm.
        let nnef = tract_nnef::nnef();
        let mut proto = nnef.proto_model_for_read(&mut &*bytes).map_err(fail)?;
        // The archives store weights as f16 (half the bytes to download);
        // the plan computes in f32, so widen them before translation.
        for t in proto.tensors.values_mut() {
            if t.datum_type() == DatumType::F16 {
                *t = t
                    .cast_to::<f32>()
                    .map_err(fail)?
                    .into_owned()
                    .into_arc_tensor();
            }
        }
        nnef.model_for_proto_model(&proto).map_err(fail)?
    } else {
        #[cfg(feature = "onnx")]
        {
            typed_from_onnx(kind, bytes).map_err(fail)?
        }
        #[cfg(not(feature = "onnx"))]
        {
            return Err(DetectError::ModelLoad {
                reason: "not an NNEF archive (this build reads NNEF only: convert ONNX files with examples/convert_models.rs)".into(),
            });
        }
    };
    // BlazeFace's depthwise convolutions and 2×2 max poolings run on
    // operators of our own (ops/mod.rs says why).
    let mut model = typed.into_decluttered().map_err(fail)?;
    super::ops::install(&mut model).map_err(fail)?;
    let model = model.into_optimized().map_err(fail)?;
    let outputs = find_outputs(&model, kind).map_err(|reason| DetectError::ModelLoad { reason })?;
    let plan = model.into_runnable().map_err(fail)?;
    Ok(LoadedModel { plan, outputs })
}

/// Tells the four outputs apart by shape: `[1, N, 1]` scores and `[1, N, 16]`
/// boxes, N = 512 for the fine grid and 384 for the coarse one.
fn find_outputs(model: &TypedModel, kind: ModelKind) -> Result<[usize; 4], String> {
    let [fine, coarse] = grid_sizes(kind);
    let mut found = [usize::MAX; 4];
    for (i, outlet) in model
        .output_outlets()
        .map_err(|e| e.to_string())?
        .iter()
        .enumerate()
    {
        let fact = model.outlet_fact(*outlet).map_err(|e| e.to_string())?;
        let shape: Vec<usize> = fact
            .shape
            .as_concrete()
            .map(|s| s.to_vec())
            .unwrap_or_default();
        let slot = match shape.as_slice() {
            [1, n, 1] if *n == fine => 0,
            [1, n, 1] if *n == coarse => 1,
            [1, n, 16] if *n == fine => 2,
            [1, n, 16] if *n == coarse => 3,
            other => {
                return Err(format!(
                    "unexpected output shape {other:?}: not a BlazeFace model"
                ));
            }
        };
        found[slot] = i;
    }
    if found.contains(&usize::MAX) {
        return Err("the model lacks one of BlazeFace's four outputs".into());
    }
    Ok(found)
}

/// Anchors in the fine (first stride) and coarse (other strides) grids.
pub(crate) fn grid_sizes(kind: ModelKind) -> [usize; 2] {
    let s = kind.input_size();
    let st = kind.strides();
    let fine = (s / st[0]).pow(2) * 2;
    let coarse = (s / st[1]).pow(2) * 6;
    [fine, coarse]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_sizes_match_the_published_896() {
        assert_eq!(grid_sizes(ModelKind::Short), [512, 384]);
        assert_eq!(grid_sizes(ModelKind::Full), [512, 384]);
    }

    /// The first layer and every depthwise convolution, max pooling and 1×1
    /// convolution of both models run on ours.
    #[cfg(feature = "embed-models")]
    #[test]
    fn blazeface_layers_run_on_our_operators() {
        for kind in [ModelKind::Short, ModelKind::Full] {
            let bytes = match kind {
                ModelKind::Short => crate::detect::SHORT_MODEL,
                ModelKind::Full => crate::detect::FULL_MODEL,
            };
            let loaded = load(kind, bytes).unwrap();
            let names: Vec<String> = loaded
                .plan
                .model()
                .nodes()
                .iter()
                .map(|n| n.op().name().to_string())
                .collect();
            let count = |op: &str| names.iter().filter(|n| *n == op).count();
            let ours = ["Stem", "Depthwise3x3", "MaxPool2x2", "Pointwise"].map(count);
            let expected = match kind {
                ModelKind::Short => [1, 16, 3, 16],
                ModelKind::Full => [1, 32, 3, 31],
            };
            assert_eq!(ours, expected, "{kind:?}: {names:?}");
            // tract keeps the four heads (1×1 convolutions that write NHWC
            // for the reshape) and, in the full-range model, one 1×1
            // convolution off the pattern.
            let tract = ["DepthWiseConv", "OptMaxPool", "OptMatMul"];
            let matmuls = if kind == ModelKind::Short { 4 } else { 5 };
            assert_eq!(tract.map(count), [0, 0, matmuls], "{kind:?}: {names:?}");
        }
    }

    #[test]
    fn garbage_bytes_are_a_typed_error() {
        for bytes in [&b""[..], b"not a model", &[0xffu8; 64]] {
            let e = load(ModelKind::Short, bytes).err().unwrap();
            assert!(matches!(e, DetectError::ModelLoad { .. }));
        }
    }
}
