//! The synthetic source: a moving pattern with a visible frame counter, painted straight
//! into the frame buffer in wasm (no canvas, no copy), so everything (filters, broadcast,
//! tests) works without a camera.
//!
//! Layout, top to bottom: the top 60 % holds seven fixed colour bars ([`BARS`]; tests check
//! their luma), the rest a dark band with a sweeping blue glow, a bouncing ball and the
//! counter `frame 000123  4.10 s` in a built-in 5×7 pixel font.

/// The fixed bars, left to right (75 % colour bars).
pub const BARS: [[u8; 3]; 7] = [
    [191, 191, 191],
    [191, 191, 0],
    [0, 191, 191],
    [0, 191, 0],
    [191, 0, 191],
    [191, 0, 0],
    [0, 0, 191],
];

/// Fraction of the height covered by [`BARS`].
pub const BARS_HEIGHT: f64 = 0.6;

const BAND: [u8; 3] = [18, 20, 28];
const GLOW: [u8; 3] = [70, 110, 255];
const BALL: [u8; 3] = [255, 176, 32];
const TEXT: [u8; 3] = [245, 245, 245];

/// 5×7 glyphs: one byte per row, bit 4 = leftmost column.
fn glyph(c: char) -> [u8; 7] {
    match c {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'f' => [0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08],
        'r' => [0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10],
        'a' => [0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F],
        'm' => [0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11],
        'e' => [0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E],
        's' => [0x00, 0x00, 0x0F, 0x10, 0x0E, 0x01, 0x1E],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        _ => [0; 7],
    }
}

pub struct TestPattern {
    width: u32,
    height: u32,
    /// One row of the bars, reused for every bar row.
    bar_row: Vec<u8>,
}

impl TestPattern {
    pub fn new(width: u32, height: u32) -> Self {
        let mut bar_row = Vec::with_capacity(width as usize * 4);
        for x in 0..width {
            let bar = (x as usize * BARS.len()) / width as usize;
            let [r, g, b] = BARS[bar];
            bar_row.extend_from_slice(&[r, g, b, 255]);
        }
        Self {
            width,
            height,
            bar_row,
        }
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Paints frame `number` at `elapsed_ms` into `rgba` (`width * height * 4` bytes).
    pub fn paint(&self, rgba: &mut [u8], number: u64, elapsed_ms: f64) {
        let w = self.width as usize;
        let h = self.height as usize;
        assert_eq!(rgba.len(), w * h * 4, "pattern and buffer sizes agree");
        let bars_h = ((h as f64) * BARS_HEIGHT).round() as usize;
        for row in rgba.chunks_exact_mut(w * 4).take(bars_h) {
            row.copy_from_slice(&self.bar_row);
        }

        // The band: a background row with the glow sweeping across, copied to every band row.
        let t = elapsed_ms / 1000.0;
        let glow_w = w as f64 / 3.0;
        let sweep = (t * 0.25).fract() * (w as f64 + glow_w) - glow_w;
        let mut band_row = Vec::with_capacity(w * 4);
        for x in 0..w {
            let d = ((x as f64 - sweep) / glow_w - 0.5).abs() * 2.0;
            let a = (1.0 - d).clamp(0.0, 1.0) * 0.55;
            band_row.extend(blend(BAND, GLOW, a));
            band_row.push(255);
        }
        for row in rgba.chunks_exact_mut(w * 4).skip(bars_h) {
            row.copy_from_slice(&band_row);
        }

        // The ball, bouncing left and right.
        let band_h = h - bars_h;
        let radius = band_h as f64 * 0.18;
        let span = w as f64 - 2.0 * radius;
        let phase = (t * 0.4).fract() * 2.0;
        let cx = radius + span * if phase < 1.0 { phase } else { 2.0 - phase };
        let cy = bars_h as f64 + band_h as f64 * 0.72;
        let y0 = (cy - radius).floor().max(0.0) as usize;
        let y1 = ((cy + radius).ceil() as usize).min(h);
        for y in y0..y1 {
            let dy = y as f64 + 0.5 - cy;
            let half = (radius * radius - dy * dy).max(0.0).sqrt();
            let x0 = (cx - half).round().max(0.0) as usize;
            let x1 = ((cx + half).round() as usize).min(w);
            for px in rgba[(y * w + x0) * 4..(y * w + x1) * 4].chunks_exact_mut(4) {
                px[..3].copy_from_slice(&BALL);
            }
        }

        // The counter, the same number the frame loop reports as the frame number.
        let text = format!("frame {number:06}  {t:.2} s");
        let scale = (band_h / 40).max(1);
        let top = bars_h + band_h * 3 / 10 - 7 * scale / 2;
        let mut left = w / 25;
        for c in text.chars() {
            self.draw_glyph(rgba, glyph(c), left, top, scale);
            left += 6 * scale;
        }
    }

    fn draw_glyph(&self, rgba: &mut [u8], rows: [u8; 7], left: usize, top: usize, scale: usize) {
        let w = self.width as usize;
        let h = self.height as usize;
        for (gy, bits) in rows.iter().enumerate() {
            for gx in 0..5 {
                if bits & (0x10 >> gx) == 0 {
                    continue;
                }
                for y in top + gy * scale..(top + (gy + 1) * scale).min(h) {
                    let x0 = left + gx * scale;
                    let x1 = (x0 + scale).min(w);
                    if x0 >= x1 {
                        continue;
                    }
                    for px in rgba[(y * w + x0) * 4..(y * w + x1) * 4].chunks_exact_mut(4) {
                        px[..3].copy_from_slice(&TEXT);
                    }
                }
            }
        }
    }
}

fn blend(base: [u8; 3], over: [u8; 3], alpha: f64) -> [u8; 3] {
    std::array::from_fn(|i| {
        (f64::from(base[i]) + (f64::from(over[i]) - f64::from(base[i])) * alpha).round() as u8
    })
}
