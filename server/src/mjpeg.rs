//! MJPEG over `multipart/x-mixed-replace`: framing a JPEG once, and one viewer's stream.
//!
//! The body starts with a boundary line; every part is `headers, JPEG, CRLF, boundary line`,
//! so the boundary follows each frame at once (browsers show a part only when they see the
//! next boundary). A part is a single `Bytes` shared by every viewer.

use std::{convert::Infallible, ops::Range, sync::Arc, time::Duration};

use axum::body::Body;
use bytes::{BufMut, Bytes, BytesMut};
use tokio::{sync::watch, time::Instant};
use tokio_util::sync::CancellationToken;

use crate::{
    metrics::Metrics,
    room::{Frame, ViewerGuard},
};

pub const BOUNDARY: &str = "lenscastframe";
pub const CONTENT_TYPE: &str = "multipart/x-mixed-replace; boundary=lenscastframe";
const PROLOGUE: &[u8] = b"--lenscastframe\r\n";
const TRAILER: &[u8] = b"\r\n--lenscastframe\r\n";

/// The part for `jpeg` and where the JPEG sits inside it.
pub fn frame_part(jpeg: &[u8]) -> (Bytes, Range<usize>) {
    let head = format!(
        "Content-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
        jpeg.len()
    );
    let mut part = BytesMut::with_capacity(head.len() + jpeg.len() + TRAILER.len());
    part.put_slice(head.as_bytes());
    part.put_slice(jpeg);
    part.put_slice(TRAILER);
    (part.freeze(), head.len()..head.len() + jpeg.len())
}

/// One viewer's position in a room's frame sequence.
struct Viewer {
    frames: watch::Receiver<Option<Arc<Frame>>>,
    shutdown: CancellationToken,
    metrics: Arc<Metrics>,
    /// Minimum time between two frames (`?fps=N`).
    period: Option<Duration>,
    next_at: Option<Instant>,
    last_seq: u64,
    started: bool,
    // Dropped with the stream: the viewer leaves the room's count.
    _guard: ViewerGuard,
}

impl Viewer {
    /// The next chunk to write, waiting for a newer frame than the last one written.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        if !self.started {
            self.started = true;
            return Some(Bytes::from_static(PROLOGUE));
        }
        loop {
            tokio::select! {
                biased;
                () = self.shutdown.cancelled() => return None,
                changed = self.frames.changed() => changed.ok()?,
            }
            if let Some(at) = self.next_at.filter(|at| *at > Instant::now()) {
                tokio::select! {
                    biased;
                    () = self.shutdown.cancelled() => return None,
                    () = tokio::time::sleep_until(at) => {}
                }
            }
            let Some(frame) = self.frames.borrow_and_update().clone() else {
                continue;
            };
            // A watch only reports new values, but a duplicate must never reach a viewer.
            if frame.seq <= self.last_seq {
                continue;
            }
            if self.period.is_none() && self.last_seq > 0 {
                self.metrics
                    .frames_dropped
                    .inc_by(frame.seq - self.last_seq - 1);
            }
            self.last_seq = frame.seq;
            if let Some(period) = self.period {
                self.next_at = Some(Instant::now() + period);
            }
            self.metrics.frames_out.inc();
            self.metrics.bytes_out.inc_by(frame.part.len() as u64);
            return Some(frame.part.clone());
        }
    }
}

/// The response body of one viewer: the prologue, then the newest frame whenever the
/// connection can take one, until the viewer leaves or the server shuts down.
pub fn viewer_body(
    guard: ViewerGuard,
    fps: Option<f64>,
    shutdown: CancellationToken,
    metrics: Arc<Metrics>,
) -> Body {
    let mut frames = guard.room.frames();
    // The current frame (if any) goes out at once, not after the next publish.
    frames.mark_changed();
    let viewer = Viewer {
        frames,
        shutdown,
        metrics,
        period: fps.map(|f| Duration::from_secs_f64(1.0 / f)),
        next_at: None,
        last_seq: 0,
        started: false,
        _guard: guard,
    };
    Body::from_stream(futures_util::stream::unfold(viewer, |mut v| async move {
        let chunk = v.next_chunk().await?;
        Some((Ok::<_, Infallible>(chunk), v))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_has_headers_jpeg_and_boundary() {
        let (part, range) = frame_part(b"\xFF\xD8abc\xFF\xD9");
        assert_eq!(&part[range], b"\xFF\xD8abc\xFF\xD9");
        assert_eq!(
            &part[..],
            b"Content-Type: image/jpeg\r\nContent-Length: 7\r\n\r\n\xFF\xD8abc\xFF\xD9\r\n--lenscastframe\r\n"
        );
        assert!(CONTENT_TYPE.ends_with(BOUNDARY));
    }
}
