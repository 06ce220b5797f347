//! Camera frames into RGBA8: 4:2:0 YUV (`I420`: three planes; `NV12`: a luma plane and one
//! interleaved chroma plane), BT.601 or BT.709, limited or full range.
//!
//! The frame workers need it: in Chromium, `VideoFrame.copyTo` with a format conversion
//! (and drawing a frame on a canvas) waits for the page's main thread, while a copy in the
//! frame's own YUV layout does not. Integer arithmetic (16 fractional bits), so native
//! and wasm32 give the same bytes.

use thiserror::Error;

/// The YUV → RGB matrix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Matrix {
    /// SD video and most webcams (`smpte170m`, `bt470bg`).
    #[default]
    Bt601,
    /// HD video (`bt709`).
    Bt709,
}

/// How a frame's YUV values map to colours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ColorSpace {
    pub matrix: Matrix,
    /// Full range (0–255) rather than limited (16–235 luma, 16–240 chroma).
    pub full_range: bool,
}

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

/// Fixed-point coefficients, scaled by 2^16.
struct Coefficients {
    y_offset: i32,
    y: i32,
    rv: i32,
    gu: i32,
    gv: i32,
    bu: i32,
}

impl Coefficients {
    fn new(space: ColorSpace) -> Self {
        let (kr, kg_u, kg_v, kb) = match space.matrix {
            Matrix::Bt601 => (1.402, 0.344_136, 0.714_136, 1.772),
            Matrix::Bt709 => (1.5748, 0.187_324, 0.468_124, 1.8556),
        };
        let (y_offset, y_scale, c_scale) = if space.full_range {
            (0, 1.0, 1.0)
        } else {
            (16, 255.0 / 219.0, 255.0 / 224.0)
        };
        let fixed = |v: f64| (v * 65536.0).round() as i32;
        Self {
            y_offset,
            y: fixed(y_scale),
            rv: fixed(kr * c_scale),
            gu: fixed(kg_u * c_scale),
            gv: fixed(kg_v * c_scale),
            bu: fixed(kb * c_scale),
        }
    }
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
    check("RGBA", out, w * 4, w * 4, h, (width, height))?;
    let k = Coefficients::new(space);
    let mut us = vec![0i32; cw];
    let mut vs = vec![0i32; cw];
    for row in 0..h {
        let crow = row / 2;
        if row % 2 == 0 {
            // Chroma rows serve two luma rows: centre them once per pair.
            match chroma {
                Chroma::Planar {
                    u,
                    u_stride,
                    v,
                    v_stride,
                } => {
                    let (u, v) = (&u[crow * u_stride..][..cw], &v[crow * v_stride..][..cw]);
                    for ((du, dv), (&su, &sv)) in us.iter_mut().zip(&mut vs).zip(u.iter().zip(v)) {
                        *du = i32::from(su) - 128;
                        *dv = i32::from(sv) - 128;
                    }
                }
                Chroma::Interleaved { uv, stride } => {
                    let uv = &uv[crow * stride..][..cw * 2];
                    for ((du, dv), pair) in us.iter_mut().zip(&mut vs).zip(uv.chunks_exact(2)) {
                        *du = i32::from(pair[0]) - 128;
                        *dv = i32::from(pair[1]) - 128;
                    }
                }
            }
        }
        let luma = &y[row * y_stride..][..w];
        let dst = &mut out[row * w * 4..][..w * 4];
        // Two pixels share one chroma sample: its three terms are computed once per pair.
        let mut pixels = dst.chunks_exact_mut(4).zip(luma);
        for (&u, &v) in us.iter().zip(&vs) {
            let (r, g, b) = (k.rv * v, -k.gu * u - k.gv * v, k.bu * u);
            for (px, &l) in pixels.by_ref().take(2) {
                let yy = (i32::from(l) - k.y_offset) * k.y + 32768;
                px[0] = clamp((yy + r) >> 16);
                px[1] = clamp((yy + g) >> 16);
                px[2] = clamp((yy + b) >> 16);
                px[3] = 255;
            }
        }
    }
    Ok(())
}

