//! "Your own model": tiny ONNX models the test builds itself run as a pipeline stage and give
//! exactly the expected pixels; models the stage cannot run give named errors.

mod common;

use common::{
    onnx::{self, Dim, Init, Node, model},
    tests,
};
use filters::{Frame, ModelRunner, ModelSettings, Pipeline, PipelineSpec, Scratch, Segmenter};
use segment::{ModelError, ModelStage, PixelRange};

fn frame(w: u32, h: u32) -> Vec<u8> {
    (0..w * h * 4).map(|i| (i * 37 % 251) as u8).collect()
}

/// A 1×1 convolution whose weights swap R and B, NCHW, fixed 5×4.
fn swap_rb() -> Vec<u8> {
    onnx::swap_rb(Some((5, 4)))
}

/// The mean of R, G, B as a 1-channel mask, NCHW `w×h`.
fn mean_mask(w: u64, h: u64) -> Vec<u8> {
    let nchw = [Dim::Fixed(1), Dim::Fixed(3), Dim::Fixed(h), Dim::Fixed(w)];
    let mask = [Dim::Fixed(1), Dim::Fixed(1), Dim::Fixed(h), Dim::Fixed(w)];
    onnx::conv_1x1(&[1, 3, 1, 1], vec![1.0 / 3.0; 3], &nchw, &mask)
}

/// `y = 255 − x`, NHWC of any height and width: right only when pixels are in `0..=255`.
fn invert_nhwc() -> Vec<u8> {
    let nhwc = [
        Dim::Fixed(1),
        Dim::Named("h"),
        Dim::Named("w"),
        Dim::Fixed(3),
    ];
    model(
        &[Node {
            op: "Sub",
            inputs: &["k", "x"],
            outputs: &["y"],
            attrs: &[],
        }],
        &[Init {
            name: "k",
            dims: &[],
            values: vec![255.0],
        }],
        ("x", &nhwc),
        ("y", &nhwc),
    )
}

