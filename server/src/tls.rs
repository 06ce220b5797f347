//! TLS with rustls (ring provider, no OpenSSL): certificate files or a self-signed
//! certificate made at start for this machine's names, so a phone on the same network can
//! open the camera page over https. ALPN offers h2 and http/1.1.
//!
//! Every TLS connection first passes [`Gate`], which gives it what the plain accept loop
//! (`crate::serve`) gives its connections: the per-address connection cap, the socket tuning
//! and the viewers' write deadline ([`crate::write_deadline`]).

use std::{
    future::Ready,
    io,
    net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket},
    path::PathBuf,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::Extension;
use axum_server::{accept::Accept, tls_rustls::RustlsConfig};
use thiserror::Error;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};
use tower::Layer as _;

use crate::{
    per_address::{AddressSlot, Admission, ConnectionGate},
    serve::tune_socket,
    write_deadline::{DeadlineIo, WriteDeadline},
};

/// Where the certificate comes from.
pub enum TlsSource {
    Files { cert: PathBuf, key: PathBuf },
    SelfSigned,
}

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("cannot load the TLS certificate or key: {0}")]
    Load(#[from] io::Error),
    #[error("cannot make a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

/// The rustls configuration for `source`; `listen` adds its IP to a self-signed certificate.
pub async fn config(source: &TlsSource, listen: SocketAddr) -> Result<RustlsConfig, TlsError> {
    // A second install (tests, repeated starts) finds one already there, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match source {
        TlsSource::Files { cert, key } => Ok(RustlsConfig::from_pem_file(cert, key).await?),
        TlsSource::SelfSigned => {
            let names = machine_names(listen);
            tracing::info!(names = ?names, "self-signed certificate");
            let made = rcgen::generate_simple_self_signed(names)?;
            Ok(RustlsConfig::from_pem(
                made.cert.pem().into_bytes(),
                made.signing_key.serialize_pem().into_bytes(),
            )
            .await?)
        }
    }
}

/// Names a browser may use to reach this machine: localhost, the host name (also with
/// `.local` for mDNS), loopback, the listen address and the address of the default route.
pub fn machine_names(listen: SocketAddr) -> Vec<String> {
    let mut names = vec!["localhost".to_owned()];
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let host = host.trim();
        if !host.is_empty() {
            names.push(host.to_owned());
            names.push(format!("{host}.local"));
        }
    }
    let mut ips: Vec<IpAddr> = vec![Ipv4Addr::LOCALHOST.into()];
    if !listen.ip().is_unspecified() {
        ips.push(listen.ip());
    }
    // Connecting a UDP socket sends nothing; it only asks the kernel which local address
    // the default route would use, i.e. the one other devices on the network see.
    if let Some(ip) = UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|()| s))
        .and_then(|s| s.local_addr())
        .ok()
        .map(|a| a.ip())
    {
        ips.push(ip);
    }
    for ip in ips {
        let ip = ip.to_string();
        if !names.contains(&ip) {
            names.push(ip);
        }
    }
    names
}

/// The acceptor under rustls: admits a connection by its address before the handshake (so a
/// handshake that never finishes counts too), and gives its requests the connection's
/// [`WriteDeadline`].
#[derive(Clone)]
pub struct Gate {
    connections: Arc<ConnectionGate>,
    write_timeout: Duration,
}

impl Gate {
    pub(crate) fn new(connections: Arc<ConnectionGate>, write_timeout: Duration) -> Self {
        Self {
            connections,
            write_timeout,
        }
    }
}

impl<S> Accept<TcpStream, S> for Gate {
    type Stream = Admitted;
    type Service = axum::middleware::AddExtension<S, WriteDeadline>;
    type Future = Ready<io::Result<(Self::Stream, Self::Service)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        std::future::ready(
            self.admit(stream)
                .map(|(stream, deadline)| (stream, Extension(deadline).layer(service))),
        )
    }
}

impl Gate {
    fn admit(&self, stream: TcpStream) -> io::Result<(Admitted, WriteDeadline)> {
        let peer = stream.peer_addr()?;
        let slot = match self.connections.admit(peer.ip()) {
            Admission::Slot(slot) => Some(slot),
            Admission::Exempt => None,
            Admission::Refused => {
                // Before the handshake there is no way to answer: the close is the answer.
                tracing::debug!(%peer, "TLS connection over the per-address cap");
                return Err(io::ErrorKind::ConnectionRefused.into());
            }
        };
        tune_socket(&stream);
        let deadline = WriteDeadline::new(self.write_timeout);
        let io = DeadlineIo::new(stream, deadline.clone());
        Ok((Admitted { io, _slot: slot }, deadline))
    }
}

/// An admitted connection's socket, holding its address slot for as long as it lives.
pub struct Admitted {
    io: DeadlineIo<TcpStream>,
    _slot: Option<AddressSlot>,
}

impl AsyncRead for Admitted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Admitted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
