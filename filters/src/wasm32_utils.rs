//! What the wasm32 `simd128` forms of more than one kernel share: unaligned 16-byte loads and
//! stores on byte slices. A leaf: it knows no kernel, so `color::wasm32` and `blur::wasm32`
//! can both lean on it without either depending on the other.

use core::arch::wasm32::{v128, v128_load, v128_store};

/// Loads 16 bytes at `at`. SAFETY: the caller keeps `at + 16 <= bytes.len()`.
#[inline]
pub(crate) unsafe fn load(bytes: &[u8], at: usize) -> v128 {
    debug_assert!(at + 16 <= bytes.len());
    // SAFETY: in bounds by the caller's promise; wasm loads need no alignment.
    unsafe { v128_load(bytes.as_ptr().add(at).cast()) }
}

/// Stores 16 bytes at `at`. SAFETY: the caller keeps `at + 16 <= bytes.len()`.
#[inline]
pub(crate) unsafe fn store(bytes: &mut [u8], at: usize, v: v128) {
    debug_assert!(at + 16 <= bytes.len());
    // SAFETY: as for `load`.
    unsafe { v128_store(bytes.as_mut_ptr().add(at).cast(), v) }
}
