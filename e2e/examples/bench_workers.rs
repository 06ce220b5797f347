//! `cargo xtask bench frontend`, second part: the worker path against the main-thread
//! loop (`?worker=0`), side by side, in one run.
//!
//! For 720p and 1080p (Chromium's fake camera at 30 fps, and 1080p once more at the fake
//! camera's default 20 fps, the rate issue 12 measured its 1080p baseline at) and each
//! pipeline, the app broadcasts to one outside MJPEG viewer while it runs; over a measuring
//! window (default 10 s, `LENSCAST_BENCH_SECS`) it reads the app's cumulative counters
//! (`window.__lenscast_stats`, the broadcast panel's `data-*`), the page's `longtask`
//! entries and the viewer's frame times. Then: slider-to-frame latency (a pipeline slider
//! moved by an `input` event dispatched from a queued task, like a user's, until the first
//! frame drawn with the change; median of 5), and the viewer's rate while a script keeps
//! the page's main thread busy for 3 s. Printed, never asserted.
//!
//! `LENSCAST_BENCH_ONLY=a,b` runs only the rows whose label (`720p@30 grayscale|sobel
//! workers`) contains one of the comma-separated parts; `LENSCAST_BENCH_QUERY=&encoder=native`
//! adds to every page address (e.g. to compare the encoders).

use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use e2e::{
    Browser, BrowserOptions, Server, ServerPaths,
    main_thread::{TimedViewer, block_main_thread, observe_long_tasks, take_long_tasks},
};
use serde_json::Value;

const WARMUP: Duration = Duration::from_secs(4);
const BLOCK: Duration = Duration::from_secs(3);
const WAIT: Duration = Duration::from_secs(30);
const PIPELINES: [&str; 3] = [
    "grayscale|sobel",
    "cartoon|vignette",
    "gaussian:sigma=3|sharpen|canny",
];
/// Size and the fake camera's rate (`None`: its default, 20 fps).
const CAMERAS: [(&str, Option<u32>); 3] = [("720", Some(30)), ("1080", Some(30)), ("1080", None)];
/// The fake camera's rate when none is asked for.
const DEFAULT_CAMERA_FPS: u32 = 20;

struct Row {
    camera_fps: f64,
    fps: f64,
    dropped: f64,
    copy_ms: f64,
    filter_ms: f64,
    draw_ms: f64,
    /// What handing a frame to the sender worker costs the filter worker.
    handoff_ms: Option<f64>,
    encode_ms: f64,
    /// The encoding thread's own time per frame sent (the sender worker's, or the page's).
    encoder_cpu_ms: f64,
    stages: String,
    long_tasks: (u64, f64),
    slider_ms: Option<f64>,
    viewer_fps: f64,
    blocked_fps: f64,
    size: String,
}

fn num(value: &Value, key: &str) -> f64 {
    value[key].as_f64().unwrap_or(0.0)
}

/// The broadcast panel's cumulative numbers: `(encode ms sum, frames sent, encoder
/// thread ms sum)`.
async fn broadcast_totals(browser: &Browser) -> Result<(f64, f64, f64)> {
    let value = browser
        .eval(
            "const e = document.querySelector('#broadcast-stats');
             return e ? [+e.dataset.encodeMsSum, +e.dataset.framesSent, +e.dataset.mainMsSum]
                      : [0, 0, 0];",
            vec![],
        )
        .await?;
    let at = |i: usize| value[i].as_f64().unwrap_or(0.0);
    Ok((at(0), at(1), at(2)))
}

/// Moves the last pipeline slider one step (or, for pipelines without sliders, flips the
/// last filter's on/off box) from a queued task; returns when that was asked (epoch ms).
const NUDGE: &str = "
    const slider = [...document.querySelectorAll('.param input[type=range]')].pop();
    const toggle = [...document.querySelectorAll('li[data-filter] .switch input')].pop();
    if (!slider && !toggle) return null;
    const asked = performance.timeOrigin + performance.now();
    setTimeout(() => {
        if (slider) {
            const v = +slider.value, step = +slider.step || 1;
            slider.value = v + step <= +slider.max ? v + step : v - step;
            slider.dispatchEvent(new InputEvent('input', { bubbles: true }));
        } else {
            toggle.checked = !toggle.checked;
            toggle.dispatchEvent(new Event('change', { bubbles: true }));
        }
    }, 0);
    return asked;";

