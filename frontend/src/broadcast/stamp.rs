//! The latency stamp (`?stamp=1`): the capture time, in milliseconds since the Unix epoch,
//! drawn as a row of [`BITS`] black/white blocks across the top-left of the encoded frame,
//! most significant bit first. JPEG keeps such blocks intact, so the viewer side of
//! `cargo xtask bench e2e` reads the time back from the decoded frame
//! (`e2e/examples/bench_e2e.rs` implements the same layout).

/// Bits in the stamp: 48 bits of milliseconds last until the year 10889.
pub const BITS: u32 = 48;

/// Side of one block for a frame `width` pixels wide: a multiple of 8 (whole JPEG blocks),
/// as large as fits, at most 32; `None` when the frame is too narrow.
pub fn block_size(width: u32) -> Option<u32> {
    let side = (width / BITS / 8 * 8).min(32);
    (side >= 8).then_some(side)
}

/// The blocks to paint for `value`: `(x, side, white)` per bit, each `side`×`side` at `y = 0`.
pub fn blocks(value: u64, width: u32) -> impl Iterator<Item = (u32, u32, bool)> {
    let side = block_size(width).unwrap_or(0);
    (0..if side > 0 { BITS } else { 0 })
        .map(move |i| (i * side, side, value >> (BITS - 1 - i) & 1 == 1))
}

/// Paints the stamp into an RGBA8 frame of `width`×`height`; frames too small are left alone.
pub fn paint_rgba(rgba: &mut [u8], width: u32, height: u32, value: u64) {
    let Some(side) = block_size(width) else {
        return;
    };
    if height < side || rgba.len() < (width * height * 4) as usize {
        return;
    }
    for (x0, side, white) in blocks(value, width) {
        let v = if white { 255 } else { 0 };
        for y in 0..side {
            let start = ((y * width + x0) * 4) as usize;
            for px in rgba[start..start + side as usize * 4].chunks_exact_mut(4) {
                px.copy_from_slice(&[v, v, v, 255]);
            }
        }
    }
}

/// Reads the stamp back from a luma plane (the inverse of [`paint_rgba`], from the centre
/// of each block so JPEG ringing at the edges does not matter).
pub fn read_luma(luma: &[u8], width: u32, height: u32) -> Option<u64> {
    let side = block_size(width)?;
    if height < side || luma.len() < (width * height) as usize {
        return None;
    }
    let mut value = 0u64;
    for i in 0..BITS {
        let (cx, cy) = (i * side + side / 2, side / 2);
        let v = luma[(cy * width + cx) as usize];
        value = value << 1 | u64::from(v >= 128);
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn block_sizes() {
        assert_eq!(block_size(1280), Some(24));
        assert_eq!(block_size(1920), Some(32));
        assert_eq!(block_size(640), Some(8));
        assert_eq!(block_size(383), None);
    }

    #[wasm_bindgen_test]
    fn round_trips_through_rgba() {
        let (w, h) = (1280, 720);
        let mut rgba = vec![128u8; (w * h * 4) as usize];
        let t = 1_795_000_123_456_u64;
        paint_rgba(&mut rgba, w, h, t);
        let luma: Vec<u8> = rgba.chunks_exact(4).map(|p| p[0]).collect();
        assert_eq!(read_luma(&luma, w, h), Some(t));
    }

    #[wasm_bindgen_test]
    fn tiny_frames_are_untouched() {
        let mut rgba = vec![7u8; 100 * 50 * 4];
        paint_rgba(&mut rgba, 100, 50, u64::MAX);
        assert!(rgba.iter().all(|&v| v == 7));
        assert_eq!(read_luma(&[0; 10], 100, 50), None);
    }
}
