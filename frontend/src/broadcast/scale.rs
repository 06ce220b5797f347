//! Output size and the wasm encoder's downscale (area average over RGBA8).

/// The encoded size for a `width`×`height` frame under `max_width`: never upscaled,
/// aspect kept, both sides at least 1.
pub fn fit(width: u32, height: u32, max_width: u32) -> (u32, u32) {
    let max_width = max_width.max(16);
    if width <= max_width || width == 0 {
        return (width.max(1), height.max(1));
    }
    let h = (u64::from(height) * u64::from(max_width) + u64::from(width) / 2) / u64::from(width);
    (max_width, (h as u32).max(1))
}

/// Downscales `src` (`sw`×`sh` RGBA8) into `dst`, resized to `dw`×`dh`×4, averaging the
/// source pixels each destination pixel covers (integer footprints; sharp enough for
/// video and far cheaper than a windowed filter).
pub fn downscale(src: &[u8], sw: u32, sh: u32, dst: &mut Vec<u8>, dw: u32, dh: u32) {
    let (sw, sh, dw, dh) = (sw as usize, sh as usize, dw as usize, dh as usize);
    dst.resize(dw * dh * 4, 0);
    if sw == 0 || sh == 0 || src.len() < sw * sh * 4 {
        dst.fill(0);
        return;
    }
    let span = |i: usize, d: usize, s: usize| {
        let a = i * s / d;
        let b = ((i + 1) * s / d).max(a + 1).min(s);
        a..b
    };
    let cols: Vec<_> = (0..dw).map(|x| span(x, dw, sw)).collect();
    let mut acc = vec![[0u32; 4]; dw];
    for y in 0..dh {
        let rows = span(y, dh, sh);
        acc.fill([0; 4]);
        for sy in rows.clone() {
            let row = &src[sy * sw * 4..(sy + 1) * sw * 4];
            for (a, xs) in acc.iter_mut().zip(&cols) {
                for px in row[xs.start * 4..xs.end * 4].chunks_exact(4) {
                    for c in 0..4 {
                        a[c] += u32::from(px[c]);
                    }
                }
            }
        }
        let out = &mut dst[y * dw * 4..(y + 1) * dw * 4];
        for ((o, a), xs) in out.chunks_exact_mut(4).zip(&acc).zip(&cols) {
            let n = (rows.len() * xs.len()) as u32;
            for c in 0..4 {
                o[c] = ((a[c] + n / 2) / n) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn fit_keeps_aspect_and_never_upscales() {
        assert_eq!(fit(1280, 720, 640), (640, 360));
        assert_eq!(fit(1280, 720, 1920), (1280, 720));
        assert_eq!(fit(1281, 721, 640), (640, 360));
        assert_eq!(fit(1000, 1, 100), (100, 1));
        assert_eq!(fit(0, 0, 640), (1, 1));
        assert_eq!(fit(4000, 3000, 0), (16, 12));
    }

    #[wasm_bindgen_test]
    fn halves_by_averaging() {
        // 4x2 -> 2x1: left 2x2 block of 0/100, right block of 200/255.
        let mut src = Vec::new();
        for v in [0u8, 100, 200, 255, 100, 0, 255, 200] {
            src.extend_from_slice(&[v, v, v, 255]);
        }
        let mut dst = Vec::new();
        downscale(&src, 4, 2, &mut dst, 2, 1);
        assert_eq!(dst, [50, 50, 50, 255, 228, 228, 228, 255]);
    }

    #[wasm_bindgen_test]
    fn odd_ratios_cover_every_output_pixel() {
        let src = vec![77u8; 1281 * 721 * 4];
        let (dw, dh) = fit(1281, 721, 640);
        let mut dst = Vec::new();
        downscale(&src, 1281, 721, &mut dst, dw, dh);
        assert_eq!(dst.len(), (dw * dh * 4) as usize);
        assert!(dst.iter().all(|&v| v == 77));
    }

    #[wasm_bindgen_test]
    fn short_input_gives_black_not_a_panic() {
        let mut dst = Vec::new();
        downscale(&[1, 2, 3], 10, 10, &mut dst, 5, 5);
        assert_eq!(dst, vec![0; 100]);
    }
}
