//! Tells the tests and benchmarks whether `cargo xtask setup` has made the model: with
//! `has_model` they embed it; without, they fail with the command to run (never pass).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(has_model)");
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../static/models/selfie_segmentation_landscape.onnx");
    println!("cargo::rerun-if-changed={}", model.display());
    if model.exists() {
        println!("cargo::rustc-cfg=has_model");
    }
}
