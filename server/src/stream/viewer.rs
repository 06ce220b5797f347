//! One viewer's place in its room's frame sequence, and the frames-out counters.
//!
//! A [`Viewer`] follows the room's `watch` of the newest frame. Two writers use it: the hyper
//! response body ([`super::body`]: HTTP/1.0, TLS and HTTP/2) and a taken-over socket with an
//! `?fps` cap ([`super::socket`]). The fan-out keeps its own positions and only shares
//! [`FramesOut`].

use std::{sync::Arc, time::Duration};

use tokio::{sync::watch, time::Instant};
use tokio_util::sync::CancellationToken;

use crate::{metrics::Metrics, room::ViewerGuard, stream::wire::Frame};

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
