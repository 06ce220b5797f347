//! MJPEG over `multipart/x-mixed-replace`: framing a JPEG once, and which frame a viewer
//! gets next.
//!
//! The body starts with a boundary line; every part is `headers, JPEG, CRLF, boundary line`,
//! so the boundary follows each frame at once (browsers show a part only when they see the
//! next boundary). A [`Frame`] is built once per published JPEG and shared by every viewer:
//! the part sits inside one buffer that also holds the HTTP/1.1 chunk framing around it, so
//! hyper (which frames chunks itself) and [`crate::direct`] (which writes taken-over sockets)
//! send slices of the same bytes.
//!
//! A viewer ([`Viewer`]) follows the room's `watch` of the newest frame. Two writers use it:
//! [`viewer_body`] (a hyper response body: HTTP/1.0, TLS and HTTP/2) and
//! [`crate::direct`] and [`crate::fanout`] (plain HTTP/1.1, the common case; the fan-out
//! keeps its own positions).

use std::{convert::Infallible, fmt::Write as _, sync::Arc, sync::OnceLock, time::Duration};

use axum::body::Body;
use bytes::{BufMut, Bytes, BytesMut};
use tokio::{sync::watch, time::Instant};
use tokio_util::sync::CancellationToken;

use crate::{jpeg::Dimensions, metrics::Metrics, room::ViewerGuard, zerocopy::SharedFile};

pub const BOUNDARY: &str = "lenscastframe";
pub const CONTENT_TYPE: &str = "multipart/x-mixed-replace; boundary=lenscastframe";
pub const PROLOGUE: &[u8] = b"--lenscastframe\r\n";
const TRAILER: &[u8] = b"\r\n--lenscastframe\r\n";
const CRLF: &[u8] = b"\r\n";

/// A published frame, ready for viewers.
pub struct Frame {
    /// The part as one HTTP/1.1 chunk: size line, part, CRLF.
    pub chunk: Bytes,
    /// Part headers, the JPEG and the boundary line that follows it (a slice of `chunk`).
    pub part: Bytes,
    /// The JPEG alone (a slice of `chunk`).
    pub jpeg: Bytes,
    /// 1 for the room's first frame, then +1 for each.
    pub seq: u64,
    pub dims: Dimensions,
    /// `chunk` in an in-memory file (and its page pipe) for zero-copy sends, made by the
    /// first fan-out pass big enough to gain from it (`None` where that is not possible).
    file: OnceLock<Option<SharedFile>>,
}

impl Frame {
    pub fn new(jpeg: &[u8], seq: u64, dims: Dimensions) -> Self {
        let mut head = String::with_capacity(64);
        // Infallible: formatting into a String.
        let _ = write!(
            head,
            "Content-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
            jpeg.len()
        );
        let part_len = head.len() + jpeg.len() + TRAILER.len();
        let size_line = format!("{part_len:X}\r\n");
        let mut chunk = BytesMut::with_capacity(size_line.len() + part_len + CRLF.len());
        chunk.put_slice(size_line.as_bytes());
        chunk.put_slice(head.as_bytes());
        chunk.put_slice(jpeg);
        chunk.put_slice(TRAILER);
        chunk.put_slice(CRLF);
        let chunk = chunk.freeze();
        let part = chunk.slice(size_line.len()..size_line.len() + part_len);
        let jpeg = part.slice(head.len()..head.len() + jpeg.len());
        Self {
            chunk,
            part,
            jpeg,
            seq,
            dims,
            file: OnceLock::new(),
        }
    }

    /// `chunk` as a file that can be sent without copying, made now if not yet (where this
    /// machine allows it).
    pub fn shared_file(&self) -> Option<&SharedFile> {
        self.file
            .get_or_init(|| SharedFile::new(&self.chunk).ok())
            .as_ref()
    }

    /// The shared file, if one was made.
    pub fn existing_shared_file(&self) -> Option<&SharedFile> {
        self.file.get()?.as_ref()
    }
}

/// Frames going out to viewers, counted locally and recorded at once (a fan-out pass sends
/// hundreds).
#[derive(Default)]
pub struct FramesOut {
    frames: u64,
    bytes: u64,
    dropped: u64,
    pub bytes_zero_copy: usize,
}

