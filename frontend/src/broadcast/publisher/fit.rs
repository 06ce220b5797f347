//! Frames kept under the server's size limit (its `welcome` says it). A frame that comes out
//! larger is not sent: the server would close the socket with 1009, and the next frame would
//! be as large. Instead the next frames are made smaller, first in JPEG quality, then in
//! size; frames well under the limit let both recover, a little at a time.

/// The lowest share of the settings' quality, and then of their width, frames go down to.
pub const FLOOR: f64 = 0.25;
/// Each frame over the limit takes this much off.
const STEP_DOWN: f64 = 0.8;
/// Each frame under half the limit gives this much back (hysteresis: a frame between half
/// the limit and the limit changes nothing).
const STEP_UP: f64 = 1.02;

/// The share of the settings' JPEG quality and of their width frames are encoded at.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Fit {
    pub quality: f64,
    pub width: f64,
}

impl Default for Fit {
    fn default() -> Self {
        Self {
            quality: 1.0,
            width: 1.0,
        }
    }
}

impl Fit {
    /// Takes an encoded frame of `len` bytes against the server's `limit`; returns whether
    /// it may be sent.
    pub fn admit(&mut self, len: u64, limit: u64) -> bool {
        if len > limit {
            if self.quality > FLOOR {
                self.quality = (self.quality * STEP_DOWN).max(FLOOR);
            } else {
                self.width = (self.width * STEP_DOWN).max(FLOOR);
            }
            return false;
        }
        if len.saturating_mul(2) < limit {
            // Size back first: it was the last resort.
            if self.width < 1.0 {
                self.width = (self.width * STEP_UP).min(1.0);
            } else if self.quality < 1.0 {
                self.quality = (self.quality * STEP_UP).min(1.0);
            }
        }
        true
    }

    /// Whether frames are smaller than the settings ask.
    pub fn is_reduced(&self) -> bool {
        self.quality < 1.0 || self.width < 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    #[expect(
        clippy::float_cmp,
        reason = "the floor and 1.0 are reached by clamping, exactly"
    )]
    fn frames_over_the_limit_lower_quality_then_size_and_recover_below_half() {
        let mut fit = Fit::default();
        assert!(fit.admit(1000, 1000), "at the limit is fine");
        assert!(!fit.is_reduced());
        assert!(!fit.admit(1001, 1000));
        assert!((fit.quality - 0.8).abs() < 1e-9 && fit.width == 1.0);
        while fit.quality > FLOOR {
            assert!(!fit.admit(5000, 1000));
        }
        assert_eq!(fit.width, 1.0, "quality goes first");
        assert!(!fit.admit(5000, 1000));
        assert!((fit.width - 0.8).abs() < 1e-9);
        for _ in 0..100 {
            fit.admit(5000, 1000);
        }
        assert_eq!(
            (fit.quality, fit.width),
            (FLOOR, FLOOR),
            "never below the floor"
        );
        // Between half the limit and the limit nothing moves.
        let before = fit;
        assert!(fit.admit(700, 1000));
        assert_eq!(fit, before);
        // Well under: size comes back first, then quality, up to the settings.
        for _ in 0..1000 {
            assert!(fit.admit(100, 1000));
            assert!(fit.width == 1.0 || fit.quality == FLOOR);
        }
        assert_eq!(fit, Fit::default());
    }
}
