//! How viewer connections are served, byte by byte on raw TCP: plain HTTP/1.1 streams are
//! taken over from hyper after the head (chunked, zero-copy), everything else stays with
//! hyper, and neither disturbs the connection's other requests.

mod support;

use std::time::Duration;

use server::Config;
use support::{RawConnection, TestServer, jpeg, metric};
use testkit::mjpeg::part_of;

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: lenscast.test\r\n\r\n")
}

#[tokio::test]
async fn a_keep_alive_connection_becomes_a_stream_and_ignores_what_follows() {
    let server = TestServer::start().await;
    let (room, mut publisher) = server.live_room().await;

    let mut conn = RawConnection::open(server.addr).await;
    // A first request on the connection, answered as usual...
    conn.send(&get("/healthz")).await;
    let (status, headers) = conn.head().await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let len: usize = header(&headers, "content-length")
        .expect("length")
        .parse()
        .expect("number");
    conn.exact(len).await;

    // ...then the stream on the same connection.
    conn.send(&get(&room.stream_url)).await;
    let (status, headers) = conn.head().await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(header(&headers, "transfer-encoding"), Some("chunked"));
    assert_eq!(
        header(&headers, "content-type"),
        Some("multipart/x-mixed-replace; boundary=lenscastframe")
    );
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    assert_eq!(header(&headers, "x-accel-buffering"), Some("no"));
    assert_eq!(
        conn.chunk().await.as_deref(),
        Some(&b"--lenscastframe\r\n"[..])
    );
    publisher.wait_viewers(1).await;

    let first = jpeg(160, 120, 1, true);
    publisher.send_jpeg(&first).await;
    assert_eq!(conn.chunk().await, Some(part_of(&first)));

    // A pipelined request gets no answer inside the stream, and the stream goes on.
    conn.send(&get("/healthz")).await;
    let second = jpeg(160, 120, 2, true);
    publisher.send_jpeg(&second).await;
    assert_eq!(conn.chunk().await, Some(part_of(&second)));

    // Shutdown ends the body with its last chunk, then closes.
    let stopping = tokio::spawn(server.shutdown());
    assert_eq!(conn.chunk().await, None);
    assert!(conn.closed().await);
    stopping.await.expect("shutdown");
}

#[tokio::test]
async fn http_1_0_viewers_get_a_close_delimited_stream_from_hyper() {
    let server = TestServer::start().await;
    let (room, mut publisher) = server.live_room().await;

    let mut conn = RawConnection::open(server.addr).await;
    conn.send(&format!("GET {} HTTP/1.0\r\n\r\n", room.stream_url))
        .await;
    let (status, headers) = conn.head().await;
    assert!(status.ends_with(" 200 OK"), "{status}");
    // HTTP/1.0 has no chunked encoding: the body runs until the connection closes.
    assert_eq!(header(&headers, "transfer-encoding"), None);
    assert_eq!(header(&headers, "content-length"), None);
    assert_eq!(conn.exact(17).await, b"--lenscastframe\r\n");
    publisher.wait_viewers(1).await;

    let frame = jpeg(160, 120, 3, true);
    publisher.send_jpeg(&frame).await;
    let part = part_of(&frame);
    assert_eq!(conn.exact(part.len()).await, part);
    let metrics = server.metrics().await;
    assert_eq!(metric(&metrics, "lenscast_bytes_zero_copy_total"), 0);
    assert_eq!(metric(&metrics, "lenscast_frames_out_total"), 1);

    drop(conn);
    publisher.wait_viewers(0).await;
    server.shutdown().await;
}

#[tokio::test]
async fn head_requests_get_the_headers_and_the_connection_stays_usable() {
    let server = TestServer::start().await;
    let room = server.create_room().await;

    let mut conn = RawConnection::open(server.addr).await;
    conn.send(&format!(
        "HEAD {} HTTP/1.1\r\nHost: lenscast.test\r\n\r\n",
        room.stream_url
    ))
    .await;
    let (status, headers) = conn.head().await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(
        header(&headers, "content-type"),
        Some("multipart/x-mixed-replace; boundary=lenscastframe")
    );
    // No body came after the head: the next response follows it directly.
    conn.send(&get("/healthz")).await;
    let (status, _) = conn.head().await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(server.room_state(&room.room).await.viewers, 0);
    server.shutdown().await;
}

#[tokio::test]
async fn a_viewer_that_leaves_while_no_frames_flow_leaves_the_count() {
    let server = TestServer::start().await;
    let (room, mut publisher) = server.live_room().await;
    let mut conn = RawConnection::open(server.addr).await;
    conn.send(&get(&room.stream_url)).await;
    conn.head().await;
    publisher.wait_viewers(1).await;
    drop(conn);
    publisher.wait_viewers(0).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_head_is_disconnected() {
    let server = TestServer::with(Config {
        request_head_timeout: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let mut conn = RawConnection::open(server.addr).await;
    // Half a request head, then nothing: the connection must not stay open.
    conn.send("GET /healthz HTTP/1.1\r\n").await;
    assert!(conn.closed_or_answered().await);
    // Nothing at all, or nothing after a first request: the same.
    let mut silent = RawConnection::open(server.addr).await;
    assert!(silent.closed_or_answered().await);
    let mut idle = RawConnection::open(server.addr).await;
    idle.send(&get("/healthz")).await;
    assert_eq!(idle.head().await.0, "HTTP/1.1 200 OK");
    assert!(idle.closed_or_answered().await);
    // Other clients are served meanwhile and afterwards.
    let mut other = RawConnection::open(server.addr).await;
    other.send(&get("/healthz")).await;
    assert_eq!(other.head().await.0, "HTTP/1.1 200 OK");
    server.shutdown().await;
}

#[tokio::test]
async fn a_room_whose_viewers_all_left_serves_the_next_ones() {
    let server = TestServer::start().await;
    let room = server.create_room().await;
    let mut publisher = server.publisher(&room).await;
    let first = jpeg(96, 64, 1, true);
    for round in 0..3_u32 {
        let mut viewer = server.viewer(&room.room, "").await;
        publisher.wait_viewers(1).await;
        // The room's latest frame at once, then every new one.
        if round > 0 {
            assert_eq!(viewer.frame().await, jpeg(96, 64, round * 10 + 2, true));
        }
        publisher.send_jpeg(&first).await;
        assert_eq!(viewer.frame().await, first);
        let second = jpeg(96, 64, (round + 1) * 10 + 2, true);
        publisher.send_jpeg(&second).await;
        assert_eq!(viewer.frame().await, second);
        drop(viewer);
        publisher.wait_viewers(0).await;
    }
    server.shutdown().await;
}
