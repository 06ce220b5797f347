//! Checks the harness itself: the generated Y4M reaches a page through Chromium's fake
//! camera with the colours the preview tests rely on.

use std::time::Duration;

use e2e::{Browser, BrowserOptions, artifacts_dir, y4m};
use tokio::{io::AsyncWriteExt, net::TcpListener};

/// Answers every connection with an empty HTML page; returns its URL.
async fn serve_blank_page() -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = "<!DOCTYPE html><title>harness</title>";
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    Ok(url)
}

#[tokio::test]
#[ignore = "needs Chromium: run cargo xtask test"]
async fn fake_camera_shows_the_y4m_bars() -> anyhow::Result<()> {
    let video = artifacts_dir()?.join("harness-bars.y4m");
    y4m::write_bars(&video, 640, 360, 10)?;
    let browser = Browser::launch(&BrowserOptions::default().with_fake_video(&video)).await?;
    // getUserMedia needs a secure context: http://127.0.0.1 is one, about:blank is not.
    let page = serve_blank_page().await?;
    browser.goto(&page).await?;
    browser
        .eval(
            r"
            const done = arguments[arguments.length - 1];
            document.body.innerHTML = '<canvas id=preview></canvas>';
            navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 } }).then(async (stream) => {
                const v = document.createElement('video');
                v.muted = true; v.srcObject = stream; await v.play();
                const c = document.getElementById('preview');
                c.width = v.videoWidth; c.height = v.videoHeight;
                c.getContext('2d').drawImage(v, 0, 0);
                c.dataset.drawn = '1';
            });
            return true;",
            vec![],
        )
        .await?;
    browser
        .wait_for(
            "a frame on the canvas",
            "return document.getElementById('preview').dataset.drawn === '1';",
            Duration::from_secs(10),
        )
        .await?;
    let image = browser.preview_image().await?;
    assert_eq!((image.width, image.height), (640, 360));
    for (i, want) in y4m::BARS.iter().enumerate() {
        let x0 = (i as f64 + 0.3) / 4.0;
        let got = image.mean_rgb(x0, x0 + 0.1, 0.3, 0.7);
        for c in 0..3 {
            assert!(
                (got[c] - f64::from(want[c])).abs() < 12.0,
                "bar {i}: got {got:?}, want {want:?}"
            );
        }
    }
    browser.close().await?;
    Ok(())
}
