//! A broadcast whose frames come out larger than the server takes: the app does not send
//! them (the server would close the socket with 1009, again and again), it makes the next
//! frames smaller until they fit, says so on the panel, and the viewer keeps getting frames.

use std::time::Duration;

use anyhow::{Result, ensure};
use e2e::{
    Browser, BrowserOptions, Server,
    mjpeg::MjpegReader,
    share::{share_link, stream_url},
};

const WAIT: Duration = Duration::from_secs(20);
/// Far below a 720p test pattern at quality 0.95 (about 100 KB).
const LIMIT: usize = 20_000;

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn frames_over_the_servers_limit_are_made_smaller_until_they_fit() -> Result<()> {
    let server = Server::start_with_args(&["--max-frame-bytes", &LIMIT.to_string()]).await?;
    let browser = Browser::launch(&BrowserOptions::default()).await?;
    browser
        .goto(&server.url("/?source=test&start=1&res=720&quality=0.95"))
        .await?;
    browser.wait_for_frames(3, WAIT).await?;
    browser
        .eval(
            "document.querySelector('#broadcast').click(); return true;",
            vec![],
        )
        .await?;
    let link = share_link(&browser, WAIT).await?;
    let mut viewer = MjpegReader::open(&stream_url(&server, &link)?).await?;
    let mut sizes = Vec::new();
    for _ in 0..20 {
        let part = viewer.next_part(WAIT).await?;
        ensure!(
            part.jpeg.len() <= LIMIT,
            "{} bytes got through",
            part.jpeg.len()
        );
        sizes.push(part.jpeg.len());
    }
    let fit = browser
        .wait_for(
            "the panel says frames are made smaller",
            "const e = document.querySelector('#frame-fit'); return e ? e.textContent : null;",
            WAIT,
        )
        .await?;
    let too_large: u64 = browser
        .eval(
            "return Number(document.querySelector('#broadcast-stats').dataset.framesTooLarge);",
            vec![],
        )
        .await?
        .as_u64()
        .unwrap_or_default();
    ensure!(
        too_large > 0,
        "no frame was ever over the limit: the test proves nothing"
    );
    // The server never had to refuse a frame (and close the publisher with 1009).
    let metrics = reqwest::get(server.url("/metrics")).await?.text().await?;
    let refused = metrics
        .lines()
        .find(|line| line.starts_with("lenscast_rejected_total{kind=\"TooLarge\"}"));
    ensure!(
        refused.is_none_or(|line| line.ends_with(" 0")),
        "the server refused frames: {refused:?}"
    );
    println!("fit: {fit}; {too_large} frames held back; sizes {sizes:?}");
    let shot = browser.screenshot("broadcast-frame-fit").await?;
    println!("screenshot: {}", shot.display());
    browser.close().await?;
    Ok(())
}
