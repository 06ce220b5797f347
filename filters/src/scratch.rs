//! Reusable working memory: grown on the first frames, then reused, so the steady state
//! allocates nothing.

/// Buffers shared by every stage of a pipeline (stages run one at a time).
/// Custom filters get their own area through [`Scratch::bytes`].
#[derive(Debug, Default)]
pub struct Scratch {
    /// A frame-sized byte plane: the horizontal pass of the separable blurs.
    pub(crate) plane: Vec<u8>,
    /// Luma planes.
    pub(crate) luma: Vec<u8>,
    pub(crate) luma2: Vec<u8>,
    /// Row accumulators.
    pub(crate) acc: Vec<u32>,
    /// Running sums of the box blur: along a row, and down the columns.
    pub(crate) sums: Vec<u16>,
    pub(crate) column_sums: Vec<u16>,
    /// One output row.
    pub(crate) row: Vec<u8>,
    /// A row with replicated border pixels.
    pub(crate) padded: Vec<u8>,
    /// Sobel intermediates of one row.
    pub(crate) sum_row: Vec<i16>,
    pub(crate) diff_row: Vec<i16>,
    /// Gradient magnitude and direction planes (Canny).
    pub(crate) mag: Vec<u16>,
    pub(crate) dir: Vec<u8>,
    /// Pixel indices waiting for hysteresis (Canny).
    pub(crate) stack: Vec<u32>,
    /// Per-column or per-row factors (vignette, pixelate).
    pub(crate) cols: Vec<i32>,
    pub(crate) rows: Vec<i32>,
    user: Vec<u8>,
}

impl Scratch {
    pub fn new() -> Self {
        Self::default()
    }

    /// A buffer of `len` bytes for a custom filter. Its contents are unspecified (whatever was
    /// left in it); memory is allocated only when `len` exceeds every earlier request.
    pub fn bytes(&mut self, len: usize) -> &mut [u8] {
        grow(&mut self.user, len)
    }
}

/// The first `len` elements of `buffer`, growing it if needed (contents unspecified).
pub(crate) fn grow<T: Copy + Default>(buffer: &mut Vec<T>, len: usize) -> &mut [T] {
    if buffer.len() < len {
        buffer.resize(len, T::default());
    }
    &mut buffer[..len]
}
