//! Vignette: darkens R, G, B by `q / 256` with `q = clamp(256 - ax[x] - ay[y], 0, 256)`,
//! where `ax[x] = round(128 v u²)` for the pixel centre's `u` in (-1, 1) across the width
//! (and `ay` likewise down the height). Because `u² + w²` splits into a column and a row term,
//! the per-pixel work is two adds, a clamp and a multiply.
//!
//! `wasm32.rs` does the leading whole 16-byte blocks of each row in simd128 and this file the
//! rest; `portable.rs` stands in on other targets and does nothing.

// One of the two under one name, so that the row loop has no cfg of its own.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod portable;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use portable as simd;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm32;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use wasm32 as simd;

use crate::{
    frame::Frame,
    scratch::{Scratch, grow},
};

/// `round(128 v u²)` for each of `n` pixel centres.
fn falloff(n: u32, strength: f32, out: &mut [i32]) {
    for (i, f) in out.iter_mut().enumerate() {
        let u = (2.0 * i as f32 + 1.0 - n as f32) / n as f32;
        *f = (128.0 * strength * u * u).round() as i32;
    }
}

pub(crate) fn vignette(frame: &mut Frame<'_>, strength: f32, scratch: &mut Scratch) {
    let (w, h) = (frame.width(), frame.height());
    let ax = grow(&mut scratch.cols, w as usize);
    falloff(w, strength, ax);
    let ay = grow(&mut scratch.rows, h as usize);
    falloff(h, strength, ay);
    for (row, &fy) in frame.rows_mut().zip(ay.iter()) {
        let done = simd::darken(row, ax, fy);
        let (px, _) = row.as_chunks_mut::<4>();
        for (p, &fx) in px.iter_mut().zip(ax.iter()).skip(done) {
            let q = (256 - fx - fy).clamp(0, 256) as u32;
            for c in &mut p[..3] {
                *c = ((u32::from(*c) * q + 128) >> 8) as u8;
            }
        }
    }
}
