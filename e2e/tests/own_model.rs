//! "Your own model" end to end: the test writes tiny ONNX models itself (`testkit::onnx`),
//! picks them through the `model` card's real file input (`WebDriver` sends the file's path),
//! and reads the preview back. The fake camera films static colour bars, so the frame the
//! model saw and the frame shown beside it (compare mode's `#original`) are the same.

use std::{path::Path, time::Duration};

use anyhow::{Context, Result, ensure};
use e2e::{Browser, BrowserOptions, Image, Server, artifacts_dir, y4m};
use fantoccini::Locator;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(45);
const WIDTH: u32 = 640;
const HEIGHT: u32 = 360;

/// A browser on the bars with `pipeline` running, compare mode on.
async fn open(server: &Server, name: &str, pipeline: &str) -> Result<Browser> {
    let video = artifacts_dir()?.join(format!("{name}.y4m"));
    y4m::write_bars(&video, WIDTH, HEIGHT, 30)?;
    let browser = Browser::launch(&BrowserOptions::default().with_fake_video(&video)).await?;
    browser
        .goto(&server.url(&format!("/?source=camera&pipeline={pipeline}&start=1")))
        .await?;
    browser.wait_for_frames(5, WAIT).await?;
    browser.click("#compare").await?;
    Ok(browser)
}

/// Picks `path` in the `model` card's file input, as a user would.
async fn pick(browser: &Browser, path: &Path) -> Result<()> {
    let input = browser
        .client()
        .find(Locator::Css("#filters input.model-file"))
        .await
        .context("the model card has no file input")?;
    let path = path.canonicalize()?;
    input
        .send_keys(&path.display().to_string())
        .await
        .context("cannot pick the model file")
}

/// Waits until the stats say the `model` stage is `state` (or failed); returns the stats.
async fn wait_model(browser: &Browser, state: &str) -> Result<Value> {
    let script = format!(
        "const s = window.__lenscast_stats; \
         return s && (s.ownModel === '{state}' || s.ownModel === 'failed') ? s : null;"
    );
    let stats = browser
        .wait_for(&format!("the model stage to be {state}"), &script, WAIT)
        .await?;
    ensure!(
        stats["ownModel"] == state,
        "the model stage is {} ({}), not {state}",
        stats["ownModel"],
        stats["ownModelError"]
    );
    Ok(stats)
}

/// The card's status line.
async fn card_status(browser: &Browser) -> Result<String> {
    browser
        .text_of("#filters li[data-filter=model] .model-status")
        .await?
        .context("the model card has no status line")
}

async fn card_screenshot(browser: &Browser, name: &str) -> Result<()> {
    browser
        .eval(
            "document.querySelector('#filters li[data-filter=model]').scrollIntoView(); return true;",
            vec![],
        )
        .await?;
    let shot = browser.screenshot(name).await?;
    println!("screenshot: {}", shot.display());
    Ok(())
}

/// `#original` and `#preview`, after a few more frames.
async fn both(browser: &Browser) -> Result<(Image, Image)> {
    browser.wait_for_frames(10, WAIT).await?;
    let original = browser.canvas_image("#original").await?;
    let preview = browser.preview_image().await?;
    ensure!(
        (original.width, original.height) == (preview.width, preview.height)
            && (preview.width, preview.height) == (WIDTH, HEIGHT),
        "original {}x{}, preview {}x{}",
        original.width,
        original.height,
        preview.width,
        preview.height
    );
    Ok((original, preview))
}

