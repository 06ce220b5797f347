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
//!   overlay. (To use a mask model as the segmentation behind `segment-blur` and
//!   `segment-replace`, load it as a [`crate::MaskModel`] and set it as the segmenter.)
//! - **errors** leave the frame unchanged and are kept in [`ModelStage::error`]: an operator
//!   rten does not have is named at load ([`ModelError::Load`]), a wrong input shape, a file
//!   over [`crate::model::MAX_MODEL_BYTES`], an output of another shape. How slow a model is,
//!   the pipeline's per-stage timing shows (`Pipeline::apply_observed`).
//!
//! The model stays on the device: the stage gets the file's bytes, never a URL.

use filters::{Filter, Frame, Scratch, matte::downscale};
use rten::{Dimension, Model, NodeId};
use rten_tensor::{AsView as _, Layout as _, NdTensorView, Tensor};

use crate::model::{Layout, MAX_INPUT_SIDE, ModelError, PixelRange, shape_text};

/// Longest side a dynamic-size input is given.
pub const MAX_DYNAMIC_SIDE: u32 = 512;

/// A user's ONNX model run on every frame.
pub struct ModelStage {
    label: String,
    model: Model,
    input_id: NodeId,
    output_id: NodeId,
    layout: Layout,
    range: PixelRange,
    /// `(width, height)` when the model fixes them.
    fixed: Option<(u32, u32)>,
    rgb: Vec<f32>,
    guide: Vec<f32>,
    sums: Vec<u32>,
    staged: Vec<f32>,
    error: Option<String>,
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
        let (model, input_id, output_id) = crate::model::load_one_in_one_out(bytes)?;
        let shape = model
            .node_info(input_id)
            .and_then(|n| n.shape())
            .unwrap_or_default();
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
            model,
            input_id,
            output_id,
            layout,
            range,
            fixed,
            rgb: Vec::new(),
            guide: Vec::new(),
            sums: Vec::new(),
            staged: Vec::new(),
            error: None,
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

    fn run(&mut self, frame: &mut Frame<'_>) -> Result<(), ModelError> {
        let (w, h) = self.input_size(frame.width(), frame.height());
        let n = w as usize * h as usize;
        self.rgb.resize(n * 3, 0.0);
        self.guide.resize(n, 0.0);
        downscale(frame, w, h, &mut self.rgb, &mut self.guide, &mut self.sums);
        let scale = match self.range {
            PixelRange::Unit => 1.0,
            PixelRange::Byte => 255.0,
        };
        self.staged.resize(n * 3, 0.0);
        match self.layout {
            Layout::Nhwc => {
                for (s, &v) in self.staged.iter_mut().zip(&self.rgb) {
                    *s = v * scale;
                }
            }
            Layout::Nchw => {
                for (i, px) in self.rgb.chunks_exact(3).enumerate() {
                    for (c, &v) in px.iter().enumerate() {
                        self.staged[c * n + i] = v * scale;
                    }
                }
            }
        }
        let shape = match self.layout {
            Layout::Nhwc => [1, h as usize, w as usize, 3],
            Layout::Nchw => [1, 3, h as usize, w as usize],
        };
        let view = NdTensorView::from_data(shape, &self.staged[..]);
        let [out] = self
            .model
            .run_n(vec![(self.input_id, view.into())], [self.output_id], None)?;
        let out: Tensor<f32> = out.try_into().map_err(|_| ModelError::OutputShape {
            shape: "(not a float tensor)".to_owned(),
            width: w as usize,
            height: h as usize,
        })?;
        let dims = out.shape().to_vec();
        let data = out.to_vec();
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
        let (fw, fh) = (frame.width() as usize, frame.height() as usize);
        for (y, row) in frame.rows_mut().enumerate() {
            let (px, _) = row.as_chunks_mut::<4>();
            for (x, p) in px.iter_mut().enumerate() {
                if image {
                    for (c, v) in p[..3].iter_mut().enumerate() {
                        let value = plane.sample(x, y, fw, fh, c) / scale;
                        *v = (value * 255.0).round().clamp(0.0, 255.0) as u8;
                    }
                } else {
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
        self.error = self.run(frame).err().map(|e| e.to_string());
    }
}
