//! [`Parser`]: the MJPEG framing as a state machine over bytes, saying what it saw as
//! [`Event`]s, with no I/O.

use std::fmt;

/// The largest JPEG a part may announce: far above what the server accepts, low enough that
/// a garbled length cannot make a reader reserve gigabytes.
pub const MAX_JPEG: usize = 32 << 20;

/// Room for one part's header block (the server sends about 50 bytes).
const MAX_HEAD: usize = 256;

/// Where a stream broke the framing, or stopped in the middle of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    pub(crate) fn new(what: impl Into<String>) -> Self {
        Self(what.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// What [`Parser::feed`] saw, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A part's headers: a JPEG of `len` bytes follows.
    Head { len: usize },
    /// The next bytes of the JPEG, `at` bytes into it.
    Body { at: usize, bytes: &'a [u8] },
    /// The JPEG's last byte arrived (read or skipped); its trailing boundary is still due.
    JpegEnd,
    /// The boundary line after the JPEG arrived: the part is complete.
    PartEnd,
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// Matching the opening boundary line (`trailer: false`) or the CRLF and boundary line
    /// after a JPEG (`trailer: true`); `matched` bytes of it so far.
    Line { trailer: bool, matched: usize },
    /// Collecting a part's header block into `head`.
    Head,
    /// Inside a JPEG of `len` bytes, `at` of them done.
    Body { at: usize, len: usize },
}

/// The multipart framing of a viewer's stream, push style: [`Parser::feed`] takes whatever
/// bytes arrived (any split) and reports [`Event`]s to a callback.
#[derive(Debug)]
pub struct Parser {
    opening: Box<[u8]>,
    trailer: Box<[u8]>,
    state: State,
    head: [u8; MAX_HEAD],
    head_len: usize,
}

impl Default for Parser {
    /// The server's boundary, `protocol::mjpeg::BOUNDARY`.
    fn default() -> Self {
        Self::new(protocol::mjpeg::BOUNDARY)
    }
}

impl Parser {
    /// A parser for parts separated by `boundary` (without its leading dashes).
    pub fn new(boundary: &str) -> Self {
        let opening = format!("--{boundary}\r\n").into_bytes();
        let trailer = [b"\r\n".as_slice(), &opening].concat();
        Self {
            opening: opening.into(),
            trailer: trailer.into(),
            state: State::Line {
                trailer: false,
                matched: 0,
            },
            head: [0; MAX_HEAD],
            head_len: 0,
        }
    }

    /// `(at, len)` while inside a JPEG: `at` of its `len` bytes are done.
    pub fn body(&self) -> Option<(usize, usize)> {
        match self.state {
            State::Body { at, len } => Some((at, len)),
            _ => None,
        }
    }

    /// True where the stream may end cleanly: before anything arrived, or right after a
    /// part's trailing boundary line.
    pub fn between_parts(&self) -> bool {
        match self.state {
            State::Line {
                trailer: false,
                matched: 0,
            } => true,
            State::Head => self.head_len == 0,
            _ => false,
        }
    }

    /// Why the stream may not end here, if it may not.
    pub fn unfinished(&self) -> Option<Error> {
        if self.between_parts() {
            return None;
        }
        Some(Error::new(match self.state {
            State::Line { trailer: false, .. } => "stream ended inside the opening boundary",
            State::Line { trailer: true, .. } => {
                "stream ended before the boundary that must follow each frame"
            }
            State::Head => "stream ended inside part headers",
            State::Body { .. } => "stream ended inside a JPEG",
        }))
    }

    /// Reads `data`, the next bytes of the body.
    pub fn feed(&mut self, mut data: &[u8], on: &mut impl FnMut(Event<'_>)) -> Result<(), Error> {
        while !data.is_empty() {
            match self.state {
                State::Line { trailer, matched } => {
                    let line = if trailer {
                        &self.trailer
                    } else {
                        &self.opening
                    };
                    let take = (line.len() - matched).min(data.len());
                    if data[..take] != line[matched..matched + take] {
                        return Err(Error::new(format!(
                            "multipart framing: expected {:?}, got {:?}",
                            String::from_utf8_lossy(line),
                            String::from_utf8_lossy(&data[..take])
                        )));
                    }
                    data = &data[take..];
                    if matched + take == line.len() {
                        if trailer {
                            on(Event::PartEnd);
                        }
                        self.state = State::Head;
                    } else {
                        self.state = State::Line {
                            trailer,
                            matched: matched + take,
                        };
                    }
                }
                State::Head => {
                    if self.head_len == MAX_HEAD {
                        return Err(Error::new(format!(
                            "no end of part headers in {MAX_HEAD} bytes"
                        )));
                    }
                    self.head[self.head_len] = data[0];
                    self.head_len += 1;
                    data = &data[1..];
                    if self.head[..self.head_len].ends_with(b"\r\n\r\n") {
                        let len = jpeg_length(&self.head[..self.head_len - 4])?;
                        self.head_len = 0;
                        on(Event::Head { len });
                        self.body_advanced(0, len, on);
                    }
                }
                State::Body { at, len } => {
                    let take = (len - at).min(data.len());
                    on(Event::Body {
                        at,
                        bytes: &data[..take],
                    });
                    data = &data[take..];
                    self.body_advanced(at + take, len, on);
                }
            }
        }
        Ok(())
    }

    /// Moves past the next `n` bytes of the current JPEG without seeing them (they were
    /// dropped unread); no [`Event::Body`] for them.
    pub fn skip(&mut self, n: usize, on: &mut impl FnMut(Event<'_>)) -> Result<(), Error> {
        let State::Body { at, len } = self.state else {
            return Err(Error::new("skipped bytes outside a JPEG"));
        };
        if n > len - at {
            return Err(Error::new("skipped past the end of a JPEG"));
        }
        self.body_advanced(at + n, len, on);
        Ok(())
    }

    fn body_advanced(&mut self, at: usize, len: usize, on: &mut impl FnMut(Event<'_>)) {
        if at == len {
            on(Event::JpegEnd);
            self.state = State::Line {
                trailer: true,
                matched: 0,
            };
        } else {
            self.state = State::Body { at, len };
        }
    }
}

/// The JPEG length a part's header block (without its blank line) announces, once it is
/// known to announce a JPEG.
fn jpeg_length(head: &[u8]) -> Result<usize, Error> {
    let text = std::str::from_utf8(head)
        .map_err(|_| Error::new(format!("part headers are not UTF-8: {head:?}")))?;
    let mut len = None;
    let mut kind = None;
    for line in text.split("\r\n") {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| Error::new(format!("not a header line: {line:?}")))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            len = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| Error::new(format!("bad Content-Length {value:?}")))?,
            );
        } else if name.eq_ignore_ascii_case("content-type") {
            kind = Some(value);
        }
    }
    if kind != Some("image/jpeg") {
        return Err(Error::new(format!(
            "part of type {kind:?}, not image/jpeg: {text:?}"
        )));
    }
    let len = len.ok_or_else(|| Error::new(format!("part without Content-Length: {text:?}")))?;
    if len > MAX_JPEG {
        return Err(Error::new(format!("part of {len} bytes")));
    }
    Ok(len)
}

