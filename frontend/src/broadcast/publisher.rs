//! One live broadcast: the publish WebSocket (with reconnects), the encoder, flow
//! control and the numbers the panel shows.
//!
//! Ownership: the panel holds a [`Publisher`] (an `Rc`) and the frame tap's listener holds
//! a clone; every browser callback (socket events, timers, encode completions) holds only a
//! `Weak`, so dropping the panel's handle after [`Publisher::stop`] frees everything, and a
//! late callback finds nothing to act on. A generation number marks each socket so a
//! completion that belongs to a closed one is dropped instead of sent on the next.

use std::{cell::RefCell, collections::VecDeque, rc::Rc};

use gloo::timers::callback::{Interval, Timeout};
use wasm_bindgen::{JsCast, prelude::Closure};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{BinaryType, Blob, CloseEvent, Event, MessageEvent, WebSocket};
use yew::Callback;

use super::{
    EncoderKind, Settings, backoff,
    flow::{self, FlowInput, Skip},
    jpeg,
    native::NativeEncoder,
    room::Room,
    scale, stamp,
};
use crate::frame_tap::ProcessedFrame;

/// Where the broadcast stands, as the panel shows it.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum LinkState {
    #[default]
    Connecting,
    /// Open, and at least one viewer: frames flow.
    Live,
    /// Open, nobody watching: nothing is sent.
    Paused,
    /// Lost the server; retrying on its own.
    Reconnecting { reason: String, retry_in_ms: u32 },
    /// Stopped for good (needs the user).
    Failed(String),
}

/// Everything the panel displays; sent on every state change and about twice a second.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Status {
    pub state: LinkState,
    pub viewers: u32,
    pub frames_sent: u64,
    pub frames_skipped: u64,
    /// Upload rate over the last two seconds.
    pub kbit_per_s: f64,
    pub fps: f64,
    pub bytes_per_frame: f64,
    /// From frame hand-off to JPEG bytes (exponential moving average).
    pub encode_ms: f64,
    /// Time the frame loop's own callback spends on broadcasting (copy, scale, draw).
    pub tap_ms: f64,
    pub encoder: EncoderKind,
    /// Running totals for benchmarks (mean over any window = difference of two readings):
    /// hand-off-to-JPEG time, main-thread time (tap plus, for wasm, the encode itself), bytes.
    pub encode_ms_sum: f64,
    pub main_ms_sum: f64,
    pub bytes_sum: u64,
}

/// Messages that change the panel beyond the status.
pub struct Hooks {
    pub on_status: Callback<Status>,
    /// The server no longer knows the room (it restarted): the panel makes a new one.
    pub on_room_lost: Callback<()>,
}

type Handler<T> = Closure<dyn FnMut(T)>;

struct Socket {
    ws: WebSocket,
    _on_open: Handler<Event>,
    _on_message: Handler<MessageEvent>,
    _on_close: Handler<CloseEvent>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close_with_code(1000);
    }
}

struct Inner {
    room: Room,
    origin: String,
    settings: Rc<RefCell<Settings>>,
    hooks: Hooks,
    socket: Option<Socket>,
    open: bool,
    generation: u64,
    attempt: u32,
    retry: Option<Timeout>,
    pending_encode: Option<Timeout>,
    ticker: Option<Interval>,
    stopped: bool,
    encoding: bool,
    next_due_ms: Option<f64>,
    native: Option<NativeEncoder>,
    /// Wasm encoder buffers, reused frame after frame.
    scaled: Vec<u8>,
    jpeg: Vec<u8>,
    luma: Vec<u8>,
    status: Status,
    /// (time, bytes) of frames sent in the last two seconds.
    window: VecDeque<(f64, usize)>,
    last_notify_ms: f64,
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

fn ema(old: f64, new: f64) -> f64 {
    if old == 0.0 {
        new
    } else {
        old * 0.9 + new * 0.1
    }
}

#[derive(Clone)]
pub struct Publisher(Rc<RefCell<Inner>>);

impl PartialEq for Publisher {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Publisher {
    /// Starts publishing to `room` (connects at once).
    pub fn start(
        room: Room,
        origin: String,
        settings: Rc<RefCell<Settings>>,
        hooks: Hooks,
    ) -> Self {
        let encoder = settings.borrow().encoder;
        let inner = Rc::new(RefCell::new(Inner {
            room,
            origin,
            settings,
            hooks,
            socket: None,
            open: false,
            generation: 0,
            attempt: 0,
            retry: None,
            pending_encode: None,
            ticker: None,
            stopped: false,
            encoding: false,
            next_due_ms: None,
            native: None,
            scaled: Vec::new(),
            jpeg: Vec::new(),
            luma: Vec::new(),
            status: Status {
                encoder,
                ..Status::default()
            },
            window: VecDeque::new(),
            last_notify_ms: 0.0,
        }));
        let weak = Rc::downgrade(&inner);
        // Keeps the rates honest while no frames flow (paused, reconnecting).
        inner.borrow_mut().ticker = Some(Interval::new(1000, move || {
            if let Some(inner) = weak.upgrade() {
                notify(&inner, true);
            }
        }));
        connect(&inner);
        Self(inner)
    }

