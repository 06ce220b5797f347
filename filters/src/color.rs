//! Per-pixel colour filters and their fusion into one pass.
//!
//! Every colour filter is one of three exact integer operations on R, G, B (alpha is kept):
//! - a lookup table shared by the three channels (brightness, contrast, gamma, invert,
//!   posterize), and consecutive tables compose into one;
//! - luma (grayscale, and threshold = luma followed by a table);
//! - a 3×3 matrix in Q12 fixed point (sepia, saturation).
//!
//! A run of colour filters compiles into a [`ColorProgram`] of such ops, applied to each row
//! chunk while it is in L1, so the frame is read and written once whatever the chain length.

use crate::{catalog::Kind, spec::FilterSpec};

/// BT.601 luma in Q8; the weights sum to 256, so the result always fits a byte.
#[inline]
pub(crate) fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b) + 128) >> 8) as u8
}

pub(crate) type Lut = [u8; 256];

fn table(f: impl Fn(f32) -> f32) -> Box<Lut> {
    let mut lut = Box::new([0u8; 256]);
    for (c, out) in lut.iter_mut().enumerate() {
        *out = f(c as f32).round().clamp(0.0, 255.0) as u8;
    }
    lut
}

/// The table of a per-channel filter; `None` for the others.
pub(crate) fn channel_table(spec: &FilterSpec) -> Option<Box<Lut>> {
    let v = spec.value(0);
    Some(match spec.kind() {
        Kind::Invert => table(|c| 255.0 - c),
        Kind::Brightness => {
            let offset = (v * 255.0).round();
            table(|c| c + offset)
        }
        Kind::Contrast => table(|c| (c - 127.5) * v + 127.5),
        Kind::Gamma => table(|c| 255.0 * (c / 255.0).powf(1.0 / v)),
        Kind::Posterize => posterize_table(v as u32),
        _ => return None,
    })
}

/// `n` evenly spaced levels: each channel snaps to the nearest of `k * 255 / (n - 1)`.
pub(crate) fn posterize_table(levels: u32) -> Box<Lut> {
    let steps = levels.max(2) - 1;
    let mut lut = Box::new([0u8; 256]);
    for (c, out) in lut.iter_mut().enumerate() {
        let q = (c as u32 * steps + 127) / 255;
        *out = ((q * 255 + steps / 2) / steps) as u8;
    }
    lut
}

/// Q12 colour matrix rows (R, G, B outputs), weights for (R, G, B) inputs.
pub(crate) type Matrix = [[i32; 3]; 3];

const SEPIA: [[f32; 3]; 3] = [
    [0.393, 0.769, 0.189],
    [0.349, 0.686, 0.168],
    [0.272, 0.534, 0.131],
];
const LUMA: [f32; 3] = [0.299, 0.587, 0.114];

/// The float matrix of sepia or saturation at parameter `v`.
pub(crate) fn float_matrix(kind: Kind, v: f32) -> Option<[[f32; 3]; 3]> {
    let mut m = [[0.0f32; 3]; 3];
    for (i, row) in m.iter_mut().enumerate() {
        for (j, w) in row.iter_mut().enumerate() {
            let identity = if i == j { 1.0 } else { 0.0 };
            *w = match kind {
                Kind::Sepia => (1.0 - v) * identity + v * SEPIA[i][j],
                Kind::Saturation => (1.0 - v) * LUMA[j] + v * identity,
                _ => return None,
            };
        }
    }
    Some(m)
}

fn fixed_matrix(m: [[f32; 3]; 3]) -> Matrix {
    m.map(|row| row.map(|w| (w * 4096.0).round() as i32))
}

#[inline]
fn apply_matrix(m: &Matrix, r: u8, g: u8, b: u8) -> [u8; 3] {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    m.map(|w| ((w[0] * r + w[1] * g + w[2] * b + 2048) >> 12).clamp(0, 255) as u8)
}

#[derive(Clone, Debug)]
enum Op {
    Lut(Box<Lut>),
    /// A table that is exactly `255 - c`: an XOR, vectorized.
    Invert,
    /// Luma, then a table that is exactly the step `c >= level`: a compare, vectorized.
    Threshold(u32),
    Luma,
    /// Luma, then a table: threshold, or grayscale followed by per-channel filters.
    LumaLut(Box<Lut>),
    Matrix(Matrix),
}

/// A fused run of colour filters.
#[derive(Clone, Debug)]
pub(crate) struct ColorProgram {
    ops: Vec<Op>,
}

