//! Idle rooms expire; tokio's paused clock stands in for ten minutes of waiting.

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
    assert_eq!(
        status(&app, "GET", &format!("/api/rooms/{idle_room}"))
            .await
            .0,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_secs(200)).await;
    assert_eq!(
        status(&app, "GET", &format!("/api/rooms/{idle_room}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(&app, "GET", &format!("/api/rooms/{watched_room}"))
            .await
            .0,
        StatusCode::OK
    );

    // Once the viewer leaves, the idle time starts again from then.
    drop(stream);
    tokio::time::sleep(Duration::from_secs(590)).await;
    assert_eq!(
        status(&app, "GET", &format!("/api/rooms/{watched_room}"))
            .await
            .0,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_secs(200)).await;
    assert_eq!(
        status(&app, "GET", &format!("/api/rooms/{watched_room}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert!(state.rooms.is_empty());
    sweeper.abort();
}
