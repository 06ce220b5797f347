//! The filter worker: source → wasm buffer → pipeline → `#preview` (an `OffscreenCanvas`)
//! → the sender worker, with the same [`Engine`] and drivers as the main-thread loop.
//!
//! A stage that needs something loaded first (a model) belongs in the pipeline like any
//! other filter; this worker only drives frames through it, so such a filter can load
//! asynchronously here without the page noticing.

use std::{
    cell::{Cell, RefCell},
    rc::{Rc, Weak},
};

use gloo::timers::callback::Interval;
use wasm_bindgen::{JsCast, JsValue, prelude::Closure};
use web_sys::{MessageEvent, MessagePort, OffscreenCanvas, ReadableStream};

use super::{
    protocol::{
        FrameMeta, FromFilter, SourceSpec, ToFilter, ToFilterFromSender, envelope, field, open,
    },
    scope::{post, scope},
};
use crate::{
    frame_loop::{
        Canvas, Controls, Engine, FramePath,
        backdrop::Picture,
        drivers::{Driver, PatternDriver, ProcessorDriver},
    },
    frame_tap::{FrameTap, ProcessedFrame},
    glue::now_ms,
    media::test_pattern::TestPattern,
};

/// How often stats go to the page.
const STATS_PERIOD_MS: u32 = 500;

thread_local! {
    /// Frames handed to the sender and the ms that took here, for the stats: the hand-off
    /// runs inside the engine's frame (the tap), where the engine's stats are borrowed.
    static HANDOFF: Cell<(u64, f64)> = const { Cell::new((0, 0.0)) };
}

struct Running {
    id: u64,
    engine: Rc<RefCell<Engine>>,
    _driver: Driver,
    _stats: Interval,
}

#[derive(Default)]
struct State {
    controls: Rc<RefCell<Controls>>,
    preview: Option<OffscreenCanvas>,
    original: Option<OffscreenCanvas>,
    running: Option<Running>,
    /// The segmentation model (its worker starts on first use), kept across sources.
    model: super::model::ModelLoader,
    /// The user's own model (`model` stage), kept across sources.
    own_model: super::own_model::OwnModel,
}

/// The filter worker's end of the channel to the sender worker.
struct SenderLink {
    port: MessagePort,
    /// The sender wants frames (socket open, someone watching).
    wanted: Cell<bool>,
    /// The sender finished the last frame.
    idle: Cell<bool>,
    /// A pixel buffer the sender gave back, reused for the next frame.
    spare: RefCell<Option<js_sys::ArrayBuffer>>,
    /// A frame was processed while the sender was busy: when it is ready again it gets the
    /// newest frame at once (from the running engine) rather than waiting for the next.
    missed: Cell<bool>,
    engine: RefCell<Weak<RefCell<Engine>>>,
    /// The preview canvas, which shows each frame as it is offered: a snapshot of it (an
    /// `ImageBitmap`) is what the sender gets, where the browser can make one.
    preview: RefCell<Option<OffscreenCanvas>>,
    /// Frames wider than this go to the sender as snapshots, others as pixel buffers.
    bitmap_above: Cell<u32>,
}

/// Adds one hand-off that took `ms` of this worker's time to the stats.
fn count_handoff(frames: u64, ms: f64) {
    HANDOFF.with(|sums| {
        let (n, sum) = sums.get();
        sums.set((n + frames, sum + ms));
    });
}

impl SenderLink {
    /// Hands `frame` to the sender if it wants one now; else the frame is simply not sent
    /// (the sender only ever gets the newest frame after it is done with the last).
    fn offer(self: &Rc<Self>, frame: &ProcessedFrame<'_>) {
        if !self.wanted.get() {
            return;
        }
        if !self.idle.get() {
            self.missed.set(true);
            return;
        }
        let start = now_ms();
        let meta = FrameMeta {
            width: frame.width,
            height: frame.height,
            captured_at_ms: frame.captured_at_ms,
            frame_number: frame.frame_number,
        };
        if frame.width > self.bitmap_above.get() && self.offer_bitmap(meta.clone()) {
            count_handoff(0, now_ms() - start);
            return;
        }
        let len = frame.rgba.len() as u32;
        let buffer = match self.spare.borrow_mut().take() {
            Some(buffer) if buffer.byte_length() == len => buffer,
            _ => js_sys::ArrayBuffer::new(len),
        };
        js_sys::Uint8Array::new(&buffer).copy_from(frame.rgba);
        let message = envelope(&meta, &[("pixels", buffer.clone().into())]);
        if self
            .port
            .post_message_with_transferable(&message, &js_sys::Array::of1(&buffer))
            .is_ok()
        {
            self.idle.set(false);
            self.missed.set(false);
        }
        count_handoff(1, now_ms() - start);
    }

