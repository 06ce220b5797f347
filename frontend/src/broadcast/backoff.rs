//! Reconnect delays: exponential backoff with "equal jitter".
//!
//! After a server restart every publisher reconnects at once; the random half of each
//! delay spreads them out, the fixed half keeps a flapping server from being hammered.

/// First retry delay.
pub const BASE_MS: f64 = 250.0;
/// Longest delay between two attempts.
pub const MAX_MS: f64 = 5_000.0;

/// Delay before reconnect attempt number `attempt` (0 for the first retry).
/// `jitter` is a uniform random number in `[0, 1)`; values outside are clamped.
pub fn delay_ms(attempt: u32, jitter: f64) -> f64 {
    // 2^20 * BASE_MS is far above MAX_MS: cap the exponent so the power stays finite.
    let cap = (BASE_MS * f64::from(1u32 << attempt.min(20))).min(MAX_MS);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.5
    };
    cap / 2.0 + jitter * cap / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn grows_exponentially_then_caps() {
        let hi: Vec<f64> = (0..8).map(|a| delay_ms(a, 1.0)).collect();
        assert_eq!(hi[..5], [250.0, 500.0, 1000.0, 2000.0, 4000.0]);
        assert!(hi[5..].iter().all(|&d| (d - MAX_MS).abs() < f64::EPSILON));
        assert!((delay_ms(u32::MAX, 1.0) - MAX_MS).abs() < f64::EPSILON);
    }

    #[wasm_bindgen_test]
    fn jitter_spans_the_upper_half() {
        assert!((delay_ms(2, 0.0) - 500.0).abs() < f64::EPSILON);
        assert!((delay_ms(2, 0.5) - 750.0).abs() < f64::EPSILON);
        assert!((delay_ms(2, f64::NAN) - 750.0).abs() < f64::EPSILON);
        assert!((delay_ms(2, -3.0) - 500.0).abs() < f64::EPSILON);
    }
}
