//! The cluster when things go wrong, with a real `nats-server` and real nodes: the broker
//! killed and started again, a node (the real binary) killed while its publisher moves to
//! another node, a broker whose payload limit is below the frame limit, and a room ended
//! while the broker was away.

mod support;

use std::{fmt::Write as _, time::Duration};

use protocol::{ClientMessage, ServerMessage, close, rooms};
use support::{
    Client, Said, TestServer, Viewer,
    cluster::{self, Streaming, node_config, small_frame},
    eventually, metric, within,
};
use testkit::{
    nats::NatsServer,
    process::{Launch, ServerProcess},
};

/// The contract: remote viewers resume within this long of the broker's return.
const RESUME: Duration = Duration::from_secs(10);

/// The real binary as a node named `node` of `broker`'s cluster.
async fn binary_node(broker: &NatsServer, node: &str, dir: &std::path::Path) -> ServerProcess {
    let secret = cluster::shared_secret()
        .bytes()
        .iter()
        .fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        });
    Launch::new(env!("CARGO_BIN_EXE_lenscast-server"))
        .env("LENSCAST_ADDR", "127.0.0.1:0")
        .env("LENSCAST_DIST", dir)
        .env("LENSCAST_SECRET", secret)
        .env("LENSCAST_CLUSTER_URL", broker.url())
        .env("LENSCAST_NODE_ID", node)
        .env("RUST_LOG", "info")
        .start()
        .await
        .expect("the binary node starts")
}

/// Reads `viewer` until a frame for which `wanted` holds (panics after the support wait).
async fn frame_where(viewer: &mut Viewer, wanted: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    loop {
        let frame = viewer.frame().await;
        if wanted(&frame) {
            return frame;
        }
    }
}

