//! All rooms of the server: a map from id to [`Room`], holding only rooms in use (or
//! recently used).
//!
//! Rooms hold no secrets: ids and publish tokens are MACs under the server secret
//! ([`crate::capability`]). A valid id that is not in the map (the server restarted, or
//! the room idled out) is a room nobody has published to yet, and a publisher or viewer
//! brings it back into the map.

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError, RwLock},
    time::Duration,
};

use thiserror::Error;
use tokio_util::sync::CancellationToken;

use crate::{
    capability::{Keys, RandomError},
    metrics::Metrics,
    room::{PublisherGuard, Room, ViewerGuard, lock},
};

#[derive(Debug, Error)]
pub enum RoomError {
    #[error("the server already has its maximum of {0} rooms")]
    TooManyRooms(usize),
    #[error("the room has its maximum of {0} viewers")]
    TooManyViewers(usize),
    #[error("no such room")]
    Unknown,
    /// The publisher ended the room: it takes no more publishers or viewers.
    #[error("the broadcast has ended")]
    Ended,
    /// Bringing a room back into memory for a viewer counts against the client's room
    /// creation rate, which it is over.
    #[error("too many rooms brought back from this address; retry later")]
    RestoreRate,
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// All rooms of the server.
pub struct Rooms {
    map: RwLock<HashMap<String, Arc<Room>>>,
    keys: Keys,
    metrics: Arc<Metrics>,
    /// The server's shutdown token: each room's closing token is its child.
    shutdown: CancellationToken,
}

impl Rooms {
    pub fn new(keys: Keys, metrics: Arc<Metrics>) -> Self {
        Self {
            map: RwLock::new(HashMap::new()),
            keys,
            metrics,
            shutdown: CancellationToken::new(),
        }
    }

    /// Rooms whose streams and publishers also end when `shutdown` is cancelled.
    #[must_use]
    pub fn with_shutdown(mut self, shutdown: CancellationToken) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// A new room; its publish token is [`Rooms::publish_token`].
    pub fn create(&self, max_rooms: usize) -> Result<Arc<Room>, RoomError> {
        let id = self.keys.new_room_id()?;
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        self.make_room_for_one(&mut map, max_rooms)?;
        let room = Arc::new(Room::closing_with(id.clone(), &self.shutdown));
        map.insert(id, Arc::clone(&room));
        self.metrics.rooms.set(map.len() as i64);
        Ok(room)
    }

