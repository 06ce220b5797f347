//! The wasm32 `simd128` forms of the colour passes, where the compiler finds no good
//! vectorization of interleaved RGBA by itself. Each returns how many leading bytes (or, for
//! `luma_row`, pixels) it handled, and the pass's portable loop in `color` does the rest;
//! `color::portable` has the same signatures and handles nothing. Both compute the same
//! integer formulas, which the tests check on wasm32 and natively against one reference. For
//! the arithmetic forms of per-channel tables (`offset`, `affine`, `levels`) the portable path
//! is the table itself, which `color` checked equal to the formula on all 256 inputs before
//! choosing the form.

use core::arch::wasm32::{
    i8x16_splat, i8x16_sub, i8x16_swizzle, i16x8, i16x8_mul, i16x8_narrow_i32x4, i16x8_q15mulr_sat,
    i16x8_shl, i32x4_add, i32x4_dot_i16x8, i32x4_max, i32x4_min, i32x4_mul, i32x4_shl, i32x4_shr,
    i32x4_splat, u8x16, u8x16_add_sat, u8x16_min, u8x16_narrow_i16x8, u8x16_replace_lane,
    u8x16_splat, u8x16_sub_sat, u16x8_add_sat, u16x8_extend_high_u8x16, u16x8_extend_low_u8x16,
    u16x8_shr, u16x8_splat, u16x8_sub_sat, u32x4_extract_lane, u32x4_ge, u32x4_shr, u32x4_splat,
    v128, v128_and, v128_bitselect, v128_or, v128_xor,
};

use super::affine::Affine;
use crate::wasm32_utils::{load, store};

const ALPHA: u32 = 0xFF00_0000;

/// Q8 BT.601 luma of the 4 pixels in `v`, one per `u32` lane:
/// `(77 r + 150 g + 29 b + 128) >> 8`, via two `i16` dot products (R,B even bytes; G,A odd).
#[inline]
fn luma4(v: v128) -> v128 {
    let even = v128_and(v, u16x8_splat(0x00FF));
    let odd = u16x8_shr(v, 8);
    let rb = i32x4_dot_i16x8(even, i16x8(77, 29, 77, 29, 77, 29, 77, 29));
    let g = i32x4_dot_i16x8(odd, i16x8(150, 0, 150, 0, 150, 0, 150, 0));
    u32x4_shr(i32x4_add(i32x4_add(rb, g), u32x4_splat(128)), 8)
}

/// Luma of RGBA `src` into `dst`, 16 pixels a step; returns the pixels done.
pub(super) fn luma_row(src: &[u8], dst: &mut [u8]) -> usize {
    let blocks = (src.len() / 64).min(dst.len() / 16);
    for b in 0..blocks {
        // SAFETY: block `b` covers src[64b..64b+64] and dst[16b..16b+16], both in bounds.
        unsafe {
            let y: [v128; 4] = core::array::from_fn(|k| luma4(load(src, b * 64 + k * 16)));
            let lo = i16x8_narrow_i32x4(y[0], y[1]);
            let hi = i16x8_narrow_i32x4(y[2], y[3]);
            store(dst, b * 16, u8x16_narrow_i16x8(lo, hi));
        }
    }
    blocks * 16
}

/// Grayscale in place; returns the bytes done.
pub(super) fn grayscale(bytes: &mut [u8]) -> usize {
    let blocks = bytes.len() / 16;
    for b in 0..blocks {
        // SAFETY: bytes[16b..16b+16] is in bounds.
        unsafe {
            let v = load(bytes, b * 16);
            let grey = i32x4_mul(luma4(v), u32x4_splat(0x0001_0101));
            store(
                bytes,
                b * 16,
                v128_or(grey, v128_and(v, u32x4_splat(ALPHA))),
            );
        }
    }
    blocks * 16
}