/// The part the server sends for `jpeg`: headers, the JPEG, CRLF and the boundary line.
pub fn part_of(jpeg: &[u8]) -> Vec<u8> {
    let mut part = format!(
        "Content-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
        jpeg.len()
    )
    .into_bytes();
    part.extend_from_slice(jpeg);
    part.extend_from_slice(b"\r\n");
    part.extend_from_slice(protocol::mjpeg::BOUNDARY_LINE);
    part
}

/// The boundary a stream's `Content-Type` names, if it is a `multipart/x-mixed-replace` one
/// with its boundary given as the server gives it.
pub fn boundary_of(content_type: &str) -> Option<&str> {
    content_type.strip_prefix("multipart/x-mixed-replace; boundary=")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event of `data` fed in pieces of `step` bytes, JPEG bytes gathered per part.
    fn events(data: &[u8], step: usize) -> Result<(Vec<Vec<u8>>, Parser), Error> {
        let mut parser = Parser::default();
        let mut done = Vec::new();
        let mut jpeg = Vec::new();
        let mut ended = false;
        for piece in data.chunks(step) {
            parser.feed(piece, &mut |event| match event {
                Event::Head { len } => {
                    assert!(jpeg.is_empty() && !ended);
                    jpeg.reserve(len);
                }
                Event::Body { at, bytes } => {
                    assert_eq!(at, jpeg.len());
                    jpeg.extend_from_slice(bytes);
                }
                Event::JpegEnd => ended = true,
                Event::PartEnd => {
                    assert!(ended);
                    ended = false;
                    done.push(std::mem::take(&mut jpeg));
                }
            })?;
        }
        Ok((done, parser))
    }

    fn stream(jpegs: &[&[u8]]) -> Vec<u8> {
        let mut body = protocol::mjpeg::BOUNDARY_LINE.to_vec();
        for jpeg in jpegs {
            body.extend(part_of(jpeg));
        }
        body
    }

    #[test]
    fn parts_come_out_whole_however_the_bytes_are_split() {
        let big = vec![0xAB; 3000];
        let data = stream(&[b"JPEG", b"", &big, b"AB"]);
        for step in [1, 2, 7, 64, 1000, data.len()] {
            let (parts, parser) = events(&data, step).expect("valid stream");
            assert_eq!(
                parts,
                [b"JPEG".to_vec(), Vec::new(), big.clone(), b"AB".to_vec()]
            );
            assert!(parser.between_parts());
            assert_eq!(parser.unfinished(), None);
        }
    }

    #[test]
    fn header_names_are_case_insensitive() {
        let mut data = protocol::mjpeg::BOUNDARY_LINE.to_vec();
        data.extend_from_slice(b"content-type: image/jpeg\r\ncontent-length: 2\r\n\r\nAB");
        data.extend_from_slice(b"\r\n--lenscastframe\r\n");
        assert_eq!(events(&data, 5).expect("valid").0, [b"AB".to_vec()]);
    }

    #[test]
    fn waits_for_headers_and_says_where_a_stream_stopped() {
        let data = stream(&[b"JPEG"]);
        let cases = [
            (0, None),
            (3, Some("opening boundary")),
            (20, Some("part headers")),
            (66, Some("a JPEG")),
            (data.len() - 3, Some("boundary that must follow")),
            (data.len(), None),
        ];
        for (cut, why) in cases {
            let (_, parser) = events(&data[..cut.min(data.len())], 1).expect("a valid prefix");
            match (parser.unfinished(), why) {
                (None, None) => {}
                (Some(err), Some(why)) => assert!(err.to_string().contains(why), "{cut}: {err}"),
                (got, _) => panic!("cut at {cut}: {got:?}"),
            }
        }
    }

    #[test]
    fn rejects_nonsense() {
        let bad = |tail: &[u8]| {
            let mut data = protocol::mjpeg::BOUNDARY_LINE.to_vec();
            data.extend_from_slice(tail);
            events(&data, 3).expect_err("invalid").to_string()
        };
        assert!(bad(b"X: y\r\n\r\n").contains("image/jpeg"));
        assert!(bad(b"Content-Type: image/jpeg\r\n\r\n").contains("Content-Length"));
        assert!(
            bad(b"Content-Type: image/jpeg\r\nContent-Length: 999999999999\r\n\r\n")
                .contains("bytes")
        );
        assert!(
            bad(b"Content-Type: image/jpeg\r\nContent-Length: x\r\n\r\n")
                .contains("Content-Length")
        );
        assert!(bad(&[b'x'; MAX_HEAD + 1]).contains("headers"));
        assert!(bad(b"no colon\r\n\r\n").contains("header line"));
        let mut wrong_trailer = stream(&[b"AB"]);
        let at = wrong_trailer.len() - 4;
        wrong_trailer[at] = b'X';
        assert!(events(&wrong_trailer, 4).is_err());
        assert!(events(b"--otherframe\r\n", 4).is_err());
    }

    #[test]
    fn skipped_bytes_end_the_jpeg_as_read_ones_do() {
        let data = stream(&[b"0123456789"]);
        let body_at = data.len() - 10 - 19;
        let mut parser = Parser::default();
        let mut seen = Vec::new();
        let mut on = |event: Event<'_>| seen.push(format!("{event:?}"));
        parser
            .feed(&data[..body_at + 4], &mut on)
            .expect("head and 4 bytes");
        assert_eq!(parser.body(), Some((4, 10)));
        assert!(parser.skip(7, &mut on).is_err());
        parser.skip(6, &mut on).expect("the rest of the JPEG");
        assert_eq!(parser.body(), None);
        parser
            .feed(&data[body_at + 10..], &mut on)
            .expect("the trailer");
        assert!(parser.skip(1, &mut on).is_err());
        assert_eq!(
            seen,
            [
                "Head { len: 10 }",
                "Body { at: 0, bytes: [48, 49, 50, 51] }",
                "JpegEnd",
                "PartEnd"
            ]
        );
    }

    #[test]
    fn the_boundary_comes_from_the_content_type() {
        assert_eq!(
            boundary_of(protocol::mjpeg::CONTENT_TYPE),
            Some(protocol::mjpeg::BOUNDARY)
        );
        assert_eq!(boundary_of("image/jpeg"), None);
    }
}
