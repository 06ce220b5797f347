//! Depthwise 2-D convolution of `N×C×H×W` maps (ONNX `Conv` with one filter per channel),
//! with the activation that follows it fused in: the selfie model's eleven depthwise
//! convolutions, which rten 0.27 runs with a scalar kernel on wasm32 (its taps read the
//! input with a stride only known at run time, so nothing is vectorised: over a third of
//! the inference there). See [`crate::runner`] for how the graph hands them over.
//!
//! Each input row is zero-padded once and split into `stride` phases (every `stride`-th
//! value), so each kernel tap of an output row is a multiply-add of two contiguous slices,
//! which the compiler turns into SIMD. [`reference`] is the plain sum per output value.

/// What follows the convolution, applied to each output value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    None,
    /// `max(x, 0)` (ONNX `Relu`, or `LeakyRelu` with `alpha = 0`).
    Relu,
    /// `x · clamp(alpha·x + beta, 0, 1)` (ONNX `HardSwish`, or `x · HardSigmoid(x)`).
    HardSwish {
        alpha: f32,
        beta: f32,
    },
}

impl Activation {
    fn apply(self, row: &mut [f32]) {
        // A comparison, not `f32::max`: that is a call of libm's fmaxf on wasm32 (see
        // models/tflite2onnx.py). `f32::clamp` is comparisons already.
        match self {
            Self::None => {}
            Self::Relu => {
                for v in row {
                    *v = if *v < 0.0 { 0.0 } else { *v };
                }
            }
            Self::HardSwish { alpha, beta } => {
                for v in row {
                    let gate = (alpha * *v + beta).clamp(0.0, 1.0);
                    *v *= gate;
                }
            }
        }
    }
}

/// Largest kernel side, stride, dilation and padding taken (real models use a few): a model
/// asking for more is left to rten, so its numbers cannot size this kernel's buffers.
pub const MAX_WINDOW: usize = 64;

/// One depthwise convolution: a `kernel[0] × kernel[1]` filter and a bias per channel.
#[derive(Clone, Debug, PartialEq)]
pub struct Depthwise {
    pub channels: usize,
    /// `[height, width]`
    pub kernel: [usize; 2],
    /// `[y, x]`
    pub strides: [usize; 2],
    /// `[y, x]`
    pub dilations: [usize; 2],
    /// `[top, left, bottom, right]` (ONNX's order)
    pub pads: [usize; 4],
    /// `channels × kernel[0] × kernel[1]`
    pub weights: Vec<f32>,
    /// One per channel.
    pub bias: Vec<f32>,
    pub activation: Activation,
}

impl Depthwise {
    /// The output `(height, width)` for an input of `height × width` (not empty), if the
    /// filter fits.
    pub fn output_size(&self, height: usize, width: usize) -> Option<(usize, usize)> {
        let [top, left, bottom, right] = self.pads;
        let span = |k: usize, d: usize| (k.checked_sub(1)?).checked_mul(d)?.checked_add(1);
        let out = |len: usize, pad: usize, k: usize, d: usize, s: usize| {
            let padded = len.checked_add(pad)?;
            Some(padded.checked_sub(span(k, d)?)? / s + 1)
        };
        let [sy, sx] = self.strides;
        let [dy, dx] = self.dilations;
        if sy == 0 || sx == 0 || height == 0 || width == 0 {
            return None;
        }
        Some((
            out(height, top.checked_add(bottom)?, self.kernel[0], dy, sy)?,
            out(width, left.checked_add(right)?, self.kernel[1], dx, sx)?,
        ))
    }

    /// Whether the filter's parts agree with each other and are within [`MAX_WINDOW`] (the
    /// loader checks this once).
    pub fn is_consistent(&self) -> bool {
        let [kh, kw] = self.kernel;
        let mut window = self
            .kernel
            .iter()
            .chain(&self.strides)
            .chain(&self.dilations);
        self.channels > 0
            && window.all(|&v| (1..=MAX_WINDOW).contains(&v))
            && self.pads.iter().all(|&p| p <= MAX_WINDOW)
            && self.weights.len() == self.channels * kh * kw
            && self.bias.len() == self.channels
    }

