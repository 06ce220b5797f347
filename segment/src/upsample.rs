//! Bilinear 2× upsampling of `N×C×H×W` feature maps: ONNX `Resize` with `mode=linear`,
//! `coordinate_transformation_mode=half_pixel` and a scale of exactly 2 on H and W, the op
//! behind the selfie model's decoder (see [`crate::runner`] for why it is done here).
//!
//! With a scale of 2 and half-pixel centres every output sample sits a quarter of a pixel
//! from its nearest input sample, so the weights are fixed: along each axis
//! `out[2i] = ¾·x[i] + ¼·x[i−1]` and `out[2i+1] = ¾·x[i] + ¼·x[i+1]`, the neighbour clamped
//! at the edges. [`upsample_2x`] applies that to each row, then blends whole widened rows
//! (plain slices the compiler vectorises); [`reference`] is the spec's per-pixel formula.

/// Upsamples `planes` planes of `height × width` values in `src` (contiguous, plane after
/// plane) into `dst` (`planes × 2·height × 2·width`).
///
/// # Panics
/// If `src` or `dst` is not exactly that long: the caller sizes both from one shape.
pub fn upsample_2x(src: &[f32], planes: usize, height: usize, width: usize, dst: &mut [f32]) {
    let (w2, plane_in, plane_out) = (2 * width, height * width, 4 * height * width);
    assert_eq!(
        src.len(),
        planes * plane_in,
        "source is planes × height × width"
    );
    assert_eq!(
        dst.len(),
        planes * plane_out,
        "destination is planes × 2h × 2w"
    );
    if plane_in == 0 {
        return;
    }
    // Every input row widened, for one plane: each is read by three output row pairs.
    let mut wide = vec![0.0f32; height * w2];
    for (src, dst) in src
        .chunks_exact(plane_in)
        .zip(dst.chunks_exact_mut(plane_out))
    {
        for (row, out) in src.chunks_exact(width).zip(wide.chunks_exact_mut(w2)) {
            widen_row(row, out);
        }
        for (i, pair) in dst.chunks_exact_mut(2 * w2).enumerate() {
            let mid = &wide[i * w2..][..w2];
            let up = &wide[i.saturating_sub(1) * w2..][..w2];
            let down = &wide[(i + 1).min(height - 1) * w2..][..w2];
            let (even, odd) = pair.split_at_mut(w2);
            blend(even, mid, up);
            blend(odd, mid, down);
        }
    }
}

/// `out = ¾·near + ¼·far`, element by element.
fn blend(out: &mut [f32], near: &[f32], far: &[f32]) {
    for ((o, &n), &f) in out.iter_mut().zip(near).zip(far) {
        *o = 0.75 * n + 0.25 * f;
    }
}

/// One row `x` (length `w`) into `out` (length `2w`).
fn widen_row(x: &[f32], out: &mut [f32]) {
    let last = x.len() - 1;
    for (j, pair) in out.chunks_exact_mut(2).enumerate() {
        let near = 0.75 * x[j];
        pair[0] = near + 0.25 * x[j.saturating_sub(1)];
        pair[1] = near + 0.25 * x[(j + 1).min(last)];
    }
}

/// The ONNX spec's formula, output pixel by output pixel: the input coordinate
/// `(o + ½)/2 − ½`, clamped to the plane, then linear interpolation along x and along y.
#[cfg(test)]
pub(crate) fn reference(src: &[f32], planes: usize, height: usize, width: usize) -> Vec<f32> {
    let coord = |o: usize, len: usize| {
        let c = (f32::midpoint(o as f32, 0.5) - 0.5).clamp(0.0, (len - 1) as f32);
        let lo = c as usize;
        (lo, (lo + 1).min(len - 1), c - lo as f32)
    };
    let mut out = Vec::with_capacity(planes * 4 * height * width);
    for plane in src.chunks_exact(height * width) {
        for y in 0..2 * height {
            let (y0, y1, wy) = coord(y, height);
            for x in 0..2 * width {
                let (x0, x1, wx) = coord(x, width);
                let at = |y: usize, x: usize| plane[y * width + x];
                let top = (1.0 - wx) * at(y0, x0) + wx * at(y0, x1);
                let bottom = (1.0 - wx) * at(y1, x0) + wx * at(y1, x1);
                out.push((1.0 - wy) * top + wy * bottom);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values with structure in both axes, different in every plane.
    fn planes(planes: usize, height: usize, width: usize) -> Vec<f32> {
        (0..planes * height * width)
            .map(|i| ((i * 7919) % 1013) as f32 / 97.0 - 5.0)
            .collect()
    }

    #[test]
    fn matches_the_spec_formula_on_awkward_sizes() {
        for (planes_n, height, width) in [
            (1, 1, 1),
            (3, 1, 9),
            (2, 9, 1),
            (4, 9, 16),
            (5, 17, 65),
            (1, 3, 1281),
            (16, 36, 64),
        ] {
            let src = planes(planes_n, height, width);
            let mut fast = vec![f32::NAN; planes_n * 4 * height * width];
            upsample_2x(&src, planes_n, height, width, &mut fast);
            let slow = reference(&src, planes_n, height, width);
            let what = format!("{planes_n}×{height}×{width}");
            crate::testing::assert_all_close(&fast, &slow, 1e-5, &what);
        }
    }

    #[test]
    fn a_constant_plane_stays_constant_and_a_ramp_stays_linear_inside() {
        let mut out = vec![0.0; 4 * 4 * 6];
        upsample_2x(&[2.5; 4 * 6], 1, 4, 6, &mut out);
        assert!(out.iter().all(|&v| (v - 2.5).abs() < 1e-6));

        // x = 0, 1, 2, 3 → samples at x − ¼ and x + ¼ away from the clamped edges.
        let ramp = [0.0, 1.0, 2.0, 3.0];
        let mut out = vec![0.0; 16];
        upsample_2x(&ramp, 1, 1, 4, &mut out);
        let row = [0.0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.0];
        assert_eq!(out[..8], row);
        assert_eq!(
            out[8..],
            row,
            "one input row: both output rows are that row"
        );
    }

    #[test]
    fn empty_planes_are_fine() {
        upsample_2x(&[], 0, 4, 4, &mut []);
        upsample_2x(&[], 3, 0, 4, &mut []);
    }
}
