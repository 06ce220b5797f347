//! The publisher's WebSocket: JPEGs in, viewer counts out.
//!
//! One task per publisher selects over: server shutdown, being replaced by a newer publisher,
//! a change of the viewer count (sent as `{"type":"viewers","count":N}`), and the next
//! message. A bad binary message closes the socket with 1003 or 1009; a bad text message
//! only gets an error message back. Frames faster than the publisher's frame rate limit are
//! dropped, with an error message at most once a second.

use std::{sync::Arc, time::Duration};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt, stream::SplitSink};
use protocol::{
    ClientMessage, ServerMessage,
    close::{self, Close},
};
use serde::Deserialize as _;
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

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

/// Replies to text messages that may wait for a slow client; more are dropped.
const REPLY_QUEUE: usize = 8;
/// How long the client gets to take the close frame, and then to answer it.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

pub async fn serve(socket: WebSocket, guard: PublisherGuard, state: Arc<AppState>) {
    let room = Arc::clone(&guard.room);
    tracing::info!(room = %room.id, "publisher connected");
    let (sink, mut stream) = socket.split();
    // Writing happens in a task of its own, so a client that never reads cannot hold up its
    // frames, its replacement or shutdown: reading never waits for a write.
    let (replies, queued) = mpsc::channel(REPLY_QUEUE);
    let stop_writing = CancellationToken::new();
    let writer = tokio::spawn(write_loop(
        sink,
        room.viewer_count(),
        room.remote_viewer_count(),
        queued,
        stop_writing.clone(),
    ));
    let reply = |message: ServerMessage| {
        // A full queue means the client is not reading: it misses this reply, nothing else.
        let _ = replies.try_send(message);
    };
    let mut rate = FrameRate::new(state.config.max_publish_fps);
    let closing = room.closing();
    let ending = loop {
        tokio::select! {
            biased;
            () = state.shutdown.cancelled() => {
                break Some(close::SHUTDOWN.into());
            }
            () = guard.kicked.cancelled() => {
                break Some(close::REPLACED.into());
            }
            // After shutdown (biased): the room's closing token is cancelled by both.
            () = closing.cancelled() => {
                break Some(close::ENDED.into());
            }
            msg = stream.next() => match msg {
                Some(Ok(Message::Binary(data))) => match ingest(&room, &state, &rate, &data) {
                    Ingested::Published => {}
                    Ingested::Dropped => {
                        if let Some(message) = rate.warning() {
                            reply(ServerMessage::error(message));
                        }
                    }
                    Ingested::Refused(ending) => break Some(ending),
                },
                Some(Ok(Message::Text(text))) => reply(answer_text(&room, &state, &text)),
                // tungstenite answers pings itself, within the bounded write buffer: a flood
                // of pings from a client that never reads keeps only the latest pong.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None => break None,
                Some(Err(err)) => break receive_error(&err, &state),
            },
        }
    };
    let why = ending
        .as_ref()
        .map_or("closed by peer", |e| e.reason.as_str());
    tracing::info!(room = %room.id, reason = why, "publisher disconnected");
    stop_writing.cancel();
    // The writer stops at once, even mid-send; its sink comes back for the close.
    if let Ok(mut sink) = writer.await {
        match ending {
            Some(Ending { code, reason }) => {
                let frame = CloseFrame {
                    code,
                    reason: reason.into(),
                };
                let closed =
                    tokio::time::timeout(CLOSE_GRACE, sink.send(Message::Close(Some(frame))));
                if matches!(closed.await, Ok(Ok(()))) {
                    // Give the client a moment to answer, for a clean closing handshake.
                    let _ = tokio::time::timeout(CLOSE_GRACE, async {
                        while let Some(Ok(_)) = stream.next().await {}
                    })
                    .await;
                }
            }
            // tungstenite queued the reply to the client's close: send it for a clean close.
            None => {
                let _ = tokio::time::timeout(CLOSE_GRACE, sink.flush()).await;
            }
        }
    }
    drop(guard);
}