async fn slider_latency(browser: &Browser) -> Result<Option<f64>> {
    let mut samples = Vec::new();
    for _ in 0..5 {
        let Some(asked) = browser.eval(NUDGE, vec![]).await?.as_f64() else {
            return Ok(None);
        };
        let script = format!(
            "const s = window.__lenscast_stats; return !!s && s.controlsShownAt > {asked};"
        );
        browser
            .wait_for("the slider's frame", &script, WAIT)
            .await?;
        let shown = num(&browser.stats().await?, "controlsShownAt");
        samples.push(shown - asked);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    samples.sort_by(f64::total_cmp);
    Ok(Some(samples[samples.len() / 2]))
}

async fn measure(
    server: &Server,
    query: &str,
    camera_fps: Option<u32>,
    window: Duration,
) -> Result<Row> {
    let options = BrowserOptions {
        fake_camera_params: camera_fps.map(|fps| format!("fps={fps}")),
        ..BrowserOptions::default()
    };
    let browser = Browser::launch(&options).await?;
    browser.goto(&server.url(query)).await?;
    observe_long_tasks(&browser).await?;
    let link = browser
        .wait_for(
            "the share link",
            "const e = document.querySelector('#share-link'); return e ? e.textContent.trim() : null;",
            WAIT,
        )
        .await?;
    let room = link
        .as_str()
        .and_then(|link| link.rsplit_once("/watch/"))
        .map(|(_, room)| room.to_owned())
        .context("no share link")?;
    let viewer = TimedViewer::open(&server.url(&protocol::rooms::stream_path(&room))).await?;
    browser.wait_for_frames(10, WAIT).await?;
    tokio::time::sleep(WARMUP).await;

    let s0 = browser.stats().await?;
    let b0 = broadcast_totals(&browser).await?;
    take_long_tasks(&browser).await?;
    let t0 = SystemTime::now();
    tokio::time::sleep(window).await;
    let t1 = SystemTime::now();
    let long_tasks = take_long_tasks(&browser).await?;
    // Counters are published twice a second: read them after the next publish.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let s1 = browser.stats().await?;
    let b1 = broadcast_totals(&browser).await?;
    let seconds = t1.duration_since(t0)?.as_secs_f64() + 0.6;
    let d = |key: &str| num(&s1, key) - num(&s0, key);
    let frames = d("frames").max(1.0);
    let sent = (b1.1 - b0.1).max(1.0);

    let slider_ms = slider_latency(&browser).await?;
    let t2 = SystemTime::now();
    block_main_thread(&browser, BLOCK).await?;
    let t3 = SystemTime::now();
    let stages = s1["stages"]
        .as_array()
        .map(|stages| {
            stages
                .iter()
                .map(|s| format!("{} {:.1}", s["label"].as_str().unwrap_or("?"), num(s, "ms")))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let row = Row {
        camera_fps: d("captured") / seconds,
        fps: d("frames") / seconds,
        dropped: d("dropped"),
        copy_ms: d("sumCopyMs") / frames,
        filter_ms: d("sumFilterMs") / frames,
        draw_ms: d("sumDrawMs") / frames,
        handoff_ms: (d("handoffs") > 0.0).then(|| d("sumHandoffMs") / d("handoffs")),
        encode_ms: (b1.0 - b0.0) / sent,
        encoder_cpu_ms: (b1.2 - b0.2) / sent,
        stages,
        long_tasks,
        slider_ms,
        viewer_fps: viewer.fps_between(t0, t1),
        blocked_fps: viewer.fps_between(t2, t3),
        size: format!("{}×{}", num(&s1, "width"), num(&s1, "height")),
    };
    drop(viewer);
    browser.close().await?;
    Ok(row)
}

#[tokio::main]
async fn main() -> Result<()> {
    let window = e2e::paths::bench_window(10);
    let server = Server::start_with(ServerPaths::from_env()?, &[]).await?;
    println!(
        "\n## frame path: workers vs main thread (broadcasting to one viewer, {}s window)\n",
        window.as_secs()
    );
    let only: Vec<String> = std::env::var("LENSCAST_BENCH_ONLY")
        .unwrap_or_default()
        .split(',')
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect();
    let more = std::env::var("LENSCAST_BENCH_QUERY").unwrap_or_default();
    println!(
        "| size | pipeline | path | camera asked | camera fps | processed fps | dropped | copy-in ms | filters ms | draw ms | hand-off ms | JPEG ms | encoder thread ms | long tasks (n / ms) | slider → frame ms | viewer fps | viewer fps, page blocked 3 s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (res, fps) in CAMERAS {
        let asked = fps.unwrap_or(DEFAULT_CAMERA_FPS);
        for pipeline in PIPELINES {
            for (path, extra) in [("workers", ""), ("main thread", "&worker=0")] {
                let label = format!("{res}p@{asked} {pipeline} {path}");
                if !only.is_empty() && !only.iter().any(|part| label.contains(part.as_str())) {
                    continue;
                }
                let query = format!(
                    "/?source=camera&res={res}&pipeline={pipeline}&start=1&broadcast=1{extra}{more}"
                );
                let row = match measure(&server, &query, fps, window).await {
                    Ok(row) => row,
                    Err(err) => {
                        let first = err.to_string();
                        let first = first.lines().next().unwrap_or_default();
                        println!("| {res}p | `{pipeline}` | {path} | {asked} | failed: {first} |");
                        continue;
                    }
                };
                println!(
                    "| {} | `{}` | {path} | {asked} | {:.1} | {:.1} | {:.0} | {:.1} | {:.1} | {:.1} | {} | {:.1} | {:.1} | {} / {:.0} | {} | {:.1} | {:.1} |",
                    row.size,
                    pipeline.replace('|', "\\|"),
                    row.camera_fps,
                    row.fps,
                    row.dropped,
                    row.copy_ms,
                    row.filter_ms,
                    row.draw_ms,
                    row.handoff_ms.map_or("–".into(), |ms| format!("{ms:.2}")),
                    row.encode_ms,
                    row.encoder_cpu_ms,
                    row.long_tasks.0,
                    row.long_tasks.1,
                    row.slider_ms.map_or("–".into(), |ms| format!("{ms:.0}")),
                    row.viewer_fps,
                    row.blocked_fps,
                );
                eprintln!("  {label}: stages {}", row.stages);
            }
        }
    }
    Ok(())
}
