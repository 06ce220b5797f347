//! The conversion one pixel at a time, as it was before the simd128 steps: the definition the
//! fast path is tested against, byte for byte (tests only).

use super::{
    Chroma,
    coefficients::{Coefficients, ColorSpace, clamp},
};

/// `yuv420_to_rgba` for planes the caller has already validated.
pub(super) fn yuv420_to_rgba(
    (y, y_stride): (&[u8], usize),
    chroma: Chroma<'_>,
    (width, height): (u32, u32),
    space: ColorSpace,
    out: &mut [u8],
) {
    let (w, h) = (width as usize, height as usize);
    let cw = w.div_ceil(2);
    let k = Coefficients::new(space);
    let mut us = vec![0i32; cw];
    let mut vs = vec![0i32; cw];
    for row in 0..h {
        let crow = row / 2;
        if row % 2 == 0 {
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
}
