//! `cargo xtask bench e2e`: glass-to-viewer cost and latency of a broadcast.
//!
//! Headless Chromium films a moving 1280×720 30 fps Y4M through the fake camera, runs
//! `grayscale|sobel`, and broadcasts with `?stamp=1`: the publisher paints each frame's
//! capture time (ms since the Unix epoch) into its top-left corner as a row of 48
//! black/white blocks (`frontend/src/broadcast/stamp.rs`). This program is the viewer: it
//! reads `stream.mjpg` from the real server, decodes the frames, reads the stamps back and
//! compares them with its own clock (same machine, same clock). Each encoder is measured
//! in its own browser. Prints a Markdown table.
//!
//! Needs the release server binary and the built frontend (xtask builds both).
//! `LENSCAST_BENCH_SECS` sets the measuring time per encoder (default 15 s).

use std::{
    io::Write as _,
    path::Path,
    time::{Duration, Instant, UNIX_EPOCH},
};

use anyhow::{Context, Result, ensure};
use e2e::{Browser, BrowserOptions, Server, artifacts_dir, mjpeg::MjpegReader};
use serde_json::Value;

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;
const STAMP_BITS: u32 = 48;

/// A moving checkerboard over a gradient: Sobel has edges everywhere, and every frame
/// differs (60 frames, looped by Chromium at 30 fps).
fn write_moving_y4m(path: &Path, frames: u32) -> Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(file, "YUV4MPEG2 W{WIDTH} H{HEIGHT} F30:1 Ip A1:1 C420jpeg")?;
    let chroma = vec![128u8; (WIDTH * HEIGHT / 2) as usize];
    let mut luma = vec![0u8; (WIDTH * HEIGHT) as usize];
    for f in 0..frames {
        for y in 0..HEIGHT {
            for x in 0..WIDTH {
                let check = ((x + f * 6) / 80 + (y + f * 3) / 80) % 2 == 0;
                let base = 40 + (x + y) * 120 / (WIDTH + HEIGHT);
                luma[(y * WIDTH + x) as usize] = (base + if check { 90 } else { 0 }) as u8;
            }
        }
        file.write_all(b"FRAME\n")?;
        file.write_all(&luma)?;
        file.write_all(&chroma)?;
    }
    file.flush()?;
    Ok(())
}

/// Reads the capture time back (the layout of `frontend/src/broadcast/stamp.rs`).
fn read_stamp(jpeg: &[u8]) -> Option<u64> {
    let image = image::load_from_memory(jpeg).ok()?.to_luma8();
    let (width, height) = image.dimensions();
    let side = (width / STAMP_BITS / 8 * 8).min(32);
    if side < 8 || height < side {
        return None;
    }
    let mut value = 0u64;
    for i in 0..STAMP_BITS {
        let v = image.get_pixel(i * side + side / 2, side / 2).0[0];
        value = value << 1 | u64::from(v >= 128);
    }
    Some(value)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// The publisher's counters from `#broadcast-stats`.
async fn counters(browser: &Browser) -> Result<Value> {
    browser
        .eval(
            "const d = document.querySelector('#broadcast-stats').dataset;
             return { sent: +d.framesSent, encode: +d.encodeMsSum, main: +d.mainMsSum,
                      bytes: +d.bytesSum, skipped: +d.framesSkipped };",
            vec![],
        )
        .await
}

struct Row {
    encoder: &'static str,
    encode_ms: f64,
    main_ms: f64,
    bytes: f64,
    viewer_fps: f64,
    processed_fps: f64,
    p50: f64,
    p99: f64,
    samples: usize,
    skipped: f64,
}

async fn measure(server: &Server, video: &Path, encoder: &'static str, secs: u64) -> Result<Row> {
    let browser = Browser::launch(&BrowserOptions::default().with_fake_video(video)).await?;
    let page = format!(
        "/?source=camera&res=720&fps=30&pipeline=grayscale%7Csobel&start=1&broadcast=1&stamp=1&encoder={encoder}"
    );
    browser.goto(&server.url(&page)).await?;
    let link = browser
        .wait_for(
            "the share link",
            "const e = document.querySelector('#share-link'); return e ? e.textContent.trim() : null;",
            Duration::from_secs(30),
        )
        .await?;
    let room = link
        .as_str()
        .and_then(|l| l.rsplit_once("/watch/"))
        .map(|(_, r)| r.to_owned())
        .context("share link is not a /watch/ link")?;
    let mut viewer = MjpegReader::open(&server.url(&protocol::rooms::stream_path(&room))).await?;

    // Warm up: JIT, caches, the first frames of the camera.
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_secs(3) {
        viewer.next_part(Duration::from_secs(10)).await?;
    }

    let before = counters(&browser).await?;
    let frames_before = browser.frames_processed().await?;
    let started = Instant::now();
    let mut received = 0u64;
    let mut latencies = Vec::new();
    while started.elapsed() < Duration::from_secs(secs) {
        let part = viewer.next_part(Duration::from_secs(10)).await?;
        received += 1;
        let now_ms = part.received.duration_since(UNIX_EPOCH)?.as_secs_f64() * 1000.0;
        if let Some(stamp) = read_stamp(&part.jpeg) {
            let latency = now_ms - stamp as f64;
            // A misread stamp gives nonsense; real latencies are within seconds.
            if (0.0..10_000.0).contains(&latency) {
                latencies.push(latency);
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = counters(&browser).await?;
    let processed = browser.frames_processed().await? - frames_before;
    browser.screenshot(&format!("bench-e2e-{encoder}")).await?;
    browser.close().await?;

    let delta =
        |key: &str| after[key].as_f64().unwrap_or(0.0) - before[key].as_f64().unwrap_or(0.0);
    let sent = delta("sent").max(1.0);
    ensure!(
        latencies.len() as u64 * 2 >= received,
        "only {} of {received} frames had a readable stamp",
        latencies.len()
    );
    latencies.sort_by(f64::total_cmp);
    Ok(Row {
        encoder,
        encode_ms: delta("encode") / sent,
        main_ms: delta("main") / sent,
        bytes: delta("bytes") / sent,
        viewer_fps: received as f64 / elapsed,
        processed_fps: processed as f64 / elapsed,
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        samples: latencies.len(),
        skipped: delta("skipped"),
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    let secs = e2e::paths::bench_window(15).as_secs();
    let video = artifacts_dir()?.join("bench-720p-moving.y4m");
    write_moving_y4m(&video, 60)?;
    let server = Server::start().await?;
    let mut rows = Vec::new();
    for encoder in ["native", "wasm"] {
        eprintln!("measuring the {encoder} encoder for {secs} s…");
        rows.push(measure(&server, &video, encoder, secs).await?);
    }
    println!();
    println!(
        "1280×720, 30 fps fake camera, pipeline `grayscale|sobel`, quality 0.8, one MJPEG viewer on loopback, {secs} s per encoder."
    );
    println!();
    println!(
        "| encoder | hand-off → JPEG ms/frame | main-thread ms/frame | bytes/frame | processed fps | viewer fps | latency p50 ms | latency p99 ms | frames skipped (busy) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.1} | {:.1} | {:.0} | {:.1} | {:.1} | {:.0} | {:.0} (n={}) | {:.0} |",
            r.encoder,
            r.encode_ms,
            r.main_ms,
            r.bytes,
            r.processed_fps,
            r.viewer_fps,
            r.p50,
            r.p99,
            r.samples,
            r.skipped
        );
    }
    println!();
    println!("Targets: 30 fps at the viewer, encode ≤ 10 ms, p99 capture-to-viewer ≤ 100 ms.");
    Ok(())
}