    /// Closes the socket and cancels every timer; later frames are ignored.
    pub fn stop(&self) {
        let mut inner = self.0.borrow_mut();
        inner.stopped = true;
        inner.generation += 1;
        inner.socket = None;
        inner.retry = None;
        inner.pending_encode = None;
        inner.ticker = None;
        inner.native = None;
    }

    /// Called by the frame loop for every processed frame; returns quickly.
    pub fn on_frame(&self, frame: &ProcessedFrame<'_>) {
        let t0 = now_ms();
        let mut guard = self.0.borrow_mut();
        let inner = &mut *guard;
        if inner.stopped {
            return;
        }
        let settings = inner.settings.borrow().clone();
        let input = FlowInput {
            open: inner.open,
            viewers: inner.status.viewers,
            encoding: inner.encoding,
            buffered: inner.socket.as_ref().map_or(0, |s| s.ws.buffered_amount()),
            now_ms: t0,
            next_due_ms: inner.next_due_ms,
            max_fps: settings.max_fps,
        };
        if let Err(skip) = flow::decide(&input) {
            // Only skips of frames we would have sent count as "skipped".
            if matches!(skip, Skip::Encoding | Skip::Backpressure) {
                inner.status.frames_skipped += 1;
            }
            return;
        }
        inner.next_due_ms = Some(flow::next_due(inner.next_due_ms, t0, settings.max_fps));
        inner.encoding = true;
        inner.status.encoder = settings.encoder;
        let generation = inner.generation;
        let (w, h) = scale::fit(frame.width, frame.height, settings.max_width);
        // The stamp is the capture time, so the bench measures glass to viewer.
        let stamp_ms = settings.stamp.then_some(frame.captured_at_ms as u64);
        let weak = Rc::downgrade(&self.0);
        match settings.encoder {
            EncoderKind::Native => {
                if inner.native.is_none() {
                    inner.native = NativeEncoder::new().ok();
                }
                let started = inner.native.as_ref().map(|enc| {
                    enc.begin(
                        frame.canvas,
                        (frame.width, frame.height),
                        (w, h),
                        stamp_ms,
                        settings.quality,
                    )
                });
                let Some(Ok(promise)) = started else {
                    // No OffscreenCanvas (older Safari) or a canvas that cannot be read:
                    // the wasm encoder works everywhere, so switch to it from the next frame.
                    inner.encoding = false;
                    inner.next_due_ms = None;
                    inner.settings.borrow_mut().encoder = EncoderKind::Wasm;
                    inner.status.encoder = EncoderKind::Wasm;
                    return;
                };
                let tap = now_ms() - t0;
                inner.status.tap_ms = ema(inner.status.tap_ms, tap);
                inner.status.main_ms_sum += tap;
                spawn_local(async move {
                    let blob = JsFuture::from(promise)
                        .await
                        .ok()
                        .and_then(|b| b.dyn_into::<Blob>().ok());
                    if let Some(inner) = weak.upgrade() {
                        finish(&inner, generation, t0, blob.as_ref().map(Payload::Blob));
                    }
                });
            }
            EncoderKind::Wasm => {
                let mut scaled = std::mem::take(&mut inner.scaled);
                if (w, h) == (frame.width, frame.height) {
                    scaled.clear();
                    scaled.extend_from_slice(frame.rgba);
                } else {
                    scale::downscale(frame.rgba, frame.width, frame.height, &mut scaled, w, h);
                }
                if let Some(value) = stamp_ms {
                    stamp::paint_rgba(&mut scaled, w, h, value);
                }
                let tap = now_ms() - t0;
                inner.status.tap_ms = ema(inner.status.tap_ms, tap);
                inner.status.main_ms_sum += tap;
                // A new task, not a microtask: the browser paints the preview before the
                // encoder takes the main thread.
                inner.pending_encode = Some(Timeout::new(0, move || {
                    let Some(inner) = weak.upgrade() else { return };
                    let (mut out, mut luma) = {
                        let mut i = inner.borrow_mut();
                        (std::mem::take(&mut i.jpeg), std::mem::take(&mut i.luma))
                    };
                    let started = now_ms();
                    let ok =
                        jpeg::encode_rgba(&scaled, w, h, settings.quality, &mut out, &mut luma)
                            .is_ok();
                    inner.borrow_mut().status.main_ms_sum += now_ms() - started;
                    finish(&inner, generation, t0, ok.then_some(Payload::Bytes(&out)));
                    let mut i = inner.borrow_mut();
                    (i.scaled, i.jpeg, i.luma) = (scaled, out, luma);
                }));
            }
        }
    }
}

enum Payload<'a> {
    Blob(&'a Blob),
    Bytes(&'a [u8]),
}

/// An encode finished: send it if the socket it was meant for is still open.
fn finish(this: &Rc<RefCell<Inner>>, generation: u64, t0: f64, payload: Option<Payload<'_>>) {
    {
        let mut guard = this.borrow_mut();
        let inner = &mut *guard;
        inner.encoding = false;
        // The last viewer may have left while this frame was encoded: then it is dropped
        // too, so nothing at all is sent to an empty room.
        if generation != inner.generation || !inner.open || inner.status.viewers == 0 {
            return;
        }
        let (Some(payload), Some(socket)) = (payload, inner.socket.as_ref()) else {
            return;
        };
        let (sent, len) = match payload {
            Payload::Blob(blob) => (socket.ws.send_with_blob(blob), blob.size() as usize),
            Payload::Bytes(bytes) => (socket.ws.send_with_u8_array(bytes), bytes.len()),
        };
        if sent.is_err() {
            return;
        }
        let now = now_ms();
        inner.status.encode_ms = ema(inner.status.encode_ms, now - t0);
        inner.status.encode_ms_sum += now - t0;
        inner.status.bytes_sum += len as u64;
        inner.status.frames_sent += 1;
        inner.window.push_back((now, len));
    }
    notify(this, false);
}

/// Sends the status to the panel: at once for `force`, else at most every 500 ms.
fn notify(this: &Rc<RefCell<Inner>>, force: bool) {
    let (callback, status) = {
        let mut guard = this.borrow_mut();
        let inner = &mut *guard;
        let now = now_ms();
        if inner.stopped || (!force && now - inner.last_notify_ms < 500.0) {
            return;
        }
        inner.last_notify_ms = now;
        while inner.window.front().is_some_and(|&(t, _)| now - t > 2000.0) {
            inner.window.pop_front();
        }
        let bytes: usize = inner.window.iter().map(|&(_, n)| n).sum();
        let frames = inner.window.len();
        inner.status.kbit_per_s = bytes as f64 * 8.0 / 2000.0;
        inner.status.fps = frames as f64 / 2.0;
        if frames > 0 {
            inner.status.bytes_per_frame = bytes as f64 / frames as f64;
        }
        (inner.hooks.on_status.clone(), inner.status.clone())
    };
    // Emitted outside the borrow: the panel may call back into the publisher.
    callback.emit(status);
}

fn set_state(this: &Rc<RefCell<Inner>>, state: LinkState) {
    this.borrow_mut().status.state = state;
    notify(this, true);
}

fn live_state(viewers: u32) -> LinkState {
    if viewers > 0 {
        LinkState::Live
    } else {
        LinkState::Paused
    }
}

fn connect(this: &Rc<RefCell<Inner>>) {
    let url = {
        let mut inner = this.borrow_mut();
        if inner.stopped {
            return;
        }
        inner.generation += 1;
        inner.socket = None;
        inner.open = false;
        inner.room.publish_url(&inner.origin)
    };
    let Ok(ws) = WebSocket::new(&url) else {
        return retry(this, "cannot open a WebSocket".into());
    };
    ws.set_binary_type(BinaryType::Arraybuffer);
    let weak = Rc::downgrade(this);
    let on_open = Closure::<dyn FnMut(Event)>::new({
        let weak = weak.clone();
        move |_| {
            let Some(inner) = weak.upgrade() else { return };
            let viewers = {
                let mut i = inner.borrow_mut();
                i.open = true;
                i.attempt = 0;
                i.next_due_ms = None;
                i.status.viewers
            };
            set_state(&inner, live_state(viewers));
        }
    });
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
        let weak = weak.clone();
        move |event: MessageEvent| {
            let Some(inner) = weak.upgrade() else { return };
            let Some(text) = event.data().as_string() else {
                return;
            };
            if let Some(count) = viewer_count(&text) {
                let open = {
                    let mut i = inner.borrow_mut();
                    i.status.viewers = count;
                    i.open
                };
                if open {
                    set_state(&inner, live_state(count));
                } else {
                    notify(&inner, true);
                }
            }
        }
    });
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
        let Some(inner) = weak.upgrade() else { return };
        let was_open = {
            let mut i = inner.borrow_mut();
            let was_open = i.open;
            i.open = false;
            i.socket = None;
            i.status.viewers = 0;
            was_open
        };
        let code = event.code();
        let reason = event.reason();
        if code == REPLACED_BY_NEW_PUBLISHER {
            set_state(
                &inner,
                LinkState::Failed("another tab or device took over this room".into()),
            );
            return;
        }
        let why = match (code, was_open) {
            (1003, _) => format!("server rejected a frame: {reason}"),
            (1009, _) => "frame too large for the server: lower quality or max width".into(),
            (_, true) => "connection to the server lost".into(),
            (_, false) => "cannot reach the server".into(),
        };
        retry(&inner, why);
    });
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    this.borrow_mut().socket = Some(Socket {
        ws,
        _on_open: on_open,
        _on_message: on_message,
        _on_close: on_close,
    });
}

