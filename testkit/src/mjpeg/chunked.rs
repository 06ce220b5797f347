//! HTTP/1.1 chunked transfer decoding in front of a [`Parser`], for readers on raw TCP that
//! see the body as it is on the wire (the server sends each part as one chunk, but nothing
//! here relies on that).

use super::parser::{Error, Event, Parser};

#[derive(Clone, Copy, Debug)]
enum Chunk {
    /// The chunk-size line: its value so far, and whether it has a digit yet.
    Size {
        size: usize,
        digits: bool,
    },
    /// The size line's LF.
    SizeLf(usize),
    /// Inside a chunk's data, this many bytes left.
    Data(usize),
    /// The CRLF after a chunk's data.
    DataCr,
    DataLf,
    /// The last (empty) chunk arrived: the body is over.
    Done,
}

/// Chunked decoding and the multipart [`Parser`] behind it, allocation-free.
#[derive(Debug)]
pub struct ChunkedParser {
    chunk: Chunk,
    parts: Parser,
}

impl Default for ChunkedParser {
    fn default() -> Self {
        Self::new(Parser::default())
    }
}

impl ChunkedParser {
    pub fn new(parts: Parser) -> Self {
        Self {
            chunk: Chunk::Size {
                size: 0,
                digits: false,
            },
            parts,
        }
    }

    /// The multipart parser behind the chunk decoding.
    pub fn parts(&self) -> &Parser {
        &self.parts
    }

    /// True once the last chunk arrived: the server ended the body.
    pub fn ended(&self) -> bool {
        matches!(self.chunk, Chunk::Done)
    }

    /// How many of the next bytes are JPEG data inside the current chunk, if the JPEG is
    /// read up to at least `from` bytes: a reader that has what it wants of the JPEG may
    /// drop that many unread and [`Self::skip`] them (0: the next bytes must be fed).
    pub fn skippable(&self, from: usize) -> usize {
        match (self.chunk, self.parts.body()) {
            (Chunk::Data(left), Some((at, len))) if at >= from => left.min(len - at),
            _ => 0,
        }
    }

