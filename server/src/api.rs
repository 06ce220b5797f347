//! HTTP handlers: rooms, stream, snapshot, viewer page, publish upgrade, health, metrics.
//! Refusals are [`ApiError`]s, counted by [`refuse`] as they go out.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
};

use axum::{
    Extension, Json,
    extract::{
        ConnectInfo, Path, Query, State,
        ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection},
    },
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, Version, header},
    response::{Html, IntoResponse, Response},
};
use protocol::{RoomCreated, RoomState};
use serde::Deserialize;

use crate::{
    client, error::ApiError, origin, publish, rooms::RoomError, state::AppState, stream,
    stream::handoff::Handoff, write_deadline::WriteDeadline,
};

type Shared = State<Arc<AppState>>;

/// The viewer page loads only its own files and talks only to this server; no inline code.
const VIEWER_PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' blob:; connect-src 'self' blob:; base-uri 'none'; form-action 'none'";

/// Counts a refusal in the metrics on its way out.
fn refuse(state: &AppState, err: impl Into<ApiError>) -> ApiError {
    let err = err.into();
    if let Some(rejection) = err.rejection() {
        state.metrics.reject(rejection);
    }
    err
}

/// Refuses requests from pages of other origins ([`origin`]).
fn same_origin(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Result<(), ApiError> {
    if origin::allowed(headers, uri, &state.config.cors_origins) {
        Ok(())
    } else {
        Err(refuse(state, ApiError::ForeignOrigin))
    }
}

/// A valid room id, or the refusal of an unknown one.
fn known_room(state: &AppState, id: &str) -> Result<(), ApiError> {
    if state.rooms.is_valid_id(id) {
        Ok(())
    } else {
        Err(refuse(state, ApiError::UnknownRoom))
    }
}

/// The client for the per-client limits. The peer address comes from [`crate::run`]/
/// [`crate::run_tls`]; a router served without it (embedded, or in tests through `oneshot`)
/// counts every request as one client.
fn client_of(
    state: &AppState,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
) -> IpAddr {
    let peer = peer.map_or(
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        |Extension(ConnectInfo(addr))| addr.ip(),
    );
    client::client_ip(peer, headers, &state.config.trusted_proxies)
}

pub async fn create_room(
    State(state): Shared,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<RoomCreated>), ApiError> {
    same_origin(&state, &headers, &uri)?;
    let peer = client_of(&state, peer, &headers);
    if let Err(wait) = state.room_creation.check(peer) {
        // Debug only: a client hammering the limit must not flood the log.
        tracing::debug!(%peer, "room creation over the rate limit");
        let per_minute = state.config.max_rooms_per_minute.get();
        return Err(refuse(&state, ApiError::RoomRate { per_minute, wait }));
    }
    let room = state
        .rooms
        .create(state.config.max_rooms)
        .map_err(|err| refuse(&state, err))?;
    tracing::info!(room = %room.id, "room created");
    let token = state.rooms.publish_token(&room.id);
    Ok((
        StatusCode::CREATED,
        Json(RoomCreated::new(room.id.clone(), token)),
    ))
}

/// A valid id that is not in memory (the server restarted, or the room idled out) is a
/// room nobody has published to yet; asking about it allocates nothing.
pub async fn room_state(
    State(state): Shared,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    known_room(&state, &id)?;
    let local = state.rooms.get(&id).map(|room| room.state());
    let room_state = match state.cluster() {
        Some(cluster) => cluster.room_state(&id, local),
        None => local.unwrap_or_else(|| RoomState::empty(id)),
    };
    let mut res = Json(room_state).into_response();
    no_store(&mut res);
    Ok(res)
}

fn no_store(res: &mut Response) {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

#[derive(Deserialize)]
pub struct StreamParams {
    fps: Option<f64>,
}

/// Nothing here awaits: the stream may take the connection over once the head is written,
/// and [`stream::respond`]'s answer cannot be held across an `.await` (it is not `Send`).
#[expect(clippy::too_many_arguments, reason = "one axum extractor each")]
pub async fn stream(
    State(state): Shared,
    Path(id): Path<String>,
    Query(params): Query<StreamParams>,
    method: Method,
    version: Version,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    handoff: Option<Extension<Handoff>>,
    deadline: Option<Extension<WriteDeadline>>,
) -> Result<Response, ApiError> {
    let fps = match params.fps {
        Some(f) if !(f.is_finite() && f > 0.0) => {
            return Err(ApiError::BadRequest("fps must be a positive number"));
        }
        // Below one frame a minute is no stream; above 1000 the cap means nothing.
        f => f.map(|f| f.clamp(1.0 / 60.0, 1000.0)),
    };
    if method == Method::HEAD {
        known_room(&state, &id)?;
        return Ok(stream::head());
    }
    let client = client_of(&state, peer, &headers);
    let Some(address_slot) = state.viewer_slots.try_take(client) else {
        tracing::debug!(%client, "stream over the per-address cap");
        let max = state.config.max_viewers_per_address;
        return Err(refuse(&state, ApiError::AddressViewerLimit(max)));
    };
    // A valid id not in memory comes back, and the viewer waits for the publisher.
    let guard = state
        .rooms
        .join_viewer(
            &id,
            state.config.max_rooms,
            state.config.max_viewers_per_room,
            // A viewer holds a room's memory without any token: bringing one back costs
            // the client a room from its creation rate.
            || state.room_creation.check(client).is_ok(),
        )
        .map_err(|err| refuse(&state, err))?
        .holding(address_slot);
    if let Some(cluster) = state.cluster() {
        cluster.viewer_joined(&guard.room);
    }
    let connection = (
        handoff.map(|Extension(handoff)| handoff),
        deadline.map(|Extension(deadline)| deadline),
    );
    Ok(stream::respond(guard, fps, version, connection, &state.stream_services()).into_response())
}

pub async fn snapshot(State(state): Shared, Path(id): Path<String>) -> Result<Response, ApiError> {
    known_room(&state, &id)?;
    let local = state
        .rooms
        .get(&id)
        .and_then(|room| room.latest())
        .map(|frame| frame.jpeg.clone());
    // A node without viewers of the room has no frame of it: ask the publisher's node.
    let jpeg = match (local, state.cluster()) {
        (Some(jpeg), _) => jpeg,
        (None, Some(cluster)) => cluster.snapshot(&id).await.ok_or(ApiError::NoFrameYet)?,
        (None, None) => return Err(ApiError::NoFrameYet),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, stream::IMAGE_CSP),
        ],
        jpeg,
    )
        .into_response())
}

