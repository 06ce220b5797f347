//! Separable blurs: box (running sums, constant cost for any radius), gaussian (Q14 weights)
//! and the unsharp mask built on the gaussian.
//!
//! Both blurs run a horizontal pass from the frame into a byte plane, rounding to bytes, then a
//! vertical pass back into the frame. Edges replicate the border pixels. All four channels
//! (alpha too) are filtered alike.

use crate::{
    frame::Frame,
    scratch::{Scratch, grow},
};

/// `round(n / d)` for `n <= 255 * d`, `d <= 255`, as a multiply and shift.
/// `m = 2^23 / d + 1` is exact here: the error term `n * (m*d - 2^23) < 2^23`,
/// and `(n + d/2) * m` stays below 2^32.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Divider {
    half: u32,
    multiplier: u32,
}

impl Divider {
    pub(crate) fn new(d: u32) -> Self {
        Self {
            half: d / 2,
            multiplier: (1 << 23) / d + 1,
        }
    }

    #[inline]
    pub(crate) fn div(self, n: u32) -> u32 {
        ((n + self.half) * self.multiplier) >> 23
    }
}

/// Box blur of radius `r`: the mean of the `(2r+1)²` square, as a horizontal mean rounded to
/// bytes followed by a vertical mean rounded to bytes.
pub(crate) fn box_blur(frame: &mut Frame<'_>, r: u32, scratch: &mut Scratch) {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let row_len = w * 4;
    let divider = Divider::new(2 * r + 1);
    let r = r as usize;
    let plane = grow(&mut scratch.plane, row_len * h);
    for (src, dst) in frame.rows().zip(plane.chunks_exact_mut(row_len)) {
        box_row(src, dst, r, divider);
    }
    let sums = grow(&mut scratch.acc, row_len);
    let row = |y: usize| &plane[y * row_len..(y + 1) * row_len];
    sums.fill(0);
    for k in 0..=2 * r {
        let src = row(k.saturating_sub(r).min(h - 1));
        for (s, &v) in sums.iter_mut().zip(src) {
            *s += u32::from(v);
        }
    }
    for (y, out) in frame.rows_mut().enumerate() {
        for (o, &s) in out.iter_mut().zip(sums.iter()) {
            *o = divider.div(s) as u8;
        }
        let add = row((y + r + 1).min(h - 1));
        let sub = row(y.saturating_sub(r));
        for ((s, &a), &b) in sums.iter_mut().zip(add).zip(sub) {
            *s = *s + u32::from(a) - u32::from(b);
        }
    }
}

/// Horizontal box mean of one RGBA row.
fn box_row(src: &[u8], dst: &mut [u8], r: usize, divider: Divider) {
    let (px, _) = src.as_chunks::<4>();
    let (out, _) = dst.as_chunks_mut::<4>();
    let last = px.len() - 1;
    let mut sum = [0u32; 4];
    for k in 0..=2 * r {
        let p = px[k.saturating_sub(r).min(last)];
        for c in 0..4 {
            sum[c] += u32::from(p[c]);
        }
    }
    for (x, o) in out.iter_mut().enumerate() {
        let add = px[(x + r + 1).min(last)];
        let sub = px[x.saturating_sub(r)];
        for c in 0..4 {
            o[c] = divider.div(sum[c]) as u8;
            sum[c] = sum[c] + u32::from(add[c]) - u32::from(sub[c]);
        }
    }
}

