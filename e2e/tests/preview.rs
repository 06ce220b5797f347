//! The preview end to end: the built frontend served by the real server, opened in headless
//! Chromium whose fake camera plays a Y4M of known colour bars; the `#preview` pixels must be
//! the grayscale of those colours. Then the same with the built-in test pattern, the URL
//! state round trip, readable errors for bad links, and the phone layout.

use std::time::Duration;

use anyhow::{Result, ensure};
use e2e::{Browser, BrowserOptions, Image, Server, artifacts_dir, y4m};

const FRAMES_TIMEOUT: Duration = Duration::from_secs(30);

/// The test pattern's fixed bars (`frontend/src/media/test_pattern.rs`: `BARS`, top 60 %).
const PATTERN_BARS: [[u8; 3]; 7] = [
    [191, 191, 191],
    [191, 191, 0],
    [0, 191, 191],
    [0, 191, 0],
    [191, 0, 191],
    [191, 0, 0],
    [0, 0, 191],
];

/// Checks every pixel is gray and each bar (sampled away from its edges) has the expected luma.
fn assert_gray_bars(image: &Image, bars: &[[u8; 3]], bars_height: f64, tolerance: f64) {
    let spread = image.max_channel_spread();
    assert!(
        spread <= 1,
        "preview is not grayscale: max channel spread {spread}"
    );
    let n = bars.len() as f64;
    for (i, colour) in bars.iter().enumerate() {
        let x0 = (i as f64 + 0.3) / n;
        let x1 = (i as f64 + 0.7) / n;
        let [got, ..] = image.mean_rgb(x0, x1, 0.1 * bars_height, 0.9 * bars_height);
        let want = y4m::luma(*colour);
        assert!(
            (got - want).abs() <= tolerance,
            "bar {i} {colour:?}: luma {got:.1}, expected {want:.1} ± {tolerance}"
        );
    }
}

