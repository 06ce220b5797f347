//! Taking an HTTP/1.1 connection over from hyper once a response head is on the wire.
//!
//! hyper serves every request. A handler that wants to write the rest of its response itself
//! (the MJPEG stream, [`super::respond`]) asks through the request's [`Handoff`] and answers
//! with its headers and a body that never yields. hyper then writes the head and flushes it
//! through [`HandoffIo`], which tells the connection task (`crate::serve`); that task takes
//! the socket out of hyper and gives it to the handler's continuation.
//!
//! "On the wire" is exact: after the handler asks, hyper writes the head (it is already in
//! its buffer when the handler returns) and calls the socket's `poll_flush` only once its
//! buffer is empty. So a flush that follows a write after the request means every byte hyper
//! meant to send is in the kernel, and none after it.

use std::{
    io,
    pin::Pin,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU8, Ordering},
    },
    task::{Context, Poll},
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    sync::Notify,
};

use crate::write_deadline::DeadlineIo;

type Continuation = Box<dyn FnOnce(TcpStream) + Send>;

const IDLE: u8 = 0;
/// A handler asked; hyper has not written since.
const ASKED: u8 = 1;
/// hyper wrote after the request: the next flush puts the head on the wire.
const HEAD_WRITTEN: u8 = 2;

struct Shared {
    state: AtomicU8,
    continuation: Mutex<Option<Continuation>>,
    head_out: Notify,
}

/// A request's way to ask for its connection (a request extension, on plain HTTP/1.1 only).
#[derive(Clone)]
pub struct Handoff(Arc<Shared>);

impl Handoff {
    pub(crate) fn new() -> Self {
        Self(Arc::new(Shared {
            state: AtomicU8::new(IDLE),
            continuation: Mutex::new(None),
            head_out: Notify::new(),
        }))
    }

    /// Asks for the connection once this request's response head is written; `then` gets the
    /// socket. The response must have a body that never yields (or hyper would write it too),
    /// and nothing may be awaited after this call before the response is returned: only
    /// [`super::respond`] calls it, and its non-`Send` answer makes the compiler hold a handler
    /// to that.
    pub(super) fn after_head(&self, then: impl FnOnce(TcpStream) + Send + 'static) {
        *self
            .0
            .continuation
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Box::new(then));
        self.0.state.store(ASKED, Ordering::Release);
    }

    /// Resolves when a requested head has been flushed to the socket.
    pub(crate) async fn head_out(&self) {
        self.0.head_out.notified().await;
    }

    /// The continuation a handler left, if any.
    pub(crate) fn take(&self) -> Option<Continuation> {
        self.0
            .continuation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// The socket as hyper sees it: passes everything through, and watches for the flush that
/// completes a requested head.
pub struct HandoffIo {
    stream: DeadlineIo<TcpStream>,
    handoff: Handoff,
}

impl HandoffIo {
    pub(crate) fn new(stream: DeadlineIo<TcpStream>, handoff: Handoff) -> Self {
        Self { stream, handoff }
    }

    /// The socket itself: the taken-over path keeps its own write timeout.
    pub(crate) fn into_stream(self) -> TcpStream {
        self.stream.into_inner()
    }

    fn wrote(&self) {
        let _ = self.handoff.0.state.compare_exchange(
            ASKED,
            HEAD_WRITTEN,
            Ordering::AcqRel,
            Ordering::Relaxed,
        );
    }
}

impl AsyncRead for HandoffIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for HandoffIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.wrote();
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.wrote();
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let flushed = Pin::new(&mut self.stream).poll_flush(cx);
        if matches!(flushed, Poll::Ready(Ok(())))
            && self.handoff.0.state.load(Ordering::Acquire) == HEAD_WRITTEN
        {
            self.handoff.0.head_out.notify_one();
        }
        flushed
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
