//! A picture the user picked for `segment-replace` to put behind the person: scaled to cover
//! the frame (the centre kept, the overflow cropped, as CSS `object-fit: cover`), once per
//! frame size, then blended row by row like the colour.

/// Either side of a picked picture may be at most this long (a 16k photo is 1 GiB of RGBA).
pub const MAX_SIDE: u32 = 8192;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackdropError {
    #[error("a background picture of {width}x{height} is empty or over {MAX_SIDE} pixels a side")]
    Size { width: u32, height: u32 },
    #[error("{len} bytes are not the {expected} of a {width}x{height} RGBA picture")]
    Length {
        len: usize,
        expected: usize,
        width: u32,
        height: u32,
    },
}

/// The picked picture and its copy fitted to the last frame size.
#[derive(Debug)]
pub struct Backdrop {
    rgba: Vec<u8>,
    width: u32,
    height: u32,
    fitted: Vec<u8>,
    fitted_size: (u32, u32),
}

impl Backdrop {
    /// `rgba`: `width × height` RGBA8 pixels, no padding.
    pub fn new(rgba: Vec<u8>, width: u32, height: u32) -> Result<Self, BackdropError> {
        if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
            return Err(BackdropError::Size { width, height });
        }
        let expected = width as usize * height as usize * 4;
        if rgba.len() != expected {
            return Err(BackdropError::Length {
                len: rgba.len(),
                expected,
                width,
                height,
            });
        }
        Ok(Self {
            rgba,
            width,
            height,
            fitted: Vec::new(),
            fitted_size: (0, 0),
        })
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The picture covering a `width × height` frame (RGBA, no padding); computed when the
    /// frame size changes, reused otherwise.
    pub fn fitted(&mut self, width: u32, height: u32) -> &[u8] {
        if self.fitted_size != (width, height) {
            cover(
                &self.rgba,
                (self.width, self.height),
                (width, height),
                &mut self.fitted,
            );
            self.fitted_size = (width, height);
        }
        &self.fitted
    }
}

/// One output coordinate's sources: `(index, weight)` with weights summing to 1.
type Taps = Vec<(usize, f32)>;

/// Taps for `out` samples over the source span `[start, start + len)`: the exact area each
/// covers when shrinking, linear interpolation between pixel centres when enlarging.
fn axis_taps(start: f32, len: f32, n: usize, out: usize) -> Vec<Taps> {
    let scale = len / out as f32;
    (0..out)
        .map(|o| {
            if scale > 1.0 {
                let (lo, hi) = (start + o as f32 * scale, start + (o + 1) as f32 * scale);
                let first = lo.floor() as usize;
                let last = (hi.ceil() as usize).min(n);
                (first..last)
                    .map(|i| {
                        let covered = (hi.min(i as f32 + 1.0) - lo.max(i as f32)).max(0.0);
                        (i, covered / scale)
                    })
                    .collect()
            } else {
                let centre = (start + (o as f32 + 0.5) * scale - 0.5).clamp(0.0, (n - 1) as f32);
                let i0 = centre.floor() as usize;
                let i1 = (i0 + 1).min(n - 1);
                let t = centre - i0 as f32;
                vec![(i0, 1.0 - t), (i1, t)]
            }
        })
        .collect()
}

