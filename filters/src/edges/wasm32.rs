//! The wasm32 `simd128` forms of the per-pixel Sobel loop, 8 pixels at a time in `i16` lanes,
//! from the padded vertical terms `sum` and `diff` (`w + 2` long). Each does the leading whole
//! blocks and returns the pixels done; `edges/mod.rs` does the rest. Canny's non-maximum
//! suppression and its output row have simd128 forms here too. `edges::portable` has
//! the same signatures for the other targets.

use core::arch::wasm32::{
    i8x16_eq, i8x16_shuffle, i8x16_splat, i16x8_abs, i16x8_add, i16x8_bitmask, i16x8_eq, i16x8_gt,
    i16x8_le, i16x8_mul, i16x8_shl, i16x8_splat, i16x8_sub, u8x16_narrow_i16x8,
    u16x8_extend_low_u8x16, u16x8_ge, u16x8_gt, u16x8_shr, u16x8_splat, u32x4_splat, v128,
    v128_and, v128_bitselect, v128_load, v128_load64_zero, v128_store, v128_store64_lane, v128_xor,
};

use crate::wasm32_utils::{load, store};

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

/// Canny's non-maximum suppression of row `y` (`0 < y < h - 1`) for the pixels `1..from`
/// in blocks of 8, with `from` returned for the scalar loop: each pixel's two neighbours
/// along its sector are picked by masks among the 8 around it, the classes (0, 1 weak,
/// 2 strong) stored, and the strong pixels pushed in order. `m > before >= 0` implies
/// `m != 0`, so that test of the scalar loop needs no lanes.
pub(super) fn suppress(
    mag: &[u16],
    dir: &[u8],
    (w, y): (usize, usize),
    (lo, hi): (u16, u16),
    class: &mut [u8],
    stack: &mut Vec<u32>,
) -> usize {
    // Blocks at x = 1 + 8k read `x - 1 ..= x + 8` of three rows: x + 9 <= w.
    let blocks = if w >= 10 { (w - 10) / 8 + 1 } else { 0 };
    assert!(
        y >= 1 && (y + 2) * w <= mag.len() && (y + 1) * w <= dir.len().min(class.len()),
        "row {y} and its neighbours lie in the planes"
    );
    let (lo, hi) = (u16x8_splat(lo), u16x8_splat(hi));
    let sectors = [0, 1, 2].map(|s: i16| i16x8_splat(s));
    let (one, zero) = (i16x8_splat(1), i16x8_splat(0));
    for k in 0..blocks {
        let i = y * w + 1 + 8 * k;
        // SAFETY: `i - w - 1 >= 0` and `i + w + 8 < (y + 2) * w <= mag.len()`; the dir and
        // class bytes `i..i + 8` lie in row y.
        let (at, d) = unsafe {
            let at = |j: usize| v128_load(mag.as_ptr().add(j).cast());
            let d = u16x8_extend_low_u8x16(v128_load64_zero(dir.as_ptr().add(i).cast()));
            (at, d)
        };
        let m = at(i);
        let (d0, d1, d2) = (
            i16x8_eq(d, sectors[0]),
            i16x8_eq(d, sectors[1]),
            i16x8_eq(d, sectors[2]),
        );
        // Sectors 0 (left/right), 1 (`\`), 2 (up/down), 3 (`/`).
        let before = v128_bitselect(
            at(i - 1),
            v128_bitselect(
                at(i - w - 1),
                v128_bitselect(at(i - w), at(i - w + 1), d2),
                d1,
            ),
            d0,
        );
        let after = v128_bitselect(
            at(i + 1),
            v128_bitselect(
                at(i + w + 1),
                v128_bitselect(at(i + w), at(i + w - 1), d2),
                d1,
            ),
            d0,
        );
        let kept = v128_and(
            u16x8_ge(m, lo),
            v128_and(u16x8_gt(m, before), u16x8_ge(m, after)),
        );
        let strong = v128_and(kept, u16x8_ge(m, hi));
        let c = i16x8_add(v128_and(kept, one), v128_and(strong, one));
        // SAFETY: as above.
        unsafe {
            v128_store64_lane::<0>(
                u8x16_narrow_i16x8(c, zero),
                class.as_mut_ptr().add(i).cast(),
            );
        };
        let mut bits = i16x8_bitmask(strong);
        while bits != 0 {
            stack.push((i + bits.trailing_zeros() as usize) as u32);
            bits &= bits - 1;
        }
    }
    1 + 8 * blocks
}

/// Canny's output row: R, G, B white where the class is 2 (edge), black elsewhere, alpha
/// kept; 16 pixels a time. Returns the pixels done.
pub(super) fn edges_white(row: &mut [u8], class: &[u8]) -> usize {
    let n = (row.len() / 4).min(class.len()) / 16 * 16;
    let (edge, rgb) = (i8x16_splat(2), u32x4_splat(0x00ff_ffff));
    for x in (0..n).step_by(16) {
        // SAFETY: `x + 16 <= class.len()` and `4x + 64 <= row.len()`.
        unsafe {
            let e = i8x16_eq(load(class, x), edge);
            let spread = [
                i8x16_shuffle::<0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3>(e, e),
                i8x16_shuffle::<4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7>(e, e),
                i8x16_shuffle::<8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11>(e, e),
                i8x16_shuffle::<12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15>(
                    e, e,
                ),
            ];
            for (q, white) in spread.into_iter().enumerate() {
                let at = 4 * x + 16 * q;
                store(row, at, v128_bitselect(white, load(row, at), rgb));
            }
        }
    }
    n
}