    /// Starts a snapshot of the preview canvas (which shows the frame just drawn) and
    /// posts it to the sender as a transferred `ImageBitmap` when ready; returns whether
    /// the snapshot started (else the caller copies the pixels).
    fn offer_bitmap(self: &Rc<Self>, meta: FrameMeta) -> bool {
        let Some(preview) = self.preview.borrow().clone() else {
            return false;
        };
        let Ok(promise) = scope().create_image_bitmap_with_offscreen_canvas(&preview) else {
            return false;
        };
        // The snapshot is taken now; until it is posted, no other frame is offered.
        self.idle.set(false);
        self.missed.set(false);
        let link = Rc::clone(self);
        wasm_bindgen_futures::spawn_local(async move {
            let start = now_ms();
            let posted = match wasm_bindgen_futures::JsFuture::from(promise).await {
                Ok(bitmap) => {
                    let message = envelope(&meta, &[("bitmap", bitmap.clone())]);
                    link.port
                        .post_message_with_transferable(&message, &js_sys::Array::of1(&bitmap))
                        .is_ok()
                }
                Err(_) => false,
            };
            count_handoff(1, now_ms() - start);
            if !posted {
                // Nothing reached the sender: it stays idle and takes the next frame.
                link.idle.set(true);
                link.missed.set(true);
            }
        });
        true
    }

    /// The sender can take a frame now: the newest one, if it has not had it.
    fn offer_missed(self: &Rc<Self>) {
        if !self.missed.get() || !self.wanted.get() || !self.idle.get() {
            return;
        }
        let Some(engine) = self.engine.borrow().upgrade() else {
            return;
        };
        // Not while the engine itself runs (it cannot, between tasks, but never panic).
        if let Ok(engine) = engine.try_borrow() {
            engine.with_last_frame(|frame| self.offer(frame));
        }
    }

    fn on_message(self: &Rc<Self>, data: &JsValue) {
        match open::<ToFilterFromSender>(data) {
            Some(ToFilterFromSender::Gate {
                wanted,
                bitmap_above,
            }) => {
                self.bitmap_above.set(bitmap_above);
                self.wanted.set(wanted);
                self.missed.set(wanted);
                self.offer_missed();
            }
            Some(ToFilterFromSender::Ready { bitmap_above }) => {
                self.bitmap_above.set(bitmap_above);
                if let Some(pixels) = field(data, "pixels") {
                    *self.spare.borrow_mut() = Some(pixels.unchecked_into());
                }
                self.idle.set(true);
                self.offer_missed();
            }
            None => {}
        }
    }
}

/// Becomes the filter worker: `port` leads to the sender worker.
pub fn run(port: MessagePort) {
    let link = Rc::new(SenderLink {
        port,
        wanted: Cell::new(false),
        idle: Cell::new(true),
        spare: RefCell::default(),
        missed: Cell::new(false),
        engine: RefCell::default(),
        preview: RefCell::default(),
        bitmap_above: Cell::new(u32::MAX),
    });
    let on_port = {
        let link = Rc::clone(&link);
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            link.on_message(&event.data());
        })
    };
    link.port
        .set_onmessage(Some(on_port.as_ref().unchecked_ref()));
    on_port.forget();

    let tap = FrameTap::default();
    {
        let link = Rc::clone(&link);
        tap.set(move |frame| link.offer(frame));
    }
    let state = Rc::new(RefCell::new(State::default()));
    let on_page = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        handle(&state, &tap, &event.data());
        link.preview
            .borrow_mut()
            .clone_from(&state.borrow().preview);
        let engine = state
            .borrow()
            .running
            .as_ref()
            .map(|r| Rc::downgrade(&r.engine));
        *link.engine.borrow_mut() = engine.unwrap_or_default();
    });
    scope().set_onmessage(Some(on_page.as_ref().unchecked_ref()));
    // The worker lives as long as the page: its handlers are never freed.
    on_page.forget();
}

