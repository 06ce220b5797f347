//! Model shapes as rten reports them.

use rten::Dimension;

/// `[1, 3, h, 256]`: for error messages.
pub(crate) fn shape_text(shape: &[Dimension]) -> String {
    let dims: Vec<String> = shape
        .iter()
        .map(|d| match d {
            Dimension::Fixed(n) => n.to_string(),
            Dimension::Symbolic(name) => name.clone(),
        })
        .collect();
    format!("[{}]", dims.join(", "))
}

/// Every dimension, if all are fixed.
pub(crate) fn fixed(shape: &[Dimension]) -> Option<Vec<usize>> {
    shape
        .iter()
        .map(|d| match d {
            Dimension::Fixed(n) => Some(*n),
            Dimension::Symbolic(_) => None,
        })
        .collect()
}
