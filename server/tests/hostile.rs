//! Hostile clients against a real server on 127.0.0.1:0: each test reproduces one attack and
//! asserts the bound that holds it (memory, slots, time), and that a canary room next to it
//! keeps getting its frames.

mod support;

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use server::Config;
use support::{TestServer, jpeg, metric, within};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};
use tokio_tungstenite::{client_async, tungstenite::Message};

/// A loopback TCP connection whose receive buffer is as small as the kernel allows, so a
/// client that does not read fills the server's side quickly.
async fn tiny_window(addr: std::net::SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket.connect(addr).await.expect("connect")
}

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

/// A WebSocket upgrade done by hand, so the test can then write raw frames.
async fn raw_publish_socket(addr: std::net::SocketAddr, room: &str, token: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        protocol::rooms::publish_path(room, token)
    );
    tcp.write_all(request.as_bytes()).await.expect("upgrade");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0_u8; 1];
        within("upgrade answer", tcp.read_exact(&mut byte))
            .await
            .expect("upgrade answer");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

/// Reads server frames until a close frame; returns its code.
async fn close_code(tcp: &mut TcpStream) -> u16 {
    loop {
        let mut head = [0_u8; 2];
        within("a server frame", tcp.read_exact(&mut head))
            .await
            .expect("server frame");
        let len = usize::from(head[1] & 0x7F);
        assert!(len < 126, "short frames only from the server here");
        let mut payload = vec![0_u8; len];
        tcp.read_exact(&mut payload).await.expect("payload");
        if head[0] & 0x0F == 0x8 {
            return u16::from_be_bytes([payload[0], payload[1]]);
        }
    }
}

#[tokio::test]
async fn a_frame_that_breaks_the_websocket_protocol_closes_with_1002() {
    let server = TestServer::start().await;
    let room = server.create_room().await;
    let mut tcp = raw_publish_socket(server.addr, &room.room, &room.publish_token).await;
    // A client frame without a mask is a protocol error (RFC 6455 5.1).
    tcp.write_all(&[0x82, 0x02, 0xFF, 0xD8])
        .await
        .expect("write");
    assert_eq!(close_code(&mut tcp).await, protocol::close::PROTOCOL_ERROR);
    let metrics = server.metrics().await;
    assert_eq!(
        metric(&metrics, r#"lenscast_rejected_total{kind="BadProtocol"}"#),
        1
    );
    server.shutdown().await;
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

#[tokio::test]
async fn a_publisher_that_never_reads_keeps_publishing_and_can_be_replaced() {
    let server = TestServer::start().await;
    let room = server.create_room().await;
    let url = format!(
        "ws://{}{}",
        server.addr,
        protocol::rooms::publish_path(&room.room, &room.publish_token)
    );
    let (mut deaf, _) = client_async(url.as_str(), tiny_window(server.addr).await)
        .await
        .expect("publisher");
    let mut viewer = server.viewer(&room.room, "").await;
    // Each hello earns a reply the client never reads: far more than any socket buffer.
    let hello = r#"{"type":"hello","padding":"................................................................"}"#;
    for _ in 0..20_000 {
        deaf.feed(Message::Text(hello.into())).await.expect("hello");
    }
    deaf.flush().await.expect("flush");
    // Frames still go through: reading never waits for those replies.
    for seed in 0..3 {
        let frame = jpeg(64, 48, seed, false);
        deaf.send(Message::Binary(frame.clone().into()))
            .await
            .expect("frame");
        assert_eq!(
            within("a frame past the unread replies", viewer.frame()).await,
            frame
        );
    }
    // A new publisher with the token takes over; the deaf one is let go at once.
    let mut replacement = server.publisher(&room).await;
    let frame = jpeg(64, 48, 99, false);
    replacement.send_jpeg(&frame).await;
    assert_eq!(
        within("the replacement's frame", viewer.frame()).await,
        frame
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let publishers = metric(&server.metrics().await, "lenscast_publishers");
        if publishers == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{publishers} publishers 5 s after the replacement"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_viewer_that_stops_reading_is_dropped_and_frees_its_frame() {
    let config = Config {
        viewer_write_timeout: Duration::from_secs(1),
        ..Config::default()
    };
    let server = TestServer::with(config).await;
    let (room, mut publisher) = server.live_room().await;
    let mut canary = server.viewer(&room.room, "").await;

    // Asks for the stream and never reads a byte of it.
    let mut stalled = tiny_window(server.addr).await;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: lenscast.test\r\n\r\n",
        protocol::rooms::stream_path(&room.room)
    );
    stalled
        .write_all(request.as_bytes())
        .await
        .expect("request");
    // Big, incompressible frames fill the stalled socket in one or two.
    let big = jpeg(1280, 720, 3, true);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        publisher.send_jpeg(&big).await;
        assert_eq!(within("canary frame", canary.frame()).await, big);
        let viewers = server.room_state(&room.room).await.viewers;
        if viewers == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stalled viewer is still counted ({viewers} viewers) after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(stalled);
    server.shutdown().await;
}