tests! {
    fn a_1x1_convolution_that_swaps_r_and_b_gives_the_exact_pixels() {
        let (w, h) = (5, 4);
        let original = frame(w, h);
        let mut out = original.clone();
        let mut pipeline = Pipeline::new("invert|invert".parse::<PipelineSpec>().unwrap());
        let stage = ModelStage::load("swap.onnx", swap_rb(), PixelRange::Unit).unwrap();
        pipeline.insert_filter(1, Box::new(stage));
        assert_eq!(pipeline.stage_labels().collect::<Vec<_>>(), ["invert", "swap.onnx", "invert"]);
        pipeline.apply(&mut Frame::new(&mut out, w, h).unwrap());
        for (o, p) in original.chunks_exact(4).zip(out.chunks_exact(4)) {
            assert_eq!(p, [o[2], o[1], o[0], o[3]]);
        }
    }

    fn a_dynamic_nhwc_model_in_byte_range_runs_at_the_frame_size() {
        let bytes = invert_nhwc();
        let mut stage = ModelStage::load("invert.onnx", bytes, PixelRange::Byte).unwrap();
        for (w, h) in [(7, 3), (1, 1), (17, 5)] {
            assert_eq!(stage.input_size(w, h), (w, h));
            let original = frame(w, h);
            let mut out = original.clone();
            filters::Filter::apply(&mut stage, &mut Frame::new(&mut out, w, h).unwrap(), &mut Scratch::new());
            assert_eq!(stage.error(), None);
            for (o, p) in original.chunks_exact(4).zip(out.chunks_exact(4)) {
                assert_eq!(p, [255 - o[0], 255 - o[1], 255 - o[2], o[3]]);
            }
        }
        assert_eq!(stage.input_size(1280, 720), (512, 288));
    }

    fn a_mask_output_is_shown_as_a_red_overlay() {
        let bytes = mean_mask(2, 2);
        let mut stage = ModelStage::load("mask.onnx", bytes, PixelRange::Unit).unwrap();
        let mut px = vec![255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 9, 0, 0, 0, 0];
        filters::Filter::apply(&mut stage, &mut Frame::new(&mut px, 2, 2).unwrap(), &mut Scratch::new());
        assert_eq!(stage.error(), None);
        assert_eq!(px, [255, 128, 128, 255, 0, 0, 0, 255, 255, 128, 128, 9, 0, 0, 0, 0]);
    }

    fn an_unsupported_operator_is_named() {
        let bytes = onnx::unsupported_op();
        let err = ModelStage::load("fancy.onnx", bytes, PixelRange::Unit).unwrap_err();
        assert!(matches!(err, ModelError::Load(_)), "{err:?}");
        assert!(err.to_string().contains("FancyOp"), "{err}");
    }

    fn a_model_whose_input_is_not_an_rgb_image_is_refused() {
        for dims in [
            vec![Dim::Fixed(1), Dim::Fixed(4), Dim::Fixed(8), Dim::Fixed(8)],
            vec![Dim::Fixed(1), Dim::Fixed(3), Dim::Fixed(8)],
            vec![Dim::Fixed(1), Dim::Fixed(3), Dim::Fixed(100_000), Dim::Fixed(8)],
            vec![Dim::Fixed(1), Dim::Fixed(3), Dim::Named("h"), Dim::Fixed(8)],
        ] {
            let bytes = model(
                &[Node { op: "Relu", inputs: &["x"], outputs: &["y"], attrs: &[] }],
                &[],
                ("x", &dims),
                ("y", &dims),
            );
            let err = ModelStage::load("bad.onnx", bytes, PixelRange::Unit).unwrap_err();
            assert!(matches!(err, ModelError::InputShape { .. }), "{err:?}");
            assert!(err.to_string().contains("is not an image"), "{err}");
        }
    }

    fn garbage_and_huge_files_are_errors_not_panics() {
        for bytes in [vec![], b"not a model at all".to_vec(), include_bytes!("fixtures/grace_hopper.jpg").to_vec()] {
            assert!(ModelStage::load("x.onnx", bytes, PixelRange::Unit).is_err());
        }
        // Ten continuation bytes where a varint belongs hang rten-onnx 0.27's reader: refused
        // before it parses, at the top level and inside the graph.
        let mut in_graph = vec![0x3a, 12, 0x0a, 10];
        in_graph.extend([0x80; 10]);
        for bytes in [vec![0xff; 64], vec![0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], in_graph] {
            let err = ModelStage::load("x.onnx", bytes.clone(), PixelRange::Unit).unwrap_err();
            assert!(matches!(err, ModelError::Malformed(_)), "{bytes:x?}: {err:?}");
        }
        // Every prefix of a real model loads or is an error, never a hang or a panic; one cut
        // inside the graph (which precedes the opset) is always an error.
        let good = swap_rb();
        let opset = 8;
        for len in 0..good.len() - opset {
            let result = ModelStage::load("x.onnx", good[..len].to_vec(), PixelRange::Unit);
            assert!(result.is_err(), "prefix of {len} bytes");
        }
        let err = ModelStage::load("big.onnx", vec![0; segment::model::MAX_MODEL_BYTES + 1], PixelRange::Unit).unwrap_err();
        assert!(matches!(err, ModelError::TooLarge { .. }), "{err:?}");
    }

    fn the_model_stage_of_a_pipeline_runs_its_runner_with_its_settings() {
        let (w, h) = (5, 4);
        let original = frame(w, h);
        let stage = ModelStage::load("swap.onnx", swap_rb(), PixelRange::Unit).unwrap();
        let mut pipeline = Pipeline::new("invert|model|invert".parse::<PipelineSpec>().unwrap());
        assert_eq!(pipeline.model_stage(), Some(ModelSettings::default()));
        // No runner yet (the file is not picked): the stage passes the frame unchanged.
        let mut out = original.clone();
        pipeline.apply(&mut Frame::new(&mut out, w, h).unwrap());
        assert_eq!(out, original);
        pipeline.set_model_runner(Some(Box::new(stage)));
        pipeline.apply(&mut Frame::new(&mut out, w, h).unwrap());
        for (o, p) in original.chunks_exact(4).zip(out.chunks_exact(4)) {
            assert_eq!(p, [o[2], o[1], o[0], o[3]]);
        }
        // Switched off, it does not run.
        pipeline.set_spec("invert|!model|invert".parse().unwrap());
        assert_eq!(pipeline.model_stage(), None);
        let mut out = original.clone();
        pipeline.apply(&mut Frame::new(&mut out, w, h).unwrap());
        assert_eq!(out, original);
    }

    fn byte_range_is_a_setting_of_the_runner() {
        let bytes = invert_nhwc();
        let mut stage = ModelStage::load("invert.onnx", bytes, PixelRange::Unit).unwrap();
        let original = frame(3, 2);
        let mut out = original.clone();
        let settings = ModelSettings { byte_range: true, mask_as_segmentation: false };
        stage.run(&mut Frame::new(&mut out, 3, 2).unwrap(), settings);
        assert_eq!(stage.error(), None);
        for (o, p) in original.chunks_exact(4).zip(out.chunks_exact(4)) {
            assert_eq!(p, [255 - o[0], 255 - o[1], 255 - o[2], o[3]]);
        }
    }

    fn a_mask_model_with_segment_set_leaves_the_frame_and_segments() {
        let mut stage = ModelStage::load("mask.onnx", mean_mask(4, 2), PixelRange::Unit).unwrap();
        let original = frame(8, 4);
        let mut out = original.clone();
        let settings = ModelSettings { byte_range: false, mask_as_segmentation: true };
        stage.run(&mut Frame::new(&mut out, 8, 4).unwrap(), settings);
        assert_eq!(stage.error(), None);
        assert_eq!(out, original);
        assert_eq!(Segmenter::input_size(&stage), (4, 2));
        let input: Vec<f32> = (0..24).map(|i| i as f32 / 24.0).collect();
        let mut mask = vec![0.0; 8];
        assert_eq!(stage.segment(&input, &mut mask), filters::MaskStatus::Ready);
        for (i, m) in mask.iter().enumerate() {
            let mean = (input[i * 3] + input[i * 3 + 1] + input[i * 3 + 2]) / 3.0;
            assert!((m - mean).abs() < 1e-6, "{i}: {m} vs {mean}");
        }
        // An image model is no segmenter: a named error, and the mask is left alone.
        let mut image = ModelStage::load("swap.onnx", onnx::swap_rb(None), PixelRange::Unit).unwrap();
        assert_eq!(Segmenter::input_size(&image), segment::stage::DYNAMIC_MASK_SIZE);
        let (w, h) = segment::stage::DYNAMIC_MASK_SIZE;
        let n = (w * h) as usize;
        let mut mask = vec![0.5; n];
        let status = image.segment(&vec![0.25; n * 3], &mut mask);
        assert!(matches!(&status, filters::MaskStatus::Failed(e) if e.contains("not a 1-channel mask")), "{status:?}");
        assert!(mask.iter().all(|m| m.to_bits() == 0.5_f32.to_bits()));
    }

    fn the_shared_bright_mask_model_marks_white_and_not_saturated_colours() {
        let mut stage = ModelStage::load("bright.onnx", onnx::bright_mask(2, 1), PixelRange::Unit).unwrap();
        let input = [0.9, 0.9, 0.9, 200.0 / 255.0, 40.0 / 255.0, 40.0 / 255.0];
        let mut mask = [0.5; 2];
        assert_eq!(stage.segment(&input, &mut mask), filters::MaskStatus::Ready);
        assert!(mask[0] > 0.99 && mask[1] < 0.01, "{mask:?}");
    }
}
