//! Native side of `cargo xtask bench filters`: every case of `cases.txt` on a camera-like frame
//! of the case's size (1280×720 unless the case names one; the same content as
//! `bench-wasm/run.mjs` generates), and the 4:2:0 → RGBA conversion of `filters::yuv`.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::main();
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::time::Duration;

    use criterion::{BatchSize, Criterion};
    use filters::{
        Frame, Pipeline, PipelineSpec,
        yuv::{Chroma, ColorSpace, yuv420_to_rgba},
    };

    /// Smooth gradients, a disc, stripes and ±8 noise, like run.mjs.
    fn camera_like(width: u32, height: u32) -> Vec<u8> {
        let mut seed: u32 = 0x2545_f491;
        let mut noise = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (seed % 17) as f32 - 8.0
        };
        let (cx, cy) = ((width / 2) as f32, (height / 2) as f32);
        let mut data = vec![0u8; (width * height * 4) as usize];
        for y in 0..height {
            for x in 0..width {
                let i = ((y * width + x) * 4) as usize;
                let (fx, fy) = (x as f32, y as f32);
                let disc = if (fx - cx).powi(2) + (fy - cy).powi(2) < 200.0f32.powi(2) {
                    90.0
                } else {
                    0.0
                };
                let stripes = if (x >> 6) % 2 == 1 { 40.0 } else { 0.0 };
                let clamp = |v: f32| v.clamp(0.0, 255.0) as u8;
                data[i] = clamp(fx * 255.0 / width as f32 + disc + noise());
                data[i + 1] = clamp(fy * 255.0 / height as f32 + stripes + noise());
                data[i + 2] = clamp(128.0 + disc - stripes + noise());
                data[i + 3] = 255;
            }
        }
        data
    }

    /// `WIDTHxHEIGHT`, or 1280×720 when the case names no size.
    fn size(text: Option<&str>) -> (u32, u32) {
        text.and_then(|t| t.split_once('x'))
            .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
            .unwrap_or((1280, 720))
    }

    /// Deterministic planes for the conversion: its cost does not depend on the values.
    fn planes(width: u32, height: u32) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let (w, h) = (width as usize, height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let y = (0..w * h).map(|i| (i * 7 % 251) as u8).collect();
        let u = (0..cw * ch).map(|i| (i * 13 % 241) as u8).collect();
        let v = (0..cw * ch).map(|i| (i * 29 % 239) as u8).collect();
        (y, u, v)
    }

    pub fn main() {
        let mut criterion = Criterion::default()
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_millis(1200))
            .sample_size(15)
            .configure_from_args();
        let mut group = criterion.benchmark_group("filters");
        for line in include_str!("cases.txt").lines() {
            if line.starts_with('#') {
                continue;
            }
            let mut fields = line.split('\t');
            let (Some(id), Some(text)) = (fields.next(), fields.next()) else {
                continue;
            };
            let (width, height) = size(fields.next());
            let source = camera_like(width, height);
            let spec: PipelineSpec = text.parse().expect("cases.txt holds valid pipelines");
            let mut pipeline = Pipeline::new(spec);
            group.bench_function(id, |b| {
                b.iter_batched_ref(
                    || source.clone(),
                    |buffer| {
                        let mut frame =
                            Frame::new(buffer, width, height).expect("the buffer fits the size");
                        pipeline.apply(&mut frame);
                    },
                    BatchSize::PerIteration,
                );
            });
        }
        for (id, width, height) in [("yuv-i420", 1280, 720), ("yuv-i420-1080p", 1920, 1080)] {
            let (y, u, v) = planes(width, height);
            let cw = (width as usize).div_ceil(2);
            let mut out = vec![0u8; (width * height * 4) as usize];
            group.bench_function(id, |b| {
                b.iter(|| {
                    let chroma = Chroma::Planar {
                        u: &u,
                        u_stride: cw,
                        v: &v,
                        v_stride: cw,
                    };
                    yuv420_to_rgba(
                        (&y, width as usize),
                        chroma,
                        (width, height),
                        ColorSpace::default(),
                        &mut out,
                    )
                    .expect("the planes fit the size");
                });
            });
        }
        group.finish();
        criterion.final_summary();
    }
}
