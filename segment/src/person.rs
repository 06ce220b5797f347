//! [`PersonSegmenter`]: an RGBA frame in, the person mask at the frame's size out.

use filters::{Frame, Matte};

use crate::model::{MaskModel, ModelError};

/// A [`MaskModel`] with the [`Matte`] around it: one call per frame.
#[derive(Debug)]
pub struct PersonSegmenter {
    model: MaskModel,
    matte: Matte,
    mask: Vec<f32>,
    /// Whether consecutive frames are one video (temporal smoothing on).
    pub video: bool,
}

impl PersonSegmenter {
    pub fn new(model: MaskModel) -> Self {
        let (w, h) = model.input_size();
        Self {
            model,
            matte: Matte::new(w, h),
            mask: vec![0.0; w as usize * h as usize],
            video: true,
        }
    }

    pub fn model_mut(&mut self) -> &mut MaskModel {
        &mut self.model
    }

    /// The model's raw output for the last frame (`height × width` of its input).
    pub fn model_mask(&self) -> &[f32] {
        &self.mask
    }

    /// The person mask of `frame`: one byte a pixel, row-major, 255 = person. `soft` is the
    /// edge's ramp width in probability (`0` hard, `1` the probability as it is).
    pub fn mask(&mut self, frame: &Frame<'_>, soft: f32) -> Result<&[u8], ModelError> {
        let input = self.matte.prepare(frame);
        self.model.infer(input, &mut self.mask)?;
        self.matte.set_mask(&self.mask, self.video);
        Ok(self.matte.alpha(frame, soft))
    }
}
