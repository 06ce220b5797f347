//! https with a certificate from files, HTTP/2 offered by ALPN, streams and a publisher
//! over TLS, and the self-signed path; hostile clients over TLS get the same limits as on
//! plain HTTP (per-address connections, request head timeout, viewer write timeout).

mod support;

use std::{net::SocketAddr, num::NonZeroU32, path::PathBuf};

use rustls::pki_types::CertificateDer;
use server::{
    AppState, Config,
    tls::{self, TlsSource},
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use support::within;

type TlsStream = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

#[tokio::test]
async fn serves_https_with_h2_from_certificate_files() {
    // One room a minute per client: the second POST shows the peer address reaches the
    // limiter over TLS as well.
    let server = TlsServer::start(Config {
        max_rooms_per_minute: NonZeroU32::MIN,
        ..Config::default()
    })
    .await;

    // Offered h2 and http/1.1, the server picks h2.
    let tls_stream = server.connect(&["h2", "http/1.1"]).await;
    assert_eq!(tls_stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    drop(tls_stream);

    // HTTP/1.1 over TLS works as well.
    let request = async |head: &str| {
        let mut stream = server.connect(&["http/1.1"]).await;
        stream.write_all(head.as_bytes()).await.expect("request");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .await
            .expect("response");
        response
    };
    let response =
        request("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let post = "POST /api/rooms HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    let response = request(post).await;
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    let response = request(post).await;
    assert!(response.starts_with("HTTP/1.1 429"), "{response}");
    assert!(
        response.to_ascii_lowercase().contains("\r\nretry-after: "),
        "{response}"
    );

    let _ = server.stop.send(());
    server.task.await.expect("join").expect("run_tls");
}

#[tokio::test]
async fn self_signed_certificate_names_this_machine() {
    let addr: SocketAddr = "127.0.0.1:8443".parse().expect("addr");
    let names = tls::machine_names(addr);
    assert!(names.contains(&"localhost".to_owned()));
    assert!(names.contains(&"127.0.0.1".to_owned()));
    tls::config(&TlsSource::SelfSigned, addr)
        .await
        .expect("self-signed config");
}

/// A server on TLS with a fresh certificate, and a client config that trusts exactly it.
struct TlsServer {
    addr: SocketAddr,
    trust: rustls::RootCertStore,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TlsServer {
    async fn start(config: Config) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
        let dir = testkit::temp::temp_dir("test-tls");
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert, made.cert.pem()).expect("write cert");
        std::fs::write(&key, made.signing_key.serialize_pem()).expect("write key");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let tls_config = tls::config(&TlsSource::Files { cert, key }, addr)
            .await
            .expect("tls config from files");
        let state = AppState::new(config, PathBuf::from("dist"), PathBuf::from("static"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server::run_tls(listener, tls_config, state, async {
            let _ = stopped.await;
        }));
        let mut trust = rustls::RootCertStore::empty();
        trust
            .add(CertificateDer::from(made.cert.der().to_vec()))
            .expect("trust the test certificate");
        Self {
            addr,
            trust,
            stop,
            task,
        }
    }

    /// A TLS connection offering exactly `alpn`.
    async fn connect(
        &self,
        alpn: &[&str],
    ) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
        support::tls_connect(self.client(), self.addr, "localhost", alpn)
            .await
            .expect("TLS handshake")
    }

    fn client(&self) -> rustls::ClientConfig {
        rustls::ClientConfig::builder()
            .with_root_certificates(self.trust.clone())
            .with_no_client_auth()
    }

    /// A TLS handshake over a TCP connection the test made (from another address, with a
    /// tiny window...).
    async fn handshake(
        &self,
        tcp: tokio::net::TcpStream,
        alpn: &[&str],
    ) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
        let mut client = self.client();
        client.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(client))
            .connect(name, tcp)
            .await
    }

    /// One HTTP/1.1 request over TLS from `local` (a loopback address); the status line
    /// and the body.
    async fn request_from(&self, local: &str, method: &str, path: &str) -> (String, String) {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::new(local.parse().expect("ip"), 0))
            .expect("bind");
        let tcp = socket.connect(self.addr).await.expect("connect");
        let mut tls = self.handshake(tcp, &["http/1.1"]).await.expect("handshake");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n"
        );
        tls.write_all(head.as_bytes()).await.expect("request");
        let mut response = String::new();
        within("response", tls.read_to_string(&mut response))
            .await
            .expect("response");
        let (head, body) = response.split_once("\r\n\r\n").expect("a response head");
        let status = head.lines().next().unwrap_or_default().to_owned();
        (status, body.to_owned())
    }

    async fn viewers(&self, room: &str) -> u32 {
        let (status, body) = self
            .request_from("127.0.0.2", "GET", &protocol::rooms::state_path(room))
            .await;
        assert!(status.contains(" 200 "), "{status}");
        serde_json::from_str::<protocol::RoomState>(&body)
            .expect("room state")
            .viewers
    }

    /// A publisher over `wss://` for `room`.
    async fn publisher(&self, room: &protocol::RoomCreated) -> support::Publisher<TlsStream> {
        let url = format!(
            "wss://localhost{}",
            protocol::rooms::publish_path(&room.room, &room.publish_token)
        );
        let tls = self.connect(&["http/1.1"]).await;
        let (ws, _) = within(
            "wss upgrade",
            Box::pin(tokio_tungstenite::client_async(url, tls)),
        )
        .await
        .expect("wss publisher");
        support::Publisher { ws }
    }

    async fn room(&self) -> protocol::RoomCreated {
        let (status, body) = self.request_from("127.0.0.3", "POST", "/api/rooms").await;
        assert!(status.contains(" 201 "), "{status}");
        serde_json::from_str(&body).expect("room JSON")
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        within("server stops", self.task)
            .await
            .expect("join")
            .expect("run_tls");
    }
}

