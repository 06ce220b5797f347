//! Pixelate: blocks of `s × s` pixels (aligned to the top-left corner, cut at the right and
//! bottom edges), each filled with its rounded mean colour (alpha too).

use crate::{
    frame::Frame,
    scratch::{Scratch, grow},
};

pub(crate) fn pixelate(frame: &mut Frame<'_>, size: u32, scratch: &mut Scratch) {
    let (w, h) = (frame.width(), frame.height());
    let blocks = w.div_ceil(size) as usize;
    let sums = grow(&mut scratch.acc, blocks * 4);
    let mut top = 0;
    while top < h {
        let bottom = (top + size).min(h);
        sums.fill(0);
        for y in top..bottom {
            let (px, _) = frame.row(y).as_chunks::<4>();
            for (block, chunk) in px.chunks(size as usize).enumerate() {
                let s = &mut sums[block * 4..block * 4 + 4];
                for p in chunk {
                    for c in 0..4 {
                        s[c] += u32::from(p[c]);
                    }
                }
            }
        }
        let rows = bottom - top;
        for y in top..bottom {
            let (px, _) = frame.row_mut(y).as_chunks_mut::<4>();
            for (block, chunk) in px.chunks_mut(size as usize).enumerate() {
                let n = chunk.len() as u32 * rows;
                let s = &sums[block * 4..block * 4 + 4];
                let mean = [0, 1, 2, 3].map(|c| ((s[c] + n / 2) / n) as u8);
                chunk.fill(mean);
            }
        }
        top = bottom;
    }
}
