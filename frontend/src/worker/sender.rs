//! The sender worker: the broadcast's [`Publisher`] (flow control, wasm JPEG encoder,
//! WebSocket with reconnects) fed with frames from the filter worker.
//!
//! Frame hand-off: the filter worker sends a frame only while this worker has said it
//! wants frames (`Gate`) and is idle (`Ready`); `Ready` goes back as soon as the frame is
//! skipped or its encode ends, with the pixel buffer for reuse.

use std::{cell::RefCell, rc::Rc};

use wasm_bindgen::{JsCast, JsValue, prelude::Closure};
use web_sys::{MessageEvent, MessagePort};
use yew::Callback;

use super::{
    protocol::{FrameMeta, FromSender, ToFilterFromSender, ToSender, envelope, field, open},
    scope::{post, scope},
};
use crate::{
    broadcast::{
        Settings,
        publisher::{LinkState, Publisher, PublisherEvents},
    },
    frame_tap::ProcessedFrame,
};

struct State {
    port: MessagePort,
    settings: Rc<RefCell<Settings>>,
    publisher: Option<Publisher>,
    /// The last frame's pixels, copied out of the transferred buffer.
    pixels: Vec<u8>,
    /// The transferred buffer, held until `Ready` gives it back.
    buffer: Option<js_sys::ArrayBuffer>,
    /// A frame arrived and `Ready` has not been sent for it.
    pending: bool,
    wanted: bool,
}

type Shared = Rc<RefCell<State>>;

/// Becomes the sender worker: `port` leads to the filter worker.
pub fn run(port: MessagePort) {
    let state: Shared = Rc::new(RefCell::new(State {
        port,
        settings: Rc::default(),
        publisher: None,
        pixels: Vec::new(),
        buffer: None,
        pending: false,
        wanted: false,
    }));
    let on_port = {
        let state = Rc::clone(&state);
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            on_frame(&state, &event.data());
        })
    };
    state
        .borrow()
        .port
        .set_onmessage(Some(on_port.as_ref().unchecked_ref()));
    on_port.forget();
    let on_page = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        on_page(&state, &event.data());
    });
    scope().set_onmessage(Some(on_page.as_ref().unchecked_ref()));
    // The worker lives as long as the page: its handlers are never freed.
    on_page.forget();
}

fn to_page(message: &FromSender) {
    post(&envelope(message, &[]), &js_sys::Array::new());
}

fn on_page(this: &Shared, data: &JsValue) {
    match open::<ToSender>(data) {
        Some(ToSender::Start {
            room,
            origin,
            settings,
        }) => {
            stop(this);
            *this.borrow().settings.borrow_mut() = settings;
            let weak = Rc::downgrade(this);
            let events = PublisherEvents {
                on_status: Callback::from(move |status: crate::broadcast::publisher::Status| {
                    if let Some(this) = weak.upgrade() {
                        set_wanted(&this, status.state == LinkState::Live);
                    }
                    to_page(&FromSender::Status { status });
                }),
                on_room_lost: Callback::from(|()| to_page(&FromSender::RoomLost)),
            };
            let settings = Rc::clone(&this.borrow().settings);
            let publisher = Publisher::start(room, origin, settings, events);
            let weak = Rc::downgrade(this);
            publisher.set_on_idle(move || {
                if let Some(this) = weak.upgrade() {
                    ready(&this);
                }
            });
            this.borrow_mut().publisher = Some(publisher);
        }
        Some(ToSender::Settings { settings }) => {
            *this.borrow().settings.borrow_mut() = settings;
        }
        Some(ToSender::Stop) => stop(this),
        Some(ToSender::Hello { .. }) | None => {}
    }
}

fn stop(this: &Shared) {
    let publisher = this.borrow_mut().publisher.take();
    if let Some(publisher) = publisher {
        publisher.stop();
    }
    set_wanted(this, false);
    ready(this);
}

/// Tells the filter worker whether to send frames, when that changes.
fn set_wanted(this: &Shared, wanted: bool) {
    let mut state = this.borrow_mut();
    if state.wanted != wanted {
        state.wanted = wanted;
        let message = envelope(&ToFilterFromSender::Gate { wanted }, &[]);
        let _ = state.port.post_message(&message);
    }
}

/// Done with the last frame: give its buffer back and ask for the next.
fn ready(this: &Shared) {
    let mut state = this.borrow_mut();
    if !state.pending {
        return;
    }
    state.pending = false;
    let transfer = js_sys::Array::new();
    let mut extra = Vec::new();
    if let Some(buffer) = state.buffer.take() {
        transfer.push(&buffer);
        extra.push(("pixels", JsValue::from(buffer)));
    }
    let message = envelope(&ToFilterFromSender::Ready, &extra);
    let _ = state
        .port
        .post_message_with_transferable(&message, &transfer);
}

/// A frame from the filter worker.
fn on_frame(this: &Shared, data: &JsValue) {
    let Some(meta) = open::<FrameMeta>(data) else {
        return;
    };
    let Some(buffer) = field(data, "pixels").map(JsCast::unchecked_into::<js_sys::ArrayBuffer>)
    else {
        return;
    };
    let publisher = {
        let mut state = this.borrow_mut();
        state.pending = true;
        let view = js_sys::Uint8Array::new(&buffer);
        let len = view.length() as usize;
        let expected = u64::from(meta.width) * u64::from(meta.height) * 4;
        state.buffer = Some(buffer);
        if expected == len as u64 {
            state.pixels.resize(len, 0);
            view.copy_to(&mut state.pixels);
            state.publisher.clone()
        } else {
            None
        }
    };
    let Some(publisher) = publisher else {
        ready(this);
        return;
    };
    // The publisher copies what it needs before returning, so the pixels can stay here.
    let pixels = std::mem::take(&mut this.borrow_mut().pixels);
    publisher.on_frame(&ProcessedFrame {
        rgba: &pixels,
        width: meta.width,
        height: meta.height,
        canvas: None,
        captured_at_ms: meta.captured_at_ms,
        frame_number: meta.frame_number,
    });
    this.borrow_mut().pixels = pixels;
    if !publisher.is_encoding() {
        ready(this);
    }
}
