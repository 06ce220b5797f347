//! HTTP handlers: rooms, stream, snapshot, viewer page, publish upgrade, health, metrics.

use std::{
    convert::Infallible,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
};

use axum::{
    Extension, Json,
    body::Body,
    extract::{
        ConnectInfo, Path, Query, State,
        ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection},
    },
    http::{HeaderMap, HeaderValue, Method, StatusCode, Version, header},
    response::{Html, IntoResponse, Response},
};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;

use crate::{
    AppState, client, direct, fanout,
    handoff::Handoff,
    metrics::Rejection,
    mjpeg, publish,
    room::{RoomError, Snapshot},
};

type Shared = State<Arc<AppState>>;

/// A JSON error body `{"error": message}` with `status`.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

fn unknown_room(state: &AppState) -> Response {
    state.metrics.reject(Rejection::UnknownRoom);
    error(StatusCode::NOT_FOUND, "no such room")
}

fn room_limit(state: &AppState, err: &RoomError) -> Response {
    state.metrics.reject(Rejection::RoomLimit);
    error(StatusCode::SERVICE_UNAVAILABLE, err.to_string())
}

/// Past the per-client rate: 429 with the whole seconds until the next room is allowed.
fn room_rate(state: &AppState, wait: std::time::Duration) -> Response {
    state.metrics.reject(Rejection::RoomRate);
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut res = error(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "more than {} rooms a minute from this address; retry in {secs} s",
            state.config.max_rooms_per_minute
        ),
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    res
}

/// The peer address comes from [`crate::run`]/[`crate::run_tls`]; a router served without
/// it (embedded, or in tests through `oneshot`) counts every request as one client.
pub async fn create_room(
    State(state): Shared,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Response {
    let peer = peer.map_or(
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        |Extension(ConnectInfo(addr))| addr.ip(),
    );
    let peer = client::client_ip(peer, &headers, &state.config.trusted_proxies);
    if let Err(wait) = state.room_creation.check(peer) {
        // Debug only: a client hammering the limit must not flood the log.
        tracing::debug!(%peer, "room creation over the rate limit");
        return room_rate(&state, wait);
    }
    match state.rooms.create(state.config.max_rooms) {
        Ok(room) => {
            tracing::info!(room = %room.id, "room created");
            let id = &room.id;
            let token = state.rooms.publish_token(id);
            (
                StatusCode::CREATED,
                Json(json!({
                    "room": id,
                    "publish_token": token,
                    "watch_url": format!("/watch/{id}"),
                    "stream_url": format!("/api/rooms/{id}/stream.mjpg"),
                    "snapshot_url": format!("/api/rooms/{id}/snapshot.jpg"),
                })),
            )
                .into_response()
        }
        Err(err @ RoomError::TooManyRooms(_)) => room_limit(&state, &err),
        Err(err) => error(StatusCode::INTERNAL_SERVER_ERROR, err.to_string()),
    }
}

/// A valid id that is not in memory (the server restarted, or the room idled out) is a
/// room nobody has published to yet; asking about it allocates nothing.
pub async fn room_state(State(state): Shared, Path(id): Path<String>) -> Response {
    if !state.rooms.is_valid_id(&id) {
        return unknown_room(&state);
    }
    let s = state
        .rooms
        .get(&id)
        .map_or_else(Snapshot::default, |room| room.snapshot());
    let (width, height) = s.dims.map_or((0, 0), |d| (d.width, d.height));
    let mut res = Json(json!({
        "room": id,
        "live": s.live,
        "viewers": s.viewers,
        "frames": s.frames,
        "fps": (s.fps * 10.0).round() / 10.0,
        "width": width,
        "height": height,
    }))
    .into_response();
    no_store(&mut res);
    res
}

fn no_store(res: &mut Response) {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

#[derive(Deserialize)]
pub struct StreamParams {
    fps: Option<f64>,
}

pub async fn stream(
    State(state): Shared,
    Path(id): Path<String>,
    Query(params): Query<StreamParams>,
    method: Method,
    version: Version,
    handoff: Option<Extension<Handoff>>,
) -> Response {
    let fps = match params.fps {
        Some(f) if !(f.is_finite() && f > 0.0) => {
            return error(StatusCode::BAD_REQUEST, "fps must be a positive number");
        }
        // Below one frame a minute is no stream; above 1000 the cap means nothing.
        f => f.map(|f| f.clamp(1.0 / 60.0, 1000.0)),
    };
    let headers = [
        (header::CONTENT_TYPE, mjpeg::CONTENT_TYPE),
        (header::CACHE_CONTROL, "no-store"),
        (header::HeaderName::from_static("x-accel-buffering"), "no"),
    ];
    // A HEAD asks what a stream would be, without becoming a viewer for a moment.
    if method == Method::HEAD {
        if !state.rooms.is_valid_id(&id) {
            return unknown_room(&state);
        }
        // A body of unknown length, as GET's is: an empty one would add `Content-Length: 0`.
        let none = futures_util::stream::empty::<Result<Bytes, Infallible>>();
        return (headers, Body::from_stream(none)).into_response();
    }
    // A valid id not in memory comes back, and the viewer waits for the publisher.
    let guard = match state.rooms.join_viewer(
        &id,
        state.config.max_rooms,
        state.config.max_viewers_per_room,
    ) {
        Ok(guard) => guard,
        Err(RoomError::Unknown) => return unknown_room(&state),
        Err(err @ RoomError::TooManyRooms(_)) => return room_limit(&state, &err),
        Err(err) => {
            state.metrics.reject(Rejection::ViewerLimit);
            return error(StatusCode::SERVICE_UNAVAILABLE, err.to_string());
        }
    };
    let body = match handoff {
        // Plain HTTP/1.1: after the head, the server writes the frames itself (zero-copy).
        Some(Extension(handoff)) if version == Version::HTTP_11 => {
            let services = state.fanout_services();
            handoff.after_head(move |socket| {
                if fps.is_none() {
                    fanout::join(socket, guard, &services);
                } else {
                    // Its own clock, its own task.
                    let viewer =
                        mjpeg::Viewer::new(guard, fps, services.shutdown.clone(), services.metrics);
                    services
                        .tasks
                        .spawn(direct::serve_capped_viewer(socket, viewer));
                }
            });
            Body::from_stream(futures_util::stream::pending::<Result<Bytes, Infallible>>())
        }
        _ => mjpeg::viewer_body(mjpeg::Viewer::new(
            guard,
            fps,
            state.shutdown.clone(),
            Arc::clone(&state.metrics),
        )),
    };
    (headers, body).into_response()
}

pub async fn snapshot(State(state): Shared, Path(id): Path<String>) -> Response {
    if !state.rooms.is_valid_id(&id) {
        return unknown_room(&state);
    }
    let Some(frame) = state.rooms.get(&id).and_then(|room| room.latest()) else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "no frame yet");
    };
    (
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        frame.jpeg.clone(),
    )
        .into_response()
}

