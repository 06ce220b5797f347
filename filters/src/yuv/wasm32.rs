//! The wasm32 `simd128` steps of the conversion: chroma terms 8 samples (16 pixels) at a time
//! and RGBA rows 16 pixels at a time, in `i32` lanes with the scalar code's exact arithmetic,
//! so the bytes are the same. Each does the leading whole vectors and returns how many it did;
//! `yuv/mod.rs` does the rest. `yuv::portable` has the same signatures for the other targets.

use core::arch::wasm32::{
    i8x16_shuffle, i16x8_narrow_i32x4, i16x8_shuffle, i16x8_splat, i16x8_sub, i32x4_add,
    i32x4_extend_high_i16x8, i32x4_extend_low_i16x8, i32x4_mul, i32x4_shr, i32x4_shuffle,
    i32x4_splat, u8x16_narrow_i16x8, u8x16_splat, u16x8_extend_high_u8x16, u16x8_extend_low_u8x16,
    u16x8_shr, u16x8_splat, u32x4_extend_high_u16x8, u32x4_extend_low_u16x8, v128, v128_and,
    v128_load, v128_load64_zero, v128_store,
};

use super::coefficients::{Coefficients, Terms};
use crate::wasm32_utils::{load, store};

/// Whether every plane of `terms` holds at least `pixels` terms.
fn covers(terms: &Terms, pixels: usize) -> bool {
    terms.r.len().min(terms.g.len()).min(terms.b.len()) >= pixels
}

/// Stores the terms of 4 samples (`i32x4`) as 8 pixels from pixel `at` on.
/// SAFETY: the caller keeps `at + 8 <= dst.len()`.
#[inline]
unsafe fn store_pairs(dst: &mut [i32], at: usize, t: v128) {
    debug_assert!(at + 8 <= dst.len());
    let p = dst.as_mut_ptr();
    // SAFETY: in bounds by the caller's promise; wasm stores need no alignment.
    unsafe {
        v128_store(p.add(at).cast(), i32x4_shuffle::<0, 0, 1, 1>(t, t));
        v128_store(p.add(at + 4).cast(), i32x4_shuffle::<2, 2, 3, 3>(t, t));
    }
}

/// The terms of 8 samples: `u` and `v` centred (`- 128`) in `i16x8` lanes.
#[inline]
fn eight_samples(u: v128, v: v128, k: &Coefficients, terms: &mut Terms, s: usize) {
    let (rv, gu, gv, bu) = (
        i32x4_splat(k.rv),
        i32x4_splat(-k.gu),
        i32x4_splat(-k.gv),
        i32x4_splat(k.bu),
    );
    for (half, u, v) in [
        (0, i32x4_extend_low_i16x8(u), i32x4_extend_low_i16x8(v)),
        (1, i32x4_extend_high_i16x8(u), i32x4_extend_high_i16x8(v)),
    ] {
        let at = 2 * s + 8 * half;
        let g = i32x4_add(i32x4_mul(gu, u), i32x4_mul(gv, v));
        // SAFETY: the callers checked the terms cover `2 * s + 16` pixels.
        unsafe {
            store_pairs(&mut terms.r, at, i32x4_mul(rv, v));
            store_pairs(&mut terms.g, at, g);
            store_pairs(&mut terms.b, at, i32x4_mul(bu, u));
        }
    }
}

/// Chroma terms from planar U and V rows (`cw` samples each); returns the samples done.
pub(super) fn planar_terms(u: &[u8], v: &[u8], k: &Coefficients, terms: &mut Terms) -> usize {
    let n = u.len().min(v.len()) / 8 * 8;
    assert!(covers(terms, 2 * n), "terms cover the row");
    let centre = i16x8_splat(128);
    for s in (0..n).step_by(8) {
        // SAFETY: `s + 8 <= n <= len` for both rows.
        let (u8s, v8s) = unsafe {
            (
                v128_load64_zero(u.as_ptr().add(s).cast()),
                v128_load64_zero(v.as_ptr().add(s).cast()),
            )
        };
        let cu = i16x8_sub(u16x8_extend_low_u8x16(u8s), centre);
        let cv = i16x8_sub(u16x8_extend_low_u8x16(v8s), centre);
        eight_samples(cu, cv, k, terms, s);
    }
    n
}

