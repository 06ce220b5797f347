//! Idle rooms expire from memory (their ids stay valid and come back empty); tokio's
//! paused clock stands in for ten minutes of waiting.

use std::{path::PathBuf, time::Duration};

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use protocol::{RoomCreated, RoomState, rooms};
use serde::de::DeserializeOwned;
use server::{AppState, Config};
use tower::ServiceExt;

async fn status(app: &axum::Router, method: &str, uri: &str) -> (StatusCode, Body) {
    let res = app
        .clone()
        .oneshot(
            Request::builder()
                .method(method)
                .uri(uri)
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible router");
    let status = res.status();
    (status, res.into_body())
}

/// A JSON body read as the contract type it is.
async fn json<T: DeserializeOwned>(body: Body) -> T {
    let bytes = axum::body::to_bytes(body, 4096).await.expect("body");
    serde_json::from_slice(&bytes).expect("json")
}

#[tokio::test(start_paused = true)]
async fn rooms_without_publisher_or_viewers_expire() {
    let state = AppState::new(
        Config {
            room_idle: Duration::from_mins(10),
            ..Config::default()
        },
        PathBuf::from("dist"),
        PathBuf::from("static"),
    );
    let sweeper = server::spawn_sweeper(&state);
    let app = server::app(state.clone());
    let (code, body) = status(&app, "POST", "/api/rooms").await;
    assert_eq!(code, StatusCode::CREATED);
    let idle_room = json::<RoomCreated>(body).await.room;
    let (_, body) = status(&app, "POST", "/api/rooms").await;
    let watched_room = json::<RoomCreated>(body).await.room;

    // A viewer holds the second room open for as long as its stream body lives.
    let (code, stream) = status(&app, "GET", &rooms::stream_path(&watched_room)).await;
    assert_eq!(code, StatusCode::OK);

    tokio::time::sleep(Duration::from_secs(590)).await;
    assert!(state.room_in_memory(&idle_room));
    tokio::time::sleep(Duration::from_secs(200)).await;
    assert!(!state.room_in_memory(&idle_room), "idle room freed");
    assert!(state.room_in_memory(&watched_room), "watched room kept");
    // Asking about the freed room answers as for a room nobody has published to, and
    // does not bring it back into memory.
    let (code, body) = status(&app, "GET", &rooms::state_path(&idle_room)).await;
    assert_eq!(code, StatusCode::OK);
    let freed: RoomState = json(body).await;
    assert!(!freed.live);
    assert_eq!(freed.frames, 0);
    assert_eq!(freed.viewers, 0);
    assert!(!state.room_in_memory(&idle_room), "a GET allocates nothing");
    assert_eq!(state.rooms_in_memory(), 1);

    // Once the viewer leaves, the idle time starts again from then.
    drop(stream);
    tokio::time::sleep(Duration::from_secs(590)).await;
    assert!(state.room_in_memory(&watched_room));
    tokio::time::sleep(Duration::from_secs(200)).await;
    assert!(!state.room_in_memory(&watched_room));
    assert!(state.rooms_in_memory() == 0);

    // A viewer of a freed room brings it back; a made-up id stays unknown.
    let (code, _stream) = status(&app, "GET", &rooms::stream_path(&idle_room)).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(state.rooms_in_memory(), 1);
    let (code, _) = status(&app, "GET", &rooms::state_path(&"A".repeat(32))).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    sweeper.abort();
}

#[tokio::test(start_paused = true)]
async fn an_ended_room_stays_ended_until_it_expires() {
    let state = AppState::new(
        Config {
            room_idle: Duration::from_mins(10),
            ..Config::default()
        },
        PathBuf::from("dist"),
        PathBuf::from("static"),
    );
    let sweeper = server::spawn_sweeper(&state);
    let app = server::app(state.clone());
    let (_, body) = status(&app, "POST", "/api/rooms").await;
    let room: RoomCreated = json(body).await;
    let res = app
        .clone()
        .oneshot(
            Request::builder()
                .method("DELETE")
                .uri(rooms::state_path(&room.room))
                .header("authorization", rooms::bearer(&room.publish_token))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible router");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    tokio::time::sleep(Duration::from_secs(590)).await;
    let (_, body) = status(&app, "GET", &rooms::state_path(&room.room)).await;
    assert!(json::<RoomState>(body).await.ended, "ended until expiry");
    let (code, _) = status(&app, "GET", &rooms::stream_path(&room.room)).await;
    assert_eq!(code, StatusCode::GONE, "no viewer joins an ended room");

    // Expired, the id is a valid room nobody has published to (as after a restart).
    tokio::time::sleep(Duration::from_secs(200)).await;
    assert!(!state.room_in_memory(&room.room));
    let (_, body) = status(&app, "GET", &rooms::state_path(&room.room)).await;
    let fresh: RoomState = json(body).await;
    assert!(!fresh.ended && !fresh.live);
    sweeper.abort();
}
