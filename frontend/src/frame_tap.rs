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
    /// The `#preview` canvas, already showing this frame.
    pub canvas: &'a web_sys::HtmlCanvasElement,
    /// Wall-clock capture time: milliseconds since the Unix epoch
    /// (`performance.timeOrigin + performance.now()` when the frame was captured).
    pub captured_at_ms: f64,
    /// The source's frame counter (the synthetic source draws the same number into the frame).
    pub frame_number: u64,
}

type Listener = Box<dyn FnMut(&ProcessedFrame<'_>)>;

/// A shared slot for one listener. Cloning shares the slot.
#[derive(Clone, Default)]
pub struct FrameTap(Rc<RefCell<Option<Listener>>>);

impl FrameTap {
    /// Installs `listener`, replacing any previous one.
    pub fn set(&self, listener: impl FnMut(&ProcessedFrame<'_>) + 'static) {
        *self.0.borrow_mut() = Some(Box::new(listener));
    }

    /// Removes the listener (call it from the installing effect's destructor).
    pub fn clear(&self) {
        self.0.borrow_mut().take();
    }

    pub fn is_listening(&self) -> bool {
        self.0.borrow().is_some()
    }

    /// Hands `frame` to the listener, if any.
    pub fn emit(&self, frame: &ProcessedFrame<'_>) {
        // A listener that sets or clears the tap from inside its callback must not
        // hit a double borrow: take it out while it runs, put it back if still wanted.
        let Some(mut listener) = self.0.borrow_mut().take() else {
            return;
        };
        listener(frame);
        let mut slot = self.0.borrow_mut();
        if slot.is_none() {
            *slot = Some(listener);
        }
    }
}

impl PartialEq for FrameTap {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}
