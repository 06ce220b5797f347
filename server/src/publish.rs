//! The publisher's WebSocket: JPEGs in, viewer counts out.
//!
//! One task per publisher selects over: server shutdown, being replaced by a newer publisher,
//! a change of the viewer count (sent as `{"type":"viewers","count":N}`), and the next
//! message. A bad binary message closes the socket with 1003 or 1009; a bad text message
//! only gets an error message back. Frames faster than the publisher's frame rate limit are
//! dropped, with an error message at most once a second.

use std::{sync::Arc, time::Duration};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::SinkExt;
use protocol::{
    ClientMessage, ServerMessage,
    close::{self, Close},
};
use serde::Deserialize as _;
use serde_json::Value;

use crate::{
    jpeg::{self, JpegError},
    limits::FrameRate,
    metrics::Rejection,
    room::{PublisherGuard, Room},
    state::AppState,
};

/// Why the server ends a publisher's socket, if it does.
struct Ending {
    code: u16,
    reason: String,
}

impl Ending {
    fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }
}

impl From<Close> for Ending {
    fn from(close: Close) -> Self {
        Self::new(close.code, close.reason)
    }
}

pub async fn serve(mut socket: WebSocket, guard: PublisherGuard, state: Arc<AppState>) {
    let room = Arc::clone(&guard.room);
    tracing::info!(room = %room.id, "publisher connected");
    let mut viewers = room.viewer_count();
    // The count goes out once right away, then on every change.
    viewers.mark_changed();
    let mut rate = FrameRate::new(state.config.max_publish_fps);
    let ending = loop {
        tokio::select! {
            biased;
            () = state.shutdown.cancelled() => {
                break Some(close::SHUTDOWN.into());
            }
            () = guard.kicked.cancelled() => {
                break Some(close::REPLACED.into());
            }
            changed = viewers.changed() => {
                if changed.is_err() {
                    break None;
                }
                let count = u32::try_from(*viewers.borrow_and_update()).unwrap_or(u32::MAX);
                if send(&mut socket, &ServerMessage::Viewers { count }).await.is_err() {
                    break None;
                }
            }
            msg = socket.recv() => match msg {
                Some(Ok(Message::Binary(data))) => match ingest(&room, &state, &rate, &data) {
                    Ingested::Published => {}
                    Ingested::Dropped => {
                        if let Some(message) = rate.warning()
                            && send(&mut socket, &ServerMessage::error(message)).await.is_err()
                        {
                            break None;
                        }
                    }
                    Ingested::Refused(ending) => break Some(ending),
                },
                Some(Ok(Message::Text(text))) => {
                    let reply = answer_text(&room, &state, &text);
                    if send(&mut socket, &reply).await.is_err() {
                        break None;
                    }
                }
                // tungstenite answers pings itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) => {
                    // tungstenite queued the closing reply; send it for a clean close.
                    let _ = socket.flush().await;
                    break None;
                }
                None => break None,
                Some(Err(err)) => break over_limit(&err, &state),
            },
        }
    };
    let why = ending
        .as_ref()
        .map_or("closed by peer", |e| e.reason.as_str());
    tracing::info!(room = %room.id, reason = why, "publisher disconnected");
    if let Some(Ending { code, reason }) = ending {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        if socket.send(Message::Close(Some(frame))).await.is_ok() {
            // Give the client a moment to answer the close, for a clean closing handshake.
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                while let Some(Ok(_)) = socket.recv().await {}
            })
            .await;
        }
    }
    drop(guard);
}

/// What became of one binary message.
enum Ingested {
    Published,
    /// A valid frame over the publisher's frame rate: not fanned out, socket stays open.
    Dropped,
    /// Not an acceptable JPEG: the socket closes.
    Refused(Ending),
}

/// Checks one frame (bad input is refused even when it also comes too fast) and
/// publishes it if the rate allows.
fn ingest(room: &Room, state: &AppState, rate: &FrameRate, data: &[u8]) -> Ingested {
    let limit = state.config.max_frame_bytes;
    if data.len() > limit {
        state.metrics.reject(Rejection::TooLarge);
        return Ingested::Refused(Ending::new(
            close::MESSAGE_TOO_BIG,
            format!(
                "frame of {} bytes is over the {limit} byte limit",
                data.len()
            ),
        ));
    }
    match jpeg::inspect(data, state.config.max_frame_dim) {
        Ok(_) if !rate.admit() => {
            state.metrics.reject(Rejection::FrameRate);
            Ingested::Dropped
        }
        Ok(dims) => {
            room.publish(data, dims);
            state.metrics.frames_in.inc();
            state.metrics.bytes_in.inc_by(data.len() as u64);
            Ingested::Published
        }
        Err(err @ JpegError::TooLarge { .. }) => {
            state.metrics.reject(Rejection::TooLarge);
            Ingested::Refused(Ending::new(close::MESSAGE_TOO_BIG, err.to_string()))
        }
        Err(err) => {
            state.metrics.reject(Rejection::NotJpeg);
            Ingested::Refused(Ending::new(close::UNSUPPORTED_DATA, err.to_string()))
        }
    }
}

/// The reply to a text message; never closes the socket.
fn answer_text(room: &Room, state: &AppState, text: &Utf8Bytes) -> ServerMessage {
    let value: Value = match serde_json::from_str(text.as_str()) {
        Ok(value) => value,
        Err(err) => {
            state.metrics.reject(Rejection::BadText);
            return ServerMessage::error(format!("invalid JSON: {err}"));
        }
    };
    match ClientMessage::deserialize(&value) {
        Ok(ClientMessage::Hello) => ServerMessage::Welcome {
            room: room.id.clone(),
            viewers: room.viewers(),
            max_frame_bytes: state.config.max_frame_bytes as u64,
            max_frame_dim: state.config.max_frame_dim,
        },
        Ok(ClientMessage::Ping) => ServerMessage::Pong,
        // Valid JSON with a type this server does not know: a client's mistake, not an attack.
        Err(_) => {
            if let Some(other) = value.get("type").and_then(Value::as_str) {
                ServerMessage::error(format!(
                    "unknown message type {other:?}; send JPEGs as binary messages"
                ))
            } else {
                state.metrics.reject(Rejection::BadText);
                ServerMessage::error("expected a JSON object with a \"type\"")
            }
        }
    }
}

async fn send(socket: &mut WebSocket, message: &ServerMessage) -> Result<(), axum::Error> {
    // Serializing an enum of strings and integers cannot fail.
    let text = serde_json::to_string(message).unwrap_or_default();
    socket.send(Message::Text(text.into())).await
}

/// A receive error: a message over the size limit gets 1009, a text message that is not
/// UTF-8 gets 1007, anything else just ends.
fn over_limit(err: &axum::Error, state: &AppState) -> Option<Ending> {
    // axum does not re-export tungstenite's error type; its text is the only stable handle
    // on "message too long" (tests cover it, so a change of wording fails loudly).
    let text = err.to_string();
    if text.contains("too long") || text.contains("Space limit") {
        state.metrics.reject(Rejection::TooLarge);
        Some(Ending::new(
            close::MESSAGE_TOO_BIG,
            format!(
                "frame is over the {} byte limit",
                state.config.max_frame_bytes
            ),
        ))
    } else if text.contains("UTF-8") {
        state.metrics.reject(Rejection::BadText);
        Some(close::NOT_UTF8.into())
    } else {
        tracing::debug!(error = %err, "publisher socket error");
        None
    }
}
