//! The viewer's stream: `multipart/x-mixed-replace` with a fixed boundary. The body starts
//! with a boundary line; each part is `Content-Type: image/jpeg`, `Content-Length`, a blank
//! line, the JPEG, CRLF and the next boundary line at once (browsers show a part only when
//! they see the boundary after it).

/// The multipart boundary (without the leading dashes).
pub const BOUNDARY: &str = "lenscastframe";

/// The stream's `Content-Type`.
pub const CONTENT_TYPE: &str = "multipart/x-mixed-replace; boundary=lenscastframe";

/// The delimiter as it appears in the body (a line of its own, or with `--` after it at the
/// end). A published JPEG never contains it: parsers would end the part there.
pub const DELIMITER: &[u8] = b"--lenscastframe";

/// The boundary line that opens the body and follows every part.
pub const BOUNDARY_LINE: &[u8] = b"--lenscastframe\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_spellings_agree() {
        assert!(CONTENT_TYPE.ends_with(&format!("boundary={BOUNDARY}")));
        assert_eq!(BOUNDARY_LINE, format!("--{BOUNDARY}\r\n").as_bytes());
        assert!(BOUNDARY_LINE.starts_with(DELIMITER));
    }
}
