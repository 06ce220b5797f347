//! The converted selfie model on rten against Google's own runtime, and the person mask of a
//! real photo against `MediaPipe`'s.

mod common;

use common::{golden_mask, iou, mean_in, model, photo, tests};
use filters::Frame;
use segment::PersonSegmenter;

tests! {
    /// No resizing in between: the same 256×144 input through the converted ONNX model on
    /// rten and through the `.tflite` on `TFLite` (ai-edge-litert, `make_golden.py`).
    fn converted_model_matches_tflite_on_the_same_input() {
        let (input, w, h) = common::rgba(include_bytes!("fixtures/grace_hopper_256x144.png"));
        assert_eq!((w, h), (256, 144));
        let golden = image::load_from_memory(include_bytes!("fixtures/grace_hopper_256x144_mask16.png"))
            .unwrap()
            .to_luma16()
            .into_raw();
        let input: Vec<f32> = input
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .map(|v| f32::from(v) / 255.0)
            .collect();
        let mut model = model();
        assert_eq!(model.input_size(), (256, 144));
        let mut mask = vec![0.0; 256 * 144];
        model.infer(&input, &mut mask).unwrap();
        let max_diff = mask
            .iter()
            .zip(&golden)
            .map(|(&m, &g)| (m - f32::from(g) / 65535.0).abs())
            .fold(0.0f32, f32::max);
        let sum: f32 = mask.iter().sum();
        println!("rten vs TFLite: max |diff| {max_diff:.2e}, mask sum {sum:.3} (TFLite 21176.053)");
        // 16-bit quantisation of the golden is 7.6e-6; the rest is float order of operations.
        assert!(max_diff < 1e-4, "max |diff| {max_diff}");
    }

    /// The whole path (downscale, model, guided upsampling) on the photo at its own size.
    fn person_mask_of_the_photo_matches_mediapipe() {
        let (mut rgba, w, h) = photo();
        let frame = Frame::new(&mut rgba, w, h).unwrap();
        let mut segmenter = PersonSegmenter::new(model());
        segmenter.video = false;
        let mask = segmenter.mask(&frame, 1.0).unwrap().to_vec();
        let golden = golden_mask();
        let iou = iou(&mask, &golden);
        println!("IoU with MediaPipe 0.10.21's mask: {iou:.4}");
        assert!(iou >= 0.97, "IoU {iou}");
        // The face (centre) is person, the flag (top left) and the sky (top right) are not.
        let face = mean_in(&mask, w, (200, 180, 320, 300));
        let flag = mean_in(&mask, w, (0, 0, 100, 250));
        let sky = mean_in(&mask, w, (420, 0, 512, 120));
        println!("mean mask: face {face:.1}, flag {flag:.1}, sky {sky:.1}");
        assert!(face > 250.0 && flag < 5.0 && sky < 5.0);
    }
}

/// Writes the photo, its mask and both stages side by side to `target/segment-preview.png`
/// for a person to look at (`cargo test -p segment --test model -- --ignored`).
#[cfg(not(target_arch = "wasm32"))]
#[test]
#[ignore = "writes a picture to look at; asserts nothing"]
fn preview() {
    use filters::{Pipeline, PipelineSpec};
    let (rgba, w, h) = photo();
    let mut panels = vec![rgba.clone()];
    let mut frame_data = rgba.clone();
    let mut segmenter = PersonSegmenter::new(model());
    let mask = segmenter
        .mask(&Frame::new(&mut frame_data, w, h).unwrap(), 0.5)
        .unwrap()
        .to_vec();
    panels.push(mask.iter().flat_map(|&m| [m, m, m, 255]).collect());
    for text in ["segment-blur:r=12,soft=0.5", "segment-replace:color=00ff00"] {
        let mut out = rgba.clone();
        let mut pipeline = Pipeline::new(text.parse::<PipelineSpec>().unwrap());
        pipeline.set_segmenter(Some(Box::new(model())));
        pipeline.apply(&mut Frame::new(&mut out, w, h).unwrap());
        panels.push(out);
    }
    let mut sheet = image::RgbaImage::new(w * panels.len() as u32, h);
    for (i, panel) in panels.iter().enumerate() {
        let img = image::RgbaImage::from_raw(w, h, panel.clone()).unwrap();
        image::imageops::replace(&mut sheet, &img, i64::from(w) * i as i64, 0);
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/segment-preview.png");
    sheet.save(path).unwrap();
    println!("wrote {path}");
}
