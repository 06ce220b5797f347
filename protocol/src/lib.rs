//! lenscast's wire contract in types: every message that crosses a process boundary, with
//! no I/O, for native code and wasm32 alike. `docs/PROTOCOL.md` is the prose of record;
//! this crate is the same contract in a form the compiler holds the server, the frontend,
//! the load generator and the tests to.
//!
//! Modules, in the order a broadcast meets them:
//! - [`rooms`]: `POST /api/rooms` ([`RoomCreated`]), `GET /api/rooms/{room}`
//!   ([`RoomState`]) and the paths of a room's routes.
//! - [`publisher`]: the publisher's WebSocket. Binary messages are JPEGs (no type here);
//!   text messages are JSON tagged by `"type"`: [`ClientMessage`] in, [`ServerMessage`] out.
//! - [`close`]: the close codes and fixed reasons the server ends a publisher with.
//! - [`mjpeg`]: the multipart framing viewers receive.
//! - [`cluster`]: what nodes joined by NATS say to each other (subjects, frame headers,
//!   presence, publisher announcements).
//! - [`ErrorBody`]: the JSON body of every HTTP error answer.

pub mod close;
pub mod cluster;
pub mod mjpeg;
pub mod publisher;
pub mod rooms;

use serde::{Deserialize, Serialize};

pub use publisher::{ClientMessage, ServerMessage};
pub use rooms::{RoomCreated, RoomState};

/// The body of every HTTP error answer: `{"error": "what went wrong"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

impl ErrorBody {
    pub fn new(error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
        }
    }
}
