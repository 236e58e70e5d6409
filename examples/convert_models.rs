//! Converts the BlazeFace ONNX files in models/ to the NNEF archives the wasm
//! embeds (standard NNEF operations, weights stored as f16): the wasm then
//! needs no ONNX front end. scripts/build-wasm.sh runs it before every wasm
//! build.
//!
//!     cargo run --profile native --example convert_models
use facebridge::detect::{ModelKind, onnx_to_nnef};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    for (kind, name) in [
        (ModelKind::Short, "blazeface_front_128"),
        (ModelKind::Full, "blazeface_back_256"),
    ] {
        let onnx = std::fs::read(dir.join(format!("{name}.onnx")))?;
        let nnef = onnx_to_nnef(kind, &onnx)?;
        let out = dir.join(format!("{name}.nnef.tar"));
        // Rewrite only on change, so the wasm build stays incremental.
        if std::fs::read(&out).ok().as_deref() != Some(nnef.as_slice()) {
            std::fs::write(&out, &nnef)?;
        }
        eprintln!(
            "{}: {} bytes ONNX → {} bytes NNEF",
            out.display(),
            onnx.len(),
            nnef.len()
        );
    }
    Ok(())
}
