//! Nodes joined through a real `nats-server`: frames cross the bus byte-identical and in
//! order, once per watching node; viewer counts, room state and snapshots are cluster-wide;
//! one publisher per room across the cluster; a room ended on one node is ended on all.

mod support;

use std::time::Duration;

use protocol::{ServerMessage, close, rooms};
use support::{
    Said,
    cluster::{self, Streaming, small_frame},
    eventually, metric, within,
};

#[tokio::test]
async fn frames_reach_other_nodes_byte_identical_and_in_order() {
    let broker = cluster::broker().await;
    let nodes = cluster::nodes(&broker, 2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    // Created on one node, published on it, watched on the other.
    let room = a.create_room().await;
    let mut viewer = b.viewer(&room.room, "").await;
    let mut publisher = a.publisher(&room).await;
    // The count is cluster-wide: B's viewer reaches A's publisher through B's presence.
    publisher.wait_viewers(1).await;

    let sent: Vec<Vec<u8>> = (0..20).map(|i| support::jpeg(96, 64, i, true)).collect();
    for jpeg in &sent {
        publisher.send_jpeg(jpeg).await;
        // Paced like a camera, so the viewer (newest frame only) has no reason to skip.
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let mut received = Vec::new();
    while received.len() < sent.len() {
        received.push(viewer.frame().await);
    }
    assert!(
        received == sent,
        "B's viewer got the published JPEGs, identical and in order"
    );
    let (ma, mb) = (a.metrics().await, b.metrics().await);
    assert_eq!(metric(&ma, "lenscast_cluster_bus_frames_out_total"), 20);
    assert_eq!(metric(&mb, "lenscast_cluster_bus_frames_in_total"), 20);
    assert_eq!(metric(&mb, "lenscast_cluster_frames_missing_total"), 0);
    let bytes: usize = sent.iter().map(Vec::len).sum();
    assert_eq!(
        metric(&mb, "lenscast_cluster_bus_bytes_in_total"),
        bytes as u64
    );
    assert_eq!(metric(&ma, "lenscast_cluster_connected"), 1);
    assert_eq!(metric(&ma, "lenscast_cluster_remote_viewers"), 1);
}

#[tokio::test]
async fn viewer_counts_and_room_state_are_cluster_wide() {
    let broker = cluster::broker().await;
    let nodes = cluster::nodes(&broker, 3).await;
    let room = nodes[1].create_room().await;
    let _on_a = nodes[0].viewer(&room.room, "").await;
    let on_b = [
        nodes[1].viewer(&room.room, "").await,
        nodes[1].viewer(&room.room, "").await,
    ];
    let _on_c = nodes[2].viewer(&room.room, "").await;
    let mut publisher = nodes[0].publisher(&room).await;
    publisher.wait_viewers(4).await;
    let streaming = Streaming::start(publisher, Duration::from_millis(50), small_frame);

    for node in &nodes {
        eventually("every node reports the cluster-wide room state", || async {
            let state = node.room_state(&room.room).await;
            state.live
                && state.viewers == 4
                && (state.width, state.height) == (64, 48)
                && state.fps > 5.0
        })
        .await;
    }
    drop(on_b);
    for node in &nodes {
        eventually("B's viewers leave the count everywhere", || async {
            node.room_state(&room.room).await.viewers == 2
        })
        .await;
    }
    let mut publisher = streaming.stop().await;
    publisher.wait_viewers(2).await;
    drop(publisher);
    for node in &nodes {
        eventually("the room is offline everywhere", || async {
            !node.room_state(&room.room).await.live
        })
        .await;
    }
}

#[tokio::test]
async fn a_node_without_viewers_serves_the_snapshot_from_the_publishers_node() {
    let broker = cluster::broker().await;
    let nodes = cluster::nodes(&broker, 3).await;
    let room = nodes[0].create_room().await;
    let snapshot = |node: usize| {
        let client = &nodes[node];
        let path = rooms::snapshot_path(&room.room);
        async move { client.get(&path).await }
    };
    assert_eq!(snapshot(2).await.status(), 503, "no frame anywhere yet");

    let mut publisher = nodes[0].publisher(&room).await;
    let jpeg = support::jpeg(80, 60, 3, true);
    publisher.send_jpeg(&jpeg).await;
    // Wait until A has the frame; then C, which has neither viewer nor publisher, asks A.
    eventually("A has the frame", || async {
        snapshot(0).await.status() == 200
    })
    .await;
    let res = snapshot(2).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.bytes().await.expect("body").as_ref(), &jpeg[..]);
    assert!(
        !nodes[2].state.room_in_memory(&room.room),
        "asking holds no room on C"
    );
}

#[tokio::test]
async fn a_publisher_on_another_node_replaces_the_first() {
    let broker = cluster::broker().await;
    let nodes = cluster::nodes(&broker, 3).await;
    let room = nodes[0].create_room().await;
    let mut viewer = nodes[2].viewer(&room.room, "").await;
    let mut first = nodes[0].publisher(&room).await;
    first.wait_viewers(1).await;
    let mut second = nodes[1].publisher(&room).await;
    loop {
        match first.next().await {
            Said::Message(_) => {}
            Said::Closed(code, reason) => {
                assert_eq!(code, close::REPLACED_CODE);
                assert_eq!(reason, close::REPLACED.reason);
                break;
            }
            Said::Ended => panic!("closed without the replacement's code"),
        }
    }
    // The viewer on C, on the same connection, now sees the second publisher's frames.
    second.wait_viewers(1).await;
    let jpeg = support::jpeg(64, 64, 9, true);
    let streaming = Streaming::start(second, Duration::from_millis(50), |_| {
        support::jpeg(64, 64, 9, true)
    });
    assert_eq!(viewer.frame().await, jpeg);
    let mut second = streaming.stop().await;
    second.send_message(&protocol::ClientMessage::Ping).await;
    loop {
        match second.next().await {
            Said::Message(ServerMessage::Pong) => break,
            Said::Message(_) => {}
            other => panic!("the new publisher stays: {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_bus_carries_one_copy_per_watching_node_and_none_without_one() {
    let broker = cluster::broker().await;
    let nodes = cluster::nodes(&broker, 3).await;
    let room = nodes[0].create_room().await;

    // Only local viewers: nothing goes on the bus.
    let local = nodes[0].viewer(&room.room, "").await;
    let mut publisher = nodes[0].publisher(&room).await;
    publisher.wait_viewers(1).await;
    for i in 0..5 {
        publisher.send_jpeg(&small_frame(i)).await;
    }
    let mut local = local;
    // All five are through A before anyone else watches.
    while local.frame().await != small_frame(4) {}
    assert_eq!(
        metric(
            &nodes[0].metrics().await,
            "lenscast_cluster_bus_frames_out_total"
        ),
        0
    );

    // Five viewers on B and five on C: two copies of each frame, one per node.
    let mut viewers = Vec::new();
    for node in &nodes[1..] {
        for _ in 0..5 {
            viewers.push(node.viewer(&room.room, "").await);
        }
    }
    publisher.wait_viewers(11).await;
    let subs: serde_json::Value = reqwest::get(broker.monitor_url("/subsz?subs=1"))
        .await
        .expect("broker monitoring")
        .json()
        .await
        .expect("subsz JSON");
    let frame_subject = protocol::cluster::frame_subject(&room.room);
    let on_frames = subs["subscriptions_list"]
        .as_array()
        .expect("subscriptions_list")
        .iter()
        .filter(|s| s["subject"] == frame_subject.as_str())
        .count();
    assert_eq!(on_frames, 2, "one subscription per watching node: {subs}");

    let frames = 10;
    for i in 0..frames {
        publisher.send_jpeg(&small_frame(100 + i)).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    for viewer in &mut viewers {
        while viewer.frame().await != small_frame(100 + frames - 1) {}
    }
    let out = metric(
        &nodes[0].metrics().await,
        "lenscast_cluster_bus_frames_out_total",
    );
    let ins: Vec<u64> = futures_util::future::join_all(
        nodes[1..]
            .iter()
            .map(|n| async { metric(&n.metrics().await, "lenscast_cluster_bus_frames_in_total") }),
    )
    .await;
    assert_eq!(
        out,
        u64::from(frames),
        "A publishes each frame once ({ins:?} in)"
    );
    for node in &nodes[1..] {
        assert_eq!(
            metric(
                &node.metrics().await,
                "lenscast_cluster_bus_frames_in_total"
            ),
            u64::from(frames),
            "each watching node receives each frame once, whatever its viewers"
        );
    }

    // The remote viewers leave: A stops putting frames on the bus.
    drop(viewers);
    publisher.wait_viewers(1).await;
    eventually("A hears that nobody else watches", || async {
        metric(&nodes[0].metrics().await, "lenscast_cluster_remote_viewers") == 0
    })
    .await;
    for i in 0..5 {
        publisher.send_jpeg(&small_frame(200 + i)).await;
    }
    while local.frame().await != small_frame(204) {}
    assert_eq!(
        metric(
            &nodes[0].metrics().await,
            "lenscast_cluster_bus_frames_out_total"
        ),
        u64::from(frames),
        "nothing more on the bus"
    );
}

/// Waits for the publisher's close frame, skipping messages before it.
async fn closed(publisher: &mut support::Publisher) -> (u16, String) {
    loop {
        match publisher.next().await {
            Said::Message(_) => {}
            Said::Closed(code, reason) => return (code, reason),
            Said::Ended => panic!("closed without a close frame"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_ended_on_one_node_ends_on_every_node() {
    let broker = cluster::broker().await;
    let nodes = cluster::nodes(&broker, 3).await;
    let (a, b, c) = (&nodes[0], &nodes[1], &nodes[2]);
    let room = a.create_room().await;
    let mut on_a = a.viewer(&room.room, "").await;
    let mut on_b = b.viewer(&room.room, "").await;
    let mut publisher = a.publisher(&room).await;
    publisher.wait_viewers(2).await;
    let frame = support::jpeg(64, 48, 1, false);
    publisher.send_jpeg(&frame).await;
    assert_eq!(on_a.frame().await, frame);
    assert_eq!(on_b.frame().await, frame);

    // Ended on B, which has neither the publisher nor the room's creation: the token is
    // checked there, and a wrong one changes nothing anywhere.
    let delete = |token: &str| {
        b.http
            .delete(b.url(&rooms::state_path(&room.room)))
            .header("authorization", rooms::bearer(token))
            .send()
    };
    let wrong = delete("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await
        .expect("DELETE");
    assert_eq!(wrong.status(), 403);
    assert!(!a.room_state(&room.room).await.ended);
    let res = delete(&room.publish_token).await.expect("DELETE");
    assert_eq!(res.status(), 204);

    // A's publisher gets the normal close, as if the room had been ended on A.
    assert_eq!(
        closed(&mut publisher).await,
        (close::ENDED.code, close::ENDED.reason.to_owned())
    );
    // Every viewer's stream ends cleanly: A's (fed by the publisher) and B's (fed from the
    // bus).
    for viewer in [&mut on_a, &mut on_b] {
        assert_eq!(within("end of stream", viewer.next_frame()).await, None);
        assert_eq!(viewer.broken, None, "the body ended cleanly");
    }
    // C, which never had the room, holds it as ended too: no stream, no publisher.
    for node in &nodes {
        eventually("every node says the room ended", || async {
            let state = node.room_state(&room.room).await;
            state.ended && !state.live
        })
        .await;
    }
    eventually("C refuses the room's stream", || async {
        c.get(&rooms::stream_path(&room.room)).await.status() == 410
    })
    .await;
    let mut late = c.publisher(&room).await;
    assert_eq!(
        late.next().await,
        Said::Closed(close::ROOM_ENDED.code, close::ROOM_ENDED.reason.to_owned())
    );
    for node in [a, b] {
        assert_eq!(
            node.get(&rooms::stream_path(&room.room)).await.status(),
            410
        );
    }
    let json: serde_json::Value = c
        .get(&rooms::state_path(&room.room))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(json["ended"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_presence_larger_than_one_bus_message_is_split_and_heard_whole() {
    // 120 rooms in use say about 13 KB of presence: three times this broker's messages.
    let broker = testkit::nats::NatsServer::with_max_payload(8 * 1024)
        .await
        .expect("nats-server with a config file");
    let a = support::TestServer::with(server::Config {
        max_rooms_per_minute: std::num::NonZeroU32::new(1000).expect("not zero"),
        ..cluster::node_config(&broker, "a")
    })
    .await;
    let b = support::TestServer::with(cluster::node_config(&broker, "b")).await;
    let mut rooms = Vec::new();
    let mut publishers = Vec::new();
    for _ in 0..120 {
        let room = a.create_room().await;
        publishers.push(a.publisher(&room).await);
        rooms.push(room);
    }
    for room in &rooms {
        eventually("B hears of every publisher on A", || async {
            b.room_state(&room.room).await.live
        })
        .await;
    }
    // And the rooms still work across the bus: a viewer on B gets A's frames.
    let last = rooms.last().expect("120 rooms");
    let mut viewer = b.viewer(&last.room, "").await;
    let publisher = publishers.pop().expect("120 publishers");
    let streaming = Streaming::start(publisher, Duration::from_millis(50), small_frame);
    viewer.frame().await;
    streaming.stop().await;
}