/// The `#stats` text must show the processed rate as `NN.N fps`.
async fn assert_stats_text(browser: &Browser) -> Result<()> {
    let text = browser.text_of("#stats").await?.unwrap_or_default();
    let has_rate = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| {
            w[1] == "fps"
                && w[0].split_once('.').is_some_and(|(a, b)| {
                    !a.is_empty()
                        && a.bytes().all(|c| c.is_ascii_digit())
                        && b.len() == 1
                        && b.bytes().all(|c| c.is_ascii_digit())
                })
        });
    ensure!(has_rate, "#stats has no `NN.N fps`: {text:?}");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn camera_preview_is_grayscale_of_known_colours() -> Result<()> {
    let video = artifacts_dir()?.join("preview-bars.y4m");
    y4m::write_bars(&video, 640, 360, 10)?;
    let server = Server::start().await?;
    let browser = Browser::launch(&BrowserOptions::default().with_fake_video(&video)).await?;

    browser
        .goto(&server.url("/?source=camera&pipeline=grayscale&start=1"))
        .await?;
    browser.wait_for_frames(10, FRAMES_TIMEOUT).await?;
    let image = browser.preview_image().await?;
    assert_eq!(
        (image.width, image.height),
        (640, 360),
        "preview has the camera's size"
    );
    assert_gray_bars(&image, &y4m::BARS, 1.0, 10.0);

    // Give the stats a publish period, then check the overlay and the stable stats object.
    browser.wait_for_frames(20, FRAMES_TIMEOUT).await?;
    assert_stats_text(&browser).await?;
    let stats = browser.stats().await?;
    ensure!(stats["running"] == true, "stats: {stats}");
    ensure!(stats["fps"].as_f64().unwrap_or(0.0) > 1.0, "stats: {stats}");
    // Once access is granted the device picker lists the camera by its real name.
    let cameras = browser
        .eval(
            "return [...document.querySelectorAll('#camera-device option')].map(o => o.textContent);",
            vec![],
        )
        .await?;
    ensure!(
        cameras.as_array().is_some_and(|list| list.len() >= 2
            && list[1]
                .as_str()
                .is_some_and(|label| !label.starts_with("Camera "))),
        "camera picker: {cameras}"
    );
    let path = browser.screenshot("preview-camera").await?;
    eprintln!("screenshot: {}", path.display());

    // Stopping releases the camera and says so.
    browser.click("#start").await?;
    browser
        .wait_for(
            "the source to stop",
            "return document.querySelector('#start').textContent.trim() === 'Start';",
            Duration::from_secs(5),
        )
        .await?;
    browser.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn test_source_preview_and_url_state() -> Result<()> {
    let server = Server::start().await?;
    let browser = Browser::launch(&BrowserOptions {
        fake_camera: false,
        ..BrowserOptions::default()
    })
    .await?;
    browser
        .goto(&server.url("/?source=test&pipeline=grayscale&start=1"))
        .await?;
    browser.wait_for_frames(10, FRAMES_TIMEOUT).await?;
    let image = browser.preview_image().await?;
    assert_eq!((image.width, image.height), (1280, 720), "720p by default");
    assert_gray_bars(&image, &PATTERN_BARS, 0.6, 2.0);
    browser.wait_for_frames(20, FRAMES_TIMEOUT).await?;
    assert_stats_text(&browser).await?;

    // Editing the pipeline in the UI applies on the next frames and lands in the URL.
    browser
        .eval(
            "const s = document.querySelector('#filter-choice'); s.value = 'invert'; \
             s.dispatchEvent(new Event('change', { bubbles: true })); return true;",
            vec![],
        )
        .await?;
    browser.click("#filter-add").await?;
    browser
        .wait_for(
            "the URL to carry the new pipeline",
            "return location.search.includes('pipeline=grayscale|invert');",
            Duration::from_secs(5),
        )
        .await?;
    browser.wait_for_frames(5, FRAMES_TIMEOUT).await?;
    let inverted = browser.preview_image().await?;
    // Gray then inverted: the white-ish first bar turns dark.
    let [first, ..] = inverted.mean_rgb(0.03, 0.11, 0.1, 0.5);
    let want = 255.0 - y4m::luma(PATTERN_BARS[0]);
    ensure!(
        (first - want).abs() <= 2.0,
        "inverted first bar {first:.1}, want {want:.1}"
    );
    let path = browser.screenshot("preview-test-source").await?;
    eprintln!("screenshot: {}", path.display());

    // Compare mode shows the original beside the filtered frame.
    browser.click("#compare").await?;
    browser.wait_for_frames(5, FRAMES_TIMEOUT).await?;
    let original = browser.canvas_image("#original").await?;
    ensure!(
        original.max_channel_spread() > 100,
        "the original keeps its colours"
    );
    browser.screenshot("preview-compare").await?;
    browser.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn bad_link_shows_problems_and_defaults() -> Result<()> {
    let server = Server::start().await?;
    let browser = Browser::launch(&BrowserOptions::default()).await?;
    browser
        .goto(&server.url("/?source=webcam&pipeline=grayscale|blur:r=999|nope&start=maybe"))
        .await?;
    let text = browser
        .wait_for(
            "the problems notice",
            "const n = document.querySelector('#notices'); return n ? n.textContent : null;",
            Duration::from_secs(10),
        )
        .await?;
    let text = text.as_str().unwrap_or_default();
    for needle in ["webcam", "pipeline", "r=999", "nope", "start=maybe"] {
        ensure!(text.contains(needle), "notice lacks {needle}: {text}");
    }
    // Defaults: camera source, idle; the valid filter stays; the page still works.
    ensure!(
        browser.text_of("#start").await?.as_deref().map(str::trim) == Some("Start"),
        "start button missing"
    );
    let pipeline = browser.text_of("#pipeline-text").await?.unwrap_or_default();
    ensure!(
        pipeline.trim() == "grayscale",
        "the valid filter is kept, the bad ones dropped: {pipeline}"
    );
    browser.screenshot("bad-link").await?;
    browser.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn phone_layout_runs_the_test_source() -> Result<()> {
    let server = Server::start().await?;
    let browser = Browser::launch(&BrowserOptions::default().with_window(390, 844)).await?;
    browser
        .goto(&server.url("/?source=test&pipeline=sobel&start=1&res=480"))
        .await?;
    browser.wait_for_frames(5, FRAMES_TIMEOUT).await?;
    // Nothing may overflow sideways on a phone.
    let overflow = browser
        .eval(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await?;
    ensure!(
        overflow.as_f64() == Some(0.0),
        "page scrolls sideways by {overflow}"
    );
    browser.screenshot("phone").await?;
    browser.close().await?;
    Ok(())
}
