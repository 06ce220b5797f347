//! A real server on 127.0.0.1:0 and real clients: a tokio-tungstenite publisher and an
//! HTTP client whose multipart stream goes through `testkit`'s MJPEG parser byte by byte.
//! The JSON the server sends is read as `protocol`'s types.
#![allow(dead_code)]

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use protocol::{ClientMessage, RoomCreated, RoomState, ServerMessage, rooms};
use server::{AppState, Config};
use testkit::{mjpeg, temp::TempDir};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
    sync::oneshot,
    task::JoinHandle,
};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

pub use testkit::jpeg::pattern as jpeg;

pub mod cluster;

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
    /// The built frontend it serves, removed with it.
    _dist: TempDir,
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

impl TestServer {
    pub async fn start() -> Self {
        Self::with(Config::default()).await
    }

    pub async fn with(config: Config) -> Self {
        let dist = testkit::temp::temp_dir("test-dist");
        std::fs::write(
            dist.path().join("index.html"),
            "<!doctype html><title>spa</title>",
        )
        .expect("write index");
        std::fs::write(
            dist.path().join("app-0123456789abcdef.js"),
            "console.log(1)",
        )
        .expect("write js");
        let static_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../static");
        let state = AppState::new(config, dist.path().to_owned(), static_dir);
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
            _dist: dist,
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

    pub async fn create_room(&self) -> RoomCreated {
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
            .get(self.url(&rooms::state_path(room)))
            .send()
            .await
            .expect("GET room");
        assert_eq!(res.status(), 200);
        res.json().await.expect("room state JSON")
    }

    pub async fn publisher(&self, room: &RoomCreated) -> Publisher {
        self.publisher_with_token(&room.room, &room.publish_token)
            .await
            .expect("publisher connects")
    }

    pub async fn publisher_with_token(
        &self,
        room: &str,
        token: &str,
    ) -> Result<Publisher, tokio_tungstenite::tungstenite::Error> {
        let url = format!("ws://{}{}", self.addr, rooms::publish_path(room, token));
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(Publisher { ws })
    }

    /// A new room and its publisher, which has heard the first viewer count (0).
    pub async fn live_room(&self) -> (RoomCreated, Publisher) {
        let room = self.create_room().await;
        let mut publisher = self.publisher(&room).await;
        publisher.wait_viewers(0).await;
        (room, publisher)
    }

    pub async fn viewer(&self, room: &str, query: &str) -> Viewer {
        let res = self
            .http
            .get(self.url(&format!("{}{query}", rooms::stream_path(room))))
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

/// A publisher over any transport (plain TCP by default, TLS in `tls.rs`).
pub struct Publisher<S = MaybeTlsStream<TcpStream>> {
    pub ws: WebSocketStream<S>,
}

/// What the server said to the publisher, in a test-friendly shape.
#[derive(Debug, PartialEq)]
pub enum Said {
    Message(ServerMessage),
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

    /// Sends one of the contract's text messages.
    pub async fn send_message(&mut self, message: &ClientMessage) {
        let text = serde_json::to_string(message).expect("serializable");
        self.send_text(&text).await;
    }

    /// The next text or close from the server (pings skipped).
    pub async fn next(&mut self) -> Said {
        loop {
            match within("a server message", self.ws.next()).await {
                Some(Ok(Message::Text(t))) => {
                    return Said::Message(serde_json::from_str(t.as_str()).unwrap_or_else(|err| {
                        panic!("the server sent {t:?}, not a ServerMessage: {err}")
                    }));
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
                Said::Message(ServerMessage::Viewers { count }) => {
                    if u64::from(count) == n {
                        return;
                    }
                }
                Said::Message(_) => {}
                other => panic!("publisher ended while waiting for {n} viewers: {other:?}"),
            }
        }
    }
}

/// An MJPEG client: checks the response headers, then the framing of every part
/// (`testkit::mjpeg`), and returns each JPEG.
pub struct Viewer {
    reader: mjpeg::Reader,
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
        let boundary =
            mjpeg::boundary_of(&ct).unwrap_or_else(|| panic!("unexpected content type {ct}"));
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["x-accel-buffering"], "no");
        Self {
            reader: mjpeg::Reader::new(body, boundary),
            broken: None,
        }
    }

    /// The next JPEG, or `None` when the stream ended cleanly between parts (the parser
    /// panics on a cut part or broken framing).
    pub async fn next_frame(&mut self) -> Option<Vec<u8>> {
        let next = self.reader.next_jpeg().await;
        self.broken = self.reader.broken().map(str::to_owned);
        next.unwrap_or_else(|err| panic!("{err}"))
    }

    pub async fn frame(&mut self) -> Vec<u8> {
        within("a frame", self.next_frame())
            .await
            .expect("stream goes on")
    }
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

/// The value of the counter or gauge `name` (a line `name value`).
pub fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("metric {name} in {text}"))
        .trim()
        .parse()
        .expect("metric value")
}

/// A loopback TCP connection whose receive buffer is as small as the kernel allows, so a
/// client that does not read fills the server's side quickly.
pub async fn tiny_window(addr: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket.connect(addr).await.expect("connect")
}

/// Polls `check` every 50 ms until it holds; fails the test with `what` after 5 s.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "after 5 s: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
