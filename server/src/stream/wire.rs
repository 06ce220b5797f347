//! The bytes of an MJPEG stream (`multipart/x-mixed-replace`), with no knowledge of rooms or
//! viewers: a published JPEG framed once, and the fixed chunks around the parts.
//!
//! The body starts with a boundary line; every part is `headers, JPEG, CRLF, boundary line`,
//! so the boundary follows each frame at once (browsers show a part only when they see the
//! next boundary). A [`Frame`] is built once per published JPEG and shared by every viewer:
//! the part sits inside one buffer that also holds the HTTP/1.1 chunk framing around it, so
//! hyper (which frames chunks itself) and the taken-over sockets (which are written
//! directly) send slices of the same bytes.

use std::{fmt::Write as _, sync::OnceLock};

use crate::stream::zerocopy::SharedFile;
use bytes::{BufMut, Bytes, BytesMut};

/// What follows each JPEG: CRLF, then the next boundary line at once.
const TRAILER: &[u8] = b"\r\n--lenscastframe\r\n";
const CRLF: &[u8] = b"\r\n";
/// The multipart prologue (the first boundary line) as a chunked body's first chunk.
pub const PROLOGUE_CHUNK: &[u8] = b"11\r\n--lenscastframe\r\n\r\n";
/// The chunk that ends a chunked body.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// A published frame, ready for viewers.
pub struct Frame {
    /// The part as one HTTP/1.1 chunk: size line, part, CRLF.
    pub chunk: Bytes,
    /// Part headers, the JPEG and the boundary line that follows it (a slice of `chunk`).
    pub part: Bytes,
    /// The JPEG alone (a slice of `chunk`).
    pub jpeg: Bytes,
    /// 1 for the room's first frame, then +1 for each.
    pub seq: u64,
    /// `chunk` in an in-memory file (and its page pipe) for zero-copy sends, made by the
    /// first fan-out pass big enough to gain from it (`None` where that is not possible).
    file: OnceLock<Option<SharedFile>>,
}

impl Frame {
    pub fn new(jpeg: &[u8], seq: u64) -> Self {
        let mut head = String::with_capacity(64);
        // Infallible: formatting into a String.
        let _ = write!(
            head,
            "Content-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
            jpeg.len()
        );
        let part_len = head.len() + jpeg.len() + TRAILER.len();
        let size_line = format!("{part_len:X}\r\n");
        let mut chunk = BytesMut::with_capacity(size_line.len() + part_len + CRLF.len());
        chunk.put_slice(size_line.as_bytes());
        chunk.put_slice(head.as_bytes());
        chunk.put_slice(jpeg);
        chunk.put_slice(TRAILER);
        chunk.put_slice(CRLF);
        let chunk = chunk.freeze();
        let part = chunk.slice(size_line.len()..size_line.len() + part_len);
        let jpeg = part.slice(head.len()..head.len() + jpeg.len());
        Self {
            chunk,
            part,
            jpeg,
            seq,
            file: OnceLock::new(),
        }
    }

    /// `chunk` as a file that can be sent without copying, made now if not yet (where this
    /// machine allows it).
    pub fn shared_file(&self) -> Option<&SharedFile> {
        self.file
            .get_or_init(|| SharedFile::new(&self.chunk).ok())
            .as_ref()
    }

    /// The shared file, if one was made.
    pub fn existing_shared_file(&self) -> Option<&SharedFile> {
        self.file.get()?.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use protocol::mjpeg::BOUNDARY_LINE;

    use super::*;

    #[test]
    fn part_has_headers_jpeg_and_boundary_inside_one_chunk() {
        let frame = Frame::new(b"\xFF\xD8abc\xFF\xD9", 1);
        assert_eq!(&frame.jpeg[..], b"\xFF\xD8abc\xFF\xD9");
        let part: &[u8] = b"Content-Type: image/jpeg\r\nContent-Length: 7\r\n\r\n\xFF\xD8abc\xFF\xD9\r\n--lenscastframe\r\n";
        assert_eq!(&frame.part[..], part);
        let mut chunk = format!("{:X}\r\n", part.len()).into_bytes();
        chunk.extend_from_slice(part);
        chunk.extend_from_slice(b"\r\n");
        assert_eq!(&frame.chunk[..], &chunk[..]);
    }

    #[test]
    fn fixed_chunks_frame_the_contract_boundary() {
        assert_eq!(TRAILER, [CRLF, BOUNDARY_LINE].concat());
        let mut prologue = format!("{:X}\r\n", BOUNDARY_LINE.len()).into_bytes();
        prologue.extend_from_slice(BOUNDARY_LINE);
        prologue.extend_from_slice(CRLF);
        assert_eq!(PROLOGUE_CHUNK, &prologue[..]);
    }
}