    /// Convolves `src` (`planes × height × width`, `planes` a multiple of the channel count:
    /// batch after batch) into `dst` (`planes × out_h × out_w`, see [`Self::output_size`]).
    ///
    /// # Panics
    /// If the lengths do not fit those shapes: the caller sizes both from one shape.
    pub fn run(&self, src: &[f32], planes: usize, height: usize, width: usize, dst: &mut [f32]) {
        let (out_h, out_w) = self
            .output_size(height, width)
            .expect("the caller checked that the filter fits");
        assert!(
            planes.is_multiple_of(self.channels),
            "whole batches of channels"
        );
        assert_eq!(
            src.len(),
            planes * height * width,
            "source is planes × h × w"
        );
        assert_eq!(
            dst.len(),
            planes * out_h * out_w,
            "destination is planes × out_h × out_w"
        );
        let [kh, kw] = self.kernel;
        let [sy, sx] = self.strides;
        let [dy, dx] = self.dilations;
        let [top, left, _, right] = self.pads;
        // One input row, padded and split into `sx` phases of `phase_len` values each.
        let padded_w = width + left + right;
        let phase_len = padded_w.div_ceil(sx);
        let row_len = sx * phase_len;
        let mut rows = vec![0.0f32; height * row_len];
        let mut padded = vec![0.0f32; row_len];
        for (plane, (src, dst)) in src
            .chunks_exact(height * width)
            .zip(dst.chunks_exact_mut(out_h * out_w))
            .enumerate()
        {
            let c = plane % self.channels;
            for (row, phased) in src.chunks_exact(width).zip(rows.chunks_exact_mut(row_len)) {
                padded[left..left + width].copy_from_slice(row);
                for (p, phase) in phased.chunks_exact_mut(phase_len).enumerate() {
                    for (j, v) in phase.iter_mut().enumerate() {
                        *v = padded[j * sx + p];
                    }
                }
            }
            let filter = &self.weights[c * kh * kw..][..kh * kw];
            for (y, out) in dst.chunks_exact_mut(out_w).enumerate() {
                out.fill(self.bias[c]);
                for (ky, taps) in filter.chunks_exact(kw).enumerate() {
                    let Some(in_y) = (y * sy + ky * dy).checked_sub(top).filter(|&r| r < height)
                    else {
                        continue;
                    };
                    let phased = &rows[in_y * row_len..][..row_len];
                    for (kx, &tap) in taps.iter().enumerate() {
                        let at = kx * dx;
                        let (phase, offset) = (at % sx, at / sx);
                        let input = &phased[phase * phase_len + offset..][..out_w];
                        for (o, &v) in out.iter_mut().zip(input) {
                            *o += tap * v;
                        }
                    }
                }
                self.activation.apply(out);
            }
        }
    }
}

