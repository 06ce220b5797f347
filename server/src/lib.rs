//! lenscast server: rooms, WebSocket ingest of JPEG frames, MJPEG fan-out to many viewers.
//! The public contract it serves is `docs/PROTOCOL.md`; its messages are the `protocol`
//! crate's types.
//!
//! Modules, in the order a frame passes through them:
//! - [`api`](crate::api): the HTTP handlers, one error type ([`error`](crate::error)) for
//!   their refusals.
//! - `publish`: a publisher's WebSocket. Each binary message is checked by [`jpeg`] (markers
//!   and frame header, never pixels) and handed to its room.
//! - `rooms` (the map, restoring valid ids on demand) and `room` (one room: the latest
//!   frame in a `watch`, the viewer count, the publisher slot). A published JPEG is framed
//!   once into a `stream::wire::Frame` (the multipart part inside its HTTP chunk, one
//!   `bytes::Bytes`).
//! - [`stream`]: delivering a room's stream to one viewer, behind one entry point. Each
//!   viewer takes the newest frame whenever its connection can take one, so a slow viewer
//!   skips frames and never holds more than the latest. Plain HTTP/1.1 viewers are taken
//!   over from hyper after the response head and served by their room's fan-out pass, from
//!   one in-memory copy of each frame.
//! - `serve`: the plain-HTTP accept loop (hyper HTTP/1.1) that makes the handover
//!   possible; [`tls`]: rustls (HTTP/2 or HTTP/1.1, where hyper writes frames as a body),
//!   behind the same per-address cap and timeouts; `write_deadline`: the write-progress
//!   deadline of viewers whose frames hyper writes.
//! - `capability`: room ids and publish tokens are MACs under the server [`secret`], so
//!   they stay valid across restarts without any storage.
//! - [`config`]: every limit with its default; `limits`: the rate limits (rooms created per
//!   client address, frames per second per publisher); `client`: the client address, also
//!   behind trusted reverse proxies; `origin`: which web pages may create rooms and publish; `per_address`: what one client
//!   address may hold at once (connections, streams); `metrics`: Prometheus counters; `assets`: `dist/` and
//!   `static/`; `memory`: free memory back to the system after bursts; `state`: what the handlers share ([`AppState`]).
//!
//! - `cluster`: several nodes joined through NATS (`--cluster-url`): frames cross the bus
//!   once per watching node, viewer counts and room state are cluster-wide, one publisher
//!   per room across the cluster.
//!
//! [`run`] and [`run_tls`] serve [`app`] until a shutdown future resolves; the idle-room
//! sweep runs beside them.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod config;
/// Public for the fuzz target of the JPEG check (`fuzz/`).
pub mod jpeg;
pub mod secret;
pub mod stream;
pub mod tls;

mod api;
mod assets;
mod capability;
mod client;
mod cluster;
mod error;
mod limits;
mod memory;
mod metrics;
mod origin;
mod per_address;
mod publish;
mod room;
mod rooms;
mod serve;
mod state;
mod write_deadline;

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    extract::Request,
    http::{HeaderValue, Method, StatusCode, header},
    routing::{any, get, post},
};
use tokio::net::TcpListener;
use tower_http::{
    cors::{AllowOrigin, Any, CorsLayer},
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

pub use config::Config;
pub use state::AppState;

/// How long streams and sockets get to finish after shutdown starts.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The whole HTTP surface.
pub fn app(state: Arc<AppState>) -> Router {
    let cors = cors(&state.config.cors_origins);
    let router = Router::new()
        .route("/api/rooms", post(api::create_room))
        .route(
            "/api/rooms/{room}",
            get(api::room_state).delete(api::end_room),
        )
        .route("/api/rooms/{room}/stream.mjpg", get(api::stream))
        .route("/api/rooms/{room}/snapshot.jpg", get(api::snapshot))
        .route("/ws/rooms/{room}/publish", get(api::publish))
        .route("/watch/{room}", get(api::watch_page))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        // Unknown API paths are errors, not the frontend's index page.
        .route("/api/{*rest}", any(not_found))
        .route("/ws/{*rest}", any(not_found))
        .nest_service("/static", assets::static_files(&state.static_dir))
        .fallback_service(assets::dist(&state.dist))
        // Every answer is what its Content-Type says: browsers must not guess otherwise.
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(
            // The span shows the path only: the query may hold a publish token.
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
            }),
        )
        .with_state(state);
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "not found")
}

