//! Person segmentation in the app: ms per frame of `segment-blur` and `segment-replace` at
//! 720p in the filter worker (the model, rten on wasm32 + simd128, runs there on every
//! frame), with Chromium's fake camera filming a 30 fps Y4M of a person
//! (`e2e::y4m::person_frame`). Over a measuring window (default 10 s,
//! `LENSCAST_BENCH_SECS`) it reads the app's cumulative counters from
//! `window.__lenscast_stats`. Printed, never asserted. Needs the model in `static/models/`
//! (`cargo xtask setup`) and the env of the browser tests (`LENSCAST_DIST`, …).

use std::time::Duration;

use anyhow::{Result, ensure};
use e2e::{Browser, BrowserOptions, Server, ServerPaths, artifacts_dir, y4m};
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
    video: &std::path::Path,
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
    let before = browser.stats().await?;
    ensure!(
        before["segment"].is_null() || before["segment"] == "ready",
        "segmentation is not running: {}",
        before["segmentError"]
    );
    tokio::time::sleep(window).await;
    let after = browser.stats().await?;
    let delta = |key: &str| num(&after, key) - num(&before, key);
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
        "| `{}` | {}×{} | {} | {:.1} | {:.1} | {:.0} | {:.2} | {:.2} | {:.2} | {} |",
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
    let window = Duration::from_secs(
        std::env::var("LENSCAST_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10),
    );
    let video = artifacts_dir()?.join("bench-segment-person.y4m");
    y4m::write_image(&video, &y4m::person_frame(1280, 720)?, 30)?;
    let server = Server::start_with(ServerPaths::from_env()?, &[]).await?;
    println!(
        "\n## segmentation in the app (fake camera 1280×720 at 30 fps, a person; {}s window; means per frame)\n",
        window.as_secs()
    );
    println!(
        "| pipeline | size | runs in | camera fps | processed fps | dropped | copy-in ms | filters ms | draw ms | stages (smoothed ms) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for pipeline in PIPELINES {
        match measure(&server, &video, pipeline, window).await {
            Ok(row) => println!("{row}"),
            Err(err) => println!(
                "| `{pipeline}` | failed: {} |",
                err.to_string().lines().next().unwrap_or_default()
            ),
        }
    }
    Ok(())
}
