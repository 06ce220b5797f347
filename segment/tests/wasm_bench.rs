//! The wasm32 side of `cargo xtask bench segment`, one thread, simd128: the same cases as
//! `benches/segment.rs`, timed with `performance.now()`. xtask runs it under Node and, with
//! `WASM_BINDGEN_USE_BROWSER=1`, in headless Chromium (the app's engine runs there).
//! Ignored by the tests; `cargo xtask bench segment` runs it in release with
//! `--include-ignored`.
#![cfg(target_arch = "wasm32")]

mod common;

use filters::{Frame, MaskStatus, Matte, Pipeline, PipelineSpec, Segmenter};
use segment::{MaskModel, PixelRange};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

fn now() -> f64 {
    let perf = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance")).unwrap();
    let now: js_sys::Function = js_sys::Reflect::get(&perf, &JsValue::from_str("now"))
        .unwrap()
        .unchecked_into();
    now.call0(&perf).unwrap().as_f64().unwrap()
}

/// Median ms of `runs` calls after `warmup` calls.
fn time(warmup: usize, runs: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..warmup {
        f();
    }
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let t = now();
            f();
            now() - t
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    ms[runs / 2]
}

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

#[wasm_bindgen_test]
#[ignore = "a benchmark: cargo xtask bench segment"]
fn bench_segment_wasm() {
    let img = image::load_from_memory(include_bytes!("fixtures/grace_hopper.jpg"))
        .unwrap()
        .to_rgba8();
    let source =
        image::imageops::resize(&img, 1280, 720, image::imageops::FilterType::Triangle).into_raw();
    let mut data = source.clone();
    let frame = Frame::new(&mut data, 1280, 720).unwrap();
    let mut matte = Matte::new(256, 144);
    let input = matte.prepare(&frame).to_vec();

    let ms = time(2, 15, || drop(common::model()));
    console_log!("BENCH load-144x256 {ms:.3}");
    let mut model = common::model();
    let mut mask = vec![0.0; 256 * 144];
    let ms = time(5, 40, || model.infer(&input, &mut mask).unwrap());
    console_log!("BENCH inference-144x256 {ms:.3}");

    #[cfg(has_model)]
    {
        let bytes = include_bytes!("../../static/models/selfie_segmentation.onnx");
        let mut square = MaskModel::load(bytes.to_vec(), PixelRange::Unit).unwrap();
        let input = vec![0.5; 256 * 256 * 3];
        let mut out = vec![0.0; 256 * 256];
        let ms = time(3, 25, || square.infer(&input, &mut out).unwrap());
        console_log!("BENCH inference-256x256 {ms:.3}");
    }

    let ms = time(5, 40, || {
        matte.prepare(&frame);
        matte.set_mask(&mask, true);
        matte.alpha(&frame, 0.5);
    });
    console_log!("BENCH matte-720p {ms:.3}");
    for spec in ["segment-blur:r=12,soft=0.5", "segment-replace:color=00ff00"] {
        let mut pipeline = Pipeline::new(spec.parse::<PipelineSpec>().unwrap());
        pipeline.set_segmenter(Some(Box::new(Known(mask.clone()))));
        let mut out = source.clone();
        let ms = time(5, 40, || {
            out.copy_from_slice(&source);
            pipeline.apply(&mut Frame::new(&mut out, 1280, 720).unwrap());
        });
        console_log!("BENCH {}-720p {ms:.3}", spec.split(':').next().unwrap());
    }
}
