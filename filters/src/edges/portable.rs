//! The Sobel gradient blocks for every target but wasm32 with simd128, where `edges::wasm32`
//! takes their place: they do nothing, so `edges/mod.rs` does every pixel.

/// Sobel magnitudes: none done here.
#[inline]
pub(super) fn magnitudes(_sum: &[i16], _diff: &[i16], _out: &mut [u8]) -> usize {
    0
}

/// Canny's magnitudes and sectors: none done here.
#[inline]
pub(super) fn gradients(_sum: &[i16], _diff: &[i16], _mag: &mut [u16], _dir: &mut [u8]) -> usize {
    0
}
