//! `cargo xtask bench e2e`: builds the frontend and the release server, then runs the
//! e2e crate's `bench_e2e` example (headless Chromium publishing a 720p `grayscale|sobel`
//! broadcast with latency stamps; the example is the viewer) and prints its table.

use anyhow::Result;

use crate::{build_frontend, steps, steps::Ctx, tools};

pub fn run(ctx: &Ctx) -> Result<()> {
    build_frontend(ctx)?;
    steps::run(ctx.cargo().args([
        "build",
        "--release",
        "--package",
        "server",
        "--bin",
        "lenscast-server",
    ]))?;
    steps::run(
        ctx.cargo()
            .args([
                "run",
                "--release",
                "--package",
                "e2e",
                "--example",
                "bench_e2e",
            ])
            .env("LENSCAST_DIST", ctx.root.join("dist"))
            .env("LENSCAST_STATIC", ctx.root.join("static"))
            .env(
                "LENSCAST_SERVER_BIN",
                ctx.target_dir().join("release/lenscast-server"),
            )
            .env("CHROMEDRIVER", tools::chromedriver()),
    )
}
