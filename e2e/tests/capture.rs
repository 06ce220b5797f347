//! Outputs and the file source: the PNG snapshot and the `WebM` recording are offered as
//! downloads with real content, and a local video file plays through the filters (the
//! `requestVideoFrameCallback` path).

use std::time::Duration;

use anyhow::{Result, ensure};
use e2e::{Browser, BrowserOptions, Server};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(30);

fn has_extension(name: &str, extension: &str) -> bool {
    std::path::Path::new(name)
        .extension()
        .is_some_and(|e| e == extension)
}

/// Records what the page offers for download (`<a download>` clicks) and the blobs it turns
/// into object URLs, instead of letting Chromium save files.
const WATCH_DOWNLOADS: &str = "
    window.__downloads = [];
    window.__blobs = [];
    const createObjectURL = URL.createObjectURL;
    URL.createObjectURL = (blob) => {
        window.__blobs.push({ type: blob.type, size: blob.size });
        return createObjectURL(blob);
    };
    HTMLAnchorElement.prototype.click = function () {
        window.__downloads.push({ name: this.download, href: this.href.slice(0, 30) });
    };
    return true;";

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn snapshot_and_recording_are_downloaded() -> Result<()> {
    let server = Server::start().await?;
    let browser = Browser::launch(&BrowserOptions::default()).await?;
    browser
        .goto(&server.url("/?source=test&pipeline=sepia&start=1&res=480"))
        .await?;
    browser.wait_for_frames(5, TIMEOUT).await?;
    browser.eval(WATCH_DOWNLOADS, vec![]).await?;

    browser.click("#snapshot").await?;
    let downloads = browser.eval("return window.__downloads;", vec![]).await?;
    let snapshot = &downloads[0];
    ensure!(
        snapshot["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("lenscast-") && has_extension(n, "png")),
        "snapshot download: {downloads}"
    );
    ensure!(
        snapshot["href"]
            .as_str()
            .is_some_and(|h| h.starts_with("data:image/png;base64,")),
        "snapshot is a PNG: {downloads}"
    );

    browser.click("#record").await?;
    browser
        .wait_for(
            "the elapsed time",
            "return document.querySelector('#record').textContent.includes('00:02');",
            TIMEOUT,
        )
        .await?;
    browser.screenshot("recording").await?;
    browser.click("#record").await?;
    let blob = browser
        .wait_for(
            "the recording",
            "return window.__blobs.find(b => b.type === 'video/webm') || null;",
            TIMEOUT,
        )
        .await?;
    ensure!(
        blob["size"].as_f64().unwrap_or(0.0) > 10_000.0,
        "recording too small: {blob}"
    );
    let downloads = browser.eval("return window.__downloads;", vec![]).await?;
    ensure!(
        downloads[1]["name"]
            .as_str()
            .is_some_and(|n| has_extension(n, "webm")),
        "recording download: {downloads}"
    );
    ensure!(
        browser.text_of("#record").await?.as_deref().map(str::trim) == Some("Record"),
        "record button resets"
    );
    browser.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn local_video_file_plays_through_the_filters() -> Result<()> {
    let server = Server::start().await?;
    let browser = Browser::launch(&BrowserOptions::default()).await?;
    browser.goto(&server.url("/?source=file")).await?;
    browser
        .wait_for(
            "the file picker",
            "return !!document.querySelector('#file-input');",
            TIMEOUT,
        )
        .await?;
    // Make a two-second WebM of a solid red canvas in the page, then hand it to the file input
    // the way a person picking a file would.
    let made: Value = browser
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const c = document.createElement('canvas'); c.width = 320; c.height = 240;
             const g = c.getContext('2d');
             const paint = () => { g.fillStyle = 'rgb(220,30,30)'; g.fillRect(0, 0, 320, 240); };
             paint();
             const timer = setInterval(paint, 30);
             const rec = new MediaRecorder(c.captureStream(30), { mimeType: 'video/webm' });
             const parts = [];
             rec.ondataavailable = (e) => parts.push(e.data);
             rec.onstop = () => {
                 clearInterval(timer);
                 const file = new File(parts, 'clip.webm', { type: 'video/webm' });
                 const dt = new DataTransfer(); dt.items.add(file);
                 const input = document.querySelector('#file-input');
                 input.files = dt.files;
                 input.dispatchEvent(new Event('change', { bubbles: true }));
                 done(file.size);
             };
             rec.start();
             setTimeout(() => rec.stop(), 2000);",
            vec![],
        )
        .await?;
    ensure!(
        made.as_f64().unwrap_or(0.0) > 0.0,
        "no clip was recorded: {made}"
    );
    browser.wait_for_frames(5, TIMEOUT).await?;
    let stats = browser.stats().await?;
    // On the worker path the video's captureStream() track is read in the filter worker;
    // on the main-thread loop the video element itself.
    let paths: &[&str] = if stats["worker"] == true {
        &["yuv-copyTo", "copyTo"]
    } else {
        &["video-callback", "animation-frame"]
    };
    ensure!(
        paths.iter().any(|path| stats["path"] == *path),
        "file frames come through the video: {stats}"
    );
    let image = browser.preview_image().await?;
    ensure!((image.width, image.height) == (320, 240), "preview size");
    let [r, g, b] = image.mean_rgb(0.2, 0.8, 0.2, 0.8);
    ensure!(
        r > 180.0 && g < 70.0 && b < 70.0,
        "preview is not red: {r:.0},{g:.0},{b:.0}"
    );
    ensure!(
        browser
            .text_of(".hint.live")
            .await?
            .unwrap_or_default()
            .contains("clip.webm"),
        "the file name is shown"
    );
    browser.close().await?;
    Ok(())
}