/// Same-origin only (no CORS headers) unless origins are configured; `*` allows any.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::from(Any)
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]),
    )
}

/// Removes idle rooms, forgets clients whose room-creation limit has recovered and gives
/// free memory back to the system, every so often until shutdown.
pub fn spawn_sweeper(state: &Arc<AppState>) -> tokio::task::JoinHandle<()> {
    let state = Arc::clone(state);
    let idle = state.config.room_idle;
    let every = (idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = state.shutdown.cancelled() => break,
                _ = tick.tick() => {
                    state.rooms.sweep(idle);
                    state.room_creation.forget_recovered();
                    memory::release_free();
                }
            }
        }
    })
}

/// Serves `app(state)` over plain HTTP on `listener` until `shutdown` resolves, then ends
/// every stream and socket cleanly (waiting at most a few seconds for them).
pub async fn run(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    join_cluster(&state, listener.local_addr()?.port()).await?;
    let sweeper = spawn_sweeper(&state);
    let token = state.shutdown.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down");
        token.cancel();
    });
    let serve = serve::serve(
        listener,
        app(Arc::clone(&state)),
        Arc::clone(&state.connection_gate),
        state.shutdown.clone(),
        timeouts(&state.config),
    );
    tokio::select! {
        () = serve => {},
        // A viewer that stopped reading cannot finish its response: don't wait for it forever.
        () = async {
            state.shutdown.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {},
    }
    finish(&state, sweeper).await;
    Ok(())
}

/// As [`run`], over TLS (HTTP/2 or HTTP/1.1 by ALPN).
pub async fn run_tls(
    listener: std::net::TcpListener,
    tls: axum_server::tls_rustls::RustlsConfig,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    join_cluster(&state, listener.local_addr()?.port()).await?;
    let sweeper = spawn_sweeper(&state);
    let handle = axum_server::Handle::new();
    let token = state.shutdown.clone();
    let signal = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down");
        token.cancel();
        signal.graceful_shutdown(Some(SHUTDOWN_GRACE));
    });
    listener.set_nonblocking(true)?;
    let timeouts = timeouts(&state.config);
    let gate = tls::Gate::new(
        axum_server::tls_rustls::RustlsAcceptor::new(tls),
        Arc::clone(&state.connection_gate),
        timeouts,
    );
    let mut server = axum_server::from_tcp(listener)?.acceptor(gate);
    let timer = hyper_util::rt::TokioTimer::new;
    server
        .http_builder()
        .http1()
        .timer(timer())
        .header_read_timeout(state.config.request_head_timeout);
    // A client that answers no ping within the write timeout is gone (it stopped reading),
    // even when HTTP/2 flow control, not a full socket, holds its viewers' frames back.
    let ping = state.config.viewer_write_timeout;
    server
        .http_builder()
        .http2()
        .timer(timer())
        .keep_alive_interval(ping)
        .keep_alive_timeout(ping);
    let result = server
        .handle(handle)
        .serve(app(Arc::clone(&state)).into_make_service_with_connect_info::<SocketAddr>())
        .await;
    finish(&state, sweeper).await;
    result
}

fn timeouts(config: &Config) -> serve::Timeouts {
    serve::Timeouts {
        head: config.request_head_timeout,
        write: config.viewer_write_timeout,
    }
}

/// Joins the cluster if `config.cluster_url` names one (the node id defaults to the host
/// name and `port`); the cluster fits the frame limit to what one bus message carries.
async fn join_cluster(state: &Arc<AppState>, port: u16) -> std::io::Result<()> {
    let Some(url) = state.config.cluster_url.clone() else {
        return Ok(());
    };
    let node = state
        .config
        .node_id
        .clone()
        .unwrap_or_else(|| cluster::default_node_id(port));
    let joined = cluster::Cluster::join(cluster::Membership {
        url,
        node,
        rooms: Arc::clone(&state.rooms),
        max_rooms: state.config.max_rooms,
        metrics: Arc::clone(&state.metrics),
        shutdown: state.shutdown.clone(),
        tasks: state.tasks.clone(),
        frame_limit: state.frame_limit(),
    })
    .await
    .map_err(std::io::Error::other)?;
    let _ = state.cluster.set(joined);
    Ok(())
}

async fn finish(state: &AppState, sweeper: tokio::task::JoinHandle<()>) {
    state.shutdown.cancel();
    sweeper.abort();
    state.tasks.close();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, state.tasks.wait()).await;
}
