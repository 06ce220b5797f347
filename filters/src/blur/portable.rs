//! The FIR's block loop for every target but wasm32 with simd128, where `blur::wasm32` takes
//! its place: plain Rust on fixed 16-byte blocks, which the compiler vectorizes (SSE2 on
//! x86-64).

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
