//! Low-resolution mask refinement: temporal smoothing, then the coefficients of a guided
//! filter (He, Sun, Tang, "Guided Image Filtering", 2013) that the full-resolution pass
//! applies against the full-resolution luma ("fast guided filter": the coefficients are
//! smooth, so computing them at the model's size and upsampling them loses little).
//!
//! For a window around each pixel, `q = a·I + b` is the least-squares fit of the mask `p` by
//! the guide `I` (luma); with `a = cov(I, p) / (var(I) + eps)` the mask's edge snaps to the
//! frame's edges where the frame has one, and stays smooth where it has none.

/// Window radius at the model's resolution (at 720p and 256×144, 2 is about 10 pixels).
pub const RADIUS: usize = 2;
/// Regularisation: larger keeps the mask as the model gave it, smaller follows the luma.
pub const EPS: f32 = 1e-3;

/// Blends the new `mask` into `smoothed`: halfway for changes up to ¼ (the model's flicker),
/// then more, all the way from ½ on (motion), so the edge holds still without trailing a
/// moving person by more than a frame.
pub(crate) fn smooth(mask: &[f32], smoothed: &mut [f32]) {
    for (s, &m) in smoothed.iter_mut().zip(mask) {
        let d = m - *s;
        let k = (2.0 * d.abs()).clamp(0.5, 1.0);
        *s += k * d;
    }
}

/// Mean over the `(2r+1)²` window clamped to the `w × h` plane, separably; `tmp` is one plane.
fn box_mean(src: &[f32], w: usize, h: usize, r: usize, tmp: &mut [f32], out: &mut [f32]) {
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            tmp[y * w + x] = row[x0..x1].iter().sum::<f32>() / (x1 - x0) as f32;
        }
    }
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        let n = (y1 - y0) as f32;
        for x in 0..w {
            let mut s = 0.0;
            for yy in y0..y1 {
                s += tmp[yy * w + x];
            }
            out[y * w + x] = s / n;
        }
    }
}

/// Working planes of the guided filter, each `w × h`.
#[derive(Debug, Default)]
pub(crate) struct Planes {
    tmp: Vec<f32>,
    prod: Vec<f32>,
    mean_i: Vec<f32>,
    mean_p: Vec<f32>,
    corr_ip: Vec<f32>,
    corr_ii: Vec<f32>,
}

/// The guided filter's coefficient planes `a` and `b` (already window-averaged), for guide
/// `guide` and mask `p`, all `w × h`.
pub(crate) fn coefficients(
    guide: &[f32],
    p: &[f32],
    w: usize,
    h: usize,
    planes: &mut Planes,
    a: &mut Vec<f32>,
    b: &mut Vec<f32>,
) {
    let n = w * h;
    for v in [
        &mut planes.tmp,
        &mut planes.prod,
        &mut planes.mean_i,
        &mut planes.mean_p,
        &mut planes.corr_ip,
        &mut planes.corr_ii,
    ] {
        v.resize(n, 0.0);
    }
    a.resize(n, 0.0);
    b.resize(n, 0.0);
    let Planes {
        tmp,
        prod,
        mean_i,
        mean_p,
        corr_ip,
        corr_ii,
    } = planes;
    box_mean(guide, w, h, RADIUS, tmp, mean_i);
    box_mean(p, w, h, RADIUS, tmp, mean_p);
    for ((o, &i), &q) in prod.iter_mut().zip(guide).zip(p) {
        *o = i * q;
    }
    box_mean(prod, w, h, RADIUS, tmp, corr_ip);
    for (o, &i) in prod.iter_mut().zip(guide) {
        *o = i * i;
    }
    box_mean(prod, w, h, RADIUS, tmp, corr_ii);
    for k in 0..n {
        let var = corr_ii[k] - mean_i[k] * mean_i[k];
        let cov = corr_ip[k] - mean_i[k] * mean_p[k];
        let ak = cov / (var + EPS);
        prod[k] = ak;
        corr_ip[k] = mean_p[k] - ak * mean_i[k];
    }
    box_mean(prod, w, h, RADIUS, tmp, a);
    box_mean(corr_ip, w, h, RADIUS, tmp, b);
}
