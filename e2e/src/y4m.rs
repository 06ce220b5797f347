//! Test videos for Chromium's `--use-file-for-fake-video-capture`: uncompressed Y4M
//! (4:2:0): vertical colour bars whose colours and luma the tests know, or any picture.

use std::{io::Write, path::Path};

use anyhow::{Context, Result};

/// The bars, left to right. Chosen with well-separated luma and colours that survive the
/// trip through limited-range YCbCr and back.
pub const BARS: [[u8; 3]; 4] = [[200, 40, 40], [40, 180, 60], [50, 70, 210], [230, 230, 230]];

/// Rec. 601 luma of an sRGB colour, 0..=255 (what a grayscale filter should produce).
pub fn luma(rgb: [u8; 3]) -> f64 {
    0.299 * f64::from(rgb[0]) + 0.587 * f64::from(rgb[1]) + 0.114 * f64::from(rgb[2])
}

/// Limited-range ("video range") Rec. 601 YCbCr, as Chromium expects from a Y4M file.
fn ycbcr(rgb: [u8; 3]) -> [u8; 3] {
    let [r, g, b] = rgb.map(f64::from);
    let y = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
    let cb = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0;
    let cr = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0;
    [y, cb, cr].map(|v| v.round().clamp(0.0, 255.0) as u8)
}

/// The bar index (0..4) that column `x` of a `width`-wide frame belongs to.
pub fn bar_at(x: u32, width: u32) -> usize {
    ((x * 4) / width).min(3) as usize
}

/// Writes `frames` frames of `width`×`height` colour bars ([`BARS`]) at 30 fps.
/// `width` and `height` must be even (4:2:0 subsampling).
pub fn write_bars(path: &Path, width: u32, height: u32, frames: u32) -> Result<()> {
    assert!(
        width.is_multiple_of(2) && height.is_multiple_of(2),
        "4:2:0 needs even dimensions"
    );
    let mut y_plane = Vec::with_capacity((width * height) as usize);
    for _ in 0..height {
        y_plane.extend((0..width).map(|x| ycbcr(BARS[bar_at(x, width)])[0]));
    }
    let (cw, ch) = (width / 2, height / 2);
    let mut cb_plane = Vec::with_capacity((cw * ch) as usize);
    let mut cr_plane = Vec::with_capacity((cw * ch) as usize);
    for _ in 0..ch {
        for cx in 0..cw {
            let [_, cb, cr] = ycbcr(BARS[bar_at(cx * 2, width)]);
            cb_plane.push(cb);
            cr_plane.push(cr);
        }
    }
    let mut out = Vec::new();
    writeln!(out, "YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg")?;
    for _ in 0..frames {
        out.extend_from_slice(b"FRAME\n");
        out.extend_from_slice(&y_plane);
        out.extend_from_slice(&cb_plane);
        out.extend_from_slice(&cr_plane);
    }
    std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes `frames` copies of `image` (even width and height) at 30 fps.
pub fn write_image(path: &Path, image: &image::RgbImage, frames: u32) -> Result<()> {
    let (width, height) = image.dimensions();
    assert!(
        width.is_multiple_of(2) && height.is_multiple_of(2),
        "4:2:0 needs even dimensions"
    );
    let y_plane: Vec<u8> = image.pixels().map(|p| ycbcr(p.0)[0]).collect();
    let (cw, ch) = (width / 2, height / 2);
    let mut cb_plane = Vec::with_capacity((cw * ch) as usize);
    let mut cr_plane = Vec::with_capacity((cw * ch) as usize);
    for cy in 0..ch {
        for cx in 0..cw {
            // The mean of the 2x2 block's chroma.
            let mut sum = [0u32; 2];
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let [_, cb, cr] = ycbcr(image.get_pixel(cx * 2 + dx, cy * 2 + dy).0);
                sum[0] += u32::from(cb);
                sum[1] += u32::from(cr);
            }
            cb_plane.push(((sum[0] + 2) / 4) as u8);
            cr_plane.push(((sum[1] + 2) / 4) as u8);
        }
    }
    let mut out = Vec::new();
    writeln!(out, "YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg")?;
    for _ in 0..frames {
        out.extend_from_slice(b"FRAME\n");
        out.extend_from_slice(&y_plane);
        out.extend_from_slice(&cb_plane);
        out.extend_from_slice(&cr_plane);
    }
    std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))
}

