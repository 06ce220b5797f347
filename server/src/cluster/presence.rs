//! What the other nodes said about their rooms: each node's latest [`Presence`], kept for
//! a few seconds. From it come the cluster-wide viewer counts, whether any other node
//! watches a room (so its publisher's node puts frames on the bus), and the state of a
//! room whose publisher is elsewhere.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use protocol::cluster::{MAX_PRESENCE_PARTS, Presence, RoomPresence};
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

/// What one node said: each part of its presence as last heard.
struct NodeHeard {
    parts: u32,
    heard: HashMap<u32, Heard>,
}

/// The other nodes' latest presence.
#[derive(Default)]
pub struct Table {
    nodes: HashMap<String, NodeHeard>,
}

impl Table {
    /// Takes `presence` as its node's whole state (or, for a split presence, as the whole
    /// of its part); returns the rooms whose figures may have changed. A part outside
    /// `0..parts` or more than [`MAX_PRESENCE_PARTS`] parts is ignored.
    pub fn update(&mut self, presence: Presence, now: Instant) -> HashSet<String> {
        let mut touched = HashSet::new();
        let Presence {
            node,
            rooms,
            ended,
            part,
            parts,
        } = presence;
        if part >= parts || parts > MAX_PRESENCE_PARTS {
            return touched;
        }
        let rooms: HashMap<String, RoomPresence> =
            rooms.into_iter().map(|r| (r.room.clone(), r)).collect();
        touched.extend(rooms.keys().cloned());
        let entry = self.nodes.entry(node).or_insert_with(|| NodeHeard {
            parts,
            heard: HashMap::new(),
        });
        // The node split its rooms anew: what it said in the old parts is superseded.
        if entry.parts != parts {
            for (_, old) in entry.heard.drain() {
                touched.extend(old.rooms.into_keys());
            }
            entry.parts = parts;
        }
        let heard = Heard {
            at: now,
            rooms,
            ended: ended.into_iter().collect(),
        };
        if let Some(old) = entry.heard.insert(part, heard) {
            touched.extend(old.rooms.into_keys());
        }
        touched
    }

    /// Forgets what was not heard again within [`EXPIRY`]; returns its rooms.
    pub fn expire(&mut self, now: Instant) -> HashSet<String> {
        let mut touched = HashSet::new();
        for node in self.nodes.values_mut() {
            node.heard.retain(|_, heard| {
                let alive = now.duration_since(heard.at) < EXPIRY;
                if !alive {
                    touched.extend(heard.rooms.keys().cloned());
                }
                alive
            });
        }
        self.nodes.retain(|_, node| !node.heard.is_empty());
        touched
    }

    fn heard(&self) -> impl Iterator<Item = (&str, &Heard)> {
        self.nodes.iter().flat_map(|(node, parts)| {
            parts
                .heard
                .values()
                .map(move |heard| (node.as_str(), heard))
        })
    }