/// White where luma ≥ `level`, black elsewhere, alpha kept; returns the bytes done.
pub(super) fn threshold(bytes: &mut [u8], level: u32) -> usize {
    let blocks = bytes.len() / 16;
    let level = u32x4_splat(level);
    for b in 0..blocks {
        // SAFETY: bytes[16b..16b+16] is in bounds.
        unsafe {
            let v = load(bytes, b * 16);
            let on = u32x4_ge(luma4(v), level);
            let alpha = v128_and(v, u32x4_splat(ALPHA));
            store(
                bytes,
                b * 16,
                v128_or(alpha, v128_and(on, u32x4_splat(!ALPHA))),
            );
        }
    }
    blocks * 16
}

/// Inverts R, G, B; returns the bytes done.
pub(super) fn invert(bytes: &mut [u8]) -> usize {
    let blocks = bytes.len() / 16;
    for b in 0..blocks {
        // SAFETY: bytes[16b..16b+16] is in bounds.
        unsafe {
            let v = load(bytes, b * 16);
            store(bytes, b * 16, v128_xor(v, u32x4_splat(!ALPHA)));
        }
    }
    blocks * 16
}

/// The Q12 colour matrix of `color::formulas::apply_matrix` in place; returns the bytes done.
/// Per output channel, two `i16` dot products (R,B even bytes; G,A odd) give each pixel's sum.
pub(super) fn matrix(bytes: &mut [u8], m: &[[i32; 3]; 3]) -> usize {
    let pairs = |a: i32, b: i32| {
        let (a, b) = (a as i16, b as i16);
        i16x8(a, b, a, b, a, b, a, b)
    };
    let even_w: [v128; 3] = core::array::from_fn(|i| pairs(m[i][0], m[i][2]));
    let odd_w: [v128; 3] = core::array::from_fn(|i| pairs(m[i][1], 0));
    let (round, zero, max) = (i32x4_splat(2048), i32x4_splat(0), i32x4_splat(255));
    let blocks = bytes.len() / 16;
    for b in 0..blocks {
        // SAFETY: bytes[16b..16b+16] is in bounds.
        let v = unsafe { load(bytes, b * 16) };
        let even = v128_and(v, u16x8_splat(0x00FF));
        let odd = u16x8_shr(v, 8);
        let channel = |i: usize| {
            let sum = i32x4_add(
                i32x4_dot_i16x8(even, even_w[i]),
                i32x4_dot_i16x8(odd, odd_w[i]),
            );
            i32x4_min(i32x4_max(i32x4_shr(i32x4_add(sum, round), 12), zero), max)
        };
        let rgb = v128_or(
            v128_or(channel(0), i32x4_shl(channel(1), 8)),
            i32x4_shl(channel(2), 16),
        );
        // SAFETY: as above.
        unsafe { store(bytes, b * 16, v128_or(rgb, v128_and(v, u32x4_splat(ALPHA)))) };
    }
    blocks * 16
}

/// Adds `k` to R, G, B with saturation (a negative `k` subtracts); returns the bytes done.
pub(super) fn offset(bytes: &mut [u8], k: i16) -> usize {
    // Alpha lanes get 0, which leaves them as they are.
    let amount = u32x4_splat(u32::from(k.unsigned_abs().min(255) as u8) * 0x0001_0101);
    let blocks = bytes.len() / 16;
    for b in 0..blocks {
        // SAFETY: bytes[16b..16b+16] is in bounds.
        unsafe {
            let v = load(bytes, b * 16);
            let out = if k >= 0 {
                u8x16_add_sat(v, amount)
            } else {
                u8x16_sub_sat(v, amount)
            };
            store(bytes, b * 16, out);
        }
    }
    blocks * 16
}

/// The constants of [`affine16`].
#[derive(Clone, Copy)]
struct AffineSplats {
    lo: v128,
    hi: v128,
    /// `f >> 8` for the `i16x8.mul`, when the factor needs it.
    n: v128,
    /// The multiplier of `q15mulr`: all of `f`, or its low byte beside `n`.
    m: v128,
    /// `|c|`: added with saturation, or subtracted with saturation at 0 when `c < 0`.
    c: v128,
}

/// The formula's shape as constants, so each kernel is compiled without the steps it skips:
/// `MUL` (the factor needs the multiply), `NEG` (`c < 0`), `S7` (7 fraction bits, not 8).
#[derive(Clone, Copy)]
struct Shape {
    mul: bool,
    neg: bool,
    s7: bool,
}

