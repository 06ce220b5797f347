//! Pipeline behaviour: fusion is exact, stage labels, strided frames, custom filters,
//! parameter changes keeping state, frame validation.

mod common;

use common::{Rng, SIZES, assert_close, contents, run, tests};
use filters::{Filter, Frame, FrameError, Pipeline, PipelineSpec, Scratch};

/// Applies each filter of `chain` as its own pipeline (no fusion), one after the other.
fn unfused(chain: &str, data: &[u8], w: u32, h: u32) -> Vec<u8> {
    chain
        .split('|')
        .fold(data.to_vec(), |frame, filter| run(filter, &frame, w, h))
}

const CHAINS: [&str; 14] = [
    "brightness:v=0.1|contrast:v=1.3|saturation:v=1.2",
    "brightness:v=-0.4|contrast:v=0.6",
    "contrast:v=3.7|brightness:v=0.2",
    "posterize:n=20|invert",
    "posterize:n=6|brightness:v=0.3|gamma:v=0.8",
    "brightness:v=0.25|posterize:n=9",
    "contrast:v=1.37|sepia:v=0.4|brightness:v=-0.1",
    "grayscale|contrast:v=1.4|gamma:v=1.2",
    "sepia|gamma:v=0.7|posterize:n=5|invert",
    "saturation:v=2.5|threshold:v=100|invert",
    "invert|invert",
    "contrast:v=3|brightness:v=-0.5|grayscale|brightness:v=0.3|sepia:v=0.5",
    "gamma:v=2|saturation:v=0|posterize:n=3|contrast:v=0.2",
    "threshold|posterize:n=2|grayscale",
];

/// Colour filters a random chain is drawn from, with ranges for their parameter.
const COLOUR: [(&str, &str, f64, f64); 9] = [
    ("brightness", "v", -1.0, 1.0),
    ("contrast", "v", 0.0, 4.0),
    ("gamma", "v", 0.1, 5.0),
    ("posterize", "n", 2.0, 32.0),
    ("saturation", "v", 0.0, 3.0),
    ("sepia", "v", 0.0, 1.0),
    ("threshold", "v", 0.0, 255.0),
    ("invert", "", 0.0, 0.0),
    ("grayscale", "", 0.0, 0.0),
];

/// A seeded random chain of 1 to 4 colour filters (parameters on their slider steps).
fn random_chain(rng: &mut Rng) -> String {
    let len = 1 + rng.below(4);
    (0..len)
        .map(|_| {
            let (name, param, lo, hi) = COLOUR[rng.below(COLOUR.len() as u64) as usize];
            if param.is_empty() {
                return name.to_owned();
            }
            let step = if name == "posterize" || name == "threshold" {
                1.0
            } else {
                0.01
            };
            let v = lo + (rng.below(((hi - lo) / step) as u64 + 1) as f64) * step;
            format!("{name}:{param}={}", (v * 100.0).round() / 100.0)
        })
        .collect::<Vec<_>>()
        .join("|")
}

