//! What the tests read back from the page: an RGBA8 image and the statistics over it that
//! colour checks use.

/// An RGBA8 image read back from the page.
#[derive(Clone, Debug)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl Image {
    /// The pixel at (`x`, `y`) as `[r, g, b, a]`.
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        assert!(
            x < self.width && y < self.height,
            "pixel ({x}, {y}) outside {}x{}",
            self.width,
            self.height
        );
        let i = ((y * self.width + x) * 4) as usize;
        [
            self.rgba[i],
            self.rgba[i + 1],
            self.rgba[i + 2],
            self.rgba[i + 3],
        ]
    }

    /// Mean `[r, g, b]` of the rectangle given as fractions of the image size
    /// (`x0..x1`, `y0..y1` in 0..=1).
    pub fn mean_rgb(&self, x0: f64, x1: f64, y0: f64, y1: f64) -> [f64; 3] {
        let w = f64::from(self.width);
        let h = f64::from(self.height);
        let (xa, xb) = ((x0 * w) as u32, ((x1 * w) as u32).min(self.width));
        let (ya, yb) = ((y0 * h) as u32, ((y1 * h) as u32).min(self.height));
        let mut sum = [0.0; 3];
        let mut n = 0.0;
        for y in ya..yb {
            for x in xa..xb {
                let p = self.pixel(x, y);
                for c in 0..3 {
                    sum[c] += f64::from(p[c]);
                }
                n += 1.0;
            }
        }
        assert!(n > 0.0, "empty rectangle");
        sum.map(|s| s / n)
    }

    /// The largest |r−g|, |g−b|, |r−b| over all pixels: 0 for a gray image.
    pub fn max_channel_spread(&self) -> u8 {
        self.rgba
            .chunks_exact(4)
            .map(|p| {
                p[0].abs_diff(p[1])
                    .max(p[1].abs_diff(p[2]))
                    .max(p[0].abs_diff(p[2]))
            })
            .max()
            .unwrap_or(0)
    }
}