impl AffineSplats {
    fn new(a: &Affine) -> (Self, Shape) {
        let mul = a.needs_mul();
        let m = if mul { a.f & 0xFF } else { a.f };
        let splats = Self {
            lo: u8x16_splat(a.lo),
            hi: u8x16_splat(a.hi),
            n: u16x8_splat((a.f >> 8) as u16),
            m: u16x8_splat(m as u16),
            c: u16x8_splat(a.c.unsigned_abs() as u16),
        };
        let shape = Shape {
            mul,
            neg: a.c < 0,
            s7: a.s == 7,
        };
        (splats, shape)
    }
}

/// `with_shape!(shape, f[P](args))` calls `f::<P, MUL, NEG, S7>(args)` (`P` optional) with
/// `MUL`, `NEG`, `S7` from `shape`.
macro_rules! with_shape {
    ($shape:expr, $f:ident[$($pre:tt)?]($($arg:expr),*)) => {{
        let Shape { mul, neg, s7 } = $shape;
        match (mul, neg, s7) {
            (false, false, false) => $f::<$($pre,)? false, false, false>($($arg),*),
            (false, false, true) => $f::<$($pre,)? false, false, true>($($arg),*),
            (false, true, false) => $f::<$($pre,)? false, true, false>($($arg),*),
            (false, true, true) => $f::<$($pre,)? false, true, true>($($arg),*),
            (true, false, false) => $f::<$($pre,)? true, false, false>($($arg),*),
            (true, false, true) => $f::<$($pre,)? true, false, true>($($arg),*),
            (true, true, false) => $f::<$($pre,)? true, true, false>($($arg),*),
            (true, true, true) => $f::<$($pre,)? true, true, true>($($arg),*),
        }
    }};
}

/// [`Affine::eval`] on 16 bytes: the input clamp on bytes, the rest in two `u16x8` halves.
/// `q15mulr(u << 7, m)` is `round(u·m / 2⁸)`; with `MUL`, `u·(f >> 8)` adds the high bits of
/// `f` (`u·(f >> 8)·2⁸` needs no rounding). The sums saturate to `u16`, the shift floors,
/// and the narrowing clamps to 255 (only `S7` can pass it).
#[inline]
fn affine16<const MUL: bool, const NEG: bool, const S7: bool>(v: v128, k: AffineSplats) -> v128 {
    let u = u8x16_sub_sat(u8x16_min(v, k.hi), k.lo);
    let half = |w: v128| {
        let mut p = i16x8_q15mulr_sat(i16x8_shl(w, 7), k.m);
        if MUL {
            p = u16x8_add_sat(i16x8_mul(w, k.n), p);
        }
        p = if NEG {
            u16x8_sub_sat(p, k.c)
        } else {
            u16x8_add_sat(p, k.c)
        };
        u16x8_shr(p, if S7 { 7 } else { 8 })
    };
    u8x16_narrow_i16x8(
        half(u16x8_extend_low_u8x16(u)),
        half(u16x8_extend_high_u8x16(u)),
    )
}

/// The per-channel [`Affine`] formula on R, G, B, alpha kept; returns the bytes done.
pub(super) fn affine(bytes: &mut [u8], a: &Affine) -> usize {
    let (k, shape) = AffineSplats::new(a);
    with_shape!(shape, affine_with[](bytes, k))
}

fn affine_with<const MUL: bool, const NEG: bool, const S7: bool>(
    bytes: &mut [u8],
    k: AffineSplats,
) -> usize {
    let alpha = u32x4_splat(ALPHA);
    let blocks = bytes.len() / 16;
    for b in 0..blocks {
        // SAFETY: bytes[16b..16b+16] is in bounds.
        unsafe {
            let v = load(bytes, b * 16);
            let y = affine16::<MUL, NEG, S7>(v, k);
            store(bytes, b * 16, v128_bitselect(v, y, alpha));
        }
    }
    blocks * 16
}

