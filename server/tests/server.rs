//! End-to-end tests of the server over real loopback sockets.

mod support;

use std::{num::NonZeroU32, time::Duration};

use futures_util::{SinkExt, StreamExt};
use protocol::{ClientMessage, ServerMessage, close};
use server::Config;
use support::{Said, TestServer, jpeg, metric, within};

#[tokio::test]
async fn frames_arrive_byte_identical_and_in_order() {
    let server = TestServer::start().await;
    let room = server.create_room().await;
    assert_eq!(room.watch_url, format!("/watch/{}", room.room));
    assert_eq!(
        room.stream_url,
        format!("/api/rooms/{}/stream.mjpg", room.room)
    );
    assert_eq!(
        room.snapshot_url,
        format!("/api/rooms/{}/snapshot.jpg", room.room)
    );
    let mut publisher = server.publisher(&room).await;
    publisher.wait_viewers(0).await;
    let mut viewer = server.viewer(&room.room, "").await;
    publisher.wait_viewers(1).await;

    // Lock-step: every frame must arrive, unchanged.
    let frames: Vec<Vec<u8>> = (0..12).map(|i| jpeg(320, 240, i, i % 2 == 0)).collect();
    for frame in &frames {
        publisher.send_jpeg(frame).await;
        assert_eq!(&viewer.frame().await, frame);
    }

    // A burst: the viewer may skip frames, but never reorders or repeats one, and it ends
    // on the newest.
    for frame in &frames {
        publisher.send_jpeg(frame).await;
    }
    let mut seen = Vec::new();
    loop {
        let got = viewer.frame().await;
        let i = frames.iter().position(|f| *f == got).expect("a sent frame");
        if let Some(&last) = seen.last() {
            assert!(i > last, "frame {i} after {last}");
        }
        seen.push(i);
        if i == frames.len() - 1 {
            break;
        }
    }
    let state = server.room_state(&room.room).await;
    assert!(state.live);
    assert_eq!(state.viewers, 1);
    assert_eq!(state.frames, 24);
    assert_eq!((state.width, state.height), (320, 240));
    // One viewer: copying the frame into its socket is cheaper than a shared file.
    let metrics = server.metrics().await;
    assert_eq!(metric(&metrics, "lenscast_bytes_zero_copy_total"), 0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_viewers_all_receive_the_stream() {
    many_viewers_all_receive_the_stream(50).await;
}

/// Enough viewers for a fan-out pass to be split over several tasks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_viewers_all_receive_the_stream() {
    many_viewers_all_receive_the_stream(300).await;
}

async fn many_viewers_all_receive_the_stream(n: usize) {
    // All of them from one address: the per-address caps are raised for this test.
    let server = TestServer::with(Config {
        max_viewers_per_address: n,
        max_connections_per_address: 2 * n,
        ..Config::default()
    })
    .await;
    let room = server.create_room().await;
    let mut publisher = server.publisher(&room).await;
    let mut viewers = Vec::new();
    for _ in 0..n {
        viewers.push(server.viewer(&room.room, "").await);
    }
    publisher.wait_viewers(n as u64).await;
    let frames: Vec<Vec<u8>> = (0..5).map(|i| jpeg(160, 120, i, false)).collect();
    for frame in &frames {
        publisher.send_jpeg(frame).await;
        // Everyone gets each frame before the next goes out.
        for viewer in &mut viewers {
            assert_eq!(&viewer.frame().await, frame);
        }
    }
    assert_eq!(server.room_state(&room.room).await.viewers as usize, n);
    // Many viewers on plain HTTP/1.1: every part went from the frame's shared file, none
    // was copied per viewer (the count follows the send, which a viewer may beat).
    if cfg!(target_os = "linux") && n >= server::stream::ZERO_COPY_MIN_MEMBERS {
        let mut tries = 0;
        loop {
            let metrics = server.metrics().await;
            let parts = metric(&metrics, "lenscast_bytes_out_total");
            let zero_copy = metric(&metrics, "lenscast_bytes_zero_copy_total");
            if parts > 0 && zero_copy >= parts {
                break;
            }
            tries += 1;
            assert!(
                tries < 50,
                "{zero_copy} of {parts} bytes sent without a copy"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    drop(viewers);
    publisher.wait_viewers(0).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_viewer_slows_nobody_and_only_gets_the_newest_frame() {
    // Frames go out as fast as the active viewer takes them, far above the default rate.
    let server = TestServer::with(Config {
        max_publish_fps: NonZeroU32::new(100_000).expect("not zero"),
        ..Config::default()
    })
    .await;
    let room = server.create_room().await;
    let mut publisher = server.publisher(&room).await;
    let mut stalled = server.viewer(&room.room, "").await;
    let mut active = server.viewer(&room.room, "").await;
    publisher.wait_viewers(2).await;

    // About 40 MB in total, far more than socket buffers hold: a server that queued frames
    // for the stalled viewer would have to keep them all.
    let frames: Vec<Vec<u8>> = (0..8).map(|i| jpeg(640, 360, i, true)).collect();
    let size = frames[0].len();
    let total = 40_000_000 / size;
    for i in 0..total {
        let frame = &frames[i % frames.len()];
        publisher.send_jpeg(frame).await;
        assert_eq!(&active.frame().await, frame, "active viewer, frame {i}");
    }
    let last = jpeg(320, 240, 99, true);
    publisher.send_jpeg(&last).await;
    assert_eq!(active.frame().await, last);

    // Now the stalled viewer reads: what was in flight, then straight to the newest frame.
    let mut got = 0;
    loop {
        let frame = stalled.frame().await;
        got += 1;
        if frame == last {
            break;
        }
    }
    // What socket buffers on both sides held (the client's grows on its own) and no more.
    assert!(
        got * size < 10_000_000,
        "stalled viewer got {got} of {total} frames of {size} bytes"
    );
    let metrics = server.metrics().await;
    let dropped = metric(&metrics, "lenscast_frames_dropped_total");
    assert!(dropped >= (total / 2) as u64, "dropped {dropped}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fps_parameter_caps_one_viewer() {
    let server = TestServer::start().await;
    let room = server.create_room().await;
    let mut publisher = server.publisher(&room).await;
    let begin = std::time::Instant::now();
    let capped = server.viewer(&room.room, "?fps=4").await;
    let free = server.viewer(&room.room, "").await;
    publisher.wait_viewers(2).await;
    let frames: Vec<Vec<u8>> = (0..4).map(|i| jpeg(64, 48, i, false)).collect();

    // Counts frames until the stream has been quiet for a while; returns the count and
    // when the last one arrived.
    let counting = |mut v: support::Viewer| {
        tokio::spawn(async move {
            let mut n = 0u32;
            let mut last = std::time::Instant::now();
            while tokio::time::timeout(Duration::from_millis(800), v.next_frame())
                .await
                .is_ok_and(|f| f.is_some())
            {
                n += 1;
                last = std::time::Instant::now();
            }
            (n, last)
        })
    };
    let capped = counting(capped);
    let free = counting(free);
    // 2 s at 50 fps.
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for i in 0..100 {
        tick.tick().await;
        publisher.send_jpeg(&frames[i % 4]).await;
    }
    let (capped_n, last) = capped.await.expect("capped task");
    let (free_n, _) = free.await.expect("free task");
    // The server spaces this viewer's frames by at least 250 ms, so however slow this
    // machine is, no more than one frame per 250 ms since the request (plus the first) came.
    let bound = (last - begin).as_secs_f64() * 4.0 + 1.0;
    assert!(
        f64::from(capped_n) <= bound,
        "capped viewer got {capped_n}, bound {bound:.1}"
    );
    assert!(capped_n >= 2, "capped viewer got {capped_n}");
    assert!(free_n > capped_n, "uncapped {free_n} vs capped {capped_n}");

    let bad = server
        .http
        .get(server.url(&format!("/api/rooms/{}/stream.mjpg?fps=0", room.room)))
        .send()
        .await
        .expect("GET");
    assert_eq!(bad.status(), 400);
    server.shutdown().await;
}

#[tokio::test]
async fn snapshot_is_the_latest_frame() {
    let server = TestServer::start().await;
    let room = server.create_room().await;
    let url = server.url(&room.snapshot_url);
    let res = server.http.get(&url).send().await.expect("GET snapshot");
    assert_eq!(res.status(), 503);

    let mut publisher = server.publisher(&room).await;
    let (a, b) = (jpeg(200, 100, 1, false), jpeg(200, 100, 2, false));
    publisher.send_jpeg(&a).await;
    publisher.send_jpeg(&b).await;
    within("two frames", async {
        while server.room_state(&room.room).await.frames < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let res = server.http.get(&url).send().await.expect("GET snapshot");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.bytes().await.expect("body").to_vec(), b);

    // The last frame stays available after the publisher leaves.
    drop(publisher);
    let res = server.http.get(&url).send().await.expect("GET snapshot");
    assert_eq!(res.status(), 200);
    server.shutdown().await;
}

#[tokio::test]
async fn viewer_count_reaches_the_publisher_and_polling_does_not_count() {
    let server = TestServer::start().await;
    let (room, mut publisher) = server.live_room().await;
    let v1 = server.viewer(&room.room, "").await;
    publisher.wait_viewers(1).await;
    let v2 = server.viewer(&room.room, "?fps=1").await;
    publisher.wait_viewers(2).await;
    for _ in 0..3 {
        assert_eq!(server.room_state(&room.room).await.viewers, 2);
    }
    drop(v1);
    publisher.wait_viewers(1).await;
    drop(v2);
    publisher.wait_viewers(0).await;

    // A publisher that closes gets the closing handshake answered.
    publisher.ws.close(None).await.expect("send close");
    match within("close reply", publisher.ws.next()).await {
        Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) => {}
        other => panic!("expected a close reply, got {other:?}"),
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_new_publisher_replaces_the_old_one_and_viewers_stay() {
    let server = TestServer::start().await;
    let room = server.create_room().await;
    let mut first = server.publisher(&room).await;
    first.wait_viewers(0).await;
    let mut viewer = server.viewer(&room.room, "").await;
    let a = jpeg(100, 100, 1, false);
    first.send_jpeg(&a).await;
    assert_eq!(viewer.frame().await, a);

    let mut second = server.publisher(&room).await;
    match first.next().await {
        Said::Message(_) => match first.next().await {
            Said::Closed(code, reason) => assert_eq!(
                (code, reason.as_str()),
                (close::REPLACED.code, close::REPLACED.reason)
            ),
            other => panic!("{other:?}"),
        },
        Said::Closed(code, _) => assert_eq!(code, close::REPLACED.code),
        Said::Ended => panic!("closed without a close frame"),
    }
    second.wait_viewers(1).await;
    assert!(server.room_state(&room.room).await.live);
    let b = jpeg(100, 100, 2, false);
    second.send_jpeg(&b).await;
    assert_eq!(viewer.frame().await, b);

    // Publisher away: the viewer stays connected and resumes when one returns.
    drop(second);
    within("offline", async {
        while server.room_state(&room.room).await.live {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let mut third = server.publisher(&room).await;
    third.wait_viewers(1).await;
    let c = jpeg(100, 100, 3, false);
    third.send_jpeg(&c).await;
    assert_eq!(viewer.frame().await, c);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_its_answer_and_other_rooms_keep_serving() {
    let server = TestServer::with(Config {
        max_frame_bytes: 100_000,
        max_frame_dim: 1000,
        ..Config::default()
    })
    .await;
    // A healthy room streaming all along.
    let good = server.create_room().await;
    let mut good_pub = server.publisher(&good).await;
    let mut good_viewer = server.viewer(&good.room, "").await;
    good_pub.wait_viewers(1).await;
    let mut n = 0;
    let mut check_good = async || {
        n += 1;
        let f = jpeg(64, 64, n, false);
        good_pub.send_jpeg(&f).await;
        assert_eq!(good_viewer.frame().await, f);
    };
    check_good().await;

    let room = server.create_room().await;
    let expect_close = async |payload: Vec<u8>, code: u16| {
        let mut p = server.publisher(&room).await;
        p.wait_viewers(0).await;
        p.ws.send(tokio_tungstenite::tungstenite::Message::Binary(
            payload.into(),
        ))
        .await
        .ok();
        match p.next().await {
            Said::Closed(got, reason) => {
                assert_eq!(got, code, "{reason}");
                assert!(!reason.is_empty());
            }
            other => panic!("expected close {code}, got {other:?}"),
        }
    };
    expect_close(b"not a jpeg at all".to_vec(), close::UNSUPPORTED_DATA).await;
    check_good().await;
    let mut cut = jpeg(64, 64, 5, false);
    cut.truncate(cut.len() / 2);
    expect_close(cut, close::UNSUPPORTED_DATA).await;
    expect_close(vec![0xFF, 0xD8, 0xFF, 0xD9], close::UNSUPPORTED_DATA).await;
    expect_close(jpeg(1200, 100, 1, false), close::MESSAGE_TOO_BIG).await;
    // Just over the limit (our own check) and far over it (the WebSocket layer's limit).
    let mut big = jpeg(64, 64, 1, false);
    big.splice(2..2, {
        let mut com = vec![0xFF, 0xFE, 0xFF, 0xFF];
        com.resize(65_537, 0);
        let mut two = com.clone();
        two.extend(com);
        two
    });
    assert!(big.len() > 100_000 && big.len() < 140_000);
    expect_close(big, close::MESSAGE_TOO_BIG).await;
    expect_close(vec![0u8; 3_000_000], close::MESSAGE_TOO_BIG).await;
    check_good().await;

    // Text: errors, not closes.
    let mut p = server.publisher(&room).await;
    p.wait_viewers(0).await;
    p.send_text("{not json").await;
    match p.next().await {
        Said::Message(ServerMessage::Error { .. }) => {}
        other => panic!("{other:?}"),
    }
    p.send_message(&ClientMessage::Hello).await;
    match p.next().await {
        Said::Message(ServerMessage::Welcome {
            max_frame_bytes, ..
        }) => {
            assert_eq!(max_frame_bytes, 100_000);
        }
        other => panic!("{other:?}"),
    }
    p.send_text(r#"{"type":"something-new","x":1}"#).await;
    match p.next().await {
        Said::Message(ServerMessage::Error { .. }) => {}
        other => panic!("{other:?}"),
    }
    p.send_text("[1,2]").await;
    match p.next().await {
        Said::Message(ServerMessage::Error { .. }) => {}
        other => panic!("{other:?}"),
    }
    // Still a working publisher.
    p.send_jpeg(&jpeg(64, 64, 1, false)).await;
    within("frame counted", async {
        while server.room_state(&room.room).await.frames < 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    check_good().await;
    // A text frame that is not UTF-8 cannot be answered as text: 1007 with a reason.
    {
        use tokio_tungstenite::tungstenite::protocol::frame::{
            Frame,
            coding::{Data, OpCode},
        };
        let raw = Frame::message(vec![b'{', 0xC3, 0x28, b'}'], OpCode::Data(Data::Text), true);
        p.ws.send(tokio_tungstenite::tungstenite::Message::Frame(raw))
            .await
            .expect("send a raw text frame");
        match p.next().await {
            Said::Closed(code, reason) => {
                assert_eq!(code, close::INVALID_PAYLOAD, "{reason}");
                assert!(reason.contains("UTF-8"), "{reason}");
            }
            other => panic!("expected close 1007, got {other:?}"),
        }
    }
    check_good().await;

    // Tokens: checked before the upgrade.
    let status = |r: Result<support::Publisher, tokio_tungstenite::tungstenite::Error>| match r {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => res.status().as_u16(),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("upgrade must be refused"),
    };
    let no_token = format!("ws://{}/ws/rooms/{}/publish", server.addr, room.room);
    assert_eq!(
        status(
            tokio_tungstenite::connect_async(no_token)
                .await
                .map(|(ws, _)| support::Publisher { ws })
        ),
        401
    );
    assert_eq!(
        status(server.publisher_with_token(&room.room, "").await),
        401
    );
    assert_eq!(
        status(
            server
                .publisher_with_token(&room.room, &good.publish_token)
                .await
        ),
        403
    );
    assert_eq!(
        status(
            server
                .publisher_with_token(&"0".repeat(32), &room.publish_token)
                .await
        ),
        404
    );

    // Unknown and malformed rooms on every route.
    for id in ["0".repeat(32), "nope".to_owned(), "ZZ%2F..".to_owned()] {
        for path in [
            format!("/api/rooms/{id}"),
            format!("/api/rooms/{id}/stream.mjpg"),
            format!("/api/rooms/{id}/snapshot.jpg"),
            format!("/watch/{id}"),
            format!("/ws/rooms/{id}/publish?token=x"),
        ] {
            let res = server
                .http
                .get(server.url(&path))
                .send()
                .await
                .expect("GET");
            assert!(
                [400, 404].contains(&res.status().as_u16()),
                "{path}: {}",
                res.status()
            );
        }
    }
    check_good().await;

    let metrics = server.metrics().await;
    for kind in [
        "NotJpeg",
        "TooLarge",
        "BadText",
        "MissingToken",
        "WrongToken",
        "UnknownRoom",
    ] {
        let line = format!("lenscast_rejected_total{{kind=\"{kind}\"}}");
        assert!(metric(&metrics, &line) >= 1, "{kind}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn limits_on_rooms_and_viewers() {
    let server = TestServer::with(Config {
        max_rooms: 2,
        max_viewers_per_room: 1,
        ..Config::default()
    })
    .await;
    let room = server.create_room().await;
    let other = server.create_room().await;
    // Both rooms in use (unused ones would make space for a new one).
    let _viewer = server.viewer(&room.room, "").await;
    let _publisher = server.publisher(&other).await;
    let res = server
        .http
        .post(server.url("/api/rooms"))
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 503);
    assert_eq!(server.get(&room.stream_url).await.status(), 503);
    let metrics = server.metrics().await;
    assert_eq!(metric(&metrics, "lenscast_rooms"), 2);
    assert_eq!(metric(&metrics, "lenscast_viewers"), 1);
    for kind in ["RoomLimit", "ViewerLimit"] {
        let line = format!("lenscast_rejected_total{{kind=\"{kind}\"}}");
        assert_eq!(metric(&metrics, &line), 1, "{kind}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_ends_streams_and_sockets_cleanly() {
    let server = TestServer::start().await;
    let room = server.create_room().await;
    let mut publisher = server.publisher(&room).await;
    let mut viewer = server.viewer(&room.room, "").await;
    publisher.wait_viewers(1).await;
    let f = jpeg(64, 64, 1, false);
    publisher.send_jpeg(&f).await;
    assert_eq!(viewer.frame().await, f);

    let stopping = tokio::spawn(server.shutdown());
    // The stream ends between parts (the parser asserts on a cut part), with the body's
    // proper end rather than a broken connection.
    assert_eq!(within("end of stream", viewer.next_frame()).await, None);
    assert_eq!(viewer.broken, None, "the body ended cleanly");
    match publisher.next().await {
        Said::Closed(code, reason) => {
            assert_eq!(code, close::SHUTDOWN.code);
            assert_eq!(reason, close::SHUTDOWN.reason);
        }
        other => panic!("{other:?}"),
    }
    drop(publisher);
    within("run() returns", stopping)
        .await
        .expect("shutdown task");
}

#[tokio::test]
async fn pages_health_metrics_and_frontend() {
    let server = TestServer::start().await;
    assert_eq!(server.get("/healthz").await.status(), 200);

    let room = server.create_room().await;
    let page = server.get(&room.watch_url).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("<html"));
    assert_eq!(
        server
            .get(&format!("/watch/{}", "f".repeat(32)))
            .await
            .status(),
        404
    );
    assert_eq!(server.get("/static/watch.js").await.status(), 200);
    // HEAD on a stream: its headers, no body, and no viewer joins for it.
    let head = server
        .http
        .head(server.url(&room.stream_url))
        .send()
        .await
        .expect("HEAD");
    assert_eq!(head.status(), 200);
    assert!(
        head.headers().get("content-length").is_none(),
        "GET's length is unknown, so HEAD states none"
    );
    assert!(
        head.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("multipart/x-mixed-replace")
    );
    assert_eq!(head.bytes().await.expect("empty body").len(), 0);

    // SPA fallback, and caching by name.
    let index = server.get("/some/client/route").await;
    assert_eq!(index.status(), 200);
    assert_eq!(index.headers()["cache-control"], "no-cache");
    assert!(index.text().await.expect("html").contains("spa"));
    let asset = server.get("/app-0123456789abcdef.js").await;
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    // A hashed name that is not there is no page: 404, and nothing cached.
    let missing = server.get("/app-fedcba9876543210.js").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().get("cache-control").is_none());
    assert_eq!(server.get("/api/nothing-here").await.status(), 404);
    // Same-origin by default: no CORS grant for another site.
    let res = server
        .http
        .get(server.url("/healthz"))
        .header("origin", "https://elsewhere.example")
        .send()
        .await
        .expect("GET");
    assert!(res.headers().get("access-control-allow-origin").is_none());

    let metrics = server.metrics().await;
    for name in [
        "lenscast_rooms 1",
        "lenscast_publishers 0",
        "lenscast_viewers 0",
        "lenscast_frames_in_total 0",
        "lenscast_frames_out_total 0",
        "lenscast_bytes_out_total 0",
        "lenscast_frames_dropped_total 0",
        "lenscast_viewers_joined_total 0",
    ] {
        assert!(metrics.lines().any(|l| l == name), "{name} in\n{metrics}");
    }
    server.shutdown().await;
}
