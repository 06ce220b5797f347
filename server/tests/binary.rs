//! The `lenscast-server` binary itself, as an operator runs it: flags from `LENSCAST_*`
//! variables, the address announced on stdout, no token in its logs, on SIGTERM a graceful
//! stop (viewers' streams end cleanly, the process exits 0), and `--tls-self-signed` serving
//! https with a certificate for this machine's names.
#![cfg(unix)]

mod support;

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use protocol::close;
use support::{Client, Said, jpeg, tls_connect, within};
use testkit::process::{Launch, ServerProcess};

/// Starts the binary with `args` and `envs` (on any free port, a secret file in `dir`) and
/// waits for the line that announces `scheme://address` on stdout.
async fn start(dir: &Path, scheme: &str, args: &[&str], envs: &[(&str, &str)]) -> ServerProcess {
    let mut launch = Launch::new(env!("CARGO_BIN_EXE_lenscast-server"))
        .args(args)
        .env("LENSCAST_ADDR", "127.0.0.1:0")
        .env("LENSCAST_DIST", dir)
        .env("LENSCAST_SECRET_FILE", dir.join("secret"))
        .env_remove("LENSCAST_SECRET");
    for (key, value) in envs {
        launch = launch.env(key, value);
    }
    let server = launch.start().await.expect("start lenscast-server");
    assert_eq!(server.scheme(), scheme, "the announced scheme");
    assert_ne!(server.addr().port(), 0, "the real port is announced");
    server
}

/// SIGTERM, then the exit status and everything the server logged.
async fn terminate(server: ServerProcess) -> (std::process::ExitStatus, String) {
    within("exit", server.terminate())
        .await
        .expect("a stop on SIGTERM")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reads_its_environment_keeps_tokens_out_of_logs_and_stops_on_sigterm() {
    let dir = testkit::temp::temp_dir("test-binary");
    std::fs::write(dir.path().join("index.html"), "<title>app</title>").expect("index");
    let server = start(
        dir.path(),
        "http",
        &[],
        &[
            ("LENSCAST_MAX_FRAME_BYTES", "20000"),
            // Everything the server logs, request spans included.
            ("RUST_LOG", "debug"),
        ],
    )
    .await;
    let addr = server.addr();

    let client = Client::new(addr);
    let app = client.get("/").await;
    assert!(
        app.text().await.expect("html").contains("app"),
        "LENSCAST_DIST"
    );

    let (room, mut publisher) = client.live_room().await;
    let mut viewer = client.viewer(&room.room, "").await;
    publisher.wait_viewers(1).await;
    let frame = jpeg(64, 64, 1, false);
    assert!(frame.len() < 20_000);
    publisher.send_jpeg(&frame).await;
    assert_eq!(viewer.frame().await, frame);

    // LENSCAST_MAX_FRAME_BYTES holds: a frame over it closes its publisher with 1009.
    let big = jpeg(400, 400, 2, true);
    assert!(big.len() > 20_000, "{} bytes", big.len());
    publisher.send_jpeg(&big).await;
    loop {
        match publisher.next().await {
            Said::Message(_) => {}
            Said::Closed(code, reason) => {
                assert_eq!(code, close::MESSAGE_TOO_BIG, "{reason}");
                break;
            }
            Said::Ended => panic!("closed without a close frame"),
        }
    }

    let stream_ends = tokio::spawn(async move {
        let end = within("end of stream", viewer.next_frame()).await;
        (end, viewer.broken)
    });
    let (status, logs) = terminate(server).await;
    let (end, broken) = stream_ends.await.expect("viewer task");
    assert_eq!(end, None);
    assert_eq!(broken, None, "the body ended cleanly");
    assert!(status.success(), "{status}");

    assert!(logs.contains("viewer connected"), "{logs}");
    assert!(logs.contains("publisher connected"), "{logs}");
    assert!(
        !logs.contains(&room.publish_token),
        "the publish token is in the logs:\n{logs}"
    );
}

/// Accepts any certificate and keeps the one the server presented, to check it properly
/// afterwards.
#[derive(Debug)]
struct Keep(Mutex<Option<rustls::pki_types::CertificateDer<'static>>>);

impl rustls::client::danger::ServerCertVerifier for Keep {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        *self.0.lock().expect("not poisoned") = Some(end_entity.clone().into_owned());
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &rustls::pki_types::CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &rustls::pki_types::CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// What a browser offers by ALPN.
const H2_OR_1: &[&str] = &["h2", "http/1.1"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_self_signed_serves_https_and_h2_with_a_certificate_for_this_machine() {
    use http_body_util::Empty;
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = testkit::temp::temp_dir("test-binary-tls");
    let server = start(dir.path(), "https", &["--tls-self-signed"], &[]).await;

    // Whatever the certificate, take it.
    let keep = Arc::new(Keep(Mutex::new(None)));
    let trusting = rustls::ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(Arc::clone(&keep) as _)
        .with_no_client_auth();
    drop(
        tls_connect(trusting, server.addr(), "localhost", H2_OR_1)
            .await
            .expect("TLS handshake"),
    );
    let cert = keep
        .0
        .lock()
        .expect("not poisoned")
        .clone()
        .expect("a certificate");

    // Now verify it for real, as a browser that was told to trust it would: it must name
    // this machine both ways a phone or a local browser may address it.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).expect("a usable certificate");
    let verifying = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    for name in ["localhost", "127.0.0.1"] {
        let tls = tls_connect(verifying.clone(), server.addr(), name, H2_OR_1)
            .await
            .unwrap_or_else(|err| panic!("the certificate is not valid for {name}: {err}"));
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]), "{name}");
        let (mut h2, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                .await
                .expect("h2 handshake");
        tokio::spawn(connection);
        let res = h2
            .send_request(
                hyper::Request::get(format!("https://{name}/healthz"))
                    .body(Empty::<bytes::Bytes>::new())
                    .expect("request"),
            )
            .await
            .expect("GET /healthz over h2");
        assert_eq!(res.status(), 200, "{name}");
    }
    // A name it was not made for is refused, for that reason.
    let refused = tls_connect(verifying, server.addr(), "elsewhere.example", H2_OR_1)
        .await
        .expect_err("not valid for another name");
    assert!(
        matches!(
            refused
                .get_ref()
                .and_then(|e| e.downcast_ref::<rustls::Error>()),
            Some(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                    | rustls::CertificateError::NotValidForNameContext { .. }
            ))
        ),
        "{refused}"
    );

    let (status, _) = terminate(server).await;
    assert!(status.success(), "{status}");
}
