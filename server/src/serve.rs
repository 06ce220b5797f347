//! The plain-HTTP accept loop: hyper's HTTP/1.1 connections, each of which can be handed
//! over to a handler after its response head ([`crate::stream::handoff`]).
//!
//! It does what `axum::serve` does (peer address for `ConnectInfo`, WebSocket upgrades,
//! graceful shutdown) plus the handoff, and a timeout for reading request heads, so that a
//! client that opens a connection and sends nothing cannot keep it forever.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, body::Body, extract::ConnectInfo};
use hyper::{Request, body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower::ServiceExt as _;

use crate::{
    per_address::{Admission, ConnectionGate},
    stream::handoff::{Handoff, HandoffIo},
    write_deadline::{DeadlineIo, WriteDeadline},
};

/// Accepts connections on `listener` and serves `app` on them until `shutdown` is
/// cancelled; then stops accepting, lets each connection finish its current response and
/// returns when all have closed. A client gets `head_timeout` to send each request head; a
/// viewer whose body hyper writes (HTTP/1.0) gets `write_timeout` to take each byte.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    gate: Arc<ConnectionGate>,
    shutdown: CancellationToken,
    timeouts: Timeouts,
) {
    let connections = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let slot = match gate.admit(peer.ip()) {
                    Admission::Slot(slot) => Some(slot),
                    Admission::Exempt => None,
                    Admission::Refused => {
                        refuse(&stream, peer);
                        continue;
                    }
                };
                tune_socket(&stream);
                let (app, shutdown) = (app.clone(), shutdown.clone());
                connections.spawn(async move {
                    connection(stream, peer, app, shutdown, timeouts).await;
                    drop(slot);
                });
            }
            Err(err) if is_per_connection(&err) => {}
            Err(err) => {
                // Out of file descriptors, most likely: wait for some to close.
                tracing::error!(error = %err, "accept failed");
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// Unsent bytes a viewer's socket may hold before the server stops writing to it.
const NOTSENT_LOWAT: u32 = 128 * 1024;

/// Frames must leave at once (no Nagle delay on a frame's last segment), and a slow
/// viewer's backlog must stay in the kernel only briefly: with `TCP_NOTSENT_LOWAT` the
/// socket reports writable only when little is unsent, so the newest frame waits in the
/// room's `watch` instead of megabytes of stale ones in the send buffer.
pub(crate) fn tune_socket(tcp: &TcpStream) {
    if let Err(err) = tcp.set_nodelay(true) {
        tracing::debug!(error = %err, "cannot set TCP_NODELAY");
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(err) = socket2::SockRef::from(tcp).set_tcp_notsent_lowat(NOTSENT_LOWAT) {
        tracing::debug!(error = %err, "cannot set TCP_NOTSENT_LOWAT");
    }
}

/// Errors about one connection that went away before it was accepted.
fn is_per_connection(err: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        err.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// How long a client may take to send a request head, and a viewer to take a byte.
#[derive(Clone, Copy)]
pub struct Timeouts {
    pub head: Duration,
    pub write: Duration,
}

enum Event {
    Closed(hyper::Result<()>),
    HeadOut,
    Shutdown,
}

/// Past the per-address cap: a short answer if the socket takes it at once, then the close.
fn refuse(stream: &TcpStream, peer: SocketAddr) {
    tracing::debug!(%peer, "connection over the per-address cap");
    let _ = stream.try_write(
        b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    shutdown: CancellationToken,
    timeouts: Timeouts,
) {
    let handoff = Handoff::new();
    let deadline = WriteDeadline::new(timeouts.write);
    let io = TokioIo::new(HandoffIo::new(
        DeadlineIo::new(stream, deadline.clone()),
        handoff.clone(),
    ));
    let for_requests = handoff.clone();
    let service = service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(for_requests.clone());
        req.extensions_mut().insert(deadline.clone());
        app.clone().oneshot(req.map(Body::new))
    });
    let mut conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.head)
        .serve_connection(io, service)
        .with_upgrades();
    let mut draining = false;
    loop {
        let event = tokio::select! {
            biased;
            result = &mut conn => Event::Closed(result),
            () = handoff.head_out() => Event::HeadOut,
            () = shutdown.cancelled(), if !draining => Event::Shutdown,
        };
        match event {
            Event::Closed(Ok(())) => return,
            Event::Closed(Err(err)) => {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
                return;
            }
            Event::Shutdown => {
                // Ends the connection after the response in progress, if any.
                std::pin::Pin::new(&mut conn).graceful_shutdown();
                draining = true;
            }
            Event::HeadOut => {
                let (Some(parts), Some(then)) = (conn.into_parts(), handoff.take()) else {
                    return;
                };
                then(parts.io.into_inner().into_stream());
                return;
            }
        }
    }
}
