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
    let extra = std::env::var("LENSCAST_LOADGEN_ARGS").unwrap_or_default();
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
            .args(extra.split_whitespace()),
    )
}
