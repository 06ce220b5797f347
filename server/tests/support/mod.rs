//! A real server on 127.0.0.1:0 and real clients: a tokio-tungstenite publisher and an
//! HTTP client that parses the multipart stream byte by byte.
#![allow(dead_code)]

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use bytes::{Buf, Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use image::{ExtendedColorType, codecs::jpeg::JpegEncoder};
use serde::Deserialize;
use server::{AppState, Config};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
    sync::oneshot,
    task::JoinHandle,
};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

pub const WAIT: Duration = Duration::from_secs(15);

/// Awaits `fut` or panics after [`WAIT`], so no test can hang.
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// A TLS connection to `addr` as `name`, offering the protocols in `alpn`.
pub async fn tls_connect(
    mut config: rustls::ClientConfig,
    addr: SocketAddr,
    name: &str,
    alpn: &[&str],
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    let tcp = TcpStream::connect(addr).await?;
    let name = rustls::pki_types::ServerName::try_from(name.to_owned()).expect("a server name");
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
}

/// A server in this process (`server::run` on `127.0.0.1:0`); its [`Client`] methods are
/// its own through `Deref`.
pub struct TestServer {
    client: Client,
    pub state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl std::ops::Deref for TestServer {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

/// HTTP and WebSocket clients of a server at `addr`, in this process or not.
pub struct Client {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
}

fn scratch_dir(tag: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "lenscast-test-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    dir
}

impl TestServer {
    pub async fn start() -> Self {
        Self::with(Config::default()).await
    }

    pub async fn with(config: Config) -> Self {
        let dist = scratch_dir("dist");
        std::fs::write(dist.join("index.html"), "<!doctype html><title>spa</title>")
            .expect("write index");
        std::fs::write(dist.join("app-0123456789abcdef.js"), "console.log(1)").expect("write js");
        let static_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../static");
        let state = AppState::new(config, dist, static_dir);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server::run(listener, Arc::clone(&state), async {
            let _ = stopped.await;
        }));
        Self {
            client: Client::new(addr),
            state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Starts the graceful shutdown and waits for `run` to return.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            within("server shutdown", task)
                .await
                .expect("server task")
                .expect("server run");
        }
    }
}

impl Client {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `GET path`, whatever the answer.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|err| panic!("GET {path}: {err}"))
    }

    pub async fn create_room(&self) -> RoomInfo {
        let res = self
            .http
            .post(self.url("/api/rooms"))
            .send()
            .await
            .expect("POST /api/rooms");
        assert_eq!(res.status(), 201);
        res.json().await.expect("room JSON")
    }

    pub async fn room_state(&self, room: &str) -> RoomState {
        let res = self
            .http
            .get(self.url(&format!("/api/rooms/{room}")))
            .send()
            .await
            .expect("GET room");
        assert_eq!(res.status(), 200);
        res.json().await.expect("room state JSON")
    }

    pub async fn publisher(&self, room: &RoomInfo) -> Publisher {
        self.publisher_with_token(&room.room, &room.publish_token)
            .await
            .expect("publisher connects")
    }

    pub async fn publisher_with_token(
        &self,
        room: &str,
        token: &str,
    ) -> Result<Publisher, tokio_tungstenite::tungstenite::Error> {
        let url = format!("ws://{}/ws/rooms/{room}/publish?token={token}", self.addr);
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(Publisher { ws })
    }

    /// A new room and its publisher, which has heard the first viewer count (0).
    pub async fn live_room(&self) -> (RoomInfo, Publisher) {
        let room = self.create_room().await;
        let mut publisher = self.publisher(&room).await;
        publisher.wait_viewers(0).await;
        (room, publisher)
    }

    pub async fn viewer(&self, room: &str, query: &str) -> Viewer {
        let res = self
            .http
            .get(self.url(&format!("/api/rooms/{room}/stream.mjpg{query}")))
            .send()
            .await
            .expect("GET stream");
        assert_eq!(res.status(), 200, "stream status");
        Viewer::new(res)
    }

    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics text")
    }
}

#[derive(Debug, Deserialize)]
pub struct RoomInfo {
    pub room: String,
    pub publish_token: String,
    pub watch_url: String,
    pub stream_url: String,
    pub snapshot_url: String,
}

#[derive(Debug, Deserialize)]
pub struct RoomState {
    pub room: String,
    pub live: bool,
    pub viewers: usize,
    pub frames: u64,
    pub fps: f64,
    pub width: u32,
    pub height: u32,
}

/// A publisher over any transport (plain TCP by default, TLS in `tls.rs`).
pub struct Publisher<S = MaybeTlsStream<TcpStream>> {
    pub ws: WebSocketStream<S>,
}

