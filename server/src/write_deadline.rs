//! A write-progress deadline for connections whose responses hyper writes (TLS, HTTP/2,
//! HTTP/1.0): a viewer that accepts no bytes for the viewer write timeout is dropped, so it
//! cannot pin the frame it stalled on.
//!
//! hyper has no write timeout, and a body that hyper no longer polls cannot time itself out.
//! So the deadline sits under hyper, on the socket ([`DeadlineIo`]): a write that has waited
//! on a full socket for the timeout fails, hyper drops the connection and with it the body,
//! the frame and the viewer's slot. It applies only while a viewer's body is alive on the
//! connection ([`WriteDeadline::arm`]): a publisher that never reads is kept, as on the
//! taken-over path, and so is any other response a slow client reads slowly.

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::Sleep,
};

struct Shared {
    timeout: Duration,
    /// Viewer bodies alive on the connection.
    viewers: AtomicUsize,
}

/// One connection's deadline, shared by its socket and its requests (a request extension).
#[derive(Clone)]
pub struct WriteDeadline(Arc<Shared>);

/// The deadline applies while this lives (held by a viewer's body).
pub struct Armed(Arc<Shared>);

impl WriteDeadline {
    pub fn new(timeout: Duration) -> Self {
        Self(Arc::new(Shared {
            timeout,
            viewers: AtomicUsize::new(0),
        }))
    }

    pub fn arm(&self) -> Armed {
        self.0.viewers.fetch_add(1, Ordering::AcqRel);
        Armed(Arc::clone(&self.0))
    }

    fn armed(&self) -> bool {
        self.0.viewers.load(Ordering::Acquire) > 0
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        self.0.viewers.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A socket whose writes fail with `TimedOut` once they have waited for the deadline's
/// timeout without the socket taking a byte, while the deadline is armed.
pub struct DeadlineIo<T> {
    inner: T,
    deadline: WriteDeadline,
    /// Running since the first write the socket refused; reset by any write it takes.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> DeadlineIo<T> {
    pub fn new(inner: T, deadline: WriteDeadline) -> Self {
        Self {
            inner,
            deadline,
            stalled: None,
        }
    }

    pub fn into_inner(self) -> T {
        self.inner
    }

    /// Passes a finished write through; for a waiting one, starts or checks the deadline
    /// (whose timer wakes the writer when it passes, so hyper sees the error).
    /// Only a write the socket took resets the deadline; a flush (a no-op on TCP) does not.
    fn check<R>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<R>>,
        wrote: bool,
    ) -> Poll<io::Result<R>> {
        if polled.is_ready() {
            if wrote {
                self.stalled = None;
            }
            return polled;
        }
        if !self.deadline.armed() {
            self.stalled = None;
            return Poll::Pending;
        }
        let timeout = self.deadline.0.timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => {
                tracing::debug!("viewer accepted no bytes within the write timeout");
                Poll::Ready(Err(io::ErrorKind::TimedOut.into()))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for DeadlineIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for DeadlineIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.check(cx, polled, true)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.check(cx, polled, true)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.check(cx, polled, false)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
