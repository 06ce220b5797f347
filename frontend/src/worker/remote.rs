//! The broadcast hook's publisher: the sender worker's, driven by messages, on the worker
//! path; the page's own [`Publisher`] fed by the frame tap on the main-thread path.

use std::{cell::RefCell, rc::Rc};

use gloo::timers::callback::Interval;

use super::host::{Host, host};
use crate::{
    broadcast::{
        Settings,
        publisher::{Publisher, PublisherEvents},
        room::Room,
    },
    frame_tap::FrameTap,
};

/// A running broadcast, wherever it runs. [`AnyPublisher::stop`] ends it.
pub enum AnyPublisher {
    Local { publisher: Publisher, tap: FrameTap },
    Remote(RemotePublisher),
}

/// The sender worker's publisher, seen from the page.
pub struct RemotePublisher {
    host: Rc<Host>,
    /// Passes settings changes on: the hook changes them in place, without telling anyone.
    _watch: Interval,
}

/// How often the settings are compared with what the sender worker has.
const SETTINGS_POLL_MS: u32 = 250;

/// Starts publishing to `room` where the frames flow: in the sender worker, or on the page
/// with `tap`'s frames.
pub fn start_publisher(
    tap: &FrameTap,
    room: Room,
    origin: String,
    settings: Rc<RefCell<Settings>>,
    events: PublisherEvents,
) -> AnyPublisher {
    let Some(host) = host() else {
        // No wasm JPEG encoder on the page: the fallback uses the browser's.
        let publisher = Publisher::start(room, origin, settings, events, None);
        let feed = publisher.clone();
        tap.set(move |frame| feed.on_frame(frame));
        return AnyPublisher::Local {
            publisher,
            tap: tap.clone(),
        };
    };
    let mut sent = settings.borrow().clone();
    host.start_broadcast(room, origin, sent.clone(), events);
    let watch = {
        let host = Rc::clone(&host);
        Interval::new(SETTINGS_POLL_MS, move || {
            let current = settings.borrow().clone();
            if current != sent {
                host.send_settings(current.clone());
                sent = current;
            }
        })
    };
    AnyPublisher::Remote(RemotePublisher {
        host,
        _watch: watch,
    })
}

impl AnyPublisher {
    /// Closes the socket and cancels every timer.
    pub fn stop(&self) {
        match self {
            Self::Local { publisher, tap } => {
                tap.clear();
                publisher.stop();
            }
            Self::Remote(remote) => remote.host.stop_broadcast(),
        }
    }
}
