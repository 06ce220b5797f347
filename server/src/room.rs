//! Rooms: the latest frame, the viewer count and the publisher slot.
//!
//! Rooms hold no secrets: ids and publish tokens are MACs under the server secret
//! ([`crate::capability`]). The map holds only rooms in use (or recently used); a valid id
//! that is not in it — the server restarted, or the room idled out — is a room nobody has
//! published to yet, and a publisher or viewer brings it back into the map.
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

use thiserror::Error;
use tokio::{sync::watch, time::Instant};
use tokio_util::sync::CancellationToken;

use crate::{
    capability::{Keys, RandomError},
    fanout::Fanout,
    jpeg::Dimensions,
    metrics::Metrics,
    mjpeg::Frame,
};

#[derive(Debug, Error)]
pub enum RoomError {
    #[error("the server already has its maximum of {0} rooms")]
    TooManyRooms(usize),
    #[error("the room has its maximum of {0} viewers")]
    TooManyViewers(usize),
    #[error("no such room")]
    Unknown,
    #[error(transparent)]
    Random(#[from] RandomError),
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
#[derive(Clone, Copy, Debug, Default)]
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
    /// The plain-HTTP/1.1 viewers that get each frame in one pass.
    pub fanout: Fanout,
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
    fn new(id: String) -> Self {
        Self {
            id,
            fanout: Fanout::default(),
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
            .send_replace(Some(Arc::new(Frame::new(jpeg, seq, dims))));
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
    fn attach_publisher(self: &Arc<Self>, metrics: Arc<Metrics>) -> PublisherGuard {
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
    keys: Keys,
    metrics: Arc<Metrics>,
}

impl Rooms {
    pub fn new(keys: Keys, metrics: Arc<Metrics>) -> Self {
        Self {
            map: RwLock::new(HashMap::new()),
            keys,
            metrics,
        }
    }

    /// A new room; its publish token is [`Rooms::publish_token`].
    pub fn create(&self, max_rooms: usize) -> Result<Arc<Room>, RoomError> {
        let id = self.keys.new_room_id()?;
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= max_rooms {
            return Err(RoomError::TooManyRooms(max_rooms));
        }
        let room = Arc::new(Room::new(id.clone()));
        map.insert(id, Arc::clone(&room));
        self.metrics.rooms.set(map.len() as i64);
        Ok(room)
    }

    /// Whether `id` is a room id this server's secret made (in memory or not).
    pub fn is_valid_id(&self, id: &str) -> bool {
        self.keys.verify_room_id(id)
    }

    pub fn publish_token(&self, id: &str) -> String {
        self.keys.publish_token(id)
    }

    /// Whether `token` may publish to room `id` (constant time).
    pub fn token_matches(&self, id: &str, token: &str) -> bool {
        self.keys.verify_token(id, token)
    }

    /// The room's in-memory state, if it has any.
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

    /// Runs `f` on room `id`, bringing a valid id back into memory first if needed (within
    /// `max_rooms`). `f` runs under the map's lock, so the idle sweep (write lock) never
    /// removes a room between finding it and `f` making it busy.
    fn with_room<T>(
        &self,
        id: &str,
        max_rooms: usize,
        f: impl FnOnce(&Arc<Room>) -> Result<T, RoomError>,
    ) -> Result<T, RoomError> {
        if !self.keys.verify_room_id(id) {
            return Err(RoomError::Unknown);
        }
        {
            let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(room) = map.get(id) {
                return f(room);
            }
        }
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        // Another request may have restored it between the two locks.
        if let Some(room) = map.get(id) {
            return f(room);
        }
        if map.len() >= max_rooms {
            return Err(RoomError::TooManyRooms(max_rooms));
        }
        let room = Arc::new(Room::new(id.to_owned()));
        let out = f(&room)?;
        map.insert(id.to_owned(), room);
        self.metrics.rooms.set(map.len() as i64);
        tracing::info!(room = %id, "room restored");
        Ok(out)
    }

    /// Counts a new viewer in room `id` (restoring the room if its id is valid).
    pub fn join_viewer(
        &self,
        id: &str,
        max_rooms: usize,
        max_viewers: usize,
    ) -> Result<ViewerGuard, RoomError> {
        self.with_room(id, max_rooms, |room| {
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
            self.metrics.viewers_joined.inc();
            tracing::info!(room = %room.id, "viewer connected");
            Ok(ViewerGuard {
                room: Arc::clone(room),
                metrics: Arc::clone(&self.metrics),
            })
        })
    }

    /// Makes the caller room `id`'s publisher (restoring the room if its id is valid); the
    /// previous publisher is told to close. The token must have been checked already.
    pub fn attach_publisher(
        &self,
        id: &str,
        max_rooms: usize,
    ) -> Result<PublisherGuard, RoomError> {
        self.with_room(id, max_rooms, |room| {
            Ok(room.attach_publisher(Arc::clone(&self.metrics)))
        })
    }

    /// Removes rooms without publisher and viewers for at least `idle`; returns how many.
    /// Their ids stay valid: they come back, empty, when someone uses them again.
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
    use crate::secret::Secret;

    fn rooms() -> Rooms {
        Rooms::new(
            Keys::new(&Secret::random().expect("random")),
            Arc::new(Metrics::new()),
        )
    }

    #[test]
    fn ids_and_tokens_are_distinct_and_verify() {
        let rooms = rooms();
        let a = rooms.create(10).expect("room a");
        let b = rooms.create(10).expect("room b");
        let (ta, tb) = (rooms.publish_token(&a.id), rooms.publish_token(&b.id));
        for id in [&a.id, &b.id] {
            assert!(rooms.is_valid_id(id), "{id}");
        }
        assert_ne!(a.id, b.id);
        assert_ne!(ta, tb);
        assert!(rooms.token_matches(&a.id, &ta));
        assert!(!rooms.token_matches(&a.id, &tb));
        assert!(!rooms.token_matches(&a.id, ""));
    }

    #[test]
    fn room_limit_holds_for_new_and_restored_rooms() {
        let rooms = rooms();
        let first = rooms.create(2).expect("first");
        let id = first.id.clone();
        rooms.create(2).expect("second");
        assert!(matches!(rooms.create(2), Err(RoomError::TooManyRooms(2))));

        // Dropped from memory, the id still works and comes back within the limit.
        drop(first);
        assert_eq!(rooms.sweep(Duration::ZERO), 2);
        assert!(rooms.is_empty());
        let viewer = rooms.join_viewer(&id, 1, 10).expect("restored");
        assert_eq!(rooms.len(), 1);
        let other = rooms.create(5).expect("a new room").id.clone();
        rooms.sweep(Duration::ZERO);
        assert_eq!(rooms.len(), 1, "the watched room stays, the idle one goes");
        assert!(matches!(
            rooms.attach_publisher(&other, 1),
            Err(RoomError::TooManyRooms(1))
        ));
        let publisher = rooms
            .attach_publisher(&id, 1)
            .expect("same room, no new slot");
        assert!(Arc::ptr_eq(&publisher.room, &viewer.room));
    }

    #[test]
    fn a_replaced_publisher_leaves_the_room_live_and_a_departed_one_lets_it_expire() {
        let metrics = Arc::new(Metrics::new());
        let rooms = Rooms::new(
            Keys::new(&Secret::random().expect("random")),
            Arc::clone(&metrics),
        );
        let room = rooms.create(10).expect("room");
        let first = rooms.attach_publisher(&room.id, 10).expect("first");
        let second = rooms.attach_publisher(&room.id, 10).expect("second");
        assert!(first.kicked.is_cancelled(), "the first is told to go");
        assert!(!second.kicked.is_cancelled());
        // Both connections are open until the first one's task ends.
        assert_eq!(metrics.publishers.get(), 2);
        drop(first);
        assert_eq!(metrics.publishers.get(), 1);
        assert!(
            room.snapshot().live,
            "the new publisher keeps the room live"
        );
        assert_eq!(
            rooms.sweep(Duration::ZERO),
            0,
            "a room with a publisher stays"
        );

        drop(second);
        assert_eq!(metrics.publishers.get(), 0);
        assert!(!room.snapshot().live);
        drop(room);
        assert_eq!(
            rooms.sweep(Duration::ZERO),
            1,
            "idle once its publisher left"
        );
        assert!(rooms.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn room_state_has_the_publish_rate_while_frames_come() {
        let rooms = rooms();
        let room = rooms.create(10).expect("room");
        let dims = Dimensions {
            width: 8,
            height: 8,
        };
        for _ in 0..25 {
            room.publish(&[0xFF, 0xD8, 0xFF, 0xD9], dims);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let state = room.snapshot();
        assert_eq!(state.frames, 25);
        assert_eq!(state.dims, Some(dims));
        assert!((state.fps - 20.0).abs() < 0.5, "{} fps", state.fps);
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(
            room.snapshot().fps.abs() < f64::EPSILON,
            "a stale rate reads 0"
        );
    }

    #[test]
    fn unknown_ids_are_never_restored() {
        let rooms = rooms();
        let id = rooms.create(10).expect("room").id.clone();
        let foreign = self::rooms().create(10).expect("room").id.clone();
        for bad in [foreign.as_str(), "", "../../etc/passwd", &"A".repeat(32)] {
            assert!(!rooms.is_valid_id(bad), "{bad}");
            assert!(matches!(
                rooms.join_viewer(bad, 10, 10),
                Err(RoomError::Unknown)
            ));
            assert!(matches!(
                rooms.attach_publisher(bad, 10),
                Err(RoomError::Unknown)
            ));
        }
        assert!(rooms.is_valid_id(&id));
        assert_eq!(rooms.len(), 1);
    }
}
