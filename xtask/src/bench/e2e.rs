//! `cargo xtask bench e2e`: builds the frontend and the release server, then runs the
//! e2e crate's `bench_e2e` example (headless Chromium publishing a 720p `grayscale|sobel`
//! broadcast with latency stamps; the example is the viewer) and prints its table.

use anyhow::Result;

use crate::steps::Ctx;

pub fn run(ctx: &Ctx) -> Result<()> {
    super::browser_example(ctx, "bench_e2e")
}
