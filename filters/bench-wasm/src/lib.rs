//! `extern "C"` entry points for the Node benchmark (run.mjs): one frame buffer in linear
//! memory, one pipeline; the script writes the spec text and pixels, then times `apply`.
//! For the 4:2:0 → RGBA conversion (`filters::yuv`) it fills the planes of `yuv_frame` and
//! times `yuv_convert`.

use std::cell::RefCell;

use filters::{
    Frame, Pipeline, PipelineSpec,
    yuv::{Chroma, ColorSpace, yuv420_to_rgba},
};

struct State {
    frame: Vec<u8>,
    width: u32,
    height: u32,
    text: Vec<u8>,
    pipeline: Pipeline,
    /// Y plane, then the chroma: U then V (`I420`) or UV interleaved (`NV12`), both
    /// `2 * ceil(w/2) * ceil(h/2)` bytes.
    yuv: Vec<u8>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State {
        frame: Vec::new(),
        width: 0,
        height: 0,
        text: Vec::new(),
        pipeline: Pipeline::default(),
        yuv: Vec::new(),
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

/// Allocates the planes of a `width × height` 4:2:0 frame (Y, then both chroma planes) and
/// the RGBA frame it converts into; returns the planes' address for the script to fill.
#[unsafe(no_mangle)]
pub extern "C" fn yuv_frame(width: u32, height: u32) -> *mut u8 {
    frame(width, height);
    let (w, h) = (width as usize, height as usize);
    STATE.with_borrow_mut(|s| {
        s.yuv = vec![0; w * h + 2 * w.div_ceil(2) * h.div_ceil(2)];
        s.yuv.as_mut_ptr()
    })
}

/// Converts the planes into the frame: `nv12` 0 reads `I420`, 1 `NV12`; BT.601 limited range.
/// 1 on success.
#[unsafe(no_mangle)]
pub extern "C" fn yuv_convert(nv12: u32) -> u32 {
    STATE.with_borrow_mut(|s| {
        let (w, h) = (s.width as usize, s.height as usize);
        let cw = w.div_ceil(2);
        let (y, chroma) = s.yuv.split_at(w * h);
        let chroma = if nv12 == 1 {
            Chroma::Interleaved {
                uv: chroma,
                stride: cw * 2,
            }
        } else {
            let (u, v) = chroma.split_at(chroma.len() / 2);
            Chroma::Planar {
                u,
                u_stride: cw,
                v,
                v_stride: cw,
            }
        };
        let size = (s.width, s.height);
        u32::from(yuv420_to_rgba((y, w), chroma, size, ColorSpace::default(), &mut s.frame).is_ok())
    })
}