    fn entries<'a>(&'a self, room: &'a str) -> impl Iterator<Item = (&'a str, &'a RoomPresence)> {
        self.heard()
            .filter_map(move |(node, heard)| Some((node, heard.rooms.get(room)?)))
    }

    /// Whether another node holds `room` as ended.
    pub fn ended(&self, room: &str) -> bool {
        self.heard().any(|(_, heard)| heard.ended.contains(room))
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

/// `presence` as bus messages of at most `budget` bytes each: one message when it fits,
/// else its rooms and ended rooms shared out by a hash of their ids over the fewest parts
/// (doubling) where every part fits, at most [`MAX_PRESENCE_PARTS`].
pub fn split(presence: &Presence, budget: usize) -> Vec<Vec<u8>> {
    // Serializing strings and numbers cannot fail.
    let encode = |p: &Presence| serde_json::to_vec(p).unwrap_or_default();
    let whole = encode(presence);
    if whole.len() <= budget {
        return vec![whole];
    }
    let mut parts = u32::try_from(whole.len().div_ceil(budget.max(1)))
        .unwrap_or(MAX_PRESENCE_PARTS)
        .clamp(2, MAX_PRESENCE_PARTS);
    loop {
        let mut shares: Vec<Presence> = (0..parts)
            .map(|part| Presence {
                node: presence.node.clone(),
                rooms: Vec::new(),
                ended: Vec::new(),
                part,
                parts,
            })
            .collect();
        for room in &presence.rooms {
            shares[share_of(&room.room, parts)].rooms.push(room.clone());
        }
        for room in &presence.ended {
            shares[share_of(room, parts)].ended.push(room.clone());
        }
        let messages: Vec<Vec<u8>> = shares.iter().map(encode).collect();
        if parts >= MAX_PRESENCE_PARTS || messages.iter().all(|m| m.len() <= budget) {
            return messages;
        }
        parts = (parts * 2).min(MAX_PRESENCE_PARTS);
    }
}

/// The part a room id goes in: FNV-1a, the same on every round while `parts` stays.
fn share_of(room: &str, parts: u32) -> usize {
    let hash = room.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % u64::from(parts)) as usize
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
                part: 0,
                parts: 1,
            },
            t0,
        );
        table.update(
            Presence {
                node: "c".into(),
                rooms: vec![room("r", 2, Some(7)), room("s", 1, None)],
                ended: vec![],
                part: 0,
                parts: 1,
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
                part: 0,
                parts: 1,
            },
            t0 + Duration::from_secs(3),
        );
        assert!(touched.contains("s"));
        assert_eq!(table.viewers("s"), 0);
    }

    fn presence(node: &str, rooms: Vec<RoomPresence>, part: u32, parts: u32) -> Presence {
        Presence {
            node: node.into(),
            rooms,
            ended: vec![],
            part,
            parts,
        }
    }

    #[test]
    fn a_split_presence_counts_every_part_until_the_node_splits_anew() {
        let mut table = Table::default();
        let t0 = Instant::now();
        table.update(presence("b", vec![room("r", 2, None)], 0, 2), t0);
        table.update(presence("b", vec![room("s", 5, Some(1))], 1, 2), t0);
        assert_eq!((table.viewers("r"), table.viewers("s")), (2, 5));
        // A new round of part 0 leaves part 1 as it was.
        table.update(presence("b", vec![room("r", 3, None)], 0, 2), t0);
        assert_eq!((table.viewers("r"), table.viewers("s")), (3, 5));
        // Impossible parts are ignored, never stored.
        table.update(presence("b", vec![room("x", 9, None)], 2, 2), t0);
        table.update(
            presence("b", vec![room("x", 9, None)], 0, MAX_PRESENCE_PARTS + 1),
            t0,
        );
        assert_eq!(table.viewers("x"), 0);
        // Split into three now: the two old parts are superseded at once.
        let touched = table.update(presence("b", vec![room("s", 4, Some(1))], 2, 3), t0);
        assert!(touched.contains("r") && touched.contains("s"));
        assert_eq!((table.viewers("r"), table.viewers("s")), (0, 4));
        // Each part expires on its own.
        let later = t0 + Duration::from_secs(2);
        table.update(presence("b", vec![room("t", 1, None)], 0, 3), later);
        table.expire(t0 + EXPIRY + Duration::from_millis(1));
        assert_eq!((table.viewers("s"), table.viewers("t")), (0, 1));
    }

    #[test]
    fn split_fits_the_budget_and_keeps_each_room_in_its_part() {
        let rooms: Vec<RoomPresence> = (0..300)
            .map(|i| room(&format!("room-{i:04}-abcdefghijklmnop"), i, None))
            .collect();
        let whole = Presence {
            node: "a".into(),
            rooms,
            ended: (0..100).map(|i| format!("ended-{i}")).collect(),
            part: 0,
            parts: 1,
        };
        let single = split(&whole, 1 << 20);
        assert_eq!(single, vec![serde_json::to_vec(&whole).unwrap()]);

        let budget = 4096;
        let messages = split(&whole, budget);
        let parts: Vec<Presence> = messages
            .iter()
            .map(|m| {
                assert!(m.len() <= budget, "{} bytes", m.len());
                serde_json::from_slice(m).unwrap()
            })
            .collect();
        assert!(parts.len() > 1);
        for (i, part) in parts.iter().enumerate() {
            assert_eq!((part.part as usize, part.parts as usize), (i, parts.len()));
        }
        let mut seen: Vec<&str> = parts
            .iter()
            .flat_map(|p| p.rooms.iter().map(|r| r.room.as_str()))
            .collect();
        seen.sort_unstable();
        let mut expected: Vec<&str> = whole.rooms.iter().map(|r| r.room.as_str()).collect();
        expected.sort_unstable();
        assert_eq!(seen, expected, "every room once");
        assert_eq!(parts.iter().map(|p| p.ended.len()).sum::<usize>(), 100);
        assert_eq!(
            split(&whole, budget),
            messages,
            "the same split every round"
        );
    }
}
