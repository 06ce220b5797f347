//! A ping flood from a client that never reads, alone in its test binary: the bound it
//! asserts is this process's resident memory, which other tests would disturb.

mod support;

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use support::{TestServer, jpeg, tiny_window, within};
use tokio_tungstenite::{client_async, tungstenite::Message};

/// This process's resident memory in KiB (Linux), or `None` elsewhere.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[tokio::test]
async fn a_ping_flood_from_a_client_that_never_reads_keeps_memory_bounded() {
    let server = TestServer::start().await;
    let (canary, mut canary_publisher) = server.live_room().await;
    let mut canary_viewer = server.viewer(&canary.room, "").await;

    let room = server.create_room().await;
    let (mut flood, _) = client_async(
        format!(
            "ws://{}{}",
            server.addr,
            protocol::rooms::publish_path(&room.room, &room.publish_token)
        ),
        tiny_window(server.addr).await,
    )
    .await
    .expect("publisher");
    let before = rss_kib();
    // 64 MiB of ping payload; without a bound, every pong would wait in the server's buffer.
    let payload = vec![0x55_u8; 125];
    let started = Instant::now();
    for i in 0..(64 * 1024 * 1024 / 125) {
        if flood
            .feed(Message::Ping(payload.clone().into()))
            .await
            .is_err()
        {
            break;
        }
        if i % 4096 == 0 {
            if flood.flush().await.is_err() {
                break;
            }
            if started.elapsed() > Duration::from_secs(20) {
                break;
            }
        }
    }
    let _ = flood.flush().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    if let (Some(before), Some(after)) = (before, rss_kib()) {
        let grown_mib = after.saturating_sub(before) / 1024;
        assert!(
            grown_mib < 32,
            "RSS grew by {grown_mib} MiB under a ping flood"
        );
    }

    // The canary room never noticed.
    let frame = jpeg(64, 48, 7, false);
    canary_publisher.send_jpeg(&frame).await;
    assert_eq!(within("canary frame", canary_viewer.frame()).await, frame);
    server.shutdown().await;
}
