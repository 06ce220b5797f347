//! The socket's life: connecting, what the server's messages and close codes mean, and
//! reconnecting with backoff.

use std::rc::Rc;

use gloo::timers::callback::Timeout;
use protocol::{ClientMessage, ServerMessage, close};
use wasm_bindgen_futures::spawn_local;
use web_sys::{CloseEvent, MessageEvent};

use super::{
    session::{Shared, notify, set_state},
    socket::Socket,
    status::LinkState,
};
use crate::broadcast::backoff;

/// Opens a new socket in place of the current one (if any).
pub(super) fn connect(this: &Shared) {
    let url = {
        let mut session = this.borrow_mut();
        if session.stopped {
            return;
        }
        session.generation += 1;
        session.socket = None;
        session.open = false;
        session.room.publish_url(&session.origin)
    };
    let weak = Rc::downgrade(this);
    let on_open = {
        let weak = weak.clone();
        move |_| {
            if let Some(this) = weak.upgrade() {
                opened(&this);
            }
        }
    };
    let on_message = {
        let weak = weak.clone();
        move |event: MessageEvent| {
            let (Some(this), Some(text)) = (weak.upgrade(), event.data().as_string()) else {
                return;
            };
            match decode(&text) {
                Some(ServerMessage::Viewers { count }) => viewers(&this, count),
                Some(ServerMessage::Welcome {
                    max_frame_bytes, ..
                }) => {
                    let mut session = this.borrow_mut();
                    session.frame_limit = Some(max_frame_bytes);
                    session.status.frame_limit = max_frame_bytes;
                }
                Some(ServerMessage::Error { message }) => {
                    gloo::console::warn!(format!("lenscast server: {message}"));
                }
                // Answers to messages this client never sends, or types it does not know.
                _ => {}
            }
        }
    };
    let on_close = move |event: CloseEvent| {
        if let Some(this) = weak.upgrade() {
            closed(&this, event.code(), &event.reason());
        }
    };
    match Socket::open(&url, on_open, on_message, on_close) {
        Ok(socket) => this.borrow_mut().socket = Some(socket),
        Err(_) => retry(this, "cannot open a WebSocket".into()),
    }
}

/// A text message from the server; `None` for anything that is not one.
fn decode(text: &str) -> Option<ServerMessage> {
    serde_json::from_str(text).ok()
}

fn opened(this: &Shared) {
    let viewers = {
        let mut session = this.borrow_mut();
        session.open = true;
        session.attempt = 0;
        session.next_due_ms = None;
        // The welcome says the frame limit (it can differ per server and over time).
        if let (Some(socket), Ok(hello)) = (
            session.socket.as_ref(),
            serde_json::to_string(&ClientMessage::Hello),
        ) {
            let _ = socket.send_text(&hello);
        }
        session.status.viewers
    };
    set_state(this, LinkState::open(viewers));
}

fn viewers(this: &Shared, count: u32) {
    let open = {
        let mut session = this.borrow_mut();
        session.status.viewers = count;
        session.open
    };
    if open {
        set_state(this, LinkState::open(count));
    } else {
        notify(this, true);
    }
}

fn closed(this: &Shared, code: u16, reason: &str) {
    let was_open = {
        let mut session = this.borrow_mut();
        let was_open = session.open;
        session.open = false;
        session.socket = None;
        session.status.viewers = 0;
        was_open
    };
    match after_close(code, reason, was_open) {
        AfterClose::Retry(why) => retry(this, why),
        AfterClose::GiveUp(why) => set_state(this, LinkState::Failed(why)),
    }
}

/// What to do once the server closed the socket, and what to tell the user.
#[derive(Debug, PartialEq)]
enum AfterClose {
    Retry(String),
    GiveUp(String),
}

