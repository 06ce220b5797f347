//! The segmentation kernels (`filters::matte`) against plain f64 references at awkward sizes,
//! and the `segment-*` stages in a pipeline with a segmenter whose mask is known.

mod common;

use common::{SIZES, contents, tests};
use filters::{
    Frame, MaskStatus, Matte, Pipeline, PipelineSpec, Segmenter,
    matte::{EPS, RADIUS},
};

/// Source range of output `o` of `out` over `n`: the exact area, at least one pixel.
fn span(o: usize, out: usize, n: usize) -> (usize, usize) {
    let start = (o * n / out).min(n - 1);
    (start, ((o + 1) * n / out).clamp(start + 1, n))
}

fn luma(r: f64, g: f64, b: f64) -> f64 {
    (77.0 * r + 150.0 * g + 29.0 * b) / (256.0 * 255.0)
}

/// The model input (RGB in [0, 1]) and the luma guide, pixel by pixel.
fn downscale_ref(data: &[u8], fw: usize, fh: usize, w: usize, h: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut rgb, mut guide) = (vec![], vec![]);
    for oy in 0..h {
        let (y0, y1) = span(oy, h, fh);
        for ox in 0..w {
            let (x0, x1) = span(ox, w, fw);
            let mut sum = [0.0; 3];
            for y in y0..y1 {
                for x in x0..x1 {
                    for c in 0..3 {
                        sum[c] += f64::from(data[(y * fw + x) * 4 + c]);
                    }
                }
            }
            let n = ((x1 - x0) * (y1 - y0)) as f64;
            let [r, g, b] = sum.map(|s| s / n);
            rgb.extend([r / 255.0, g / 255.0, b / 255.0]);
            guide.push(luma(r, g, b));
        }
    }
    (rgb, guide)
}

/// Mean over the window of radius RADIUS clamped to the plane.
fn mean(p: &[f64], w: usize, h: usize) -> Vec<f64> {
    let r = RADIUS;
    let mut out = vec![0.0; w * h];
    for y in 0..h {
        for x in 0..w {
            let (mut s, mut n) = (0.0, 0.0);
            for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                    s += p[yy * w + xx];
                    n += 1.0;
                }
            }
            out[y * w + x] = s / n;
        }
    }
    out
}

/// The guided filter's averaged coefficients, straight from the paper.
fn coefficients_ref(i: &[f64], p: &[f64], w: usize, h: usize) -> (Vec<f64>, Vec<f64>) {
    let (mi, mp) = (mean(i, w, h), mean(p, w, h));
    let ip: Vec<f64> = i.iter().zip(p).map(|(a, b)| a * b).collect();
    let ii: Vec<f64> = i.iter().map(|a| a * a).collect();
    let (mip, mii) = (mean(&ip, w, h), mean(&ii, w, h));
    let a: Vec<f64> = (0..w * h)
        .map(|k| (mip[k] - mi[k] * mp[k]) / (mii[k] - mi[k] * mi[k] + f64::from(EPS)))
        .collect();
    let b: Vec<f64> = (0..w * h).map(|k| mp[k] - a[k] * mi[k]).collect();
    (mean(&a, w, h), mean(&b, w, h))
}

/// Bilinear sample position of output `o` of `out` on a grid of `n`.
fn tap(o: usize, out: usize, n: usize) -> (usize, usize, f64) {
    let s = ((o as f64 + 0.5) * n as f64 / out as f64 - 0.5).clamp(0.0, (n - 1) as f64);
    let i0 = s.floor() as usize;
    (i0, (i0 + 1).min(n - 1), s - i0 as f64)
}

