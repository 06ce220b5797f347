//! Edge filters on the luma plane: Sobel, Canny and emboss.
//!
//! Each one first writes the frame's luma into a byte plane, then walks it a row at a time
//! with the rows above and below (replicating the border rows and columns), and writes a grey
//! result back with the frame's alpha kept.
//!
//! The Sobel step of a row runs in two loops: the vertical sums and differences (which the
//! compiler vectorizes), then the per-pixel gradients. `wasm32.rs` does the leading whole
//! blocks of 8 pixels of the second loop in simd128 (magnitudes for Sobel and cartoon; Canny's
//! magnitudes and direction sectors) and this file the rest; `portable.rs` stands in on other
//! targets and does nothing.

// One of the two under one name, so that the kernels have no cfg of their own.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod portable;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use portable as simd;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm32;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use wasm32 as simd;

use crate::{
    blur::{fir, fir_columns, pad_row},
    color::luma_row,
    frame::Frame,
    scratch::{Scratch, grow},
};

/// Writes the luma of every pixel of `frame` into `plane` (tight, `width` bytes a row).
pub(crate) fn luma_plane(frame: &Frame<'_>, plane: &mut [u8]) {
    let w = frame.width() as usize;
    for (src, dst) in frame.rows().zip(plane.chunks_exact_mut(w)) {
        luma_row(src, dst);
    }
}

/// Sets R, G, B of every pixel of `row` to `grey[x]`.
pub(crate) fn write_grey(row: &mut [u8], grey: &[u8]) {
    let (px, _) = row.as_chunks_mut::<4>();
    for (p, &g) in px.iter_mut().zip(grey) {
        p[0] = g;
        p[1] = g;
        p[2] = g;
    }
}

/// The rows above, at and below `y`, borders replicated.
fn neighbours(plane: &[u8], w: usize, h: usize, y: usize) -> [&[u8]; 3] {
    let row = |y: usize| &plane[y * w..(y + 1) * w];
    [row(y.saturating_sub(1)), row(y), row((y + 1).min(h - 1))]
}

/// The vertical Sobel terms of the row between `a` and `c`: `sum = a + 2b + c` (smoothing)
/// and `diff = c - a`, each `w + 2` long with the border columns replicated.
fn sobel_sums([a, b, c]: [&[u8]; 3], sum: &mut [i16], diff: &mut [i16]) {
    let w = b.len();
    for x in 0..w {
        let (a, b, c) = (i16::from(a[x]), i16::from(b[x]), i16::from(c[x]));
        sum[x + 1] = a + 2 * b + c;
        diff[x + 1] = c - a;
    }
    sum[0] = sum[1];
    diff[0] = diff[1];
    sum[w + 1] = sum[w];
    diff[w + 1] = diff[w];
}

/// Sobel gradients `gx`, `gy` from the vertical terms, for pixels `from..w`.
fn sobel_each(sum: &[i16], diff: &[i16], from: usize, mut each: impl FnMut(usize, i16, i16)) {
    let w = sum.len() - 2;
    for x in from..w {
        let gx = sum[x + 2] - sum[x];
        let gy = diff[x] + 2 * diff[x + 1] + diff[x + 2];
        each(x, gx, gy);
    }
}

/// Sobel magnitudes of one row into `out` (`w` bytes).
fn sobel_magnitudes(rows: [&[u8]; 3], sum: &mut [i16], diff: &mut [i16], out: &mut [u8]) {
    sobel_sums(rows, sum, diff);
    let done = simd::magnitudes(sum, diff, out);
    sobel_each(sum, diff, done, |x, gx, gy| {
        out[x] = sobel_magnitude(gx, gy);
    });
}

/// Sobel edge strength `min(255, (|gx| + |gy|) / 2)` as grey.
pub(crate) fn sobel(frame: &mut Frame<'_>, scratch: &mut Scratch) {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let plane = grow(&mut scratch.luma, w * h);
    luma_plane(frame, plane);
    let out = grow(&mut scratch.luma2, w);
    let sum = grow(&mut scratch.sum_row, w + 2);
    let diff = grow(&mut scratch.diff_row, w + 2);
    for y in 0..h {
        sobel_magnitudes(neighbours(plane, w, h, y), sum, diff, out);
        write_grey(frame.row_mut(y as u32), out);
    }
}

