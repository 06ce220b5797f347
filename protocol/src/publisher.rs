//! The publisher's WebSocket. Each binary message from the client is one complete JPEG;
//! everything else is a JSON text message with a `"type"`.

use serde::{Deserialize, Serialize};

/// Text messages a publisher may send. Anything else gets a [`ServerMessage::Error`]
/// and the socket stays open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Asks for a [`ServerMessage::Welcome`].
    Hello,
    /// Asks for a [`ServerMessage::Pong`] (an application-level keep-alive).
    Ping,
}

/// Text messages the server sends a publisher.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The room's viewer count: once on connect, then whenever it changes.
    Viewers { count: u32 },
    /// The answer to [`ClientMessage::Hello`]: the room and the limits frames must keep.
    Welcome {
        room: String,
        viewers: u32,
        max_frame_bytes: u64,
        max_frame_dim: u32,
    },
    /// The answer to [`ClientMessage::Ping`].
    Pong,
    /// A problem that does not end the socket (bad text, frames over the rate limit).
    Error { message: String },
}

impl ServerMessage {
    pub fn error(message: impl Into<String>) -> Self {
        Self::Error {
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_by_type() {
        let viewers = serde_json::to_string(&ServerMessage::Viewers { count: 3 }).expect("json");
        assert_eq!(viewers, r#"{"type":"viewers","count":3}"#);
        let pong = serde_json::to_string(&ServerMessage::Pong).expect("json");
        assert_eq!(pong, r#"{"type":"pong"}"#);
        let hello: ClientMessage = serde_json::from_str(r#"{"type":"hello"}"#).expect("hello");
        assert_eq!(hello, ClientMessage::Hello);
    }

    #[test]
    fn unknown_fields_and_types_are_told_apart() {
        // Extra fields are tolerated, so the server can add some without breaking clients.
        let msg: ServerMessage =
            serde_json::from_str(r#"{"type":"viewers","count":2,"node":"a"}"#).expect("json");
        assert_eq!(msg, ServerMessage::Viewers { count: 2 });
        assert!(serde_json::from_str::<ServerMessage>(r#"{"type":"later"}"#).is_err());
    }
}
