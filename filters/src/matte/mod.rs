//! Person segmentation outside the model: what the `segment-blur` and `segment-replace`
//! stages do around a [`Segmenter`].
//!
//! Per frame, [`Matte::run`]:
//! 1. averages the frame down to the model's input (`resample`), with a luma guide;
//! 2. asks the segmenter for the person probability at that size;
//! 3. smooths it over time and fits the guided filter's coefficients (`guided`);
//!
//! then [`Matte::alpha`] upsamples the coefficients bilinearly and applies them to the
//! full-resolution luma, so the mask's edge follows the frame's own edges (`composite`),
//! and the stages blend the frame over a blurred copy of itself, a colour, or a picture the
//! user picked (`backdrop`, scaled to cover the frame).

mod backdrop;
mod composite;
mod guided;
mod resample;
mod segmenter;

pub use backdrop::{Backdrop, BackdropError};
pub use guided::{EPS, RADIUS};
pub use resample::downscale;
pub use segmenter::{MaskStatus, Segmenter};

use self::{
    composite::{CoefRows, alpha_row, blend_color_row, blend_row},
    guided::{Planes, coefficients, smooth},
    resample::{Tap, taps},
};
use crate::{blur::box_blur, frame::Frame, scratch::Scratch};

/// The edge softness of stages without a `soft` parameter (`segment-replace`).
pub const DEFAULT_SOFT: f32 = 0.5;

/// The state of one segmentation stage: buffers at the model's size, the temporally
/// smoothed mask, and the full-resolution alpha. Reused frame after frame.
#[derive(Debug)]
pub struct Matte {
    width: u32,
    height: u32,
    input: Vec<f32>,
    guide: Vec<f32>,
    mask: Vec<f32>,
    smoothed: Vec<f32>,
    /// Whether `smoothed` holds a mask (else the next one is taken as it is).
    has_mask: bool,
    planes: Planes,
    coef_a: Vec<f32>,
    coef_b: Vec<f32>,
    sums: Vec<u32>,
    xtaps: Vec<Tap>,
    ytaps: Vec<Tap>,
    /// The coefficient planes upsampled across: model height × frame width.
    up_a: Vec<f32>,
    up_b: Vec<f32>,
    alpha: Vec<u8>,
    background: Vec<u8>,
}

impl Matte {
    /// For a model whose input is `width × height` (both at least 1).
    pub fn new(width: u32, height: u32) -> Self {
        assert!(width > 0 && height > 0, "model input {width}x{height}");
        let n = width as usize * height as usize;
        Self {
            width,
            height,
            input: vec![0.0; n * 3],
            guide: vec![0.0; n],
            mask: vec![0.0; n],
            smoothed: vec![0.0; n],
            has_mask: false,
            planes: Planes::default(),
            coef_a: Vec::new(),
            coef_b: Vec::new(),
            sums: Vec::new(),
            xtaps: Vec::new(),
            ytaps: Vec::new(),
            up_a: Vec::new(),
            up_b: Vec::new(),
            alpha: Vec::new(),
            background: Vec::new(),
        }
    }

    /// The model input size this matte was made for.
    pub fn input_size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Step 1: the frame averaged down to the model input (RGB in `[0, 1]`, NHWC).
    pub fn prepare(&mut self, frame: &Frame<'_>) -> &[f32] {
        downscale(
            frame,
            self.width,
            self.height,
            &mut self.input,
            &mut self.guide,
            &mut self.sums,
        );
        &self.input
    }

    /// Step 2: the model's person probabilities for the prepared input (`height × width`),
    /// smoothed over time (set `smoothing` false for a single picture) and refined.
    pub fn set_mask(&mut self, mask: &[f32], smoothing: bool) {
        self.mask.copy_from_slice(mask);
        self.refine(smoothing);
    }

    /// Steps 1 and 2 with `segmenter`; on anything but [`MaskStatus::Ready`] the matte keeps
    /// its last mask (and the caller leaves the frame alone).
    pub fn run(&mut self, frame: &Frame<'_>, segmenter: &mut dyn Segmenter) -> MaskStatus {
        let (w, h) = segmenter.input_size();
        if w == 0 || h == 0 {
            return MaskStatus::Failed(format!("segmenter input size {w}x{h} is empty"));
        }
        if (w, h) != (self.width, self.height) {
            *self = Self::new(w, h);
        }
        self.prepare(frame);
        let status = segmenter.segment(&self.input, &mut self.mask);
        if status == MaskStatus::Ready {
            self.refine(true);
        }
        status
    }