fn after_close(code: u16, reason: &str, was_open: bool) -> AfterClose {
    // Another connection with this room's token took over: reconnecting would take the room
    // back and start a tug of war.
    if code == close::REPLACED_CODE {
        return AfterClose::GiveUp("another tab or device took over this room".into());
    }
    // The room was ended (here or from another tab): the server refuses it from now on.
    if code == close::ROOM_ENDED_CODE || (code, reason) == (close::ENDED.code, close::ENDED.reason)
    {
        return AfterClose::GiveUp("this room has ended: start a new broadcast".into());
    }
    AfterClose::Retry(match (code, was_open) {
        (close::UNSUPPORTED_DATA, _) => format!("server rejected a frame: {reason}"),
        (close::MESSAGE_TOO_BIG, _) => {
            "frame too large for the server: lower quality or max width".into()
        }
        (_, true) => "connection to the server lost".into(),
        (_, false) => "cannot reach the server".into(),
    })
}

/// Schedules the next connection attempt with backoff and jitter. Before reconnecting it
/// asks whether the room still exists. Room ids outlive server restarts (they are MACs
/// under the server's secret), so a 404 means the server's secret changed, and then only
/// a new room helps.
fn retry(this: &Shared, reason: String) {
    let delay = {
        let mut session = this.borrow_mut();
        if session.stopped {
            return;
        }
        let delay = backoff::delay_ms(session.attempt, js_sys::Math::random());
        session.attempt = session.attempt.saturating_add(1);
        let weak = Rc::downgrade(this);
        session.retry = Some(Timeout::new(delay as u32, move || {
            let Some(this) = weak.upgrade() else { return };
            let room = this.borrow().room.clone();
            let weak = Rc::downgrade(&this);
            spawn_local(async move {
                let exists = room.exists().await;
                let Some(this) = weak.upgrade() else { return };
                if this.borrow().stopped {
                    return;
                }
                if exists {
                    connect(&this);
                } else {
                    let on_room_lost = this.borrow().events.on_room_lost.clone();
                    on_room_lost.emit(());
                }
            });
        }));
        delay
    };
    set_state(
        this,
        LinkState::Reconnecting {
            reason,
            retry_in_ms: delay as u32,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn viewer_count(text: &str) -> Option<u32> {
        match decode(text)? {
            ServerMessage::Viewers { count } => Some(count),
            _ => None,
        }
    }

    #[wasm_bindgen_test]
    fn decodes_viewer_messages_only() {
        assert_eq!(viewer_count(r#"{"type":"viewers","count":2}"#), Some(2));
        assert_eq!(
            viewer_count(r#"{"count":2,"type":"viewers","extra":1}"#),
            Some(2)
        );
        assert_eq!(viewer_count(r#"{"type":"error","message":"x"}"#), None);
        assert_eq!(viewer_count(r#"{"type":"viewers","count":-1}"#), None);
        assert_eq!(
            viewer_count(r#"{"type":"viewers","count":99999999999}"#),
            None
        );
        assert_eq!(viewer_count("not json"), None);
        assert_eq!(
            decode(r#"{"type":"error","message":"x"}"#),
            Some(ServerMessage::error("x"))
        );
    }

    #[wasm_bindgen_test]
    fn a_replaced_publisher_gives_up_and_others_retry() {
        assert!(matches!(
            after_close(close::REPLACED.code, close::REPLACED.reason, true),
            AfterClose::GiveUp(_)
        ));
        assert_eq!(
            after_close(close::UNSUPPORTED_DATA, "not a JPEG", true),
            AfterClose::Retry("server rejected a frame: not a JPEG".into())
        );
        assert!(matches!(
            after_close(close::SHUTDOWN.code, close::SHUTDOWN.reason, true),
            AfterClose::Retry(why) if why == "connection to the server lost"
        ));
        for ended in [close::ENDED, close::ROOM_ENDED] {
            assert!(matches!(
                after_close(ended.code, ended.reason, true),
                AfterClose::GiveUp(_)
            ));
        }
        assert!(matches!(
            after_close(1006, "", false),
            AfterClose::Retry(why) if why == "cannot reach the server"
        ));
    }
}
