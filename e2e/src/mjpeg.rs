//! A viewer of the server's `stream.mjpg`, as an independent client: reads the
//! `multipart/x-mixed-replace` body part by part (each part's `Content-Length` gives the
//! JPEG's size) and hands out the JPEG bytes with the time each one was complete.

use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use futures_util::StreamExt;

/// One received part.
pub struct Part {
    pub jpeg: Vec<u8>,
    /// When the last byte of the part arrived.
    pub received: SystemTime,
}

pub struct MjpegReader {
    body: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: Vec<u8>,
}

/// Largest part header block accepted before giving up on the stream.
const MAX_HEADER: usize = 4096;
/// Largest JPEG accepted.
const MAX_PART: usize = 32 << 20;

impl MjpegReader {
    /// Opens `url` (a `stream.mjpg` URL) and checks the response is a multipart stream.
    pub async fn open(url: &str) -> Result<Self> {
        let response = reqwest::Client::new()
            .get(url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        if !response.status().is_success() {
            bail!("GET {url}: {}", response.status());
        }
        let kind = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if !kind.starts_with("multipart/x-mixed-replace") {
            bail!("GET {url}: content type {kind:?} is not multipart/x-mixed-replace");
        }
        Ok(Self {
            body: response.bytes_stream().boxed(),
            buf: Vec::new(),
        })
    }

    /// The next complete JPEG, or an error after `timeout` without one.
    pub async fn next_part(&mut self, timeout: Duration) -> Result<Part> {
        tokio::time::timeout(timeout, self.read_part())
            .await
            .with_context(|| format!("no MJPEG part within {timeout:?}"))?
    }

    async fn read_part(&mut self) -> Result<Part> {
        loop {
            if let Some((start, len)) = locate_part(&self.buf)?
                && self.buf.len() >= start + len
            {
                let jpeg = self.buf[start..start + len].to_vec();
                self.buf.drain(..start + len);
                return Ok(Part {
                    jpeg,
                    received: SystemTime::now(),
                });
            }
            match self.body.next().await {
                Some(chunk) => self.buf.extend_from_slice(&chunk.context("stream body")?),
                None => bail!("the MJPEG stream ended"),
            }
        }
    }
}

/// Finds the next part in `buf`: `(offset of the JPEG, its length)` once the part's
/// headers are complete; `None` while they are not.
fn locate_part(buf: &[u8]) -> Result<Option<(usize, usize)>> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > MAX_HEADER {
            bail!("no part headers in the first {MAX_HEADER} bytes");
        }
        return Ok(None);
    };
    let headers = String::from_utf8_lossy(&buf[..end]);
    let len = headers
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .with_context(|| format!("part without Content-Length: {headers:?}"))?;
    if len > MAX_PART {
        bail!("part of {len} bytes");
    }
    Ok(Some((end + 4, len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_parts_after_the_boundary() {
        let mut stream =
            b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 4\r\n\r\nJPEG\r\n".to_vec();
        let (start, len) = locate_part(&stream).unwrap().unwrap();
        assert_eq!(&stream[start..start + len], b"JPEG");
        stream.drain(..start + len);
        stream.extend_from_slice(b"--frame\r\ncontent-length: 2\r\n\r\nAB");
        let (start, len) = locate_part(&stream).unwrap().unwrap();
        assert_eq!(&stream[start..start + len], b"AB");
    }

    #[test]
    fn waits_for_headers_and_rejects_nonsense() {
        assert!(locate_part(b"--frame\r\nContent-Le").unwrap().is_none());
        assert!(locate_part(b"--frame\r\nX: y\r\n\r\n").is_err());
        assert!(locate_part(&vec![b'x'; MAX_HEADER + 1]).is_err());
        assert!(locate_part(b"Content-Length: 999999999999\r\n\r\n").is_err());
    }
}
