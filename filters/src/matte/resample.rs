//! Frame → model input (area average) and the bilinear coordinate maps back up.

use crate::{frame::Frame, scratch::grow};

/// Luma of 8-bit RGB in `[0, 1]`: BT.601 weights in 1/256ths (the weights `grayscale`
/// uses), so the full-resolution guide and the downscaled one agree.
#[inline]
pub(crate) fn luma01(r: f32, g: f32, b: f32) -> f32 {
    (77.0 * r + 150.0 * g + 29.0 * b) * (1.0 / (256.0 * 255.0))
}

/// The source range `[start, end)` that output index `o` of `out` averages over `n` inputs:
/// the exact area for downscaling, at least one pixel when upscaling.
fn span(o: usize, out: usize, n: usize) -> (usize, usize) {
    let start = (o * n / out).min(n - 1);
    let end = ((o + 1) * n / out).clamp(start + 1, n);
    (start, end)
}

/// Averages `frame` down to `width × height`: `rgb` gets RGB in `[0, 1]` (3 floats a pixel,
/// row-major, the model input), `guide` the luma of each average (the guided filter's guide).
/// `sums` is working memory.
pub fn downscale(
    frame: &Frame<'_>,
    width: u32,
    height: u32,
    rgb: &mut [f32],
    guide: &mut [f32],
    sums: &mut Vec<u32>,
) {
    let (fw, fh) = (frame.width() as usize, frame.height() as usize);
    let (w, h) = (width as usize, height as usize);
    assert_eq!(rgb.len(), w * h * 3, "model input size");
    assert_eq!(guide.len(), w * h, "guide size");
    let sums = grow(sums, fw * 3);
    for oy in 0..h {
        let (y0, y1) = span(oy, h, fh);
        sums.fill(0);
        for y in y0..y1 {
            let (px, _) = frame.row(y as u32).as_chunks::<4>();
            for (s, p) in sums.chunks_exact_mut(3).zip(px) {
                s[0] += u32::from(p[0]);
                s[1] += u32::from(p[1]);
                s[2] += u32::from(p[2]);
            }
        }
        let out = &mut rgb[oy * w * 3..(oy + 1) * w * 3];
        for ox in 0..w {
            let (x0, x1) = span(ox, w, fw);
            let (mut r, mut g, mut b) = (0u32, 0u32, 0u32);
            for s in sums[x0 * 3..x1 * 3].chunks_exact(3) {
                r += s[0];
                g += s[1];
                b += s[2];
            }
            let n = ((x1 - x0) * (y1 - y0)) as f32;
            let (r, g, b) = (r as f32 / n, g as f32 / n, b as f32 / n);
            out[ox * 3] = r / 255.0;
            out[ox * 3 + 1] = g / 255.0;
            out[ox * 3 + 2] = b / 255.0;
            guide[oy * w + ox] = luma01(r, g, b);
        }
    }
}

/// Where output pixel `i` of `out` samples a grid of `n` (pixel centres aligned, as
/// image resizers do): the two neighbours and the weight of the second.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Tap {
    pub i0: u32,
    pub i1: u32,
    pub t: f32,
}

pub(crate) fn taps(out: usize, n: usize, taps: &mut Vec<Tap>) {
    taps.clear();
    let scale = n as f32 / out as f32;
    taps.extend((0..out).map(|o| {
        let s = ((o as f32 + 0.5) * scale - 0.5).clamp(0.0, (n - 1) as f32);
        let i0 = s.floor() as u32;
        Tap {
            i0,
            i1: (i0 + 1).min(n as u32 - 1),
            t: s - i0 as f32,
        }
    }));
}
