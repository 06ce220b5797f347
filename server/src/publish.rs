//! The publisher's WebSocket: JPEGs in, viewer counts out.
//!
//! One task per publisher selects over: server shutdown, being replaced by a newer publisher,
//! a change of the viewer count (sent as `{"type":"viewers","count":N}`), and the next
//! message. A bad binary message closes the socket with 1003 or 1009; a bad text message
//! only gets an error message back. Frames faster than the publisher's frame rate limit are
//! dropped, with an error message at most once a second.

use std::{sync::Arc, time::Duration};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, close_code};
use futures_util::SinkExt;
use serde_json::{Value, json};

use crate::{
    AppState,
    jpeg::{self, JpegError},
    limits::FrameRate,
    metrics::Rejection,
    room::{PublisherGuard, Room},
};

/// Close code for a publisher that another one with the same token replaced.
pub const CLOSE_REPLACED: u16 = 4000;

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
                break Some(Ending::new(close_code::AWAY, "server shutting down"));
            }
            () = guard.kicked.cancelled() => {
                break Some(Ending::new(CLOSE_REPLACED, "replaced by a new publisher"));
            }
            changed = viewers.changed() => {
                if changed.is_err() {
                    break None;
                }
                let count = *viewers.borrow_and_update();
                if send_json(&mut socket, &json!({"type": "viewers", "count": count})).await.is_err() {
                    break None;
                }
            }
            msg = socket.recv() => match msg {
                Some(Ok(Message::Binary(data))) => match ingest(&room, &state, &rate, &data) {
                    Ingested::Published => {}
                    Ingested::Dropped => {
                        if let Some(message) = rate.warning() {
                            let reply = json!({"type": "error", "message": message});
                            if send_json(&mut socket, &reply).await.is_err() {
                                break None;
                            }
                        }
                    }
                    Ingested::Refused(ending) => break Some(ending),
                },
                Some(Ok(Message::Text(text))) => {
                    let reply = answer_text(&room, &state, &text);
                    if send_json(&mut socket, &reply).await.is_err() {
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
            close_code::SIZE,
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
            Ingested::Refused(Ending::new(close_code::SIZE, err.to_string()))
        }
        Err(err) => {
            state.metrics.reject(Rejection::NotJpeg);
            Ingested::Refused(Ending::new(close_code::UNSUPPORTED, err.to_string()))
        }
    }
}

/// The reply to a text message; never closes the socket.
fn answer_text(room: &Room, state: &AppState, text: &Utf8Bytes) -> Value {
    let value: Value = match serde_json::from_str(text.as_str()) {
        Ok(value) => value,
        Err(err) => {
            state.metrics.reject(Rejection::BadText);
            return json!({"type": "error", "message": format!("invalid JSON: {err}")});
        }
    };
    match value.get("type").and_then(Value::as_str) {
        Some("hello") => json!({
            "type": "welcome",
            "room": room.id,
            "viewers": room.snapshot().viewers,
            "max_frame_bytes": state.config.max_frame_bytes,
            "max_frame_dim": state.config.max_frame_dim,
        }),
        Some("ping") => json!({"type": "pong"}),
        Some(other) => json!({
            "type": "error",
            "message": format!("unknown message type {other:?}; send JPEGs as binary messages"),
        }),
        None => {
            state.metrics.reject(Rejection::BadText);
            json!({"type": "error", "message": "expected a JSON object with a \"type\""})
        }
    }
}

async fn send_json(socket: &mut WebSocket, value: &Value) -> Result<(), axum::Error> {
    socket.send(Message::Text(value.to_string().into())).await
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
            close_code::SIZE,
            format!(
                "frame is over the {} byte limit",
                state.config.max_frame_bytes
            ),
        ))
    } else if text.contains("UTF-8") {
        state.metrics.reject(Rejection::BadText);
        Some(Ending::new(
            close_code::INVALID,
            "text message is not valid UTF-8",
        ))
    } else {
        tracing::debug!(error = %err, "publisher socket error");
        None
    }
}