/// The convolution by its definition, output value by output value.
#[cfg(test)]
pub(crate) fn reference(
    conv: &Depthwise,
    src: &[f32],
    planes: usize,
    height: usize,
    width: usize,
) -> Vec<f32> {
    let (out_h, out_w) = conv.output_size(height, width).unwrap();
    let [kh, kw] = conv.kernel;
    let mut out = Vec::with_capacity(planes * out_h * out_w);
    for (plane, src) in src.chunks_exact(height * width).enumerate() {
        let c = plane % conv.channels;
        for y in 0..out_h {
            for x in 0..out_w {
                let mut sum = conv.bias[c];
                for ky in 0..kh {
                    for kx in 0..kw {
                        let iy = (y * conv.strides[0] + ky * conv.dilations[0]) as isize
                            - conv.pads[0] as isize;
                        let ix = (x * conv.strides[1] + kx * conv.dilations[1]) as isize
                            - conv.pads[1] as isize;
                        if (0..height as isize).contains(&iy) && (0..width as isize).contains(&ix) {
                            sum += conv.weights[(c * kh + ky) * kw + kx]
                                * src[iy as usize * width + ix as usize];
                        }
                    }
                }
                let mut v = [sum];
                conv.activation.apply(&mut v);
                out.push(v[0]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (((i + seed) * 7919) % 1013) as f32 / 211.0 - 2.4)
            .collect()
    }

    fn conv(
        channels: usize,
        kernel: [usize; 2],
        strides: [usize; 2],
        pads: [usize; 4],
    ) -> Depthwise {
        Depthwise {
            channels,
            kernel,
            strides,
            dilations: [1, 1],
            pads,
            weights: values(channels * kernel[0] * kernel[1], 5),
            bias: values(channels, 9),
            activation: Activation::None,
        }
    }

    fn check(conv: &Depthwise, planes: usize, height: usize, width: usize) {
        let src = values(planes * height * width, 1);
        let (oh, ow) = conv.output_size(height, width).unwrap();
        let mut fast = vec![f32::NAN; planes * oh * ow];
        conv.run(&src, planes, height, width, &mut fast);
        let slow = reference(conv, &src, planes, height, width);
        let what = format!("{conv:?} on {planes}×{height}×{width}");
        crate::testing::assert_all_close(&fast, &slow, 1e-4, &what);
    }

    #[test]
    fn matches_the_definition_on_awkward_sizes() {
        for (kernel, strides, pads) in [
            ([3, 3], [1, 1], [1, 1, 1, 1]),
            ([3, 3], [2, 2], [0, 0, 1, 1]),
            ([5, 5], [2, 2], [1, 1, 2, 2]),
            ([5, 5], [1, 1], [2, 2, 2, 2]),
            ([1, 1], [1, 1], [0, 0, 0, 0]),
            ([3, 1], [1, 3], [2, 0, 0, 1]),
        ] {
            for (height, width) in [(1, 1), (9, 16), (17, 65), (4, 1281), (1, 9)] {
                let conv = conv(3, kernel, strides, pads);
                if conv.output_size(height, width).is_some() {
                    check(&conv, 6, height, width);
                }
            }
        }
    }

    #[test]
    fn dilation_and_the_fused_activations_match_too() {
        let mut dilated = conv(2, [3, 3], [1, 2], [2, 2, 2, 2]);
        dilated.dilations = [2, 3];
        check(&dilated, 2, 11, 13);
        for activation in [
            Activation::Relu,
            Activation::HardSwish {
                alpha: 1.0 / 6.0,
                beta: 0.5,
            },
        ] {
            let mut fused = conv(4, [5, 5], [1, 1], [2, 2, 2, 2]);
            fused.activation = activation;
            check(&fused, 4, 9, 16);
        }
    }

    #[test]
    fn a_filter_that_does_not_fit_has_no_output_size() {
        let c = conv(1, [5, 5], [1, 1], [0, 0, 0, 0]);
        assert_eq!(c.output_size(4, 9), None);
        assert_eq!(c.output_size(0, 9), None);
        assert_eq!(c.output_size(5, 5), Some((1, 1)));
        assert!(c.is_consistent());
    }

    #[test]
    fn out_of_range_parameters_are_not_consistent() {
        let fine = conv(2, [3, 3], [1, 1], [1, 1, 1, 1]);
        assert!(fine.is_consistent());
        let mut huge_pad = fine.clone();
        huge_pad.pads = [usize::MAX, 0, 0, 0];
        let mut no_stride = fine.clone();
        no_stride.strides = [0, 1];
        let mut short_weights = fine.clone();
        short_weights.weights.pop();
        let no_channels = Depthwise {
            channels: 0,
            weights: Vec::new(),
            bias: Vec::new(),
            ..fine
        };
        for bad in [huge_pad, no_stride, short_weights, no_channels] {
            assert!(!bad.is_consistent(), "{bad:?}");
        }
    }
}
