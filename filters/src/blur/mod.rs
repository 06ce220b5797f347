//! Separable blurs: box (prefix sums, constant cost for any radius), gaussian (Q8 weights)
//! and the unsharp mask built on the gaussian.
//!
//! Both blurs run a horizontal pass from the frame into a byte plane, rounding to bytes, then a
//! vertical pass back into the frame. Edges replicate the border pixels. All four channels
//! (alpha too) are blurred alike. The inner loops work on 16-byte blocks with `u16` sums so
//! that the compiler maps them onto SIMD registers (simd128 on wasm32, SSE2 natively).
//!
//! The FIR under the gaussian, sharpen and Canny, and the unsharp mask's combining step, have
//! their block loops written out in simd128 for wasm32 (`wasm32.rs`) and in plain Rust for the
//! other targets (`portable.rs`);
//! `weights.rs` has the gaussian's weights and the longest kernel, which both the blurs and
//! `wasm32.rs` need.

mod divider;
mod unsharp;
mod weights;

// One of the two block loops under one name, so that `fir` has no cfg of its own.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod portable;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use portable as simd;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm32;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use wasm32 as simd;

pub(crate) use self::divider::Divider;
pub(crate) use self::weights::gaussian_weights;
use self::{unsharp::unsharp_byte, weights::MAX_TAPS};
use crate::{
    frame::Frame,
    scratch::{Scratch, grow},
};

/// Box blur of radius `r`: the mean of the `(2r+1)²` square, as a horizontal mean rounded to
/// bytes followed by a vertical mean rounded to bytes.
///
/// Sums are `u16` and wrap: a window's true sum is at most `255 * 101`, so differences of
/// wrapped running sums are still exact.
pub(crate) fn box_blur(frame: &mut Frame<'_>, r: u32, scratch: &mut Scratch) {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let row_len = w * 4;
    let divider = Divider::new(2 * r + 1);
    let r = r as usize;
    let plane = grow(&mut scratch.plane, row_len * h);
    let padded = grow(&mut scratch.padded, row_len + 8 * r);
    let prefix = grow(&mut scratch.sums, (w + 2 * r + 1) * 4);
    for (src, dst) in frame.rows().zip(plane.chunks_exact_mut(row_len)) {
        box_row(src, dst, r, (padded, prefix), &divider);
    }
    let sums = grow(&mut scratch.column_sums, row_len);
    let row = |y: usize| &plane[y * row_len..(y + 1) * row_len];
    sums.fill(0);
    for k in 0..=2 * r {
        let src = row(k.saturating_sub(r).min(h - 1));
        for (s, &v) in sums.iter_mut().zip(src) {
            *s = s.wrapping_add(u16::from(v));
        }
    }
    for (y, out) in frame.rows_mut().enumerate() {
        let add = row((y + r + 1).min(h - 1));
        let sub = row(y.saturating_sub(r));
        let done = simd::box_column_step(sums, (add, sub), &divider, out);
        let rest = out.iter_mut().zip(sums.iter_mut()).zip(add.iter().zip(sub));
        for ((o, s), (&a, &b)) in rest.skip(done) {
            *o = divider.div(u32::from(*s)) as u8;
            *s = s.wrapping_add(u16::from(a)).wrapping_sub(u16::from(b));
        }
    }
}

/// Horizontal box mean of one RGBA row, through running sums of the row padded by `r`
/// replicated pixels each side: `out[x] = (P[x + 2r + 1] - P[x]) / (2r + 1)`.
fn box_row(
    src: &[u8],
    dst: &mut [u8],
    r: usize,
    (padded, prefix): (&mut [u8], &mut [u16]),
    divider: &Divider,
) {
    pad_row(src, padded, r, 4);
    prefix[..4].fill(0);
    let done = simd::box_prefix(padded, prefix);
    let (sums, _) = prefix.as_chunks_mut::<4>();
    let (px, _) = padded.as_chunks::<4>();
    let mut acc = sums[done];
    for (s, p) in sums[done + 1..].iter_mut().zip(&px[done..]) {
        for c in 0..4 {
            acc[c] = acc[c].wrapping_add(u16::from(p[c]));
        }
        *s = acc;
    }
    let span = (2 * r + 1) * 4;
    let done = simd::box_means(prefix, span, divider, dst);
    for ((d, &hi), &lo) in dst
        .iter_mut()
        .zip(&prefix[span..])
        .zip(prefix.iter())
        .skip(done)
    {
        *d = divider.div(u32::from(hi.wrapping_sub(lo))) as u8;
    }
}