/// The viewer page; the same page with 404 for an unknown room, so it can say so itself.
pub async fn watch_page(State(state): Shared, Path(id): Path<String>) -> Response {
    let status = if state.rooms.is_valid_id(&id) {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    match tokio::fs::read_to_string(state.static_dir.join("watch.html")).await {
        Ok(page) => {
            let mut res = (status, Html(page)).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            res
        }
        Err(err) => {
            tracing::error!(error = %err, dir = %state.static_dir.display(), "viewer page missing");
            error(StatusCode::INTERNAL_SERVER_ERROR, "viewer page missing")
        }
    }
}

#[derive(Deserialize)]
pub struct PublishParams {
    token: Option<String>,
}

/// Checks room and token before upgrading, so a bad token never gets a socket.
pub async fn publish(
    State(state): Shared,
    Path(id): Path<String>,
    Query(params): Query<PublishParams>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if !state.rooms.is_valid_id(&id) {
        return unknown_room(&state);
    }
    let Some(token) = params.token.filter(|t| !t.is_empty()) else {
        state.metrics.reject(Rejection::MissingToken);
        return error(StatusCode::UNAUTHORIZED, "publish token missing");
    };
    if !state.rooms.token_matches(&id, &token) {
        state.metrics.reject(Rejection::WrongToken);
        tracing::warn!(room = %id, "publish with a wrong token");
        return error(StatusCode::FORBIDDEN, "wrong publish token");
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    // Taking the slot (and bringing the room back into memory) happens here, under the
    // rooms' lock, so the idle sweep cannot drop the room between check and use; if the
    // upgrade never completes, the guard is dropped with the callback and frees the slot.
    let guard = match state.rooms.attach_publisher(&id, state.config.max_rooms) {
        Ok(guard) => guard,
        Err(err @ RoomError::TooManyRooms(_)) => return room_limit(&state, &err),
        Err(RoomError::Unknown) => return unknown_room(&state),
        Err(err) => return error(StatusCode::INTERNAL_SERVER_ERROR, err.to_string()),
    };
    let limit = state.config.max_frame_bytes;
    let task = state.tasks.token();
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| async move {
            publish::serve(socket, guard, state).await;
            drop(task);
        })
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn metrics(State(state): Shared) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
