//! The wasm32 `simd128` forms of the per-pixel Sobel loop, 8 pixels at a time in `i16` lanes,
//! from the padded vertical terms `sum` and `diff` (`w + 2` long). Each does the leading whole
//! blocks and returns the pixels done; `edges/mod.rs` does the rest. `edges::portable` has
//! the same signatures for the other targets.

use core::arch::wasm32::{
    i16x8_abs, i16x8_add, i16x8_gt, i16x8_le, i16x8_mul, i16x8_shl, i16x8_splat, i16x8_sub,
    u8x16_narrow_i16x8, u16x8_shr, v128, v128_bitselect, v128_load, v128_store, v128_store64_lane,
    v128_xor,
};

/// `gx` and `gy` of pixels `x..x + 8`. SAFETY: the caller keeps `x + 10 <= len` of both.
#[inline]
unsafe fn gradient(sum: &[i16], diff: &[i16], x: usize) -> (v128, v128) {
    debug_assert!(x + 10 <= sum.len() && x + 10 <= diff.len());
    // SAFETY: in bounds by the caller's promise; wasm loads need no alignment.
    unsafe {
        let at = |s: &[i16], k: usize| v128_load(s.as_ptr().add(x + k).cast());
        let gx = i16x8_sub(at(sum, 2), at(sum, 0));
        let gy = i16x8_add(
            i16x8_add(at(diff, 0), at(diff, 2)),
            i16x8_shl(at(diff, 1), 1),
        );
        (gx, gy)
    }
}

/// Whole blocks of 8 among `w = sum.len() - 2` pixels that `out` also holds.
#[inline]
fn blocks(sum: &[i16], diff: &[i16], out: usize) -> usize {
    (sum.len().min(diff.len()).saturating_sub(2)).min(out) / 8 * 8
}

/// Sobel magnitudes `min(255, (|gx| + |gy|) / 2)`; returns the pixels done.
/// `|gx| + |gy| <= 2040` fits the lanes; the saturating narrowing is the `min`.
pub(super) fn magnitudes(sum: &[i16], diff: &[i16], out: &mut [u8]) -> usize {
    let n = blocks(sum, diff, out.len());
    for x in (0..n).step_by(8) {
        // SAFETY: `x + 8 <= w`, so `x + 10 <= w + 2`.
        let (gx, gy) = unsafe { gradient(sum, diff, x) };
        let m = u16x8_shr(i16x8_add(i16x8_abs(gx), i16x8_abs(gy)), 1);
        let bytes = u8x16_narrow_i16x8(m, m);
        // SAFETY: `x + 8 <= out.len()`.
        unsafe { v128_store64_lane::<0>(bytes, out.as_mut_ptr().add(x).cast()) };
    }
    n
}

/// Canny's `|gx| + |gy|` and direction sector (see `sector`); returns the pixels done.
///
/// `ay * 256 <= ax * 106` is `ay <= floor(ax * 106 / 256) = floor(ax * 53 / 128)`, and
/// `ax * 53 <= 1020 * 53` fits a `u16` lane (Sobel of bytes: `|g| <= 1020`).
pub(super) fn gradients(sum: &[i16], diff: &[i16], mag: &mut [u16], dir: &mut [u8]) -> usize {
    let n = blocks(sum, diff, mag.len().min(dir.len()));
    let (zero, k53) = (i16x8_splat(0), i16x8_splat(53));
    let sectors = [0, 1, 2, 3].map(|s: i16| i16x8_splat(s));
    for x in (0..n).step_by(8) {
        // SAFETY: `x + 8 <= w`, so `x + 10 <= w + 2`.
        let (gx, gy) = unsafe { gradient(sum, diff, x) };
        let (ax, ay) = (i16x8_abs(gx), i16x8_abs(gy));
        let horizontal = i16x8_le(ay, u16x8_shr(i16x8_mul(ax, k53), 7));
        let vertical = i16x8_le(ax, u16x8_shr(i16x8_mul(ay, k53), 7));
        // `(gx > 0) == (gy > 0)`: the `\` diagonal.
        let falling = v128_xor(i16x8_gt(gx, zero), i16x8_gt(gy, zero));
        let s = v128_bitselect(sectors[3], sectors[1], falling);
        let s = v128_bitselect(sectors[2], s, vertical);
        let s = v128_bitselect(sectors[0], s, horizontal);
        // SAFETY: `x + 8 <= mag.len()` and `<= dir.len()`.
        unsafe {
            v128_store(mag.as_mut_ptr().add(x).cast(), i16x8_add(ax, ay));
            v128_store64_lane::<0>(u8x16_narrow_i16x8(s, s), dir.as_mut_ptr().add(x).cast());
        }
    }
    n
}
