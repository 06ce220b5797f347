//! One room: the latest frame, the viewer count and the publisher slot.
//!
//! A room's frame lives in a `watch` channel: the publisher replaces it, and each viewer
//! (or the room's fan-out pass, for most viewers) reads the newest one when it is ready to
//! write. The viewer count is a `watch` too, so the publisher task hears every change without
//! polling. Both outlive any one publisher, which is why viewers stay connected while the
//! publisher is away. The map of all rooms is [`crate::rooms`].
//!
//! A room can be ended by its publisher ([`Room::end`]): its `closing` token is cancelled,
//! which ends the publisher's socket and every viewer's stream the way a shutdown does (the
//! token is a child of the server's shutdown token), and it takes no publisher or viewer
//! until it expires from memory.

use std::{
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use protocol::RoomState;
use tokio::{sync::watch, time::Instant};
use tokio_util::sync::CancellationToken;

use crate::{
    jpeg::Dimensions,
    metrics::Metrics,
    per_address::AddressSlot,
    stream::{members::Fanout, wire::Frame},
};

/// The publish-rate figures of a room.
struct Stats {
    frames: u64,
    dims: Option<Dimensions>,
    last_frame: Option<Instant>,
    window_start: Option<Instant>,
    window_frames: u32,
    fps: f64,
}

struct PublisherSlot {
    id: u64,
    /// When it connected (Unix milliseconds, unique per process): in a cluster, the newer
    /// of two publishers on different nodes wins.
    generation: u64,
    kicked: CancellationToken,
}

/// Milliseconds since the Unix epoch, strictly increasing within this process, so two
/// publishers never share a generation on one node.
fn next_generation() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

pub struct Room {
    pub id: String,
    /// The plain-HTTP/1.1 viewers that get each frame in one pass (`crate::stream`).
    pub fanout: Fanout,
    frame: watch::Sender<Option<Arc<Frame>>>,
    /// Viewers on this node.
    pub(crate) viewers: watch::Sender<usize>,
    /// Viewers of the room on other nodes of the cluster (set from their presence; always
    /// 0 without a cluster).
    remote_viewers: watch::Sender<usize>,
    publisher: Mutex<Option<PublisherSlot>>,
    /// The generation of this node's publisher, if it has one (for the cluster link).
    local_publisher: watch::Sender<Option<u64>>,
    stats: Mutex<Stats>,
    /// When the room last stopped having a publisher or viewers (or was created).
    pub(crate) idle_since: Mutex<Instant>,
    /// Set once by [`Room::end`], never cleared: only expiry forgets it.
    ended: AtomicBool,
    /// Cancelled when the room ends or the server shuts down.
    closing: CancellationToken,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here is a few assignments that cannot leave a half-done state.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Room {
    #[cfg(test)]
    pub(crate) fn new(id: String) -> Self {
        Self::closing_with(id, &CancellationToken::new())
    }

    /// A room whose streams and publisher also end when `shutdown` is cancelled.
    pub(crate) fn closing_with(id: String, shutdown: &CancellationToken) -> Self {
        Self {
            ended: AtomicBool::new(false),
            closing: shutdown.child_token(),
            id,
            fanout: Fanout::default(),
            frame: watch::Sender::new(None),
            viewers: watch::Sender::new(0),
            remote_viewers: watch::Sender::new(0),
            publisher: Mutex::new(None),
            local_publisher: watch::Sender::new(None),
            stats: Mutex::new(Stats {
                frames: 0,
                dims: None,
                last_frame: None,
                window_start: None,
                window_frames: 0,
                fps: 0.0,
            }),
            idle_since: Mutex::new(Instant::now()),
        }
    }

    /// Whether the publisher ended the room.
    pub fn is_ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }

    /// Cancelled when the room ends or the server shuts down: streams and the publisher's
    /// socket end then.
    pub fn closing(&self) -> CancellationToken {
        self.closing.clone()
    }

    /// Ends the room: the publisher's socket closes normally, viewers' streams end, and no
    /// publisher or viewer is let in again while the room is in memory.
    pub(crate) fn end(&self) {
        self.ended.store(true, Ordering::Release);
        self.closing.cancel();
    }

    /// Frames the room publishes, newest only.
    pub fn frames(&self) -> watch::Receiver<Option<Arc<Frame>>> {
        self.frame.subscribe()
    }

    pub fn latest(&self) -> Option<Arc<Frame>> {
        self.frame.borrow().clone()
    }

    /// This node's viewer count.
    pub fn viewer_count(&self) -> watch::Receiver<usize> {
        self.viewers.subscribe()
    }

    /// The viewer count on other nodes.
    pub fn remote_viewer_count(&self) -> watch::Receiver<usize> {
        self.remote_viewers.subscribe()
    }

    pub(crate) fn set_remote_viewers(&self, n: usize) {
        self.remote_viewers.send_if_modified(|old| {
            let changed = *old != n;
            *old = n;
            changed
        });
    }

    /// The generation of this node's publisher, if any, and its changes.
    pub(crate) fn local_publisher(&self) -> watch::Receiver<Option<u64>> {
        self.local_publisher.subscribe()
    }

    /// Closes this node's publisher (as a replaced one) if `newer` says a publisher that
    /// connected elsewhere is newer than it; returns whether it did.
    pub(crate) fn kick_publisher_if(&self, newer: impl FnOnce(u64) -> bool) -> bool {
        let slot = lock(&self.publisher);
        match slot.as_ref() {
            Some(s) if newer(s.generation) => {
                s.kicked.cancel();
                true
            }
            _ => false,
        }
    }

    /// Frames `jpeg` once into a multipart part and makes it every viewer's latest frame.
    pub fn publish(&self, jpeg: &[u8], dims: Dimensions) {
        let now = Instant::now();
        let seq = {
            let mut stats = lock(&self.stats);
            stats.frames += 1;
            stats.dims = Some(dims);
            stats.last_frame = Some(now);
            match stats.window_start {
                Some(start) if now - start >= Duration::from_secs(1) => {
                    stats.fps = f64::from(stats.window_frames) / (now - start).as_secs_f64();
                    stats.window_start = Some(now);
                    stats.window_frames = 0;
                }
                Some(_) => {}
                None => stats.window_start = Some(now),
            }
            stats.window_frames += 1;
            stats.frames
        };
        self.frame
            .send_replace(Some(Arc::new(Frame::new(jpeg, seq))));
    }

    /// What `GET /api/rooms/{room}` reports.
    pub fn state(&self) -> RoomState {
        let stats = lock(&self.stats);
        // A rate measured a while ago says nothing about now.
        let recent = stats
            .last_frame
            .is_some_and(|t| t.elapsed() < Duration::from_secs(2));
        let fps = if recent { stats.fps } else { 0.0 };
        let (width, height) = stats.dims.map_or((0, 0), |d| (d.width, d.height));
        RoomState {
            room: self.id.clone(),
            live: lock(&self.publisher).is_some() && !self.is_ended(),
            ended: self.is_ended(),
            viewers: self.viewers(),
            frames: stats.frames,
            fps: (fps * 10.0).round() / 10.0,
            width,
            height,
        }
    }

    /// Viewers right now, on every node of the cluster.
    pub fn viewers(&self) -> u32 {
        let all = *self.viewers.borrow() + *self.remote_viewers.borrow();
        u32::try_from(all).unwrap_or(u32::MAX)
    }

    /// Viewers on this node.
    pub fn local_viewers(&self) -> usize {
        *self.viewers.borrow()
    }

    /// Whether this node has the room's publisher.
    pub fn has_local_publisher(&self) -> bool {
        lock(&self.publisher).is_some()
    }

    pub(crate) fn is_busy(&self) -> bool {
        *self.viewers.borrow() > 0 || lock(&self.publisher).is_some()
    }

    fn mark_maybe_idle(&self) {
        if !self.is_busy() {
            *lock(&self.idle_since) = Instant::now();
        }
    }

    /// Makes the caller the room's publisher; the previous one's token is cancelled so it closes.
    pub(crate) fn attach_publisher(self: &Arc<Self>, metrics: Arc<Metrics>) -> PublisherGuard {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let kicked = CancellationToken::new();
        let generation = next_generation();
        let previous = {
            let mut slot = lock(&self.publisher);
            let previous = slot.replace(PublisherSlot {
                id,
                generation,
                kicked: kicked.clone(),
            });
            self.local_publisher.send_replace(Some(generation));
            previous
        };
        if let Some(previous) = previous {
            previous.kicked.cancel();
        }
        metrics.publishers.inc();
        PublisherGuard {
            room: Arc::clone(self),
            metrics,
            id,
            generation,
            kicked,
        }
    }
}

/// Held by a publisher's task; leaving the room when dropped.
pub struct PublisherGuard {
    pub room: Arc<Room>,
    metrics: Arc<Metrics>,
    id: u64,
    pub generation: u64,
    /// Cancelled when another publisher takes over.
    pub kicked: CancellationToken,
}

impl Drop for PublisherGuard {
    fn drop(&mut self) {
        {
            let mut slot = lock(&self.room.publisher);
            if slot.as_ref().is_some_and(|s| s.id == self.id) {
                *slot = None;
                self.room.local_publisher.send_replace(None);
            }
        }
        self.metrics.publishers.dec();
        self.room.mark_maybe_idle();
    }
}

/// Held by a viewer's stream; counts it in the room (and its client address's slot) while
/// alive.
pub struct ViewerGuard {
    pub room: Arc<Room>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) address_slot: Option<AddressSlot>,
}

impl ViewerGuard {
    /// Keeps the client's per-address slot as long as the viewer.
    #[must_use]
    pub fn holding(mut self, slot: AddressSlot) -> Self {
        self.address_slot = Some(slot);
        self
    }
}

impl Drop for ViewerGuard {
    fn drop(&mut self) {
        self.room.viewers.send_modify(|n| *n = n.saturating_sub(1));
        self.metrics.viewers.dec();
        self.room.mark_maybe_idle();
        tracing::debug!(room = %self.room.id, "viewer disconnected");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn room_state_has_the_publish_rate_while_frames_come() {
        let room = Room::new("r".to_owned());
        let dims = Dimensions {
            width: 8,
            height: 8,
        };
        for _ in 0..25 {
            room.publish(&[0xFF, 0xD8, 0xFF, 0xD9], dims);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let state = room.state();
        assert_eq!(state.frames, 25);
        assert_eq!((state.width, state.height), (dims.width, dims.height));
        assert!((state.fps - 20.0).abs() < 0.5, "{} fps", state.fps);
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(
            room.state().fps.abs() < f64::EPSILON,
            "a stale rate reads 0"
        );
    }
}
