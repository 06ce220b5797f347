//! What each colour filter computes, in plain scalar code: the per-channel tables, BT.601
//! luma and the Q12 matrices. These are the definitions; every faster form in `color` is
//! used only where it equals them exactly.

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

pub(super) fn fixed_matrix(m: [[f32; 3]; 3]) -> Matrix {
    m.map(|row| row.map(|w| (w * 4096.0).round() as i32))
}

#[inline]
pub(super) fn apply_matrix(m: &Matrix, r: u8, g: u8, b: u8) -> [u8; 3] {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    m.map(|w| ((w[0] * r + w[1] * g + w[2] * b + 2048) >> 12).clamp(0, 255) as u8)
}
