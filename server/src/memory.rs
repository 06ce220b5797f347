//! Giving memory back to the system after a burst.
//!
//! glibc's allocator keeps freed memory in its arenas for reuse: after 5000 connections come
//! and go, the process stays at their high-water mark for good. `malloc_trim` returns the
//! free pages of every arena (glibc ≥ 2.8 advises them away, not just the heap's top). It
//! walks the arenas, so the idle-room sweep calls it now and then rather than on every free.

/// Returns free allocator memory to the system (glibc on Linux; elsewhere nothing to do).
pub fn release_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only inspects and trims the allocator's own free lists; it takes
    // no pointers and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
