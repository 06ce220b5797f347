//! Rooms over HTTP: creation, state, and where each of a room's routes lives.
//!
//! Room ids and publish tokens are URL-safe strings the server mints (MACs under its
//! secret); clients treat them as opaque.

use serde::{Deserialize, Serialize};

/// `201` answer to `POST /api/rooms`. The URLs are paths on the server's own origin.
/// The publish token is given out only here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomCreated {
    pub room: String,
    pub publish_token: String,
    pub watch_url: String,
    pub stream_url: String,
    pub snapshot_url: String,
}

impl RoomCreated {
    /// The answer for room `room`, with every URL derived from its id.
    pub fn new(room: impl Into<String>, publish_token: impl Into<String>) -> Self {
        let room = room.into();
        Self {
            watch_url: watch_path(&room),
            stream_url: stream_path(&room),
            snapshot_url: snapshot_path(&room),
            publish_token: publish_token.into(),
            room,
        }
    }
}

/// `200` answer to `GET /api/rooms/{room}`. A room that never had a frame reports zeros.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RoomState {
    pub room: String,
    /// A publisher is connected (never in an ended room).
    pub live: bool,
    /// The publisher ended the room (`DELETE /api/rooms/{room}`): no publisher may connect
    /// and no stream is served until the room expires from memory. Absent from older
    /// servers' answers, which had no way to end a room.
    #[serde(default)]
    pub ended: bool,
    pub viewers: u32,
    /// Frames published since the room came into memory.
    pub frames: u64,
    /// Frames per second over the last few seconds, to one decimal.
    pub fps: f64,
    /// The last frame's size (0 before the first).
    pub width: u32,
    pub height: u32,
}

impl RoomState {
    /// A room known to be valid with nothing in it: no publisher, viewer or frame.
    pub fn empty(room: impl Into<String>) -> Self {
        Self {
            room: room.into(),
            ..Self::default()
        }
    }
}

/// The viewer page.
pub fn watch_path(room: &str) -> String {
    format!("/watch/{room}")
}

/// The room-state JSON.
pub fn state_path(room: &str) -> String {
    format!("/api/rooms/{room}")
}

/// The MJPEG stream.
pub fn stream_path(room: &str) -> String {
    format!("/api/rooms/{room}/stream.mjpg")
}

/// The latest frame as one JPEG.
pub fn snapshot_path(room: &str) -> String {
    format!("/api/rooms/{room}/snapshot.jpg")
}

/// The `Authorization` header value that `DELETE /api/rooms/{room}` (ending a room) takes.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The publisher's WebSocket, with its token (path and query, no scheme or host).
pub fn publish_path(room: &str, token: &str) -> String {
    format!("/ws/rooms/{room}/publish?token={token}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_room_has_the_contract_fields_and_paths() {
        let created = RoomCreated::new("AbC-12_x", "tok_EN-9");
        let json = serde_json::to_value(&created).expect("serializable");
        assert_eq!(
            json,
            serde_json::json!({
                "room": "AbC-12_x",
                "publish_token": "tok_EN-9",
                "watch_url": "/watch/AbC-12_x",
                "stream_url": "/api/rooms/AbC-12_x/stream.mjpg",
                "snapshot_url": "/api/rooms/AbC-12_x/snapshot.jpg",
            })
        );
    }

    #[test]
    fn room_state_has_the_contract_fields() {
        let json = serde_json::to_value(RoomState::empty("r")).expect("serializable");
        assert_eq!(
            json,
            serde_json::json!({
                "room": "r", "live": false, "ended": false, "viewers": 0, "frames": 0,
                "fps": 0.0, "width": 0, "height": 0,
            })
        );
        let old: RoomState = serde_json::from_value(serde_json::json!({
            "room": "r", "live": true, "viewers": 1, "frames": 2,
            "fps": 1.0, "width": 8, "height": 8,
        }))
        .expect("an answer without `ended`");
        assert!(!old.ended);
    }

    #[test]
    fn publish_path_carries_the_token_in_the_query() {
        assert_eq!(publish_path("r", "t"), "/ws/rooms/r/publish?token=t");
        assert_eq!(state_path("r"), "/api/rooms/r");
    }
}
