//! `cargo xtask bench frontend`: builds the frontend (release, trunk) and the server, then
//! runs the e2e crate's `bench_frontend` example: headless Chromium with the built-in
//! 1280×720 fake camera, the frame loop's per-frame copy-in / filter / draw times, the
//! sustained processed rate and drops, and the gzip size of the built wasm + JS; then
//! `bench_workers`: the worker path against the main-thread loop at 720p and 1080p while
//! broadcasting (rates, per-stage ms, long tasks, slider-to-frame latency, the viewer's
//! rate, also while the page's main thread is blocked).

use anyhow::Result;

use crate::steps::Ctx;

pub fn run(ctx: &Ctx) -> Result<()> {
    super::browser_example(ctx, "bench_frontend")?;
    super::browser_example(ctx, "bench_workers")
}
