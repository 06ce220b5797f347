//! The tools the build needs, found or installed: `setup` installs what is missing and only that.
//!
//! | tool | where it comes from | where it goes |
//! |---|---|---|
//! | `wasm32-unknown-unknown` | rustup | the toolchain |
//! | trunk [`TRUNK_VERSION`] | `cargo install --locked` | `~/.cargo/bin` |
//! | wasm-bindgen CLI, the version in `Cargo.lock` | `cargo install` | `~/.cargo/bin` |
//! | wasm-opt (binaryen [`BINARYEN_VERSION`]) | npm | `target/tools/node_modules/.bin` |
//! | Chromium + chromedriver (tests only) | apt | `/usr/bin` |
//! | nats-server (tests only: the cluster tests start their own brokers) | apt | `/usr/sbin` |
//! | segmentation models (ONNX) | npm package + `models/tflite2onnx.py` ([`crate::model`]) | `static/models/` |
//! | cargo-fuzz [`CARGO_FUZZ_VERSION`] (`bench fuzz` only) | `cargo install --locked` | `~/.cargo/bin` |

use std::{path::Path, process::Command};

use anyhow::{Context, Result, bail};

use crate::steps::{Ctx, output, run};

/// trunk 0.22 needs a newer rustc than this project's toolchain.
pub const TRUNK_VERSION: &str = "0.21.14";
/// Debian's binaryen is too old for current rustc output; npm's 132 works.
pub const BINARYEN_VERSION: &str = "132.0.0";
/// Builds and runs the `fuzz/` targets; with `-s none` it needs nothing but stable rustc.
pub const CARGO_FUZZ_VERSION: &str = "0.13.2";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

pub fn chromedriver() -> &'static str {
    "/usr/bin/chromedriver"
}

pub fn chromium() -> &'static str {
    "/usr/bin/chromium"
}

/// Installs whatever is missing; prints one line per tool either way.
pub fn setup(ctx: &Ctx, browser: bool) -> Result<()> {
    ensure_wasm_target(ctx)?;
    ensure_cargo_tool(
        ctx,
        "trunk",
        "trunk",
        TRUNK_VERSION,
        true,
        "builds the frontend",
    )?;
    let bindgen = wasm_bindgen_version(&ctx.root)?;
    ensure_cargo_tool(
        ctx,
        "wasm-bindgen",
        "wasm-bindgen-cli",
        &bindgen,
        // With --locked this version's install fails on a missing index entry.
        false,
        "generates the JS glue; must equal the wasm-bindgen in Cargo.lock",
    )?;
    ensure_wasm_opt(ctx)?;
    crate::model::ensure_models(ctx)?;
    if browser {
        ensure_chromium(ctx)?;
        ensure_nats_server(ctx)?;
    }
    Ok(())
}

/// Where Debian's `nats-server` package puts the broker the cluster tests and `bench
/// cluster` start.
pub fn nats_server() -> &'static str {
    "/usr/sbin/nats-server"
}

fn ensure_nats_server(ctx: &Ctx) -> Result<()> {
    if Path::new(nats_server()).exists() {
        println!("setup: nats-server present");
        return Ok(());
    }
    println!("setup: installing nats-server with apt (the cluster tests start their own brokers)");
    apt_install(ctx, &["nats-server"])?;
    if !Path::new(nats_server()).exists() {
        bail!("apt installed nats-server but {} is missing", nats_server());
    }
    Ok(())
}

/// `apt-get update` and `apt-get install` of `packages`, through sudo unless root.
fn apt_install(ctx: &Ctx, packages: &[&str]) -> Result<()> {
    let sudo = output(Command::new("id").arg("-u")).as_deref() != Some("0");
    let apt = |args: &[&str]| {
        let mut cmd = if sudo {
            ctx.cmd("sudo")
        } else {
            ctx.cmd("apt-get")
        };
        if sudo {
            cmd.arg("apt-get");
        }
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut cmd)
    };
    apt(&["update"])?;
    let mut install = vec!["install", "-y", "--no-install-recommends"];
    install.extend_from_slice(packages);
    apt(&install)
}

