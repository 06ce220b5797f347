//! [`GatedProxy`]: an HTTP proxy in front of the real server that logs every path the browser
//! asks for (page, workers and their fetches alike) and holds the requests for chosen paths
//! until the test releases them, or refuses chosen paths with `404`. Tests use it to see
//! which files a page fetched, to keep a slow download (the segmentation engine and model)
//! pending for as long as they look at the page without racing the network, and to make a
//! download fail.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use anyhow::{Context, Result};
use axum::{
    Router,
    body::Body,
    extract::Request,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use tokio::{sync::watch, task::JoinHandle};

struct Shared {
    upstream: String,
    hold: Vec<String>,
    refuse: Vec<String>,
    client: reqwest::Client,
    requests: Mutex<Vec<String>>,
    released: watch::Receiver<bool>,
}

/// See the module docs. Dropping it stops the proxy.
pub struct GatedProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    release: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl GatedProxy {
    /// Proxies GET requests to `upstream` (`http://host:port`) on a free loopback port;
    /// requests whose path contains one of `hold` wait for [`GatedProxy::release`].
    pub async fn start(upstream: &str, hold: &[&str]) -> Result<Self> {
        Self::start_with(upstream, hold, &[]).await
    }

    /// Proxies GET requests to `upstream`, answering `404` to those whose path contains one
    /// of `refuse`.
    pub async fn refusing(upstream: &str, refuse: &[&str]) -> Result<Self> {
        Self::start_with(upstream, &[], refuse).await
    }

    async fn start_with(upstream: &str, hold: &[&str], refuse: &[&str]) -> Result<Self> {
        let owned = |paths: &[&str]| paths.iter().map(|s| (*s).to_owned()).collect();
        let (release, released) = watch::channel(false);
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            hold: owned(hold),
            refuse: owned(refuse),
            client: reqwest::Client::new(),
            requests: Mutex::default(),
            released,
        });
        let app = Router::new().fallback({
            let shared = Arc::clone(&shared);
            move |req: Request| forward(Arc::clone(&shared), req)
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            shared,
            release,
            task,
        })
    }

    /// `http://127.0.0.1:<port>` + `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every path (with query) asked for so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared
            .requests
            .lock()
            .map(|requests| requests.clone())
            .unwrap_or_default()
    }

    /// Lets the held requests (and any later ones) through.
    pub fn release(&self) {
        let _ = self.release.send(true);
    }
}

impl Drop for GatedProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(shared: Arc<Shared>, req: Request) -> Response {
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), ToString::to_string);
    if let Ok(mut requests) = shared.requests.lock() {
        requests.push(path.clone());
    }
    if shared
        .refuse
        .iter()
        .any(|refuse| path.contains(refuse.as_str()))
    {
        return (StatusCode::NOT_FOUND, "refused by the test's proxy").into_response();
    }
    if shared.hold.iter().any(|hold| path.contains(hold.as_str())) {
        let mut released = shared.released.clone();
        let _ = released.wait_for(|released| *released).await;
    }
    match fetch(&shared, &path).await {
        Ok(response) => response,
        Err(err) => (StatusCode::BAD_GATEWAY, format!("{err:#}")).into_response(),
    }
}

async fn fetch(shared: &Shared, path: &str) -> Result<Response> {
    let upstream = shared
        .client
        .get(format!("{}{path}", shared.upstream))
        .send()
        .await
        .context("upstream request")?;
    let status = StatusCode::from_u16(upstream.status().as_u16())?;
    let mut response = Response::builder().status(status);
    for name in [header::CONTENT_TYPE, header::CACHE_CONTROL] {
        if let Some(value) = upstream.headers().get(name.as_str()) {
            response = response.header(name, value.as_bytes());
        }
    }
    let body = upstream.bytes().await.context("upstream body")?;
    Ok(response.body(Body::from(body))?)
}
