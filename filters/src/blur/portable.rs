//! The block loops of the FIR and the unsharp mask for every target but wasm32 with simd128,
//! where `blur::wasm32` takes their place: plain Rust on fixed 16-byte blocks, which the
//! compiler vectorizes (SSE2 on x86-64). The box blur's loops do nothing here: `blur/mod.rs`
//! runs them whole.

use super::{divider::Divider, unsharp::unsharp_byte};

/// The portable FIR on 16-byte blocks: the fixed-size sums map onto SIMD registers when the
/// compiler vectorizes (SSE2 natively). Returns the bytes done.
#[inline]
pub(super) fn fir(rows: &[&[u8]], weights: &[u16], shift: u32, out: &mut [u8]) -> usize {
    let round = 1u16 << (shift - 1);
    let (blocks, _) = out.as_chunks_mut::<16>();
    for (b, dst) in blocks.iter_mut().enumerate() {
        let mut acc = [round; 16];
        for (row, &w) in rows.iter().zip(weights) {
            let (src, _) = row[b * 16..].as_chunks::<16>();
            for (a, &v) in acc.iter_mut().zip(&src[0]) {
                *a = a.wrapping_add(w.wrapping_mul(u16::from(v)));
            }
        }
        for (d, a) in dst.iter_mut().zip(acc) {
            *d = (a >> shift) as u8;
        }
    }
    blocks.len() * 16
}

/// The unsharp mask's combining step on 16-byte blocks of RGBA (alpha kept); returns the bytes
/// done.
#[inline]
pub(super) fn unsharp(row: &mut [u8], soft: &[u8], amount_q8: i16) -> usize {
    let (blocks, _) = row.as_chunks_mut::<16>();
    let (soft_blocks, _) = soft.as_chunks::<16>();
    for (x, g) in blocks.iter_mut().zip(soft_blocks) {
        let alpha = [x[3], x[7], x[11], x[15]];
        for j in 0..16 {
            x[j] = unsharp_byte(x[j], g[j], amount_q8);
        }
        for (k, a) in alpha.into_iter().enumerate() {
            x[k * 4 + 3] = a;
        }
    }
    blocks.len().min(soft_blocks.len()) * 16
}

/// Box blur running sums: none done here.
#[inline]
pub(super) fn box_prefix(_padded: &[u8], _prefix: &mut [u16]) -> usize {
    0
}

/// Box blur horizontal means: none done here.
#[inline]
pub(super) fn box_means(_prefix: &[u16], _span: usize, _d: &Divider, _out: &mut [u8]) -> usize {
    0
}

/// Box blur vertical step: none done here.
#[inline]
pub(super) fn box_column_step(
    _sums: &mut [u16],
    _rows: (&[u8], &[u8]),
    _d: &Divider,
    _out: &mut [u8],
) -> usize {
    0
}
