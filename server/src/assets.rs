//! Files served as they are: the built frontend (`dist/`, SPA fallback) and `static/`.

use std::path::Path;

use axum::{
    Router,
    extract::Request,
    http::{HeaderValue, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// `dist/` at `/`: unknown paths get `index.html` so the frontend's own routes load, except
/// hashed asset names: a missing one (an old build's, after a redeploy) is a 404, never an
/// `index.html` that would then be cached for a year under the asset's name.
pub fn dist(dir: &Path) -> Router {
    let assets = ServeDir::new(dir);
    let app = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
    Router::new()
        .fallback(async move |req: Request| {
            if is_hashed(req.uri().path()) {
                assets.oneshot(req).await.into_response()
            } else {
                app.oneshot(req).await.into_response()
            }
        })
        .layer(middleware::from_fn(cache_control))
}

/// `static/` as it is, revalidated on every load (its names carry no hash).
pub fn static_files(dir: &Path) -> Router {
    Router::new()
        .fallback_service(ServeDir::new(dir))
        .layer(middleware::from_fn(cache_control))
}

/// Hashed names never change content, so they may be cached for a year; anything else
/// (index.html above all) must be revalidated so a new build shows up on reload.
async fn cache_control(req: Request, next: Next) -> Response {
    let immutable = is_hashed(req.uri().path());
    let mut res = next.run(req).await;
    if res.status().is_success() {
        let value = if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}

/// Whether the file name carries a content hash the way trunk writes it:
/// `name-<hex>.ext`, or `name-<hex>_bg.wasm`.
fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let stem = name.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (10..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn trunk_names_are_hashed() {
        assert!(is_hashed("/frontend-9f86d081884c7d65.js"));
        assert!(is_hashed("/frontend-9f86d081884c7d65_bg.wasm"));
        assert!(is_hashed("/style-1a2b3c4d5e6f7a8b.css"));
        assert!(!is_hashed("/index.html"));
        assert!(!is_hashed("/"));
        assert!(!is_hashed("/watch.js"));
        assert!(!is_hashed("/my-photo.png"));
    }
}
