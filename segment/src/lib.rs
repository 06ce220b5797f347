//! Person segmentation for lenscast: the model half of the `segment-blur` and
//! `segment-replace` filters, pure Rust on [rten](https://docs.rs/rten), for native code and
//! wasm32 (where it is meant to run in its own worker, loaded only when a segmentation stage
//! is added). No web dependencies.
//!
//! - [`model`]: [`MaskModel`] loads an ONNX model (bytes in, checked shapes) and runs it on
//!   an RGB image of its input size, giving a 1-channel mask; it is a [`filters::Segmenter`],
//!   so a [`filters::Pipeline`] with `segment-blur` or `segment-replace` uses it once set with
//!   [`filters::Pipeline::set_segmenter`].
//! - [`person`]: [`PersonSegmenter`], a frame in and a person mask at the frame's size out
//!   (downscale, model, temporal smoothing, guided-filter upsampling: [`filters::Matte`]).
//! - [`stage`]: [`ModelStage`], "your own model": any ONNX image model as a
//!   [`filters::Filter`] (image in, image or mask out; the conventions are in its docs).
//! - `runner` (private): how both run a model. rten runs the graph, but for the ops it is slow
//!   at on wasm32 the graph is cut, and lenscast's own kernels run them between the parts:
//!   [`upsample`] (bilinear 2× `Resize`) and [`depthwise`] (depthwise `Conv`, with the
//!   activation after it fused in).
//!
//! Everything outside the model (resampling, refinement, compositing) lives in
//! [`filters::matte`], which is tested there against plain references; this crate adds only
//! the engine, so the app's main wasm does not carry it.
//!
//! The model lenscast serves is `MediaPipe`'s selfie segmentation (Apache-2.0), converted from
//! its npm package by `cargo xtask setup` into `static/models/` (see `models/README.md`).

pub mod depthwise;
mod error;
mod framing;
pub mod model;
pub mod person;
mod runner;
mod shape;
pub mod stage;
#[cfg(test)]
mod testing;
pub mod upsample;

pub use model::{Layout, MaskModel, ModelError, PixelRange};
pub use person::PersonSegmenter;
pub use stage::ModelStage;

/// File name of the landscape selfie model (input 256×144) under `static/models/`.
pub const SELFIE_LANDSCAPE: &str = "selfie_segmentation_landscape.onnx";
/// File name of the square selfie model (input 256×256) under `static/models/`.
pub const SELFIE_SQUARE: &str = "selfie_segmentation.onnx";
