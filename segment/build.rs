//! Tells the tests and benchmarks whether `cargo xtask setup` has made the model: with
//! `has_model` they embed it; without, they fail with the command to run (never pass).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(has_model)");
    // Read at run time: `env!` would bake in the path of whichever clone first built this
    // script, and clones sharing a target dir share the script.
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it for build scripts");
    let model = std::path::Path::new(&manifest_dir)
        .join("../static/models/selfie_segmentation_landscape.onnx");
    println!("cargo::rerun-if-changed={}", model.display());
    if model.exists() {
        println!("cargo::rustc-cfg=has_model");
    }
}
