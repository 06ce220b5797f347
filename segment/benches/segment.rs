//! Native side of `cargo xtask bench segment`: inference at 144×256 and 256×256 (one thread
//! and rten's default pool), and the rest of the path at 720p: the matte (downscale, refine,
//! upsample) and the `segment-blur` / `segment-replace` stages, with the mask already known.
//! The frame is the test photo stretched to 1280×720.

#[cfg(any(target_arch = "wasm32", not(has_model)))]
fn main() {
    #[cfg(not(target_arch = "wasm32"))]
    panic!("static/models/ is missing the models: run `cargo xtask setup`");
}

#[cfg(all(not(target_arch = "wasm32"), has_model))]
fn main() {
    native::main();
}

#[cfg(all(not(target_arch = "wasm32"), has_model))]
mod native {
    use std::time::Duration;

    use criterion::Criterion;
    use filters::{Frame, MaskStatus, Matte, Pipeline, PipelineSpec, Segmenter};
    use segment::{MaskModel, PixelRange};

    const LANDSCAPE: &[u8] =
        include_bytes!("../../static/models/selfie_segmentation_landscape.onnx");
    const SQUARE: &[u8] = include_bytes!("../../static/models/selfie_segmentation.onnx");

    /// The photo stretched to 1280×720, like a camera frame.
    fn frame_720p() -> Vec<u8> {
        let img = image::load_from_memory(include_bytes!("../tests/fixtures/grace_hopper.jpg"))
            .unwrap()
            .to_rgba8();
        image::imageops::resize(&img, 1280, 720, image::imageops::FilterType::Triangle).into_raw()
    }

    /// The model's mask, computed once: the stages' cost without inference.
    struct Known(Vec<f32>);

    impl Segmenter for Known {
        fn input_size(&self) -> (u32, u32) {
            (256, 144)
        }
        fn segment(&mut self, _: &[f32], mask: &mut [f32]) -> MaskStatus {
            mask.copy_from_slice(&self.0);
            MaskStatus::Ready
        }
    }

    pub fn main() {
        let mut c = Criterion::default()
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2))
            .sample_size(20)
            .configure_from_args();
        let source = frame_720p();
        let mut data = source.clone();
        let frame = Frame::new(&mut data, 1280, 720).unwrap();
        let mut matte = Matte::new(256, 144);
        let input = matte.prepare(&frame).to_vec();

        let mut group = c.benchmark_group("segment");
        // Parsing the ONNX file and prepacking the weights: once, when the stage is added.
        group.bench_function("load-144x256", |b| {
            b.iter(|| MaskModel::load(LANDSCAPE.to_vec(), PixelRange::Unit).unwrap());
        });
        for (name, bytes, threads) in [
            ("inference-144x256-1t", LANDSCAPE, Some(1)),
            ("inference-144x256-pool", LANDSCAPE, None),
            ("inference-256x256-1t", SQUARE, Some(1)),
        ] {
            let mut model = MaskModel::load(bytes.to_vec(), PixelRange::Unit).unwrap();
            if let Some(n) = threads {
                model.set_threads(n);
            }
            let (w, h) = model.input_size();
            let mut mask = vec![0.0; (w * h) as usize];
            let input = if (w, h) == (256, 144) {
                input.clone()
            } else {
                vec![0.5; (w * h * 3) as usize]
            };
            group.bench_function(name, |b| b.iter(|| model.infer(&input, &mut mask).unwrap()));
        }

        let mut model = MaskModel::load(LANDSCAPE.to_vec(), PixelRange::Unit).unwrap();
        let mut mask = vec![0.0; 256 * 144];
        model.infer(&input, &mut mask).unwrap();
        group.bench_function("matte-720p", |b| {
            b.iter(|| {
                matte.prepare(&frame);
                matte.set_mask(&mask, true);
                matte.alpha(&frame, 0.5).len()
            });
        });
        for spec in ["segment-blur:r=12,soft=0.5", "segment-replace:color=00ff00"] {
            let mut pipeline = Pipeline::new(spec.parse::<PipelineSpec>().unwrap());
            pipeline.set_segmenter(Some(Box::new(Known(mask.clone()))));
            let mut out = source.clone();
            let id = format!("{}-720p", spec.split(':').next().unwrap());
            group.bench_function(id, |b| {
                b.iter(|| {
                    out.copy_from_slice(&source);
                    pipeline.apply(&mut Frame::new(&mut out, 1280, 720).unwrap());
                });
            });
        }
        group.finish();
        c.final_summary();
    }
}
