//! Plain reference implementations, written from each filter's definition with no concern
//! for speed: per pixel, clamped coordinates, floats where the definition is a formula.
//! Every reference has the shape `Img -> Img` and indexes like the formulas it copies.

#![allow(clippy::needless_pass_by_value, clippy::needless_range_loop)]

/// An RGBA image for the references.
#[derive(Clone)]
pub struct Img {
    pub w: usize,
    pub h: usize,
    pub data: Vec<u8>,
}

impl Img {
    pub fn new(data: &[u8], w: u32, h: u32) -> Self {
        Self {
            w: w as usize,
            h: h as usize,
            data: data.to_vec(),
        }
    }

    /// Channel `c` at (x, y), coordinates clamped into the image (replicated borders).
    pub fn at(&self, x: isize, y: isize, c: usize) -> u8 {
        let x = x.clamp(0, self.w as isize - 1) as usize;
        let y = y.clamp(0, self.h as isize - 1) as usize;
        self.data[(y * self.w + x) * 4 + c]
    }

    pub fn set(&mut self, x: usize, y: usize, c: usize, v: u8) {
        self.data[(y * self.w + x) * 4 + c] = v;
    }

    pub fn luma(&self, x: isize, y: isize) -> i32 {
        i32::from(luma(self.at(x, y, 0), self.at(x, y, 1), self.at(x, y, 2)))
    }

    /// Applies `f` to R, G, B of every pixel (alpha kept).
    pub fn map_rgb(mut self, f: impl Fn([u8; 3]) -> [u8; 3]) -> Self {
        for px in self.data.chunks_exact_mut(4) {
            let out = f([px[0], px[1], px[2]]);
            px[..3].copy_from_slice(&out);
        }
        self
    }
}

fn round_u8(v: f64) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// BT.601 luma with Q8 weights 77, 150, 29, rounded.
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    round_u8((77.0 * f64::from(r) + 150.0 * f64::from(g) + 29.0 * f64::from(b)) / 256.0)
}

pub fn grayscale(img: Img) -> Img {
    img.map_rgb(|[r, g, b]| [luma(r, g, b); 3])
}

pub fn invert(img: Img) -> Img {
    img.map_rgb(|p| p.map(|c| 255 - c))
}

pub fn brightness(img: Img, v: f64) -> Img {
    let k = (v * 255.0).round();
    img.map_rgb(|p| p.map(|c| round_u8(f64::from(c) + k)))
}

pub fn contrast(img: Img, v: f64) -> Img {
    img.map_rgb(|p| p.map(|c| round_u8((f64::from(c) - 127.5) * v + 127.5)))
}

/// Contrast exactly as the crate defines it: the formula in `f32`, rounded half away from 0.
pub fn contrast_f32(img: Img, v: f32) -> Img {
    img.map_rgb(|p| {
        p.map(|c| {
            ((f32::from(c) - 127.5) * v + 127.5)
                .round()
                .clamp(0.0, 255.0) as u8
        })
    })
}

pub fn gamma(img: Img, v: f64) -> Img {
    img.map_rgb(|p| p.map(|c| round_u8(255.0 * (f64::from(c) / 255.0).powf(1.0 / v))))
}

pub fn threshold(img: Img, level: u8) -> Img {
    img.map_rgb(|[r, g, b]| [if luma(r, g, b) >= level { 255 } else { 0 }; 3])
}

pub fn posterize(img: Img, n: u32) -> Img {
    let steps = f64::from(n - 1);
    img.map_rgb(|p| p.map(|c| round_u8((f64::from(c) * steps / 255.0).round() * 255.0 / steps)))
}

fn matrix(img: Img, m: [[f64; 3]; 3]) -> Img {
    img.map_rgb(|p| {
        let v = p.map(f64::from);
        m.map(|w| round_u8(w[0] * v[0] + w[1] * v[1] + w[2] * v[2]))
    })
}

pub fn sepia(img: Img, a: f64) -> Img {
    let s = [
        [0.393, 0.769, 0.189],
        [0.349, 0.686, 0.168],
        [0.272, 0.534, 0.131],
    ];
    let mut m = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            m[i][j] = (1.0 - a) * f64::from(u8::from(i == j)) + a * s[i][j];
        }
    }
    matrix(img, m)
}

pub fn saturation(img: Img, s: f64) -> Img {
    let l = [0.299, 0.587, 0.114];
    let mut m = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            m[i][j] = (1.0 - s) * l[j] + s * f64::from(u8::from(i == j));
        }
    }
    matrix(img, m)
}

