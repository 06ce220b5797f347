//! Cheap JPEG checks for the publish path: markers and the frame header, never pixels.
//!
//! A published frame must start with SOI, end with EOI and carry a start-of-frame segment
//! (any `SOFn`) before its first scan; the SOF gives the dimensions checked against the limit.

use thiserror::Error;

/// Why a binary message is not an acceptable JPEG.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum JpegError {
    #[error("not a JPEG: missing start-of-image marker")]
    NoStart,
    #[error("not a JPEG: missing end-of-image marker")]
    NoEnd,
    #[error("not a JPEG: broken marker segment")]
    BadSegment,
    #[error("not a JPEG: no frame header before the image data")]
    NoFrameHeader,
    #[error("JPEG has zero width or height")]
    Empty,
    #[error("JPEG is {width}x{height}, over the {max}x{max} limit")]
    TooLarge { width: u32, height: u32, max: u32 },
}

/// Width and height of a JPEG, read from its frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
}

/// Checks that `data` is one whole JPEG no larger than `max_dim` on either side.
pub fn inspect(data: &[u8], max_dim: u32) -> Result<Dimensions, JpegError> {
    if !data.starts_with(&[0xFF, 0xD8]) {
        return Err(JpegError::NoStart);
    }
    if data.len() < 4 || !data.ends_with(&[0xFF, 0xD9]) {
        return Err(JpegError::NoEnd);
    }
    let dims = frame_header(data)?;
    if dims.width == 0 || dims.height == 0 {
        return Err(JpegError::Empty);
    }
    if dims.width > max_dim || dims.height > max_dim {
        return Err(JpegError::TooLarge {
            width: dims.width,
            height: dims.height,
            max: max_dim,
        });
    }
    Ok(dims)
}

/// Walks the marker segments after SOI up to the first `SOFn`.
fn frame_header(data: &[u8]) -> Result<Dimensions, JpegError> {
    let mut pos = 2;
    loop {
        if *data.get(pos).ok_or(JpegError::NoFrameHeader)? != 0xFF {
            return Err(JpegError::BadSegment);
        }
        // Any number of 0xFF fill bytes may precede a marker code.
        while data.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *data.get(pos).ok_or(JpegError::NoFrameHeader)?;
        pos += 1;
        match marker {
            // Standalone markers carry no length.
            0x01 | 0xD0..=0xD7 => continue,
            // End of image or start of scan before any frame header.
            0xD9 | 0xDA => return Err(JpegError::NoFrameHeader),
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes(read2(data, pos)?));
        if len < 2 {
            return Err(JpegError::BadSegment);
        }
        // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC) which share the range.
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            // length(2) precision(1) height(2) width(2)
            if len < 7 {
                return Err(JpegError::BadSegment);
            }
            let height = u16::from_be_bytes(read2(data, pos + 3)?);
            let width = u16::from_be_bytes(read2(data, pos + 5)?);
            return Ok(Dimensions {
                width: width.into(),
                height: height.into(),
            });
        }
        pos += len;
    }
}

fn read2(data: &[u8], pos: usize) -> Result<[u8; 2], JpegError> {
    data.get(pos..pos + 2)
        .and_then(|s| s.try_into().ok())
        .ok_or(JpegError::BadSegment)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOI, an APP0 stub, a baseline SOF0 for `w`x`h`, a stub scan, EOI.
    fn tiny(w: u16, h: u16) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB];
        v.extend([0xFF, 0xC0, 0x00, 0x0B, 0x08]);
        v.extend(h.to_be_bytes());
        v.extend(w.to_be_bytes());
        v.extend([0x01, 0x01, 0x11, 0x00]);
        v.extend([0xFF, 0xDA, 0x00, 0x02, 0x12, 0x34, 0xFF, 0xD9]);
        v
    }

    #[test]
    fn reads_dimensions() {
        assert_eq!(
            inspect(&tiny(1280, 720), 4096),
            Ok(Dimensions {
                width: 1280,
                height: 720
            })
        );
    }

    #[test]
    fn rejects_what_is_not_one_jpeg() {
        assert_eq!(inspect(b"hello", 4096), Err(JpegError::NoStart));
        assert_eq!(inspect(&[0xFF, 0xD8], 4096), Err(JpegError::NoEnd));
        let mut cut = tiny(10, 10);
        cut.pop();
        assert_eq!(inspect(&cut, 4096), Err(JpegError::NoEnd));
        assert_eq!(
            inspect(&[0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9], 4096),
            Err(JpegError::NoFrameHeader)
        );
        assert_eq!(
            inspect(&[0xFF, 0xD8, 0x12, 0x34, 0xFF, 0xD9], 4096),
            Err(JpegError::BadSegment)
        );
        assert_eq!(inspect(&tiny(0, 10), 4096), Err(JpegError::Empty));
        assert_eq!(
            inspect(&tiny(5000, 10), 4096),
            Err(JpegError::TooLarge {
                width: 5000,
                height: 10,
                max: 4096
            })
        );
    }

    #[test]
    fn never_panics_on_truncated_headers() {
        let full = tiny(640, 480);
        for end in 0..full.len() {
            let mut cut = full[..end].to_vec();
            cut.extend([0xFF, 0xD9]);
            let _ = inspect(&cut, 4096);
        }
    }
}
