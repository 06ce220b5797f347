//! Hostile clients against a real server on 127.0.0.1:0: each test reproduces one attack and
//! asserts the bound that holds it (memory, slots, time), and that a canary room next to it
//! keeps getting its frames.

mod support;

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use server::Config;
use support::{TestServer, eventually, jpeg, metric, tiny_window, within};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_tungstenite::{
    client_async,
    tungstenite::{Message, client::IntoClientRequest},
};

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
    eventually("one publisher left after the replacement", || async {
        metric(&server.metrics().await, "lenscast_publishers") == 1
    })
    .await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_viewer_that_stops_reading_is_dropped_and_frees_its_frame() {
    // HTTP/1.1: the server writes the stream itself.
    stalled_viewer_is_dropped("HTTP/1.1").await;
}

#[tokio::test]
async fn an_http_1_0_viewer_that_stops_reading_is_dropped_too() {
    // HTTP/1.0: hyper writes the stream as a body, under the connection's write deadline.
    stalled_viewer_is_dropped("HTTP/1.0").await;
}

async fn stalled_viewer_is_dropped(version: &str) {
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
        "GET {} {version}\r\nHost: lenscast.test\r\n\r\n",
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
            "the stalled {version} viewer is still counted ({viewers} viewers) after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(stalled);
    server.shutdown().await;
}

#[tokio::test]
async fn pages_of_other_origins_cannot_create_rooms_or_publish() {
    let server = TestServer::start().await;
    let post = |origin: Option<String>| {
        let mut req = server.http.post(server.url("/api/rooms"));
        if let Some(origin) = origin {
            req = req.header("Origin", origin);
        }
        req.send()
    };
    let foreign = post(Some("https://evil.example".into()))
        .await
        .expect("POST");
    assert_eq!(foreign.status(), 403);
    let body: protocol::ErrorBody = foreign.json().await.expect("error body");
    assert!(body.error.contains("origin"), "{}", body.error);
    let own = post(Some(format!("http://{}", server.addr)))
        .await
        .expect("POST");
    assert_eq!(own.status(), 201, "the server's own pages");
    let script = post(None).await.expect("POST");
    assert_eq!(script.status(), 201, "no Origin: a script, not a page");

    let room: protocol::RoomCreated = script.json().await.expect("room");
    let mut request = format!(
        "ws://{}{}",
        server.addr,
        protocol::rooms::publish_path(&room.room, &room.publish_token)
    )
    .into_client_request()
    .expect("request");
    request
        .headers_mut()
        .insert("Origin", "https://evil.example".parse().expect("header"));
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), 403);
        }
        other => panic!("a foreign page's publisher socket was not refused: {other:?}"),
    }
    let metrics = server.metrics().await;
    assert_eq!(
        metric(&metrics, r#"lenscast_rejected_total{kind="ForeignOrigin"}"#),
        2
    );
    server.shutdown().await;
}