/// Alpha of every frame pixel from a model-size mask, all in f64.
fn alpha_ref(
    data: &[u8],
    fw: usize,
    fh: usize,
    w: usize,
    h: usize,
    mask: &[f32],
    soft: f64,
) -> Vec<u8> {
    let (_, guide) = downscale_ref(data, fw, fh, w, h);
    let p: Vec<f64> = mask.iter().map(|&m| f64::from(m)).collect();
    let (a, b) = coefficients_ref(&guide, &p, w, h);
    let mut out = vec![];
    for y in 0..fh {
        let (y0, y1, ty) = tap(y, fh, h);
        for x in 0..fw {
            let (x0, x1, tx) = tap(x, fw, w);
            let bil = |q: &[f64]| {
                let top = q[y0 * w + x0] * (1.0 - tx) + q[y0 * w + x1] * tx;
                let bottom = q[y1 * w + x0] * (1.0 - tx) + q[y1 * w + x1] * tx;
                top * (1.0 - ty) + bottom * ty
            };
            let px = &data[(y * fw + x) * 4..];
            let l = luma(f64::from(px[0]), f64::from(px[1]), f64::from(px[2]));
            let q = bil(&a) * l + bil(&b);
            let alpha = ((q - 0.5) / soft.max(1.0 / 255.0) + 0.5).clamp(0.0, 1.0);
            out.push((alpha * 255.0).round() as u8);
        }
    }
    out
}

/// A model-size mask with structure: a soft disc, a hard edge, and noise.
fn test_mask(w: usize, h: usize, seed: u64) -> Vec<f32> {
    let mut rng = common::Rng::new(seed);
    (0..w * h)
        .map(|k| {
            let (x, y) = ((k % w) as f32 / w as f32, (k / w) as f32 / h as f32);
            let disc = 1.0 - ((x - 0.5).powi(2) + (y - 0.4).powi(2)).sqrt() * 3.0;
            let edge = if x < 0.3 { 0.9 } else { 0.0 };
            (disc.max(edge) + rng.below(100) as f32 / 1000.0).clamp(0.0, 1.0)
        })
        .collect()
}

const MODEL_SIZES: [(u32, u32); 3] = [(256, 144), (7, 5), (1, 1)];

/// A segmenter whose mask is fixed: the stage's behaviour, without a model.
struct FixedMask(u32, u32, Vec<f32>);

impl Segmenter for FixedMask {
    fn input_size(&self) -> (u32, u32) {
        (self.0, self.1)
    }
    fn segment(&mut self, _input: &[f32], mask: &mut [f32]) -> MaskStatus {
        mask.copy_from_slice(&self.2);
        MaskStatus::Ready
    }
}

