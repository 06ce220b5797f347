//! Idle rooms expire from memory (their ids stay valid and come back empty); tokio's
//! paused clock stands in for ten minutes of waiting.

use std::{path::PathBuf, time::Duration};

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
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
    let bytes = axum::body::to_bytes(body, 4096).await.expect("body");
    let json: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    let idle_room = json["room"].as_str().expect("room").to_owned();
    let (_, body) = status(&app, "POST", "/api/rooms").await;
    let bytes = axum::body::to_bytes(body, 4096).await.expect("body");
    let json: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    let watched_room = json["room"].as_str().expect("room").to_owned();

    // A viewer holds the second room open for as long as its stream body lives.
    let (code, stream) = status(
        &app,
        "GET",
        &format!("/api/rooms/{watched_room}/stream.mjpg"),
    )
    .await;
    assert_eq!(code, StatusCode::OK);

    tokio::time::sleep(Duration::from_secs(590)).await;
    assert!(state.room_in_memory(&idle_room));
    tokio::time::sleep(Duration::from_secs(200)).await;
    assert!(!state.room_in_memory(&idle_room), "idle room freed");
    assert!(state.room_in_memory(&watched_room), "watched room kept");
    // Asking about the freed room answers as for a room nobody has published to, and
    // does not bring it back into memory.
    let (code, body) = status(&app, "GET", &format!("/api/rooms/{idle_room}")).await;
    assert_eq!(code, StatusCode::OK);
    let bytes = axum::body::to_bytes(body, 4096).await.expect("body");
    let json: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(json["live"], false);
    assert_eq!(json["frames"], 0);
    assert_eq!(json["viewers"], 0);
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
    let (code, _stream) = status(&app, "GET", &format!("/api/rooms/{idle_room}/stream.mjpg")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(state.rooms_in_memory(), 1);
    let (code, _) = status(&app, "GET", &format!("/api/rooms/{}", "A".repeat(32))).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    sweeper.abort();
}
