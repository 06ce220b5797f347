//! A viewer of the server's `stream.mjpg`, as an independent client: a plain reqwest GET,
//! its body read part by part by `testkit`'s MJPEG reader (the framing checked as the
//! server's own tests check it), each JPEG with the time it was complete.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use testkit::mjpeg::{self, Reader};

pub use testkit::mjpeg::Part;

pub struct MjpegReader {
    reader: Reader,
}

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
        let boundary = mjpeg::boundary_of(&kind).unwrap_or(protocol::mjpeg::BOUNDARY);
        Ok(Self {
            reader: Reader::new(response.bytes_stream(), boundary),
        })
    }

    /// The next complete JPEG, or an error after `timeout` without one.
    pub async fn next_part(&mut self, timeout: Duration) -> Result<Part> {
        let next = tokio::time::timeout(timeout, self.reader.next_part())
            .await
            .with_context(|| format!("no MJPEG part within {timeout:?}"))?
            .context("MJPEG stream")?;
        match (next, self.reader.broken()) {
            (Some(part), _) => Ok(part),
            (None, None) => bail!("the MJPEG stream ended"),
            (None, Some(why)) => bail!("the MJPEG stream broke off: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpListener,
    };

    use super::*;

    /// Answers one request with `content_type` and `body`, then closes the connection (which
    /// ends the body); returns the URL.
    async fn serve_once(content_type: &'static str, body: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!(
            "http://{}/stream.mjpg",
            listener.local_addr().expect("addr")
        );
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            // Read the request first: closing with it unread would reset the connection.
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\nconnection: close\r\n\r\n"
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(&body).await;
        });
        url
    }

    #[tokio::test]
    async fn reads_the_parts_of_a_stream_then_reports_its_end() {
        let mut body = protocol::mjpeg::BOUNDARY_LINE.to_vec();
        body.extend(mjpeg::part_of(b"one"));
        body.extend(mjpeg::part_of(b"two"));
        let url = serve_once(protocol::mjpeg::CONTENT_TYPE, body).await;
        let mut reader = MjpegReader::open(&url).await.expect("a multipart stream");
        let wait = Duration::from_secs(10);
        assert_eq!(reader.next_part(wait).await.expect("part").jpeg, b"one");
        assert_eq!(reader.next_part(wait).await.expect("part").jpeg, b"two");
        let end = reader.next_part(wait).await.expect_err("no third part");
        assert!(end.to_string().contains("ended"), "{end:#}");
    }

    #[tokio::test]
    async fn refuses_a_response_that_is_not_a_multipart_stream() {
        let url = serve_once("image/jpeg", b"\xFF\xD8\xFF\xD9".to_vec()).await;
        let err = MjpegReader::open(&url).await.err().expect("not a stream");
        assert!(err.to_string().contains("not multipart"), "{err:#}");
    }
}
