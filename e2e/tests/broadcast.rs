//! Broadcast end to end: the app in headless Chromium films a Y4M of known colour bars
//! through the fake camera, filters it to gray, and publishes it to the real server; an
//! independent HTTP client and the server's viewer page watch it. Checks the frames'
//! content, the viewer count reaching the publisher, that nothing is sent without viewers,
//! and that the broadcast survives a server restart on its own.

use e2e::share::{share_link, stream_url};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use e2e::{Browser, BrowserOptions, Server, artifacts_dir, mjpeg::MjpegReader, y4m};
use fantoccini::{Locator, wd::WindowHandle};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

async fn start(name: &str) -> Result<(Server, Browser)> {
    let video = artifacts_dir()?.join(format!("{name}.y4m"));
    y4m::write_bars(&video, 640, 360, 30)?;
    let server = Server::start().await?;
    let browser = Browser::launch(&BrowserOptions::default().with_fake_video(&video)).await?;
    Ok((server, browser))
}

async fn attr(browser: &Browser, selector: &str, name: &str) -> Result<Option<String>> {
    let value = browser
        .eval(
            "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;",
            vec![json!(selector), json!(name)],
        )
        .await?;
    Ok(value.as_str().map(ToOwned::to_owned))
}

async fn frames_sent(browser: &Browser) -> Result<u64> {
    let count = attr(browser, "#frames-sent", "data-count").await?;
    count
        .context("no #frames-sent")?
        .parse()
        .context("#frames-sent data-count is not a number")
}

async fn wait_viewers(browser: &Browser, count: u32) -> Result<()> {
    let script = format!(
        "const e = document.querySelector('#viewer-count'); return !!e && e.textContent.trim() === '{count}';"
    );
    browser
        .wait_for(&format!("#viewer-count = {count}"), &script, WAIT)
        .await
        .map(drop)
}

async fn wait_state(browser: &Browser, text: &str) -> Result<()> {
    let script = format!(
        "const e = document.querySelector('#broadcast-state'); return !!e && e.textContent.startsWith('{text}');"
    );
    browser
        .wait_for(&format!("state {text}"), &script, WAIT)
        .await
        .map(drop)
}

/// Decodes `jpeg` and checks it shows the Y4M bars in gray: every bar's centre is gray
/// and has the bar's expected luma (the camera's YCbCr round trip, the filter and JPEG
/// each cost a little, hence the tolerance).
fn assert_gray_bars(jpeg: &[u8]) -> Result<()> {
    let image = image::load_from_memory(jpeg)
        .context("the stream sent something that is not a JPEG")?
        .to_rgb8();
    let (w, h) = image.dimensions();
    ensure!(w >= 320 && h >= 180, "frame is only {w}x{h}");
    for (i, bar) in y4m::BARS.iter().enumerate() {
        let (x0, x1) = (
            (2 * i as u32 + 1) * w / 8 - w / 32,
            (2 * i as u32 + 1) * w / 8 + w / 32,
        );
        let (y0, y1) = (h * 3 / 10, h * 7 / 10);
        let mut sum = [0f64; 3];
        let mut n = 0f64;
        for y in y0..y1 {
            for x in x0..x1 {
                let p = image.get_pixel(x, y).0;
                for c in 0..3 {
                    sum[c] += f64::from(p[c]);
                }
                n += 1.0;
            }
        }
        let [r, g, b] = sum.map(|s| s / n);
        let spread = (r - g).abs().max((g - b).abs()).max((r - b).abs());
        ensure!(spread <= 8.0, "bar {i} is not gray: {r:.0},{g:.0},{b:.0}");
        let want = y4m::luma(*bar);
        ensure!(
            (g - want).abs() <= 16.0,
            "bar {i}: luma {g:.0}, expected {want:.0}"
        );
    }
    Ok(())
}

/// Reads `count` parts from a fresh viewer of `url` and checks each.
async fn watch(url: &str, count: usize) -> Result<MjpegReader> {
    let mut reader = MjpegReader::open(url).await?;
    for i in 0..count {
        let part = reader
            .next_part(WAIT)
            .await
            .with_context(|| format!("frame {i}"))?;
        assert_gray_bars(&part.jpeg).with_context(|| format!("frame {i}"))?;
    }
    Ok(reader)
}

/// Saves a PNG of the broadcast panel alone to `target/e2e/<name>.png` (to look at).
async fn panel_screenshot(browser: &Browser, name: &str) -> Result<()> {
    let panel = browser
        .client()
        .find(Locator::Css("section.broadcast"))
        .await?;
    browser
        .eval(
            "document.querySelector('section.broadcast').scrollIntoView({block: 'center'});",
            vec![],
        )
        .await?;
    let png = panel.screenshot().await?;
    std::fs::write(artifacts_dir()?.join(format!("{name}.png")), png)?;
    browser.screenshot(&format!("{name}-page")).await?;
    Ok(())
}

