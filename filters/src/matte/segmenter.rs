//! Where a segmentation stage gets its person mask: the [`Segmenter`] trait, implemented
//! outside this crate (the `segment` crate runs the model; a browser worker can proxy one).

/// What a segmenter could give for a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MaskStatus {
    /// `mask` holds a person mask: for this frame's input, or (from an asynchronous
    /// segmenter, such as one whose model runs in a worker) for the previous one.
    Ready,
    /// No mask yet (the model is still loading): the stage leaves the frame unchanged.
    Loading,
    /// The model cannot run; the stage leaves the frame unchanged. Said to the user as is.
    Failed(String),
}

/// A person segmentation model behind the `segment-blur` and `segment-replace` stages.
///
/// The stage downscales each frame to [`input_size`](Segmenter::input_size) itself and calls
/// [`segment`](Segmenter::segment) with that input; everything outside the model (downscale,
/// edge-aware upsampling, temporal smoothing, compositing) stays in this crate.
pub trait Segmenter {
    /// The model's input `(width, height)`, e.g. `(256, 144)`. Must not change between calls.
    fn input_size(&self) -> (u32, u32);

    /// `input` is `height × width × 3` floats, RGB in `[0, 1]`, row-major (NHWC without the
    /// batch). On [`MaskStatus::Ready`] the segmenter has written `height × width` person
    /// probabilities in `[0, 1]` into `mask` (same layout); otherwise `mask` is left as it was.
    fn segment(&mut self, input: &[f32], mask: &mut [f32]) -> MaskStatus;
}