/// A finite impulse response over rows of bytes:
/// `out[i] = (Σ weights[k] · rows[k][i] + 2^(shift-1)) >> shift`.
/// `Σ weights · 255 + 2^(shift-1)` must fit a `u16`, and every row is at least `out.len()` long.
pub(crate) fn fir(rows: &[&[u8]], weights: &[u16], shift: u32, out: &mut [u8]) {
    assert!(
        rows.iter().all(|row| row.len() >= out.len()),
        "FIR rows shorter than the output"
    );
    assert!(rows.len() == weights.len(), "one weight per FIR row");
    let done = simd::fir(rows, weights, shift, out);
    fir_scalar(rows, weights, shift, out, done);
}

/// The FIR one byte at a time, from byte `start` on: the bytes past the last whole block.
fn fir_scalar(rows: &[&[u8]], weights: &[u16], shift: u32, out: &mut [u8], start: usize) {
    let round = 1u16 << (shift - 1);
    for (j, d) in out.iter_mut().enumerate().skip(start) {
        let mut acc = round;
        for (row, &w) in rows.iter().zip(weights) {
            acc = acc.wrapping_add(w.wrapping_mul(u16::from(row[j])));
        }
        *d = (acc >> shift) as u8;
    }
}

/// Copies `src` into `padded` with `radius` copies of the first and last `bpp`-byte pixel on
/// either side.
pub(crate) fn pad_row(src: &[u8], padded: &mut [u8], radius: usize, bpp: usize) {
    let row_len = src.len();
    let (first, last) = (&src[..bpp], &src[row_len - bpp..]);
    for k in 0..radius {
        padded[k * bpp..(k + 1) * bpp].copy_from_slice(first);
        let at = (radius + k) * bpp + row_len;
        padded[at..at + bpp].copy_from_slice(last);
    }
    padded[radius * bpp..radius * bpp + row_len].copy_from_slice(src);
}

/// Vertical pass of a separable FIR: row `y` of the result from the rows of `plane` around it
/// (borders replicated), handed to `emit(y, row)`.
pub(crate) fn fir_columns(
    plane: &[u8],
    row_len: usize,
    weights: &[u16],
    shift: u32,
    out: &mut [u8],
    mut emit: impl FnMut(usize, &[u8]),
) {
    let h = plane.len() / row_len;
    let radius = weights.len() / 2;
    let mut taps: [&[u8]; MAX_TAPS] = [&[]; MAX_TAPS];
    for y in 0..h {
        for (k, tap) in taps.iter_mut().enumerate().take(weights.len()) {
            let sy = (y + k).saturating_sub(radius).min(h - 1);
            *tap = &plane[sy * row_len..(sy + 1) * row_len];
        }
        fir(&taps[..weights.len()], weights, shift, out);
        emit(y, out);
    }
}

/// Horizontal gaussian of every frame row into `scratch.plane`.
fn gaussian_horizontal(frame: &Frame<'_>, weights: &[u16], scratch: &mut Scratch) {
    let row_len = frame.width() as usize * 4;
    let radius = weights.len() / 2;
    let plane = grow(&mut scratch.plane, row_len * frame.height() as usize);
    let padded = grow(&mut scratch.padded, row_len + 8 * radius);
    let n = weights.len();
    for (src, dst) in frame.rows().zip(plane.chunks_exact_mut(row_len)) {
        pad_row(src, padded, radius, 4);
        let taps: [&[u8]; MAX_TAPS] = std::array::from_fn(|k| {
            if k < n {
                &padded[k * 4..k * 4 + row_len]
            } else {
                &[]
            }
        });
        fir(&taps[..n], weights, 8, dst);
    }
}

