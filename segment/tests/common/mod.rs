//! Shared by the tests: the model (made by `cargo xtask setup`), the photo and its golden
//! masks (see `fixtures/README.md`), and a test attribute that also runs under wasm32.

#![allow(dead_code, unused_macros, unused_imports)]

pub use testkit::onnx;

use segment::{MaskModel, PixelRange};

/// Declares tests that run natively (`#[test]`) and under wasm32 (`#[wasm_bindgen_test]`).
macro_rules! tests {
    ($($(#[$meta:meta])* fn $name:ident() $body:block)*) => {$(
        $(#[$meta])*
        #[cfg_attr(not(target_arch = "wasm32"), test)]
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
        fn $name() $body
    )*};
}
pub(crate) use tests;

#[cfg(has_model)]
pub const MODEL: &[u8] =
    include_bytes!("../../../static/models/selfie_segmentation_landscape.onnx");

#[cfg(has_model)]
pub fn model() -> MaskModel {
    MaskModel::load(MODEL.to_vec(), PixelRange::Unit).expect("the converted model loads")
}

#[cfg(not(has_model))]
pub fn model() -> MaskModel {
    panic!("static/models/selfie_segmentation_landscape.onnx is missing: run `cargo xtask setup`")
}

/// A decoded image: `(rgba, width, height)`.
pub fn rgba(bytes: &[u8]) -> (Vec<u8>, u32, u32) {
    let img = image::load_from_memory(bytes)
        .expect("fixture decodes")
        .to_rgba8();
    let (w, h) = img.dimensions();
    (img.into_raw(), w, h)
}

/// The photo with a person: 512×600.
pub fn photo() -> (Vec<u8>, u32, u32) {
    rgba(include_bytes!("../fixtures/grace_hopper.jpg"))
}

/// `MediaPipe` 0.10.21's own mask of the photo at its full size, probability × 255.
pub fn golden_mask() -> Vec<u8> {
    image::load_from_memory(include_bytes!("../fixtures/grace_hopper_mask.png"))
        .expect("golden decodes")
        .to_luma8()
        .into_raw()
}

/// Intersection over union of `a > 127` and `b > 127`.
pub fn iou(a: &[u8], b: &[u8]) -> f64 {
    let (mut both, mut either) = (0u32, 0u32);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (x > 127, y > 127);
        both += u32::from(x && y);
        either += u32::from(x || y);
    }
    f64::from(both) / f64::from(either)
}

/// Mean of `mask` over the rectangle `x0..x1, y0..y1` of a `width`-wide plane, in 0..=255.
pub fn mean_in(mask: &[u8], width: u32, (x0, y0, x1, y1): (u32, u32, u32, u32)) -> f64 {
    let mut sum = 0u64;
    for y in y0..y1 {
        for x in x0..x1 {
            sum += u64::from(mask[(y * width + x) as usize]);
        }
    }
    sum as f64 / f64::from((x1 - x0) * (y1 - y0))
}
