//! Benchmark suites: each prints its own table.

mod cluster;
mod e2e;
mod filters;
mod frontend;
mod fuzz;
mod segment;
mod server;
mod soak;

use anyhow::Result;

use crate::{build_frontend, build_release_server, steps, steps::Ctx, tools};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Suite {
    /// Filter kernels: criterion natively and wasm32+simd128 under Node.
    Filters,
    /// Person segmentation: inference, matte and stages, natively and wasm32 under Node.
    Segment,
    /// MJPEG fan-out under load: many viewers, one publisher.
    Server,
    /// Frame loop in headless Chromium.
    Frontend,
    /// Glass-to-viewer latency through browser, server and viewer.
    E2e,
    /// One server for ten minutes under a hostile mix: RSS, open files, canary frames.
    /// Only when named: not part of the default set.
    Soak,
    /// nats-server and three nodes: local against remote viewers (frames, latency, CPU,
    /// bus bytes); only when named.
    Cluster,
    /// cargo-fuzz targets (JPEG check, pipeline text, page URL), each for a fixed time;
    /// only when named: not part of the default set.
    Fuzz,
}

pub fn run(ctx: &Ctx, suites: &[Suite]) -> Result<()> {
    // Without the soak and the fuzzers, long runs of their own.
    let all = [
        Suite::Filters,
        Suite::Segment,
        Suite::Server,
        Suite::Frontend,
        Suite::E2e,
    ];
    let suites = if suites.is_empty() { &all[..] } else { suites };
    for suite in suites {
        match suite {
            Suite::Filters => filters::run(ctx)?,
            Suite::Segment => segment::run(ctx)?,
            Suite::Server => server::run(ctx)?,
            Suite::Frontend => frontend::run(ctx)?,
            Suite::E2e => e2e::run(ctx)?,
            Suite::Soak => soak::run(ctx)?,
            Suite::Fuzz => fuzz::run(ctx)?,
            Suite::Cluster => cluster::run(ctx)?,
        }
    }
    Ok(())
}

/// Builds the frontend and the release server, then runs one of the e2e crate's browser
/// benchmark examples against them (it starts the server and Chromium itself).
fn browser_example(ctx: &Ctx, example: &str) -> Result<()> {
    build_frontend(ctx)?;
    let server = build_release_server(ctx)?;
    steps::run(
        ctx.cargo()
            .args(["run", "--release", "--package", "e2e", "--example", example])
            .env("LENSCAST_DIST", ctx.root.join("dist"))
            .env("LENSCAST_STATIC", ctx.root.join("static"))
            .env("LENSCAST_SERVER_BIN", server)
            .env("CHROMEDRIVER", tools::chromedriver()),
    )
}