    fn refine(&mut self, smoothing: bool) {
        if smoothing && self.has_mask {
            smooth(&self.mask, &mut self.smoothed);
        } else {
            self.smoothed.copy_from_slice(&self.mask);
        }
        self.has_mask = true;
        coefficients(
            &self.guide,
            &self.smoothed,
            self.width as usize,
            self.height as usize,
            &mut self.planes,
            &mut self.coef_a,
            &mut self.coef_b,
        );
    }

    /// Forgets the temporal state (a new source, a jump in the video).
    pub fn reset(&mut self) {
        self.has_mask = false;
    }

    /// Step 3: the alpha of every pixel of `frame` (row-major, `width × height` bytes,
    /// 255 = person), the refined mask at full resolution. `soft` in `[0, 1]` is the width
    /// of the edge's ramp in probability (0: a hard edge; 1: the probability as it is).
    /// Before any mask, all background (0).
    pub fn alpha(&mut self, frame: &Frame<'_>, soft: f32) -> &[u8] {
        let (fw, fh) = (frame.width() as usize, frame.height() as usize);
        self.alpha.resize(fw * fh, 0);
        if !self.has_mask {
            self.alpha.fill(0);
            return &self.alpha;
        }
        let (w, h) = (self.width as usize, self.height as usize);
        taps(fw, w, &mut self.xtaps);
        taps(fh, h, &mut self.ytaps);
        // Separably: each coefficient row across to the frame's width once, then every frame
        // row is a blend of two such rows, contiguous and vectorizable.
        self.up_a.resize(h * fw, 0.0);
        self.up_b.resize(h * fw, 0.0);
        for (coef, up) in [
            (&self.coef_a, &mut self.up_a),
            (&self.coef_b, &mut self.up_b),
        ] {
            for (src, dst) in coef.chunks_exact(w).zip(up.chunks_exact_mut(fw)) {
                for (d, tap) in dst.iter_mut().zip(&self.xtaps) {
                    let (v0, v1) = (src[tap.i0 as usize], src[tap.i1 as usize]);
                    *d = v0 + (v1 - v0) * tap.t;
                }
            }
        }
        let inv_soft = 1.0 / soft.max(1.0 / 255.0);
        for (y, (out, tap)) in self.alpha.chunks_exact_mut(fw).zip(&self.ytaps).enumerate() {
            let (r0, r1) = (tap.i0 as usize * fw, tap.i1 as usize * fw);
            let rows = CoefRows {
                a0: &self.up_a[r0..r0 + fw],
                a1: &self.up_a[r1..r1 + fw],
                b0: &self.up_b[r0..r0 + fw],
                b1: &self.up_b[r1..r1 + fw],
                t: tap.t,
            };
            alpha_row(frame.row(y as u32), &rows, inv_soft, out);
        }
        &self.alpha
    }

    /// `segment-blur`: the person over the frame box-blurred with radius `r`.
    pub fn blur_background(
        &mut self,
        frame: &mut Frame<'_>,
        r: u32,
        soft: f32,
        scratch: &mut Scratch,
    ) {
        let (fw, fh) = (frame.width(), frame.height());
        let row_len = fw as usize * 4;
        let mut background = std::mem::take(&mut self.background);
        background.clear();
        for row in frame.rows() {
            background.extend_from_slice(row);
        }
        let mut blurred =
            Frame::new(&mut background, fw, fh).expect("a copy of a valid frame is valid");
        box_blur(&mut blurred, r, scratch);
        self.alpha(frame, soft);
        for ((row, alpha), bg) in frame
            .rows_mut()
            .zip(self.alpha.chunks_exact(fw as usize))
            .zip(background.chunks_exact(row_len))
        {
            blend_row(row, alpha, bg);
        }
        self.background = background;
    }

    /// `segment-replace`: the person over the colour `rgb`.
    pub fn replace_background(&mut self, frame: &mut Frame<'_>, rgb: [u8; 3], soft: f32) {
        let fw = frame.width() as usize;
        self.alpha(frame, soft);
        for (row, alpha) in frame.rows_mut().zip(self.alpha.chunks_exact(fw)) {
            blend_color_row(row, alpha, rgb);
        }
    }

    /// `segment-replace` with a picked picture: the person over `backdrop`, which is scaled
    /// to cover the frame.
    pub fn replace_background_with(
        &mut self,
        frame: &mut Frame<'_>,
        backdrop: &mut Backdrop,
        soft: f32,
    ) {
        let (fw, fh) = (frame.width(), frame.height());
        self.alpha(frame, soft);
        let picture = backdrop.fitted(fw, fh);
        for ((row, alpha), bg) in frame
            .rows_mut()
            .zip(self.alpha.chunks_exact(fw as usize))
            .zip(picture.chunks_exact(fw as usize * 4))
        {
            blend_row(row, alpha, bg);
        }
    }
}