/// `jpeg` with a comment segment right after SOI.
fn with_comment(jpeg: &[u8], comment: &[u8]) -> Vec<u8> {
    let len = u16::try_from(comment.len() + 2).expect("short comment");
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(comment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[tokio::test]
async fn a_frame_holding_the_stream_boundary_never_reaches_a_viewer() {
    let server = TestServer::start().await;
    let (room, mut publisher) = server.live_room().await;
    let mut viewer = server.viewer(&room.room, "").await;
    let clean = jpeg(64, 48, 1, false);
    publisher
        .send_jpeg(&with_comment(&clean, b"made with lenscast"))
        .await;
    assert_eq!(
        within("a frame with a harmless comment", viewer.frame()).await,
        with_comment(&clean, b"made with lenscast")
    );

    let injected = with_comment(
        &clean,
        b"\r\n--lenscastframe\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>",
    );
    publisher.send_jpeg(&injected).await;
    loop {
        match publisher.next().await {
            support::Said::Closed(code, reason) => {
                assert_eq!(code, protocol::close::UNSUPPORTED_DATA);
                assert!(reason.contains("boundary"), "{reason}");
                break;
            }
            support::Said::Message(_) => {}
            support::Said::Ended => panic!("an injecting frame was not refused"),
        }
    }
    let snapshot = server
        .get(&protocol::rooms::snapshot_path(&room.room))
        .await
        .bytes()
        .await
        .expect("snapshot");
    assert_eq!(
        &snapshot[..],
        &with_comment(&clean, b"made with lenscast")[..]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_viewer_page_and_the_images_are_never_sniffed_or_scripted() {
    let server = TestServer::start().await;
    let (room, mut publisher) = server.live_room().await;
    publisher.send_jpeg(&jpeg(64, 48, 1, false)).await;
    let page = server.get(&protocol::rooms::watch_path(&room.room)).await;
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("ascii");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let deadline = Instant::now() + Duration::from_secs(5);
    let snapshot = loop {
        let res = server
            .get(&protocol::rooms::snapshot_path(&room.room))
            .await;
        if res.status() == 200 || Instant::now() > deadline {
            break res;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(snapshot.status(), 200);
    for res in [
        &snapshot,
        &server.get(&protocol::rooms::stream_path(&room.room)).await,
    ] {
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .expect("ascii");
        assert!(
            csp.contains("sandbox") && csp.contains("default-src 'none'"),
            "{csp}"
        );
    }
    server.shutdown().await;
}

/// An HTTP client whose connections come from `local` (a loopback alias stands in for
/// another client address).
fn client_from(local: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(local.parse::<std::net::IpAddr>().expect("address"))
        .build()
        .expect("client")
}

#[tokio::test]
async fn one_address_cannot_take_a_rooms_viewer_slots() {
    let server = TestServer::with(Config {
        max_viewers_per_address: 4,
        ..Config::default()
    })
    .await;
    let (room, mut publisher) = server.live_room().await;
    let stream = server.url(&protocol::rooms::stream_path(&room.room));
    let greedy = client_from("127.0.0.1");
    let mut held = Vec::new();
    for _ in 0..4 {
        let res = greedy.get(&stream).send().await.expect("GET");
        assert_eq!(res.status(), 200);
        held.push(res);
    }
    let over = greedy.get(&stream).send().await.expect("GET");
    assert_eq!(over.status(), 429, "a fifth stream from the same address");
    let body: protocol::ErrorBody = over.json().await.expect("error body");
    assert!(body.error.contains("4 open streams"), "{}", body.error);

    // Another address is not affected, and gets the frames.
    let other = client_from("127.0.0.2")
        .get(&stream)
        .send()
        .await
        .expect("GET");
    assert_eq!(other.status(), 200);
    let mut canary = support::Viewer::new(other);
    let frame = jpeg(64, 48, 5, false);
    publisher.send_jpeg(&frame).await;
    assert_eq!(within("canary frame", canary.frame()).await, frame);

    // A stream given back frees its slot.
    held.pop();
    eventually("the slot comes back", || async {
        greedy.get(&stream).send().await.expect("GET").status() == 200
    })
    .await;
    let metrics = server.metrics().await;
    assert!(
        metric(
            &metrics,
            r#"lenscast_rejected_total{kind="AddressViewerLimit"}"#
        ) >= 1
    );
    server.shutdown().await;
}

#[tokio::test]
async fn one_address_cannot_hold_more_than_its_connections() {
    let server = TestServer::with(Config {
        max_connections_per_address: 3,
        ..Config::default()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(TcpStream::connect(server.addr).await.expect("connect"));
    }
    // The fourth is answered 429 and closed at once, without holding anything.
    let mut fourth = TcpStream::connect(server.addr).await.expect("connect");
    let mut answer = Vec::new();
    within("the refusal", fourth.read_to_end(&mut answer))
        .await
        .expect("read");
    assert!(
        answer.starts_with(b"HTTP/1.1 429"),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // Another address still gets in.
    let res = client_from("127.0.0.2")
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), 200);
    // Connections given back free their slots.
    idle.clear();
    eventually("the connection slots come back", || async {
        let res = client_from("127.0.0.1")
            .get(server.url("/healthz"))
            .send()
            .await;
        res.is_ok_and(|res| res.status() == 200)
    })
    .await;
    server.shutdown().await;
}

async fn create_room_from(server: &TestServer, local: &str) -> reqwest::Response {
    client_from(local)
        .post(server.url("/api/rooms"))
        .send()
        .await
        .expect("POST /api/rooms")
}

#[tokio::test]
async fn rooms_nobody_uses_cannot_keep_new_or_live_rooms_out() {
    let server = TestServer::with(Config {
        max_rooms: 20,
        ..Config::default()
    })
    .await;
    let (canary, mut canary_publisher) = server.live_room().await;
    let mut canary_viewer = server.viewer(&canary.room, "").await;
    // Many addresses fill the table with rooms they never use, twice over.
    for i in 0..40 {
        let res = create_room_from(&server, &format!("127.0.1.{}", i % 20 + 1)).await;
        assert_eq!(res.status(), 201, "room {i}");
    }
    // Anyone else still gets a room; the live one was never touched.
    assert_eq!(create_room_from(&server, "127.0.2.1").await.status(), 201);
    let frame = jpeg(64, 48, 2, false);
    canary_publisher.send_jpeg(&frame).await;
    assert_eq!(within("canary frame", canary_viewer.frame()).await, frame);
    assert!(server.room_state(&canary.room).await.live);
    assert!(server.state.rooms_in_memory() <= 20);
    let metrics = server.metrics().await;
    assert!(metric(&metrics, "lenscast_rooms_evicted_total") >= 21);
    server.shutdown().await;
}

#[tokio::test]
async fn viewers_bring_rooms_back_only_within_their_clients_creation_rate() {
    let server = TestServer::with(Config {
        max_rooms_per_minute: std::num::NonZeroU32::new(3).expect("3"),
        room_idle: Duration::from_millis(100),
        ..Config::default()
    })
    .await;
    // Ids harvested from rooms made by other addresses, then idled out of memory.
    let mut ids = Vec::new();
    for i in 0..5 {
        let res = create_room_from(&server, &format!("127.0.3.{}", i + 1)).await;
        let room: protocol::RoomCreated = res.json().await.expect("room");
        ids.push(room.room);
    }
    eventually("idle rooms leave memory", || async {
        server.state.rooms_in_memory() == 0
    })
    .await;
    // One address brings back three of them by watching, then is refused.
    let harvester = client_from("127.0.3.9");
    let mut watching = Vec::new();
    for id in &ids[..3] {
        let res = harvester
            .get(server.url(&protocol::rooms::stream_path(id)))
            .send()
            .await
            .expect("GET");
        assert_eq!(res.status(), 200);
        watching.push(res);
    }
    let refused = harvester
        .get(server.url(&protocol::rooms::stream_path(&ids[3])))
        .send()
        .await
        .expect("GET");
    assert_eq!(refused.status(), 429);
    assert_eq!(server.state.rooms_in_memory(), 3);
    // Watching a room that is in memory costs nothing.
    let more = harvester
        .get(server.url(&protocol::rooms::stream_path(&ids[0])))
        .send()
        .await
        .expect("GET");
    assert_eq!(more.status(), 200);
    server.shutdown().await;
}
