//! What the other nodes said about their rooms: each node's latest [`Presence`], kept for
//! a few seconds. From it come the cluster-wide viewer counts, whether any other node
//! watches a room (so its publisher's node puts frames on the bus), and the state of a
//! room whose publisher is elsewhere.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use protocol::cluster::{Presence, RoomPresence};
use tokio::time::Instant;

/// How often each node says what it has.
pub const INTERVAL: Duration = Duration::from_secs(1);
/// A node not heard from for this long is gone (its viewers no longer count).
pub const EXPIRY: Duration = Duration::from_millis(2500);

struct Heard {
    at: Instant,
    rooms: HashMap<String, RoomPresence>,
    /// The ended rooms the node holds.
    ended: HashSet<String>,
}

/// The other nodes' latest presence.
#[derive(Default)]
pub struct Table {
    nodes: HashMap<String, Heard>,
}

impl Table {
    /// Takes `presence` as its node's whole state; returns the rooms whose figures may
    /// have changed.
    pub fn update(&mut self, presence: Presence, now: Instant) -> HashSet<String> {
        let rooms: HashMap<String, RoomPresence> = presence
            .rooms
            .into_iter()
            .map(|r| (r.room.clone(), r))
            .collect();
        let mut touched: HashSet<String> = rooms.keys().cloned().collect();
        let ended = presence.ended.into_iter().collect();
        let heard = Heard {
            at: now,
            rooms,
            ended,
        };
        if let Some(old) = self.nodes.insert(presence.node, heard) {
            touched.extend(old.rooms.into_keys());
        }
        touched
    }

    /// Forgets nodes not heard from within [`EXPIRY`]; returns their rooms.
    pub fn expire(&mut self, now: Instant) -> HashSet<String> {
        let mut touched = HashSet::new();
        self.nodes.retain(|_, heard| {
            let alive = now.duration_since(heard.at) < EXPIRY;
            if !alive {
                touched.extend(heard.rooms.keys().cloned());
            }
            alive
        });
        touched
    }

    fn entries<'a>(&'a self, room: &'a str) -> impl Iterator<Item = (&'a str, &'a RoomPresence)> {
        self.nodes
            .iter()
            .filter_map(move |(node, heard)| Some((node.as_str(), heard.rooms.get(room)?)))
    }

    /// Whether another node holds `room` as ended.
    pub fn ended(&self, room: &str) -> bool {
        self.nodes.values().any(|heard| heard.ended.contains(room))
    }

    /// Viewers of `room` on the other nodes.
    pub fn viewers(&self, room: &str) -> usize {
        self.entries(room).map(|(_, r)| r.viewers as usize).sum()
    }

    /// Other nodes with viewers of `room` and no publisher of their own: the nodes that
    /// want its frames from the bus.
    pub fn watching_nodes(&self, room: &str) -> usize {
        self.entries(room)
            .filter(|(_, r)| r.viewers > 0 && r.publisher.is_none())
            .count()
    }

    /// The room on the node of its newest publisher, if another node has one.
    pub fn publisher<'a>(&'a self, room: &'a str) -> Option<(&'a str, &'a RoomPresence)> {
        self.entries(room)
            .filter(|(_, r)| r.publisher.is_some())
            .max_by(|(na, a), (nb, b)| (a.publisher, na).cmp(&(b.publisher, nb)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(room: &str, viewers: u32, publisher: Option<u64>) -> RoomPresence {
        RoomPresence {
            room: room.into(),
            viewers,
            publisher,
            frames: 0,
            fps: 0.0,
            width: 0,
            height: 0,
        }
    }

    #[test]
    fn counts_watchers_and_forgets_silent_nodes() {
        let mut table = Table::default();
        let t0 = Instant::now();
        table.update(
            Presence {
                node: "b".into(),
                rooms: vec![room("r", 3, None)],
                ended: vec!["e".into()],
            },
            t0,
        );
        table.update(
            Presence {
                node: "c".into(),
                rooms: vec![room("r", 2, Some(7)), room("s", 1, None)],
                ended: vec![],
            },
            t0 + Duration::from_secs(2),
        );
        assert_eq!(table.viewers("r"), 5);
        assert_eq!(table.watching_nodes("r"), 1, "c has its own publisher");
        assert_eq!(table.publisher("r").map(|(n, _)| n), Some("c"));
        assert!(table.ended("e") && !table.ended("r"));
        // b went quiet: its viewers stop counting; a node that drops a room drops it.
        let touched = table.expire(t0 + EXPIRY + Duration::from_millis(1));
        assert!(touched.contains("r"));
        assert_eq!(table.viewers("r"), 2);
        assert!(!table.ended("e"), "forgotten with its node");
        let touched = table.update(
            Presence {
                node: "c".into(),
                rooms: vec![],
                ended: vec![],
            },
            t0 + Duration::from_secs(3),
        );
        assert!(touched.contains("s"));
        assert_eq!(table.viewers("s"), 0);
    }
}