/// Q14 gaussian weights for `sigma`, radius `ceil(3 sigma)`, summing to exactly 2^14
/// (the rounding remainder goes to the centre tap).
pub(crate) fn gaussian_weights(sigma: f32) -> Vec<u32> {
    let sigma = f64::from(sigma);
    let radius = (3.0 * sigma).ceil().max(1.0) as i32;
    let raw: Vec<f64> = (-radius..=radius)
        .map(|k| (-f64::from(k * k) / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = raw.iter().sum();
    let mut weights: Vec<u32> = raw
        .iter()
        .map(|w| (w / total * 16384.0).round() as u32)
        .collect();
    let sum: u32 = weights.iter().sum();
    let centre = radius as usize;
    weights[centre] = weights[centre] + 16384 - sum;
    weights
}

/// A gaussian blur: the horizontal pass into `scratch.plane`, then the vertical pass, whose
/// Q14 sums for row `y` are handed to `emit(y, sums)`.
fn gaussian_passes(
    frame: &Frame<'_>,
    weights: &[u32],
    scratch: &mut Scratch,
    mut emit: impl FnMut(usize, &[u32]),
) {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let row_len = w * 4;
    let radius = weights.len() / 2;
    let plane = grow(&mut scratch.plane, row_len * h);
    let padded = grow(&mut scratch.padded, row_len + 8 * radius);
    let acc = grow(&mut scratch.acc, row_len);
    for (src, dst) in frame.rows().zip(plane.chunks_exact_mut(row_len)) {
        pad_row(src, padded, radius);
        acc.fill(0);
        for (k, &wk) in weights.iter().enumerate() {
            let shifted = &padded[k * 4..k * 4 + row_len];
            for (a, &v) in acc.iter_mut().zip(shifted) {
                *a += wk * u32::from(v);
            }
        }
        for (d, &a) in dst.iter_mut().zip(acc.iter()) {
            *d = ((a + 8192) >> 14) as u8;
        }
    }
    for y in 0..h {
        acc.fill(0);
        for (k, &wk) in weights.iter().enumerate() {
            let sy = (y + k).saturating_sub(radius).min(h - 1);
            let src = &plane[sy * row_len..(sy + 1) * row_len];
            for (a, &v) in acc.iter_mut().zip(src) {
                *a += wk * u32::from(v);
            }
        }
        emit(y, acc);
    }
}

/// Copies `src` into `padded` with `radius` copies of the first and last pixel on either side.
pub(crate) fn pad_row(src: &[u8], padded: &mut [u8], radius: usize) {
    let row_len = src.len();
    let (first, last) = (&src[..4], &src[row_len - 4..]);
    for k in 0..radius {
        padded[k * 4..k * 4 + 4].copy_from_slice(first);
        let at = (radius + k) * 4 + row_len;
        padded[at..at + 4].copy_from_slice(last);
    }
    padded[radius * 4..radius * 4 + row_len].copy_from_slice(src);
}

pub(crate) fn gaussian(frame: &mut Frame<'_>, weights: &[u32], scratch: &mut Scratch) {
    let mut out = std::mem::take(&mut scratch.luma2);
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let blurred = grow(&mut out, w * 4 * h);
    gaussian_passes(frame, weights, scratch, |y, acc| {
        let dst = &mut blurred[y * w * 4..(y + 1) * w * 4];
        for (d, &a) in dst.iter_mut().zip(acc) {
            *d = ((a + 8192) >> 14) as u8;
        }
    });
    for (row, src) in frame.rows_mut().zip(blurred.chunks_exact(w * 4)) {
        row.copy_from_slice(src);
    }
    scratch.luma2 = out;
}

/// Unsharp mask: `x + amount * (x - gaussian(x))`, amount in Q8, on R, G, B (alpha kept).
pub(crate) fn sharpen(
    frame: &mut Frame<'_>,
    weights: &[u32],
    amount_q8: i32,
    scratch: &mut Scratch,
) {
    let mut out = std::mem::take(&mut scratch.luma2);
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let blurred = grow(&mut out, w * 4 * h);
    gaussian_passes(frame, weights, scratch, |y, acc| {
        let dst = &mut blurred[y * w * 4..(y + 1) * w * 4];
        for (d, &a) in dst.iter_mut().zip(acc) {
            *d = ((a + 8192) >> 14) as u8;
        }
    });
    for (row, soft) in frame.rows_mut().zip(blurred.chunks_exact(w * 4)) {
        for (i, (x, &g)) in row.iter_mut().zip(soft).enumerate() {
            if i % 4 == 3 {
                continue;
            }
            let v = i32::from(*x);
            let detail = ((v - i32::from(g)) * amount_q8 + 128) >> 8;
            *x = (v + detail).clamp(0, 255) as u8;
        }
    }
    scratch.luma2 = out;
}