/// Pixels per chunk: small enough that a chunk stays in L1 between ops.
const CHUNK_PX: usize = 512;

impl ColorProgram {
    /// Compiles `specs` (all colour filters) into as few ops as exactness allows.
    pub(crate) fn new(specs: &[FilterSpec]) -> Self {
        let mut ops: Vec<Op> = Vec::new();
        for spec in specs {
            if let Some(lut) = channel_table(spec) {
                match ops.last_mut() {
                    Some(Op::Lut(prev) | Op::LumaLut(prev)) => {
                        for v in prev.iter_mut() {
                            *v = lut[usize::from(*v)];
                        }
                    }
                    Some(last @ Op::Luma) => *last = Op::LumaLut(lut),
                    _ => ops.push(Op::Lut(lut)),
                }
                continue;
            }
            match spec.kind() {
                Kind::Grayscale => ops.push(Op::Luma),
                Kind::Threshold => {
                    let level = spec.value(0) as u32;
                    let mut lut = Box::new([0u8; 256]);
                    for (c, out) in lut.iter_mut().enumerate() {
                        *out = if c as u32 >= level { 255 } else { 0 };
                    }
                    ops.push(Op::LumaLut(lut));
                }
                kind => {
                    let m = float_matrix(kind, spec.value(0))
                        .expect("colour filters are tables, luma or matrices");
                    ops.push(Op::Matrix(fixed_matrix(m)));
                }
            }
        }
        for op in &mut ops {
            *op = match op {
                Op::Lut(lut)
                    if lut
                        .iter()
                        .enumerate()
                        .all(|(c, &v)| usize::from(v) == 255 - c) =>
                {
                    Op::Invert
                }
                Op::LumaLut(lut) if lut.iter().all(|&v| v == 0 || v == 255) && lut.is_sorted() => {
                    Op::Threshold(lut.iter().position(|&v| v == 255).unwrap_or(256) as u32)
                }
                _ => continue,
            };
        }
        Self { ops }
    }

    pub(crate) fn apply_row(&self, row: &mut [u8]) {
        for chunk in row.chunks_mut(CHUNK_PX * 4) {
            for op in &self.ops {
                match op {
                    Op::Lut(lut) => lut_pass(lut, chunk.as_chunks_mut::<4>().0),
                    Op::Invert => invert_pass(chunk),
                    Op::Threshold(level) => threshold_pass(*level, chunk),
                    Op::Luma => luma_pass(chunk),
                    Op::LumaLut(lut) => luma_lut_pass(lut, chunk),
                    Op::Matrix(m) => matrix_pass(m, chunk),
                }
            }
        }
    }
}

/// One word load and store per pixel rather than three byte ones.
fn lut_pass(lut: &Lut, px: &mut [[u8; 4]]) {
    for p in px {
        let v = u32::from_le_bytes(*p);
        let at = |shift: u32| u32::from(lut[((v >> shift) & 0xFF) as usize]) << shift;
        *p = (at(0) | at(8) | at(16) | (v & 0xFF00_0000)).to_le_bytes();
    }
}

fn invert_pass(bytes: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = crate::simd::invert(bytes);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for p in bytes[done..].as_chunks_mut::<4>().0 {
        *p = (u32::from_le_bytes(*p) ^ 0x00FF_FFFF).to_le_bytes();
    }
}

fn threshold_pass(level: u32, bytes: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = crate::simd::threshold(bytes, level);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for p in bytes[done..].as_chunks_mut::<4>().0 {
        let on = if u32::from(luma(p[0], p[1], p[2])) >= level {
            255
        } else {
            0
        };
        p[..3].fill(on);
    }
}

fn luma_pass(bytes: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = crate::simd::grayscale(bytes);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for p in bytes[done..].as_chunks_mut::<4>().0 {
        let y = luma(p[0], p[1], p[2]);
        p[0] = y;
        p[1] = y;
        p[2] = y;
    }
}

fn luma_lut_pass(lut: &Lut, bytes: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = crate::simd::luma_lut(bytes, lut);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for p in bytes[done..].as_chunks_mut::<4>().0 {
        let y = lut[usize::from(luma(p[0], p[1], p[2]))];
        p[0] = y;
        p[1] = y;
        p[2] = y;
    }
}

fn matrix_pass(m: &Matrix, bytes: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = crate::simd::matrix(bytes, m);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for p in bytes[done..].as_chunks_mut::<4>().0 {
        let [r, g, b] = apply_matrix(m, p[0], p[1], p[2]);
        p[0] = r;
        p[1] = g;
        p[2] = b;
    }
}