/// `levels[q(c)]` on R, G, B for an [`Affine`] index `q` below 32, alpha kept: the index in
/// SIMD, the levels by one swizzle per 16 of them; returns the bytes done.
pub(super) fn levels(bytes: &mut [u8], q: &Affine, levels: &[u8; 32]) -> usize {
    let (k, shape) = AffineSplats::new(q);
    if levels[16..].iter().any(|&l| l != 0) {
        with_shape!(shape, levels_with[true](bytes, k, levels))
    } else {
        with_shape!(shape, levels_with[false](bytes, k, levels))
    }
}

/// `TWO`: some level past the 16th is not 0, so a second swizzle is needed.
fn levels_with<const TWO: bool, const MUL: bool, const NEG: bool, const S7: bool>(
    bytes: &mut [u8],
    k: AffineSplats,
    levels: &[u8; 32],
) -> usize {
    // SAFETY: `levels` is 32 bytes.
    let (first, second) = unsafe { (load(levels, 0), load(levels, 16)) };
    let sixteen = i8x16_splat(16);
    let alpha = u32x4_splat(ALPHA);
    let blocks = bytes.len() / 16;
    for b in 0..blocks {
        // SAFETY: bytes[16b..16b+16] is in bounds.
        unsafe {
            let v = load(bytes, b * 16);
            let index = affine16::<MUL, NEG, S7>(v, k);
            // A swizzle index past 15 gives 0: indices below 16 wrap past it in the second.
            let mut y = i8x16_swizzle(first, index);
            if TWO {
                y = v128_or(y, i8x16_swizzle(second, i8x16_sub(index, sixteen)));
            }
            store(bytes, b * 16, v128_bitselect(v, y, alpha));
        }
    }
    blocks * 16
}

/// Luma, then `lut`, into R, G, B (alpha kept), 16 pixels a step: the lumas come from SIMD,
/// the 16 lookups are scalar, and a swizzle spreads each result over its pixel's R, G, B.
/// Each lookup takes its luma from its `i32` lane and writes one byte lane: no narrowing of
/// the lumas to bytes first (which LLVM lowers to clamps and two-input shuffles, and which
/// cost a fifth of the time). Returns the bytes done.
pub(super) fn luma_lut(bytes: &mut [u8], lut: &[u8; 256]) -> usize {
    const NONE: u8 = 0x80; // a swizzle index past 15 gives 0
    let spread: [v128; 4] = core::array::from_fn(|k| {
        let p = 4 * k as u8;
        u8x16(
            p,
            p,
            p,
            NONE,
            p + 1,
            p + 1,
            p + 1,
            NONE,
            p + 2,
            p + 2,
            p + 2,
            NONE,
            p + 3,
            p + 3,
            p + 3,
            NONE,
        )
    });
    let alpha = u32x4_splat(ALPHA);
    let blocks = bytes.len() / 64;
    for b in 0..blocks {
        // SAFETY: block `b` covers bytes[64b..64b+64], in bounds.
        let v: [v128; 4] = core::array::from_fn(|k| unsafe { load(bytes, b * 64 + k * 16) });
        let y: [v128; 4] = core::array::from_fn(|k| luma4(v[k]));
        // A luma is at most 255; the mask lets the compiler drop the bounds check.
        let mut m = u8x16_splat(0);
        macro_rules! lookup {
            ($($k:literal $i:literal $lane:literal),*) => {$(
                m = u8x16_replace_lane::<$lane>(
                    m,
                    lut[u32x4_extract_lane::<$i>(y[$k]) as usize & 0xFF],
                );
            )*};
        }
        lookup!(
            0 0 0, 0 1 1, 0 2 2, 0 3 3, 1 0 4, 1 1 5, 1 2 6, 1 3 7, 2 0 8, 2 1 9, 2 2 10,
            2 3 11, 3 0 12, 3 1 13, 3 2 14, 3 3 15
        );
        for k in 0..4 {
            let out = v128_or(i8x16_swizzle(m, spread[k]), v128_and(v[k], alpha));
            // SAFETY: as for the loads.
            unsafe { store(bytes, b * 64 + k * 16, out) };
        }
    }
    blocks * 64
}
