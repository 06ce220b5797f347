//! Mirror: flips every row left to right.

use crate::frame::Frame;

pub(crate) fn mirror(frame: &mut Frame<'_>) {
    for row in frame.rows_mut() {
        row.as_chunks_mut::<4>().0.reverse();
    }
}
