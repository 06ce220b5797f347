//! Real-time image filters on RGBA8 frames (work in progress).