#[inline]
pub(crate) fn sobel_magnitude(gx: i16, gy: i16) -> u8 {
    u16::midpoint(gx.unsigned_abs(), gy.unsigned_abs()).min(255) as u8
}

/// Sobel magnitudes `min(255, (|gx| + |gy|) / 2)` of a luma plane into `out`.
pub(crate) fn sobel_plane(
    plane: &[u8],
    w: usize,
    h: usize,
    out: &mut [u8],
    sum: &mut [i16],
    diff: &mut [i16],
) {
    for (y, dst) in out.chunks_exact_mut(w).enumerate() {
        sobel_magnitudes(neighbours(plane, w, h, y), sum, diff, dst);
    }
}

/// Emboss: `128 + (below-right three) - (above-left three)` of the luma, clamped.
pub(crate) fn emboss(frame: &mut Frame<'_>, scratch: &mut Scratch) {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let plane = grow(&mut scratch.luma, w * h);
    luma_plane(frame, plane);
    let out = grow(&mut scratch.luma2, w);
    for y in 0..h {
        let [a, b, c] = neighbours(plane, w, h, y);
        for x in 0..w {
            let (l, r) = (x.saturating_sub(1), (x + 1).min(w - 1));
            let light = i32::from(c[r]) + i32::from(b[r]) + i32::from(c[x]);
            let dark = i32::from(a[l]) + i32::from(b[l]) + i32::from(a[x]);
            out[x] = (128 + light - dark).clamp(0, 255) as u8;
        }
        write_grey(frame.row_mut(y as u32), out);
    }
}

/// Canny: 5×5 binomial blur of the luma, Sobel gradients, non-maximum suppression along the
/// gradient direction (4 sectors), double threshold on `|gx| + |gy|`, and hysteresis
/// (8-connected). Edges are white, the rest black; the outermost pixels are never edges.
pub(crate) fn canny(frame: &mut Frame<'_>, lo: u16, hi: u16, scratch: &mut Scratch) {
    let (lo, hi) = (lo.min(hi), hi.max(lo));
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let plane = grow(&mut scratch.luma, w * h);
    luma_plane(frame, plane);
    let smooth = grow(&mut scratch.luma2, w * h);
    binomial5(plane, smooth, w, &mut scratch.padded, &mut scratch.row);
    let mag = grow(&mut scratch.mag, w * h);
    let dir = grow(&mut scratch.dir, w * h);
    let sum = grow(&mut scratch.sum_row, w + 2);
    let diff = grow(&mut scratch.diff_row, w + 2);
    for y in 0..h {
        let (m_row, d_row) = (&mut mag[y * w..(y + 1) * w], &mut dir[y * w..(y + 1) * w]);
        sobel_sums(neighbours(smooth, w, h, y), sum, diff);
        let done = simd::gradients(sum, diff, m_row, d_row);
        sobel_each(sum, diff, done, |x, gx, gy| {
            m_row[x] = gx.unsigned_abs() + gy.unsigned_abs();
            d_row[x] = sector(gx, gy);
        });
    }
    // `plane` is free again: it now holds the classes 0 (none), 1 (weak), 2 (edge).
    let class = plane;
    class.fill(0);
    let stack = &mut scratch.stack;
    stack.clear();
    for y in 1..h.saturating_sub(1) {
        let from = simd::suppress(mag, dir, (w, y), (lo, hi), class, stack);
        for x in from..w - 1 {
            let i = y * w + x;
            let m = mag[i];
            if m < lo || m == 0 {
                continue;
            }
            let (before, after) = match dir[i] {
                0 => (i - 1, i + 1),
                1 => (i - w - 1, i + w + 1),
                2 => (i - w, i + w),
                _ => (i - w + 1, i + w - 1),
            };
            if m > mag[before] && m >= mag[after] {
                if m >= hi {
                    class[i] = 2;
                    stack.push(i as u32);
                } else {
                    class[i] = 1;
                }
            }
        }
    }
    while let Some(i) = stack.pop() {
        let i = i as usize;
        for j in [
            i - w - 1,
            i - w,
            i - w + 1,
            i - 1,
            i + 1,
            i + w - 1,
            i + w,
            i + w + 1,
        ] {
            if class[j] == 1 {
                class[j] = 2;
                stack.push(j as u32);
            }
        }
    }
    for (y, row) in frame.rows_mut().enumerate() {
        let classes = &class[y * w..(y + 1) * w];
        let done = simd::edges_white(row, classes);
        let (px, _) = row.as_chunks_mut::<4>();
        for (p, &c) in px.iter_mut().zip(classes).skip(done) {
            let v = if c == 2 { 255 } else { 0 };
            p[0] = v;
            p[1] = v;
            p[2] = v;
        }
    }
}

