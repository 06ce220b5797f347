//! The wasm32 `simd128` forms of [`fir`], [`unsharp`] and the box blur's three loops
//! ([`box_prefix`], [`box_means`], [`box_column_step`]). In the FIR, weights that fit a byte
//! take one widening multiply (`extmul`) per 8 lanes instead of a widening and a multiply.
//! Each does the whole 16-byte blocks and `blur/mod.rs` the rest; `blur::portable` has the
//! same signatures for the other targets.

use core::arch::wasm32::{
    i8x16_shuffle, i16x8_add, i16x8_narrow_i32x4, i16x8_q15mulr_sat, i16x8_shl, i16x8_splat,
    i16x8_sub, i64x2_shuffle, u8x16_narrow_i16x8, u8x16_splat, u16x8_add,
    u16x8_extadd_pairwise_u8x16, u16x8_extend_high_u8x16, u16x8_extend_low_u8x16,
    u16x8_extmul_high_u8x16, u16x8_extmul_low_u8x16, u16x8_mul, u16x8_shr, u16x8_splat, u16x8_sub,
    u32x4_extmul_high_u16x8, u32x4_extmul_low_u16x8, u32x4_shr, u32x4_splat, v128, v128_bitselect,
    v128_load, v128_store,
};

use super::{
    divider::{Divider, Lanes},
    weights::MAX_TAPS,
};
use crate::wasm32_utils::{load, store};

