//! "Your own model" as a pipeline stage: [`ModelStage`], a [`filters::Filter`] around any
//! ONNX image model the user picks.
//!
//! Conventions (what the stage reads from the model, and how):
//! - **one input**, an image: `1×3×H×W` (NCHW) or `1×H×W×3` (NHWC), float RGB in `[0, 1]` or
//!   `[0, 255]` ([`PixelRange`], a setting: a model file does not say). `H` and `W` fixed, or
//!   symbolic ("dynamic"): then the frame's own size, scaled down to at most
//!   [`MAX_DYNAMIC_SIDE`] on its long side. The frame is area-averaged to that size.
//! - **one output**, either an image in the input's layout and range, 3 channels, any size
//!   (style transfer, enhancement): scaled bilinearly to the frame and shown as the frame;
//!   or a 1-channel mask (`1×1×h×w` or `1×h×w×1`, values in `[0, 1]`): shown as a red
//!   overlay, or (as a [`filters::Segmenter`], the `model` stage's `segment=1`) the person
//!   mask behind `segment-blur` and `segment-replace`.
//! - **errors** leave the frame unchanged and are kept in [`ModelStage::error`]: an operator
//!   rten does not have is named at load ([`ModelError::Load`]), a wrong input shape, a file
//!   over [`crate::model::MAX_MODEL_BYTES`], an output of another shape. How slow a model is,
//!   the pipeline's per-stage timing shows (`Pipeline::apply_observed`).
//!
//! The model stays on the device: the stage gets the file's bytes, never a URL.

use filters::{
    Filter, Frame, MaskStatus, ModelRunner, ModelSettings, Scratch, Segmenter, matte::downscale,
};
use rten::Dimension;
use rten_tensor::{AsView as _, Layout as _, NdTensorView, Tensor};

use crate::error::{MAX_INPUT_SIDE, ModelError};
use crate::model::{Layout, PixelRange, model_input};
use crate::runner::Runner;
use crate::shape::shape_text;

/// Longest side a dynamic-size input is given.
pub const MAX_DYNAMIC_SIDE: u32 = 512;
/// The input `(width, height)` a dynamic-size mask model gets as a segmenter (the landscape
/// selfie model's).
pub const DYNAMIC_MASK_SIZE: (u32, u32) = (256, 144);

/// A user's ONNX model run on every frame.
pub struct ModelStage {
    label: String,
    runner: Runner,
    layout: Layout,
    range: PixelRange,
    /// `(width, height)` when the model fixes them.
    fixed: Option<(u32, u32)>,
    rgb: Vec<f32>,
    guide: Vec<f32>,
    sums: Vec<u32>,
    staged: Vec<f32>,
    error: Option<String>,
    /// Whether a mask output is drawn over the frame (else the stage leaves it unchanged:
    /// the mask serves the segmentation stages, see [`filters::Segmenter`]).
    overlay: bool,
}