#[inline]
fn clamp(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook conversion in floating point.
    fn reference(y: u8, u: u8, v: u8, space: ColorSpace) -> [u8; 3] {
        let (kr, kgu, kgv, kb) = match space.matrix {
            Matrix::Bt601 => (1.402, 0.344_136, 0.714_136, 1.772),
            Matrix::Bt709 => (1.5748, 0.187_324, 0.468_124, 1.8556),
        };
        let (yf, uf, vf) = if space.full_range {
            (f64::from(y), f64::from(u) - 128.0, f64::from(v) - 128.0)
        } else {
            (
                (f64::from(y) - 16.0) * 255.0 / 219.0,
                (f64::from(u) - 128.0) * 255.0 / 224.0,
                (f64::from(v) - 128.0) * 255.0 / 224.0,
            )
        };
        let c = |x: f64| x.round().clamp(0.0, 255.0) as u8;
        [
            c(yf + kr * vf),
            c(yf - kgu * uf - kgv * vf),
            c(yf + kb * uf),
        ]
    }

    fn spaces() -> [ColorSpace; 4] {
        [
            ColorSpace::default(),
            ColorSpace {
                matrix: Matrix::Bt709,
                full_range: false,
            },
            ColorSpace {
                matrix: Matrix::Bt601,
                full_range: true,
            },
            ColorSpace {
                matrix: Matrix::Bt709,
                full_range: true,
            },
        ]
    }

    /// A 5×3 frame (odd sizes: the last chroma column and row cover one pixel) with
    /// padded strides, as I420 and as NV12, against the reference.
    #[test]
    fn planar_and_interleaved_match_the_reference() {
        let (w, h) = (5_usize, 3_usize);
        let (cw, ch) = (3_usize, 2_usize);
        let y_stride = 8;
        let y: Vec<u8> = (0..y_stride * h).map(|i| (i * 37 % 256) as u8).collect();
        let u: Vec<u8> = (0..4 * ch).map(|i| (i * 71 % 256) as u8).collect();
        let v: Vec<u8> = (0..4 * ch).map(|i| (255 - i * 53 % 256) as u8).collect();
        let mut uv = vec![0u8; 7 * ch];
        for r in 0..ch {
            for c in 0..cw {
                uv[r * 7 + 2 * c] = u[r * 4 + c];
                uv[r * 7 + 2 * c + 1] = v[r * 4 + c];
            }
        }
        for space in spaces() {
            let mut planar = vec![0u8; w * h * 4];
            let mut interleaved = vec![0u8; w * h * 4];
            let chroma = Chroma::Planar {
                u: &u,
                u_stride: 4,
                v: &v,
                v_stride: 4,
            };
            yuv420_to_rgba((&y, y_stride), chroma, (5, 3), space, &mut planar).expect("fits");
            let chroma = Chroma::Interleaved { uv: &uv, stride: 7 };
            yuv420_to_rgba((&y, y_stride), chroma, (5, 3), space, &mut interleaved).expect("fits");
            assert_eq!(planar, interleaved);
            for row in 0..h {
                for x in 0..w {
                    let c = (row / 2) * 4 + x / 2;
                    let want = reference(y[row * y_stride + x], u[c], v[c], space);
                    let got = &planar[(row * w + x) * 4..][..4];
                    for ch in 0..3 {
                        assert!(
                            (i32::from(got[ch]) - i32::from(want[ch])).abs() <= 1,
                            "{space:?} at {x},{row}: {got:?} vs {want:?}"
                        );
                    }
                    assert_eq!(got[3], 255);
                }
            }
        }
    }

    #[test]
    fn limited_range_black_and_white() {
        let mut out = vec![0u8; 8];
        let chroma = Chroma::Planar {
            u: &[128],
            u_stride: 1,
            v: &[128],
            v_stride: 1,
        };
        yuv420_to_rgba(
            (&[16, 235], 2),
            chroma,
            (2, 1),
            ColorSpace::default(),
            &mut out,
        )
        .expect("fits");
        assert_eq!(out, [0, 0, 0, 255, 255, 255, 255, 255]);
    }

    #[test]
    fn short_planes_are_errors() {
        let mut out = vec![0u8; 4 * 4 * 4];
        let chroma = Chroma::Planar {
            u: &[0; 4],
            u_stride: 2,
            v: &[0; 3],
            v_stride: 2,
        };
        let err = yuv420_to_rgba(
            (&[0; 16], 4),
            chroma,
            (4, 4),
            ColorSpace::default(),
            &mut out,
        );
        assert!(matches!(err, Err(YuvError::ShortPlane { plane: "V", .. })));
        let chroma = Chroma::Interleaved {
            uv: &[0; 8],
            stride: 4,
        };
        let err = yuv420_to_rgba(
            (&[0; 15], 4),
            chroma,
            (4, 4),
            ColorSpace::default(),
            &mut out,
        );
        assert!(matches!(err, Err(YuvError::ShortPlane { plane: "Y", .. })));
        let err = yuv420_to_rgba(
            (&[0; 16], 4),
            chroma,
            (4, 4),
            ColorSpace::default(),
            &mut [0; 8],
        );
        assert!(matches!(
            err,
            Err(YuvError::ShortPlane { plane: "RGBA", .. })
        ));
    }
}
