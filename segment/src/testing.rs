//! What the unit tests share: comparing a fast path's floats with a reference's.

/// Panics unless `got` and `want` have the same length and each value of `got` is within
/// `tolerance` of `want`'s, relative to it (absolute below 1); `what` names the case.
#[track_caller]
pub(crate) fn assert_all_close(got: &[f32], want: &[f32], tolerance: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= tolerance * b.abs().max(1.0),
            "{what}, value {i}: {a} vs {b}"
        );
    }
}
