//! The sender worker: the broadcast's [`Publisher`] (flow control, wasm JPEG encoder,
//! WebSocket with reconnects) fed with frames from the filter worker.
//!
//! Frame hand-off: the filter worker sends a frame only while this worker has said it
//! wants frames (`Gate`) and is idle (`Ready`); `Ready` goes back as soon as the frame is
//! skipped or its encode ends, with the pixel buffer for reuse. A frame wider than the
//! broadcast's `max_width` comes as an `ImageBitmap` (a snapshot of the preview canvas)
//! that the browser scales here, so a 1080p frame never enters this worker's wasm memory;
//! one at the broadcast size comes as a transferred pixel buffer.

use std::{cell::RefCell, rc::Rc};

use wasm_bindgen::{JsCast, JsValue, prelude::Closure};
use web_sys::{ImageBitmap, MessageEvent, MessagePort};
use yew::Callback;

use super::{
    protocol::{FrameMeta, FromSender, ToFilterFromSender, ToSender, envelope, field, open},
    scope::{post, scope},
};
use crate::{
    broadcast::{
        EncoderKind, Settings,
        publisher::{LinkState, Publisher, PublisherEvents},
        scale,
    },
    frame_loop::Surface,
    frame_tap::{Picture, ProcessedFrame},
};

struct State {
    port: MessagePort,
    settings: Rc<RefCell<Settings>>,
    publisher: Option<Publisher>,
    /// The last frame's pixels, copied out of the transferred buffer (for the wasm encoder).
    pixels: Vec<u8>,
    /// The transferred buffer, held until `Ready` gives it back.
    buffer: Option<js_sys::ArrayBuffer>,
    /// Where the wasm encoder's frames are scaled by the browser (made on first use).
    scaler: Option<Surface>,
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
        scaler: None,
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
            let publisher = Publisher::start(
                room,
                origin,
                settings,
                events,
                Some(crate::broadcast::jpeg::encode_rgba),
            );
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
        let bitmap_above = state.settings.borrow().max_width;
        let message = envelope(
            &ToFilterFromSender::Gate {
                wanted,
                bitmap_above,
            },
            &[],
        );
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
    let bitmap_above = state.settings.borrow().max_width;
    let message = envelope(&ToFilterFromSender::Ready { bitmap_above }, &extra);
    let _ = state
        .port
        .post_message_with_transferable(&message, &transfer);
}

/// A frame from the filter worker.
fn on_frame(this: &Shared, data: &JsValue) {
    let Some(meta) = open::<FrameMeta>(data) else {
        return;
    };
    if let Some(bitmap) = field(data, "bitmap") {
        let bitmap: ImageBitmap = bitmap.unchecked_into();
        this.borrow_mut().pending = true;
        on_bitmap(this, &meta, &bitmap);
        // Frees the snapshot now rather than at the next garbage collection.
        bitmap.close();
    } else if let Some(buffer) = field(data, "pixels") {
        on_pixels(this, &meta, buffer.unchecked_into());
    } else {
        return;
    }
    let publisher = this.borrow().publisher.clone();
    if !publisher.is_some_and(|publisher| publisher.is_encoding()) {
        ready(this);
    }
}

/// A snapshot of the filter worker's preview: the browser's encoder draws it scaled; for
/// the wasm encoder the browser scales it first (on a CPU-side canvas, read back), so
/// only the broadcast size ever reaches wasm memory.
fn on_bitmap(this: &Shared, meta: &FrameMeta, bitmap: &ImageBitmap) {
    let (publisher, settings) = {
        let state = this.borrow();
        let settings = state.settings.borrow().clone();
        (state.publisher.clone(), settings)
    };
    let Some(publisher) = publisher else {
        return;
    };
    let (width, height) = (bitmap.width(), bitmap.height());
    if settings.encoder == EncoderKind::Native {
        publisher.on_frame(&frame(
            meta,
            (width, height),
            &[],
            Some(Picture::Bitmap(bitmap)),
        ));
        return;
    }
    let (w, h) = scale::fit(width, height, settings.max_width);
    let mut pixels = std::mem::take(&mut this.borrow_mut().pixels);
    let scaled = scale_bitmap(this, bitmap, (w, h), &mut pixels);
    match scaled {
        Ok(()) => publisher.on_frame(&frame(meta, (w, h), &pixels, None)),
        Err(err) => web_sys::console::warn_1(&err),
    }
    this.borrow_mut().pixels = pixels;
}

/// Draws `bitmap` at `w`×`h` on the sender's canvas and copies the pixels into `out`.
fn scale_bitmap(
    this: &Shared,
    bitmap: &ImageBitmap,
    (w, h): (u32, u32),
    out: &mut Vec<u8>,
) -> Result<(), JsValue> {
    let mut state = this.borrow_mut();
    if state.scaler.is_none() {
        state.scaler = Some(Surface::detached()?);
    }
    let surface = state.scaler.as_ref().expect("set just above");
    surface.fit(w, h);
    surface.ctx.draw_image_with_image_bitmap_and_dw_and_dh(
        bitmap,
        0.0,
        0.0,
        f64::from(w),
        f64::from(h),
    )?;
    let image = surface.read()?;
    let data: js_sys::Uint8ClampedArray =
        js_sys::Reflect::get(&image, &"data".into())?.unchecked_into();
    out.resize(data.length() as usize, 0);
    data.copy_to(out);
    Ok(())
}

fn frame<'a>(
    meta: &FrameMeta,
    (width, height): (u32, u32),
    rgba: &'a [u8],
    image: Option<Picture<'a>>,
) -> ProcessedFrame<'a> {
    ProcessedFrame {
        rgba,
        width,
        height,
        canvas: None,
        image,
        captured_at_ms: meta.captured_at_ms,
        frame_number: meta.frame_number,
    }
}

/// A copy of the frame's pixels (where the filter worker could not snapshot its canvas).
fn on_pixels(this: &Shared, meta: &FrameMeta, buffer: js_sys::ArrayBuffer) {
    let expected = u64::from(meta.width) * u64::from(meta.height) * 4;
    let fits = u64::from(buffer.byte_length()) == expected;
    let native = this.borrow().settings.borrow().encoder == EncoderKind::Native;
    // The browser's encoder reads the transferred buffer itself (an `ImageData` over it,
    // no copy); only the wasm encoder needs the pixels in wasm memory.
    let image = if native && fits {
        web_sys::ImageData::new_with_js_u8_clamped_array_and_sh(
            &js_sys::Uint8ClampedArray::new(&buffer),
            meta.width,
            meta.height,
        )
        .ok()
    } else {
        None
    };
    let view = js_sys::Uint8Array::new(&buffer);
    let publisher = {
        let mut state = this.borrow_mut();
        state.pending = true;
        // Held until `Ready` gives it back.
        state.buffer = Some(buffer);
        state.publisher.clone().filter(|_| fits)
    };
    let Some(publisher) = publisher else {
        return;
    };
    let mut pixels = std::mem::take(&mut this.borrow_mut().pixels);
    if image.is_none() {
        pixels.resize(expected as usize, 0);
        view.copy_to(&mut pixels);
    }
    // The publisher copies what it needs before returning, so the pixels can stay here.
    let size = (meta.width, meta.height);
    match &image {
        Some(image) => publisher.on_frame(&frame(meta, size, &[], Some(Picture::Data(image)))),
        None => publisher.on_frame(&frame(meta, size, &pixels, None)),
    }
    this.borrow_mut().pixels = pixels;
}
