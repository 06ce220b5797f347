//! Full-resolution rows: the refined alpha of each pixel, and blending the person over a
//! background. The integer blends are within 1 of `(fg·a + bg·(255 − a)) / 255`.

use super::resample::luma01;

/// The guided filter's coefficients for one frame row: rows `0` and `1` of the
/// coefficient planes (already upsampled to the frame's width) and the weight `t` of row 1.
pub(crate) struct CoefRows<'a> {
    pub a0: &'a [f32],
    pub a1: &'a [f32],
    pub b0: &'a [f32],
    pub b1: &'a [f32],
    pub t: f32,
}

/// Alpha (0 = background, 255 = person) of one frame row: the interpolated coefficients
/// applied to each pixel's luma, `q = a·luma + b`, mapped through the edge ramp
/// `(q − ½)·inv_soft + ½`.
pub(crate) fn alpha_row(rgba: &[u8], rows: &CoefRows<'_>, inv_soft: f32, out: &mut [u8]) {
    let (px, _) = rgba.as_chunks::<4>();
    let n = out.len();
    let (a0, a1, b0, b1) = (&rows.a0[..n], &rows.a1[..n], &rows.b0[..n], &rows.b1[..n]);
    let t = rows.t;
    for (x, (o, p)) in out.iter_mut().zip(px).enumerate() {
        let a = a0[x] + (a1[x] - a0[x]) * t;
        let b = b0[x] + (b1[x] - b0[x]) * t;
        let luma = luma01(f32::from(p[0]), f32::from(p[1]), f32::from(p[2]));
        // Not `mul_add`: without the FMA target feature that is a slow libm call.
        let q = a * luma + b;
        let alpha = ((q - 0.5) * inv_soft + 0.5).clamp(0.0, 1.0);
        *o = (alpha * 255.0 + 0.5) as u8;
    }
}

/// `bg + (fg − bg)·a/255`, rounded (`x·257 + 2¹⁵ >> 16` is `x/255` to within one half).
#[inline]
fn mix(fg: u8, bg: u8, a: u8) -> u8 {
    let d = (i32::from(fg) - i32::from(bg)) * i32::from(a);
    (i32::from(bg) + ((d * 257 + 32_768) >> 16)) as u8
}

/// The person (`alpha`) over the background row `bg` (RGBA, same width); alpha stays.
pub(crate) fn blend_row(row: &mut [u8], alpha: &[u8], bg: &[u8]) {
    let (px, _) = row.as_chunks_mut::<4>();
    let (bg, _) = bg.as_chunks::<4>();
    for ((p, b), &a) in px.iter_mut().zip(bg).zip(alpha) {
        for c in 0..3 {
            p[c] = mix(p[c], b[c], a);
        }
    }
}

/// The person (`alpha`) over one colour; alpha stays.
pub(crate) fn blend_color_row(row: &mut [u8], alpha: &[u8], rgb: [u8; 3]) {
    let (px, _) = row.as_chunks_mut::<4>();
    for (p, &a) in px.iter_mut().zip(alpha) {
        for c in 0..3 {
            p[c] = mix(p[c], rgb[c], a);
        }
    }
}
