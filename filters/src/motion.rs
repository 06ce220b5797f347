//! Motion highlight, the one stateful built-in: it remembers the previous frame's luma and
//! marks in red (R = 255, G and B halved) each pixel whose luma changed by more than `t`.
//! The first frame, and the first after a size change, only records.

use crate::{
    edges::luma_plane,
    frame::Frame,
    scratch::{Scratch, grow},
};

#[derive(Debug, Default)]
pub(crate) struct MotionState {
    previous: Vec<u8>,
    size: (u32, u32),
}

impl MotionState {
    pub(crate) fn apply(&mut self, frame: &mut Frame<'_>, threshold: u8, scratch: &mut Scratch) {
        let (w, h) = (frame.width(), frame.height());
        let luma = grow(&mut scratch.luma, w as usize * h as usize);
        luma_plane(frame, luma);
        if self.size == (w, h) {
            for ((row, now), before) in frame
                .rows_mut()
                .zip(luma.chunks_exact(w as usize))
                .zip(self.previous.chunks_exact(w as usize))
            {
                let (px, _) = row.as_chunks_mut::<4>();
                for ((p, &a), &b) in px.iter_mut().zip(now).zip(before) {
                    if a.abs_diff(b) > threshold {
                        p[0] = 255;
                        p[1] >>= 1;
                        p[2] >>= 1;
                    }
                }
            }
            self.previous.copy_from_slice(luma);
        } else {
            self.previous.clear();
            self.previous.extend_from_slice(luma);
            self.size = (w, h);
        }
    }
}
