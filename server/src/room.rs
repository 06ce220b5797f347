//! Rooms: their secrets, the latest frame, the viewer count and the publisher slot.
//!
//! A room's frame lives in a `watch` channel: the publisher replaces it, every viewer task
//! reads the newest one when it is ready to write. The viewer count is a `watch` too, so the
//! publisher task hears every change without polling. Both outlive any one publisher, which
//! is why viewers stay connected while the publisher is away.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use rand::{TryRngCore, rngs::OsRng};
use subtle::ConstantTimeEq;
use thiserror::Error;
use tokio::{sync::watch, time::Instant};
use tokio_util::sync::CancellationToken;

use crate::{jpeg::Dimensions, metrics::Metrics, mjpeg};

/// Random bytes in a room id and in a publish token (128 bits each).
const SECRET_BYTES: usize = 16;

/// A frame ready for viewers: the multipart part built once and shared by all of them.
pub struct Frame {
    /// Part headers, the JPEG and the boundary line that follows it.
    pub part: Bytes,
    /// The JPEG alone (a slice of `part`, no copy).
    pub jpeg: Bytes,
    /// 1 for the room's first frame, then +1 for each.
    pub seq: u64,
    pub dims: Dimensions,
}

#[derive(Debug, Error)]
pub enum RoomError {
    #[error("the server already has its maximum of {0} rooms")]
    TooManyRooms(usize),
    #[error("the room has its maximum of {0} viewers")]
    TooManyViewers(usize),
    #[error("no such room")]
    Unknown,
    #[error("the operating system's random source failed")]
    Random,
}

/// The publish-rate figures of a room.
struct Stats {
    frames: u64,
    dims: Option<Dimensions>,
    last_frame: Option<Instant>,
    window_start: Option<Instant>,
    window_frames: u32,
    fps: f64,
}

/// What `GET /api/rooms/{room}` reports.
#[derive(Clone, Copy, Debug)]
pub struct Snapshot {
    pub live: bool,
    pub viewers: usize,
    pub frames: u64,
    pub fps: f64,
    pub dims: Option<Dimensions>,
}

struct PublisherSlot {
    id: u64,
    kicked: CancellationToken,
}

pub struct Room {
    pub id: String,
    token: String,
    frame: watch::Sender<Option<Arc<Frame>>>,
    viewers: watch::Sender<usize>,
    publisher: Mutex<Option<PublisherSlot>>,
    stats: Mutex<Stats>,
    /// When the room last stopped having a publisher or viewers (or was created).
    idle_since: Mutex<Instant>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here is a few assignments that cannot leave a half-done state.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Room {
    fn new(id: String, token: String) -> Self {
        Self {
            id,
            token,
            frame: watch::Sender::new(None),
            viewers: watch::Sender::new(0),
            publisher: Mutex::new(None),
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

    /// Constant-time comparison, so the answer time says nothing about the token.
    pub fn token_matches(&self, candidate: &str) -> bool {
        candidate.as_bytes().ct_eq(self.token.as_bytes()).into()
    }

    /// Frames the room publishes, newest only.
    pub fn frames(&self) -> watch::Receiver<Option<Arc<Frame>>> {
        self.frame.subscribe()
    }

    pub fn latest(&self) -> Option<Arc<Frame>> {
        self.frame.borrow().clone()
    }

    /// The viewer count, for the publisher.
    pub fn viewer_count(&self) -> watch::Receiver<usize> {
        self.viewers.subscribe()
    }

    /// Frames `jpeg` once into a multipart part and makes it every viewer's latest frame.
    pub fn publish(&self, jpeg: &[u8], dims: Dimensions) {
        let (part, range) = mjpeg::frame_part(jpeg);
        let jpeg = part.slice(range);
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
        self.frame.send_replace(Some(Arc::new(Frame {
            part,
            jpeg,
            seq,
            dims,
        })));
    }

    pub fn snapshot(&self) -> Snapshot {
        let stats = lock(&self.stats);
        // A rate measured a while ago says nothing about now.
        let recent = stats
            .last_frame
            .is_some_and(|t| t.elapsed() < Duration::from_secs(2));
        Snapshot {
            live: lock(&self.publisher).is_some(),
            viewers: *self.viewers.borrow(),
            frames: stats.frames,
            fps: if recent { stats.fps } else { 0.0 },
            dims: stats.dims,
        }
    }

    fn is_busy(&self) -> bool {
        *self.viewers.borrow() > 0 || lock(&self.publisher).is_some()
    }

    fn mark_maybe_idle(&self) {
        if !self.is_busy() {
            *lock(&self.idle_since) = Instant::now();
        }
    }

    /// Makes the caller the room's publisher; the previous one's token is cancelled so it closes.
    pub fn attach_publisher(self: &Arc<Self>, metrics: Arc<Metrics>) -> PublisherGuard {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let kicked = CancellationToken::new();
        let previous = lock(&self.publisher).replace(PublisherSlot {
            id,
            kicked: kicked.clone(),
        });
        if let Some(previous) = previous {
            previous.kicked.cancel();
        }
        metrics.publishers.inc();
        PublisherGuard {
            room: Arc::clone(self),
            metrics,
            id,
            kicked,
        }
    }
}

/// Held by a publisher's task; leaving the room when dropped.
pub struct PublisherGuard {
    pub room: Arc<Room>,
    metrics: Arc<Metrics>,
    id: u64,
    /// Cancelled when another publisher takes over.
    pub kicked: CancellationToken,
}

impl Drop for PublisherGuard {
    fn drop(&mut self) {
        {
            let mut slot = lock(&self.room.publisher);
            if slot.as_ref().is_some_and(|s| s.id == self.id) {
                *slot = None;
            }
        }
        self.metrics.publishers.dec();
        self.room.mark_maybe_idle();
    }
}

/// Held by a viewer's stream; counts it in the room while alive.
pub struct ViewerGuard {
    pub room: Arc<Room>,
    metrics: Arc<Metrics>,
}

impl Drop for ViewerGuard {
    fn drop(&mut self) {
        self.room.viewers.send_modify(|n| *n = n.saturating_sub(1));
        self.metrics.viewers.dec();
        self.room.mark_maybe_idle();
        tracing::info!(room = %self.room.id, "viewer disconnected");
    }
}

/// All rooms of the server.
pub struct Rooms {
    map: RwLock<HashMap<String, Arc<Room>>>,
    metrics: Arc<Metrics>,
}

/// `SECRET_BYTES` from the OS as lowercase hex: URL-safe and easy to validate.
fn random_hex() -> Result<String, RoomError> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = [0u8; SECRET_BYTES];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| RoomError::Random)?;
    Ok(bytes
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])
        .map(char::from)
        .collect())
}

