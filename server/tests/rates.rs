//! Limits on rates a client controls: a publisher's frame rate and rooms created per client
//! address. Real server, real clients, real time (the limiters use their own monotonic
//! clock, not tokio's), with bounds that hold however slow the machine is.

mod support;

use std::{
    num::NonZeroU32,
    time::{Duration, Instant},
};

use protocol::{ClientMessage, ErrorBody, ServerMessage};
use server::Config;
use support::{Said, TestServer, jpeg};

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).expect("not zero")
}

/// A counter's value; a labelled counter that was never touched is absent, hence 0.
fn counter(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .map_or(0, |v| v.parse().expect("integer counter"))
}

const FRAME_RATE: &str = "lenscast_rejected_total{kind=\"FrameRate\"}";
const ROOM_RATE: &str = "lenscast_rejected_total{kind=\"RoomRate\"}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_over_the_frame_rate_gets_frames_dropped_and_stays_connected() {
    let fps = 20;
    let server = TestServer::with(Config {
        max_publish_fps: nz(fps),
        ..Config::default()
    })
    .await;
    let room = server.create_room().await;
    let mut publisher = server.publisher(&room).await;
    let mut viewer = server.viewer(&room.room, "").await;
    publisher.wait_viewers(1).await;
    let counting = tokio::spawn(async move {
        let mut n = 0u32;
        while tokio::time::timeout(Duration::from_millis(800), viewer.next_frame())
            .await
            .is_ok_and(|f| f.is_some())
        {
            n += 1;
        }
        n
    });

    // Tiny valid JPEGs as fast as the socket takes them, for about a second.
    let frames: Vec<Vec<u8>> = (0..4).map(|i| jpeg(16, 16, i, false)).collect();
    let begin = Instant::now();
    let mut sent = 0u32;
    while begin.elapsed() < Duration::from_secs(1) && sent < 5_000 {
        publisher.send_jpeg(&frames[sent as usize % 4]).await;
        sent += 1;
    }
    // The server handles a socket's messages in order: once the pong is back, every frame
    // above has been taken or dropped. On the way: one warning, in the usual error shape.
    publisher.send_message(&ClientMessage::Ping).await;
    let mut warnings = Vec::new();
    loop {
        match publisher.next().await {
            Said::Message(ServerMessage::Pong) => break,
            Said::Message(ServerMessage::Error { message }) => warnings.push(message),
            Said::Message(_) => {}
            other => panic!("publisher socket ended during the flood: {other:?}"),
        }
    }
    let elapsed = begin.elapsed().as_secs_f64();
    assert!(
        !warnings.is_empty(),
        "no warning for {sent} frames in {elapsed:.2} s"
    );
    assert_eq!(
        warnings[0],
        format!("frame rate above {fps} fps: frames dropped")
    );
    // At most one warning per second of flood (plus the first).
    assert!(
        warnings.len() as f64 <= elapsed + 1.0,
        "{} warnings in {elapsed:.2} s",
        warnings.len()
    );

    // What went through is the burst (two seconds' worth) plus the rate over the flood.
    let bound = f64::from(2 * fps) + f64::from(fps) * elapsed + 1.0;
    let metrics = server.metrics().await;
    let accepted = counter(&metrics, "lenscast_frames_in_total");
    let dropped = counter(&metrics, FRAME_RATE);
    assert!(
        accepted as f64 <= bound,
        "{accepted} of {sent} frames in {elapsed:.2} s went through, bound {bound:.1}"
    );
    assert!(
        accepted >= u64::from(2 * fps),
        "the burst goes through: {accepted}"
    );
    assert_eq!(
        accepted + dropped,
        u64::from(sent),
        "every frame is counted once"
    );
    let seen = counting.await.expect("viewer task");
    assert!(
        u64::from(seen) <= accepted && seen >= 1,
        "viewer saw {seen}, accepted {accepted}"
    );

    // Still connected, and publishing again once the rate allows.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let last = jpeg(32, 32, 99, true);
    publisher.send_jpeg(&last).await;
    publisher.send_message(&ClientMessage::Ping).await;
    loop {
        match publisher.next().await {
            Said::Message(ServerMessage::Pong) => break,
            Said::Message(_) => {}
            other => panic!("publisher socket ended after the flood: {other:?}"),
        }
    }
    let snapshot = server
        .http
        .get(server.url(&room.snapshot_url))
        .send()
        .await
        .expect("GET snapshot")
        .bytes()
        .await
        .expect("snapshot body");
    assert_eq!(
        &snapshot[..],
        &last[..],
        "the frame after the flood is live"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_within_the_frame_rate_loses_nothing() {
    let server = TestServer::with(Config {
        max_publish_fps: nz(20),
        ..Config::default()
    })
    .await;
    let room = server.create_room().await;
    let mut publisher = server.publisher(&room).await;
    let mut viewer = server.viewer(&room.room, "").await;
    publisher.wait_viewers(1).await;
    // 10 fps for a second against a cap of 20: every frame arrives, in order.
    let frames: Vec<Vec<u8>> = (0..10).map(|i| jpeg(64, 48, i, i % 2 == 0)).collect();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    for frame in &frames {
        tick.tick().await;
        publisher.send_jpeg(frame).await;
        assert_eq!(&viewer.frame().await, frame);
    }
    let metrics = server.metrics().await;
    assert_eq!(counter(&metrics, "lenscast_frames_in_total"), 10);
    assert_eq!(counter(&metrics, FRAME_RATE), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn room_creation_is_limited_per_client_and_other_routes_keep_working() {
    let server = TestServer::with(Config {
        max_rooms_per_minute: nz(3),
        ..Config::default()
    })
    .await;
    let mut rooms = Vec::new();
    for _ in 0..3 {
        rooms.push(server.create_room().await);
    }
    let res = server
        .http
        .post(server.url("/api/rooms"))
        .send()
        .await
        .expect("POST /api/rooms");
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("Retry-After in seconds");
    // Three a minute: the next one is at most 20 s away.
    assert!((1..=20).contains(&retry), "Retry-After {retry}");
    let ErrorBody { error: message } = res.json().await.expect("{\"error\": message}");
    assert!(message.contains("rooms a minute"), "{message}");

    // Everything else goes on: health, room state, publishing, viewing.
    let health = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("GET /healthz");
    assert_eq!(health.status(), 200);
    let room = &rooms[2];
    assert!(!server.room_state(&room.room).await.live);
    let mut publisher = server.publisher(room).await;
    let mut viewer = server.viewer(&room.room, "").await;
    publisher.wait_viewers(1).await;
    let frame = jpeg(64, 48, 7, false);
    publisher.send_jpeg(&frame).await;
    assert_eq!(viewer.frame().await, frame);

    let metrics = server.metrics().await;
    assert_eq!(counter(&metrics, ROOM_RATE), 1);
    server.shutdown().await;
}

async fn create_room_as(server: &TestServer, forwarded_for: &str) -> u16 {
    server
        .http
        .post(server.url("/api/rooms"))
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .expect("POST /api/rooms")
        .status()
        .as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_room_limit() {
    let server = TestServer::with(Config {
        max_rooms_per_minute: nz(1),
        trusted_proxies: vec!["127.0.0.0/8".parse().expect("net")],
        ..Config::default()
    })
    .await;
    assert_eq!(create_room_as(&server, "203.0.113.1").await, 201);
    assert_eq!(create_room_as(&server, "203.0.113.1").await, 429);
    // Another client behind the same proxy, and one whose claim the proxy appended to.
    assert_eq!(create_room_as(&server, "203.0.113.2").await, 201);
    assert_eq!(
        create_room_as(&server, "203.0.113.1, 203.0.113.3").await,
        201
    );
    server.shutdown().await;
}

#[tokio::test]
async fn an_untrusted_peer_cannot_dodge_the_room_limit_with_forwarded_for() {
    let server = TestServer::with(Config {
        max_rooms_per_minute: nz(1),
        ..Config::default()
    })
    .await;
    assert_eq!(create_room_as(&server, "203.0.113.1").await, 201);
    assert_eq!(create_room_as(&server, "203.0.113.2").await, 429);
    server.shutdown().await;
}
