//! `cargo xtask bench server`: MJPEG fan-out under load.
//!
//! Builds the release `lenscast-server` and `lenscast-loadgen` (package `loadgen`), then runs
//! the load generator, which starts a fresh server per viewer count (1, 100, 500, 1000, 2000),
//! publishes real 1280×720 JPEGs (~60 KB) at 30 fps and prints one Markdown row per count.
//! Both land in the same `target/release/`, where the load generator looks for the server.
//! Extra arguments for the load generator can be given in `LENSCAST_LOADGEN_ARGS`
//! (e.g. `--viewers 1000 --seconds 10`).

use anyhow::Result;

use crate::steps::{self, Ctx};

pub fn run(ctx: &Ctx) -> Result<()> {
    run_loadgen(ctx, &[], "LENSCAST_LOADGEN_ARGS")
}

/// Builds the release server and load generator side by side (the load generator starts
/// the server it finds next to itself), then runs the load generator with `command` and the
/// whitespace-separated arguments of the environment variable `extra_args`.
pub fn run_loadgen(ctx: &Ctx, command: &[&str], extra_args: &str) -> Result<()> {
    steps::run(ctx.cargo().args([
        "build",
        "--release",
        "--package",
        "server",
        "--bin",
        "lenscast-server",
        "--package",
        "loadgen",
        "--bin",
        "lenscast-loadgen",
    ]))?;
    let extra = std::env::var(extra_args).unwrap_or_default();
    steps::run(
        ctx.cargo()
            .args([
                "run",
                "--release",
                "--quiet",
                "--package",
                "loadgen",
                "--bin",
                "lenscast-loadgen",
                "--",
            ])
            .args(command)
            .args(extra.split_whitespace()),
    )
}