impl std::fmt::Debug for ModelStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelStage")
            .field("label", &self.label)
            .field("layout", &self.layout)
            .field("fixed", &self.fixed)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl ModelStage {
    /// Loads `bytes` (a `.onnx` file) as a stage labelled `label` (the file name, say).
    pub fn load(label: &str, bytes: Vec<u8>, range: PixelRange) -> Result<Self, ModelError> {
        let runner = Runner::load(bytes)?;
        let shape = runner.input_shape().unwrap_or_default();
        let bad = || ModelError::InputShape {
            shape: shape_text(&shape),
        };
        let side = |d: &Dimension| match d {
            Dimension::Fixed(n) if (1..=MAX_INPUT_SIDE).contains(n) => Ok(Some(*n as u32)),
            Dimension::Fixed(_) => Err(bad()),
            Dimension::Symbolic(_) => Ok(None),
        };
        let is = |d: &Dimension, n: usize| {
            matches!(d, Dimension::Fixed(m) if *m == n)
                || matches!(d, Dimension::Symbolic(_)) && n == 1
        };
        let (layout, h, w) = match &shape[..] {
            [b, c, h, w] if is(b, 1) && is(c, 3) => (Layout::Nchw, side(h)?, side(w)?),
            [b, h, w, c] if is(b, 1) && is(c, 3) => (Layout::Nhwc, side(h)?, side(w)?),
            _ => return Err(bad()),
        };
        let fixed = match (w, h) {
            (Some(w), Some(h)) => Some((w, h)),
            (None, None) => None,
            _ => return Err(bad()),
        };
        Ok(Self {
            label: label.chars().take(64).collect(),
            runner,
            layout,
            range,
            fixed,
            rgb: Vec::new(),
            guide: Vec::new(),
            sums: Vec::new(),
            staged: Vec::new(),
            error: None,
            overlay: true,
        })
    }

    /// The last frame's error, if it failed (the frame was then left unchanged).
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The input `(width, height)` for a frame of this size.
    pub fn input_size(&self, frame_width: u32, frame_height: u32) -> (u32, u32) {
        self.fixed.unwrap_or_else(|| {
            let long = frame_width.max(frame_height);
            if long <= MAX_DYNAMIC_SIDE {
                (frame_width, frame_height)
            } else {
                let scale = |v: u32| {
                    ((u64::from(v) * u64::from(MAX_DYNAMIC_SIDE)) / u64::from(long)).max(1) as u32
                };
                (scale(frame_width), scale(frame_height))
            }
        })
    }

    /// Sets the pixel range the model takes (a setting: a model file does not say).
    pub fn set_range(&mut self, range: PixelRange) {
        self.range = range;
    }

    /// Runs the model on `rgb` (`w × h × 3` floats in `[0, 1]`, NHWC): its output's shape
    /// and values.
    fn infer(&mut self, rgb: &[f32], w: u32, h: u32) -> Result<(Vec<usize>, Vec<f32>), ModelError> {
        let n = w as usize * h as usize;
        let data = model_input(rgb, n, (self.layout, self.range), &mut self.staged);
        let shape = self.layout.shape(w as usize, h as usize);
        let view = NdTensorView::from_data(shape, data);
        let out = self.runner.run(view.into())?;
        let out: Tensor<f32> = out.try_into().map_err(|_| ModelError::OutputShape {
            shape: "(not a float tensor)".to_owned(),
            width: w as usize,
            height: h as usize,
        })?;
        Ok((out.shape().to_vec(), out.to_vec()))
    }

    fn process(&mut self, frame: &mut Frame<'_>) -> Result<(), ModelError> {
        let (w, h) = self.input_size(frame.width(), frame.height());
        let n = w as usize * h as usize;
        let mut rgb = std::mem::take(&mut self.rgb);
        rgb.resize(n * 3, 0.0);
        self.guide.resize(n, 0.0);
        downscale(frame, w, h, &mut rgb, &mut self.guide, &mut self.sums);
        let result = self.infer(&rgb, w, h);
        self.rgb = rgb;
        let (dims, data) = result?;
        let scale = self.range.scale();
        let plane = |oh: usize, ow: usize, channels: usize, nchw: bool| Plane {
            data: &data,
            w: ow,
            h: oh,
            channels,
            nchw,
        };
        let (plane, image) = match (self.layout, &dims[..]) {
            // An image in the input's layout first: a 1×1 NHWC image is `[1, 1, 1, 3]`.
            (Layout::Nchw, &[1, 3, oh, ow]) => (plane(oh, ow, 3, true), true),
            (Layout::Nhwc, &[1, oh, ow, 3]) => (plane(oh, ow, 3, false), true),
            (_, &[1, 1, oh, ow]) => (plane(oh, ow, 1, true), false),
            (_, &[1, oh, ow, 1]) => (plane(oh, ow, 1, false), false),
            _ => {
                return Err(ModelError::OutputShape {
                    shape: format!("{dims:?}"),
                    width: w as usize,
                    height: h as usize,
                });
            }
        };
        if plane.w == 0 || plane.h == 0 {
            return Err(ModelError::OutputShape {
                shape: format!("{dims:?}"),
                width: w as usize,
                height: h as usize,
            });
        }
        if !image && !self.overlay {
            return Ok(());
        }
        let (fw, fh) = (frame.width() as usize, frame.height() as usize);
        for (y, row) in frame.rows_mut().enumerate() {
            let (px, _) = row.as_chunks_mut::<4>();
            for (x, p) in px.iter_mut().enumerate() {
                if image {
                    for (c, v) in p[..3].iter_mut().enumerate() {
                        let value = plane.sample(x, y, fw, fh, c) / scale;
                        *v = (value * 255.0).round().clamp(0.0, 255.0) as u8;
                    }
                } else if self.overlay {
                    // The mask as a translucent red overlay.
                    let m = plane.sample(x, y, fw, fh, 0).clamp(0.0, 1.0) * 0.5;
                    for (c, target) in [255.0, 0.0, 0.0].into_iter().enumerate() {
                        let v = f32::from(p[c]);
                        p[c] = (v + (target - v) * m).round() as u8;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A model output: `h × w` with `channels`, planar (NCHW) or interleaved (NHWC).
struct Plane<'a> {
    data: &'a [f32],
    w: usize,
    h: usize,
    channels: usize,
    nchw: bool,
}

impl Plane<'_> {
    fn at(&self, x: usize, y: usize, c: usize) -> f32 {
        if self.nchw {
            self.data[c * self.w * self.h + y * self.w + x]
        } else {
            self.data[(y * self.w + x) * self.channels + c]
        }
    }

    /// Bilinear sample for frame pixel `(x, y)` of an `fw × fh` frame (pixel centres aligned).
    fn sample(&self, x: usize, y: usize, fw: usize, fh: usize, c: usize) -> f32 {
        let pos = |o: usize, out: usize, n: usize| {
            let s = ((o as f32 + 0.5) * n as f32 / out as f32 - 0.5).clamp(0.0, (n - 1) as f32);
            let i0 = s.floor() as usize;
            (i0, (i0 + 1).min(n - 1), s - i0 as f32)
        };
        let (x0, x1, tx) = pos(x, fw, self.w);
        let (y0, y1, ty) = pos(y, fh, self.h);
        let top = self.at(x0, y0, c) + (self.at(x1, y0, c) - self.at(x0, y0, c)) * tx;
        let bottom = self.at(x0, y1, c) + (self.at(x1, y1, c) - self.at(x0, y1, c)) * tx;
        top + (bottom - top) * ty
    }
}

impl Filter for ModelStage {
    fn label(&self) -> &str {
        &self.label
    }

    fn apply(&mut self, frame: &mut Frame<'_>, _scratch: &mut Scratch) {
        self.error = self.process(frame).err().map(|e| e.to_string());
    }
}

/// The `model` stage of a [`filters::Pipeline`] (set with `set_model_runner`): its
/// parameters set the pixel range and whether a mask is drawn.
impl ModelRunner for ModelStage {
    fn run(&mut self, frame: &mut Frame<'_>, settings: ModelSettings) {
        self.range = if settings.byte_range {
            PixelRange::Byte
        } else {
            PixelRange::Unit
        };
        self.overlay = !settings.mask_as_segmentation;
        self.error = self.process(frame).err().map(|e| e.to_string());
    }
}

/// A mask model as the person segmentation of `segment-blur` and `segment-replace` (the
/// `model` stage's `segment=1`). Its input is the model's fixed size, or
/// [`DYNAMIC_MASK_SIZE`] for a dynamic one; the output must be a 1-channel mask of the
/// input's size.
impl Segmenter for ModelStage {
    fn input_size(&self) -> (u32, u32) {
        self.fixed.unwrap_or(DYNAMIC_MASK_SIZE)
    }

    fn segment(&mut self, input: &[f32], mask: &mut [f32]) -> MaskStatus {
        let (w, h) = Segmenter::input_size(self);
        let n = w as usize * h as usize;
        if input.len() != n * 3 || mask.len() != n {
            return MaskStatus::Failed(
                ModelError::InputLength {
                    got: input.len(),
                    expected: n * 3,
                }
                .to_string(),
            );
        }
        match self.infer(input, w, h) {
            Ok((dims, data))
                if data.len() == n
                    && (dims == [1, 1, h as usize, w as usize]
                        || dims == [1, h as usize, w as usize, 1]) =>
            {
                mask.copy_from_slice(&data);
                self.error = None;
                MaskStatus::Ready
            }
            Ok((dims, _)) => {
                let err = ModelError::OutputShape {
                    shape: format!("{dims:?}"),
                    width: w as usize,
                    height: h as usize,
                };
                self.error = Some(err.to_string());
                MaskStatus::Failed(err.to_string())
            }
            Err(err) => {
                self.error = Some(err.to_string());
                MaskStatus::Failed(err.to_string())
            }
        }
    }
}
