//! https with a certificate from files, HTTP/2 offered by ALPN, streams and a publisher
//! over TLS, and the self-signed path.

mod support;

use std::{net::SocketAddr, num::NonZeroU32, path::PathBuf};

use rustls::pki_types::CertificateDer;
use server::{
    AppState, Config,
    tls::{self, TlsSource},
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
        let client = rustls::ClientConfig::builder()
            .with_root_certificates(self.trust.clone())
            .with_no_client_auth();
        support::tls_connect(client, self.addr, "localhost", alpn)
            .await
            .expect("TLS handshake")
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
    use support::{Publisher, Viewer, jpeg, within};

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
