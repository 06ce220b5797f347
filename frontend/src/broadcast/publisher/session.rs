//! The state one publisher shares between its handle and its browser callbacks, and how
//! changes to it reach the owner.

use std::{cell::RefCell, rc::Rc};

use gloo::timers::callback::{Interval, Timeout};

use super::{
    socket::Socket,
    status::{LinkState, PublisherEvents, SentWindow, Status},
};
use crate::{
    broadcast::{Settings, native::NativeEncoder, room::Room},
    glue::now_ms,
};

/// Callbacks hold a `Weak` of this; only the [`super::Publisher`] handles own it.
pub(super) type Shared = Rc<RefCell<Session>>;

/// The wasm JPEG encoder's signature ([`crate::broadcast::jpeg::encode_rgba`]).
pub type WasmJpeg = fn(
    &[u8],
    u32,
    u32,
    f64,
    &mut Vec<u8>,
    &mut Vec<u8>,
) -> Result<(), crate::broadcast::jpeg::EncodeError>;

pub(super) struct Session {
    pub(super) room: Room,
    pub(super) origin: String,
    /// The owner's settings, read on every frame: changes apply without a reconnect.
    pub(super) settings: Rc<RefCell<Settings>>,
    pub(super) events: PublisherEvents,
    pub(super) socket: Option<Socket>,
    pub(super) open: bool,
    /// Bumped for every new socket and on stop: an encode that finishes under an older
    /// generation belongs to a socket that is gone and is dropped.
    pub(super) generation: u64,
    /// Connection attempts since the last successful open (drives the backoff).
    pub(super) attempt: u32,
    pub(super) retry: Option<Timeout>,
    pub(super) pending_encode: Option<Timeout>,
    pub(super) ticker: Option<Interval>,
    pub(super) stopped: bool,
    pub(super) encoding: bool,
    pub(super) next_due_ms: Option<f64>,
    pub(super) native: Option<NativeEncoder>,
    /// The wasm encoder, where the caller linked it (see [`super::Publisher::start`]).
    pub(super) wasm_jpeg: Option<WasmJpeg>,
    /// Wasm encoder buffers, reused frame after frame.
    pub(super) scaled: Vec<u8>,
    pub(super) jpeg: Vec<u8>,
    pub(super) luma: Vec<u8>,
    pub(super) status: Status,
    /// The server's frame limit, from its `welcome` (unknown until then).
    pub(super) frame_limit: Option<u64>,
    pub(super) sent: SentWindow,
    pub(super) last_notify_ms: f64,
    /// Called whenever an encode ends (sent or not): the sender worker then asks the
    /// filter worker for the next frame.
    pub(super) on_idle: Option<Rc<dyn Fn()>>,
}

impl Session {
    pub(super) fn new(
        room: Room,
        origin: String,
        settings: Rc<RefCell<Settings>>,
        events: PublisherEvents,
        wasm_jpeg: Option<WasmJpeg>,
    ) -> Self {
        let encoder = settings.borrow().encoder;
        Self {
            room,
            origin,
            settings,
            events,
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
            wasm_jpeg,
            scaled: Vec::new(),
            jpeg: Vec::new(),
            luma: Vec::new(),
            status: Status {
                encoder,
                ..Status::default()
            },
            frame_limit: None,
            sent: SentWindow::default(),
            last_notify_ms: 0.0,
            on_idle: None,
        }
    }

    /// Closes the socket and cancels every timer; later frames and callbacks find
    /// `stopped` and do nothing.
    pub(super) fn stop(&mut self) {
        self.stopped = true;
        self.generation += 1;
        self.socket = None;
        self.retry = None;
        self.pending_encode = None;
        self.ticker = None;
        self.native = None;
    }
}

/// Sends the status to the owner: at once for `force`, else at most every 500 ms.
pub(super) fn notify(this: &Shared, force: bool) {
    let (callback, status) = {
        let mut guard = this.borrow_mut();
        let session = &mut *guard;
        let now = now_ms();
        if session.stopped || (!force && now - session.last_notify_ms < 500.0) {
            return;
        }
        session.last_notify_ms = now;
        session.sent.update(now, &mut session.status);
        (session.events.on_status.clone(), session.status.clone())
    };
    // Emitted outside the borrow: the owner may call back into the publisher.
    callback.emit(status);
}

pub(super) fn set_state(this: &Shared, state: LinkState) {
    this.borrow_mut().status.state = state;
    notify(this, true);
}
