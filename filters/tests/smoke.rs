//! Every filter runs on every awkward size without panicking.

use filters::{Frame, Pipeline, PipelineSpec, catalog};

#[test]
fn every_filter_runs_on_awkward_sizes() {
    for (w, h) in [(1, 1), (1, 7), (7, 1), (3, 3), (9, 5), (17, 2), (65, 33)] {
        for info in catalog() {
            let mut data: Vec<u8> = (0..w * h * 4).map(|i| (i * 37 % 251) as u8).collect();
            let mut frame = Frame::new(&mut data, w, h).unwrap();
            let mut pipeline = Pipeline::new(info.name.parse::<PipelineSpec>().unwrap());
            pipeline.apply(&mut frame);
            pipeline.apply(&mut frame);
        }
    }
}