tests! {
    fn random_colour_chains_equal_filters_applied_one_by_one() {
        // Per-channel runs in the chains compile to tables, offsets, affine formulas or
        // levels; each filter alone too, so every form is held to the others.
        let mut rng = Rng::new(7);
        for _ in 0..150 {
            let chain = random_chain(&mut rng);
            for (w, h) in [(1, 1), (9, 2), (17, 3), (65, 1)] {
                let data = contents(w, h)[0].clone();
                assert_close(&chain, &run(&chain, &data, w, h), &unfused(&chain, &data, w, h), 0, w, h);
            }
        }
    }

    fn fused_colour_chains_equal_filters_applied_one_by_one() {
        for chain in CHAINS {
            for (w, h) in SIZES {
                for data in contents(w, h) {
                    assert_close(chain, &run(chain, &data, w, h), &unfused(chain, &data, w, h), 0, w, h);
                }
            }
        }
    }

    fn colour_runs_fuse_into_one_labelled_stage() {
        let pipeline = Pipeline::new("grayscale|contrast:v=2|blur|invert|mirror|sepia|gamma".parse().unwrap());
        let labels: Vec<&str> = pipeline.stage_labels().collect();
        assert_eq!(labels, ["grayscale+contrast", "blur", "invert", "mirror", "sepia+gamma"]);
    }

    fn switched_off_filters_are_skipped() {
        let pipeline = Pipeline::new("grayscale|!contrast:v=2|invert|!blur|!mirror|sepia".parse().unwrap());
        let labels: Vec<&str> = pipeline.stage_labels().collect();
        assert_eq!(labels, ["grayscale", "invert", "sepia"], "runs stop at a switched-off filter");
        let (w, h) = (19, 7);
        let data = contents(w, h)[1].clone();
        assert_eq!(
            run("grayscale|!contrast:v=2|invert|!blur|!mirror|sepia", &data, w, h),
            run("grayscale|invert|sepia", &data, w, h)
        );
        assert_eq!(run("!sobel", &data, w, h), data, "all off: the frame as it was");
    }

    fn apply_observed_reports_each_stage_after_it_runs() {
        let (w, h) = (33, 17);
        let data = contents(w, h)[1].clone();
        let mut pipeline = Pipeline::new("grayscale|contrast:v=2|sobel".parse().unwrap());
        let mut seen = Vec::new();
        let mut out = data.clone();
        pipeline.apply_observed(&mut Frame::new(&mut out, w, h).unwrap(), &mut |label| seen.push(label.to_owned()));
        assert_eq!(seen, ["grayscale+contrast", "sobel"]);
        assert_eq!(out, run("grayscale|contrast:v=2|sobel", &data, w, h));
    }

    fn strided_frames_match_tight_frames_and_keep_padding() {
        let spec = "brightness:v=0.2|blur:r=2|sobel|canny|pixelate:s=3|vignette|mirror|sharpen|emboss|cartoon";
        for (w, h) in SIZES {
            let data = contents(w, h)[1].clone();
            let want = unfused(spec, &data, w, h);
            let stride = w as usize * 4 + 12;
            let mut padded = vec![0xA5u8; stride * h as usize];
            for (y, row) in data.chunks_exact(w as usize * 4).enumerate() {
                padded[y * stride..y * stride + row.len()].copy_from_slice(row);
            }
            let mut pipeline = Pipeline::new(spec.parse().unwrap());
            pipeline.apply(&mut Frame::with_stride(&mut padded, w, h, stride).unwrap());
            for (y, row) in padded.chunks(stride).enumerate() {
                assert_eq!(&row[..w as usize * 4], &want[y * w as usize * 4..(y + 1) * w as usize * 4], "row {y} of {w}x{h}");
                assert!(row[w as usize * 4..].iter().all(|&b| b == 0xA5), "padding of row {y} was written");
            }
        }
    }

    fn a_reused_pipeline_gives_the_same_result_every_frame() {
        let spec = "gaussian:sigma=2|sharpen|canny|cartoon|blur:r=4";
        let mut pipeline = Pipeline::new(spec.parse().unwrap());
        for (w, h) in [(65, 9), (9, 65), (1, 1), (65, 9)] {
            let data = contents(w, h)[0].clone();
            let mut out = data.clone();
            pipeline.apply(&mut Frame::new(&mut out, w, h).unwrap());
            assert_eq!(out, run(spec, &data, w, h), "{w}x{h}");
        }
    }

    fn custom_filters_run_where_inserted() {
        struct AddRed(u8);
        impl Filter for AddRed {
            fn label(&self) -> &'static str {
                "add-red"
            }
            fn apply(&mut self, frame: &mut Frame<'_>, scratch: &mut Scratch) {
                let w = frame.width() as usize;
                let copy = scratch.bytes(w * 4);
                for row in frame.rows_mut() {
                    copy.copy_from_slice(row);
                    for (px, old) in row.chunks_exact_mut(4).zip(copy.chunks_exact(4)) {
                        px[0] = old[0].saturating_add(self.0);
                    }
                }
            }
        }
        let (w, h) = (17, 5);
        let data = contents(w, h)[1].clone();
        let mut pipeline = Pipeline::new("grayscale|invert".parse().unwrap());
        pipeline.insert_filter(1, Box::new(AddRed(50)));
        assert_eq!(pipeline.stage_labels().collect::<Vec<_>>(), ["grayscale", "add-red", "invert"]);
        let mut out = data.clone();
        pipeline.apply(&mut Frame::new(&mut out, w, h).unwrap());
        let mut want = run("grayscale", &data, w, h);
        for px in want.chunks_exact_mut(4) {
            px[0] = px[0].saturating_add(50);
        }
        assert_eq!(out, run("invert", &want, w, h));

        pipeline.push_filter(Box::new(AddRed(1)));
        pipeline.set_spec("sepia|contrast|blur".parse().unwrap());
        assert_eq!(pipeline.stage_labels().collect::<Vec<_>>(), ["sepia", "add-red", "contrast", "blur", "add-red"]);
        pipeline.set_spec(PipelineSpec::default());
        assert_eq!(pipeline.stage_labels().collect::<Vec<_>>(), ["add-red", "add-red"]);
        assert_eq!(pipeline.clear_custom().len(), 2);
        assert_eq!(pipeline.stage_labels().count(), 0);
    }

    fn changing_parameters_keeps_motion_state() {
        let (w, h) = (9, 7);
        let [first, second] = contents(w, h);
        let mut pipeline = Pipeline::new("motion:t=10".parse().unwrap());
        let mut a = first.clone();
        pipeline.apply(&mut Frame::new(&mut a, w, h).unwrap());
        // New threshold and an extra filter in front: the motion stage keeps its previous frame.
        pipeline.set_spec("invert|invert|motion:t=30".parse().unwrap());
        let mut b = second.clone();
        pipeline.apply(&mut Frame::new(&mut b, w, h).unwrap());
        let mut fresh = Pipeline::new("motion:t=30".parse().unwrap());
        fresh.apply(&mut Frame::new(&mut first.clone(), w, h).unwrap());
        let mut want = second.clone();
        fresh.apply(&mut Frame::new(&mut want, w, h).unwrap());
        assert_ne!(want, second, "the test content must show motion");
        assert_eq!(b, want);
    }

    fn empty_pipeline_leaves_frames_alone() {
        let (w, h) = (13, 1);
        let data = contents(w, h)[0].clone();
        assert_eq!(run("", &data, w, h), data);
    }

    fn bad_frames_are_errors() {
        let mut buf = vec![0u8; 16];
        assert_eq!(Frame::new(&mut buf, 0, 4).unwrap_err(), FrameError::Empty { width: 0, height: 4 });
        assert!(matches!(Frame::new(&mut buf, 2, 3), Err(FrameError::WrongLength { needed: 24, got: 16, .. })));
        assert!(matches!(Frame::with_stride(&mut buf, 2, 2, 7), Err(FrameError::StrideTooShort { .. })));
        assert!(matches!(Frame::new(&mut buf, 100_000, 1), Err(FrameError::TooLarge { .. })));
        assert!(matches!(Frame::with_stride(&mut buf, 1, u32::MAX, usize::MAX), Err(FrameError::TooLarge { .. })));
        assert!(Frame::with_stride(&mut buf, 1, 2, 12).is_ok());
        assert!(Frame::new(&mut buf, 2, 2).is_ok());
        assert_eq!(
            Frame::new(&mut buf, 2, 3).unwrap_err().to_string(),
            "frame 2x3 with stride 8 needs 24 bytes, got 16"
        );
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use super::{Rng, assert_close, common, random_chain, run, unfused};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn colour_chains_fuse_exactly(seed in any::<u64>(), w in 1u32..80, h in 1u32..4, pixels in any::<u64>()) {
            let chain = random_chain(&mut Rng::new(seed));
            let data = common::noise_frame(w, h, pixels);
            assert_close(&chain, &run(&chain, &data, w, h), &unfused(&chain, &data, w, h), 0, w, h);
        }
    }
}