tests! {
    fn downscale_matches_the_area_average() {
        for (fw, fh) in SIZES {
            for (w, h) in MODEL_SIZES {
                let data = &contents(fw, fh)[1];
                let mut copy = data.clone();
                let frame = Frame::new(&mut copy, fw, fh).unwrap();
                let mut matte = Matte::new(w, h);
                let got = matte.prepare(&frame).to_vec();
                let (want, _) = downscale_ref(data, fw as usize, fh as usize, w as usize, h as usize);
                for (k, (g, r)) in got.iter().zip(&want).enumerate() {
                    assert!((f64::from(*g) - r).abs() < 1e-5, "{fw}x{fh} -> {w}x{h}: value {k}: {g} vs {r}");
                }
            }
        }
    }

    fn alpha_matches_the_guided_filter_reference() {
        for (fw, fh) in SIZES {
            for (w, h) in MODEL_SIZES {
                for soft in [0.0, 0.5, 1.0] {
                    let data = &contents(fw, fh)[1];
                    let mask = test_mask(w as usize, h as usize, u64::from(fw));
                    let mut copy = data.clone();
                    let frame = Frame::new(&mut copy, fw, fh).unwrap();
                    let mut matte = Matte::new(w, h);
                    matte.prepare(&frame);
                    matte.set_mask(&mask, false);
                    let got = matte.alpha(&frame, soft).to_vec();
                    let want = alpha_ref(data, fw as usize, fh as usize, w as usize, h as usize, &mask, f64::from(soft));
                    // soft = 0 is a step: a value a hair from ½ may land on either side.
                    let tolerance = if soft == 0.0 { 255 } else { 1 };
                    let bad = got.iter().zip(&want).filter(|(g, r)| g.abs_diff(**r) > 1).count();
                    let worst = got.iter().zip(&want).map(|(g, r)| g.abs_diff(*r)).max().unwrap();
                    assert!(worst <= tolerance, "{fw}x{fh} from {w}x{h}, soft {soft}: off by {worst}");
                    assert!(bad * 1000 <= got.len(), "{fw}x{fh} from {w}x{h}, soft {soft}: {bad} pixels off");
                }
            }
        }
    }

    fn segment_replace_blends_over_the_colour_exactly() {
        for (fw, fh) in SIZES {
            let (w, h) = (7, 5);
            let mask = test_mask(w as usize, h as usize, 3);
            for data in contents(fw, fh) {
                let want_alpha = alpha_ref(&data, fw as usize, fh as usize, w as usize, h as usize, &mask, 0.5);
                // The stage also runs on frames with padded rows.
                let stride = fw as usize * 4 + 12;
                let mut padded = vec![7u8; stride * fh as usize];
                for y in 0..fh as usize {
                    padded[y * stride..y * stride + fw as usize * 4].copy_from_slice(&data[y * fw as usize * 4..(y + 1) * fw as usize * 4]);
                }
                let mut pipeline = Pipeline::new("segment-replace:color=ff8000".parse::<PipelineSpec>().unwrap());
                pipeline.set_segmenter(Some(Box::new(FixedMask(w, h, mask.clone()))));
                pipeline.apply(&mut Frame::with_stride(&mut padded, fw, fh, stride).unwrap());
                assert_eq!(pipeline.segment_status(), Some(&MaskStatus::Ready));
                for y in 0..fh as usize {
                    assert!(padded[y * stride + fw as usize * 4..(y + 1) * stride].iter().all(|&b| b == 7), "padding touched");
                    for x in 0..fw as usize {
                        let (i, o) = ((y * fw as usize + x) * 4, y * stride + x * 4);
                        let a = f64::from(want_alpha[y * fw as usize + x]);
                        for (c, bg) in [255.0, 128.0, 0.0].into_iter().enumerate() {
                            let want = (f64::from(data[i + c]) * a + bg * (255.0 - a)) / 255.0;
                            let got = f64::from(padded[o + c]);
                            // 1 for the blend's rounding, and a little more where alpha itself
                            // is 1 off the reference.
                            assert!((got - want).abs() <= 2.0, "{fw}x{fh} ({x},{y}) channel {c}: {got} vs {want:.2}");
                        }
                        assert_eq!(padded[o + 3], data[i + 3], "alpha channel changed");
                    }
                }
            }
        }
    }

    fn segment_blur_keeps_the_person_and_changes_the_background() {
        let (fw, fh) = (65, 33);
        let (w, h) = (13, 7);
        // Left third person (1), the rest background (0).
        let mask: Vec<f32> = (0..w * h).map(|k| if k % w < 4 { 1.0 } else { 0.0 }).collect();
        let data = &contents(fw, fh)[0];
        let mut out = data.clone();
        let mut pipeline = Pipeline::new("segment-blur:r=5,soft=0.2".parse::<PipelineSpec>().unwrap());
        pipeline.set_segmenter(Some(Box::new(FixedMask(w, h, mask))));
        pipeline.apply(&mut Frame::new(&mut out, fw, fh).unwrap());
        let blurred = common::run("blur:r=5", data, fw, fh);
        for y in 0..fh as usize {
            for x in [0, 5, 10] {
                let i = (y * fw as usize + x) * 4;
                assert_eq!(out[i..i + 4], data[i..i + 4], "person pixel ({x},{y}) changed");
            }
            for x in [40, 50, 64] {
                let i = (y * fw as usize + x) * 4;
                assert_eq!(out[i..i + 3], blurred[i..i + 3], "background pixel ({x},{y}) is not the blur");
            }
        }
    }

    fn temporal_smoothing_halves_small_changes_and_follows_large_ones() {
        let (fw, fh) = (16, 16);
        let mut data = vec![128u8; 16 * 16 * 4];
        let frame = Frame::new(&mut data, fw, fh).unwrap();
        let mut matte = Matte::new(1, 1);
        matte.prepare(&frame);
        // Flat frame: the guided filter passes a flat mask through, so alpha = mask.
        matte.set_mask(&[0.5], true);
        matte.set_mask(&[0.7], true);
        assert_eq!(matte.alpha(&frame, 1.0)[0], (0.6f32 * 255.0).round() as u8);
        matte.set_mask(&[0.0], true);
        assert_eq!(matte.alpha(&frame, 1.0)[0], 0);
    }
}
