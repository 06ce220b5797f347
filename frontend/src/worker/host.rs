//! The page's side of the two workers: starts them once (on first use), holds back
//! messages until a worker's wasm listens, and routes what comes back (stats to the frame
//! loop hook, publisher status to the broadcast hook).

use std::{
    cell::{Cell, RefCell},
    rc::{Rc, Weak},
};

use wasm_bindgen::{JsCast, JsValue, prelude::Closure};
use web_sys::{HtmlCanvasElement, MessageChannel, MessageEvent, Worker};
use yew::Callback;

use super::protocol::{
    FromFilter, FromSender, Role, SourceSpec, ToFilter, ToSender, envelope, open,
};
use crate::{
    broadcast::{
        Settings,
        publisher::{PublisherEvents, Status},
        room::Room,
    },
    frame_loop::{StatsSnapshot, stats::EncodeStats},
};

/// The frame workers' loader (`frontend/workers/`, copied to the dist root by trunk).
const WORKER_URL: &str = "/lenscast_worker_loader.js";

/// One worker, and the messages waiting for it to listen.
struct Endpoint {
    worker: Worker,
    ready: Cell<bool>,
    queue: RefCell<Vec<(js_sys::Object, js_sys::Array)>>,
}

impl Endpoint {
    fn new() -> Result<Self, JsValue> {
        Ok(Self {
            worker: Worker::new(WORKER_URL)?,
            ready: Cell::new(false),
            queue: RefCell::default(),
        })
    }

    fn send(&self, message: js_sys::Object, transfer: js_sys::Array) {
        if self.ready.get() {
            if let Err(err) = self.worker.post_message_with_transfer(&message, &transfer) {
                gloo::console::error!(format!(
                    "lenscast worker: {}",
                    crate::glue::js_error_message(&err)
                ));
            }
        } else {
            self.queue.borrow_mut().push((message, transfer));
        }
    }

    fn set_ready(&self) {
        self.ready.set(true);
        for (message, transfer) in self.queue.borrow_mut().drain(..) {
            let _ = self.worker.post_message_with_transfer(&message, &transfer);
        }
    }
}

type Handler = Closure<dyn FnMut(MessageEvent)>;
/// A worker's `error` handler (its `ErrorEvent` is read as a plain object).
type ErrorHandler = Closure<dyn FnMut(JsValue)>;

pub struct Host {
    filter: Endpoint,
    sender: Endpoint,
    /// The running source's session id and where its stats go.
    stats_to: RefCell<Option<(u64, Callback<StatsSnapshot>)>>,
    /// The running broadcast's owner.
    broadcast_to: RefCell<Option<PublisherEvents>>,
    last_status: RefCell<Option<Status>>,
    /// The running source's latest stats, published as stopped when it stops.
    last_stats: RefCell<StatsSnapshot>,
    /// The canvases whose control went to the filter worker (once per element).
    transferred: RefCell<Vec<HtmlCanvasElement>>,
    next_session: Cell<u64>,
    handlers: RefCell<Vec<Handler>>,
    error_handlers: RefCell<Vec<ErrorHandler>>,
    /// Why a worker failed to load (its module never started), once it has.
    failure: RefCell<Option<String>>,
    /// Who hears of that failure (the running source's loop).
    failure_to: RefCell<Option<Callback<String>>>,
}

thread_local! {
    static HOST: RefCell<Option<Rc<Host>>> = const { RefCell::new(None) };
}

/// The page's workers, started on first use; `None` on the main-thread path or when a
/// worker cannot be created.
pub fn host() -> Option<Rc<Host>> {
    if !super::enabled() {
        return None;
    }
    HOST.with(|slot| {
        if let Some(host) = slot.borrow().as_ref() {
            return Some(Rc::clone(host));
        }
        let host = Host::start()
            .map_err(|err| {
                gloo::console::error!(format!(
                    "lenscast: cannot start the frame workers: {}",
                    crate::glue::js_error_message(&err)
                ));
            })
            .ok()?;
        *slot.borrow_mut() = Some(Rc::clone(&host));
        Some(host)
    })
}

