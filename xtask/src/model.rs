//! The person segmentation model, made reproducibly from the registry by `setup`.
//!
//! 1. `npm pack` the pinned `@mediapipe/selfie_segmentation` into `target/models/` and check
//!    the tarball's sha256 (the package is Apache-2.0; see `models/README.md`).
//! 2. Unpack its `.tflite` flatbuffers.
//! 3. Convert each to ONNX with the project's own converter (`models/tflite2onnx.py`) in a
//!    venv under `target/models/venv` holding the pinned packages of
//!    `models/requirements.txt`, and check the result's sha256.
//! 4. The ONNX files go to `static/models/`, which the server serves under `/static/models/`:
//!    nothing is fetched at run time from anywhere but lenscast's own server.
//!
//! A second `setup` finds the checked files and does nothing.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::steps::{Ctx, output, run};

pub const NPM_PACKAGE: &str = "@mediapipe/selfie_segmentation";
pub const NPM_VERSION: &str = "0.1.1675465747";
const TARBALL: &str = "mediapipe-selfie_segmentation-0.1.1675465747.tgz";
const TARBALL_SHA256: &str = "7767b33eaa68990ee06c28bbb89f39a13a47ebb07ff0f1fd4947d9e817bb9bf9";

/// One model: the `.tflite` in the package and the ONNX file it becomes.
struct Model {
    tflite: &'static str,
    tflite_sha256: &'static str,
    onnx: &'static str,
    onnx_sha256: &'static str,
}

const MODELS: [Model; 2] = [
    Model {
        tflite: "selfie_segmentation_landscape.tflite",
        tflite_sha256: "4aafe6223bb8dac6fac8ca8ed56852870a33051ef3f6238822d282a109962894",
        onnx: "selfie_segmentation_landscape.onnx",
        onnx_sha256: "1edf228d193184d7f18ca8803b555b91383141a46af5dd64480d686fc48cdaa4",
    },
    Model {
        tflite: "selfie_segmentation.tflite",
        tflite_sha256: "8d13b7fae74af625c641226813616a2117bd6bca19eb3b75574621fc08557f27",
        onnx: "selfie_segmentation.onnx",
        onnx_sha256: "8e65a27bd7f12464eaa4820952e6133fdba836ee85a535266872adf4816c9176",
    },
];

/// Where the served models go (the server's `--static` folder).
pub fn models_dir(root: &Path) -> PathBuf {
    root.join("static/models")
}

/// Makes every model in [`MODELS`] unless it is there already with the expected hash.
pub fn ensure_models(ctx: &Ctx) -> Result<()> {
    let out_dir = models_dir(&ctx.root);
    let missing: Vec<&Model> = MODELS
        .iter()
        .filter(|m| sha256_file(&out_dir.join(m.onnx)).ok().as_deref() != Some(m.onnx_sha256))
        .collect();
    if missing.is_empty() {
        println!("setup: segmentation models present in static/models/");
        return Ok(());
    }
    println!(
        "setup: making the segmentation models from {NPM_PACKAGE}@{NPM_VERSION} (npm) with models/tflite2onnx.py"
    );
    let work = ctx.target_dir().join("models");
    std::fs::create_dir_all(&work)?;
    let tarball = work.join(TARBALL);
    if sha256_file(&tarball).ok().as_deref() != Some(TARBALL_SHA256) {
        run(ctx
            .cmd("npm")
            .args(["pack", "--silent", "--pack-destination"])
            .arg(&work)
            .arg(format!("{NPM_PACKAGE}@{NPM_VERSION}")))?;
    }
    check_sha256(&tarball, TARBALL_SHA256)?;
    let unpacked = work.join("package");
    let mut tar = ctx.cmd("tar");
    tar.arg("xzf").arg(&tarball).arg("-C").arg(&work);
    for model in &missing {
        tar.arg(format!("package/{}", model.tflite));
    }
    run(&mut tar)?;

    let python = ensure_venv(ctx, &work)?;
    std::fs::create_dir_all(&out_dir)?;
    for model in missing {
        let tflite = unpacked.join(model.tflite);
        check_sha256(&tflite, model.tflite_sha256)?;
        let onnx = out_dir.join(model.onnx);
        run(ctx
            .cmd(&python)
            .arg(ctx.root.join("models/tflite2onnx.py"))
            .arg(&tflite)
            .arg(&onnx))?;
        check_sha256(&onnx, model.onnx_sha256)?;
    }
    Ok(())
}

/// A venv with the converter's pinned packages; returns its python.
fn ensure_venv(ctx: &Ctx, work: &Path) -> Result<PathBuf> {
    let venv = work.join("venv");
    let python = venv.join("bin/python");
    let requirements = ctx.root.join("models/requirements.txt");
    let stamp = venv.join("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)?;
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&wanted) {
        return Ok(python);
    }
    if output(ctx.cmd("python3").args(["-c", "import venv, ensurepip"])).is_none() {
        bail!(
            "python3 with venv is needed to convert the model: `apt-get install python3 python3-venv`"
        );
    }
    run(ctx
        .cmd("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv))?;
    run(ctx
        .cmd(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements))?;
    std::fs::write(&stamp, wanted)?;
    Ok(python)
}

fn sha256_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .fold(String::new(), |mut hex, b| {
            use std::fmt::Write;
            let _ = write!(hex, "{b:02x}");
            hex
        }))
}

fn check_sha256(path: &Path, expected: &str) -> Result<()> {
    let got = sha256_file(path)?;
    if got != expected {
        bail!(
            "{} has sha256 {got}, expected {expected}: the pinned package or converter changed",
            path.display()
        );
    }
    Ok(())
}
