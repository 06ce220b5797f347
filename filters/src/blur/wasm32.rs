//! The wasm32 `simd128` form of [`fir`]: weights that fit a byte take one widening multiply
//! (`extmul`) per 8 lanes instead of a widening and a multiply. It does the whole 16-byte
//! blocks and `blur::fir` the rest; `blur::portable` has the same signature for the other
//! targets.

use core::arch::wasm32::{
    u8x16_narrow_i16x8, u8x16_splat, u16x8_add, u16x8_extend_high_u8x16, u16x8_extend_low_u8x16,
    u16x8_extmul_high_u8x16, u16x8_extmul_low_u8x16, u16x8_mul, u16x8_shr, u16x8_splat,
};

use super::weights::MAX_TAPS;
use crate::wasm32_utils::{load, store};

/// The FIR of `blur::fir`, 16 bytes at a time in two `u16x8` sums; returns the bytes done.
/// The caller checked every row holds at least `out.len()` bytes.
pub(super) fn fir(rows: &[&[u8]], weights: &[u16], shift: u32, out: &mut [u8]) -> usize {
    let round = u16x8_splat(1 << (shift - 1));
    let mut splats = [u8x16_splat(0); MAX_TAPS];
    let small = (weights.len() <= splats.len() && weights.iter().all(|&w| w <= 255)).then(|| {
        for (s, &w) in splats.iter_mut().zip(weights) {
            *s = u8x16_splat(w as u8);
        }
        &splats[..weights.len()]
    });
    let blocks = out.len() / 16;
    for b in 0..blocks {
        let i = b * 16;
        let (mut lo, mut hi) = (round, round);
        if let Some(bytes) = small {
            // Weights that fit a byte: one widening multiply per half.
            for (row, &w) in rows.iter().zip(bytes) {
                // SAFETY: every row holds at least `out.len() >= i + 16` bytes.
                let v = unsafe { load(row, i) };
                lo = u16x8_add(lo, u16x8_extmul_low_u8x16(v, w));
                hi = u16x8_add(hi, u16x8_extmul_high_u8x16(v, w));
            }
        } else {
            for (row, &w) in rows.iter().zip(weights) {
                // SAFETY: as above.
                let v = unsafe { load(row, i) };
                let w = u16x8_splat(w);
                lo = u16x8_add(lo, u16x8_mul(u16x8_extend_low_u8x16(v), w));
                hi = u16x8_add(hi, u16x8_mul(u16x8_extend_high_u8x16(v), w));
            }
        }
        // The sums fit 8 bits after the shift, so the signed narrowing never saturates.
        let bytes = u8x16_narrow_i16x8(u16x8_shr(lo, shift), u16x8_shr(hi, shift));
        // SAFETY: `i + 16 <= out.len()`.
        unsafe { store(out, i, bytes) };
    }
    blocks * 16
}