/// Direction sector of the gradient: 0 horizontal, 1 diagonal `\`, 2 vertical, 3 diagonal `/`
/// (in image coordinates, y down). tan(22.5°) ≈ 106/256.
#[inline]
fn sector(gx: i16, gy: i16) -> u8 {
    let (ax, ay) = (i32::from(gx.unsigned_abs()), i32::from(gy.unsigned_abs()));
    if ay * 256 <= ax * 106 {
        0
    } else if ax * 256 <= ay * 106 {
        2
    } else if (gx > 0) == (gy > 0) {
        1
    } else {
        3
    }
}

/// Separable `[1 4 6 4 1] / 16` blur of a byte plane, rounding after each pass, borders
/// replicated; `src` is left holding the horizontal pass.
fn binomial5(src: &mut [u8], dst: &mut [u8], w: usize, padded: &mut Vec<u8>, row: &mut Vec<u8>) {
    const WEIGHTS: [u16; 5] = [1, 4, 6, 4, 1];
    let padded = grow(padded, w + 4);
    for row in src.chunks_exact_mut(w) {
        pad_row(row, padded, 2, 1);
        let taps: [&[u8]; 5] = std::array::from_fn(|k| &padded[k..k + w]);
        // The taps read `padded`, so the row can take the result.
        fir(&taps, &WEIGHTS, 4, row);
    }
    let row = grow(row, w);
    fir_columns(src, w, &WEIGHTS, 4, row, |y, blurred| {
        dst[y * w..(y + 1) * w].copy_from_slice(blurred);
    });
}

#[cfg(test)]
mod tests {
    //! The gradient blocks (simd128 on wasm32) against the scalar loop; these also run under
    //! wasm32.

    use super::*;

    /// Vertical terms of random luma rows of awkward widths: every Sobel gradient range,
    /// with extreme rows (0 and 255) mixed in.
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn gradient_blocks_equal_the_scalar_loop() {
        let mut seed = 0x9e37_79b9_u32;
        let mut byte = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            match seed % 5 {
                0 => 0,
                1 => 255,
                _ => (seed >> 8) as u8,
            }
        };
        for w in [1, 7, 8, 9, 17, 65, 1281] {
            for _ in 0..40 {
                let rows: [Vec<u8>; 3] = std::array::from_fn(|_| (0..w).map(|_| byte()).collect());
                let (mut sum, mut diff) = (vec![0i16; w + 2], vec![0i16; w + 2]);
                sobel_sums([&rows[0], &rows[1], &rows[2]], &mut sum, &mut diff);
                let (mut mag, mut dir, mut grey) = (vec![0u16; w], vec![9u8; w], vec![0u8; w]);
                let done = simd::gradients(&sum, &diff, &mut mag, &mut dir);
                let shown = simd::magnitudes(&sum, &diff, &mut grey);
                sobel_each(&sum, &diff, 0, |x, gx, gy| {
                    if x < done {
                        assert_eq!(mag[x], gx.unsigned_abs() + gy.unsigned_abs(), "w {w} x {x}");
                        assert_eq!(dir[x], sector(gx, gy), "w {w} x {x} gx {gx} gy {gy}");
                    }
                    if x < shown {
                        assert_eq!(grey[x], sobel_magnitude(gx, gy), "w {w} x {x}");
                    }
                });
            }
        }
    }
}
