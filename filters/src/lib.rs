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
//! - `scratch`: the reusable buffers ([`Scratch`]).
//! - Kernels: `color` (fused per-pixel colour filters: tables and the exact SIMD forms of
//!   tables, luma, matrices), `blur` (box,
//!   gaussian, sharpen), `edges` (Sobel, Canny, emboss), `cartoon`, `pixelate`, `vignette`,
//!   `mirror`, `motion`; `simd` holds the explicit wasm32 simd128 paths of the hottest loops,
//!   each beside a portable loop that the tests hold to the same reference.

pub mod catalog;
pub mod frame;
pub mod pipeline;
pub mod spec;

mod blur;
mod cartoon;
mod color;
mod edges;
mod mirror;
mod motion;
mod pixelate;
mod scratch;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd;
mod vignette;

pub use catalog::{FilterInfo, ParamInfo, catalog};
pub use frame::{Frame, FrameError};
pub use pipeline::{Filter, Pipeline};
pub use scratch::Scratch;
pub use spec::{FilterSpec, ParseError, PipelineSpec, SpecError};

/// The README's examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
