//! The borrowed RGBA8 frame view every kernel works on.

use thiserror::Error;

/// Largest accepted width or height: far above any camera, small enough that every index
/// and intermediate sum in the kernels fits its integer type.
pub const MAX_DIMENSION: u32 = 16_384;

/// Why a buffer cannot be viewed as a frame.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum FrameError {
    #[error("frame size {width}x{height} is empty")]
    Empty { width: u32, height: u32 },
    #[error("frame size {width}x{height} is too large (at most {max} pixels a side)", max = MAX_DIMENSION)]
    TooLarge { width: u32, height: u32 },
    #[error("frame {width}x{height} with stride {stride} needs {needed} bytes, got {got}")]
    WrongLength {
        width: u32,
        height: u32,
        stride: usize,
        needed: usize,
        got: usize,
    },
    #[error("stride {stride} is shorter than a row of {width} pixels ({row} bytes)")]
    StrideTooShort {
        width: u32,
        stride: usize,
        row: usize,
    },
}

/// A mutable RGBA8 image over borrowed memory: `height` rows of `width` pixels, 4 bytes each
/// (R, G, B, A), row `y` starting at byte `y * stride`.
///
/// A browser `ImageData`, a `VideoFrame` copied into wasm memory and a test `Vec<u8>` all fit
/// without copying.
#[derive(Debug)]
pub struct Frame<'a> {
    data: &'a mut [u8],
    width: u32,
    height: u32,
    stride: usize,
}

impl<'a> Frame<'a> {
    /// A frame with tight rows: `data.len()` must be exactly `width * height * 4`.
    pub fn new(data: &'a mut [u8], width: u32, height: u32) -> Result<Self, FrameError> {
        check_dimensions(width, height)?;
        let stride = width as usize * 4;
        let needed = stride * height as usize;
        if data.len() != needed {
            return Err(FrameError::WrongLength {
                width,
                height,
                stride,
                needed,
                got: data.len(),
            });
        }
        Ok(Self {
            data,
            width,
            height,
            stride,
        })
    }

    /// A frame whose rows are `stride` bytes apart (padding bytes are never touched).
    /// `data` must hold at least `stride * (height - 1) + width * 4` bytes.
    pub fn with_stride(
        data: &'a mut [u8],
        width: u32,
        height: u32,
        stride: usize,
    ) -> Result<Self, FrameError> {
        check_dimensions(width, height)?;
        let row = width as usize * 4;
        if stride < row {
            return Err(FrameError::StrideTooShort { width, stride, row });
        }
        let needed = stride
            .checked_mul(height as usize - 1)
            .and_then(|n| n.checked_add(row))
            .ok_or(FrameError::TooLarge { width, height })?;
        if data.len() < needed {
            return Err(FrameError::WrongLength {
                width,
                height,
                stride,
                needed,
                got: data.len(),
            });
        }
        Ok(Self {
            data,
            width,
            height,
            stride,
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes from the start of one row to the start of the next.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Row `y` as `width * 4` bytes. Panics if `y >= height`.
    pub fn row(&self, y: u32) -> &[u8] {
        assert!(
            y < self.height,
            "row {y} outside a frame of height {}",
            self.height
        );
        let start = y as usize * self.stride;
        &self.data[start..start + self.width as usize * 4]
    }

    /// Row `y` as `width * 4` mutable bytes. Panics if `y >= height`.
    pub fn row_mut(&mut self, y: u32) -> &mut [u8] {
        assert!(
            y < self.height,
            "row {y} outside a frame of height {}",
            self.height
        );
        let start = y as usize * self.stride;
        &mut self.data[start..start + self.width as usize * 4]
    }

    /// Every row, top to bottom, each `width * 4` bytes.
    pub fn rows_mut(&mut self) -> impl Iterator<Item = &mut [u8]> + '_ {
        let row = self.width as usize * 4;
        self.data
            .chunks_mut(self.stride)
            .take(self.height as usize)
            .map(move |r| &mut r[..row])
    }

    /// Every row, top to bottom, each `width * 4` bytes.
    pub fn rows(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let row = self.width as usize * 4;
        self.data
            .chunks(self.stride)
            .take(self.height as usize)
            .map(move |r| &r[..row])
    }

    /// The pixels as one slice when rows are tight (no padding), for whole-frame passes.
    pub fn tight_mut(&mut self) -> Option<&mut [u8]> {
        let len = self.width as usize * 4 * self.height as usize;
        (self.stride == self.width as usize * 4).then(move || &mut self.data[..len])
    }
}

fn check_dimensions(width: u32, height: u32) -> Result<(), FrameError> {
    if width == 0 || height == 0 {
        return Err(FrameError::Empty { width, height });
    }
    if width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(FrameError::TooLarge { width, height });
    }
    Ok(())
}