impl Host {
    fn start() -> Result<Rc<Self>, JsValue> {
        let host = Rc::new(Self {
            filter: Endpoint::new()?,
            sender: Endpoint::new()?,
            stats_to: RefCell::default(),
            broadcast_to: RefCell::default(),
            last_status: RefCell::default(),
            last_stats: RefCell::default(),
            transferred: RefCell::default(),
            next_session: Cell::new(0),
            handlers: RefCell::default(),
            error_handlers: RefCell::default(),
            failure: RefCell::default(),
            failure_to: RefCell::default(),
        });
        let weak = Rc::downgrade(&host);
        let on_filter = Handler::new({
            let weak = Weak::clone(&weak);
            move |event: MessageEvent| {
                if let Some(host) = weak.upgrade() {
                    host.on_filter_message(&event.data());
                }
            }
        });
        let on_sender = Handler::new(move |event: MessageEvent| {
            if let Some(host) = weak.upgrade() {
                host.on_sender_message(&event.data());
            }
        });
        host.filter
            .worker
            .set_onmessage(Some(on_filter.as_ref().unchecked_ref()));
        host.sender
            .worker
            .set_onmessage(Some(on_sender.as_ref().unchecked_ref()));
        // A worker that fails to load or throws: the stats overlay says so (the source
        // would otherwise just stay dark).
        for endpoint in [&host.filter, &host.sender] {
            let weak = Rc::downgrade(&host);
            // An `ErrorEvent`; only its `message` is read.
            let on_error = ErrorHandler::new(move |event: JsValue| {
                let message = js_sys::Reflect::get(&event, &"message".into())
                    .ok()
                    .and_then(|m| m.as_string())
                    .unwrap_or_else(|| "it failed to load".into());
                gloo::console::error!(format!("lenscast worker: {message}"));
                if let Some(host) = weak.upgrade() {
                    host.report_error(&format!("frame worker: {message}"));
                    if !host.filter.ready.get() || !host.sender.ready.get() {
                        host.fail(format!("the frame workers could not start: {message}"));
                    }
                }
            });
            endpoint
                .worker
                .set_onerror(Some(on_error.as_ref().unchecked_ref()));
            host.error_handlers.borrow_mut().push(on_error);
        }
        host.handlers.borrow_mut().extend([on_filter, on_sender]);

        // The workers talk to each other directly: frames never pass the page.
        let channel = MessageChannel::new()?;
        let (to_sender, to_filter) = (channel.port1(), channel.port2());
        host.filter.send(
            envelope(
                &ToFilter::Hello { role: Role::Filter },
                &[("port", to_sender.clone().into())],
            ),
            js_sys::Array::of1(&to_sender),
        );
        host.sender.send(
            envelope(
                &ToSender::Hello { role: Role::Sender },
                &[("port", to_filter.clone().into())],
            ),
            js_sys::Array::of1(&to_filter),
        );
        Ok(host)
    }

    fn on_filter_message(&self, data: &JsValue) {
        match open::<FromFilter>(data) {
            Some(FromFilter::Ready) => self.filter.set_ready(),
            Some(FromFilter::Stats { session, mut stats }) => {
                let to = self.stats_to.borrow().clone();
                let Some((current, callback)) = to else {
                    return;
                };
                if current != session {
                    return;
                }
                stats.encode = self.encode_stats();
                stats.publish();
                *self.last_stats.borrow_mut() = (*stats).clone();
                callback.emit(*stats);
            }
            None => {}
        }
    }

    /// Records that a worker failed to load, and says so to whoever listens.
    fn fail(&self, reason: String) {
        if self.failure.borrow().is_some() {
            return;
        }
        *self.failure.borrow_mut() = Some(reason.clone());
        let to = self.failure_to.borrow().clone();
        if let Some(callback) = to {
            callback.emit(reason);
        }
    }

    /// `callback` hears why the workers failed to load: now if they have, else when they
    /// do. (Their canvases went to the filter worker, so the page cannot draw on them
    /// itself: the page offers the main-thread path, `worker=0`, instead.)
    pub fn on_failure(&self, callback: Callback<String>) {
        let failed = self.failure.borrow().clone();
        match failed {
            Some(reason) => callback.emit(reason),
            None => *self.failure_to.borrow_mut() = Some(callback),
        }
    }

    /// Shows `message` in the stats overlay of the running source.
    fn report_error(&self, message: &str) {
        let to = self.stats_to.borrow().clone();
        if let Some((_, callback)) = to {
            let mut stats = self.last_stats.borrow().clone();
            stats.running = true;
            stats.totals.in_worker = true;
            stats.totals.last_error = Some(message.to_owned());
            stats.publish();
            callback.emit(stats);
        }
    }

    fn encode_stats(&self) -> Option<EncodeStats> {
        if self.broadcast_to.borrow().is_none() {
            return None;
        }
        self.last_status
            .borrow()
            .as_ref()
            .map(|status| EncodeStats {
                ms: status.encode_ms,
                fps: status.fps,
                in_worker: true,
            })
    }

    fn on_sender_message(&self, data: &JsValue) {
        match open::<FromSender>(data) {
            Some(FromSender::Ready) => self.sender.set_ready(),
            Some(FromSender::Status { status }) => {
                *self.last_status.borrow_mut() = Some(status.clone());
                let on_status = self
                    .broadcast_to
                    .borrow()
                    .as_ref()
                    .map(|events| events.on_status.clone());
                if let Some(on_status) = on_status {
                    on_status.emit(status);
                }
            }
            Some(FromSender::RoomLost) => {
                let on_room_lost = self
                    .broadcast_to
                    .borrow()
                    .as_ref()
                    .map(|events| events.on_room_lost.clone());
                if let Some(on_room_lost) = on_room_lost {
                    on_room_lost.emit(());
                }
            }
            None => {}
        }
    }