/// The phone case: a publisher over `wss://`, and viewers whose streams share one HTTP/2
/// connection (over h2 a page may hold many streams to one host).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wss_publisher_reaches_mjpeg_streams_multiplexed_on_one_h2_connection() {
    use http_body_util::{BodyExt, Empty};
    use hyper::{Method, Request};
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use protocol::{RoomCreated, rooms};
    use support::{Publisher, Viewer, jpeg};

    let server = TlsServer::start(Config::default()).await;
    let tls = server.connect(&["h2"]).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut h2, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .expect("h2 handshake");
    tokio::spawn(connection);
    let request = |method: Method, path: &str| {
        Request::builder()
            .method(method)
            .uri(format!("https://localhost{path}"))
            .body(Empty::<bytes::Bytes>::new())
            .expect("request")
    };

    let res = h2
        .send_request(request(Method::POST, "/api/rooms"))
        .await
        .expect("POST over h2");
    assert_eq!(res.status(), 201);
    let body = res.into_body().collect().await.expect("body").to_bytes();
    let room: RoomCreated = serde_json::from_slice(&body).expect("room JSON");

    let mut viewers = Vec::new();
    for _ in 0..2 {
        let res = h2
            .send_request(request(Method::GET, &room.stream_url))
            .await
            .expect("GET stream over h2");
        assert_eq!(res.status(), 200);
        assert_eq!(res.version(), hyper::Version::HTTP_2);
        let headers = res.headers().clone();
        viewers.push(Viewer::from_parts(
            &headers,
            res.into_body().into_data_stream(),
        ));
    }

    let url = format!(
        "wss://localhost{}",
        rooms::publish_path(&room.room, &room.publish_token)
    );
    let tls = server.connect(&["http/1.1"]).await;
    let (ws, _) = within(
        "wss upgrade",
        Box::pin(tokio_tungstenite::client_async(url, tls)),
    )
    .await
    .expect("wss publisher");
    let mut publisher = Publisher { ws };
    publisher.wait_viewers(2).await;
    for seed in 1..=3 {
        let frame = jpeg(96, 64, seed, false);
        publisher.send_jpeg(&frame).await;
        for viewer in &mut viewers {
            assert_eq!(viewer.frame().await, frame);
        }
    }

    // A graceful stop ends the h2 streams cleanly too.
    let _ = server.stop.send(());
    for viewer in &mut viewers {
        assert_eq!(within("end of stream", viewer.next_frame()).await, None);
        assert_eq!(viewer.broken, None, "the stream ended cleanly");
    }
    within("server stops", server.task)
        .await
        .expect("join")
        .expect("run_tls");
}