/// `src` (`sw × sh`) scaled to cover `dw × dh`, centred, into `out`.
fn cover(src: &[u8], (sw, sh): (u32, u32), (dw, dh): (u32, u32), out: &mut Vec<u8>) {
    let (sw_f, sh_f, dw_f, dh_f) = (sw as f32, sh as f32, dw as f32, dh as f32);
    // The largest centred part of the picture with the frame's aspect ratio.
    let (crop_w, crop_h) = if sw_f * dh_f > sh_f * dw_f {
        (sh_f * dw_f / dh_f, sh_f)
    } else {
        (sw_f, sw_f * dh_f / dw_f)
    };
    let xs = axis_taps((sw_f - crop_w) / 2.0, crop_w, sw as usize, dw as usize);
    let ys = axis_taps((sh_f - crop_h) / 2.0, crop_h, sh as usize, dh as usize);
    let row_len = sw as usize * 4;
    out.clear();
    out.reserve(dw as usize * dh as usize * 4);
    let mut across = vec![0.0f32; dw as usize * 4];
    for y_taps in &ys {
        across.fill(0.0);
        for &(sy, wy) in y_taps {
            let row = &src[sy * row_len..(sy + 1) * row_len];
            for (acc, x_taps) in across.chunks_exact_mut(4).zip(&xs) {
                for &(sx, wx) in x_taps {
                    let p = &row[sx * 4..sx * 4 + 4];
                    for c in 0..4 {
                        acc[c] += f32::from(p[c]) * wx * wy;
                    }
                }
            }
        }
        out.extend(across.iter().map(|v| (v + 0.5).clamp(0.0, 255.0) as u8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
        let mut out = Vec::new();
        for y in 0..h {
            for x in 0..w {
                out.extend(f(x, y));
            }
        }
        out
    }

    #[test]
    fn the_same_size_is_the_picture_itself() {
        for (w, h) in [(1, 1), (9, 5), (17, 3), (65, 2)] {
            let rgba = picture(w, h, |x, y| [x as u8, y as u8, (x * y) as u8, 255]);
            let mut backdrop = Backdrop::new(rgba.clone(), w, h).unwrap();
            assert_eq!(backdrop.fitted(w, h), rgba, "{w}x{h}");
        }
    }

    #[test]
    fn a_flat_picture_stays_flat_at_any_size() {
        let mut backdrop = Backdrop::new(picture(7, 3, |_, _| [10, 200, 30, 255]), 7, 3).unwrap();
        for (w, h) in [(1, 1), (9, 17), (1281, 2), (65, 65)] {
            let fitted = backdrop.fitted(w, h);
            assert_eq!(fitted.len(), (w * h * 4) as usize);
            assert!(
                fitted.chunks_exact(4).all(|p| p == [10, 200, 30, 255]),
                "{w}x{h}"
            );
        }
    }

    #[test]
    fn halving_averages_each_two_by_two_block() {
        let rgba = picture(4, 2, |x, _| {
            let v = [0, 100, 50, 250][x as usize];
            [v, v, v, 255]
        });
        let mut backdrop = Backdrop::new(rgba, 4, 2).unwrap();
        let fitted = backdrop.fitted(2, 1);
        assert_eq!(fitted, [50, 50, 50, 255, 150, 150, 150, 255]);
    }

    #[test]
    fn a_wider_picture_is_cropped_to_its_centre() {
        // 6x2, left third red, middle green, right third blue; covering 2x2 keeps the middle.
        let rgba = picture(6, 2, |x, _| match x / 2 {
            0 => [255, 0, 0, 255],
            1 => [0, 255, 0, 255],
            _ => [0, 0, 255, 255],
        });
        let mut backdrop = Backdrop::new(rgba, 6, 2).unwrap();
        assert!(
            backdrop
                .fitted(2, 2)
                .chunks_exact(4)
                .all(|p| p == [0, 255, 0, 255])
        );
    }

    #[test]
    fn enlarging_interpolates_between_pixel_centres() {
        let rgba = picture(2, 1, |x, _| [x as u8 * 200, 0, 0, 255]);
        let mut backdrop = Backdrop::new(rgba, 2, 1).unwrap();
        let reds: Vec<u8> = backdrop
            .fitted(4, 2)
            .chunks_exact(4)
            .map(|p| p[0])
            .collect();
        assert_eq!(reds, [0, 50, 150, 200, 0, 50, 150, 200]);
    }

    #[test]
    fn bad_sizes_and_lengths_are_refused() {
        assert_eq!(
            Backdrop::new(Vec::new(), 0, 1).unwrap_err(),
            BackdropError::Size {
                width: 0,
                height: 1
            }
        );
        assert!(Backdrop::new(vec![0; 4], MAX_SIDE + 1, 1).is_err());
        assert_eq!(
            Backdrop::new(vec![0; 7], 2, 1).unwrap_err(),
            BackdropError::Length {
                len: 7,
                expected: 8,
                width: 2,
                height: 1
            }
        );
    }
}