    /// Hands control of `preview` and `original` to the filter worker, unless done before.
    pub fn adopt_canvases(
        &self,
        preview: &HtmlCanvasElement,
        original: &HtmlCanvasElement,
    ) -> Result<(), JsValue> {
        let mut transferred = self.transferred.borrow_mut();
        let mut extra = Vec::new();
        let transfer = js_sys::Array::new();
        for (name, canvas) in [("preview", preview), ("original", original)] {
            if transferred.iter().any(|done| done == canvas) {
                continue;
            }
            let offscreen = canvas.transfer_control_to_offscreen()?;
            transferred.push(canvas.clone());
            transfer.push(&offscreen);
            extra.push((name, JsValue::from(offscreen)));
        }
        if !extra.is_empty() {
            self.filter
                .send(envelope(&ToFilter::Canvases, &extra), transfer);
        }
        Ok(())
    }

    /// Sends the pipeline and compare mode (the worker applies them from the next frame).
    pub fn send_controls(&self, spec: filters::PipelineSpec, compare: bool) {
        self.filter.send(
            envelope(&ToFilter::Controls { spec, compare }, &[]),
            js_sys::Array::new(),
        );
    }

    /// Sends the picked picture for `segment-replace` (a copy of its pixels, transferred),
    /// or `None` to go back to the colour.
    pub fn send_backdrop(&self, picture: Option<&crate::frame_loop::backdrop::Picture>) {
        let transfer = js_sys::Array::new();
        let mut extra = Vec::new();
        let size = picture.map(|picture| {
            let pixels = picture.pixels();
            let copy = js_sys::Uint8Array::from(pixels.rgba.as_slice()).buffer();
            transfer.push(&copy);
            extra.push(("pixels", JsValue::from(copy)));
            (pixels.width, pixels.height)
        });
        self.filter
            .send(envelope(&ToFilter::Backdrop { size }, &extra), transfer);
    }

    /// Hands the user's model file to the filter worker (a `File` is a handle: the model
    /// worker reads its bytes, which never pass the page's or the filter worker's memory).
    pub fn send_own_model(&self, file: &web_sys::File) {
        self.filter.send(
            envelope(
                &ToFilter::OwnModel { name: file.name() },
                &[("file", JsValue::from(file.clone()))],
            ),
            js_sys::Array::new(),
        );
    }

    /// Starts `source` in the filter worker (with the processor's `readable`, transferred);
    /// its stats go to `on_stats`. Returns the session id for [`Host::stop_source`].
    pub fn start_source(
        &self,
        source: SourceSpec,
        readable: Option<web_sys::ReadableStream>,
        on_stats: Callback<StatsSnapshot>,
    ) -> u64 {
        let session = self.next_session.get() + 1;
        self.next_session.set(session);
        *self.stats_to.borrow_mut() = Some((session, on_stats));
        *self.last_stats.borrow_mut() = StatsSnapshot::default();
        let transfer = js_sys::Array::new();
        let mut extra = Vec::new();
        if let Some(readable) = readable {
            transfer.push(&readable);
            extra.push(("readable", JsValue::from(readable)));
        }
        self.filter.send(
            envelope(&ToFilter::Start { session, source }, &extra),
            transfer,
        );
        session
    }

    /// Stops `session`; its last stats are published as not running.
    pub fn stop_source(&self, session: u64) {
        self.filter.send(
            envelope(&ToFilter::Stop { session }, &[]),
            js_sys::Array::new(),
        );
        let mut stats_to = self.stats_to.borrow_mut();
        if stats_to.as_ref().is_some_and(|(id, _)| *id == session) {
            *stats_to = None;
            let mut stats = self.last_stats.take();
            stats.running = false;
            stats.publish();
        }
    }

    /// Starts broadcasting to `room` from the sender worker; `events` hear its status.
    pub fn start_broadcast(
        &self,
        room: Room,
        origin: String,
        settings: Settings,
        events: PublisherEvents,
    ) {
        *self.broadcast_to.borrow_mut() = Some(events);
        *self.last_status.borrow_mut() = None;
        self.sender.send(
            envelope(
                &ToSender::Start {
                    room,
                    origin,
                    settings,
                },
                &[],
            ),
            js_sys::Array::new(),
        );
    }

    pub fn send_settings(&self, settings: Settings) {
        self.sender.send(
            envelope(&ToSender::Settings { settings }, &[]),
            js_sys::Array::new(),
        );
    }

    pub fn stop_broadcast(&self) {
        *self.broadcast_to.borrow_mut() = None;
        self.sender
            .send(envelope(&ToSender::Stop, &[]), js_sys::Array::new());
    }
}
