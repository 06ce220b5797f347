//! Cartoon: box blur of radius `r`, then `n` posterize levels, with the pixels whose Sobel
//! strength (of the blurred luma) exceeds `e` painted black.

use crate::{
    blur::box_blur,
    color::ColorProgram,
    edges::{luma_plane, sobel_plane},
    frame::Frame,
    scratch::{Scratch, grow},
};

pub(crate) fn cartoon(
    frame: &mut Frame<'_>,
    r: u32,
    levels: &ColorProgram,
    edge: u8,
    scratch: &mut Scratch,
) {
    box_blur(frame, r, scratch);
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let plane = grow(&mut scratch.luma, w * h);
    luma_plane(frame, plane);
    let strength = grow(&mut scratch.luma2, w * h);
    let sum = grow(&mut scratch.sum_row, w + 2);
    let diff = grow(&mut scratch.diff_row, w + 2);
    sobel_plane(plane, w, h, strength, sum, diff);
    for (row, s) in frame.rows_mut().zip(strength.chunks_exact(w)) {
        // Posterize every pixel (SIMD where the table has an exact form), then black out
        // the edges: the same bytes as choosing per pixel.
        levels.apply_row(row);
        let (px, _) = row.as_chunks_mut::<4>();
        for (p, &s) in px.iter_mut().zip(s) {
            // Branch-free, so that the loop vectorizes: keep alpha only on an edge.
            let keep: u32 = if s > edge { 0xff00_0000 } else { u32::MAX };
            *p = (u32::from_le_bytes(*p) & keep).to_le_bytes();
        }
    }
}