/// Every pixel of `preview` is `expected(original's)`, exactly.
fn check_pixels(
    what: &str,
    original: &Image,
    preview: &Image,
    expected: fn([u8; 4]) -> [u8; 4],
) -> Result<()> {
    let mut wrong = 0;
    let mut first = None;
    for y in 0..preview.height {
        for x in 0..preview.width {
            let (o, p) = (original.pixel(x, y), preview.pixel(x, y));
            if p != expected(o) {
                wrong += 1;
                first.get_or_insert((x, y, o, p));
            }
        }
    }
    ensure!(
        wrong == 0,
        "{what}: {wrong} pixels differ; the first at {first:?} (original, preview)"
    );
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium: run cargo xtask test"]
async fn a_picked_model_that_swaps_r_and_b_gives_the_exact_pixels() -> Result<()> {
    let model = artifacts_dir()?.join("swap_rb.onnx");
    // Fixed at the camera's size, so the stage neither scales down nor up: every pixel of
    // the output is the model's own.
    std::fs::write(
        &model,
        testkit::onnx::swap_rb(Some((u64::from(WIDTH), u64::from(HEIGHT)))),
    )?;
    let server = Server::start().await?;
    let browser = open(&server, "own-model-swap", "model").await?;

    // A link names the stage but cannot carry the file: the card asks for it, and frames
    // pass unchanged.
    wait_model(&browser, "needs-file").await?;
    let status = card_status(&browser).await?;
    ensure!(
        status.starts_with("Pick your .onnx model"),
        "card says {status:?}"
    );
    let (original, preview) = both(&browser).await?;
    check_pixels("before a file", &original, &preview, |o| o)?;
    card_screenshot(&browser, "own-model-card-needs-file").await?;

    pick(&browser, &model).await?;
    let stats = browser
        .wait_for(
            "the first inference",
            "const s = window.__lenscast_stats; return s && (s.ownModelMs > 0 || s.ownModel === 'failed') ? s : null;",
            WAIT,
        )
        .await?;
    ensure!(
        stats["ownModel"] == "running",
        "the model is {}: {}",
        stats["ownModel"],
        stats["ownModelError"]
    );
    let (original, preview) = both(&browser).await?;
    check_pixels("R and B swapped", &original, &preview, |[r, g, b, a]| {
        [b, g, r, a]
    })?;
    let bar = original.pixel(WIDTH / 8, HEIGHT / 2);
    ensure!(bar[0] > bar[2] + 100, "the first bar is red: {bar:?}");
    let status = card_status(&browser).await?;
    ensure!(
        status.starts_with("swap_rb.onnx: ") && status.contains(" ms per inference"),
        "card says {status:?}"
    );
    println!(
        "swap_rb.onnx at {WIDTH}x{HEIGHT}: {} ms per inference; {}",
        stats["ownModelMs"], status
    );
    card_screenshot(&browser, "own-model-card-running").await?;
    browser.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium: run cargo xtask test"]
async fn models_it_cannot_run_give_named_errors_on_the_card() -> Result<()> {
    let dir = artifacts_dir()?;
    let server = Server::start().await?;
    let browser = open(&server, "own-model-errors", "grayscale|model").await?;
    wait_model(&browser, "needs-file").await?;

    // Over 50 MB: refused on the page before it is read.
    let big = dir.join("too_large.onnx");
    std::fs::File::create(&big)?.set_len(50 * 1024 * 1024 + 1)?;
    pick(&browser, &big).await?;
    let status = card_status(&browser).await?;
    std::fs::remove_file(&big)?;
    ensure!(
        status == "not running: too_large.onnx is too large: 50.0 MB, at most 50 MB",
        "card says {status:?}"
    );

    let rgba = dir.join("rgba.onnx");
    std::fs::write(&rgba, testkit::onnx::four_channels())?;
    pick(&browser, &rgba).await?;
    let stats = wait_model(&browser, "failed").await?;
    let error = stats["ownModelError"].as_str().unwrap_or_default();
    ensure!(
        error.contains("[1, 4, 8, 8] is not an image"),
        "the error does not name the shape: {error}"
    );
    let status = card_status(&browser).await?;
    ensure!(status.contains("is not an image"), "card says {status:?}");

    let fancy = dir.join("fancy.onnx");
    std::fs::write(&fancy, testkit::onnx::unsupported_op())?;
    pick(&browser, &fancy).await?;
    let stats = browser
        .wait_for(
            "the second model's error",
            "const s = window.__lenscast_stats; return s && s.ownModel === 'failed' && s.ownModelError.includes('FancyOp') ? s : null;",
            WAIT,
        )
        .await?;
    let error = stats["ownModelError"].as_str().unwrap_or_default();
    ensure!(
        error.contains("FancyOp"),
        "the error does not name the operator: {error}"
    );
    let status = card_status(&browser).await?;
    ensure!(
        status.starts_with("not running: ") && status.contains("FancyOp"),
        "card says {status:?}"
    );
    // The rest of the pipeline runs; the stage passes frames unchanged.
    let (original, preview) = both(&browser).await?;
    let gray = preview.pixel(WIDTH / 8, HEIGHT / 2);
    ensure!(
        gray[0] == gray[1] && gray[1] == gray[2],
        "grayscale still runs: {gray:?}"
    );
    ensure!(
        original.max_channel_spread() > 100,
        "the original keeps its colours"
    );
    card_screenshot(&browser, "own-model-card-error").await?;
    browser.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium: run cargo xtask test"]
async fn a_mask_model_with_segment_set_drives_segment_replace() -> Result<()> {
    let model = artifacts_dir()?.join("bright_mask.onnx");
    // White is "the person"; the red, green and blue bars are background.
    std::fs::write(&model, testkit::onnx::bright_mask(256, 144))?;
    let server = Server::start().await?;
    let browser = open(
        &server,
        "own-model-segment",
        "model:segment=1|segment-replace:color=00ff00",
    )
    .await?;
    wait_model(&browser, "needs-file").await?;
    pick(&browser, &model).await?;
    let stats = browser
        .wait_for(
            "the segmentation stage to use the model",
            "const s = window.__lenscast_stats; return s && (s.segment === 'ready' || s.segment === 'failed' || s.ownModel === 'failed') ? s : null;",
            WAIT,
        )
        .await?;
    ensure!(
        stats["segment"] == "ready" && stats["ownModel"] == "running",
        "segment {} ({}), model {} ({})",
        stats["segment"],
        stats["segmentError"],
        stats["ownModel"],
        stats["ownModelError"]
    );
    let (original, preview) = both(&browser).await?;
    for bar in 0..3 {
        let x = (2 * bar + 1) * WIDTH / 8;
        let p = preview.pixel(x, HEIGHT / 2);
        ensure!(
            p[1] > 240 && p[0] < 15 && p[2] < 15,
            "bar {bar} (original {:?}) is not green: {p:?}",
            original.pixel(x, HEIGHT / 2)
        );
    }
    let (o, p) = (
        original.pixel(7 * WIDTH / 8, HEIGHT / 2),
        preview.pixel(7 * WIDTH / 8, HEIGHT / 2),
    );
    ensure!(
        o.iter().zip(&p).all(|(a, b)| a.abs_diff(*b) <= 2),
        "the white bar (the \"person\") changed: {o:?} -> {p:?}"
    );
    card_screenshot(&browser, "own-model-card-segment").await?;
    browser.close().await?;
    Ok(())
}
