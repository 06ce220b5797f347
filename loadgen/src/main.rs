//! `lenscast-loadgen`: the load behind `cargo xtask bench server`.
//!
//! For each viewer count it starts a fresh release `lenscast-server` (found next to this
//! binary), creates a room, publishes a fixed set of real 1280×720 JPEGs (about 60 KB) at
//! 30 fps over a real WebSocket, and opens N MJPEG viewers over loopback. Every published
//! JPEG carries a comment segment with its sequence number and send time, so each viewer
//! can tell which frame it got and how late. Viewers are raw tokio TCP with a preallocated
//! histogram each, reading into one buffer per loader thread: nothing is allocated per frame,
//! and the loader's own copies stay in the cache, so it takes as little of the CPU it shares
//! with the server as a client that reads every byte can.
//!
//! It prints one Markdown table row per viewer count: frames per viewer per second and the
//! share of published frames (mean and worst viewer), server CPU and CPU per frame sent,
//! server RSS, publish-to-receive latency p50/p99, and this process's own CPU.
//!
//! `lenscast-loadgen soak` (`cargo xtask bench soak`) instead runs one server for minutes
//! under a hostile mix and prints its RSS, open files and canary frames as it goes.
//!
//! `lenscast-loadgen cluster` (`cargo xtask bench cluster`) runs a nats-server and three
//! nodes, and compares local and remote viewers ([`cluster`]).
//!
//! Modules: [`frames`] makes the stamped JPEGs, [`measure`] runs one row (server, room,
//! publisher, the measured window, the figures), [`viewer`] is one MJPEG viewer, [`soak`]
//! is the soak.

mod cluster;
mod frames;
mod measure;
mod soak;
mod viewer;
mod window;

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "lenscast-loadgen", about = "MJPEG fan-out load test")]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Viewer counts to measure, one fresh server each.
    #[arg(long, value_delimiter = ',', default_value = "1,100,500,1000,2000")]
    viewers: Vec<usize>,
    /// Measured seconds per viewer count (after connecting and one second of warm-up).
    #[arg(long, default_value_t = 6)]
    seconds: u64,
    /// Publish rate.
    #[arg(long, global = true, default_value_t = 30)]
    fps: u32,
    /// Distinct frames in the published loop.
    #[arg(long, global = true, default_value_t = 30)]
    frames: u32,
    /// The server binary (default: `lenscast-server` next to this one).
    #[arg(long, global = true)]
    server_bin: Option<PathBuf>,
    /// Drop each JPEG's bytes past the stamp in the kernel (`MSG_TRUNC`) instead of reading
    /// them as a real client does: the loader saves a copy of every frame, and loopback
    /// then charges the server more of the receivers' TCP work (see BENCHMARKS.md).
    #[arg(long, global = true)]
    drop_bodies: bool,
    /// Only write the generated JPEGs into this folder (for screenshots and manual tests).
    #[arg(long)]
    write_frames: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// One server for minutes under a hostile mix (stalled viewers, a publisher that never
    /// reads, a ping flood): RSS, open files and canary frames every few seconds.
    Soak(soak::SoakArgs),
    /// A nats-server and three nodes; publisher on the first, viewers on all three: frames,
    /// latency, CPU and bus bytes local against remote.
    Cluster(cluster::ClusterArgs),
}

fn main() -> Result<()> {
    let args = Args::parse();
    rlimit::increase_nofile_limit(u64::MAX).context("raise the open-file limit")?;
    let server_bin = match &args.server_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the binary lives in a folder")?
            .join("lenscast-server"),
    };
    let frames = frames::make_frames(args.frames);
    if let Some(dir) = &args.write_frames {
        std::fs::create_dir_all(dir)?;
        for (i, frame) in frames.iter().enumerate() {
            std::fs::write(dir.join(format!("frame-{i:02}.jpg")), frame)?;
        }
        println!("wrote {} frames to {}", frames.len(), dir.display());
        return Ok(());
    }
    if let Some(command) = &args.command {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let common = soak::Common {
            server_bin: &server_bin,
            fps: args.fps,
            drop_bodies: args.drop_bodies,
            frames: Arc::new(frames),
        };
        match command {
            Command::Cluster(cluster_args) => {
                runtime.block_on(cluster::cluster(cluster_args, common))?;
            }
            Command::Soak(soak_args) => runtime.block_on(soak::soak(soak_args, common))?,
        }
        runtime.shutdown_timeout(Duration::from_secs(2));
        return Ok(());
    }
    let avg = frames.iter().map(Vec::len).sum::<usize>() / frames.len();
    println!(
        "{} distinct 1280x720 JPEGs, {:.1} KB on average, published at {} fps; {} s measured per row",
        frames.len(),
        avg as f64 / 1000.0,
        args.fps,
        args.seconds
    );
    println!();
    println!(
        "| viewers | frames/s per viewer | share of published (mean / worst) | server CPU | server µs CPU per frame sent | server RSS | latency p50 | latency p99 | loader CPU |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let frames: Arc<Vec<Vec<u8>>> = Arc::new(frames);
    for &n in &args.viewers {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let row = runtime.block_on(measure::measure(&server_bin, n, &args, Arc::clone(&frames)))?;
        println!("{row}");
        runtime.shutdown_timeout(Duration::from_secs(2));
    }
    Ok(())
}
