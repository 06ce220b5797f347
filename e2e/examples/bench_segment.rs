//! Person segmentation in the app: ms per frame of `segment-blur` and `segment-replace` at
//! 720p in the filter worker, and ms per inference of the model in its own worker (rten on
//! wasm32 + simd128, the `lenscast_model` module), with Chromium's fake camera filming a
//! 30 fps Y4M of a person (`e2e::y4m::person_frame`). Over a measuring window (default 10 s,
//! `LENSCAST_BENCH_SECS`) it reads the app's cumulative counters from
//! `window.__lenscast_stats` and counts the page's main-thread long tasks. Then the gzip
//! sizes of what the page downloads at start and what the first segmentation stage adds.
//! Printed, never asserted. Needs the model in `static/models/` (`cargo xtask setup`) and
//! the env of the browser tests (`LENSCAST_DIST`, …).

use std::{io::Write as _, path::Path, time::Duration};

use anyhow::{Result, ensure};
use e2e::{
    Browser, BrowserOptions, Server, ServerPaths, artifacts_dir,
    main_thread::{observe_long_tasks, take_long_tasks},
    y4m,
};
use flate2::{Compression, write::GzEncoder};
use serde_json::Value;

const WARMUP: Duration = Duration::from_secs(3);
const WAIT: Duration = Duration::from_secs(45);
const PIPELINES: [&str; 3] = [
    "segment-blur",
    "segment-replace:color=00ff00",
    "grayscale|sobel",
];

fn num(value: &Value, key: &str) -> f64 {
    value[key].as_f64().unwrap_or(0.0)
}

async fn measure(
    server: &Server,
    video: &Path,
    pipeline: &str,
    window: Duration,
) -> Result<String> {
    let browser = Browser::launch(&BrowserOptions::default().with_fake_video(video)).await?;
    browser
        .goto(&server.url(&format!(
            "/?source=camera&res=720&fps=30&pipeline={pipeline}&start=1"
        )))
        .await?;
    browser
        .wait_for(
            "frames with the model loaded",
            "const s = window.__lenscast_stats; return s && s.frames > 0 && s.segment !== 'loading' ? s : null;",
            WAIT,
        )
        .await?;
    tokio::time::sleep(WARMUP).await;
    observe_long_tasks(&browser).await?;
    let before = browser.stats().await?;
    ensure!(
        before["segment"].is_null() || before["segment"] == "ready",
        "segmentation is not running: {}",
        before["segmentError"]
    );
    tokio::time::sleep(window).await;
    let after = browser.stats().await?;
    let (long_tasks, long_ms) = take_long_tasks(&browser).await?;
    let delta = |key: &str| num(&after, key) - num(&before, key);
    let inferences = delta("inferences");
    let model = if inferences > 0.0 {
        format!(
            "{:.2} | {:.2}",
            delta("sumModelMs") / inferences,
            delta("frames") / inferences
        )
    } else {
        "– | –".to_owned()
    };
    let frames = delta("frames").max(1.0);
    let secs = window.as_secs_f64();
    let stages: Vec<String> = after["stages"]
        .as_array()
        .map(|stages| {
            stages
                .iter()
                .map(|s| format!("{} {:.1}", s["label"].as_str().unwrap_or("?"), num(s, "ms")))
                .collect()
        })
        .unwrap_or_default();
    browser.close().await?;
    Ok(format!(
        "| `{}` | {}×{} | {} | {:.1} | {:.1} | {:.0} | {:.2} | {:.2} | {:.2} | {model} | {long_tasks} ({long_ms:.0} ms) | {} |",
        pipeline.replace('|', "\\|"),
        after["width"],
        after["height"],
        if after["worker"] == true {
            "worker"
        } else {
            "main thread"
        },
        delta("captured") / secs,
        delta("frames") / secs,
        delta("dropped"),
        delta("sumCopyMs") / frames,
        delta("sumFilterMs") / frames,
        delta("sumDrawMs") / frames,
        stages.join(", "),
    ))
}

#[tokio::main]
async fn main() -> Result<()> {
    let window = e2e::paths::bench_window(10);
    let video = artifacts_dir()?.join("bench-segment-person.y4m");
    y4m::write_image(&video, &y4m::person_frame(1280, 720)?, 30)?;
    let server = Server::start_with(ServerPaths::from_env()?, &[]).await?;
    println!(
        "\n## segmentation in the app (fake camera 1280×720 at 30 fps, a person; {}s window; means per frame)\n",
        window.as_secs()
    );
    println!(
        "| pipeline | size | runs in | camera fps | processed fps | dropped | copy-in ms | filters ms | draw ms | model ms/inference | frames per mask | main-thread long tasks | stages (smoothed ms) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for pipeline in PIPELINES {
        match measure(&server, &video, pipeline, window).await {
            Ok(row) => println!("{row}"),
            Err(err) => println!(
                "| `{pipeline}` | failed: {} |",
                err.to_string().lines().next().unwrap_or_default()
            ),
        }
    }
    sizes(&ServerPaths::from_env()?)
}

/// Gzip -9 bytes of `path`.
fn gzip_size(path: &Path) -> Result<usize> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(&std::fs::read(path)?)?;
    Ok(encoder.finish()?.len())
}

/// What the page downloads at start, and what the first segmentation stage adds.
fn sizes(paths: &ServerPaths) -> Result<()> {
    let mut groups: [(&str, usize); 3] = [
        ("page (wasm + JS)", 0),
        ("frame workers, at start (wasm + JS + loader)", 0),
        ("segmentation engine, on first use (wasm + JS + loader)", 0),
    ];
    for entry in std::fs::read_dir(&paths.dist)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        if !(ext.eq_ignore_ascii_case("wasm") || ext.eq_ignore_ascii_case("js")) {
            continue;
        }
        let group = ["lenscast_worker", "lenscast_model"]
            .iter()
            .position(|prefix| name.starts_with(prefix))
            .map_or(0, |i| i + 1);
        groups[group].1 += gzip_size(&path)?;
    }
    let model = paths
        .static_dir
        .join("models/selfie_segmentation_landscape.onnx");
    println!("\n## download sizes (gzip -9 bytes)\n");
    println!("| what | bytes |");
    println!("|---|---:|");
    for (what, bytes) in groups {
        println!("| {what} | {bytes} |");
    }
    if model.is_file() {
        println!(
            "| the model (`selfie_segmentation_landscape.onnx`), on first use | {} |",
            gzip_size(&model)?
        );
    }
    Ok(())
}