    /// Moves past `n` (at most [`Self::skippable`]) bytes that were dropped unread.
    pub fn skip(&mut self, n: usize, on: &mut impl FnMut(Event<'_>)) -> Result<(), Error> {
        let Chunk::Data(left) = self.chunk else {
            return Err(Error::new("skipped bytes outside a chunk's data"));
        };
        if n > left {
            return Err(Error::new("skipped past the end of a chunk"));
        }
        self.parts.skip(n, on)?;
        self.chunk = if n == left {
            Chunk::DataCr
        } else {
            Chunk::Data(left - n)
        };
        Ok(())
    }

    /// Reads `data`, the next bytes of a chunked body. Bytes after the last chunk (its
    /// trailer section) are ignored.
    pub fn feed(&mut self, mut data: &[u8], on: &mut impl FnMut(Event<'_>)) -> Result<(), Error> {
        while !data.is_empty() {
            match self.chunk {
                Chunk::Size { size, digits } => {
                    let b = data[0];
                    data = &data[1..];
                    self.chunk = match (b, (b as char).to_digit(16)) {
                        (_, Some(digit)) => Chunk::Size {
                            size: size
                                .checked_mul(16)
                                .and_then(|s| s.checked_add(digit as usize))
                                .ok_or_else(|| Error::new("chunk size overflows"))?,
                            digits: true,
                        },
                        (b'\r', None) if digits => Chunk::SizeLf(size),
                        _ => return Err(Error::new(format!("bad chunk size byte {b:#x}"))),
                    };
                }
                Chunk::SizeLf(size) => {
                    expect(data[0], b'\n', "chunk size line")?;
                    data = &data[1..];
                    self.chunk = if size == 0 {
                        Chunk::Done
                    } else {
                        Chunk::Data(size)
                    };
                }
                Chunk::Data(left) => {
                    let take = left.min(data.len());
                    self.parts.feed(&data[..take], on)?;
                    data = &data[take..];
                    self.chunk = if take == left {
                        Chunk::DataCr
                    } else {
                        Chunk::Data(left - take)
                    };
                }
                Chunk::DataCr => {
                    expect(data[0], b'\r', "chunk data")?;
                    data = &data[1..];
                    self.chunk = Chunk::DataLf;
                }
                Chunk::DataLf => {
                    expect(data[0], b'\n', "chunk data")?;
                    data = &data[1..];
                    self.chunk = Chunk::Size {
                        size: 0,
                        digits: false,
                    };
                }
                Chunk::Done => return Ok(()),
            }
        }
        Ok(())
    }
}

fn expect(got: u8, want: u8, after: &str) -> Result<(), Error> {
    if got == want {
        Ok(())
    } else {
        Err(Error::new(format!(
            "expected {:?} after the {after}, got {:?}",
            want as char, got as char
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mjpeg::part_of;

    /// `body` in chunks of `size` bytes (upper-case hex sizes, as the server writes them),
    /// then the last chunk.
    fn chunked(body: &[u8], size: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for piece in body.chunks(size) {
            out.extend_from_slice(format!("{:X}\r\n", piece.len()).as_bytes());
            out.extend_from_slice(piece);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    #[test]
    fn decodes_chunks_of_any_size_and_sees_the_end() {
        let mut body = protocol::mjpeg::BOUNDARY_LINE.to_vec();
        let jpegs = [vec![1u8; 700], vec![2u8; 31], vec![3u8; 4000]];
        for jpeg in &jpegs {
            body.extend(part_of(jpeg));
        }
        for size in [1, 30, 700, 100_000] {
            let wire = chunked(&body, size);
            let mut parser = ChunkedParser::default();
            let mut got: Vec<Vec<u8>> = Vec::new();
            for piece in wire.chunks(13) {
                parser
                    .feed(piece, &mut |event| match event {
                        Event::Head { .. } => got.push(Vec::new()),
                        Event::Body { bytes, .. } => {
                            got.last_mut().expect("a part").extend_from_slice(bytes);
                        }
                        Event::JpegEnd | Event::PartEnd => {}
                    })
                    .expect("valid");
            }
            assert_eq!(got, jpegs, "chunks of {size}");
            assert!(parser.ended());
            assert!(parser.parts().between_parts());
        }
    }

    #[test]
    fn skips_only_inside_chunk_data_past_the_wanted_bytes() {
        let mut body = protocol::mjpeg::BOUNDARY_LINE.to_vec();
        body.extend(part_of(&[7u8; 100]));
        // Chunks of 73: the boundary (17), the headers (49) and the JPEG's first 7 bytes,
        // then 73 bytes of JPEG, then its last 20 and the trailer.
        let wire = chunked(&body, 73);
        let (headers, first_end) = (4 + 60, 4 + 73);
        let second = first_end + 2 + 4;
        let mut parser = ChunkedParser::default();
        let mut ends = 0;
        let mut on = |event: Event<'_>| ends += usize::from(event == Event::JpegEnd);
        parser
            .feed(&wire[..headers], &mut on)
            .expect("boundary and headers");
        assert_eq!(parser.skippable(0), 0, "headers are not JPEG data");
        parser
            .feed(&wire[headers..first_end], &mut on)
            .expect("7 bytes");
        assert_eq!(parser.parts().body(), Some((7, 100)));
        assert_eq!(parser.skippable(7), 0, "the chunk's data is all read");
        parser
            .feed(&wire[first_end..second], &mut on)
            .expect("CRLF, size line");
        assert_eq!(parser.skippable(8), 0, "not read far enough yet");
        assert_eq!(parser.skippable(7), 73);
        assert!(parser.skip(74, &mut on).is_err());
        parser.skip(73, &mut on).expect("a whole chunk");
        assert_eq!(parser.parts().body(), Some((80, 100)));
        parser
            .feed(&wire[second + 73..], &mut on)
            .expect("the rest");
        assert!(parser.ended());
        assert_eq!(ends, 1);
    }

    #[test]
    fn rejects_broken_chunking() {
        let mut parser = ChunkedParser::default();
        assert!(parser.feed(b"\r\n", &mut |_| {}).is_err(), "no digits");
        let mut parser = ChunkedParser::default();
        assert!(parser.feed(b"5;ext=1\r\n", &mut |_| {}).is_err());
        let mut parser = ChunkedParser::default();
        assert!(
            parser.feed(b"2\r\n--XX", &mut |_| {}).is_err(),
            "no CRLF after data"
        );
        let mut parser = ChunkedParser::default();
        assert!(parser.feed(b"FFFFFFFFFFFFFFFFFF\r\n", &mut |_| {}).is_err());
    }
}
