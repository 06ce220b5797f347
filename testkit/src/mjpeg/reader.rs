//! Whole JPEGs out of a viewer's response body, from any HTTP client (reqwest, hyper over
//! HTTP/2, ...): the client undoes the transfer encoding, [`Parser`] checks the framing.

use std::{collections::VecDeque, pin::Pin, time::SystemTime};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::parser::{Error, Event, Parser};

/// One received part.
#[derive(Clone, Debug)]
pub struct Part {
    pub jpeg: Vec<u8>,
    /// When the JPEG's last byte arrived (its trailing boundary may come a little later).
    pub received: SystemTime,
}

type Body = Pin<Box<dyn Stream<Item = Result<Bytes, String>> + Send>>;

/// Reads a `multipart/x-mixed-replace` body part by part.
pub struct Reader {
    body: Body,
    parser: Parser,
    /// The part being read: its JPEG so far, and when that was complete.
    jpeg: Vec<u8>,
    complete: Option<SystemTime>,
    /// Parts whose trailing boundary arrived, not yet handed out.
    ready: VecDeque<Part>,
    done: bool,
    broken: Option<String>,
}

impl Reader {
    /// Reads `body`, a stream whose parts are separated by `boundary`.
    pub fn new<E: std::fmt::Debug>(
        body: impl Stream<Item = Result<Bytes, E>> + Send + 'static,
        boundary: &str,
    ) -> Self {
        Self {
            body: Box::pin(body.map(|chunk| chunk.map_err(|err| format!("{err:?}")))),
            parser: Parser::new(boundary),
            jpeg: Vec::new(),
            complete: None,
            ready: VecDeque::new(),
            done: false,
            broken: None,
        }
    }

    /// Why the body broke off, if it did rather than ending cleanly.
    pub fn broken(&self) -> Option<&str> {
        self.broken.as_deref()
    }

    /// The next part once its trailing boundary arrived. `None` when the body ended (or
    /// broke off, see [`Self::broken`]) between parts; an error for a framing error or an
    /// end anywhere else.
    pub async fn next_part(&mut self) -> Result<Option<Part>, Error> {
        loop {
            if let Some(part) = self.ready.pop_front() {
                return Ok(Some(part));
            }
            if self.done {
                return match self.parser.unfinished() {
                    None => Ok(None),
                    Some(err) => Err(match &self.broken {
                        Some(why) => Error::new(format!("{err}: {why}")),
                        None => err,
                    }),
                };
            }
            match self.body.next().await {
                Some(Ok(chunk)) => {
                    let Self {
                        parser,
                        jpeg,
                        complete,
                        ready,
                        ..
                    } = self;
                    parser.feed(&chunk, &mut |event| match event {
                        Event::Head { len } => {
                            jpeg.clear();
                            jpeg.reserve(len);
                        }
                        Event::Body { bytes, .. } => jpeg.extend_from_slice(bytes),
                        Event::JpegEnd => *complete = Some(SystemTime::now()),
                        Event::PartEnd => ready.push_back(Part {
                            jpeg: std::mem::take(jpeg),
                            received: complete.take().unwrap_or_else(SystemTime::now),
                        }),
                    })?;
                }
                Some(Err(err)) => {
                    self.broken = Some(err);
                    self.done = true;
                }
                None => self.done = true,
            }
        }
    }

    /// The next JPEG; see [`Self::next_part`].
    pub async fn next_jpeg(&mut self) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.next_part().await?.map(|part| part.jpeg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mjpeg::part_of;

    fn body(pieces: Vec<Result<Vec<u8>, &'static str>>) -> Reader {
        let stream = futures_util::stream::iter(
            pieces
                .into_iter()
                .map(|piece| piece.map(Bytes::from))
                .collect::<Vec<_>>(),
        );
        Reader::new(stream, protocol::mjpeg::BOUNDARY)
    }

    fn wire(jpegs: &[&[u8]]) -> Vec<u8> {
        let mut out = protocol::mjpeg::BOUNDARY_LINE.to_vec();
        for jpeg in jpegs {
            out.extend(part_of(jpeg));
        }
        out
    }

    #[tokio::test]
    async fn hands_out_parts_in_order_then_a_clean_end() {
        let data = wire(&[b"one", b"two", b"three"]);
        let (a, b) = data.split_at(40);
        let mut reader = body(vec![Ok(a.to_vec()), Ok(b.to_vec())]);
        for want in [&b"one"[..], b"two", b"three"] {
            assert_eq!(
                reader.next_jpeg().await.expect("valid").as_deref(),
                Some(want)
            );
        }
        assert_eq!(reader.next_jpeg().await, Ok(None));
        assert_eq!(reader.broken(), None);
    }

    #[tokio::test]
    async fn a_break_between_parts_is_an_end_and_inside_one_an_error() {
        let data = wire(&[b"one"]);
        let mut reader = body(vec![Ok(data.clone()), Err("reset")]);
        assert!(reader.next_jpeg().await.expect("valid").is_some());
        assert_eq!(reader.next_jpeg().await, Ok(None));
        assert_eq!(reader.broken(), Some("\"reset\""));

        let mut reader = body(vec![Ok(data[..data.len() - 20].to_vec()), Err("reset")]);
        let err = reader.next_jpeg().await.expect_err("cut inside the JPEG");
        assert!(err.to_string().contains("inside a JPEG"), "{err}");
        let mut reader = body(vec![Ok(data[..data.len() - 2].to_vec())]);
        let err = reader
            .next_jpeg()
            .await
            .expect_err("cut inside the trailer");
        assert!(err.to_string().contains("boundary"), "{err}");
    }
}
