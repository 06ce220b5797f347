//! The block loops of the FIR and the unsharp mask for every target but wasm32 with simd128,
//! where `blur::wasm32` takes their place: plain Rust on fixed 16-byte blocks, which the
//! compiler vectorizes (SSE2 on x86-64). The box blur's divisions take the same 16-bit
//! multiplier as in simd128 (so native tests cover it); its running sums are left to
//! `blur/mod.rs`.

use super::{
    divider::{Divider, Lanes},
    unsharp::unsharp_byte,
};

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

/// `round(sum / d)` by [`Lanes`], as the simd128 form computes it.
#[inline]
fn divide(sum: u16, l: Lanes) -> u8 {
    ((u32::from(sum.wrapping_add(l.half)) * u32::from(l.m)) >> l.shift) as u8
}

/// Box blur horizontal means on 16-byte blocks, by [`Lanes`]; returns the bytes done.
#[inline]
pub(super) fn box_means(prefix: &[u16], span: usize, divider: &Divider, out: &mut [u8]) -> usize {
    let Some(lanes) = divider.lanes else {
        return 0;
    };
    let (blocks, _) = out.as_chunks_mut::<16>();
    let (lo, _) = prefix.as_chunks::<16>();
    let (hi, _) = prefix[span..].as_chunks::<16>();
    for ((o, lo), hi) in blocks.iter_mut().zip(lo).zip(hi) {
        for j in 0..16 {
            o[j] = divide(hi[j].wrapping_sub(lo[j]), lanes);
        }
    }
    blocks.len().min(hi.len()) * 16
}

/// Box blur vertical step on 16-byte blocks, by [`Lanes`]; returns the bytes done.
#[inline]
pub(super) fn box_column_step(
    sums: &mut [u16],
    (add, sub): (&[u8], &[u8]),
    divider: &Divider,
    out: &mut [u8],
) -> usize {
    let Some(lanes) = divider.lanes else {
        return 0;
    };
    let (blocks, _) = out.as_chunks_mut::<16>();
    let (sum_blocks, _) = sums.as_chunks_mut::<16>();
    let (add, _) = add.as_chunks::<16>();
    let (sub, _) = sub.as_chunks::<16>();
    let n = blocks
        .len()
        .min(sum_blocks.len())
        .min(add.len())
        .min(sub.len());
    for (((o, s), a), b) in blocks.iter_mut().zip(sum_blocks).zip(add).zip(sub) {
        for j in 0..16 {
            o[j] = divide(s[j], lanes);
            s[j] = s[j]
                .wrapping_add(u16::from(a[j]))
                .wrapping_sub(u16::from(b[j]));
        }
    }
    n * 16
}