/// The viewer page; the same page with 404 for an unknown room, so it can say so itself.
pub async fn watch_page(
    State(state): Shared,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let status = if state.rooms.is_valid_id(&id) {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    match tokio::fs::read_to_string(state.static_dir.join("watch.html")).await {
        Ok(page) => {
            let mut res = (status, Html(page)).into_response();
            let headers = res.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(VIEWER_PAGE_CSP),
            );
            Ok(res)
        }
        Err(err) => {
            tracing::error!(error = %err, dir = %state.static_dir.display(), "viewer page missing");
            Err(ApiError::Internal("viewer page missing".to_owned()))
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
    uri: Uri,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    known_room(&state, &id)?;
    same_origin(&state, &headers, &uri)?;
    let Some(token) = params.token.filter(|t| !t.is_empty()) else {
        return Err(refuse(&state, ApiError::MissingToken));
    };
    if !state.rooms.token_matches(&id, &token) {
        if let Some(left_out) = state.wrong_token_log.check() {
            tracing::warn!(room = %id, left_out, "publish with a wrong token (left_out: since the last such line)");
        }
        return Err(refuse(&state, ApiError::WrongToken));
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return Ok(rejection.into_response()),
    };
    // Taking the slot (and bringing the room back into memory) happens here, under the
    // rooms' lock, so the idle sweep cannot drop the room between check and use; if the
    // upgrade never completes, the guard is dropped with the callback and frees the slot.
    let guard = match state.rooms.attach_publisher(&id, state.config.max_rooms) {
        Ok(guard) => guard,
        Err(RoomError::Ended) => {
            let task = state.tasks.token();
            return Ok(ws.on_upgrade(move |socket| async move {
                publish::refuse_ended(socket).await;
                drop(task);
            }));
        }
        Err(err) => return Err(refuse(&state, err)),
    };
    if let Some(cluster) = state.cluster() {
        cluster.publisher_joined(&guard.room, guard.generation);
    }
    let limit = state.max_frame_bytes();
    let task = state.tasks.token();
    Ok(ws
        .max_message_size(limit)
        .max_frame_size(limit)
        // Replies are small: write each at once, and queue no more than the bound for a
        // client that does not read.
        .write_buffer_size(0)
        .max_write_buffer_size(state.config.max_ws_write_buffer_bytes)
        .on_upgrade(move |socket| async move {
            publish::serve(socket, guard, state).await;
            drop(task);
        }))
}

/// The publish token from `Authorization: Bearer <token>`; `None` when there is none.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// `DELETE /api/rooms/{room}`: the publisher ends its room. The token is checked as the
/// publish upgrade checks it (missing 401, wrong 403, with the same rate-limited log line).
pub async fn end_room(
    State(state): Shared,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    known_room(&state, &id)?;
    same_origin(&state, &headers, &uri)?;
    let Some(token) = bearer_token(&headers) else {
        return Err(refuse(&state, ApiError::MissingToken));
    };
    if !state.rooms.token_matches(&id, token) {
        if let Some(left_out) = state.wrong_token_log.check() {
            tracing::warn!(room = %id, left_out, "room end with a wrong token (left_out: since the last such line)");
        }
        return Err(refuse(&state, ApiError::WrongToken));
    }
    state
        .rooms
        .end(&id, state.config.max_rooms)
        .map_err(|err| refuse(&state, err))?;
    tracing::info!(room = %id, "room ended by its publisher");
    if let Some(cluster) = state.cluster() {
        cluster.room_ended(&id);
    }
    Ok(StatusCode::NO_CONTENT)
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
