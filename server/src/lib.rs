//! lenscast server (work in progress).
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

use std::path::PathBuf;

use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

/// Serves the built frontend with an SPA fallback.
pub fn app(dist: PathBuf) -> Router {
    let index = dist.join("index.html");
    Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .fallback_service(ServeDir::new(dist).fallback(ServeFile::new(index)))
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn run(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
