//! Starting and stopping over and over releases everything: every camera track the page
//! got is stopped, no hidden video elements pile up, and frames still flow afterwards.

use std::time::Duration;

use anyhow::{Result, ensure};
use e2e::{Browser, BrowserOptions, Server};

const TIMEOUT: Duration = Duration::from_secs(20);

/// Records every stream `getUserMedia` hands out, so the test can check their tracks.
const WATCH_STREAMS: &str = "
    window.__streams = [];
    const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (c) => {
        const s = await original(c);
        window.__streams.push(s);
        return s;
    };
    return true;";

async fn toggle_until(browser: &Browser, label: &str) -> Result<()> {
    browser.click("#start").await?;
    browser
        .wait_for(
            &format!("#start to read {label}"),
            &format!("return document.querySelector('#start').textContent.trim() === '{label}';"),
            TIMEOUT,
        )
        .await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn start_stop_many_times_releases_everything() -> Result<()> {
    const CAMERA_ROUNDS: usize = 25;
    const PATTERN_ROUNDS: usize = 100;
    let server = Server::start().await?;
    let browser = Browser::launch(&BrowserOptions::default()).await?;
    browser.goto(&server.url("/?source=camera")).await?;
    browser
        .wait_for(
            "the app",
            "return !!document.querySelector('#start');",
            TIMEOUT,
        )
        .await?;
    browser.eval(WATCH_STREAMS, vec![]).await?;

    for _ in 0..CAMERA_ROUNDS {
        toggle_until(&browser, "Stop").await?;
        toggle_until(&browser, "Start").await?;
    }
    let live = browser
        .eval(
            "return window.__streams.flatMap(s => s.getTracks())
                 .filter(t => t.readyState !== 'ended').length;",
            vec![],
        )
        .await?;
    let opened = browser
        .eval("return window.__streams.length;", vec![])
        .await?;
    ensure!(opened == CAMERA_ROUNDS, "opened {opened} streams");
    ensure!(live == 0, "{live} camera tracks still live after stopping");

    // The test pattern, started and stopped quickly (also mid-start).
    browser.click("#source-test").await?;
    for _ in 0..PATTERN_ROUNDS {
        browser.click("#start").await?;
        browser.click("#start").await?;
    }
    let videos = browser
        .eval("return document.querySelectorAll('video').length;", vec![])
        .await?;
    ensure!(videos == 0, "{videos} video elements left behind");
    let running = browser
        .eval(
            "return window.__lenscast_stats ? window.__lenscast_stats.running : false;",
            vec![],
        )
        .await?;
    ensure!(running == false, "the loop still reports running");

    // And it still works.
    toggle_until(&browser, "Stop").await?;
    browser.wait_for_frames(10, TIMEOUT).await?;
    browser.close().await?;
    Ok(())
}
