//! The `model` stage ("your own model"): what runs a user's ONNX model, supplied from
//! outside this crate like the [`crate::Segmenter`] (the `segment` crate runs models on rten;
//! a browser worker can proxy one in another worker). Without a runner the stage leaves the
//! frame unchanged: a link names the stage, but the model file stays on the user's device.

/// The `model` stage's parameters, as the runner gets them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModelSettings {
    /// `byte=1`: the model takes (and gives) pixels in `[0, 255]`; else `[0, 1]`.
    pub byte_range: bool,
    /// `segment=1`: a mask output is the person mask of the `segment-*` stages instead of
    /// an overlay (the stage itself then leaves the frame unchanged).
    pub mask_as_segmentation: bool,
}

/// Runs the user's model for the `model` stage, in place on each frame.
pub trait ModelRunner {
    fn run(&mut self, frame: &mut crate::Frame<'_>, settings: ModelSettings);
}
