//! Real JPEGs for tests and benches: the server checks every published frame's markers and
//! dimensions, so fakes would be refused.

use image::{ExtendedColorType, codecs::jpeg::JpegEncoder};

/// Encodes `w`×`h` RGB8 pixels as a baseline JPEG of `quality` (1..=100).
pub fn encode_rgb(rgb: &[u8], w: u32, h: u32, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode(rgb, w, h, ExtendedColorType::Rgb8)
        .expect("encode JPEG");
    out
}

/// A `w`×`h` JPEG whose content depends on `seed`, so frames with different seeds differ;
/// `noisy` adds per-pixel noise, which makes it large (a few bytes per pixel).
pub fn pattern(w: u32, h: u32, seed: u32, noisy: bool) -> Vec<u8> {
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    for y in 0..h {
        for x in 0..w {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let n = if noisy { (state & 0x3F) as u8 } else { 0 };
            rgb.push((x + seed * 7) as u8 ^ n);
            rgb.push((y + seed * 3) as u8 ^ n);
            rgb.push(((x ^ y) + seed) as u8);
        }
    }
    encode_rgb(&rgb, w, h, 85)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_jpegs_that_differ_by_seed_and_grow_with_noise() {
        let a = pattern(64, 48, 1, false);
        assert_eq!(&a[..2], b"\xFF\xD8");
        assert_eq!(&a[a.len() - 2..], b"\xFF\xD9");
        assert_eq!(a, pattern(64, 48, 1, false));
        assert_ne!(a, pattern(64, 48, 2, false));
        assert!(pattern(64, 48, 1, true).len() > a.len());
    }
}
