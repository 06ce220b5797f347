//! [`MaskModel`]: an ONNX model that maps an RGB image to a person (or any) mask, on rten.

use std::sync::Arc;

use crate::runner::Runner;
use crate::shape::{fixed, shape_text};
use rten::{RunOptions, ThreadPool};
use rten_tensor::{AsView as _, Layout as _, NdTensor, NdTensorView};

pub use crate::error::{MAX_INPUT_SIDE, MAX_MODEL_BYTES, ModelError};

/// Memory order of the model's image input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `1 × 3 × H × W`: channel planes (`PyTorch`'s export).
    Nchw,
    /// `1 × H × W × 3`: interleaved pixels (TensorFlow's, and `MediaPipe`'s).
    Nhwc,
}

/// The range the model wants its pixel values in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelRange {
    /// `[0, 1]`
    Unit,
    /// `[0, 255]`
    Byte,
}

impl PixelRange {
    /// What a value in `[0, 1]` is multiplied by.
    pub(crate) fn scale(self) -> f32 {
        match self {
            Self::Unit => 1.0,
            Self::Byte => 255.0,
        }
    }
}

impl Layout {
    /// The input tensor's shape for a `width × height` image.
    pub(crate) fn shape(self, width: usize, height: usize) -> [usize; 4] {
        match self {
            Self::Nhwc => [1, height, width, 3],
            Self::Nchw => [1, 3, height, width],
        }
    }
}

/// `rgb` (`pixels × 3` values in `[0, 1]`, interleaved as [`filters::Matte::prepare`] and
/// `matte::downscale` make them) in a model's layout and range: `rgb` itself when that is
/// already NHWC in `[0, 1]`, else rewritten into `staged`.
pub(crate) fn model_input<'a>(
    rgb: &'a [f32],
    pixels: usize,
    (layout, range): (Layout, PixelRange),
    staged: &'a mut Vec<f32>,
) -> &'a [f32] {
    if layout == Layout::Nhwc && range == PixelRange::Unit {
        return rgb;
    }
    let scale = range.scale();
    staged.resize(pixels * 3, 0.0);
    match layout {
        Layout::Nhwc => {
            for (s, &v) in staged.iter_mut().zip(rgb) {
                *s = v * scale;
            }
        }
        Layout::Nchw => {
            let (r, rest) = staged.split_at_mut(pixels);
            let (g, b) = rest.split_at_mut(pixels);
            for (i, px) in rgb.chunks_exact(3).enumerate() {
                r[i] = px[0] * scale;
                g[i] = px[1] * scale;
                b[i] = px[2] * scale;
            }
        }
    }
    staged
}

/// A loaded model with one RGB image input of fixed size and one 1-channel output of the
/// same size (a probability per pixel, after any sigmoid).
///
/// `MediaPipe`'s selfie segmentation (`selfie_segmentation_landscape.onnx`, made by
/// `cargo xtask setup`) is one: NHWC `1×144×256×3` in `[0, 1]`, mask `1×144×256×1`.
pub struct MaskModel {
    runner: Runner,
    width: usize,
    height: usize,
    layout: Layout,
    range: PixelRange,
    /// The input in the model's layout and range, when that is not NHWC in `[0, 1]`.
    staged: Vec<f32>,
}

impl std::fmt::Debug for MaskModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaskModel")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("layout", &self.layout)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

impl MaskModel {
    /// Loads an ONNX model (bytes of a `.onnx` file) whose pixels are in `range`, and checks
    /// its input and output shapes.
    pub fn load(bytes: Vec<u8>, range: PixelRange) -> Result<Self, ModelError> {
        let runner = Runner::load(bytes)?;
        let in_shape = runner.input_shape().unwrap_or_default();
        let bad_input = || ModelError::InputShape {
            shape: shape_text(&in_shape),
        };
        let dims = fixed(&in_shape).ok_or_else(bad_input)?;
        let (layout, height, width) = match dims[..] {
            [1, 3, h, w] => (Layout::Nchw, h, w),
            [1, h, w, 3] => (Layout::Nhwc, h, w),
            _ => return Err(bad_input()),
        };
        if !(1..=MAX_INPUT_SIDE).contains(&width) || !(1..=MAX_INPUT_SIDE).contains(&height) {
            return Err(bad_input());
        }
        // The output shape is checked when the model declares it; otherwise on each run.
        if let Some(out_shape) = runner.output_shape()
            && let Some(dims) = fixed(&out_shape)
            && !is_mask_shape(&dims, width, height)
        {
            return Err(ModelError::OutputShape {
                shape: shape_text(&out_shape),
                width,
                height,
            });
        }
        Ok(Self {
            runner,
            width,
            height,
            layout,
            range,
            staged: Vec::new(),
        })
    }

    /// The input `(width, height)`.
    pub fn input_size(&self) -> (u32, u32) {
        (self.width as u32, self.height as u32)
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Runs inference on `threads` threads (the default is rten's pool, one per core). In a
    /// browser worker there is one either way.
    pub fn set_threads(&mut self, threads: usize) {
        let mut options = RunOptions::default();
        options.thread_pool = Some(Arc::new(ThreadPool::with_num_threads(threads.max(1))));
        self.runner.set_options(options);
    }

    /// `input`: `height × width × 3` RGB floats in `[0, 1]`, row-major (what
    /// [`filters::Matte::prepare`] makes); writes `height × width` probabilities into `mask`.
    pub fn infer(&mut self, input: &[f32], mask: &mut [f32]) -> Result<(), ModelError> {
        let n = self.width * self.height;
        if input.len() != n * 3 {
            return Err(ModelError::InputLength {
                got: input.len(),
                expected: n * 3,
            });
        }
        if mask.len() != n {
            return Err(ModelError::InputLength {
                got: mask.len(),
                expected: n,
            });
        }
        let data = model_input(input, n, (self.layout, self.range), &mut self.staged);
        let shape = self.layout.shape(self.width, self.height);
        let view = NdTensorView::from_data(shape, data);
        let out = self.runner.run(view.into())?;
        let out: NdTensor<f32, 4> = out.try_into().map_err(|_| ModelError::OutputShape {
            shape: "(not a 4-d float tensor)".to_owned(),
            width: self.width,
            height: self.height,
        })?;
        if !is_mask_shape(out.shape().as_ref(), self.width, self.height) {
            return Err(ModelError::OutputShape {
                shape: format!("{:?}", out.shape()),
                width: self.width,
                height: self.height,
            });
        }
        for (m, v) in mask.iter_mut().zip(out.iter()) {
            *m = *v;
        }
        Ok(())
    }
}

/// `[1, h, w, 1]` or `[1, 1, h, w]`: the same memory order.
fn is_mask_shape(dims: &[usize], width: usize, height: usize) -> bool {
    dims == [1, height, width, 1] || dims == [1, 1, height, width]
}

impl filters::Segmenter for MaskModel {
    fn input_size(&self) -> (u32, u32) {
        MaskModel::input_size(self)
    }

    fn segment(&mut self, input: &[f32], mask: &mut [f32]) -> filters::MaskStatus {
        match self.infer(input, mask) {
            Ok(()) => filters::MaskStatus::Ready,
            Err(err) => filters::MaskStatus::Failed(err.to_string()),
        }
    }
}
