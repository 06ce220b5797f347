//! `cargo xtask bench segment`: the person segmentation path, criterion natively
//! (`segment/benches/segment.rs`) and the wasm32+simd128 release build under Node and in
//! headless Chromium (`segment/tests/wasm_bench.rs`, one thread), then one table side by
//! side; then the app
//! itself (`e2e/examples/bench_segment.rs`): ms per frame of the segmentation stages at
//! 720p in the filter worker, in headless Chromium.

use anyhow::{Context, Result};

use crate::steps::{self, Ctx};

/// `(id, what it is)` in table order; the ids are the benchmarks' own.
const CASES: [(&str, &str); 7] = [
    (
        "load-144x256",
        "load the 144×256 model (parse, cut, prepack, check the parts)",
    ),
    ("inference-144x256", "inference 144×256 (1 thread)"),
    ("inference-256x256", "inference 256×256 (1 thread)"),
    ("matte-720p", "downscale + refine + upsample, 720p"),
    (
        "segment-blur-720p",
        "segment-blur stage at 720p, mask known",
    ),
    (
        "segment-replace-720p",
        "segment-replace stage at 720p, mask known",
    ),
    (
        "inference-144x256-pool",
        "inference 144×256 (rten's pool: 2 threads)",
    ),
];

pub fn run(ctx: &Ctx) -> Result<()> {
    let criterion_dir = ctx.root.join("target/bench/criterion");
    steps::run(
        ctx.cargo()
            .args(["bench", "--package", "segment", "--bench", "segment"])
            .env("CRITERION_HOME", &criterion_dir),
    )?;
    // The same wasm build twice: under Node, and in headless Chromium (the app's engine).
    let node = wasm_bench(ctx, false)?;
    let chromium = wasm_bench(ctx, true)?;
    // Criterion's ids: the native single-thread inference is `…-1t`.
    let native = |id: &str| {
        let id = match id {
            "inference-144x256" | "inference-256x256" => format!("{id}-1t"),
            other => other.to_owned(),
        };
        let path = criterion_dir.join(format!("segment/{id}/new/estimates.json"));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
        json["median"]["point_estimate"].as_f64().map(|ns| ns / 1e6)
    };
    let show = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |ms| format!("{ms:.2}"));
    println!(
        "\nsegment (ms, medians; 720p = 1280×720; wasm32+simd128, one thread, under Node and in headless Chromium)\n"
    );
    println!("| case | native | wasm32 Node | wasm32 Chromium |");
    println!("|---|---:|---:|---:|");
    for (id, what) in CASES {
        println!(
            "| {what} | {} | {} | {} |",
            show(native(id)),
            show(bench_line(&node, id)),
            show(bench_line(&chromium, id))
        );
    }
    super::browser_example(ctx, "bench_segment")
}

/// Runs `segment/tests/wasm_bench.rs` in release, in headless Chromium or under Node; its
/// standard output.
fn wasm_bench(ctx: &Ctx, in_chromium: bool) -> Result<String> {
    let mut cmd = ctx.cargo();
    cmd.args([
        "test",
        "--release",
        "--package",
        "segment",
        "--target",
        "wasm32-unknown-unknown",
        "--test",
        "wasm_bench",
        "--",
        "--include-ignored",
        // The runner shows a passing test's console output only with this.
        "--nocapture",
    ]);
    if in_chromium {
        cmd.env("WASM_BINDGEN_USE_BROWSER", "1")
            .env("CHROMEDRIVER", crate::tools::chromedriver());
    }
    println!("$ {}", steps::show(&cmd));
    let out = cmd.output().context("running the wasm benchmark")?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        anyhow::bail!(
            "wasm benchmark failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(stdout)
}

/// The ms of `BENCH <id> <ms>` in a wasm benchmark's output.
fn bench_line(stdout: &str, id: &str) -> Option<f64> {
    stdout.lines().find_map(|line| {
        let (name, ms) = line.trim().strip_prefix("BENCH ")?.split_once(' ')?;
        (name == id).then(|| ms.trim().parse().ok()).flatten()
    })
}
