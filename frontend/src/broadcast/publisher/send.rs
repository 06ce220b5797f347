//! The send policy: which processed frames are encoded (see [`flow`]), with which
//! encoder, and whether the result still goes out when the encode finishes.

use std::rc::Rc;

use gloo::timers::callback::Timeout;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::Blob;

use super::{
    session::{Shared, notify},
    socket::{Payload, Socket},
    status::ema,
};
use crate::{
    broadcast::{
        EncoderKind,
        flow::{self, FlowInput, Skip},
        native::NativeEncoder,
        scale, stamp,
    },
    frame_tap::{Picture, ProcessedFrame},
    glue::now_ms,
};

/// Starts encoding `frame` if the flow control lets it through; returns quickly.
pub(super) fn on_frame(this: &Shared, frame: &ProcessedFrame<'_>) {
    let t0 = now_ms();
    let mut guard = this.borrow_mut();
    let session = &mut *guard;
    if session.stopped {
        return;
    }
    let mut settings = session.settings.borrow().clone();
    // Smaller than set while frames came out over the server's limit (see `fit`).
    let fit = session.status.fit;
    settings.quality *= fit.quality;
    let input = FlowInput {
        open: session.open,
        viewers: session.status.viewers,
        encoding: session.encoding,
        buffered: session.socket.as_ref().map_or(0, Socket::buffered),
        now_ms: t0,
        next_due_ms: session.next_due_ms,
        max_fps: settings.max_fps,
    };
    if let Err(skip) = flow::decide(&input) {
        // Only skips of frames we would have sent count as "skipped".
        if matches!(skip, Skip::Encoding | Skip::Backpressure) {
            session.status.frames_skipped += 1;
        }
        return;
    }
    session.next_due_ms = Some(flow::next_due(session.next_due_ms, t0, settings.max_fps));
    session.encoding = true;
    session.status.encoder = settings.encoder;
    let generation = session.generation;
    let max_width = f64::from(frame.width.min(settings.max_width)) * fit.width;
    let (w, h) = scale::fit(frame.width, frame.height, max_width as u32);
    // The stamp is the capture time, so the bench measures glass to viewer.
    let stamp_ms = settings.stamp.then_some(frame.captured_at_ms as u64);
    let weak = Rc::downgrade(this);
    // Where the wasm encoder is not linked (the page's fallback path), the browser's.
    match (settings.encoder, session.wasm_jpeg) {
        (EncoderKind::Native, _) | (EncoderKind::Wasm, None) => {
            session.status.encoder = EncoderKind::Native;
            if session.native.is_none() {
                session.native = NativeEncoder::new().ok();
            }
            let size = (frame.width, frame.height);
            let started = session.native.as_mut().map(|enc| match frame.canvas {
                Some(canvas) => enc.begin(canvas, size, (w, h), stamp_ms, settings.quality),
                // From the filter worker: no page canvas, the pixels themselves.
                None => match frame.image {
                    Some(Picture::Data(image)) => {
                        enc.begin_image(image, (w, h), stamp_ms, settings.quality)
                    }
                    Some(Picture::Bitmap(bitmap)) => {
                        enc.begin_bitmap(bitmap, (w, h), stamp_ms, settings.quality)
                    }
                    None => enc.begin_rgba(frame.rgba, size, (w, h), stamp_ms, settings.quality),
                },
            });
            let Some(Ok(promise)) = started else {
                // No OffscreenCanvas (older Safari) or a canvas that cannot be read:
                // the wasm encoder works everywhere, so switch to it from the next frame
                // (where it is linked; else nothing here can encode and frames are skipped).
                session.encoding = false;
                session.next_due_ms = None;
                if session.wasm_jpeg.is_some() {
                    session.settings.borrow_mut().encoder = EncoderKind::Wasm;
                    session.status.encoder = EncoderKind::Wasm;
                }
                return;
            };
            let tap = now_ms() - t0;
            session.status.tap_ms = ema(session.status.tap_ms, tap);
            session.status.main_ms_sum += tap;
            spawn_local(async move {
                let blob = JsFuture::from(promise)
                    .await
                    .ok()
                    .and_then(|b| b.dyn_into::<Blob>().ok());
                if let Some(this) = weak.upgrade() {
                    finish(&this, generation, t0, blob.as_ref().map(Payload::Blob));
                }
            });
        }
        (EncoderKind::Wasm, Some(encode)) => {
            let mut scaled = std::mem::take(&mut session.scaled);
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
            session.status.tap_ms = ema(session.status.tap_ms, tap);
            session.status.main_ms_sum += tap;
            // A new task, not a microtask: the browser paints the preview before the
            // encoder takes the main thread.
            session.pending_encode = Some(Timeout::new(0, move || {
                let Some(this) = weak.upgrade() else { return };
                let (mut out, mut luma) = {
                    let mut s = this.borrow_mut();
                    (std::mem::take(&mut s.jpeg), std::mem::take(&mut s.luma))
                };
                let started = now_ms();
                let ok = encode(&scaled, w, h, settings.quality, &mut out, &mut luma).is_ok();
                this.borrow_mut().status.main_ms_sum += now_ms() - started;
                finish(&this, generation, t0, ok.then_some(Payload::Bytes(&out)));
                let mut s = this.borrow_mut();
                (s.scaled, s.jpeg, s.luma) = (scaled, out, luma);
            }));
        }
    }
}

/// An encode finished: send it if the socket it was meant for is still open.
fn finish(this: &Shared, generation: u64, t0: f64, payload: Option<Payload<'_>>) {
    send_encoded(this, generation, t0, payload);
    let on_idle = this.borrow().on_idle.clone();
    if let Some(on_idle) = on_idle {
        on_idle();
    }
}

fn send_encoded(this: &Shared, generation: u64, t0: f64, payload: Option<Payload<'_>>) {
    {
        let mut guard = this.borrow_mut();
        let session = &mut *guard;
        session.encoding = false;
        // The last viewer may have left while this frame was encoded: then it is dropped
        // too, so nothing at all is sent to an empty room.
        if generation != session.generation || !session.open || session.status.viewers == 0 {
            return;
        }
        let (Some(payload), Some(socket)) = (payload, session.socket.as_ref()) else {
            return;
        };
        // Over the server's limit it would close the socket (1009): not sent, and the next
        // frames are made smaller.
        if let Some(limit) = session.frame_limit
            && !session.status.fit.admit(payload.len() as u64, limit)
        {
            session.status.frames_too_large += 1;
            return;
        }
        let Ok(len) = socket.send(&payload) else {
            return;
        };
        let now = now_ms();
        session.status.encode_ms = ema(session.status.encode_ms, now - t0);
        session.status.encode_ms_sum += now - t0;
        session.status.bytes_sum += len as u64;
        session.status.frames_sent += 1;
        session.sent.push(now, len);
    }
    notify(this, false);
}