/// What the server said to the publisher, in a test-friendly shape.
#[derive(Debug, PartialEq)]
pub enum Said {
    Json(serde_json::Value),
    Closed(u16, String),
    Ended,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Publisher<S> {
    pub async fn send_jpeg(&mut self, jpeg: &[u8]) {
        self.ws
            .send(Message::Binary(Bytes::copy_from_slice(jpeg)))
            .await
            .expect("send frame");
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("send text");
    }

    /// The next text or close from the server (pings skipped).
    pub async fn next(&mut self) -> Said {
        loop {
            match within("a server message", self.ws.next()).await {
                Some(Ok(Message::Text(t))) => {
                    return Said::Json(
                        serde_json::from_str(t.as_str()).expect("server sends JSON"),
                    );
                }
                Some(Ok(Message::Close(Some(frame)))) => {
                    return Said::Closed(frame.code.into(), frame.reason.to_string());
                }
                Some(Ok(Message::Close(None)) | Err(_)) | None => return Said::Ended,
                Some(Ok(_)) => {}
            }
        }
    }

    /// Reads messages until a viewer count of `n` arrives.
    pub async fn wait_viewers(&mut self, n: u64) {
        loop {
            match self.next().await {
                Said::Json(v) if v["type"] == "viewers" => {
                    if v["count"].as_u64() == Some(n) {
                        return;
                    }
                }
                Said::Json(_) => {}
                other => panic!("publisher ended while waiting for {n} viewers: {other:?}"),
            }
        }
    }
}

/// An MJPEG client: checks the framing of every part and returns each JPEG.
pub struct Viewer {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, String>> + Send>>,
    buf: BytesMut,
    boundary: Vec<u8>,
    started: bool,
    /// Why the body broke off, if it did not end cleanly.
    pub broken: Option<String>,
}

impl Viewer {
    pub fn new(res: reqwest::Response) -> Self {
        let headers = res.headers().clone();
        Self::from_parts(&headers, res.bytes_stream())
    }

    /// A stream from any HTTP client: its response headers and body.
    pub fn from_parts<E: std::fmt::Debug>(
        headers: &reqwest::header::HeaderMap,
        body: impl futures_util::Stream<Item = Result<Bytes, E>> + Send + 'static,
    ) -> Self {
        let ct = headers["content-type"]
            .to_str()
            .expect("ascii content type")
            .to_owned();
        let boundary = ct
            .strip_prefix("multipart/x-mixed-replace; boundary=")
            .unwrap_or_else(|| panic!("unexpected content type {ct}"));
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["x-accel-buffering"], "no");
        Self {
            boundary: format!("--{boundary}\r\n").into_bytes(),
            body: Box::pin(body.map(|chunk| chunk.map_err(|err| format!("{err:?}")))),
            buf: BytesMut::new(),
            started: false,
            broken: None,
        }
    }

    /// Reads until `n` bytes are buffered; false at the end of the stream.
    async fn fill(&mut self, n: usize) -> bool {
        while self.buf.len() < n {
            match self.body.next().await {
                Some(Ok(chunk)) => self.buf.extend_from_slice(&chunk),
                Some(Err(err)) => {
                    self.broken = Some(err);
                    return false;
                }
                None => return false,
            }
        }
        true
    }

    async fn expect(&mut self, bytes: &[u8]) -> bool {
        if !self.fill(bytes.len()).await {
            return false;
        }
        assert_eq!(
            &self.buf[..bytes.len()],
            bytes,
            "multipart framing: expected {:?}",
            String::from_utf8_lossy(bytes)
        );
        self.buf.advance(bytes.len());
        true
    }

    /// The next JPEG, or `None` when the stream ended cleanly between parts.
    pub async fn next_frame(&mut self) -> Option<Vec<u8>> {
        if !self.started {
            let boundary = self.boundary.clone();
            if !self.expect(&boundary).await {
                return None;
            }
            self.started = true;
        }
        // Headers up to the blank line.
        let header_end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            let want = self.buf.len() + 1;
            if !self.fill(want).await {
                assert!(self.buf.is_empty(), "stream ended inside part headers");
                return None;
            }
        };
        let head = String::from_utf8(self.buf[..header_end].to_vec()).expect("ascii headers");
        self.buf.advance(header_end + 4);
        let mut len = None;
        let mut ctype = None;
        for line in head.split("\r\n") {
            let (name, value) = line.split_once(": ").expect("header line");
            match name.to_ascii_lowercase().as_str() {
                "content-length" => len = Some(value.parse::<usize>().expect("length")),
                "content-type" => ctype = Some(value.to_owned()),
                _ => {}
            }
        }
        assert_eq!(ctype.as_deref(), Some("image/jpeg"));
        let len = len.expect("every part has Content-Length");
        assert!(self.fill(len).await, "stream ended inside a JPEG");
        let jpeg = self.buf.split_to(len).to_vec();
        let mut trailer = b"\r\n".to_vec();
        trailer.extend_from_slice(&self.boundary);
        assert!(
            self.expect(&trailer).await,
            "the boundary must follow each frame"
        );
        Some(jpeg)
    }

    pub async fn frame(&mut self) -> Vec<u8> {
        within("a frame", self.next_frame())
            .await
            .expect("stream goes on")
    }
}

