//! Real-time image filters on RGBA8 frames, for native code and wasm32 (simd128).
//!
//! Data flow: a [`PipelineSpec`] (parsed from text like `grayscale|blur:r=3|sobel`, built in
//! code, or deserialized) is compiled by [`Pipeline::new`] into stages; [`Pipeline::apply`]
//! runs them in place on a [`Frame`], a borrowed view of RGBA bytes. Working memory lives in a
//! [`Scratch`] owned by the pipeline and is reused frame after frame.
//!
//! Modules:
//! - [`frame`]: the borrowed frame view ([`Frame`], [`FrameError`]).
//! - [`catalog`]: every built-in filter and its parameters ([`catalog()`], [`FilterInfo`]).
//! - [`spec`]: validated specs, the text form and serde ([`FilterSpec`], [`PipelineSpec`]).
//! - [`pipeline`]: stages, fusion, custom filters ([`Pipeline`], [`Filter`]).
//! - [`matte`]: person segmentation around a model the caller supplies ([`Segmenter`]):
//!   downscale, temporal smoothing, guided-filter upsampling, compositing ([`Matte`]). The
//!   `segment-blur` and `segment-replace` stages use it; the model itself (rten) lives in the
//!   `segment` crate, so this crate stays small and free of an inference engine.
//! - [`model`]: the `model` stage ("your own model"), run by a [`ModelRunner`] the caller
//!   supplies (the `segment` crate has the engine), so this crate links no engine either.
//! - `scratch`: the reusable buffers ([`Scratch`]).
//! - [`yuv`]: 4:2:0 camera frames (I420, NV12) into RGBA8, for the frame workers.
//! - Kernels: `color` (fused per-pixel colour filters: tables and the exact SIMD forms of
//!   tables, luma, matrices), `blur` (box, gaussian, sharpen, and the FIR that Canny shares),
//!   `edges` (Sobel, Canny, emboss), `cartoon`, `pixelate`, `vignette`, `mirror`, `motion`.
//!
//! The hottest loops have explicit wasm32 simd128 forms, kept the way `fast_image_resize`
//! keeps its own: beside the portable code of the same kernel, not in cfg pairs at every call.
//! `color/`, `blur/`, `edges/`, `vignette/` and `yuv/` each have a `wasm32.rs` (compiled for
//! wasm32 with simd128 only) and a `portable.rs` with the same signatures for the other
//! targets; their `mod.rs` names one of the two `simd` under a single cfg. A SIMD form does
//! the leading whole vectors of a row and returns how far it got; the scalar code, which
//! defines the result, does the rest, and tests hold the two to the same bytes.
//! `wasm32_utils` has the loads and stores they share.
//!
//! No file imports another that imports it back, directly or around a circle: `pipeline`
//! imports the kernels, which import downwards (`cartoon`, `motion` → `edges` → `blur`,
//! `color`), and the files of a kernel directory import their siblings, never their `mod.rs`.

/// Unit tests that run natively and, under wasm32, through wasm-bindgen-test (where the
/// simd128 forms are the ones tested). Defined before the modules so every one can use it.
#[cfg(test)]
macro_rules! tests {
    ($($(#[$meta:meta])* fn $name:ident() $body:block)*) => {$(
        $(#[$meta])*
        #[cfg_attr(not(target_arch = "wasm32"), test)]
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
        fn $name() $body
    )*};
}

pub mod catalog;
pub mod frame;
pub mod matte;
pub mod model;
pub mod pipeline;
pub mod spec;
pub mod yuv;

mod blur;
mod cartoon;
mod color;
mod edges;
mod mirror;
mod motion;
mod pixelate;
mod scratch;
mod vignette;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm32_utils;

pub use catalog::{FilterInfo, ParamInfo, ParamKind, catalog};
pub use frame::{Frame, FrameError};
pub use matte::{MaskStatus, Matte, Segmenter};
pub use model::{ModelRunner, ModelSettings};
pub use pipeline::{Filter, Pipeline};
pub use scratch::Scratch;
pub use spec::{FilterSpec, ParseError, PipelineSpec, SpecError};

/// The README's examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