pub(crate) fn gaussian(frame: &mut Frame<'_>, weights: &[u16], scratch: &mut Scratch) {
    gaussian_horizontal(frame, weights, scratch);
    let row_len = frame.width() as usize * 4;
    let plane = &scratch.plane[..row_len * frame.height() as usize];
    let h = frame.height() as usize;
    let (n, radius) = (weights.len(), weights.len() / 2);
    for y in 0..h {
        let taps: [&[u8]; MAX_TAPS] = std::array::from_fn(|k| {
            let sy = (y + k).saturating_sub(radius).min(h - 1);
            if k < n {
                &plane[sy * row_len..(sy + 1) * row_len]
            } else {
                &[]
            }
        });
        fir(&taps[..n], weights, 8, frame.row_mut(y as u32));
    }
}

/// Unsharp mask: `x + amount * (x - gaussian(x))`, amount in Q8, on R, G, B (alpha kept).
pub(crate) fn sharpen(
    frame: &mut Frame<'_>,
    weights: &[u16],
    amount_q8: i16,
    scratch: &mut Scratch,
) {
    gaussian_horizontal(frame, weights, scratch);
    let row_len = frame.width() as usize * 4;
    let plane = &scratch.plane[..row_len * frame.height() as usize];
    let out = grow(&mut scratch.row, row_len);
    fir_columns(plane, row_len, weights, 8, out, |y, soft| {
        let row = frame.row_mut(y as u32);
        let done = simd::unsharp(row, soft, amount_q8);
        for (i, (x, &g)) in row.iter_mut().zip(soft).enumerate().skip(done) {
            if i % 4 != 3 {
                *x = unsharp_byte(*x, g, amount_q8);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    //! The block loops (simd128 on wasm32) against the scalar definitions; these also run
    //! under wasm32.

    use super::*;

    tests! {
        /// Every (pixel, blur) byte pair, the amounts at both ends of the slider and between.
        fn unsharp_blocks_equal_the_definition() {
            let (x, g): (Vec<u8>, Vec<u8>) =
                (0..=255u8).flat_map(|x| (0..=255u8).map(move |g| (x, g))).unzip();
            for amount_q8 in [0, 1, 13, 128, 256, 255 + 256, 1000, 1280] {
                let mut row = x.clone();
                let done = simd::unsharp(&mut row, &g, amount_q8);
                for (i, ((&got, &x), &g)) in row.iter().zip(&x).zip(&g).enumerate().take(done) {
                    let want = if i % 4 == 3 { x } else { unsharp_byte(x, g, amount_q8) };
                    assert_eq!(got, want, "x {x} g {g} amount {amount_q8}");
                }
                assert_eq!(done, row.len());
            }
        }

        /// Symmetric and other kernels on every remainder length, against the scalar FIR.
        fn fir_blocks_equal_the_scalar_fir() {
            let mut kernels: Vec<(Vec<u16>, u32)> = [0.5f32, 1.0, 1.5, 3.0, 10.0]
                .iter()
                .map(|&s| (gaussian_weights(s), 8))
                .collect();
            kernels.push((vec![1, 4, 6, 4, 1], 4));
            kernels.push((vec![256], 8));
            kernels.push((vec![3, 200, 53], 8));
            for (weights, shift) in kernels {
                let n = weights.len();
                let rows: Vec<Vec<u8>> = (0..n)
                    .map(|k| (0..80).map(|i| ((i * 37 + k * 101) % 256) as u8).collect())
                    .collect();
                let taps: Vec<&[u8]> = rows.iter().map(Vec::as_slice).collect();
                for len in [1, 15, 16, 17, 33, 50, 64, 79] {
                    let mut got = vec![0u8; len];
                    fir(&taps, &weights, shift, &mut got);
                    let mut want = vec![0u8; len];
                    fir_scalar(&taps, &weights, shift, &mut want, 0);
                    assert_eq!(got, want, "{weights:?} len {len}");
                }
            }
        }
    }
}
