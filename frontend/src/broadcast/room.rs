//! Rooms: creating one on the server (`POST /api/rooms`), ending one (`DELETE
//! /api/rooms/{room}`), keeping it for the tab (sessionStorage, so a reload resumes the same
//! link, together with whether the tab was broadcasting), and building absolute URLs.

use gloo::storage::{SessionStorage, Storage};
use protocol::{RoomCreated, rooms};
use serde::{Deserialize, Serialize};

const STORAGE_KEY: &str = "lenscast.broadcast.room";
/// Set while the user broadcasts: a reload (or a restored tab) resumes by itself.
const ACTIVE_KEY: &str = "lenscast.broadcast.active";

/// A room this tab may publish to: the server's [`RoomCreated`] answer, checked once so
/// its id and token can go into URLs as they are. Stored as the same JSON the server sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RoomCreated", into = "RoomCreated")]
pub struct Room(RoomCreated);

#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    #[error("cannot reach the server: {0}")]
    Network(String),
    #[error("the server refused to create a room (HTTP {0})")]
    Status(u16),
    #[error("the server's answer is not a room: {0}")]
    Body(String),
    #[error("the server refused to end the room (HTTP {0})")]
    EndRefused(u16),
}

/// Whether a room id or token can be put into a path or query as it is
/// (the server makes URL-safe ids; anything else in storage was tampered with).
fn url_safe(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl TryFrom<RoomCreated> for Room {
    type Error = &'static str;

    fn try_from(created: RoomCreated) -> Result<Self, Self::Error> {
        if !url_safe(&created.room) || !url_safe(&created.publish_token) {
            return Err("room id or token is not URL-safe");
        }
        // Only a same-origin path: the share link must not lead anywhere else.
        if !created.watch_url.starts_with('/') {
            return Err("the watch URL is not a path on this server");
        }
        Ok(Self(created))
    }
}

impl From<Room> for RoomCreated {
    fn from(room: Room) -> Self {
        room.0
    }
}

impl Room {
    /// The room id.
    pub fn id(&self) -> &str {
        &self.0.room
    }

    /// The viewer page's path on this origin.
    pub fn watch_url(&self) -> &str {
        &self.0.watch_url
    }

    /// The room remembered by this tab, if any (storage that fails the checks counts as none).
    pub fn load() -> Option<Self> {
        SessionStorage::get::<Self>(STORAGE_KEY).ok()
    }

    pub fn save(&self) {
        // A full or disabled storage only costs the resume-after-reload feature.
        let _ = SessionStorage::set(STORAGE_KEY, self);
    }

    pub fn forget() {
        SessionStorage::delete(STORAGE_KEY);
    }

    /// Whether this tab was broadcasting when it was last left (reloaded, closed, crashed).
    pub fn was_broadcasting() -> bool {
        SessionStorage::get::<bool>(ACTIVE_KEY).unwrap_or(false) && Self::load().is_some()
    }

    /// Remembers whether the user broadcasts; only "Stop broadcast" clears it.
    pub fn remember_broadcasting(active: bool) {
        if active {
            let _ = SessionStorage::set(ACTIVE_KEY, true);
        } else {
            SessionStorage::delete(ACTIVE_KEY);
        }
    }

    /// Ends the room on the server: its publisher is closed, viewers' streams end and the
    /// viewer page says the broadcast has ended. A room the server no longer knows (404)
    /// counts as ended.
    pub async fn end(&self) -> Result<(), RoomError> {
        let response = gloo::net::http::Request::delete(&rooms::state_path(self.id()))
            .header("Authorization", &rooms::bearer(&self.0.publish_token))
            .send()
            .await
            .map_err(|e| RoomError::Network(e.to_string()))?;
        match response.status() {
            204 | 404 => Ok(()),
            status => Err(RoomError::EndRefused(status)),
        }
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
        let created: RoomCreated = response
            .json()
            .await
            .map_err(|e| RoomError::Body(e.to_string()))?;
        Self::try_from(created).map_err(|e| RoomError::Body(e.into()))
    }

    /// Whether the server accepts this room id (`false` only on a clear 404, which after a
    /// restart means the server's secret changed;
    /// network errors count as "maybe", so the caller keeps retrying the same room).
    pub async fn exists(&self) -> bool {
        let url = rooms::state_path(self.id());
        !matches!(gloo::net::http::Request::get(&url).send().await, Ok(r) if r.status() == 404)
    }

    /// The viewer link for this room on the page's `origin` (`http://host:port`).
    pub fn share_link(&self, origin: &str) -> String {
        format!("{}{}", origin.trim_end_matches('/'), self.watch_url())
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
        let path = rooms::publish_path(self.id(), &self.0.publish_token);
        format!("{ws_origin}{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn created() -> RoomCreated {
        RoomCreated::new("AbC-12_x", "tok_EN-9")
    }

    fn room() -> Room {
        Room::try_from(created()).expect("a valid room")
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
        let unsafe_rooms = [
            RoomCreated {
                room: "../x".into(),
                ..created()
            },
            RoomCreated {
                publish_token: "a&b=c".into(),
                ..created()
            },
            RoomCreated {
                watch_url: "https://evil".into(),
                ..created()
            },
        ];
        for bad in unsafe_rooms {
            assert!(Room::try_from(bad.clone()).is_err(), "{bad:?}");
            let json = serde_json::to_string(&bad).expect("serializable");
            assert!(serde_json::from_str::<Room>(&json).is_err(), "{json}");
        }
    }

    #[wasm_bindgen_test]
    fn session_storage_round_trip() {
        Room::forget();
        assert_eq!(Room::load(), None);
        room().save();
        assert_eq!(Room::load(), Some(room()));
        // Stored as the server's JSON, as before.
        let stored: serde_json::Value = SessionStorage::get(STORAGE_KEY).expect("stored as JSON");
        assert_eq!(
            stored,
            serde_json::to_value(created()).expect("serializable")
        );
        // Tampered storage is no room at all.
        let tampered = RoomCreated {
            room: "../x".into(),
            ..created()
        };
        SessionStorage::set(STORAGE_KEY, &tampered).expect("storage");
        assert_eq!(Room::load(), None);
        Room::forget();
        assert_eq!(Room::load(), None);
    }

    #[wasm_bindgen_test]
    fn the_broadcasting_mark_needs_a_room() {
        Room::forget();
        Room::remember_broadcasting(true);
        assert!(!Room::was_broadcasting(), "no room to resume");
        room().save();
        assert!(Room::was_broadcasting());
        Room::remember_broadcasting(false);
        assert!(!Room::was_broadcasting());
        Room::forget();
    }
}
