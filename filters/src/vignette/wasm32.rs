//! The wasm32 `simd128` form of the vignette's row loop, 4 pixels (16 bytes) at a time, with
//! the scalar code's exact arithmetic. `vignette::portable` has the same signature for the
//! other targets.

use core::arch::wasm32::{
    i8x16_shuffle, i32x4_max, i32x4_min, i32x4_splat, i32x4_sub, u8x16_narrow_i16x8, u16x8_add,
    u16x8_extend_high_u8x16, u16x8_extend_low_u8x16, u16x8_mul, u16x8_shr, u16x8_splat, v128_load,
};

use crate::wasm32_utils::{load, store};

/// `c = (c·q + 128) >> 8` on R, G, B of the row's leading whole blocks of 4 pixels, with
/// `q = clamp(256 - ax[x] - fy, 0, 256)`; returns the pixels done.
///
/// Each pixel's `q` goes to its R, G, B lanes and 256 to its alpha lane, which
/// `(a·256 + 128) >> 8` leaves as it was. `c·q + 128 <= 65408` fits a `u16` lane.
pub(super) fn darken(row: &mut [u8], ax: &[i32], fy: i32) -> usize {
    let n = (row.len() / 4).min(ax.len()) / 4 * 4;
    let base = i32x4_splat(256 - fy);
    let (zero, full) = (i32x4_splat(0), i32x4_splat(256));
    let round = u16x8_splat(128);
    for p in (0..n).step_by(4) {
        // SAFETY: `p + 4 <= n <= ax.len()`.
        let a = unsafe { v128_load(ax.as_ptr().add(p).cast()) };
        let q = i32x4_max(i32x4_min(i32x4_sub(base, a), full), zero);
        // `u16` factors from the low halves of `q`'s lanes and of 256 (little-endian).
        let lo = i8x16_shuffle::<0, 1, 0, 1, 0, 1, 16, 17, 4, 5, 4, 5, 4, 5, 16, 17>(q, full);
        let hi = i8x16_shuffle::<8, 9, 8, 9, 8, 9, 16, 17, 12, 13, 12, 13, 12, 13, 16, 17>(q, full);
        // SAFETY: `4 * p + 16 <= 4 * n <= row.len()`.
        let v = unsafe { load(row, 4 * p) };
        let dark = |c, f| u16x8_shr(u16x8_add(u16x8_mul(c, f), round), 8);
        let out = u8x16_narrow_i16x8(
            dark(u16x8_extend_low_u8x16(v), lo),
            dark(u16x8_extend_high_u8x16(v), hi),
        );
        // SAFETY: as above.
        unsafe { store(row, 4 * p, out) };
    }
    n
}
