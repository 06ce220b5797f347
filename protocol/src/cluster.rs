//! What lenscast nodes say to each other on the NATS bus (`--cluster-url`): the subjects,
//! the headers of a frame message and the JSON of presence and publisher announcements.
//! `docs/PROTOCOL.md` ("Several servers") describes how nodes use them.
//!
//! Room ids are URL-safe base64 (`A–Z a–z 0–9 - _`), which is always a valid NATS subject
//! token.

use serde::{Deserialize, Serialize};

/// Every node's presence, about once a second ([`Presence`]).
pub const PRESENCE_SUBJECT: &str = "lenscast.presence";
/// A publisher connected somewhere ([`PublisherAnnounce`]).
pub const PUBLISHER_SUBJECT: &str = "lenscast.publisher";
/// A room was ended somewhere (`DELETE /api/rooms/{room}`, [`RoomEnded`]): every node ends
/// it too.
pub const ENDED_SUBJECT: &str = "lenscast.ended";

/// A room's frames: headers [`header`], payload the JPEG exactly as published.
pub fn frame_subject(room: &str) -> String {
    format!("lenscast.room.{room}.frame")
}

/// Requests for a room's latest frame, answered by the node of its publisher: the JPEG,
/// or an empty payload when it has none yet.
pub fn snapshot_subject(room: &str) -> String {
    format!("lenscast.room.{room}.snapshot")
}

/// The NATS headers of a frame message.
pub mod header {
    /// The node whose publisher sent the frame.
    pub const NODE: &str = "Lenscast-Node";
    /// The publisher's generation ([`super::PublisherAnnounce::generation`]).
    pub const GENERATION: &str = "Lenscast-Generation";
    /// 1 for the publisher's first frame on its node's room, then +1 for each: a gap is a
    /// frame lost on the way.
    pub const SEQ: &str = "Lenscast-Seq";
}

/// One node's rooms in use: the rooms with local viewers or a local publisher.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Presence {
    pub node: String,
    pub rooms: Vec<RoomPresence>,
    /// The ended rooms this node still holds in memory, so that a node that missed the
    /// [`RoomEnded`] message (away from the broker at the time) ends its copy when it hears
    /// this again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ended: Vec<String>,
    /// A node whose presence does not fit one bus message says it in `parts` messages, each
    /// with its own share of the rooms and ended rooms (`part` 0 to `parts - 1`; a room is
    /// always in the same part while `parts` stays the same). Absent: 0 of 1.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub part: u32,
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub parts: u32,
}

/// The most messages one node's presence is split into.
pub const MAX_PRESENCE_PARTS: u32 = 256;

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn one() -> u32 {
    1
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_one(n: &u32) -> bool {
    *n == 1
}

/// One room on one node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomPresence {
    pub room: String,
    /// Viewers on this node.
    pub viewers: u32,
    /// The generation of this node's publisher of the room, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<u64>,
    /// As in `GET /api/rooms/{room}`, from this node's view.
    pub frames: u64,
    pub fps: f64,
    pub width: u32,
    pub height: u32,
}

/// A publisher connected to `node`: every other node closes its own publisher of `room`
/// if that one is older (a smaller `(generation, node)`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublisherAnnounce {
    pub room: String,
    pub node: String,
    /// Milliseconds since the Unix epoch when the publisher connected, made unique and
    /// increasing per node.
    pub generation: u64,
}

/// Room `room` was ended on `node`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomEnded {
    pub room: String,
    pub node: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_round_trips_and_omits_an_absent_publisher() {
        let presence = Presence {
            node: "a:8080".into(),
            rooms: vec![RoomPresence {
                room: "r".into(),
                viewers: 3,
                publisher: None,
                frames: 10,
                fps: 30.0,
                width: 1280,
                height: 720,
            }],
            ended: vec![],
            part: 0,
            parts: 1,
        };
        let json = serde_json::to_string(&presence).expect("serializable");
        assert!(!json.contains("publisher"), "{json}");
        assert!(!json.contains("ended"), "{json}");
        assert!(!json.contains("part"), "one part is the plain form: {json}");
        assert_eq!(
            serde_json::from_str::<Presence>(&json).expect("parses"),
            presence
        );
        assert_eq!(frame_subject("abc-_9"), "lenscast.room.abc-_9.frame");
    }

    #[test]
    fn presence_carries_ended_rooms_and_reads_without_them() {
        let presence = Presence {
            node: "a".into(),
            rooms: vec![],
            ended: vec!["r".into()],
            part: 0,
            parts: 1,
        };
        let json = serde_json::to_string(&presence).expect("serializable");
        assert_eq!(json, r#"{"node":"a","rooms":[],"ended":["r"]}"#);
        let old: Presence =
            serde_json::from_str(r#"{"node":"a","rooms":[]}"#).expect("an older node's presence");
        assert!(old.ended.is_empty());
        assert_eq!((old.part, old.parts), (0, 1));
    }

    #[test]
    fn a_part_of_a_split_presence_says_which() {
        let presence = Presence {
            node: "a".into(),
            rooms: vec![],
            ended: vec![],
            part: 2,
            parts: 3,
        };
        let json = serde_json::to_string(&presence).expect("serializable");
        assert_eq!(json, r#"{"node":"a","rooms":[],"part":2,"parts":3}"#);
        assert_eq!(
            serde_json::from_str::<Presence>(&json).expect("parses"),
            presence
        );
    }
}
