//! Native side of `cargo xtask bench filters`: every case of `cases.txt` on a 1280×720
//! camera-like frame (the same content as `bench-wasm/run.mjs` generates).

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
    use filters::{Frame, Pipeline, PipelineSpec};

    const WIDTH: u32 = 1280;
    const HEIGHT: u32 = 720;

    /// Smooth gradients, a disc, stripes and ±8 noise, like run.mjs.
    fn camera_like() -> Vec<u8> {
        let mut seed: u32 = 0x2545_f491;
        let mut noise = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (seed % 17) as f32 - 8.0
        };
        let mut data = vec![0u8; (WIDTH * HEIGHT * 4) as usize];
        for y in 0..HEIGHT {
            for x in 0..WIDTH {
                let i = ((y * WIDTH + x) * 4) as usize;
                let (fx, fy) = (x as f32, y as f32);
                let disc = if (fx - 640.0).powi(2) + (fy - 360.0).powi(2) < 200.0f32.powi(2) {
                    90.0
                } else {
                    0.0
                };
                let stripes = if (x >> 6) % 2 == 1 { 40.0 } else { 0.0 };
                let clamp = |v: f32| v.clamp(0.0, 255.0) as u8;
                data[i] = clamp(fx * 255.0 / WIDTH as f32 + disc + noise());
                data[i + 1] = clamp(fy * 255.0 / HEIGHT as f32 + stripes + noise());
                data[i + 2] = clamp(128.0 + disc - stripes + noise());
                data[i + 3] = 255;
            }
        }
        data
    }

    pub fn main() {
        let mut criterion = Criterion::default()
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_millis(1200))
            .sample_size(15)
            .configure_from_args();
        let source = camera_like();
        let mut group = criterion.benchmark_group("filters");
        for line in include_str!("cases.txt").lines() {
            let Some((id, text)) = line.split_once('\t').filter(|_| !line.starts_with('#')) else {
                continue;
            };
            let spec: PipelineSpec = text.parse().expect("cases.txt holds valid pipelines");
            let mut pipeline = Pipeline::new(spec);
            group.bench_function(id, |b| {
                b.iter_batched_ref(
                    || source.clone(),
                    |buffer| {
                        let mut frame =
                            Frame::new(buffer, WIDTH, HEIGHT).expect("the buffer is 1280x720 RGBA");
                        pipeline.apply(&mut frame);
                    },
                    BatchSize::PerIteration,
                );
            });
        }
        group.finish();
        criterion.final_summary();
    }
}