/// cargo-fuzz, for `cargo xtask bench fuzz` only (so `setup`, and CI, never build it).
pub fn ensure_cargo_fuzz(ctx: &Ctx) -> Result<()> {
    ensure_cargo_tool(
        ctx,
        "cargo-fuzz",
        "cargo-fuzz",
        CARGO_FUZZ_VERSION,
        true,
        "builds and runs the libFuzzer targets in fuzz/",
    )
}

fn ensure_wasm_target(ctx: &Ctx) -> Result<()> {
    let installed =
        output(ctx.cmd("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        println!("setup: {WASM_TARGET} target present");
        return Ok(());
    }
    println!("setup: installing the {WASM_TARGET} target (the frontend and filters compile to it)");
    run(ctx.cmd("rustup").args(["target", "add", WASM_TARGET]))
}

/// `binary --version` must print `binary VERSION`; otherwise `cargo install crate_name`.
fn ensure_cargo_tool(
    ctx: &Ctx,
    binary: &str,
    crate_name: &str,
    version: &str,
    locked: bool,
    why: &str,
) -> Result<()> {
    let found = output(ctx.cmd(binary).arg("--version"));
    let wanted = format!("{binary} {version}");
    if found.as_deref().is_some_and(|out| out.starts_with(&wanted)) {
        println!("setup: {wanted} present");
        return Ok(());
    }
    println!(
        "setup: installing {crate_name} {version} ({why}; found: {}); this compiles from source and takes minutes",
        found.as_deref().unwrap_or("none")
    );
    let mut cmd = ctx.cargo();
    cmd.args(["install", crate_name, "--version", version, "--force"]);
    if locked {
        cmd.arg("--locked");
    }
    run(&mut cmd)
}

fn ensure_wasm_opt(ctx: &Ctx) -> Result<()> {
    let major = BINARYEN_VERSION
        .split('.')
        .next()
        .unwrap_or(BINARYEN_VERSION);
    let wanted = format!("wasm-opt version {major}");
    let wasm_opt = crate::steps::local_bin(&ctx.root).join("wasm-opt");
    let found = output(Command::new(&wasm_opt).arg("--version"));
    if found.as_deref().is_some_and(|out| out.starts_with(&wanted)) {
        println!("setup: {wanted} present");
        return Ok(());
    }
    println!(
        "setup: installing binaryen {BINARYEN_VERSION} from npm into target/tools (wasm-opt shrinks the release wasm)"
    );
    let prefix = ctx.root.join("target/tools");
    std::fs::create_dir_all(&prefix)?;
    run(ctx
        .cmd("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&prefix)
        .arg(format!("binaryen@{BINARYEN_VERSION}")))
}

fn ensure_chromium(ctx: &Ctx) -> Result<()> {
    if Path::new(chromium()).exists() && Path::new(chromedriver()).exists() {
        println!("setup: chromium and chromedriver present");
        return Ok(());
    }
    println!("setup: installing chromium and chromium-driver with apt (browser tests drive them)");
    apt_install(ctx, &["chromium", "chromium-driver"])?;
    if !Path::new(chromedriver()).exists() {
        bail!(
            "apt installed chromium-driver but {} is missing",
            chromedriver()
        );
    }
    Ok(())
}

/// The `wasm-bindgen` version recorded in `Cargo.lock`.
pub fn wasm_bindgen_version(root: &Path) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))
        .context("Cargo.lock is missing: run `cargo generate-lockfile`")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            let version = lines
                .next()
                .and_then(|next| next.strip_prefix("version = \""))
                .and_then(|rest| rest.strip_suffix('"'));
            if let Some(version) = version {
                return Ok(version.to_owned());
            }
        }
    }
    bail!("Cargo.lock has no wasm-bindgen package")
}