#[tokio::test]
async fn tls_connections_past_the_per_address_cap_are_refused() {
    let server = TlsServer::start(Config {
        max_connections_per_address: 3,
        ..Config::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(server.connect(&["http/1.1"]).await);
    }
    // The fourth is closed before its handshake: nothing of it is held.
    let tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let fourth = within("the refusal", server.handshake(tcp, &["http/1.1"])).await;
    assert!(fourth.is_err(), "a fourth TLS connection from one address");

    // Another address gets in, and sees the refusal counted.
    let (status, metrics) = server.request_from("127.0.0.2", "GET", "/metrics").await;
    assert!(status.contains(" 200 "), "{status}");
    assert_eq!(
        support::metric(
            &metrics,
            r#"lenscast_rejected_total{kind="ConnectionLimit"}"#
        ),
        1
    );
    // Connections given back free their slots.
    held.clear();
    support::eventually("the connection slots come back", || async {
        let tcp = tokio::net::TcpStream::connect(server.addr)
            .await
            .expect("connect");
        server.handshake(tcp, &["http/1.1"]).await.is_ok()
    })
    .await;
    server.stop().await;
}

#[tokio::test]
async fn a_tls_client_that_never_finishes_its_request_head_is_disconnected() {
    let server = TlsServer::start(Config {
        request_head_timeout: std::time::Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    // Half a request head, then nothing: the connection must not stay open (the wait
    // for the close is far shorter than the default timeout).
    let mut partial = server.connect(&["http/1.1"]).await;
    partial
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .expect("half a head");
    let mut rest = Vec::new();
    // A close without close_notify is an error to rustls; either way the connection ended.
    let _ = within("the close", partial.read_to_end(&mut rest)).await;
    assert!(
        !rest.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&rest)
    );
    // Nothing at all after the handshake: the same.
    let mut silent = server.connect(&["http/1.1"]).await;
    let _ = within("the close", silent.read_to_end(&mut rest)).await;
    // Other clients are served meanwhile.
    let (status, _) = server.request_from("127.0.0.2", "GET", "/healthz").await;
    assert!(status.contains(" 200 "), "{status}");
    server.stop().await;
}

/// A TLS stream that stops reading when told to, as a client that never reads its
/// stream: its writes (HTTP/2 settings and window updates) still go out.
struct Deaf {
    inner: tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    deaf: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl tokio::io::AsyncRead for Deaf {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.deaf.load(std::sync::atomic::Ordering::Acquire) {
            return std::task::Poll::Pending;
        }
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Deaf {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Publishes big frames until the room counts only the canary, which keeps getting every
/// frame meanwhile; fails if the stalled viewer is still counted after 10 s.
async fn publish_until_only_the_canary_is_left(
    server: &TlsServer,
    room: &protocol::RoomCreated,
    publisher: &mut support::Publisher<TlsStream>,
    canary: &mut support::Viewer,
    what: &str,
) {
    // Big, incompressible frames fill the stalled socket in one or two.
    let big = support::jpeg(1280, 720, 3, true);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        publisher.send_jpeg(&big).await;
        assert_eq!(within("canary frame", canary.frame()).await, big);
        let viewers = server.viewers(&room.room).await;
        if viewers == 1 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stalled {what} viewer is still counted ({viewers} viewers) after 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// An HTTP/1.1 viewer over TLS that reads every frame.
async fn canary(server: &TlsServer, room: &protocol::RoomCreated) -> support::Viewer {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::rt::TokioIo;
    let tls = server.connect(&["http/1.1"]).await;
    let (mut h1, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .expect("h1 handshake");
    tokio::spawn(connection);
    let req = hyper::Request::get(&room.stream_url)
        .header("host", "localhost")
        .body(Empty::<bytes::Bytes>::new())
        .expect("request");
    let res = h1.send_request(req).await.expect("GET stream");
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    support::Viewer::from_parts(&headers, res.into_body().into_data_stream())
}

/// A TLS server with a 1 s viewer write timeout, a live room and a canary viewer that reads
/// every frame: the setup of the stalled-viewer tests.
async fn live_room_with_a_canary() -> (
    TlsServer,
    protocol::RoomCreated,
    support::Publisher<TlsStream>,
    support::Viewer,
) {
    let server = TlsServer::start(Config {
        viewer_write_timeout: std::time::Duration::from_secs(1),
        ..Config::default()
    })
    .await;
    let room = server.room().await;
    let mut publisher = server.publisher(&room).await;
    let canary = canary(&server, &room).await;
    publisher.wait_viewers(1).await;
    (server, room, publisher, canary)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_viewer_that_never_reads_is_dropped_after_the_write_timeout() {
    let (server, room, mut publisher, mut canary) = live_room_with_a_canary().await;

    // Asks for the stream over HTTP/1.1 and never reads a byte of it.
    let tcp = support::tiny_window(server.addr).await;
    let mut stalled = server.handshake(tcp, &["http/1.1"]).await.expect("TLS");
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: localhost\r\n\r\n",
        room.stream_url
    );
    stalled
        .write_all(request.as_bytes())
        .await
        .expect("request");
    publisher.wait_viewers(2).await;
    publish_until_only_the_canary_is_left(&server, &room, &mut publisher, &mut canary, "TLS").await;
    drop(stalled);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_h2_viewer_that_stops_reading_is_dropped_after_the_write_timeout() {
    use http_body_util::Empty;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let (server, room, mut publisher, mut canary) = live_room_with_a_canary().await;

    let tcp = support::tiny_window(server.addr).await;
    let tls = server.handshake(tcp, &["h2"]).await.expect("TLS");
    let deaf = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let io = Deaf {
        inner: tls,
        deaf: std::sync::Arc::clone(&deaf),
    };
    let (mut h2, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
            .await
            .expect("h2 handshake");
    tokio::spawn(connection);
    let req = hyper::Request::get(format!("https://localhost{}", room.stream_url))
        .body(Empty::<bytes::Bytes>::new())
        .expect("request");
    let res = h2.send_request(req).await.expect("GET stream over h2");
    assert_eq!(res.version(), hyper::Version::HTTP_2);
    // From here on the client reads nothing: not the stream, not the server's pings.
    deaf.store(true, std::sync::atomic::Ordering::Release);
    publisher.wait_viewers(2).await;
    publish_until_only_the_canary_is_left(&server, &room, &mut publisher, &mut canary, "HTTP/2")
        .await;
    drop(res);
    server.stop().await;
}
