//! The gaussian's Q8 weights, and the longest kernel they can make. A leaf of its own so that
//! the blurs and the simd128 FIR size their tap arrays by the same constant without either
//! importing the other.

/// Longest kernel: sigma 10 gives radius 30.
pub(crate) const MAX_TAPS: usize = 61;

/// Q8 gaussian weights for `sigma`, radius `ceil(3 sigma)` (at most 30), summing to exactly
/// 256 (the rounding remainder goes to the centre tap), without the outer zero taps.
pub(crate) fn gaussian_weights(sigma: f32) -> Vec<u16> {
    let sigma = f64::from(sigma);
    let radius = ((3.0 * sigma).ceil().max(1.0) as i32).min(MAX_TAPS as i32 / 2);
    let raw: Vec<f64> = (-radius..=radius)
        .map(|k| (-f64::from(k * k) / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = raw.iter().sum();
    let mut weights: Vec<u16> = raw
        .iter()
        .map(|w| (w / total * 256.0).round() as u16)
        .collect();
    let sum: u16 = weights.iter().sum();
    let centre = radius as usize;
    weights[centre] = weights[centre] + 256 - sum;
    // Outer taps that round to 0 change nothing; dropping them saves their work
    // (sigma 1.5: 9 taps instead of 11).
    let zeros = weights.iter().take_while(|&&w| w == 0).count();
    weights[zeros..weights.len() - zeros].to_vec()
}
