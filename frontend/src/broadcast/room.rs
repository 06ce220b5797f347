//! Rooms: creating one on the server (`POST /api/rooms`), keeping it for the tab
//! (sessionStorage, so a reload resumes the same link), and building absolute URLs.

use gloo::storage::{SessionStorage, Storage};
use serde::{Deserialize, Serialize};

const STORAGE_KEY: &str = "lenscast.broadcast.room";

/// The server's answer to `POST /api/rooms` (URLs are paths on the same origin).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    pub room: String,
    pub publish_token: String,
    pub watch_url: String,
    pub stream_url: String,
    pub snapshot_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    #[error("cannot reach the server: {0}")]
    Network(String),
    #[error("the server refused to create a room (HTTP {0})")]
    Status(u16),
    #[error("the server's answer is not a room: {0}")]
    Body(String),
}

/// Whether a room id or token can be put into a path or query as it is
/// (the server makes URL-safe ids; anything else in storage was tampered with).
fn url_safe(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Room {
    fn valid(&self) -> bool {
        url_safe(&self.room) && url_safe(&self.publish_token) && self.watch_url.starts_with('/')
    }

    /// The room remembered by this tab, if any.
    pub fn load() -> Option<Self> {
        SessionStorage::get::<Self>(STORAGE_KEY)
            .ok()
            .filter(Self::valid)
    }

    pub fn save(&self) {
        // A full or disabled storage only costs the resume-after-reload feature.
        let _ = SessionStorage::set(STORAGE_KEY, self);
    }

    pub fn forget() {
        SessionStorage::delete(STORAGE_KEY);
    }

    /// Asks the server for a fresh room.
    pub async fn create() -> Result<Self, RoomError> {
        let response = gloo::net::http::Request::post("/api/rooms")
            .send()
            .await
            .map_err(|e| RoomError::Network(e.to_string()))?;
        if response.status() != 201 {
            return Err(RoomError::Status(response.status()));
        }
        let room: Self = response
            .json()
            .await
            .map_err(|e| RoomError::Body(e.to_string()))?;
        if !room.valid() {
            return Err(RoomError::Body("room id or token is not URL-safe".into()));
        }
        Ok(room)
    }

    /// Whether the server accepts this room id (`false` only on a clear 404, which after a
    /// restart means the server's secret changed;
    /// network errors count as "maybe", so the caller keeps retrying the same room).
    pub async fn exists(&self) -> bool {
        let url = format!("/api/rooms/{}", self.room);
        !matches!(gloo::net::http::Request::get(&url).send().await, Ok(r) if r.status() == 404)
    }

    /// The viewer link for this room on the page's `origin` (`http://host:port`).
    pub fn share_link(&self, origin: &str) -> String {
        format!("{}{}", origin.trim_end_matches('/'), self.watch_url)
    }

    /// The publish WebSocket URL on the page's `origin`.
    pub fn publish_url(&self, origin: &str) -> String {
        let origin = origin.trim_end_matches('/');
        let ws_origin = if let Some(rest) = origin.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = origin.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            origin.to_owned()
        };
        format!(
            "{ws_origin}/ws/rooms/{}/publish?token={}",
            self.room, self.publish_token
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn room() -> Room {
        Room {
            room: "AbC-12_x".into(),
            publish_token: "tok_EN-9".into(),
            watch_url: "/watch/AbC-12_x".into(),
            stream_url: "/api/rooms/AbC-12_x/stream.mjpg".into(),
            snapshot_url: "/api/rooms/AbC-12_x/snapshot.jpg".into(),
        }
    }

    #[wasm_bindgen_test]
    fn urls() {
        let r = room();
        assert_eq!(
            r.share_link("http://127.0.0.1:8080/"),
            "http://127.0.0.1:8080/watch/AbC-12_x"
        );
        assert_eq!(
            r.publish_url("https://cam.local:8443"),
            "wss://cam.local:8443/ws/rooms/AbC-12_x/publish?token=tok_EN-9"
        );
        assert_eq!(
            r.publish_url("http://127.0.0.1:8081"),
            "ws://127.0.0.1:8081/ws/rooms/AbC-12_x/publish?token=tok_EN-9"
        );
    }

    #[wasm_bindgen_test]
    fn parses_the_servers_answer_and_rejects_unsafe_ids() {
        let json = r#"{"room":"AbC-12_x","publish_token":"tok_EN-9","watch_url":"/watch/AbC-12_x",
            "stream_url":"/api/rooms/AbC-12_x/stream.mjpg","snapshot_url":"/api/rooms/AbC-12_x/snapshot.jpg"}"#;
        let parsed: Room = serde_json::from_str(json).expect("contract JSON");
        assert_eq!(parsed, room());
        assert!(parsed.valid());
        assert!(
            !Room {
                room: "../x".into(),
                ..room()
            }
            .valid()
        );
        assert!(
            !Room {
                publish_token: "a&b=c".into(),
                ..room()
            }
            .valid()
        );
        assert!(
            !Room {
                watch_url: "https://evil".into(),
                ..room()
            }
            .valid()
        );
    }

    #[wasm_bindgen_test]
    fn session_storage_round_trip() {
        Room::forget();
        assert_eq!(Room::load(), None);
        room().save();
        assert_eq!(Room::load(), Some(room()));
        Room::forget();
        assert_eq!(Room::load(), None);
    }
}
