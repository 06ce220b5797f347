//! The SIMD prefixes of the colour passes on every target but wasm32 with simd128: none. Each
//! has the signature of its `color::wasm32` kernel and handles 0 bytes, so the pass's own loop
//! does the whole row; those loops are written on words or 16-byte blocks for the compiler to
//! vectorize.

use super::affine::Affine;

#[inline]
pub(super) fn luma_row(_: &[u8], _: &mut [u8]) -> usize {
    0
}

#[inline]
pub(super) fn grayscale(_: &mut [u8]) -> usize {
    0
}

#[inline]
pub(super) fn threshold(_: &mut [u8], _: u32) -> usize {
    0
}

#[inline]
pub(super) fn invert(_: &mut [u8]) -> usize {
    0
}

#[inline]
pub(super) fn matrix(_: &mut [u8], _: &[[i32; 3]; 3]) -> usize {
    0
}

#[inline]
pub(super) fn offset(_: &mut [u8], _: i16) -> usize {
    0
}

#[inline]
pub(super) fn affine(_: &mut [u8], _: &Affine) -> usize {
    0
}

#[inline]
pub(super) fn levels(_: &mut [u8], _: &Affine, _: &[u8; 32]) -> usize {
    0
}

#[inline]
pub(super) fn luma_lut(_: &mut [u8], _: &[u8; 256]) -> usize {
    0
}
