//! The viewer page (`/watch/{room}`) by itself in headless Chromium, fed by a publisher
//! written in Rust: the text for a room that does not exist, waiting → live → paused → live
//! again as the publisher comes and goes, the viewer count, the picture on screen, and the
//! snapshot button saving the room's latest frame.

use std::time::Duration;

use anyhow::{Result, ensure};
use bytes::Bytes;
use e2e::{Browser, BrowserOptions, Server};
use futures_util::SinkExt;
use image::{Rgb, RgbImage};
use protocol::{RoomCreated, rooms};
use serde_json::json;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(20);

/// A 320×240 JPEG: a gradient with a bar that moves with the frame number.
fn frame(n: u8) -> Vec<u8> {
    let bar = u32::from(n) * 32;
    let img = RgbImage::from_fn(320, 240, |x, y| {
        if (bar..bar + 24).contains(&x) {
            Rgb([250, 250, 250])
        } else {
            Rgb([(x * 255 / 320) as u8, (y * 255 / 240) as u8, 160])
        }
    });
    // Quality 75: what `image` picks for a plain `write_to`.
    testkit::jpeg::encode_rgb(img.as_raw(), 320, 240, 75)
}

/// Publishes a frame every 100 ms until aborted.
async fn publish(server: &Server, room: &RoomCreated) -> Result<JoinHandle<()>> {
    let url = server.ws_url(&rooms::publish_path(&room.room, &room.publish_token));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    let frames = (0..10).map(frame).collect::<Vec<_>>();
    Ok(tokio::spawn(async move {
        for jpeg in frames.iter().cycle() {
            if ws
                .send(Message::Binary(Bytes::copy_from_slice(jpeg)))
                .await
                .is_err()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }))
}

async fn wait_page(browser: &Browser, state: &str, title: &str) -> Result<()> {
    let script = format!(
        "return document.querySelector('#stage').dataset.state === '{state}'
            && document.querySelector('#message-title').textContent.startsWith('{title}');"
    );
    browser
        .wait_for(&format!("state {state} ({title})"), &script, WAIT)
        .await
        .map(drop)
}

#[tokio::test]
#[ignore = "needs Chromium and the built frontend: run cargo xtask test"]
async fn viewer_page_follows_the_room_and_saves_snapshots() -> Result<()> {
    let server = Server::start().await?;
    let browser = Browser::launch(&BrowserOptions::default().with_window(960, 600)).await?;

    browser
        .goto(&server.url(&format!("/watch/{}", "A".repeat(32))))
        .await?;
    wait_page(&browser, "gone", "This room does not exist").await?;

    let room: RoomCreated = reqwest::Client::new()
        .post(server.url("/api/rooms"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    browser.goto(&server.url(&room.watch_url)).await?;
    wait_page(&browser, "offline", "Waiting for the broadcast").await?;
    // The page's own stream is the one viewer; nothing to save yet.
    browser
        .wait_for(
            "viewer count 1",
            "return document.querySelector('#viewer-count').textContent === '1';",
            WAIT,
        )
        .await?;
    let disabled = browser
        .eval(
            "return document.querySelector('#snapshot').disabled;",
            vec![],
        )
        .await?;
    ensure!(disabled == json!(true), "snapshot enabled before any frame");

    let publisher = publish(&server, &room).await?;
    browser
        .wait_for(
            "the picture",
            "const i = document.querySelector('#stream');
             return document.querySelector('#stage').dataset.state === 'live'
                 && i.naturalWidth === 320 && i.naturalHeight === 240;",
            WAIT,
        )
        .await?;
    browser
        .wait_for(
            "size and rate in the info chip",
            "return document.querySelector('#info').textContent.startsWith('320×240 · ');",
            WAIT,
        )
        .await?;
    // Once live, the message over the picture fades away.
    browser
        .wait_for(
            "the message to fade out",
            "return getComputedStyle(document.querySelector('#message')).opacity === '0';",
            WAIT,
        )
        .await?;
    // The bar and buttons hide while nobody touches the page, and come back on a touch.
    browser
        .wait_for(
            "the controls to hide",
            "return document.querySelector('#stage').classList.contains('idle');",
            WAIT,
        )
        .await?;
    browser
        .eval(
            "window.dispatchEvent(new PointerEvent('pointermove'));
             return true;",
            vec![],
        )
        .await?;
    browser
        .wait_for(
            "the controls to show",
            "return getComputedStyle(document.querySelector('.bar')).opacity === '1';",
            WAIT,
        )
        .await?;
    browser.screenshot("viewer-page-live").await?;
    // The whole picture is in the window, letterboxed, whatever the window's shape.
    let fits = browser
        .eval(
            "const r = document.querySelector('#stream').getBoundingClientRect();
             return r.top >= 0 && r.left >= 0
                 && r.bottom <= innerHeight && r.right <= innerWidth
                 && getComputedStyle(document.querySelector('#stream')).objectFit === 'contain';",
            vec![],
        )
        .await?;
    ensure!(fits == json!(true), "the picture is cut off by the window");

    // The snapshot is saved as a download: catch the link the page clicks.
    browser
        .eval(
            "HTMLAnchorElement.prototype.click = function () {
                 const name = this.download;
                 fetch(this.href).then(r => r.blob()).then(b => {
                     window.__saved = { name, size: b.size, type: b.type };
                 });
             };",
            vec![],
        )
        .await?;
    browser.click("#snapshot").await?;
    let saved = browser
        .wait_for("the snapshot download", "return window.__saved;", WAIT)
        .await?;
    let name = saved["name"].as_str().unwrap_or_default();
    ensure!(
        name.starts_with("lenscast-")
            && std::path::Path::new(name).extension() == Some("jpg".as_ref()),
        "snapshot saved as {name:?}"
    );
    ensure!(saved["type"] == "image/jpeg", "snapshot type {saved}");
    ensure!(saved["size"].as_u64() > Some(500), "snapshot size {saved}");

    // The publisher goes: paused, with the last picture kept. It comes back: live again.
    publisher.abort();
    let _ = publisher.await;
    wait_page(&browser, "offline", "The broadcast is paused").await?;
    browser.screenshot("viewer-page-paused").await?;
    let publisher = publish(&server, &room).await?;
    wait_page(&browser, "live", "").await?;
    publisher.abort();

    browser.close().await
}