/// `{"type":"viewers","count":N}` → `N`; anything else → `None`.
pub fn viewer_count(text: &str) -> Option<u32> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    if value.get("type")?.as_str()? != "viewers" {
        return None;
    }
    u32::try_from(value.get("count")?.as_u64()?).ok()
}

/// The server's close code for a publisher that another connection with the same token
/// replaced: reconnecting would only take the room back and start a tug of war.
const REPLACED_BY_NEW_PUBLISHER: u16 = 4000;

/// Schedules the next connection attempt with backoff and jitter. Before reconnecting it
/// asks whether the room still exists. Room ids outlive server restarts (they are MACs
/// under the server's secret), so a 404 means the server's secret changed, and then only
/// a new room helps.
fn retry(this: &Rc<RefCell<Inner>>, reason: String) {
    let delay = {
        let mut inner = this.borrow_mut();
        if inner.stopped {
            return;
        }
        let delay = backoff::delay_ms(inner.attempt, js_sys::Math::random());
        inner.attempt = inner.attempt.saturating_add(1);
        let weak = Rc::downgrade(this);
        inner.retry = Some(Timeout::new(delay as u32, move || {
            let Some(inner) = weak.upgrade() else { return };
            let room = inner.borrow().room.clone();
            let weak = Rc::downgrade(&inner);
            spawn_local(async move {
                let exists = room.exists().await;
                let Some(inner) = weak.upgrade() else { return };
                if inner.borrow().stopped {
                    return;
                }
                if exists {
                    connect(&inner);
                } else {
                    let hook = inner.borrow().hooks.on_room_lost.clone();
                    hook.emit(());
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

    #[wasm_bindgen_test]
    fn parses_viewer_messages_only() {
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
    }
}
