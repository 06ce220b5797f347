//! `DELETE /api/rooms/{room}`: the publisher ends its room. Right, wrong and missing
//! tokens, unknown rooms, the publisher's normal close, viewers' streams ending, and the
//! ended state that refuses later publishers and viewers.

mod support;

use protocol::{RoomState, close, rooms};
use support::{Said, TestServer, jpeg, metric, within};

async fn delete(server: &TestServer, room: &str, authorization: Option<&str>) -> (u16, String) {
    let mut req = server.http.delete(server.url(&rooms::state_path(room)));
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    let res = req.send().await.expect("DELETE room");
    let status = res.status().as_u16();
    (status, res.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_publisher_ends_its_room_and_everyone_hears_of_it() {
    let server = TestServer::start().await;
    let (room, mut publisher) = server.live_room().await;
    // Both ways a plain-HTTP viewer is served: the shared fan-out and a capped socket.
    let mut viewer = server.viewer(&room.room, "").await;
    let mut capped = server.viewer(&room.room, "?fps=30").await;
    publisher.wait_viewers(2).await;
    let f = jpeg(64, 48, 1, false);
    publisher.send_jpeg(&f).await;
    assert_eq!(viewer.frame().await, f);
    assert_eq!(capped.frame().await, f);

    let (status, body) = delete(
        &server,
        &room.room,
        Some(&rooms::bearer(&room.publish_token)),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    assert!(body.is_empty());

    // The publisher gets a normal close with the reason.
    loop {
        match publisher.next().await {
            Said::Message(_) => {}
            Said::Closed(code, reason) => {
                assert_eq!(
                    (code, reason.as_str()),
                    (close::ENDED.code, close::ENDED.reason)
                );
                assert_eq!(code, 1000);
                break;
            }
            Said::Ended => panic!("closed without a close frame"),
        }
    }
    // Viewers' streams end cleanly between parts.
    assert_eq!(within("end of stream", viewer.next_frame()).await, None);
    assert_eq!(viewer.broken, None, "the body ended cleanly");
    assert_eq!(
        within("end of capped stream", capped.next_frame()).await,
        None
    );
    assert_eq!(capped.broken, None);

    let state: RoomState = server.room_state(&room.room).await;
    assert!(state.ended);
    assert!(!state.live);
    assert_eq!(state.frames, 1, "the counters stay readable");
    support::eventually("viewers gone", || async {
        server.room_state(&room.room).await.viewers == 0
    })
    .await;
    let json: serde_json::Value = server
        .get(&rooms::state_path(&room.room))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(json["ended"], true);
    assert_eq!(json["live"], false);

    // Ended means ended: no new viewer, no new publisher (told why, in its close frame).
    let res = server.get(&rooms::stream_path(&room.room)).await;
    assert_eq!(res.status(), 410);
    assert_eq!(
        res.json::<protocol::ErrorBody>().await.expect("json").error,
        "the broadcast has ended"
    );
    let mut late = server.publisher(&room).await;
    assert_eq!(
        late.next().await,
        Said::Closed(close::ROOM_ENDED.code, close::ROOM_ENDED.reason.to_owned())
    );
    assert!(server.room_state(&room.room).await.ended);
    // Ending it again is no error.
    let (status, _) = delete(
        &server,
        &room.room,
        Some(&rooms::bearer(&room.publish_token)),
    )
    .await;
    assert_eq!(status, 204);

    // Other rooms are untouched.
    let (other, mut other_pub) = server.live_room().await;
    let mut other_viewer = server.viewer(&other.room, "").await;
    other_pub.wait_viewers(1).await;
    other_pub.send_jpeg(&f).await;
    assert_eq!(other_viewer.frame().await, f);
    assert!(!server.room_state(&other.room).await.ended);
    server.shutdown().await;
}

#[tokio::test]
async fn wrong_missing_and_unknown_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let (room, mut publisher) = server.live_room().await;
    let other = server.create_room().await;

    for wrong in [
        rooms::bearer(&other.publish_token),
        rooms::bearer("x"),
        rooms::bearer(&format!("{}x", room.publish_token)),
    ] {
        let (status, body) = delete(&server, &room.room, Some(&wrong)).await;
        assert_eq!(status, 403, "{wrong}");
        assert_eq!(body, r#"{"error":"wrong publish token"}"#);
    }
    for missing in [
        None,
        Some(""),
        Some("Bearer "),
        Some("Bearer"),
        Some(room.publish_token.as_str()),
    ] {
        let (status, body) = delete(&server, &room.room, missing).await;
        assert_eq!(status, 401, "{missing:?}");
        assert_eq!(body, r#"{"error":"publish token missing"}"#);
    }
    // The scheme is case-insensitive, as HTTP says; Basic is not Bearer.
    let basic = format!("Basic {}", room.publish_token);
    assert_eq!(delete(&server, &room.room, Some(&basic)).await.0, 401);
    for unknown in ["A".repeat(32), "nope".to_owned()] {
        let (status, body) =
            delete(&server, &unknown, Some(&rooms::bearer(&room.publish_token))).await;
        assert_eq!(status, 404);
        assert_eq!(body, r#"{"error":"no such room"}"#);
    }
    let state = server.room_state(&room.room).await;
    assert!(
        state.live && !state.ended,
        "refusals end nothing: {state:?}"
    );
    // The publisher is still there and hears viewers.
    let _viewer = server.viewer(&room.room, "").await;
    publisher.wait_viewers(1).await;
    let metrics = server.metrics().await;
    assert_eq!(
        metric(&metrics, r#"lenscast_rejected_total{kind="WrongToken"}"#),
        3
    );
    assert_eq!(
        metric(&metrics, r#"lenscast_rejected_total{kind="MissingToken"}"#),
        6
    );

    let lower = format!("bearer {}", room.publish_token);
    assert_eq!(delete(&server, &room.room, Some(&lower)).await.0, 204);
    assert!(server.room_state(&room.room).await.ended);
    server.shutdown().await;
}

#[tokio::test]
async fn a_room_not_in_memory_can_be_ended_too() {
    let server = TestServer::start().await;
    let room = server.create_room().await;
    // Never used: it may or may not be in memory; either way it reads as ended afterwards.
    let (status, _) = delete(
        &server,
        &room.room,
        Some(&rooms::bearer(&room.publish_token)),
    )
    .await;
    assert_eq!(status, 204);
    assert!(server.room_state(&room.room).await.ended);
    assert!(server.state.room_in_memory(&room.room));
    server.shutdown().await;
}

#[tokio::test]
async fn a_restart_forgets_that_a_room_ended() {
    let secret = server::secret::Secret::random().expect("random");
    let config = || server::Config {
        secret: secret.clone(),
        ..server::Config::default()
    };
    let first = TestServer::with(config()).await;
    let room = first.create_room().await;
    let (status, _) = delete(
        &first,
        &room.room,
        Some(&rooms::bearer(&room.publish_token)),
    )
    .await;
    assert_eq!(status, 204);
    assert!(first.room_state(&room.room).await.ended);
    first.shutdown().await;

    // The mark lived in memory only: the same secret knows the id, as a room nobody used.
    let second = TestServer::with(config()).await;
    let state = second.room_state(&room.room).await;
    assert!(!state.ended && !state.live, "{state:?}");
    let mut publisher = second.publisher(&room).await;
    publisher.wait_viewers(0).await;
    assert!(second.room_state(&room.room).await.live);
    second.shutdown().await;
}
