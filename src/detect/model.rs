//! The two BlazeFace models, and loading one: a `.fbnet` file always, an
//! ONNX file (compiled with tract) in builds with the `onnx` feature.

#[cfg(feature = "onnx")]
use tract_core::prelude::*;
#[cfg(feature = "onnx")]
use tract_onnx::pb::{
    AttributeProto, TensorProto, attribute_proto::AttributeType, tensor_proto::DataType,
};

use super::net::Net;
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

/// Compiles a BlazeFace ONNX file to the `.fbnet` file the wasm embeds
/// (`super::net`: our layers, f16 weights; no tract needed to run it).
#[cfg(feature = "onnx")]
pub fn onnx_to_fbnet(kind: ModelKind, onnx_bytes: &[u8]) -> Result<Vec<u8>, DetectError> {
    Ok(load(kind, onnx_bytes)?.to_bytes())
}

/// A `.fbnet` file, or (with the `onnx` feature) a BlazeFace ONNX file
/// compiled with tract, as a runnable [`Net`].
pub(crate) fn load(kind: ModelKind, bytes: &[u8]) -> Result<Net, DetectError> {
    if super::net::is_fbnet(bytes) {
        return Net::from_bytes(kind, bytes).map_err(|reason| DetectError::ModelLoad { reason });
    }
    #[cfg(feature = "onnx")]
    {
        let fail = |e: TractError| DetectError::ModelLoad {
            reason: format!("{e:#}"),
        };
        let typed = typed_from_onnx(kind, bytes).map_err(fail)?;
        super::compile::compile(kind, &typed).map_err(fail)
    }
    #[cfg(not(feature = "onnx"))]
    Err(DetectError::ModelLoad {
        reason: "not a .fbnet file (this build has no ONNX front end: compile ONNX files with examples/convert_models.rs)".into(),
    })
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

    /// Every layer of both models compiles to one of ours, the four heads
    /// included, and the `.fbnet` bytes read back as the same network.
    #[cfg(all(feature = "embed-models", feature = "onnx"))]
    #[test]
    fn blazeface_compiles_to_our_layers() {
        use super::super::net::Layer;
        for kind in [ModelKind::Short, ModelKind::Full] {
            let bytes = match kind {
                ModelKind::Short => crate::detect::SHORT_MODEL,
                ModelKind::Full => crate::detect::FULL_MODEL,
            };
            let net = load(kind, bytes).unwrap();
            let count = |f: fn(&Layer) -> bool| net.steps.iter().filter(|s| f(&s.layer)).count();
            let layers = [
                count(|l| matches!(l, Layer::Stem(_))),
                count(|l| matches!(l, Layer::Depthwise(_))),
                count(|l| matches!(l, Layer::MaxPool(_))),
                count(|l| matches!(l, Layer::Pointwise(_))),
            ];
            let expected = match kind {
                ModelKind::Short => [1, 16, 3, 20],
                ModelKind::Full => [1, 32, 3, 36],
            };
            assert_eq!(layers, expected, "{kind:?}");
            let bytes = net.to_bytes();
            let back = Net::from_bytes(kind, &bytes).unwrap();
            assert_eq!(back.to_bytes(), bytes);
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
