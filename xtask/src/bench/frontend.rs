//! `cargo xtask bench frontend`: builds the frontend (release, trunk) and the server, then
//! runs the e2e crate's `bench_frontend` example: headless Chromium with the built-in
//! 1280×720 fake camera, the frame loop's per-frame copy-in / filter / draw times, the
//! sustained processed rate and drops, and the gzip size of the built wasm + JS.

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
                "bench_frontend",
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