/// Chroma terms from an interleaved UV row (`2 * cw` bytes); returns the samples done.
pub(super) fn interleaved_terms(uv: &[u8], k: &Coefficients, terms: &mut Terms) -> usize {
    let n = uv.len() / 16 * 8;
    assert!(covers(terms, 2 * n), "terms cover the row");
    let (centre, low) = (i16x8_splat(128), u16x8_splat(0xff));
    for s in (0..n).step_by(8) {
        // SAFETY: `2 * s + 16 <= uv.len()`.
        let pairs = unsafe { load(uv, 2 * s) };
        // Little-endian `u16` lanes: U is the low byte of each pair, V the high one.
        let cu = i16x8_sub(v128_and(pairs, low), centre);
        let cv = i16x8_sub(u16x8_shr(pairs, 8), centre);
        eight_samples(cu, cv, k, terms, s);
    }
    n
}

/// `clamp((yy + term) >> 16)` of 16 pixels as bytes.
#[inline]
fn channel(yy: [v128; 4], t: &[i32], x: usize) -> v128 {
    let sum = |i: usize| {
        // SAFETY: `x + 16 <= luma.len() <= t.len()` (checked by `rgba_row`).
        let t = unsafe { v128_load(t.as_ptr().add(x + 4 * i).cast()) };
        i32x4_shr(i32x4_add(yy[i], t), 16)
    };
    // Both narrowings saturate: together they are the clamp to 0..=255.
    u8x16_narrow_i16x8(
        i16x8_narrow_i32x4(sum(0), sum(1)),
        i16x8_narrow_i32x4(sum(2), sum(3)),
    )
}

/// One RGBA row from its luma and the chroma row's terms; returns the pixels done.
pub(super) fn rgba_row(luma: &[u8], terms: &Terms, k: &Coefficients, out: &mut [u8]) -> usize {
    let n = luma.len() / 16 * 16;
    assert!(
        covers(terms, n) && out.len() >= 4 * n,
        "terms and output cover the row"
    );
    let scale = i32x4_splat(k.y);
    // `(l - offset) * y + 32768` as `l * y + (32768 - offset * y)`.
    let bias = i32x4_splat(32768 - k.y_offset * k.y);
    let alpha = u8x16_splat(255);
    for x in (0..n).step_by(16) {
        // SAFETY: `x + 16 <= n <= luma.len()`.
        let l = unsafe { load(luma, x) };
        let (lo, hi) = (u16x8_extend_low_u8x16(l), u16x8_extend_high_u8x16(l));
        let yy = [
            u32x4_extend_low_u16x8(lo),
            u32x4_extend_high_u16x8(lo),
            u32x4_extend_low_u16x8(hi),
            u32x4_extend_high_u16x8(hi),
        ]
        .map(|l| i32x4_add(i32x4_mul(l, scale), bias));
        let r = channel(yy, &terms.r, x);
        let g = channel(yy, &terms.g, x);
        let b = channel(yy, &terms.b, x);
        // Interleave into R G B A: bytes into (R, G) and (B, A) pairs, then the pairs.
        let rg_lo = i8x16_shuffle::<0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23>(r, g);
        let rg_hi =
            i8x16_shuffle::<8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31>(r, g);
        let ba_lo =
            i8x16_shuffle::<0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23>(b, alpha);
        let ba_hi =
            i8x16_shuffle::<8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31>(b, alpha);
        let at = 4 * x;
        // SAFETY: `at + 64 <= 4 * n <= out.len()`.
        unsafe {
            store(
                out,
                at,
                i16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(rg_lo, ba_lo),
            );
            store(
                out,
                at + 16,
                i16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(rg_lo, ba_lo),
            );
            store(
                out,
                at + 32,
                i16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(rg_hi, ba_hi),
            );
            store(
                out,
                at + 48,
                i16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(rg_hi, ba_hi),
            );
        }
    }
    n
}
