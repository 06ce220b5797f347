//! Camera frames into RGBA8: 4:2:0 YUV (`I420`: three planes; `NV12`: a luma plane and one
//! interleaved chroma plane), BT.601 or BT.709, limited or full range.
//!
//! The frame workers need it: in Chromium, `VideoFrame.copyTo` with a format conversion
//! (and drawing a frame on a canvas) waits for the page's main thread, while a copy in the
//! frame's own YUV layout does not. Integer arithmetic (16 fractional bits), so native
//! and wasm32 give the same bytes.
//!
//! The conversion works a chroma row at a time: its samples become per-pixel `i32` terms
//! (`rv·v`, `−gu·u − gv·v`, `bu·u`, each pixel of a pair getting its sample's) that both luma
//! rows of the pair then add to their scaled luma. `wasm32.rs` does the leading whole vectors
//! of both steps in simd128 (16 pixels, 8 chroma samples at a time) and this file the rest;
//! `portable.rs` stands in on other targets and does nothing. `reference.rs` (tests only) is
//! the plain per-pixel loop the fast path must equal byte for byte.

// One of the two under one name, so that the conversion has no cfg of its own.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod portable;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use portable as simd;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm32;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use wasm32 as simd;

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;

mod coefficients;

use thiserror::Error;

use self::coefficients::{Coefficients, Terms, clamp};
pub use self::coefficients::{ColorSpace, Matrix};

/// The chroma planes of a 4:2:0 frame (each `ceil(width / 2)` × `ceil(height / 2)`).
#[derive(Clone, Copy, Debug)]
pub enum Chroma<'a> {
    /// `I420`: separate U and V planes.
    Planar {
        u: &'a [u8],
        u_stride: usize,
        v: &'a [u8],
        v_stride: usize,
    },
    /// `NV12`: U and V interleaved in one plane, `stride` bytes per row.
    Interleaved { uv: &'a [u8], stride: usize },
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum YuvError {
    #[error("a {width}×{height} frame needs {needed} bytes in its {plane} plane, got {got}")]
    ShortPlane {
        plane: &'static str,
        width: u32,
        height: u32,
        needed: usize,
        got: usize,
    },
}

fn check(
    plane: &'static str,
    data: &[u8],
    stride: usize,
    row_bytes: usize,
    rows: usize,
    (width, height): (u32, u32),
) -> Result<(), YuvError> {
    let needed = if rows == 0 {
        0
    } else {
        stride.max(row_bytes) * (rows - 1) + row_bytes
    };
    if data.len() < needed || stride < row_bytes {
        return Err(YuvError::ShortPlane {
            plane,
            width,
            height,
            needed,
            got: data.len(),
        });
    }
    Ok(())
}

/// Converts a `width`×`height` 4:2:0 frame into `out` (RGBA8, `width * height * 4` bytes,
/// alpha 255). Planes shorter than their strides and sizes say are an error, not a panic.
pub fn yuv420_to_rgba(
    (y, y_stride): (&[u8], usize),
    chroma: Chroma<'_>,
    (width, height): (u32, u32),
    space: ColorSpace,
    out: &mut [u8],
) -> Result<(), YuvError> {
    validate((y, y_stride), chroma, (width, height), out)?;
    let (w, h) = (width as usize, height as usize);
    let cw = w.div_ceil(2);
    let k = Coefficients::new(space);
    // Per-pixel terms: `2 * cw` covers an odd width's last, unpaired pixel.
    let mut terms = Terms {
        r: vec![0; 2 * cw],
        g: vec![0; 2 * cw],
        b: vec![0; 2 * cw],
    };
    for row in 0..h {
        let crow = row / 2;
        if row % 2 == 0 {
            // Chroma rows serve two luma rows: their terms are computed once per pair.
            match chroma {
                Chroma::Planar {
                    u,
                    u_stride,
                    v,
                    v_stride,
                } => {
                    let (u, v) = (&u[crow * u_stride..][..cw], &v[crow * v_stride..][..cw]);
                    let done = simd::planar_terms(u, v, &k, &mut terms);
                    for (s, (&u, &v)) in u.iter().zip(v).enumerate().skip(done) {
                        terms.set(s, &k, u, v);
                    }
                }
                Chroma::Interleaved { uv, stride } => {
                    let uv = &uv[crow * stride..][..cw * 2];
                    let done = simd::interleaved_terms(uv, &k, &mut terms);
                    for (s, pair) in uv.chunks_exact(2).enumerate().skip(done) {
                        terms.set(s, &k, pair[0], pair[1]);
                    }
                }
            }
        }
        let luma = &y[row * y_stride..][..w];
        let dst = &mut out[row * w * 4..][..w * 4];
        let done = simd::rgba_row(luma, &terms, &k, dst);
        let (r, g, b) = (&terms.r, &terms.g, &terms.b);
        for (x, (px, &l)) in dst.chunks_exact_mut(4).zip(luma).enumerate().skip(done) {
            let yy = (i32::from(l) - k.y_offset) * k.y + 32768;
            px[0] = clamp((yy + r[x]) >> 16);
            px[1] = clamp((yy + g[x]) >> 16);
            px[2] = clamp((yy + b[x]) >> 16);
            px[3] = 255;
        }
    }
    Ok(())
}

/// Every plane holds what the sizes and strides say.
fn validate(
    (y, y_stride): (&[u8], usize),
    chroma: Chroma<'_>,
    (width, height): (u32, u32),
    out: &[u8],
) -> Result<(), YuvError> {
    let (w, h) = (width as usize, height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    check("Y", y, y_stride, w, h, (width, height))?;
    match chroma {
        Chroma::Planar {
            u,
            u_stride,
            v,
            v_stride,
        } => {
            check("U", u, u_stride, cw, ch, (width, height))?;
            check("V", v, v_stride, cw, ch, (width, height))?;
        }
        Chroma::Interleaved { uv, stride } => {
            check("UV", uv, stride, cw * 2, ch, (width, height))?;
        }
    }
    check("RGBA", out, w * 4, w * 4, h, (width, height))
}
