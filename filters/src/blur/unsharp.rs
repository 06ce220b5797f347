//! The unsharp mask's definition for one byte: the scalar form that `mod.rs` runs on a row's
//! last bytes and `portable.rs` on whole blocks, and that the simd128 form equals exactly.

/// `clamp(x + floor(((x - g) * a + 128) / 256))` for a byte `x`, its blur `g` and the amount
/// `a` in Q8.
#[inline]
pub(super) fn unsharp_byte(x: u8, g: u8, amount_q8: i16) -> u8 {
    let (x, g) = (i32::from(x), i32::from(g));
    let detail = ((x - g) * i32::from(amount_q8) + 128) >> 8;
    (x + detail).clamp(0, 255) as u8
}
