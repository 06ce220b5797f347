//! The `lenscast-server` binary itself, as an operator runs it: flags from `LENSCAST_*`
//! variables, the address announced on stdout, no token in its logs, and on SIGTERM a
//! graceful stop (viewers' streams end cleanly, the process exits 0).
#![cfg(unix)]

mod support;

use std::{net::SocketAddr, process::Stdio};

use support::{Client, Said, jpeg, within};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader},
    process::Command,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reads_its_environment_keeps_tokens_out_of_logs_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("index.html"), "<title>app</title>").expect("index");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lenscast-server"))
        .env("LENSCAST_ADDR", "127.0.0.1:0")
        .env("LENSCAST_DIST", dir.path())
        .env("LENSCAST_SECRET_FILE", dir.path().join("secret"))
        .env("LENSCAST_MAX_FRAME_BYTES", "20000")
        .env_remove("LENSCAST_SECRET")
        // Everything the server logs, request spans included.
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start lenscast-server");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut stderr = child.stderr.take().expect("stderr");
    let logs = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let line = within("the listening line", stdout.next_line())
        .await
        .expect("stdout")
        .expect("a line on stdout");
    let addr: SocketAddr = line
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected announcement {line:?}"))
        .parse()
        .expect("an address");
    assert_ne!(addr.port(), 0, "the real port is announced");

    let client = Client::new(addr);
    let app = client.get("/").await;
    assert!(
        app.text().await.expect("html").contains("app"),
        "LENSCAST_DIST"
    );

    let room = client.create_room().await;
    let mut publisher = client.publisher(&room).await;
    publisher.wait_viewers(0).await;
    let mut viewer = client.viewer(&room.room, "").await;
    publisher.wait_viewers(1).await;
    let frame = jpeg(64, 64, 1, false);
    assert!(frame.len() < 20_000);
    publisher.send_jpeg(&frame).await;
    assert_eq!(viewer.frame().await, frame);

    // LENSCAST_MAX_FRAME_BYTES holds: a frame over it closes its publisher with 1009.
    let big = jpeg(400, 400, 2, true);
    assert!(big.len() > 20_000, "{} bytes", big.len());
    publisher.send_jpeg(&big).await;
    loop {
        match publisher.next().await {
            Said::Json(_) => {}
            Said::Closed(code, reason) => {
                assert_eq!(code, 1009, "{reason}");
                break;
            }
            Said::Ended => panic!("closed without a close frame"),
        }
    }

    let pid = child.id().expect("running").to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("run kill");
    assert!(killed.success());
    assert_eq!(within("end of stream", viewer.next_frame()).await, None);
    assert_eq!(viewer.broken, None, "the body ended cleanly");
    let status = within("exit", child.wait()).await.expect("wait");
    assert!(status.success(), "{status}");

    let logs = within("logs", logs).await.expect("log reader");
    assert!(logs.contains("viewer connected"), "{logs}");
    assert!(logs.contains("publisher connected"), "{logs}");
    assert!(
        !logs.contains(&room.publish_token),
        "the publish token is in the logs:\n{logs}"
    );
}