fn handle(state: &Rc<RefCell<State>>, tap: &FrameTap, data: &JsValue) {
    let Some(message) = open::<ToFilter>(data) else {
        return;
    };
    let mut state = state.borrow_mut();
    match message {
        ToFilter::Hello { .. } => {}
        ToFilter::Canvases => {
            if let Some(preview) = field(data, "preview") {
                state.preview = Some(preview.unchecked_into());
            }
            if let Some(original) = field(data, "original") {
                state.original = Some(original.unchecked_into());
            }
        }
        ToFilter::Controls { spec, compare } => {
            let mut controls = state.controls.borrow_mut();
            controls.spec = spec;
            controls.compare = compare;
            controls.version += 1;
        }
        ToFilter::Start { session, source } => {
            // The old source stops first (its reader is cancelled, its timer dropped).
            state.running = None;
            let readable = field(data, "readable").map(JsCast::unchecked_into::<ReadableStream>);
            match start(&state, tap, session, &source, readable) {
                Ok(running) => state.running = Some(running),
                Err(err) => report_failure(session, &crate::glue::js_error_message(&err)),
            }
        }
        ToFilter::Backdrop { size } => {
            let pixels =
                field(data, "pixels").map(|buffer| js_sys::Uint8Array::new(&buffer).to_vec());
            let picture = match (size, pixels) {
                (Some((width, height)), Some(rgba)) => Some(Picture::new(rgba, width, height)),
                _ => None,
            };
            let mut controls = state.controls.borrow_mut();
            controls.backdrop = picture;
            controls.version += 1;
        }
        ToFilter::OwnModel { name } => match field(data, "file") {
            Some(file) => state.own_model.set_file(&name, file),
            None => gloo::console::error!("lenscast: a model file message without its file"),
        },
        ToFilter::Stop { session } => {
            if let Some(running) = state.running.take_if(|r| r.id == session) {
                let stats = running.engine.borrow_mut().stats.snapshot(now_ms(), false);
                post_stats(session, stats);
            }
        }
    }
}

fn start(
    state: &State,
    tap: &FrameTap,
    session: u64,
    source: &SourceSpec,
    readable: Option<ReadableStream>,
) -> Result<Running, JsValue> {
    let (Some(preview), Some(original)) = (state.preview.clone(), state.original.clone()) else {
        return Err(JsValue::from_str(
            "the preview canvas never reached the worker",
        ));
    };
    let engine = Engine::new(
        Rc::clone(&state.controls),
        Canvas::Offscreen(preview),
        Canvas::Offscreen(original),
        tap.clone(),
        // The browser's RGBA conversion would wait for the page's main thread.
        FramePath::YuvCopy,
    )?;
    let engine = Rc::new(RefCell::new(engine));
    engine.borrow_mut().stats.totals.in_worker = true;
    engine
        .borrow_mut()
        .set_segmenter_source(Box::new(state.model.clone()));
    engine
        .borrow_mut()
        .set_model_source(Box::new(state.own_model.clone()));
    let driver = match source {
        SourceSpec::Stream { fps } => {
            let readable = readable
                .ok_or_else(|| JsValue::from_str("no frame stream came with the source"))?;
            Driver::Processor(ProcessorDriver::from_readable(
                Rc::clone(&engine),
                &readable,
                *fps,
            )?)
        }
        &SourceSpec::Pattern { width, height, fps } => Driver::Pattern(PatternDriver::start(
            Rc::clone(&engine),
            TestPattern::new(width, height),
            fps,
        )),
    };
    let stats = {
        let engine = Rc::clone(&engine);
        Interval::new(STATS_PERIOD_MS, move || {
            let mut snapshot = engine.borrow_mut().stats.snapshot(now_ms(), true);
            (snapshot.totals.handoffs, snapshot.totals.sum_handoff_ms) = HANDOFF.with(Cell::get);
            post_stats(session, snapshot);
        })
    };
    Ok(Running {
        id: session,
        engine,
        _driver: driver,
        _stats: stats,
    })
}

fn post_stats(session: u64, stats: crate::frame_loop::StatsSnapshot) {
    post(
        &envelope(
            &FromFilter::Stats {
                session,
                stats: Box::new(stats),
            },
            &[],
        ),
        &js_sys::Array::new(),
    );
}

/// A source that could not start: the page learns it through the stats' error line.
fn report_failure(session: u64, reason: &str) {
    let mut stats = crate::frame_loop::StatsSnapshot::default();
    stats.totals.in_worker = true;
    stats.totals.last_error = Some(reason.to_owned());
    post_stats(session, stats);
}