/// One-dimensional weighted mean along x (`horizontal`) or y, rounded to bytes; all four
/// channels. `weights` sum to `total`.
fn pass(img: &Img, weights: &[u64], total: u64, horizontal: bool) -> Img {
    let r = (weights.len() / 2) as isize;
    let mut out = img.clone();
    for y in 0..img.h {
        for x in 0..img.w {
            for c in 0..4 {
                let mut sum = 0u64;
                for (k, w) in weights.iter().enumerate() {
                    let d = k as isize - r;
                    let (sx, sy) = if horizontal {
                        (x as isize + d, y as isize)
                    } else {
                        (x as isize, y as isize + d)
                    };
                    sum += w * u64::from(img.at(sx, sy, c));
                }
                out.set(x, y, c, ((sum as f64) / (total as f64)).round() as u8);
            }
        }
    }
    out
}

pub fn box_blur(img: Img, r: usize) -> Img {
    let weights = vec![1; 2 * r + 1];
    let total = weights.len() as u64;
    let h = pass(&img, &weights, total, true);
    pass(&h, &weights, total, false)
}

/// exp(-k²/2σ²) for k in -⌈3σ⌉..=⌈3σ⌉ (at most 30), scaled to sum 256, remainder on the
/// centre tap.
pub fn gaussian_weights(sigma: f64) -> Vec<u64> {
    let r = ((3.0 * sigma).ceil().max(1.0) as i64).min(30);
    let raw: Vec<f64> = (-r..=r)
        .map(|k| (-(k * k) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = raw.iter().sum();
    let mut w: Vec<u64> = raw
        .iter()
        .map(|v| (v / total * 256.0).round() as u64)
        .collect();
    let sum: u64 = w.iter().sum();
    w[r as usize] = w[r as usize] + 256 - sum;
    w
}

pub fn gaussian(img: Img, sigma: f64) -> Img {
    let w = gaussian_weights(sigma);
    let h = pass(&img, &w, 256, true);
    pass(&h, &w, 256, false)
}

pub fn sharpen(img: Img, amount: f64, sigma: f64) -> Img {
    let soft = gaussian(img.clone(), sigma);
    let a = (amount * 256.0).round() as i64;
    let mut out = img.clone();
    for (i, v) in out.data.iter_mut().enumerate() {
        if i % 4 == 3 {
            continue;
        }
        let x = i64::from(img.data[i]);
        let detail = ((x - i64::from(soft.data[i])) * a + 128).div_euclid(256);
        *v = (x + detail).clamp(0, 255) as u8;
    }
    out
}

/// Sobel gradients of the luma at (x, y).
pub fn sobel_at(x: usize, y: usize, lum: &dyn Fn(isize, isize) -> i32) -> (i32, i32) {
    let (x, y) = (x as isize, y as isize);
    let gx = (lum(x + 1, y - 1) + 2 * lum(x + 1, y) + lum(x + 1, y + 1))
        - (lum(x - 1, y - 1) + 2 * lum(x - 1, y) + lum(x - 1, y + 1));
    let gy = (lum(x - 1, y + 1) + 2 * lum(x, y + 1) + lum(x + 1, y + 1))
        - (lum(x - 1, y - 1) + 2 * lum(x, y - 1) + lum(x + 1, y - 1));
    (gx, gy)
}

fn grey(mut img: Img, value: impl Fn(usize, usize) -> u8) -> Img {
    for y in 0..img.h {
        for x in 0..img.w {
            let v = value(x, y);
            for c in 0..3 {
                img.set(x, y, c, v);
            }
        }
    }
    img
}

pub fn sobel(img: Img) -> Img {
    let src = img.clone();
    let lum = |x, y| src.luma(x, y);
    grey(img, |x, y| {
        let (gx, gy) = sobel_at(x, y, &lum);
        i32::midpoint(gx.abs(), gy.abs()).min(255) as u8
    })
}

pub fn emboss(img: Img) -> Img {
    let src = img.clone();
    grey(img, |x, y| {
        let (x, y) = (x as isize, y as isize);
        let light = src.luma(x + 1, y + 1) + src.luma(x + 1, y) + src.luma(x, y + 1);
        let dark = src.luma(x - 1, y - 1) + src.luma(x - 1, y) + src.luma(x, y - 1);
        (128 + light - dark).clamp(0, 255) as u8
    })
}

pub fn canny(img: Img, lo: i32, hi: i32) -> Img {
    let (lo, hi) = (lo.min(hi), hi.max(lo));
    let (w, h) = (img.w, img.h);
    // Luma plane as a grey image, blurred by [1 4 6 4 1]/16 each way with rounding.
    let lum_img = grayscale(img.clone());
    let b = [1, 4, 6, 4, 1];
    let smooth = pass(&pass(&lum_img, &b, 16, true), &b, 16, false);
    let lum = |x, y| i32::from(smooth.at(x, y, 0));
    let mut mag = vec![0i32; w * h];
    let mut grad = vec![(0, 0); w * h];
    for y in 0..h {
        for x in 0..w {
            let (gx, gy) = sobel_at(x, y, &lum);
            mag[y * w + x] = gx.abs() + gy.abs();
            grad[y * w + x] = (gx, gy);
        }
    }
    // Non-maximum suppression by angle, then double threshold.
    let mut class = vec![0u8; w * h];
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let m = mag[y * w + x];
            if m < lo || m == 0 {
                continue;
            }
            let (gx, gy) = grad[y * w + x];
            let (ax, ay) = (gx.abs(), gy.abs());
            let (dx, dy): (isize, isize) = if f64::from(ay) * 256.0 <= f64::from(ax) * 106.0 {
                (1, 0)
            } else if f64::from(ax) * 256.0 <= f64::from(ay) * 106.0 {
                (0, 1)
            } else if (gx > 0) == (gy > 0) {
                (1, 1)
            } else {
                (-1, 1)
            };
            let at = |dx: isize, dy: isize| {
                mag[(y as isize + dy) as usize * w + (x as isize + dx) as usize]
            };
            if m > at(-dx, -dy) && m >= at(dx, dy) {
                class[y * w + x] = if m >= hi { 2 } else { 1 };
            }
        }
    }
    // Hysteresis by repeated sweeps until nothing changes.
    loop {
        let mut changed = false;
        for y in 1..h.saturating_sub(1) {
            for x in 1..w.saturating_sub(1) {
                if class[y * w + x] != 1 {
                    continue;
                }
                let strong_neighbour = (-1..=1).any(|dy: isize| {
                    (-1..=1).any(|dx: isize| {
                        class[(y as isize + dy) as usize * w + (x as isize + dx) as usize] == 2
                    })
                });
                if strong_neighbour {
                    class[y * w + x] = 2;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    grey(img, |x, y| if class[y * w + x] == 2 { 255 } else { 0 })
}

pub fn cartoon(img: Img, r: usize, levels: u32, edge: i32) -> Img {
    let soft = box_blur(img, r);
    let src = soft.clone();
    let lum = |x, y| src.luma(x, y);
    let mut out = posterize(soft, levels);
    for y in 0..out.h {
        for x in 0..out.w {
            let (gx, gy) = sobel_at(x, y, &lum);
            if i32::midpoint(gx.abs(), gy.abs()).min(255) > edge {
                for c in 0..3 {
                    out.set(x, y, c, 0);
                }
            }
        }
    }
    out
}

pub fn pixelate(img: Img, s: usize) -> Img {
    let mut out = img.clone();
    for by in (0..img.h).step_by(s) {
        for bx in (0..img.w).step_by(s) {
            let (ex, ey) = ((bx + s).min(img.w), (by + s).min(img.h));
            let n = ((ex - bx) * (ey - by)) as f64;
            for c in 0..4 {
                let mut sum = 0.0;
                for y in by..ey {
                    for x in bx..ex {
                        sum += f64::from(img.at(x as isize, y as isize, c));
                    }
                }
                let mean = (sum / n).round() as u8;
                for y in by..ey {
                    for x in bx..ex {
                        out.set(x, y, c, mean);
                    }
                }
            }
        }
    }
    out
}

pub fn vignette(img: Img, v: f64) -> Img {
    let mut out = img.clone();
    for y in 0..img.h {
        for x in 0..img.w {
            let u = (2.0 * x as f64 + 1.0 - img.w as f64) / img.w as f64;
            let t = (2.0 * y as f64 + 1.0 - img.h as f64) / img.h as f64;
            let q = (256.0 - (128.0 * v * u * u).round() - (128.0 * v * t * t).round())
                .clamp(0.0, 256.0);
            for c in 0..3 {
                let value = (f64::from(img.at(x as isize, y as isize, c)) * q / 256.0).round();
                out.set(x, y, c, value as u8);
            }
        }
    }
    out
}

pub fn mirror(img: Img) -> Img {
    let mut out = img.clone();
    for y in 0..img.h {
        for x in 0..img.w {
            for c in 0..4 {
                out.set(x, y, c, img.at((img.w - 1 - x) as isize, y as isize, c));
            }
        }
    }
    out
}

/// Motion marks on `now` given the previous frame `before`.
pub fn motion(before: &Img, now: Img, t: i32) -> Img {
    let mut out = now.clone();
    for y in 0..now.h {
        for x in 0..now.w {
            let (x, y) = (x as isize, y as isize);
            if (now.luma(x, y) - before.luma(x, y)).abs() > t {
                let (ux, uy) = (x as usize, y as usize);
                out.set(ux, uy, 0, 255);
                out.set(ux, uy, 1, now.at(x, y, 1) / 2);
                out.set(ux, uy, 2, now.at(x, y, 2) / 2);
            }
        }
    }
    out
}