impl FramesOut {
    /// `frame` goes to a viewer whose last frame was `last_seq` (0: none yet). The frames in
    /// between were dropped for it, unless it asked for fewer (`capped`).
    pub fn add(&mut self, last_seq: u64, frame: &Frame, capped: bool) {
        if !capped && last_seq > 0 {
            self.dropped += frame.seq.saturating_sub(last_seq + 1);
        }
        self.frames += 1;
        self.bytes += frame.part.len() as u64;
    }

    pub fn record(&self, metrics: &Metrics) {
        metrics.frames_out.inc_by(self.frames);
        metrics.bytes_out.inc_by(self.bytes);
        if self.dropped > 0 {
            metrics.frames_dropped.inc_by(self.dropped);
        }
        if self.bytes_zero_copy > 0 {
            metrics.bytes_zero_copy.inc_by(self.bytes_zero_copy as u64);
        }
    }
}

/// One viewer's position in a room's frame sequence.
pub struct Viewer {
    frames: watch::Receiver<Option<Arc<Frame>>>,
    shutdown: CancellationToken,
    metrics: Arc<Metrics>,
    /// Minimum time between two frames (`?fps=N`).
    period: Option<Duration>,
    next_at: Option<Instant>,
    last_seq: u64,
    // Dropped with the viewer: it leaves the room's count.
    _guard: ViewerGuard,
}

impl Viewer {
    pub fn new(
        guard: ViewerGuard,
        fps: Option<f64>,
        shutdown: CancellationToken,
        metrics: Arc<Metrics>,
    ) -> Self {
        let mut frames = guard.room.frames();
        // The current frame (if any) goes out at once, not after the next publish.
        frames.mark_changed();
        Self {
            frames,
            shutdown,
            metrics,
            period: fps.map(|f| Duration::from_secs_f64(1.0 / f)),
            next_at: None,
            last_seq: 0,
            _guard: guard,
        }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Resolves when the server starts shutting down.
    pub async fn shutting_down(&self) {
        self.shutdown.cancelled().await;
    }

    /// The next frame to write, waiting for a newer one than the last; `None` at shutdown.
    pub async fn next_frame(&mut self) -> Option<Arc<Frame>> {
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
            let mut out = FramesOut::default();
            out.add(self.last_seq, &frame, self.period.is_some());
            out.record(&self.metrics);
            self.last_seq = frame.seq;
            if let Some(period) = self.period {
                self.next_at = Some(Instant::now() + period);
            }
            return Some(frame);
        }
    }
}

/// A viewer's response body for hyper to write: the prologue, then the newest frame
/// whenever the connection can take one, until the viewer leaves or the server shuts down.
pub fn viewer_body(viewer: Viewer) -> Body {
    let prologue = futures_util::stream::once(async { Bytes::from_static(PROLOGUE) });
    let frames = futures_util::stream::unfold(viewer, |mut viewer| async move {
        let frame = viewer.next_frame().await?;
        Some((frame.part.clone(), viewer))
    });
    Body::from_stream(futures_util::StreamExt::map(
        futures_util::StreamExt::chain(prologue, frames),
        Ok::<_, Infallible>,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims() -> Dimensions {
        Dimensions {
            width: 1,
            height: 1,
        }
    }

    #[test]
    fn part_has_headers_jpeg_and_boundary_inside_one_chunk() {
        let frame = Frame::new(b"\xFF\xD8abc\xFF\xD9", 1, dims());
        assert_eq!(&frame.jpeg[..], b"\xFF\xD8abc\xFF\xD9");
        let part: &[u8] = b"Content-Type: image/jpeg\r\nContent-Length: 7\r\n\r\n\xFF\xD8abc\xFF\xD9\r\n--lenscastframe\r\n";
        assert_eq!(&frame.part[..], part);
        let mut chunk = format!("{:X}\r\n", part.len()).into_bytes();
        chunk.extend_from_slice(part);
        chunk.extend_from_slice(b"\r\n");
        assert_eq!(&frame.chunk[..], &chunk[..]);
        assert!(CONTENT_TYPE.ends_with(BOUNDARY));
    }
}
