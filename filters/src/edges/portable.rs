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

/// Canny's non-maximum suppression of row `y`: none done here, so the row starts at pixel 1.
#[inline]
pub(super) fn suppress(
    _mag: &[u16],
    _dir: &[u8],
    _at: (usize, usize),
    _thresholds: (u16, u16),
    _class: &mut [u8],
    _stack: &mut Vec<u32>,
) -> usize {
    1
}

/// Canny's output row: none done here.
#[inline]
pub(super) fn edges_white(_row: &mut [u8], _class: &[u8]) -> usize {
    0
}
