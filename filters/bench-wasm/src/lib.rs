//! `extern "C"` entry points for the Node benchmark (run.mjs): one frame buffer in linear
//! memory, one pipeline; the script writes the spec text and pixels, then times `apply`.

use std::cell::RefCell;

use filters::{Frame, Pipeline, PipelineSpec};

struct State {
    frame: Vec<u8>,
    width: u32,
    height: u32,
    text: Vec<u8>,
    pipeline: Pipeline,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State {
        frame: Vec::new(),
        width: 0,
        height: 0,
        text: Vec::new(),
        pipeline: Pipeline::default(),
    });
}

/// Allocates a `width × height` frame; returns its address for the script to fill.
#[unsafe(no_mangle)]
pub extern "C" fn frame(width: u32, height: u32) -> *mut u8 {
    STATE.with_borrow_mut(|s| {
        s.frame = vec![0; width as usize * height as usize * 4];
        s.width = width;
        s.height = height;
        s.frame.as_mut_ptr()
    })
}

/// A buffer of `len` bytes for the spec text; returns its address.
#[unsafe(no_mangle)]
pub extern "C" fn text(len: u32) -> *mut u8 {
    STATE.with_borrow_mut(|s| {
        s.text = vec![0; len as usize];
        s.text.as_mut_ptr()
    })
}

/// Parses the text buffer as a pipeline; 1 on success, 0 on a parse error.
#[unsafe(no_mangle)]
pub extern "C" fn set_spec() -> u32 {
    STATE.with_borrow_mut(|s| {
        let parsed = std::str::from_utf8(&s.text)
            .ok()
            .and_then(|t| t.parse::<PipelineSpec>().ok());
        match parsed {
            Some(spec) => {
                s.pipeline = Pipeline::new(spec);
                1
            }
            None => 0,
        }
    })
}

/// Applies the pipeline to the frame in place.
#[unsafe(no_mangle)]
pub extern "C" fn apply() {
    STATE.with_borrow_mut(|s| {
        let State {
            frame,
            width,
            height,
            pipeline,
            ..
        } = s;
        if let Ok(mut frame) = Frame::new(frame, *width, *height) {
            pipeline.apply(&mut frame);
        }
    });
}
