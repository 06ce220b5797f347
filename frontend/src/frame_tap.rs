//! The hand-off point between the frame loop and whoever wants the processed frames
//! (the broadcast encoder). The loop calls [`FrameTap::emit`] once per processed frame,
//! after drawing it; listeners must return quickly and never keep the borrowed pixels.

use std::{cell::RefCell, rc::Rc};

/// One processed frame, borrowed for the duration of the callback.
pub struct ProcessedFrame<'a> {
    /// RGBA8 pixels, `width * height * 4` bytes, row-major, no padding.
    pub rgba: &'a [u8],
    pub width: u32,
    pub height: u32,
    /// The `#preview` canvas, already showing this frame; `None` in the filter worker,
    /// which draws on an `OffscreenCanvas`.
    pub canvas: Option<&'a web_sys::HtmlCanvasElement>,
    /// The same picture outside wasm memory, where the sender worker has it so: the
    /// browser's encoder takes it from there without a copy through wasm. `rgba` may then
    /// be empty.
    pub image: Option<Picture<'a>>,
    /// Wall-clock capture time: milliseconds since the Unix epoch
    /// (`performance.timeOrigin + performance.now()` when the frame was captured).
    pub captured_at_ms: f64,
    /// The source's frame counter (the synthetic source draws the same number into the frame).
    pub frame_number: u64,
}

/// A frame's pixels held by the browser.
#[derive(Clone, Copy)]
pub enum Picture<'a> {
    /// Over the pixel buffer the filter worker transferred.
    Data(&'a web_sys::ImageData),
    /// A snapshot of the filter worker's preview canvas.
    Bitmap(&'a web_sys::ImageBitmap),
}

type Listener = Box<dyn FnMut(&ProcessedFrame<'_>)>;

#[derive(Default)]
struct Slot {
    listener: Option<Listener>,
    /// Bumped by every `set` and `clear`, so `emit` can tell whether its listener was
    /// replaced or removed while it ran.
    version: u64,
}

/// A shared slot for one listener. Cloning shares the slot.
#[derive(Clone, Default)]
pub struct FrameTap(Rc<RefCell<Slot>>);

impl FrameTap {
    /// Installs `listener`, replacing any previous one.
    pub fn set(&self, listener: impl FnMut(&ProcessedFrame<'_>) + 'static) {
        let mut slot = self.0.borrow_mut();
        slot.listener = Some(Box::new(listener));
        slot.version += 1;
    }

    /// Removes the listener (call it from the installing effect's destructor).
    pub fn clear(&self) {
        let mut slot = self.0.borrow_mut();
        slot.listener = None;
        slot.version += 1;
    }

    pub fn is_listening(&self) -> bool {
        self.0.borrow().listener.is_some()
    }

    /// Hands `frame` to the listener, if any.
    pub fn emit(&self, frame: &ProcessedFrame<'_>) {
        // The listener runs outside the borrow so that it may call `set` or `clear` itself;
        // it goes back only if neither happened meanwhile.
        let (mut listener, version) = {
            let mut slot = self.0.borrow_mut();
            let Some(listener) = slot.listener.take() else {
                return;
            };
            (listener, slot.version)
        };
        listener(frame);
        let mut slot = self.0.borrow_mut();
        if slot.version == version {
            slot.listener = Some(listener);
        }
    }
}

impl PartialEq for FrameTap {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}