/// A `width`×`height` frame with a person: the `segment` crate's `grace_hopper.jpg`
/// scaled to the frame's height and centred on a plain blue-gray wall.
pub fn person_frame(width: u32, height: u32) -> Result<image::RgbImage> {
    const WALL: [u8; 3] = [120, 130, 150];
    let path = crate::workspace_root().join("segment/tests/fixtures/grace_hopper.jpg");
    let photo = image::open(&path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .to_rgb8();
    let scaled_width = (photo.width() * height / photo.height()).min(width);
    let photo = image::imageops::resize(&photo, scaled_width, height, image::imageops::Lanczos3);
    let mut frame = image::RgbImage::from_pixel(width, height, image::Rgb(WALL));
    image::imageops::overlay(&mut frame, &photo, i64::from((width - scaled_width) / 2), 0);
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ycbcr_round_trips_known_colours() {
        // Inverse of the limited-range Rec. 601 transform.
        for rgb in BARS {
            let [y, cb, cr] = ycbcr(rgb).map(f64::from);
            let r = 1.164 * (y - 16.0) + 1.596 * (cr - 128.0);
            let g = 1.164 * (y - 16.0) - 0.392 * (cb - 128.0) - 0.813 * (cr - 128.0);
            let b = 1.164 * (y - 16.0) + 2.017 * (cb - 128.0);
            for (got, want) in [r, g, b].into_iter().zip(rgb) {
                assert!((got - f64::from(want)).abs() < 3.0, "{rgb:?} -> {got}");
            }
        }
    }

    #[test]
    fn writes_header_and_frames() {
        let dir = std::env::temp_dir().join(format!("lenscast-y4m-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bars.y4m");
        write_bars(&path, 64, 32, 3).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let header = b"YUV4MPEG2 W64 H32 F30:1 Ip A1:1 C420jpeg\n";
        assert!(bytes.starts_with(header));
        let frame = 6 + 64 * 32 * 3 / 2;
        assert_eq!(bytes.len(), header.len() + 3 * frame);
        // First luma sample of the first frame is the first bar's Y.
        assert_eq!(bytes[header.len() + 6], ycbcr(BARS[0])[0]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn writes_a_picture_with_averaged_chroma() {
        let dir = std::env::temp_dir().join(format!("lenscast-y4m-img-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("picture.y4m");
        let mut picture = image::RgbImage::from_pixel(4, 2, image::Rgb(BARS[0]));
        for y in 0..2 {
            for x in 2..4 {
                picture.put_pixel(x, y, image::Rgb(BARS[2]));
            }
        }
        write_image(&path, &picture, 2).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let header = b"YUV4MPEG2 W4 H2 F30:1 Ip A1:1 C420jpeg\n";
        assert!(bytes.starts_with(header));
        assert_eq!(bytes.len(), header.len() + 2 * (6 + 8 + 2 + 2));
        let frame = &bytes[header.len() + 6..];
        assert_eq!(frame[0], ycbcr(BARS[0])[0]);
        assert_eq!(frame[3], ycbcr(BARS[2])[0]);
        // One chroma sample per 2x2 block: the left block's and the right block's colour.
        assert_eq!(&frame[8..10], &[ycbcr(BARS[0])[1], ycbcr(BARS[2])[1]]);
        assert_eq!(&frame[10..12], &[ycbcr(BARS[0])[2], ycbcr(BARS[2])[2]]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
