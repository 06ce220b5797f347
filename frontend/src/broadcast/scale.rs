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
/// video and far cheaper than a windowed filter). Upscaling is not what this is for: a
/// destination larger than the source repeats source pixels.
pub fn downscale(src: &[u8], sw: u32, sh: u32, dst: &mut Vec<u8>, dw: u32, dh: u32) {
    let (sw, sh, dw, dh) = (sw as usize, sh as usize, dw as usize, dh as usize);
    dst.resize(dw * dh * 4, 0);
    if sw == 0 || sh == 0 || src.len() < sw * sh * 4 {
        dst.fill(0);
        return;
    }
    let cols: Vec<_> = (0..dw).map(|x| span(x, dw, sw)).collect();
    let rows: Vec<_> = (0..dh).map(|y| span(y, dh, sh)).collect();
    let widest = |spans: &[std::ops::Range<usize>]| spans.iter().map(ExactSizeIterator::len).max();
    let footprint = widest(&cols).unwrap_or(1) * widest(&rows).unwrap_or(1);
    if dw <= sw && dh <= sh && footprint <= MAX_PACKED_FOOTPRINT {
        downscale_packed(src, sw, dst, &cols, &rows);
    } else {
        downscale_any(src, sw, dst, &cols, &rows);
    }
}

/// The source span destination pixel `i` of `d` covers in a line of `s`.
fn span(i: usize, d: usize, s: usize) -> std::ops::Range<usize> {
    let a = i * s / d;
    let b = ((i + 1) * s / d).max(a + 1).min(s);
    a..b
}

/// Up to this many source pixels per destination pixel, 255 × that fits a 16-bit lane.
const MAX_PACKED_FOOTPRINT: usize = 256;

/// The fast path (every 1080p → 720p frame in the sender worker): when downscaling, the
/// spans tile the source, so one linear pass adds each source pixel to its column's sums,
/// two channels per `u32` (R|B and G|A in 16-bit lanes), and each destination pixel is
/// one multiply per channel by a reciprocal instead of a division. Same result as
/// [`downscale_any`], about twice as fast in wasm.
fn downscale_packed(
    src: &[u8],
    sw: usize,
    dst: &mut [u8],
    cols: &[std::ops::Range<usize>],
    rows: &[std::ops::Range<usize>],
) {
    let dw = cols.len();
    let mut col_of = vec![0u32; sw];
    for (x, xs) in cols.iter().enumerate() {
        col_of[xs.clone()].fill(x as u32);
    }
    // ⌈2²⁴ / n⌉: for sums below 2¹⁶, `(s * r) >> 24` is `s / n` exactly.
    let recip: Vec<u64> = (0..=MAX_PACKED_FOOTPRINT as u64)
        .map(|n| (1u64 << 24).div_ceil(n.max(1)))
        .collect();
    let (mut rb, mut ga) = (vec![0u32; dw], vec![0u32; dw]);
    for (ys, out) in rows.iter().zip(dst.chunks_exact_mut(dw * 4)) {
        rb.fill(0);
        ga.fill(0);
        for row in src[ys.start * sw * 4..ys.end * sw * 4].chunks_exact(sw * 4) {
            for (px, &x) in row.chunks_exact(4).zip(&col_of) {
                let p = u32::from_le_bytes([px[0], px[1], px[2], px[3]]);
                let x = x as usize;
                rb[x] += p & 0x00ff_00ff;
                ga[x] += (p >> 8) & 0x00ff_00ff;
            }
        }
        for (((o, xs), &rb), &ga) in out.chunks_exact_mut(4).zip(cols).zip(&rb).zip(&ga) {
            let n = (ys.len() * xs.len()) as u32;
            let r = recip[n as usize];
            let avg = |sum: u32| ((u64::from(sum + n / 2) * r) >> 24) as u8;
            o[0] = avg(rb & 0xffff);
            o[1] = avg(ga & 0xffff);
            o[2] = avg(rb >> 16);
            o[3] = avg(ga >> 16);
        }
    }
}

/// Any ratio (huge footprints, or a side that grows): per-channel `u32` sums.
fn downscale_any(
    src: &[u8],
    sw: usize,
    dst: &mut [u8],
    cols: &[std::ops::Range<usize>],
    rows: &[std::ops::Range<usize>],
) {
    let dw = cols.len();
    let mut acc = vec![[0u32; 4]; dw];
    for (ys, out) in rows.iter().zip(dst.chunks_exact_mut(dw * 4)) {
        acc.fill([0; 4]);
        for sy in ys.clone() {
            let row = &src[sy * sw * 4..(sy + 1) * sw * 4];
            for (a, xs) in acc.iter_mut().zip(cols) {
                for px in row[xs.start * 4..xs.end * 4].chunks_exact(4) {
                    for c in 0..4 {
                        a[c] += u32::from(px[c]);
                    }
                }
            }
        }
        for ((o, a), xs) in out.chunks_exact_mut(4).zip(&acc).zip(cols) {
            let n = (ys.len() * xs.len()) as u32;
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
    fn the_fast_path_matches_the_general_one() {
        // Uneven content and an uneven ratio (1.5 across, 1.5 down, like 1080p → 720p).
        let (sw, sh, dw, dh) = (96usize, 54usize, 64usize, 36usize);
        let src: Vec<u8> = (0..sw * sh * 4)
            .map(|i| ((i * 31 + i / 7 * 13) % 256) as u8)
            .collect();
        let cols: Vec<_> = (0..dw).map(|x| span(x, dw, sw)).collect();
        let rows: Vec<_> = (0..dh).map(|y| span(y, dh, sh)).collect();
        let (mut fast, mut any) = (vec![0; dw * dh * 4], vec![0; dw * dh * 4]);
        downscale_packed(&src, sw, &mut fast, &cols, &rows);
        downscale_any(&src, sw, &mut any, &cols, &rows);
        assert_eq!(fast, any);
        // Full-white footprints of 256 pixels (16×16) still fit the packed lanes.
        let white = vec![255u8; 64 * 64 * 4];
        let mut out = Vec::new();
        downscale(&white, 64, 64, &mut out, 4, 4);
        assert!(out.iter().all(|&v| v == 255));
    }

    #[wasm_bindgen_test]
    fn short_input_gives_black_not_a_panic() {
        let mut dst = Vec::new();
        downscale(&[1, 2, 3], 10, 10, &mut dst, 5, 5);
        assert_eq!(dst, vec![0; 100]);
    }
}