async fn open_window(browser: &Browser, url: &str) -> Result<WindowHandle> {
    let client = browser.client();
    let main = client.window().await?;
    let new = client.new_window(false).await?.handle;
    client.switch_to_window(new.clone()).await?;
    client.goto(url).await?;
    client.switch_to_window(main).await?;
    Ok(new)
}

/// Closes the current window and goes back to the first one left (the app's).
async fn close_window(browser: &Browser) -> Result<()> {
    browser.client().close_window().await?;
    let main = browser
        .client()
        .windows()
        .await?
        .into_iter()
        .next()
        .context("no window left")?;
    browser.client().switch_to_window(main).await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium and the built frontend: run cargo xtask test"]
async fn broadcast_reaches_viewers_pauses_and_survives_a_restart() -> Result<()> {
    let (mut server, browser) = start("broadcast").await?;
    browser
        .goto(&server.url("/?source=camera&pipeline=grayscale&start=1&broadcast=1"))
        .await?;

    let link = share_link(&browser, WAIT).await?;
    ensure!(
        link.starts_with(&server.url("/watch/")),
        "share link {link} is not an absolute viewer link on {}",
        server.url("/")
    );
    let qr = browser
        .eval("return !!document.querySelector('.bc-qr svg');", vec![])
        .await?;
    ensure!(qr == json!(true), "no QR code next to the share link");

    // Nobody watches yet: the publisher is connected but sends nothing.
    wait_state(&browser, "Paused").await?;
    browser.wait_for_frames(20, WAIT).await?;
    ensure!(
        frames_sent(&browser).await? == 0,
        "frames sent without viewers"
    );

    // Viewer 1: an independent HTTP client.
    let url = stream_url(&server, &link)?;
    let mut viewer = watch(&url, 10).await?;
    wait_viewers(&browser, 1).await?;
    wait_state(&browser, "Live").await?;
    let encoder = attr(&browser, "#broadcast-stats", "data-encoder").await?;
    ensure!(
        encoder.as_deref() == Some("wasm"),
        "default encoder {encoder:?}"
    );

    // Viewer 2: the server's viewer page in a second browser window.
    let page = open_window(&browser, &link).await?;
    wait_viewers(&browser, 2).await?;
    browser.client().switch_to_window(page.clone()).await?;
    let shown = browser
        .wait_for(
            "the viewer page's image to show frames",
            "const i = [...document.images].find(i => i.src.includes('stream.mjpg'));
             return !!i && i.naturalWidth > 0;",
            WAIT,
        )
        .await;
    browser.screenshot("broadcast-viewer-page").await?;
    shown?;
    close_window(&browser).await?;
    // Still flowing to viewer 1.
    let part = viewer.next_part(WAIT).await?;
    assert_gray_bars(&part.jpeg)?;
    wait_viewers(&browser, 1).await?;
    panel_screenshot(&browser, "broadcast-panel-live").await?;

    // Both viewers gone: the publisher pauses and the frame count stops growing.
    drop(viewer);
    wait_viewers(&browser, 0).await?;
    wait_state(&browser, "Paused").await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = frames_sent(&browser).await?;
    ensure!(before >= 11, "only {before} frames sent while watched");
    browser.wait_for_frames(30, WAIT).await?;
    let after = frames_sent(&browser).await?;
    ensure!(
        after == before,
        "{} frames sent without viewers",
        after - before
    );

    // A viewer arrives again: frames resume.
    let viewer = watch(&url, 3).await?;
    drop(viewer);

    // The server goes away and comes back. Room ids are MACs under the server's secret, so
    // the same room, the same link and the same token work again: the publisher reconnects
    // by itself, and a viewer page left open through the outage gets its stream back.
    let page = open_window(&browser, &link).await?;
    wait_viewers(&browser, 1).await?;
    server.kill().await?;
    wait_state(&browser, "Reconnecting").await?;
    panel_screenshot(&browser, "broadcast-panel-reconnecting").await?;
    server.restart().await?;
    wait_state(&browser, "Live").await?;
    let after = share_link(&browser, WAIT).await?;
    ensure!(
        after == link,
        "the restart changed the link: {link} -> {after}"
    );
    // The only viewer now is the page that was open before the restart.
    wait_viewers(&browser, 1).await?;
    browser.client().switch_to_window(page).await?;
    let live = browser
        .wait_for(
            "the viewer page to be live again",
            "const s = document.querySelector('#stage'); return !!s && s.dataset.state === 'live';",
            WAIT,
        )
        .await;
    browser
        .screenshot("broadcast-viewer-page-after-restart")
        .await?;
    live?;
    close_window(&browser).await?;
    // And the old link still streams the filtered video to a new viewer.
    let viewer = watch(&url, 5).await?;
    drop(viewer);

    browser.close().await
}

#[tokio::test]
#[ignore = "needs Chromium and the built frontend: run cargo xtask test"]
async fn native_encoder_reload_keeps_the_link_and_new_link_replaces_it() -> Result<()> {
    let (server, browser) = start("broadcast-reload").await?;
    // The browser's own encoder here (the other test uses the default, wasm), so both
    // encoders are proven against the real server.
    let page = server.url("/?source=camera&pipeline=grayscale&start=1&broadcast=1&encoder=native");
    browser.goto(&page).await?;
    let first = share_link(&browser, WAIT).await?;
    wait_state(&browser, "Paused").await?;

    watch(&stream_url(&server, &first)?, 2).await?;
    let encoder = attr(&browser, "#broadcast-stats", "data-encoder").await?;
    ensure!(encoder.as_deref() == Some("native"), "encoder {encoder:?}");

    browser.client().refresh().await?;
    wait_state(&browser, "Paused").await?;
    let again = share_link(&browser, WAIT).await?;
    ensure!(
        again == first,
        "reload changed the link: {first} -> {again}"
    );
    // The resumed publisher is the room's publisher: a viewer gets frames.
    watch(&stream_url(&server, &again)?, 2).await?;
    // The settings survive the reload too (the app has rewritten the query by now).
    let encoder = attr(&browser, "#broadcast-stats", "data-encoder").await?;
    ensure!(
        encoder.as_deref() == Some("native"),
        "encoder after reload {encoder:?}"
    );

    browser.click("#new-link").await?;
    let script = format!(
        "const e = document.querySelector('#share-link'); return !!e && e.textContent.trim() !== '{first}';"
    );
    browser.wait_for("a new link", &script, WAIT).await?;
    let fresh = share_link(&browser, WAIT).await?;
    ensure!(
        fresh != first && fresh.starts_with(&server.url("/watch/")),
        "bad new link {fresh}"
    );
    wait_state(&browser, "Paused").await?;
    watch(&stream_url(&server, &fresh)?, 2).await?;

    browser.close().await
}

/// Sets a `<select>` in the broadcast settings as a user would (value + `change` event).
async fn choose(browser: &Browser, selector: &str, value: &str) -> Result<()> {
    let done = browser
        .eval(
            "const s = document.querySelector(arguments[0]); if (!s) return false;
             s.value = arguments[1]; s.dispatchEvent(new Event('change', { bubbles: true }));
             return s.value === arguments[1];",
            vec![json!(selector), json!(value)],
        )
        .await?;
    ensure!(done == json!(true), "cannot choose {value} in {selector}");
    Ok(())
}

/// Reads parts until one is `width` wide (settings apply from the next frame; a few
/// frames may already be in flight).
async fn wait_width(viewer: &mut MjpegReader, width: u32) -> Result<Vec<u8>> {
    for _ in 0..60 {
        let part = viewer.next_part(WAIT).await?;
        let got = image::load_from_memory(&part.jpeg)?.width();
        if got == width {
            return Ok(part.jpeg);
        }
    }
    bail!("no {width} px wide frame within 60 frames")
}

#[tokio::test]
#[ignore = "needs Chromium and the built frontend: run cargo xtask test"]
async fn settings_downscale_and_switch_encoder_live() -> Result<()> {
    let (server, browser) = start("broadcast-settings").await?;
    browser
        .goto(&server.url("/?source=camera&pipeline=grayscale&start=1&broadcast=1"))
        .await?;
    let link = share_link(&browser, WAIT).await?;
    let mut viewer = MjpegReader::open(&stream_url(&server, &link)?).await?;
    // The 640x360 camera is under the default max width: sent as it is.
    assert_gray_bars(&wait_width(&mut viewer, 640).await?)?;

    browser
        .eval(
            "document.querySelector('.bc-settings').open = true;",
            vec![],
        )
        .await?;
    choose(&browser, "#broadcast-width", "320").await?;
    let small = wait_width(&mut viewer, 320).await?;
    assert_gray_bars(&small)?;
    ensure!(
        image::load_from_memory(&small)?.color() == image::ColorType::L8,
        "the wasm encoder should send gray frames as one-channel JPEGs"
    );

    // The browser encoder scales on its own canvas: same size, same picture.
    choose(&browser, "#broadcast-encoder", "native").await?;
    browser
        .wait_for(
            "the native encoder",
            "return document.querySelector('#broadcast-stats').dataset.encoder === 'native';",
            WAIT,
        )
        .await?;
    // The wasm encoder sends gray frames as one-channel JPEGs, the browser's are YCbCr:
    // a three-channel frame proves the switch reached the wire.
    let mut switched = false;
    for _ in 0..30 {
        let jpeg = wait_width(&mut viewer, 320).await?;
        assert_gray_bars(&jpeg)?;
        if image::load_from_memory(&jpeg)?.color() == image::ColorType::Rgb8 {
            switched = true;
            break;
        }
    }
    ensure!(switched, "no frame from the browser encoder");
    panel_screenshot(&browser, "broadcast-panel-settings").await?;
    drop(viewer);
    browser.close().await
}