#[tokio::test]
async fn local_rooms_go_on_through_a_broker_outage_and_remote_viewers_resume() {
    let mut broker = cluster::broker().await;
    let nodes = cluster::nodes(&broker, 2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let room = a.create_room().await;
    let mut local = a.viewer(&room.room, "").await;
    let mut remote = b.viewer(&room.room, "").await;
    let mut publisher = a.publisher(&room).await;
    publisher.wait_viewers(2).await;
    let streaming = Streaming::start(publisher, Duration::from_millis(50), small_frame);
    remote.frame().await;
    remote.frame().await;

    broker.kill().await;
    for node in &nodes {
        eventually("the node notices the broker is gone", || async {
            metric(&node.metrics().await, "lenscast_cluster_connected") == 0
        })
        .await;
        assert_eq!(node.get("/healthz").await.status(), 200);
    }
    // A's own viewer goes on seeing new frames from A's own publisher.
    let before = local.frame().await;
    frame_where(&mut local, |f| f != before.as_slice()).await;
    let got_remote = metric(&b.metrics().await, "lenscast_cluster_bus_frames_in_total");

    broker.restart().await.expect("the broker comes back");
    tokio::time::timeout(RESUME, async {
        loop {
            let now = metric(&b.metrics().await, "lenscast_cluster_bus_frames_in_total");
            if now > got_remote {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("frames cross the bus again within 10 s of the broker's return");
    // The same connection: B's viewer never reconnected.
    let resumed = metric(&b.metrics().await, "lenscast_cluster_bus_frames_in_total");
    let mut seen = std::collections::HashSet::new();
    while seen.len() < 3 {
        seen.insert(remote.frame().await);
    }
    assert!(
        metric(&b.metrics().await, "lenscast_cluster_bus_frames_in_total") > resumed,
        "B's viewer reads frames that came after the outage"
    );
    assert_eq!(
        metric(&b.metrics().await, "lenscast_viewers_joined_total"),
        1,
        "no reconnect"
    );
    for node in &nodes {
        assert_eq!(
            metric(&node.metrics().await, "lenscast_cluster_connected"),
            1
        );
    }
    streaming.stop().await;
}

#[tokio::test]
async fn a_killed_nodes_publisher_moves_and_every_remaining_viewer_follows() {
    let broker = cluster::broker().await;
    let dir = testkit::temp::temp_dir("cluster-node");
    let a = binary_node(&broker, "a", dir.path()).await;
    let a_client = Client::new(a.addr());
    let b = TestServer::with(node_config(&broker, "b")).await;
    let c = TestServer::with(node_config(&broker, "c")).await;
    let room = b.create_room().await;
    let mut on_b = b.viewer(&room.room, "").await;
    let mut on_c = c.viewer(&room.room, "").await;
    let mut on_a = a_client.viewer(&room.room, "").await;
    let mut first = a_client.publisher(&room).await;
    first.wait_viewers(3).await;
    let streaming = Streaming::start(first, Duration::from_millis(50), small_frame);
    for viewer in [&mut on_a, &mut on_b, &mut on_c] {
        viewer.frame().await;
    }

    a.kill().await.expect("kill node a");
    let first = streaming.stop().await;
    drop(first);
    // A's own viewer lost its node; the others stay connected and wait.
    within("a's viewer ends", async {
        while on_a.next_frame().await.is_some() {}
    })
    .await;

    let moved = |i: u32| support::jpeg(72, 40, 1000 + i, false);
    let second = b.publisher(&room).await;
    let streaming = Streaming::start(second, Duration::from_millis(50), moved);
    let sent: Vec<Vec<u8>> = (0..400).map(moved).collect();
    let is_moved = |f: &[u8]| sent.iter().any(|s| f == s.as_slice());
    frame_where(&mut on_b, is_moved).await;
    frame_where(&mut on_c, is_moved).await;
    let mut second = streaming.stop().await;
    second.wait_viewers(2).await;
    assert_eq!(
        metric(&c.metrics().await, "lenscast_viewers_joined_total"),
        1
    );
}

#[tokio::test]
async fn a_small_broker_limit_lowers_the_frame_limit_and_says_so() {
    let max_payload = 64 * 1024;
    let broker = NatsServer::with_max_payload(max_payload)
        .await
        .expect("nats-server with a config file");
    let dir = testkit::temp::temp_dir("cluster-node");
    let a = binary_node(&broker, "a", dir.path()).await;
    let a_client = Client::new(a.addr());
    let b = TestServer::with(node_config(&broker, "b")).await;
    let room = b.create_room().await;
    let mut viewer = a_client.viewer(&room.room, "").await;
    let mut publisher = b.publisher(&room).await;
    publisher.wait_viewers(1).await;
    publisher.send_message(&ClientMessage::Hello).await;
    let limit = loop {
        if let Said::Message(ServerMessage::Welcome {
            max_frame_bytes, ..
        }) = publisher.next().await
        {
            break max_frame_bytes;
        }
    };
    assert!(
        limit < max_payload as u64 && limit > max_payload as u64 - 1024,
        "the frame limit fits one bus message: {limit}"
    );

    // A frame that fits crosses the bus; one over the limit is refused out loud (1009),
    // never dropped in silence.
    let fits = support::jpeg(96, 64, 1, true);
    publisher.send_jpeg(&fits).await;
    assert_eq!(viewer.frame().await, fits);
    let big = support::jpeg(400, 300, 2, true);
    assert!(big.len() as u64 > limit, "{} bytes", big.len());
    publisher.send_jpeg(&big).await;
    loop {
        match publisher.next().await {
            Said::Message(_) => {}
            Said::Closed(code, reason) => {
                assert_eq!(code, close::MESSAGE_TOO_BIG);
                assert!(reason.contains(&limit.to_string()), "{reason}");
                break;
            }
            Said::Ended => panic!("closed without saying why"),
        }
    }
    let (_, logs) = a.terminate().await.expect("node a stops");
    let line = format!(
        "max_payload of {max_payload} bytes is below --max-frame-bytes {}",
        server::Config::default().max_frame_bytes
    );
    assert_eq!(logs.matches(&line).count(), 1, "one log line: {logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_ended_while_the_broker_was_away_ends_everywhere_on_its_return() {
    let mut broker = cluster::broker().await;
    let nodes = cluster::nodes(&broker, 3).await;
    let (a, b, c) = (&nodes[0], &nodes[1], &nodes[2]);
    let room = a.create_room().await;
    let mut remote = b.viewer(&room.room, "").await;
    let mut publisher = a.publisher(&room).await;
    publisher.wait_viewers(1).await;
    let frame = small_frame(1);
    publisher.send_jpeg(&frame).await;
    assert_eq!(remote.frame().await, frame);

    broker.kill().await;
    for node in &nodes {
        eventually("the node notices the broker is gone", || async {
            metric(&node.metrics().await, "lenscast_cluster_connected") == 0
        })
        .await;
    }
    let res = a
        .http
        .delete(a.url(&rooms::state_path(&room.room)))
        .header("authorization", rooms::bearer(&room.publish_token))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(res.status(), 204, "ending works without the broker");
    loop {
        match publisher.next().await {
            Said::Message(_) => {}
            Said::Closed(code, _) => {
                assert_eq!(code, close::ENDED.code);
                break;
            }
            Said::Ended => panic!("closed without a close frame"),
        }
    }
    assert!(!b.room_state(&room.room).await.ended, "B cannot know yet");

    broker.restart().await.expect("the broker comes back");
    // B's viewer, on the same connection all along, sees its stream end.
    assert_eq!(
        tokio::time::timeout(RESUME, remote.next_frame())
            .await
            .expect("B's stream ends within 10 s of the broker's return"),
        None
    );
    assert_eq!(remote.broken, None, "the body ended cleanly");
    for node in &nodes {
        eventually("every node says the room ended", || async {
            let state = node.room_state(&room.room).await;
            state.ended && !state.live
        })
        .await;
    }
    // C never held the room: a publisher there is refused at once (C heard the end) or
    // let in and then told the room ended (A, which holds it, hears of the publisher).
    let mut late = c.publisher(&room).await;
    loop {
        match within("the late publisher's close", late.next()).await {
            Said::Message(_) => {}
            Said::Closed(code, _) => {
                assert!(
                    [close::ROOM_ENDED.code, close::ENDED.code].contains(&code),
                    "{code}"
                );
                break;
            }
            Said::Ended => panic!("closed without a close frame"),
        }
    }
    eventually("C refuses the room's stream", || async {
        c.get(&rooms::stream_path(&room.room)).await.status() == 410
    })
    .await;
}

/// Waits up to [`RESUME`] for `check`.
async fn within_resume<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    tokio::time::timeout(RESUME, async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("within {RESUME:?}: {what}"));
}

/// The frame limit a new publisher of `room` on `node` is told (taking the room over).
async fn told_limit(node: &TestServer, room: &protocol::RoomCreated) -> u64 {
    let mut publisher = node.publisher(room).await;
    publisher.send_message(&ClientMessage::Hello).await;
    loop {
        if let Said::Message(ServerMessage::Welcome {
            max_frame_bytes, ..
        }) = publisher.next().await
        {
            return max_frame_bytes;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_started_before_its_broker_serves_alone_then_joins() {
    let mut broker = NatsServer::reserve().expect("free ports");
    let a = TestServer::with(node_config(&broker, "a")).await;
    assert_eq!(a.get("/healthz").await.status(), 200);
    assert_eq!(metric(&a.metrics().await, "lenscast_cluster_connected"), 0);
    // Alone, A serves its own room to its own viewers.
    let room = a.create_room().await;
    let mut local = a.viewer(&room.room, "").await;
    let mut publisher = a.publisher(&room).await;
    publisher.wait_viewers(1).await;
    let first = small_frame(1);
    publisher.send_jpeg(&first).await;
    assert_eq!(local.frame().await, first);

    broker.restart().await.expect("the broker starts");
    within_resume("A joins once the broker answers", || async {
        metric(&a.metrics().await, "lenscast_cluster_connected") == 1
    })
    .await;
    let b = TestServer::with(node_config(&broker, "b")).await;
    let mut remote = b.viewer(&room.room, "").await;
    let streaming = Streaming::start(publisher, Duration::from_millis(50), small_frame);
    let seen = remote.frame().await;
    frame_where(&mut remote, |f| f != seen.as_slice()).await;
    streaming.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_frame_limit_follows_a_broker_that_returns_with_other_limits() {
    let mut broker = cluster::broker().await;
    let a = TestServer::with(node_config(&broker, "a")).await;
    let room = a.create_room().await;
    // The default broker's 1 MB messages, less the headers' reserve.
    let one_mb = 1024 * 1024;
    let first = told_limit(&a, &room).await;
    assert!(first < one_mb && first > one_mb - 1024, "{first}");

    let small = 64 * 1024;
    broker.kill().await;
    broker.set_max_payload(Some(small));
    broker.restart().await.expect("the broker returns smaller");
    within_resume("the limit fits the smaller broker", || async {
        let limit = told_limit(&a, &room).await;
        limit < small as u64 && limit > small as u64 - 1024
    })
    .await;

    broker.kill().await;
    broker.set_max_payload(None);
    broker
        .restart()
        .await
        .expect("the broker returns as it was");
    within_resume("the limit is back up", || async {
        told_limit(&a, &room).await == first
    })
    .await;
}
