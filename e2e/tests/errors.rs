//! Errors as a person meets them: each shows a clear message, and its way forward works.

use std::time::Duration;

use anyhow::{Result, ensure};
use e2e::{Browser, BrowserOptions, Server};

const TIMEOUT: Duration = Duration::from_secs(20);

/// Waits for the error banner and returns its text.
async fn error_text(browser: &Browser) -> Result<String> {
    let text = browser
        .wait_for(
            "the error banner",
            "const e = document.querySelector('#error'); return e ? e.textContent : null;",
            TIMEOUT,
        )
        .await?;
    Ok(text.as_str().unwrap_or_default().to_owned())
}

/// Clicks the banner button labelled `label`.
async fn click_action(browser: &Browser, label: &str) -> Result<()> {
    let clicked = browser
        .eval(
            "const b = [...document.querySelectorAll('#error button')]
                 .find(b => b.textContent.trim() === arguments[0]);
             if (!b) return false; b.click(); return true;",
            vec![label.into()],
        )
        .await?;
    ensure!(clicked == true, "no `{label}` button in the error banner");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn denied_camera_offers_the_test_pattern() -> Result<()> {
    let server = Server::start().await?;
    // A fake camera but no auto-accepted permission prompt: headless Chromium denies it.
    let options = BrowserOptions {
        fake_camera: false,
        ..BrowserOptions::default()
    }
    .with_arg("--use-fake-device-for-media-stream")
    .with_arg("--deny-permission-prompts");
    let browser = Browser::launch(&options).await?;
    browser.goto(&server.url("/?source=camera&start=1")).await?;
    let text = error_text(&browser).await?;
    ensure!(text.contains("blocked"), "unexpected error: {text}");
    browser.screenshot("error-permission").await?;
    click_action(&browser, "Use the test pattern").await?;
    browser.wait_for_frames(5, TIMEOUT).await?;
    ensure!(
        browser
            .eval("return location.search.includes('source=test');", vec![])
            .await?
            == true,
        "the URL follows the switch"
    );
    browser.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn insecure_origin_explains_https() -> Result<()> {
    let server = Server::start().await?;
    // A non-loopback host name is not a secure context: no camera API at all.
    let options = BrowserOptions::default().with_arg(format!(
        "--host-resolver-rules=MAP lenscast.test {}",
        server.addr()
    ));
    let browser = Browser::launch(&options).await?;
    let url = format!(
        "http://lenscast.test:{}/?source=camera&start=1",
        server.addr().port()
    );
    browser.goto(&url).await?;
    let text = error_text(&browser).await?;
    ensure!(
        text.contains("secure connection"),
        "unexpected error: {text}"
    );
    ensure!(text.contains("--tls-self-signed"), "no way forward: {text}");
    browser.screenshot("error-insecure").await?;
    // The test pattern needs no camera, so it works even here.
    click_action(&browser, "Use the test pattern").await?;
    browser.wait_for_frames(5, TIMEOUT).await?;
    browser.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built frontend and Chromium: run cargo xtask test"]
async fn file_link_asks_for_a_file() -> Result<()> {
    let server = Server::start().await?;
    let browser = Browser::launch(&BrowserOptions::default()).await?;
    browser.goto(&server.url("/?source=file&start=1")).await?;
    let text = error_text(&browser).await?;
    ensure!(
        text.contains("Choose a video file"),
        "unexpected error: {text}"
    );
    ensure!(
        browser
            .eval("return !!document.querySelector('#file-input');", vec![])
            .await?
            == true,
        "the file picker is shown"
    );
    browser.close().await?;
    Ok(())
}