/// Whether `id` has the shape of a room id; anything else is turned away before a lookup.
pub fn is_well_formed_id(id: &str) -> bool {
    id.len() == SECRET_BYTES * 2
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Rooms {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            map: RwLock::new(HashMap::new()),
            metrics,
        }
    }

    /// A new room and its publish token.
    pub fn create(&self, max_rooms: usize) -> Result<(Arc<Room>, String), RoomError> {
        let id = random_hex()?;
        let token = random_hex()?;
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= max_rooms {
            return Err(RoomError::TooManyRooms(max_rooms));
        }
        let room = Arc::new(Room::new(id.clone(), token.clone()));
        map.insert(id, Arc::clone(&room));
        self.metrics.rooms.set(map.len() as i64);
        Ok((room, token))
    }

    pub fn get(&self, id: &str) -> Option<Arc<Room>> {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    pub fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Counts a new viewer in room `id`. Done under the map's read lock so the idle sweep
    /// (write lock) never removes a room a viewer is joining.
    pub fn join_viewer(&self, id: &str, max_viewers: usize) -> Result<ViewerGuard, RoomError> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        let room = map.get(id).ok_or(RoomError::Unknown)?;
        let joined = room.viewers.send_if_modified(|n| {
            if *n < max_viewers {
                *n += 1;
                true
            } else {
                false
            }
        });
        if !joined {
            return Err(RoomError::TooManyViewers(max_viewers));
        }
        self.metrics.viewers.inc();
        tracing::info!(room = %room.id, "viewer connected");
        Ok(ViewerGuard {
            room: Arc::clone(room),
            metrics: Arc::clone(&self.metrics),
        })
    }

    /// Removes rooms without publisher and viewers for at least `idle`; returns how many.
    pub fn sweep(&self, idle: Duration) -> usize {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        let before = map.len();
        map.retain(|id, room| {
            let keep = room.is_busy() || lock(&room.idle_since).elapsed() < idle;
            if !keep {
                tracing::info!(room = %id, "idle room removed");
            }
            keep
        });
        self.metrics.rooms.set(map.len() as i64);
        before - map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_tokens_are_distinct_hex_of_128_bits() {
        let rooms = Rooms::new(Arc::new(Metrics::new()));
        let (a, ta) = rooms.create(10).expect("room a");
        let (b, tb) = rooms.create(10).expect("room b");
        for s in [&a.id, &b.id, &ta, &tb] {
            assert!(is_well_formed_id(s), "{s}");
        }
        assert_ne!(a.id, b.id);
        assert_ne!(ta, tb);
        assert!(a.token_matches(&ta));
        assert!(!a.token_matches(&tb));
        assert!(!a.token_matches(""));
    }

    #[test]
    fn room_limit_holds() {
        let rooms = Rooms::new(Arc::new(Metrics::new()));
        rooms.create(2).expect("first");
        rooms.create(2).expect("second");
        assert!(matches!(rooms.create(2), Err(RoomError::TooManyRooms(2))));
    }

    #[test]
    fn malformed_ids_are_recognised() {
        assert!(!is_well_formed_id(""));
        assert!(!is_well_formed_id("../../etc/passwd"));
        assert!(!is_well_formed_id(&"A".repeat(32)));
        assert!(is_well_formed_id(&"0a".repeat(16)));
    }
}
