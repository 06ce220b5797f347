//! The model worker's side of one mask: the filter worker's input in, the model run and
//! timed, the mask out in a reused buffer. Serves the selfie model (`inference`) and a
//! user's mask model (`own_inference`) alike.

use filters::{MaskStatus, Segmenter};
use wasm_bindgen::{JsCast, JsValue};

use super::protocol::field;
use crate::glue::now_ms;

/// Runs `model` on the input the filter worker sent in `input_buffer` (copied into
/// `input`), its mask into `mask`; returns the status and how many ms it took.
pub fn segment_from(
    model: &mut dyn Segmenter,
    input_buffer: &js_sys::ArrayBuffer,
    input: &mut Vec<f32>,
    mask: &mut Vec<f32>,
) -> (MaskStatus, f64) {
    let (width, height) = model.input_size();
    let view = js_sys::Float32Array::new(input_buffer);
    input.resize(view.length() as usize, 0.0);
    view.copy_to(input);
    mask.resize(width as usize * height as usize, 0.0);
    let start = now_ms();
    let status = model.segment(input, mask);
    (status, now_ms() - start)
}

/// `mask` in a buffer for the filter worker: the one it sent along (`mask` in `data`) when
/// that is the right size, so buffers go back and forth instead of being made per frame.
pub fn mask_buffer(data: &JsValue, mask: &[f32]) -> js_sys::ArrayBuffer {
    let bytes = mask.len() * 4;
    let buffer = field(data, "mask")
        .map(JsCast::unchecked_into::<js_sys::ArrayBuffer>)
        .filter(|buffer| buffer.byte_length() as usize == bytes)
        .unwrap_or_else(|| js_sys::ArrayBuffer::new(bytes as u32));
    js_sys::Float32Array::new(&buffer).copy_from(mask);
    buffer
}