/// A publisher of a room that has ended: closed at once with [`close::ROOM_ENDED`], so the
/// client can tell it apart from a network failure (a browser never sees an HTTP status
/// of a refused upgrade).
pub async fn refuse_ended(mut socket: WebSocket) {
    let frame = CloseFrame {
        code: close::ROOM_ENDED.code,
        reason: close::ROOM_ENDED.reason.into(),
    };
    if matches!(
        tokio::time::timeout(CLOSE_GRACE, socket.send(Message::Close(Some(frame)))).await,
        Ok(Ok(()))
    ) {
        let _ = tokio::time::timeout(CLOSE_GRACE, async {
            while let Some(Ok(_)) = socket.next().await {}
        })
        .await;
    }
}

/// Sends the viewer count (the latest value only, once on start and on every change; in a
/// cluster, this node's viewers plus the other nodes') and queued replies, until told to
/// stop. Returns the sink for the closing handshake.
async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut viewers: watch::Receiver<usize>,
    mut remote: watch::Receiver<usize>,
    mut replies: mpsc::Receiver<ServerMessage>,
    stop: CancellationToken,
) -> SplitSink<WebSocket, Message> {
    viewers.mark_changed();
    let mut sent_count = None;
    loop {
        let message = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            Some(reply) = replies.recv() => reply,
            changed = viewers.changed() => {
                if changed.is_err() {
                    break;
                }
                let all = *viewers.borrow_and_update() + *remote.borrow_and_update();
                let count = u32::try_from(all).unwrap_or(u32::MAX);
                if sent_count == Some(count) {
                    continue;
                }
                sent_count = Some(count);
                ServerMessage::Viewers { count }
            }
            changed = remote.changed() => {
                if changed.is_err() {
                    break;
                }
                let all = *viewers.borrow_and_update() + *remote.borrow_and_update();
                let count = u32::try_from(all).unwrap_or(u32::MAX);
                if sent_count == Some(count) {
                    continue;
                }
                sent_count = Some(count);
                ServerMessage::Viewers { count }
            }
        };
        // Serializing an enum of strings and integers cannot fail.
        let text = serde_json::to_string(&message).unwrap_or_default();
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            sent = sink.send(Message::Text(text.into())) => {
                if sent.is_err() {
                    // The reader sees the broken socket too; wait for it to end the session.
                    stop.cancelled().await;
                    break;
                }
            }
        }
    }
    sink
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
    let limit = state.max_frame_bytes();
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
    // A part whose bytes hold the boundary line would end early in every viewer's parser, and
    // what follows would pass for a part of the publisher's choosing (say, HTML).
    if memchr::memmem::find(data, protocol::mjpeg::DELIMITER).is_some() {
        state.metrics.reject(Rejection::NotJpeg);
        return Ingested::Refused(Ending::new(
            close::UNSUPPORTED_DATA,
            "frame contains the stream's boundary",
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
            max_frame_bytes: state.max_frame_bytes() as u64,
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

/// A receive error: a message over the size limit gets 1009, a text message that is not
/// UTF-8 gets 1007, a frame that breaks the WebSocket protocol 1002; anything else (the
/// connection broke) just ends.
fn receive_error(err: &axum::Error, state: &AppState) -> Option<Ending> {
    // axum does not re-export tungstenite's error type; its text is the only stable handle
    // on the kind (tests cover each, so a change of wording fails loudly).
    let text = err.to_string();
    if text.contains("too long") || text.contains("Space limit") {
        state.metrics.reject(Rejection::TooLarge);
        Some(Ending::new(
            close::MESSAGE_TOO_BIG,
            format!("frame is over the {} byte limit", state.max_frame_bytes()),
        ))
    } else if text.contains("UTF-8") {
        state.metrics.reject(Rejection::BadText);
        Some(close::NOT_UTF8.into())
    } else if let Some(detail) = text.strip_prefix("WebSocket protocol error: ") {
        state.metrics.reject(Rejection::BadProtocol);
        Some(Ending::new(
            close::PROTOCOL_ERROR,
            format!("protocol error: {detail}"),
        ))
    } else {
        tracing::debug!(error = %err, "publisher socket error");
        None
    }
}