/// The FIR of `blur::fir`, 16 bytes at a time in two `u16x8` sums; returns the bytes done.
/// The caller checked every row holds at least `out.len()` bytes.
pub(super) fn fir(rows: &[&[u8]], weights: &[u16], shift: u32, out: &mut [u8]) -> usize {
    let n = weights.len();
    if n % 2 == 1 && n <= MAX_TAPS && (0..n / 2).all(|k| weights[k] == weights[n - 1 - k]) {
        return fir_symmetric(rows, weights, shift, out);
    }
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

/// `a[j] + c[j]` of the low 8 bytes as `u16` lanes: the two rows' bytes interleaved, then
/// neighbours added.
#[inline]
fn pair_sum_low(a: v128, c: v128) -> v128 {
    u16x8_extadd_pairwise_u8x16(i8x16_shuffle::<
        0,
        16,
        1,
        17,
        2,
        18,
        3,
        19,
        4,
        20,
        5,
        21,
        6,
        22,
        7,
        23,
    >(a, c))
}

/// `a[j] + c[j]` of the high 8 bytes as `u16` lanes.
#[inline]
fn pair_sum_high(a: v128, c: v128) -> v128 {
    u16x8_extadd_pairwise_u8x16(i8x16_shuffle::<
        8,
        24,
        9,
        25,
        10,
        26,
        11,
        27,
        12,
        28,
        13,
        29,
        14,
        30,
        15,
        31,
    >(a, c))
}

/// The FIR for odd symmetric kernels (the gaussians, Canny's binomial): the two rows of a
/// pair of equal weights are added in `u16` lanes before their one multiply, so a pair costs
/// two widenings, an add and a multiply per half instead of two widening multiplies and two
/// adds. The sums are the same (`u16` arithmetic, no term above the total). Returns the bytes
/// done.
fn fir_symmetric(rows: &[&[u8]], weights: &[u16], shift: u32, out: &mut [u8]) -> usize {
    let round = u16x8_splat(1 << (shift - 1));
    let (n, half) = (weights.len(), weights.len() / 2);
    let mut pairs = [u16x8_splat(0); MAX_TAPS / 2];
    for (p, &w) in pairs.iter_mut().zip(weights) {
        *p = u16x8_splat(w);
    }
    let pairs = &pairs[..half];
    let centre = u16x8_splat(weights[half]);
    let (before, rest) = rows.split_at(half);
    let (middle, after) = rest.split_at(1);
    let middle = middle[0];
    let blocks = out.len() / 16;
    // Two blocks a time where possible: the row pointers and weights load once for both.
    let mut b = 0;
    while b + 2 <= blocks {
        let i = b * 16;
        // SAFETY: every row holds at least `out.len() >= i + 32` bytes.
        let (v, u) = unsafe { (load(middle, i), load(middle, i + 16)) };
        let mut acc = [
            u16x8_add(round, u16x8_mul(u16x8_extend_low_u8x16(v), centre)),
            u16x8_add(round, u16x8_mul(u16x8_extend_high_u8x16(v), centre)),
            u16x8_add(round, u16x8_mul(u16x8_extend_low_u8x16(u), centre)),
            u16x8_add(round, u16x8_mul(u16x8_extend_high_u8x16(u), centre)),
        ];
        for ((a, c), &w) in before.iter().zip(after.iter().rev()).zip(pairs) {
            // SAFETY: as above.
            let (a0, c0, a1, c1) =
                unsafe { (load(a, i), load(c, i), load(a, i + 16), load(c, i + 16)) };
            acc[0] = u16x8_add(acc[0], u16x8_mul(pair_sum_low(a0, c0), w));
            acc[1] = u16x8_add(acc[1], u16x8_mul(pair_sum_high(a0, c0), w));
            acc[2] = u16x8_add(acc[2], u16x8_mul(pair_sum_low(a1, c1), w));
            acc[3] = u16x8_add(acc[3], u16x8_mul(pair_sum_high(a1, c1), w));
        }
        // The sums fit 8 bits after the shift, so the signed narrowing never saturates.
        let [l0, h0, l1, h1] = acc.map(|a| u16x8_shr(a, shift));
        // SAFETY: `i + 32 <= out.len()`.
        unsafe {
            store(out, i, u8x16_narrow_i16x8(l0, h0));
            store(out, i + 16, u8x16_narrow_i16x8(l1, h1));
        }
        b += 2;
    }
    if b < blocks {
        let i = b * 16;
        // SAFETY: every row holds at least `out.len() >= i + 16` bytes.
        let v = unsafe { load(middle, i) };
        let mut lo = u16x8_add(round, u16x8_mul(u16x8_extend_low_u8x16(v), centre));
        let mut hi = u16x8_add(round, u16x8_mul(u16x8_extend_high_u8x16(v), centre));
        for ((a, c), &w) in before.iter().zip(after.iter().rev()).zip(pairs) {
            // SAFETY: as above.
            let (a, c) = unsafe { (load(a, i), load(c, i)) };
            lo = u16x8_add(lo, u16x8_mul(pair_sum_low(a, c), w));
            hi = u16x8_add(hi, u16x8_mul(pair_sum_high(a, c), w));
        }
        let bytes = u8x16_narrow_i16x8(u16x8_shr(lo, shift), u16x8_shr(hi, shift));
        // SAFETY: `i + 16 <= out.len()`.
        unsafe { store(out, i, bytes) };
    }
    debug_assert_eq!(n, 2 * half + 1);
    blocks * 16
}

/// The unsharp mask's combining step `clamp(x + floor(((x - g) * a + 128) / 256))` on R, G, B
/// of 16-byte blocks (alpha kept); returns the bytes done.
///
/// In `i16` lanes: `q15mulr(d << 7, a) = floor((d·a·128 + 2^14) / 2^15)`, which is exactly
/// `floor((d·a + 128) / 256)`, and never saturates (`|d << 7| <= 32640`). `x + detail` fits
/// (`|detail| <= 255 · 1280 / 256` for the amounts up to 5), and the saturating narrowing is
/// the clamp.
pub(super) fn unsharp(row: &mut [u8], soft: &[u8], amount_q8: i16) -> usize {
    let n = row.len().min(soft.len()) / 16 * 16;
    let amount = i16x8_splat(amount_q8);
    // Byte lanes 3, 7, 11, 15 (alpha) keep the original.
    let alpha = u32x4_splat(0xff00_0000);
    for i in (0..n).step_by(16) {
        // SAFETY: `i + 16 <= n` bytes of both rows.
        let (x, g) = unsafe { (load(row, i), load(soft, i)) };
        let half = |x: v128, g: v128| {
            let detail = i16x8_q15mulr_sat(i16x8_shl(i16x8_sub(x, g), 7), amount);
            i16x8_add(x, detail)
        };
        let lo = half(u16x8_extend_low_u8x16(x), u16x8_extend_low_u8x16(g));
        let hi = half(u16x8_extend_high_u8x16(x), u16x8_extend_high_u8x16(g));
        let sharp = u8x16_narrow_i16x8(lo, hi);
        // SAFETY: as above.
        unsafe { store(row, i, v128_bitselect(x, sharp, alpha)) };
    }
    n
}

/// Loads 8 `u16` at element `at`. SAFETY: the caller keeps `at + 8 <= s.len()`.
#[inline]
unsafe fn load16(s: &[u16], at: usize) -> v128 {
    debug_assert!(at + 8 <= s.len());
    // SAFETY: in bounds by the caller's promise; wasm loads need no alignment.
    unsafe { v128_load(s.as_ptr().add(at).cast()) }
}

/// Stores 8 `u16` at element `at`. SAFETY: the caller keeps `at + 8 <= s.len()`.
#[inline]
unsafe fn store16(s: &mut [u16], at: usize, v: v128) {
    debug_assert!(at + 8 <= s.len());
    // SAFETY: as for `load16`.
    unsafe { v128_store(s.as_mut_ptr().add(at).cast(), v) }
}

/// `round(sum / d)` of 16 `u16` sums (`a`, then `b`) as bytes, by [`Lanes`].
#[inline]
fn divide(a: v128, b: v128, l: Lanes) -> v128 {
    let (half, m) = (u16x8_splat(l.half), u16x8_splat(l.m));
    let quotient = |v: v128| {
        let v = u16x8_add(v, half);
        // Quotients are at most 255: neither narrowing saturates.
        i16x8_narrow_i32x4(
            u32x4_shr(u32x4_extmul_low_u16x8(v, m), l.shift),
            u32x4_shr(u32x4_extmul_high_u16x8(v, m), l.shift),
        )
    };
    u8x16_narrow_i16x8(quotient(a), quotient(b))
}

/// Running sums of a padded RGBA row, 4 pixels a time: `prefix[4(j+1) + c]` is the (wrapping)
/// sum of channel `c` of pixels `0..=j`; the caller has set `prefix[..4]` to 0. Within a block
/// the sums are a shift-and-add scan over the two pixels of each `u16x8`, then the carry of
/// the pixels before. Returns the pixels done.
pub(super) fn box_prefix(padded: &[u8], prefix: &mut [u16]) -> usize {
    let blocks = (padded.len() / 16).min(prefix.len().saturating_sub(4) / 16);
    let zero = u16x8_splat(0);
    let mut carry = zero;
    for b in 0..blocks {
        // SAFETY: `16 b + 16 <= padded.len()`.
        let v = unsafe { load(padded, 16 * b) };
        let (lo, hi) = (u16x8_extend_low_u8x16(v), u16x8_extend_high_u8x16(v));
        // [p0, p1] → [p0, p0 + p1], plus everything before.
        let lo = u16x8_add(u16x8_add(lo, i64x2_shuffle::<2, 0>(lo, zero)), carry);
        let hi = u16x8_add(hi, i64x2_shuffle::<2, 0>(hi, zero));
        let hi = u16x8_add(hi, i64x2_shuffle::<1, 1>(lo, lo));
        carry = i64x2_shuffle::<1, 1>(hi, hi);
        // SAFETY: `16 b + 4 + 16 <= prefix.len()`.
        unsafe {
            store16(prefix, 16 * b + 4, lo);
            store16(prefix, 16 * b + 12, hi);
        }
    }
    blocks * 4
}

/// The horizontal means `out[i] = round((prefix[span + i] - prefix[i]) / d)`, 16 bytes a
/// time; returns the bytes done (none without [`Lanes`]).
pub(super) fn box_means(prefix: &[u16], span: usize, divider: &Divider, out: &mut [u8]) -> usize {
    let Some(lanes) = divider.lanes else {
        return 0;
    };
    let n = out.len().min(prefix.len().saturating_sub(span)) / 16 * 16;
    for i in (0..n).step_by(16) {
        // SAFETY: `span + i + 16 <= prefix.len()` and `i + 16 <= out.len()`.
        unsafe {
            let a = u16x8_sub(load16(prefix, span + i), load16(prefix, i));
            let b = u16x8_sub(load16(prefix, span + i + 8), load16(prefix, i + 8));
            store(out, i, divide(a, b, lanes));
        }
    }
    n
}

/// One row of the vertical pass: `out[i] = round(sums[i] / d)`, then the window moves down
/// (`sums += add - sub`, wrapping), 16 bytes a time; returns the bytes done (none without
/// [`Lanes`]).
pub(super) fn box_column_step(
    sums: &mut [u16],
    (add, sub): (&[u8], &[u8]),
    divider: &Divider,
    out: &mut [u8],
) -> usize {
    let Some(lanes) = divider.lanes else {
        return 0;
    };
    let n = out.len().min(sums.len()).min(add.len()).min(sub.len()) / 16 * 16;
    for i in (0..n).step_by(16) {
        // SAFETY: `i + 16 <= n` elements of every slice.
        unsafe {
            let (s0, s1) = (load16(sums, i), load16(sums, i + 8));
            store(out, i, divide(s0, s1, lanes));
            let (a, b) = (load(add, i), load(sub, i));
            let s0 = u16x8_sub(
                u16x8_add(s0, u16x8_extend_low_u8x16(a)),
                u16x8_extend_low_u8x16(b),
            );
            let s1 = u16x8_sub(
                u16x8_add(s1, u16x8_extend_high_u8x16(a)),
                u16x8_extend_high_u8x16(b),
            );
            store16(sums, i, s0);
            store16(sums, i + 8, s1);
        }
    }
    n
}
