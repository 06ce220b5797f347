//! One live broadcast: the publish WebSocket (with reconnects), the encoder, flow
//! control and the numbers the panel shows.
//!
//! - `connection`: the socket's life: connect, server messages, close codes, backoff.
//! - `send`: which frames are encoded, and which encodes still get sent.
//! - `fit`: frames kept under the server's size limit (told in its `welcome`).
//! - `status`: what is reported to the owner ([`Status`]) and how ([`PublisherEvents`]).
//! - `session`: the state shared with the browser callbacks; `socket`: the WebSocket with
//!   its handlers.
//!
//! Ownership: the owner (the `use_broadcast` hook) holds a [`Publisher`] (an `Rc`) and the
//! frame tap's listener holds a clone; every browser callback (socket events, timers,
//! encode completions) holds only a `Weak`, so dropping the owner's handle after
//! [`Publisher::stop`] frees everything, and a late callback finds nothing to act on. A
//! generation number marks each socket so a completion that belongs to a closed one is
//! dropped instead of sent on the next.

mod connection;
mod fit;
mod send;
mod session;
mod socket;
mod status;

use std::{cell::RefCell, rc::Rc};

use gloo::timers::callback::Interval;

pub use fit::Fit;
pub use session::WasmJpeg;
pub use status::{LinkState, PublisherEvents, Status};

use self::session::{Session, Shared, notify};
use super::{Settings, room::Room};
use crate::frame_tap::ProcessedFrame;

#[derive(Clone)]
pub struct Publisher(Shared);

impl PartialEq for Publisher {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Publisher {
    /// Starts publishing to `room` (connects at once).
    /// `wasm_jpeg` is the wasm JPEG encoder ([`crate::broadcast::jpeg::encode_rgba`]) where
    /// the caller links it: the sender worker does; the page leaves it out (its fallback
    /// path uses the browser's encoder), which keeps `jpeg-encoder` out of the page's wasm.
    pub fn start(
        room: Room,
        origin: String,
        settings: Rc<RefCell<Settings>>,
        events: PublisherEvents,
        wasm_jpeg: Option<WasmJpeg>,
    ) -> Self {
        let session = Rc::new(RefCell::new(Session::new(
            room, origin, settings, events, wasm_jpeg,
        )));
        let weak = Rc::downgrade(&session);
        // Keeps the rates honest while no frames flow (paused, reconnecting).
        session.borrow_mut().ticker = Some(Interval::new(1000, move || {
            if let Some(session) = weak.upgrade() {
                notify(&session, true);
            }
        }));
        connection::connect(&session);
        Self(session)
    }

    /// Closes the socket and cancels every timer; later frames are ignored.
    pub fn stop(&self) {
        self.0.borrow_mut().stop();
    }

    /// Whether a frame is being encoded (a new one would be skipped).
    pub fn is_encoding(&self) -> bool {
        self.0.borrow().encoding
    }

    /// Calls `on_idle` whenever an encode ends, sent or not.
    pub fn set_on_idle(&self, on_idle: impl Fn() + 'static) {
        self.0.borrow_mut().on_idle = Some(Rc::new(on_idle));
    }

    /// The frame tap's listener: called for every processed frame; returns quickly.
    pub fn on_frame(&self, frame: &ProcessedFrame<'_>) {
        send::on_frame(&self.0, frame);
    }
}
