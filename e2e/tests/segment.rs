//! Person segmentation end to end: the fake camera films a photo of a person (matplotlib's
//! `grace_hopper.jpg`, the `segment` crate's fixture, centred on a plain wall), the filter
//! worker fetches the selfie model from the server and runs `segment-replace:color=00ff00`;
//! the preview and a broadcast viewer's frames show a green background around a person
//! who is not green. Needs the model: `cargo xtask setup` puts it in `static/models/`.

use e2e::{
    gate::GatedProxy,
    share::{share_link, stream_url},
};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use e2e::{
    Browser, BrowserOptions, Image, Server, ServerPaths, artifacts_dir, mjpeg::MjpegReader, y4m,
};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(45);
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;

fn is_green([r, g, b]: [f64; 3]) -> bool {
    g > 180.0 && r < 80.0 && b < 80.0
}

fn is_blue([r, g, b]: [f64; 3]) -> bool {
    b > 180.0 && r < 80.0 && g < 90.0
}

/// The four corners are green and the centre (her collar and tie) is not.
fn check(what: &str, image: &Image) -> Result<()> {
    check_background(what, image, "green", is_green)
}

/// The four corners are the background `is_background` names and the centre is not.
fn check_background(
    what: &str,
    image: &Image,
    colour: &str,
    is_background: fn([f64; 3]) -> bool,
) -> Result<()> {
    let corners = [
        (0.02, 0.12, 0.03, 0.15),
        (0.88, 0.98, 0.03, 0.15),
        (0.02, 0.12, 0.85, 0.97),
        (0.88, 0.98, 0.85, 0.97),
    ];
    for (x0, x1, y0, y1) in corners {
        let mean = image.mean_rgb(x0, x1, y0, y1);
        ensure!(
            is_background(mean),
            "{what}: corner at x {x0}..{x1}, y {y0}..{y1} is {mean:.0?}, not {colour}"
        );
    }
    for (x0, x1, y0, y1) in [(0.45, 0.55, 0.45, 0.6), (0.45, 0.55, 0.25, 0.35)] {
        let mean = image.mean_rgb(x0, x1, y0, y1);
        ensure!(
            !is_background(mean) && mean[1] < mean[0] + 40.0 && mean[2] < mean[0] + 60.0,
            "{what}: the person at x {x0}..{x1}, y {y0}..{y1} turned {colour}: {mean:.0?}"
        );
    }
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium: run cargo xtask test"]
async fn segment_replace_turns_the_background_green_in_preview_and_broadcast() -> Result<()> {
    let video = artifacts_dir()?.join("segment-person.y4m");
    y4m::write_image(&video, &y4m::person_frame(WIDTH, HEIGHT)?, 30)?;
    let server = Server::start().await?;
    let browser = Browser::launch(&BrowserOptions::default().with_fake_video(&video)).await?;
    browser
        .goto(
            &server
                .url("/?source=camera&pipeline=segment-replace:color=00ff00&start=1&broadcast=1"),
        )
        .await?;
    // Before the model is there the card says it is loading (and frames pass unchanged).
    let ready = browser
        .wait_for(
            "the model to run",
            "const s = window.__lenscast_stats; return s && (s.segment === 'ready' || s.segment === 'failed') ? s : null;",
            WAIT,
        )
        .await?;
    ensure!(
        ready["segment"] == "ready",
        "the model failed: {}",
        ready["segmentError"]
    );
    ensure!(
        ready["worker"] == true,
        "frames are not in the worker: {ready}"
    );
    let frames = ready["frames"].as_u64().unwrap_or_default();
    browser.wait_for_frames(frames + 20, WAIT).await?;
    let stats = browser.stats().await?;
    let stage_ms = stats["stages"]
        .as_array()
        .and_then(|stages| stages.first())
        .map_or(Value::Null, |stage| stage["ms"].clone());
    println!(
        "segment-replace at {}x{}: stage {stage_ms} ms, filters {} ms, {} fps",
        stats["width"], stats["height"], stats["filterMs"], stats["fps"]
    );

    let preview = browser.preview_image().await?;
    ensure!(
        (preview.width, preview.height) == (WIDTH, HEIGHT),
        "preview is {}x{}",
        preview.width,
        preview.height
    );
    let shot = browser.screenshot("segment-replace").await?;
    println!("screenshot: {}", shot.display());
    // The card, with its colour picker (to look at).
    browser
        .eval(
            "document.querySelector('#filters li').scrollIntoView(); return true;",
            vec![],
        )
        .await?;
    browser.screenshot("segment-replace-card").await?;
    let picker = browser
        .eval(
            "const e = document.querySelector('#filters li input[type=color]'); return e ? e.value : null;",
            vec![],
        )
        .await?;
    ensure!(picker == "#00ff00", "the colour input holds {picker}");
    check("preview", &preview)?;
    ensure!(
        browser.text_of(".filter-status").await?.is_none(),
        "the card still shows a status once the model runs"
    );

    let link = share_link(&browser, WAIT).await?;
    let mut viewer = MjpegReader::open(&stream_url(&server, &link)?).await?;
    let mut last = None;
    for i in 0..5 {
        let part = viewer
            .next_part(WAIT)
            .await
            .with_context(|| format!("viewer frame {i}"))?;
        last = Some(part.jpeg);
    }
    let jpeg = last.context("no viewer frame")?;
    std::fs::write(artifacts_dir()?.join("segment-replace-viewer.jpg"), &jpeg)?;
    let frame = image::load_from_memory(&jpeg)?.to_rgba8();
    let frame = Image {
        width: frame.width(),
        height: frame.height(),
        rgba: frame.into_raw(),
    };
    check("viewer frame", &frame)?;
    browser.close().await?;
    Ok(())
}

/// Waits until the stats say the segmentation stage failed; returns the stats.
async fn wait_failed(browser: &Browser) -> Result<Value> {
    browser
        .wait_for(
            "the segmentation stage to report",
            "const s = window.__lenscast_stats; return s && (s.segment === 'ready' || s.segment === 'failed') ? s : null;",
            WAIT,
        )
        .await
}

#[tokio::test]
#[ignore = "needs Chromium: run cargo xtask test"]
async fn a_corrupt_model_is_reported_and_frames_keep_flowing() -> Result<()> {
    // The server's own static files, but a model file that is not ONNX.
    let static_dir = artifacts_dir()?.join("segment-corrupt-static");
    let _ = std::fs::remove_dir_all(&static_dir);
    std::fs::create_dir_all(static_dir.join("models"))?;
    let real = ServerPaths::from_env()?;
    for entry in std::fs::read_dir(&real.static_dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), static_dir.join(entry.file_name()))?;
        }
    }
    std::fs::write(
        static_dir.join("models/selfie_segmentation_landscape.onnx"),
        b"this is not an ONNX model",
    )?;
    let server = Server::start_with(ServerPaths { static_dir, ..real }, &[]).await?;
    let video = artifacts_dir()?.join("segment-corrupt.y4m");
    y4m::write_image(&video, &y4m::person_frame(640, 360)?, 10)?;
    let browser = Browser::launch(&BrowserOptions::default().with_fake_video(&video)).await?;
    browser
        .goto(&server.url("/?source=camera&pipeline=grayscale|segment-blur&start=1"))
        .await?;
    let stats = wait_failed(&browser).await?;
    ensure!(stats["segment"] == "failed", "a corrupt model ran: {stats}");
    let reason = stats["segmentError"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    ensure!(
        reason.contains("/static/models/selfie_segmentation_landscape.onnx"),
        "the error does not name the model: {reason}"
    );
    // The banner and the card say so; the other stage still runs on every frame.
    let banner = browser
        .wait_for(
            "the segmentation banner",
            "const e = document.querySelector('#segment-error'); return e ? e.textContent : null;",
            WAIT,
        )
        .await?;
    let banner = banner.as_str().unwrap_or_default();
    ensure!(banner.contains(&reason), "banner: {banner:?}");
    let card = browser.text_of(".filter-status").await?.unwrap_or_default();
    ensure!(card.contains("not running"), "card: {card:?}");
    let frames = stats["frames"].as_u64().unwrap_or_default();
    browser.wait_for_frames(frames + 10, WAIT).await?;
    let preview = browser.preview_image().await?;
    ensure!(
        preview.max_channel_spread() <= 2,
        "grayscale no longer runs after the failed stage"
    );
    browser.screenshot("segment-corrupt-model").await?;
    browser
        .eval(
            "document.querySelector('.filter-status').scrollIntoView(); return true;",
            vec![],
        )
        .await?;
    browser.screenshot("segment-corrupt-model-card").await?;
    browser.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium: run cargo xtask test"]
async fn an_engine_module_that_fails_to_load_is_reported_at_once() -> Result<()> {
    // The engine's wasm is refused: its loader must report that, long before the filter
    // worker's 60 s backstop (this waits 20 s at most).
    let server = Server::start().await?;
    let proxy = GatedProxy::refusing(&server.url(""), &["lenscast_model_bg.wasm"]).await?;
    let video = artifacts_dir()?.join("segment-no-engine.y4m");
    y4m::write_image(&video, &y4m::person_frame(640, 360)?, 10)?;
    let browser = Browser::launch(&BrowserOptions::default().with_fake_video(&video)).await?;
    browser
        .goto(&proxy.url("/?source=camera&pipeline=grayscale|segment-blur&start=1"))
        .await?;
    let stats = browser
        .wait_for(
            "the segmentation stage to report the engine's failure",
            "const s = window.__lenscast_stats; return s && s.segment === 'failed' ? s : null;",
            Duration::from_secs(20),
        )
        .await?;
    let reason = stats["segmentError"].as_str().unwrap_or_default();
    ensure!(
        reason.contains("could not start"),
        "the error does not say the engine could not start: {reason}"
    );
    ensure!(
        proxy
            .requests()
            .iter()
            .any(|p| p.contains("lenscast_model_bg.wasm")),
        "the engine's wasm was never asked for: {:?}",
        proxy.requests()
    );
    // The other stage still runs on every frame.
    let frames = stats["frames"].as_u64().unwrap_or_default();
    browser.wait_for_frames(frames + 10, WAIT).await?;
    ensure!(
        browser.preview_image().await?.max_channel_spread() <= 2,
        "grayscale no longer runs after the engine failed"
    );
    println!("reported: {reason}");
    browser.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium: run cargo xtask test"]
async fn the_main_thread_loop_says_segmentation_needs_the_worker() -> Result<()> {
    let server = Server::start().await?;
    let video = artifacts_dir()?.join("segment-main-thread.y4m");
    y4m::write_image(&video, &y4m::person_frame(640, 360)?, 10)?;
    let browser = Browser::launch(&BrowserOptions::default().with_fake_video(&video)).await?;
    browser
        .goto(&server.url("/?source=camera&pipeline=segment-replace:color=00ff00&start=1&worker=0"))
        .await?;
    let stats = wait_failed(&browser).await?;
    ensure!(
        stats["worker"] == false,
        "not the main-thread loop: {stats}"
    );
    ensure!(stats["segment"] == "failed", "{stats}");
    let reason = stats["segmentError"].as_str().unwrap_or_default();
    ensure!(reason.contains("worker"), "unclear reason: {reason}");
    let banner = browser
        .wait_for(
            "the segmentation banner",
            "const e = document.querySelector('#segment-error'); return e ? e.textContent : null;",
            WAIT,
        )
        .await?;
    let banner = banner.as_str().unwrap_or_default();
    ensure!(banner.contains(reason), "banner: {banner:?}");
    browser.close().await?;
    Ok(())
}

/// Whether `path` is the segmentation engine's module or the model.
fn is_engine(path: &str) -> bool {
    path.contains("lenscast_model") || path.contains("/static/models/")
}

#[tokio::test]
#[ignore = "needs Chromium: run cargo xtask test"]
async fn the_engine_loads_only_with_a_segment_stage_and_the_card_says_so_meanwhile() -> Result<()> {
    let video = artifacts_dir()?.join("segment-lazy.y4m");
    y4m::write_image(&video, &y4m::person_frame(640, 360)?, 15)?;
    let server = Server::start().await?;
    // The engine's module and the model stay pending until released: the loading state
    // lasts as long as the test looks at it.
    let proxy = GatedProxy::start(&server.url(""), &["lenscast_model", "/static/models/"]).await?;
    let browser = Browser::launch(&BrowserOptions::default().with_fake_video(&video)).await?;

    // No segmentation stage: neither the engine nor the model is fetched.
    browser
        .goto(&proxy.url("/?source=camera&pipeline=grayscale&start=1"))
        .await?;
    browser.wait_for_frames(30, WAIT).await?;
    let requests = proxy.requests();
    ensure!(
        requests
            .iter()
            .any(|p| p.contains("lenscast_worker_bg.wasm")),
        "the frame workers' wasm did not come through the proxy: {requests:?}"
    );
    ensure!(
        !requests.iter().any(|p| is_engine(p)),
        "a pipeline without segmentation fetched the engine: {requests:?}"
    );
    let resources = browser
        .eval(
            "return performance.getEntriesByType('resource').map(e => e.name);",
            vec![],
        )
        .await?;
    ensure!(
        !resources.to_string().contains("lenscast_model"),
        "the page's resource timing lists the engine: {resources}"
    );

    // A segmentation stage: the engine is asked for; while it is held the card says the
    // model is loading and frames keep passing unchanged.
    browser
        .goto(&proxy.url("/?source=camera&pipeline=segment-replace:color=00ff00&start=1"))
        .await?;
    let card = browser
        .wait_for(
            "the card to say the model is loading",
            "const e = document.querySelector('.filter-status'); return e && e.textContent.includes('loading model') ? e.textContent : null;",
            WAIT,
        )
        .await?;
    println!("card while the engine is held: {card}");
    let held = browser.stats().await?;
    browser
        .wait_for_frames(held["frames"].as_u64().unwrap_or_default() + 15, WAIT)
        .await?;
    let stats = browser.stats().await?;
    println!(
        "while the engine is held: {} frames passed",
        stats["frames"]
    );
    ensure!(stats["segment"] == "loading", "not loading: {stats}");
    ensure!(
        stats["inferences"] == 0 && stats["modelMs"] == 0,
        "inferences before the model: {stats}"
    );
    let preview = browser.preview_image().await?;
    let corner = preview.mean_rgb(0.02, 0.12, 0.03, 0.15);
    ensure!(
        !is_green(corner),
        "the background turned green before the model loaded: {corner:.0?}"
    );
    browser.screenshot("segment-loading").await?;
    ensure!(
        proxy.requests().iter().any(|p| is_engine(p)),
        "the engine was never asked for: {:?}",
        proxy.requests()
    );

    proxy.release();
    let ready = wait_failed(&browser).await?;
    ensure!(
        ready["segment"] == "ready",
        "the model failed: {}",
        ready["segmentError"]
    );
    let frames = ready["frames"].as_u64().unwrap_or_default();
    browser.wait_for_frames(frames + 15, WAIT).await?;
    // Stats come twice a second; the model's line needs one period with masks in it.
    let stats = browser
        .wait_for(
            "the model's stats",
            "const s = window.__lenscast_stats; return s && s.maskEvery > 0 ? s : null;",
            WAIT,
        )
        .await?;
    let (model_ms, every) = (&stats["modelMs"], &stats["maskEvery"]);
    println!("model: {model_ms} ms per inference, a mask per {every} frames");
    ensure!(
        stats["inferences"].as_u64().unwrap_or_default() > 0
            && stats["modelMs"].as_f64().unwrap_or_default() > 0.0,
        "no inference counted: {stats}"
    );
    let overlay = browser.text_of("#stats").await?.unwrap_or_default();
    ensure!(
        overlay.contains("model inference"),
        "the overlay has no model line: {overlay}"
    );
    check("preview", &browser.preview_image().await?)?;
    let requests = proxy.requests();
    for file in [
        "lenscast_model_bg.wasm",
        "selfie_segmentation_landscape.onnx",
    ] {
        let count = requests.iter().filter(|p| p.contains(file)).count();
        ensure!(count == 1, "{file} fetched {count} times: {requests:?}");
    }
    browser.close().await?;
    Ok(())
}

/// Picks `path` in the `segment-replace` card's picture input, as a user would.
async fn pick_picture(browser: &Browser, path: &std::path::Path) -> Result<()> {
    let input = browser
        .client()
        .find(fantoccini::Locator::Css("#filters input.backdrop-file"))
        .await
        .context("the segment-replace card has no picture input")?;
    input
        .send_keys(&path.canonicalize()?.display().to_string())
        .await
        .context("cannot pick the picture")
}

#[tokio::test]
#[ignore = "needs Chromium: run cargo xtask test"]
async fn a_picked_picture_goes_behind_the_person_and_a_bad_file_is_named() -> Result<()> {
    let dir = artifacts_dir()?;
    let video = dir.join("segment-person-picture.y4m");
    y4m::write_image(&video, &y4m::person_frame(WIDTH, HEIGHT)?, 30)?;
    let server = Server::start().await?;
    let browser = Browser::launch(&BrowserOptions::default().with_fake_video(&video)).await?;
    browser
        .goto(&server.url("/?source=camera&pipeline=segment-replace:color=00ff00&start=1"))
        .await?;
    let ready = wait_failed(&browser).await?;
    ensure!(ready["segment"] == "ready", "the model failed: {ready}");

    // A file that is not a picture: the card says so and the colour stays.
    let bad = dir.join("not-a-picture.png");
    std::fs::write(&bad, b"this is text, not a PNG")?;
    pick_picture(&browser, &bad).await?;
    let said = browser
        .wait_for(
            "the card to name the bad file",
            "const e = document.querySelector('.backdrop-pick .filter-status.failed'); return e ? e.textContent : null;",
            WAIT,
        )
        .await?;
    let said = said.as_str().unwrap_or_default();
    ensure!(
        said.contains("not-a-picture.png") && said.contains("not a picture"),
        "{said}"
    );

    // A blue picture of another shape than the frame: blue behind the person.
    let blue = dir.join("backdrop-blue.png");
    image::RgbImage::from_pixel(400, 400, image::Rgb([20, 40, 230])).save(&blue)?;
    pick_picture(&browser, &blue).await?;
    browser
        .wait_for(
            "the card to name the picture",
            "const e = document.querySelector('.backdrop-name'); return e ? e.textContent : null;",
            WAIT,
        )
        .await?;
    let frames = browser.stats().await?["frames"]
        .as_u64()
        .unwrap_or_default();
    browser.wait_for_frames(frames + 10, WAIT).await?;
    check_background(
        "with the picture",
        &browser.preview_image().await?,
        "blue",
        is_blue,
    )?;
    browser
        .eval(
            "document.querySelector('.backdrop-pick').scrollIntoView(); return true;",
            vec![],
        )
        .await?;
    browser.screenshot("segment-replace-picture-card").await?;

    // Back to the colour.
    browser
        .eval(
            "document.querySelector('.backdrop-clear').click(); return true;",
            vec![],
        )
        .await?;
    let frames = browser.stats().await?["frames"]
        .as_u64()
        .unwrap_or_default();
    browser.wait_for_frames(frames + 10, WAIT).await?;
    check("the colour again", &browser.preview_image().await?)?;
    browser.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium: run cargo xtask test"]
async fn a_phone_sized_480p_camera_gets_its_background_replaced_too() -> Result<()> {
    // 640×480, what a phone's front camera gives at 480p: the 144×256 model runs on it
    // (the frame squeezed to the model's shape, the mask stretched back).
    let video = artifacts_dir()?.join("segment-person-480p.y4m");
    y4m::write_image(&video, &y4m::person_frame(640, 480)?, 30)?;
    let server = Server::start().await?;
    let browser = Browser::launch(&BrowserOptions::default().with_fake_video(&video)).await?;
    browser
        .goto(&server.url("/?source=camera&res=480&pipeline=segment-replace:color=00ff00&start=1"))
        .await?;
    let ready = wait_failed(&browser).await?;
    ensure!(ready["segment"] == "ready", "the model failed: {ready}");
    let frames = ready["frames"].as_u64().unwrap_or_default();
    browser.wait_for_frames(frames + 10, WAIT).await?;
    let preview = browser.preview_image().await?;
    ensure!(
        (preview.width, preview.height) == (640, 480),
        "preview is {}x{}",
        preview.width,
        preview.height
    );
    check("480p preview", &preview)?;
    browser.screenshot("segment-replace-480p").await?;
    browser.close().await?;
    Ok(())
}