/// A real JPEG of `w`x`h` whose content depends on `seed`; `noisy` makes it large.
pub fn jpeg(w: u32, h: u32, seed: u32, noisy: bool) -> Vec<u8> {
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    for y in 0..h {
        for x in 0..w {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let n = if noisy { (state & 0x3F) as u8 } else { 0 };
            rgb.push((x + seed * 7) as u8 ^ n);
            rgb.push((y + seed * 3) as u8 ^ n);
            rgb.push(((x ^ y) + seed) as u8);
        }
    }
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 85)
        .encode(&rgb, w, h, ExtendedColorType::Rgb8)
        .expect("encode JPEG");
    out
}

/// An HTTP client on one raw TCP connection: requests are written as given and responses
/// read byte by byte, so tests control versions, keep-alive and pipelining exactly.
pub struct RawConnection {
    stream: tokio::io::BufReader<TcpStream>,
}

impl RawConnection {
    pub async fn open(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        Self {
            stream: tokio::io::BufReader::new(stream),
        }
    }

    pub async fn send(&mut self, request: &str) {
        use tokio::io::AsyncWriteExt;
        self.stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .expect("write request");
    }

    /// One CRLF-terminated line, without the CRLF; `None` at the end of the connection.
    pub async fn line(&mut self) -> Option<String> {
        use tokio::io::AsyncBufReadExt;
        let mut line = String::new();
        let n = within("a line", self.stream.read_line(&mut line))
            .await
            .expect("read line");
        if n == 0 {
            return None;
        }
        assert!(line.ends_with("\r\n"), "line {line:?} ends with CRLF");
        line.truncate(line.len() - 2);
        Some(line)
    }

    /// A response head: the status line and the headers (names lowercased).
    pub async fn head(&mut self) -> (String, Vec<(String, String)>) {
        let status = self.line().await.expect("status line");
        let mut headers = Vec::new();
        loop {
            let line = self.line().await.expect("header line");
            if line.is_empty() {
                return (status, headers);
            }
            let (name, value) = line.split_once(": ").expect("name: value");
            headers.push((name.to_ascii_lowercase(), value.to_owned()));
        }
    }

    pub async fn exact(&mut self, n: usize) -> Vec<u8> {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0; n];
        within("bytes", self.stream.read_exact(&mut buf))
            .await
            .expect("read bytes");
        buf
    }

    /// The next chunk of a chunked body; `None` for the last (empty) chunk.
    pub async fn chunk(&mut self) -> Option<Vec<u8>> {
        let size = self.line().await.expect("chunk size line");
        let size = usize::from_str_radix(&size, 16).expect("hex chunk size");
        let data = self.exact(size).await;
        assert_eq!(self.exact(2).await, b"\r\n", "CRLF after chunk data");
        (size > 0).then_some(data)
    }

    /// True once the server has closed the connection, whatever it sent before (an error
    /// response, say).
    pub async fn closed_or_answered(&mut self) -> bool {
        use tokio::io::AsyncReadExt;
        let mut rest = Vec::new();
        within("end of connection", self.stream.read_to_end(&mut rest))
            .await
            .is_ok()
    }

    /// True once the server has closed the connection (after whatever it sent).
    pub async fn closed(&mut self) -> bool {
        use tokio::io::AsyncReadExt;
        let mut rest = Vec::new();
        within("end of connection", self.stream.read_to_end(&mut rest))
            .await
            .is_ok_and(|_| rest.is_empty())
    }
}

/// The multipart part the server sends for `jpeg`.
pub fn part_of(jpeg: &[u8]) -> Vec<u8> {
    let mut part = format!(
        "Content-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
        jpeg.len()
    )
    .into_bytes();
    part.extend_from_slice(jpeg);
    part.extend_from_slice(b"\r\n--lenscastframe\r\n");
    part
}

/// The value of the counter or gauge `name` (a line `name value`).
pub fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("metric {name} in {text}"))
        .trim()
        .parse()
        .expect("metric value")
}
