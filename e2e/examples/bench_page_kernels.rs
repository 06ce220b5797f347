//! Ad-hoc: the page's own kernels (the main-thread loop, `?worker=0`) in two builds of the
//! frontend, `LENSCAST_DIST_A` and `LENSCAST_DIST_B`: filter ms per frame at 720p, A and B
//! interleaved per pipeline. Printed, never asserted.

use std::time::Duration;

use anyhow::Result;
use e2e::{Browser, BrowserOptions, Server, ServerPaths};

const PIPELINES: [&str; 3] = [
    "blur:r=7",
    "grayscale|sobel",
    "sepia|contrast:amount=1.5|vignette",
];

async fn filter_ms(server: &Server, pipeline: &str) -> Result<(f64, f64)> {
    let browser = Browser::launch(&BrowserOptions::default()).await?;
    browser
        .goto(&server.url(&format!(
            "/?source=camera&res=720&fps=30&worker=0&pipeline={pipeline}&start=1"
        )))
        .await?;
    browser.wait_for_frames(30, Duration::from_mins(1)).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let a = browser.stats().await?;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let b = browser.stats().await?;
    browser.close().await?;
    let d = |k: &str| b[k].as_f64().unwrap_or(0.0) - a[k].as_f64().unwrap_or(0.0);
    Ok((d("sumFilterMs") / d("frames").max(1.0), d("frames") / 8.0))
}

#[tokio::main]
async fn main() -> Result<()> {
    let base = ServerPaths::from_env()?;
    let mut servers = Vec::new();
    for var in ["LENSCAST_DIST_A", "LENSCAST_DIST_B"] {
        let dist = std::env::var(var)?.into();
        servers.push((
            var,
            Server::start_with(
                ServerPaths {
                    dist,
                    ..base.clone()
                },
                &[],
            )
            .await?,
        ));
    }
    for round in 0..2 {
        for pipeline in PIPELINES {
            for (var, server) in &servers {
                let (ms, fps) = filter_ms(server, pipeline).await?;
                println!(
                    "round {round} {var} `{pipeline}`: filters {ms:.2} ms/frame, {fps:.1} fps"
                );
            }
        }
    }
    Ok(())
}
