//! The colour spaces, their fixed-point coefficients, and the per-pixel chroma terms one
//! chroma row yields: what the conversion, its simd128 steps and the reference share.

/// The YUV → RGB matrix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Matrix {
    /// SD video and most webcams (`smpte170m`, `bt470bg`).
    #[default]
    Bt601,
    /// HD video (`bt709`).
    Bt709,
}

/// How a frame's YUV values map to colours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ColorSpace {
    pub matrix: Matrix,
    /// Full range (0–255) rather than limited (16–235 luma, 16–240 chroma).
    pub full_range: bool,
}

/// Fixed-point coefficients, scaled by 2^16.
#[derive(Clone, Copy, Debug)]
pub(super) struct Coefficients {
    pub(super) y_offset: i32,
    pub(super) y: i32,
    pub(super) rv: i32,
    pub(super) gu: i32,
    pub(super) gv: i32,
    pub(super) bu: i32,
}

impl Coefficients {
    pub(super) fn new(space: ColorSpace) -> Self {
        let (kr, kg_u, kg_v, kb) = match space.matrix {
            Matrix::Bt601 => (1.402, 0.344_136, 0.714_136, 1.772),
            Matrix::Bt709 => (1.5748, 0.187_324, 0.468_124, 1.8556),
        };
        let (y_offset, y_scale, c_scale) = if space.full_range {
            (0, 1.0, 1.0)
        } else {
            (16, 255.0 / 219.0, 255.0 / 224.0)
        };
        let fixed = |v: f64| (v * 65536.0).round() as i32;
        Self {
            y_offset,
            y: fixed(y_scale),
            rv: fixed(kr * c_scale),
            gu: fixed(kg_u * c_scale),
            gv: fixed(kg_v * c_scale),
            bu: fixed(kb * c_scale),
        }
    }
}

/// The chroma terms of one chroma row, per pixel, scaled by 2^16 (pixels `2s` and `2s + 1`
/// hold sample `s`'s).
pub(super) struct Terms {
    pub(super) r: Vec<i32>,
    pub(super) g: Vec<i32>,
    pub(super) b: Vec<i32>,
}

impl Terms {
    /// Sets the terms of sample `s` from its `u` and `v` bytes.
    #[inline]
    pub(super) fn set(&mut self, s: usize, k: &Coefficients, u: u8, v: u8) {
        let (u, v) = (i32::from(u) - 128, i32::from(v) - 128);
        let (r, g, b) = (k.rv * v, -k.gu * u - k.gv * v, k.bu * u);
        self.r[2 * s..2 * s + 2].fill(r);
        self.g[2 * s..2 * s + 2].fill(g);
        self.b[2 * s..2 * s + 2].fill(b);
    }
}

#[inline]
pub(super) fn clamp(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}
