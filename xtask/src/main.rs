//! `cargo xtask`: the project's own build tool (the Rust "xtask" convention).
//!
//! - [`tools`] finds or installs what the build needs (wasm32 target, trunk, wasm-bindgen,
//!   wasm-opt, Chromium + chromedriver) and puts the project-local ones on `PATH`.
//! - [`steps`] runs commands, echoes them, and tallies the test runners' summary lines.
//! - [`model`] makes the person segmentation models from their npm package (part of `setup`).
//! - [`bench`] holds one module per benchmark suite.
//! - [`dev`] is the dev loop (server + `trunk serve`) and its check; [`children`] stops its
//!   processes with their own children, [`http`] is the check's client.
//! - [`source_checks`] keeps the source layout in shape: no import cycles, no long files.
//!
//! `run`, `dev` and `test` call `setup` first, so they work on a fresh machine.

mod bench;
mod children;
mod dev;
mod http;
mod model;
mod source_checks;
mod steps;
mod tools;

use std::net::SocketAddr;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::steps::{Ctx, Tally, run};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "lenscast build tool")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install whatever is missing (and only that).
    Setup {
        /// Skip Chromium and chromedriver (only needed by tests).
        #[arg(long)]
        no_browser: bool,
    },
    /// Build the frontend into `dist/` (release, offline).
    Build,
    /// Build the frontend and serve it with the release server.
    Run {
        /// Address the server listens on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
    },
    /// The dev loop: the debug server on :8080 and `trunk serve` (live reload) on :8081, which
    /// proxies /api/, /ws/, /watch/ and /static/ to the server. Ctrl-C stops both.
    Dev {
        /// Port of `trunk serve`, where the app is [default: 8081; with --check a free one].
        #[arg(long)]
        port: Option<u16>,
        /// Port of the server trunk proxies to [default: 8080; with --check a free one].
        #[arg(long)]
        server_port: Option<u16>,
        /// Start both, check through trunk the app, a new room, a publisher's WebSocket and the
        /// room's viewer page with its files, then stop both.
        #[arg(long)]
        check: bool,
    },
    /// Every check CI runs: fmt, clippy (native + wasm32), unit, wasm and browser tests.
    Test,
    /// Check the source layout: no import cycles between files, no file over 500 lines
    /// outside `tests/`.
    CheckSource,
    /// Run benchmarks and print their tables.
    Bench {
        /// Which suites (default: all).
        #[arg(value_enum)]
        suites: Vec<bench::Suite>,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let ctx = Ctx::new()?;
    match cli.command {
        Command::Setup { no_browser } => tools::setup(&ctx, !no_browser),
        Command::Build => {
            tools::setup(&ctx, false)?;
            build_frontend(&ctx)
        }
        Command::Run { addr } => {
            tools::setup(&ctx, false)?;
            build_frontend(&ctx)?;
            let server = build_release_server(&ctx)?;
            println!("\nlenscast: open http://{addr}/ (Ctrl-C stops the server)\n");
            run(ctx
                .cmd(server)
                .arg("--addr")
                .arg(addr.to_string())
                .arg("--dist")
                .arg(ctx.root.join("dist"))
                .arg("--static")
                .arg(ctx.root.join("static")))
        }
        Command::Dev {
            port,
            server_port,
            check,
        } => {
            tools::setup(&ctx, false)?;
            dev::dev(
                &ctx,
                &dev::Options {
                    port,
                    server_port,
                    check,
                },
            )
        }
        Command::Test => test(&ctx),
        Command::CheckSource => source_checks::run(&ctx.root),
        Command::Bench { suites } => {
            tools::setup(&ctx, true)?;
            bench::run(&ctx, &suites)
        }
    }
}

/// Builds the release `lenscast-server` and returns its path.
pub fn build_release_server(ctx: &Ctx) -> Result<std::path::PathBuf> {
    run(ctx.cargo().args([
        "build",
        "--release",
        "--package",
        "server",
        "--bin",
        "lenscast-server",
    ]))?;
    Ok(ctx.target_dir().join("release/lenscast-server"))
}

/// `trunk build --release --offline` into `dist/`.
pub fn build_frontend(ctx: &Ctx) -> Result<()> {
    run(ctx.cmd("trunk").args(["build", "--release", "--offline"]))
}

fn test(ctx: &Ctx) -> Result<()> {
    tools::setup(ctx, true)?;
    let mut tally = Tally::default();
    let dist = ctx.root.join("dist");

    tally.step("fmt", ctx.cargo().args(["fmt", "--all", "--check"]));
    tally.step(
        "source layout (import cycles, file sizes)",
        ctx.cmd(std::env::current_exe()?).arg("check-source"),
    );
    tally.step(
        "clippy (native)",
        ctx.cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    );
    tally.step(
        "clippy (wasm32)",
        ctx.cargo().args([
            "clippy",
            "--package",
            "protocol",
            "--package",
            "filters",
            "--package",
            "segment",
            "--package",
            "frontend",
            "--target",
            "wasm32-unknown-unknown",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    );
    tally.step(
        "unit and integration tests",
        ctx.cargo()
            .args(["test", "--workspace", "--exclude", "frontend"]),
    );
    tally.step(
        "filters on wasm32 (Node)",
        ctx.cargo().args([
            "test",
            "--package",
            "filters",
            "--target",
            "wasm32-unknown-unknown",
        ]),
    );
    tally.step(
        "segment (model on rten) on wasm32 (Node)",
        ctx.cargo().args([
            "test",
            "--package",
            "segment",
            "--target",
            "wasm32-unknown-unknown",
        ]),
    );
    tally.step(
        "frontend glue on wasm32 (headless Chromium)",
        ctx.cargo()
            .args([
                "test",
                "--package",
                "frontend",
                "--target",
                "wasm32-unknown-unknown",
            ])
            .env("CHROMEDRIVER", tools::chromedriver()),
    );
    let built = tally.step(
        "frontend build (trunk)",
        ctx.cmd("trunk").args(["build", "--release", "--offline"]),
    );
    let server_built = tally.step(
        "server binary for browser tests",
        ctx.cargo()
            .args(["build", "--package", "server", "--bin", "lenscast-server"]),
    );
    if built && server_built {
        tally.step(
            "browser end-to-end",
            ctx.cargo()
                .args([
                    "test",
                    "--package",
                    "e2e",
                    "--",
                    "--include-ignored",
                    "--test-threads=1",
                ])
                .env("LENSCAST_DIST", &dist)
                .env("LENSCAST_STATIC", ctx.root.join("static"))
                .env(
                    "LENSCAST_SERVER_BIN",
                    ctx.target_dir().join("debug/lenscast-server"),
                )
                .env("CHROMEDRIVER", tools::chromedriver()),
        );
    }
    tally.step(
        "dev loop (app, API, WebSocket, viewer page through trunk serve)",
        ctx.cmd(std::env::current_exe()?).args(["dev", "--check"]),
    );
    tally.finish()
}