    /// Frees a slot in a full map by dropping the room unused for longest (no publisher, no
    /// viewer), so rooms that were made and never used cannot keep live ones out. Its id
    /// stays valid: it comes back, empty, when someone uses it. Only rooms in use count
    /// against the limit in the end.
    fn make_room_for_one(
        &self,
        map: &mut HashMap<String, Arc<Room>>,
        max_rooms: usize,
    ) -> Result<(), RoomError> {
        if map.len() < max_rooms {
            return Ok(());
        }
        // An ended room goes last: dropping it would forget that it ended (its viewers
        // would see "waiting" again), so it stays while any other unused room can go.
        let unused_longest = map
            .iter()
            .filter(|(_, room)| !room.is_busy())
            .min_by_key(|(_, room)| (room.is_ended(), *lock(&room.idle_since)))
            .map(|(id, _)| id.clone())
            .ok_or(RoomError::TooManyRooms(max_rooms))?;
        map.remove(&unused_longest);
        self.metrics.rooms_evicted.inc();
        tracing::debug!(room = %unused_longest, "unused room dropped to make space");
        Ok(())
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

    /// The rooms with viewers or a publisher on this node.
    pub fn in_use(&self) -> Vec<Arc<Room>> {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter(|room| room.is_busy())
            .cloned()
            .collect()
    }

    /// The ids of up to `max` ended rooms in memory.
    pub fn ended(&self, max: usize) -> Vec<String> {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter(|room| room.is_ended())
            .take(max)
            .map(|room| room.id.clone())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `f` on room `id`, bringing a valid id back into memory first if needed (within
    /// `max_rooms`, and if `may_restore` agrees). `f` runs under the map's lock, so the idle
    /// sweep (write lock) never removes a room between finding it and `f` making it busy.
    fn with_room<T>(
        &self,
        id: &str,
        max_rooms: usize,
        may_restore: impl FnOnce() -> bool,
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
        if !may_restore() {
            return Err(RoomError::RestoreRate);
        }
        self.make_room_for_one(&mut map, max_rooms)?;
        let room = Arc::new(Room::closing_with(id.to_owned(), &self.shutdown));
        let out = f(&room)?;
        map.insert(id.to_owned(), room);
        self.metrics.rooms.set(map.len() as i64);
        tracing::debug!(room = %id, "room restored");
        Ok(out)
    }

    /// Counts a new viewer in room `id`, restoring the room if its id is valid and
    /// `may_restore` agrees (a viewer holds a room's memory without any token, so restoring
    /// counts against its client's creation rate).
    pub fn join_viewer(
        &self,
        id: &str,
        max_rooms: usize,
        max_viewers: usize,
        may_restore: impl FnOnce() -> bool,
    ) -> Result<ViewerGuard, RoomError> {
        self.with_room(id, max_rooms, may_restore, |room| {
            if room.is_ended() {
                return Err(RoomError::Ended);
            }
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
            tracing::debug!(room = %room.id, "viewer connected");
            Ok(ViewerGuard {
                room: Arc::clone(room),
                metrics: Arc::clone(&self.metrics),
                address_slot: None,
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
        // The token holder may always bring its room back.
        self.with_room(
            id,
            max_rooms,
            || true,
            |room| {
                if room.is_ended() {
                    return Err(RoomError::Ended);
                }
                Ok(room.attach_publisher(Arc::clone(&self.metrics)))
            },
        )
    }

    /// Ends room `id` (the token must have been checked already), bringing a valid id back
    /// into memory first so that it reads as ended until it expires. Ending an ended room
    /// changes nothing.
    pub fn end(&self, id: &str, max_rooms: usize) -> Result<(), RoomError> {
        self.with_room(
            id,
            max_rooms,
            || true,
            |room| {
                room.end();
                Ok(())
            },
        )
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
    fn unused_rooms_make_space_and_rooms_in_use_never_do() {
        let rooms = rooms();
        let first = rooms.create(2).expect("first").id.clone();
        let second = rooms.create(2).expect("second").id.clone();
        // Full of unused rooms: the one unused longest makes space, its id still valid.
        let third = rooms.create(2).expect("third").id.clone();
        assert!(rooms.get(&first).is_none(), "the oldest unused room went");
        assert!(rooms.get(&second).is_some());
        assert!(rooms.is_valid_id(&first));
        // Rooms in use are never dropped for a new or a restored one.
        let _publisher = rooms.attach_publisher(&second, 2).expect("publisher");
        let _viewer = rooms.join_viewer(&third, 2, 10, || true).expect("viewer");
        assert!(matches!(rooms.create(2), Err(RoomError::TooManyRooms(2))));
        assert!(matches!(
            rooms.join_viewer(&first, 2, 10, || true),
            Err(RoomError::TooManyRooms(2))
        ));
        assert_eq!(rooms.len(), 2);
    }

    #[test]
    fn room_limit_holds_for_new_and_restored_rooms() {
        let rooms = rooms();
        let first = rooms.create(2).expect("first");
        let id = first.id.clone();
        rooms.create(2).expect("second");

        // Dropped from memory, the id still works and comes back within the limit.
        drop(first);
        assert_eq!(rooms.sweep(Duration::ZERO), 2);
        assert!(rooms.is_empty());
        let viewer = rooms.join_viewer(&id, 1, 10, || true).expect("restored");
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
    fn a_viewer_restores_a_room_only_if_its_client_may() {
        let rooms = rooms();
        let id = rooms.create(10).expect("room").id.clone();
        rooms.sweep(Duration::ZERO);
        assert!(matches!(
            rooms.join_viewer(&id, 10, 10, || false),
            Err(RoomError::RestoreRate)
        ));
        assert!(rooms.is_empty(), "nothing restored");
        // A room in memory is joined without asking.
        let _viewer = rooms.join_viewer(&id, 10, 10, || true).expect("restored");
        let _second = rooms
            .join_viewer(&id, 10, 10, || unreachable!("no restore needed"))
            .expect("joined");
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
        assert!(room.state().live, "the new publisher keeps the room live");
        assert_eq!(
            rooms.sweep(Duration::ZERO),
            0,
            "a room with a publisher stays"
        );

        drop(second);
        assert_eq!(metrics.publishers.get(), 0);
        assert!(!room.state().live);
        drop(room);
        assert_eq!(
            rooms.sweep(Duration::ZERO),
            1,
            "idle once its publisher left"
        );
        assert!(rooms.is_empty());
    }

    #[test]
    fn ended_rooms_are_the_last_dropped_to_make_space() {
        let rooms = rooms();
        let ended = rooms.create(2).expect("first").id.clone();
        rooms.end(&ended, 2).expect("ended");
        let unused = rooms.create(2).expect("second").id.clone();
        // The older room has ended: the newer, unused one makes space instead.
        let third = rooms.create(2).expect("third").id.clone();
        assert!(rooms.get(&ended).is_some_and(|room| room.is_ended()));
        assert!(rooms.get(&unused).is_none());
        let fourth = rooms.create(2).expect("fourth").id.clone();
        assert!(
            rooms.get(&third).is_none(),
            "again the unused one that has not ended"
        );
        assert!(rooms.get(&ended).is_some());
        // With nothing else to drop, an ended room goes too.
        let _busy = rooms.attach_publisher(&fourth, 2).expect("publisher");
        rooms.create(2).expect("fifth");
        assert!(rooms.get(&ended).is_none());
        assert!(rooms.get(&fourth).is_some(), "a room in use never goes");
    }

    #[test]
    fn unknown_ids_are_never_restored() {
        let rooms = rooms();
        let id = rooms.create(10).expect("room").id.clone();
        let foreign = self::rooms().create(10).expect("room").id.clone();
        for bad in [foreign.as_str(), "", "../../etc/passwd", &"A".repeat(32)] {
            assert!(!rooms.is_valid_id(bad), "{bad}");
            assert!(matches!(
                rooms.join_viewer(bad, 10, 10, || true),
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
