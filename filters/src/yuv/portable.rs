//! The simd128 steps of the conversion for every target but wasm32 with simd128, where
//! `yuv::wasm32` takes their place: they do nothing, so `yuv/mod.rs` converts every pixel.

use super::coefficients::{Coefficients, Terms};

/// Chroma terms from planar U and V: none done here.
#[inline]
pub(super) fn planar_terms(_u: &[u8], _v: &[u8], _k: &Coefficients, _terms: &mut Terms) -> usize {
    0
}

/// Chroma terms from interleaved UV: none done here.
#[inline]
pub(super) fn interleaved_terms(_uv: &[u8], _k: &Coefficients, _terms: &mut Terms) -> usize {
    0
}

/// One RGBA row: no pixels done here.
#[inline]
pub(super) fn rgba_row(_luma: &[u8], _terms: &Terms, _k: &Coefficients, _out: &mut [u8]) -> usize {
    0
}
