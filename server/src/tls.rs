//! TLS with rustls (ring provider, no OpenSSL): certificate files or a self-signed
//! certificate made at start for this machine's names, so a phone on the same network can
//! open the camera page over https. ALPN offers h2 and http/1.1.
//!
//! Every TLS connection first passes [`Gate`], which gives it what the plain accept loop
//! (`crate::serve`) gives its connections: the per-address connection cap, the socket tuning
//! and the viewers' write deadline ([`crate::write_deadline`]).

use std::{
    future::Future,
    io,
    net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket},
    path::PathBuf,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{Extension, middleware::AddExtension};
use axum_server::{accept::Accept, tls_rustls::RustlsConfig};
use thiserror::Error;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    time::Sleep,
};
use tower::Layer as _;

use crate::{
    per_address::{AddressSlot, Admission, ConnectionGate},
    serve::{Timeouts, tune_socket},
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

/// The acceptor around rustls: admits a connection by its address before the handshake (so
/// a handshake that never finishes counts too), puts the write deadline under TLS, gives its
/// requests the connection's [`WriteDeadline`], and closes it if the client sends nothing
/// after the handshake for the request head timeout.
#[derive(Clone)]
pub struct Gate<A> {
    tls: A,
    connections: Arc<ConnectionGate>,
    timeouts: Timeouts,
}

impl<A> Gate<A> {
    pub(crate) fn new(tls: A, connections: Arc<ConnectionGate>, timeouts: Timeouts) -> Self {
        Self {
            tls,
            connections,
            timeouts,
        }
    }

    fn admit(&self, stream: &TcpStream) -> io::Result<Option<AddressSlot>> {
        let peer = stream.peer_addr()?;
        match self.connections.admit(peer.ip()) {
            Admission::Slot(slot) => Ok(Some(slot)),
            Admission::Exempt => Ok(None),
            Admission::Refused => {
                // Before the handshake there is no way to answer: the close is the answer.
                tracing::debug!(%peer, "TLS connection over the per-address cap");
                Err(io::ErrorKind::ConnectionRefused.into())
            }
        }
    }
}

type Accepted<T, S> = io::Result<(Admitted<T>, AddExtension<S, WriteDeadline>)>;

impl<A, S> Accept<TcpStream, S> for Gate<A>
where
    A: Accept<DeadlineIo<TcpStream>, S>,
    A::Future: Send + 'static,
    A::Stream: Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = Admitted<A::Stream>;
    type Service = AddExtension<A::Service, WriteDeadline>;
    type Future = Pin<Box<dyn Future<Output = Accepted<A::Stream, A::Service>> + Send>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let slot = match self.admit(&stream) {
            Ok(slot) => slot,
            Err(err) => return Box::pin(std::future::ready(Err(err))),
        };
        tune_socket(&stream);
        let deadline = WriteDeadline::new(self.timeouts.write);
        let handshake = self
            .tls
            .accept(DeadlineIo::new(stream, deadline.clone()), service);
        let head = self.timeouts.head;
        Box::pin(async move {
            let (io, service) = handshake.await?;
            let admitted = Admitted {
                io,
                first_byte: Some(Box::pin(tokio::time::sleep(head))),
                _slot: slot,
            };
            Ok((admitted, Extension(deadline).layer(service)))
        })
    }
}

/// An admitted connection, holding its address slot for as long as it lives.
///
/// hyper times request heads only once it knows the protocol, which it learns from the
/// first bytes; until they come, the wait is timed here.
pub struct Admitted<T> {
    io: T,
    first_byte: Option<Pin<Box<Sleep>>>,
    _slot: Option<AddressSlot>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Admitted<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if let Some(wait) = self.first_byte.as_mut() {
            match polled {
                Poll::Pending => {
                    if wait.as_mut().poll(cx).is_ready() {
                        tracing::debug!("TLS client sent nothing within the head timeout");
                        return Poll::Ready(Err(io::ErrorKind::TimedOut.into()));
                    }
                }
                Poll::Ready(Ok(())) if buf.filled().len() > before => self.first_byte = None,
                Poll::Ready(_) => {}
            }
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Admitted<T> {
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
