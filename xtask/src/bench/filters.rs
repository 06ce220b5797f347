//! `cargo xtask bench filters`: criterion natively, then the wasm32+simd128 build of
//! `filters/bench-wasm` under Node; `run.mjs` prints the combined table (filter, native ms,
//! wasm ms median, target) and writes `target/bench/filters-wasm.json`.

use anyhow::Result;

use crate::steps::{self, Ctx};

pub fn run(ctx: &Ctx) -> Result<()> {
    let bench_dir = ctx.root.join("target/bench");
    let criterion_dir = bench_dir.join("criterion");
    steps::run(
        ctx.cargo()
            .args(["bench", "--package", "filters", "--bench", "pipeline"])
            .env("CRITERION_HOME", &criterion_dir),
    )?;

    let manifest = ctx.root.join("filters/bench-wasm/Cargo.toml");
    steps::run(
        ctx.cargo()
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-unknown-unknown",
                "--manifest-path",
            ])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(ctx.target_dir()),
    )?;
    let wasm = ctx
        .target_dir()
        .join("wasm32-unknown-unknown/release/filters_bench_wasm.wasm");
    steps::run(
        ctx.cmd("node")
            .arg(ctx.root.join("filters/bench-wasm/run.mjs"))
            .arg(wasm)
            .arg(ctx.root.join("filters/benches/cases.txt"))
            .arg(criterion_dir)
            .arg(bench_dir.join("filters-wasm.json")),
    )
}
