//! The wasm JPEG encoder (`jpeg-encoder` crate) over RGBA8 frames.
//!
//! Filter output is often gray (`grayscale`, `sobel`, `threshold`): such frames are
//! encoded as one-channel JPEGs, which skips the colour conversion and both chroma
//! planes — about half the work and fewer bytes for the same picture.

use jpeg_encoder::{ColorType, Encoder, EncodingError, SamplingFactor};

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("frame {width}x{height} is larger than JPEG allows (65535)")]
    TooLarge { width: u32, height: u32 },
    #[error("JPEG encoder: {0}")]
    Jpeg(#[from] EncodingError),
}

/// JPEG quality 1..=100 from the panel's 0.0..=1.0 slider.
pub fn quality_percent(quality: f64) -> u8 {
    if quality.is_finite() {
        (quality.clamp(0.01, 1.0) * 100.0).round() as u8
    } else {
        80
    }
}

/// Whether every pixel has `r == g == b` (stops at the first one that does not).
pub fn is_gray(rgba: &[u8]) -> bool {
    rgba.chunks_exact(4).all(|p| p[0] == p[1] && p[1] == p[2])
}

/// Encodes `rgba` (`width`×`height`, no padding) into `out` (cleared first).
/// `luma` is scratch space for the gray path, kept by the caller to avoid reallocating.
pub fn encode_rgba(
    rgba: &[u8],
    width: u32,
    height: u32,
    quality: f64,
    out: &mut Vec<u8>,
    luma: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let (Ok(w), Ok(h)) = (u16::try_from(width), u16::try_from(height)) else {
        return Err(EncodeError::TooLarge { width, height });
    };
    out.clear();
    let mut encoder = Encoder::new(&mut *out, quality_percent(quality));
    if is_gray(rgba) {
        luma.clear();
        luma.extend(rgba.chunks_exact(4).map(|p| p[0]));
        encoder.encode(luma, w, h, ColorType::Luma)?;
    } else {
        encoder.set_sampling_factor(SamplingFactor::F_2_2);
        encoder.encode(rgba, w, h, ColorType::Rgba)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn frame(w: u32, h: u32, gray: bool) -> Vec<u8> {
        let mut rgba = Vec::with_capacity((w * h * 4) as usize);
        for y in 0..h {
            for x in 0..w {
                let v = ((x + y) * 255 / (w + h)) as u8;
                rgba.extend_from_slice(&if gray {
                    [v, v, v, 255]
                } else {
                    [v, 255 - v, 40, 255]
                });
            }
        }
        rgba
    }

    /// Number of components in the baseline SOF0 segment.
    fn components(jpeg: &[u8]) -> Option<u8> {
        let at = jpeg.windows(2).position(|m| m == [0xFF, 0xC0])?;
        jpeg.get(at + 9).copied()
    }

    #[wasm_bindgen_test]
    fn gray_frames_become_one_channel_jpegs() {
        let (mut out, mut luma) = (Vec::new(), Vec::new());
        encode_rgba(&frame(64, 48, true), 64, 48, 0.8, &mut out, &mut luma).expect("valid frame");
        assert_eq!(out[..2], [0xFF, 0xD8]);
        assert_eq!(out[out.len() - 2..], [0xFF, 0xD9]);
        assert_eq!(components(&out), Some(1));
        let gray_len = out.len();

        encode_rgba(&frame(64, 48, false), 64, 48, 0.8, &mut out, &mut luma).expect("valid frame");
        assert_eq!(components(&out), Some(3));
        assert!(out.len() > gray_len);
    }

    #[wasm_bindgen_test]
    fn quality_changes_size() {
        let rgba = frame(128, 96, false);
        let (mut lo, mut hi, mut luma) = (Vec::new(), Vec::new(), Vec::new());
        encode_rgba(&rgba, 128, 96, 0.2, &mut lo, &mut luma).expect("valid frame");
        encode_rgba(&rgba, 128, 96, 1.0, &mut hi, &mut luma).expect("valid frame");
        assert!(hi.len() > lo.len());
    }

    #[wasm_bindgen_test]
    fn bad_sizes_are_errors() {
        let (mut out, mut luma) = (Vec::new(), Vec::new());
        assert!(encode_rgba(&[0; 16], 70_000, 1, 0.8, &mut out, &mut luma).is_err());
        assert!(encode_rgba(&[0; 16], 8, 8, 0.8, &mut out, &mut luma).is_err());
    }

    #[wasm_bindgen_test]
    fn quality_mapping() {
        assert_eq!(quality_percent(0.8), 80);
        assert_eq!(quality_percent(7.0), 100);
        assert_eq!(quality_percent(-1.0), 1);
        assert_eq!(quality_percent(f64::NAN), 80);
    }
}
