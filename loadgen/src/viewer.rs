//! One MJPEG viewer on raw TCP: the response head, then the chunked body through the shared
//! parser (`testkit::mjpeg`), keeping only each JPEG's stamp. With `--drop-bodies` the bytes
//! past the stamp are dropped in the kernel, unread.

use std::{cell::RefCell, io::Read};

use anyhow::{Result, bail};
use hdrhistogram::Histogram;
use testkit::mjpeg::{ChunkedParser, Event};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_util::sync::CancellationToken;

use crate::{
    frames::{STAMP_AT, STAMP_END, STAMP_LEN, sent_ns},
    window::{HIST_MAX_US, Window, now_ns},
};

/// A viewer's read buffer: one frame in one or two reads.
const READ_BUF: usize = 64 * 1024;
/// Bytes read at once outside JPEG bodies: chunk lines, part headers, the stamp.
const HEAD_READ: usize = 256;

/// Sends the GET and reads the response head; the body follows on the returned socket.
pub async fn open_stream(addr: &str, path: &str) -> Result<(TcpStream, Vec<u8>)> {
    let mut tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    tcp.write_all(format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n").as_bytes())
        .await?;
    let mut head = Vec::with_capacity(1024);
    let mut byte = [0u8; 512];
    loop {
        let got = tcp.read(&mut byte).await?;
        if got == 0 {
            bail!("closed before the response head");
        }
        head.extend_from_slice(&byte[..got]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            let text = String::from_utf8_lossy(&head[..i]).to_ascii_lowercase();
            if !text.starts_with("http/1.1 200") || !text.contains("transfer-encoding: chunked") {
                bail!("unexpected response head: {text}");
            }
            // Whatever came after the head is body.
            return Ok((tcp, head.split_off(i + 4)));
        }
    }
}

/// The shared chunked MJPEG parser, keeping of each JPEG only its stamp: allocation-free.
#[derive(Default)]
pub struct StampParser {
    parser: ChunkedParser,
    stamp: [u8; STAMP_LEN],
}

impl StampParser {
    /// Reads `data`; `on_frame` gets the stamp of each JPEG that ends in it.
    pub fn feed(&mut self, data: &[u8], on_frame: &mut impl FnMut(&[u8; STAMP_LEN])) -> Result<()> {
        let stamp = &mut self.stamp;
        self.parser.feed(data, &mut |event| match event {
            Event::Body { at, bytes } => {
                // The stamp sits at a fixed offset near the JPEG's start.
                let (lo, hi) = (at.max(STAMP_AT), (at + bytes.len()).min(STAMP_END));
                if lo < hi {
                    stamp[lo - STAMP_AT..hi - STAMP_AT].copy_from_slice(&bytes[lo - at..hi - at]);
                }
            }
            Event::JpegEnd => on_frame(stamp),
            Event::Head { .. } | Event::PartEnd => {}
        })?;
        Ok(())
    }

    /// How many of the next bytes are JPEG body past the stamp, inside the current chunk:
    /// nobody needs to see them.
    pub fn skippable(&self) -> usize {
        self.parser.skippable(STAMP_END)
    }

    /// Moves past `n` (at most [`Self::skippable`]) bytes that were dropped unread.
    pub fn skip(&mut self, n: usize, on_frame: &mut impl FnMut(&[u8; STAMP_LEN])) -> Result<()> {
        let stamp = &self.stamp;
        self.parser.skip(n, &mut |event| {
            if event == Event::JpegEnd {
                on_frame(stamp);
            }
        })?;
        Ok(())
    }

    /// The server sent the body's last chunk.
    pub fn ended(&self) -> bool {
        self.parser.ended()
    }
}

/// Reads one viewer's stream until `stop`; returns the frames sent inside the window that
/// arrived, and their latencies.
pub async fn watch(
    conn: (TcpStream, Vec<u8>),
    window: &Window,
    stop: &CancellationToken,
    drop_bodies: bool,
) -> Result<(u64, Histogram<u64>)> {
    let mut hist = Histogram::<u64>::new_with_bounds(1, HIST_MAX_US, 2)?;
    let mut count = 0u64;
    read_frames(conn, stop, drop_bodies, |sent| {
        if window.contains(sent) {
            count += 1;
            hist.saturating_record((now_ns().saturating_sub(sent) / 1000).max(1));
        }
    })
    .await?;
    Ok((count, hist))
}

/// Reads one viewer's stream until `stop`, giving `on_sent` the send time of every JPEG that
/// arrives; an error if the stream ends or breaks first.
pub async fn read_frames(
    (tcp, early): (TcpStream, Vec<u8>),
    stop: &CancellationToken,
    drop_bodies: bool,
    mut on_sent: impl FnMut(u64),
) -> Result<()> {
    let mut parser = StampParser::default();
    let mut on_frame = |stamp: &[u8; STAMP_LEN]| on_sent(sent_ns(stamp));
    parser.feed(&early, &mut on_frame)?;
    // Only `discard` needs a buffer of its own, for its length: the kernel writes nothing
    // into it.
    let mut discard_buf = if drop_bodies {
        vec![0u8; READ_BUF]
    } else {
        Vec::new()
    };
    // Dropping bodies: read no further than the next body's stamp.
    let want = if drop_bodies { HEAD_READ } else { READ_BUF };
    loop {
        let skippable = if drop_bodies { parser.skippable() } else { 0 };
        let got = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            got = async {
                if skippable > 0 {
                    let got = discard(&tcp, &mut discard_buf[..skippable.min(READ_BUF)]).await?;
                    parser.skip(got, &mut on_frame)?;
                    Ok(got)
                } else {
                    read_and_feed(&tcp, want, &mut parser, &mut on_frame).await
                }
            } => got?,
        };
        if got == 0 || parser.ended() {
            bail!("the server ended a stream");
        }
    }
    Ok(())
}

thread_local! {
    /// One read buffer per loader thread, not per viewer: a thousand viewers' buffers do not
    /// stay in the cache, so every copy out of the kernel would go to cold memory, a cost
    /// real viewers (each on its own machine) do not share with each other.
    static READ_BUFFER: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_BUF].into_boxed_slice());
}

/// Waits for data, reads up to `want` bytes of it into this thread's buffer and feeds them to
/// `parser`; how many (0: the stream ended). The buffer is only held while nothing awaits.
async fn read_and_feed(
    tcp: &TcpStream,
    want: usize,
    parser: &mut StampParser,
    on_frame: &mut impl FnMut(&[u8; STAMP_LEN]),
) -> Result<usize> {
    loop {
        tcp.readable().await?;
        let mut got = None;
        let mut fed = Ok(());
        let read = tcp.try_io(tokio::io::Interest::READABLE, || {
            READ_BUFFER.with_borrow_mut(|buf| {
                let buf = &mut buf[..want];
                let mut socket: &socket2::Socket = &socket2::SockRef::from(tcp);
                let n = socket.read(buf)?;
                got = Some(n);
                fed = parser.feed(&buf[..n], on_frame);
                // As tokio's own reads do: a short read drained the socket, so its readiness
                // is cleared now rather than by one more read that only says EAGAIN.
                if n > 0 && n < want {
                    Err(std::io::ErrorKind::WouldBlock.into())
                } else {
                    Ok(())
                }
            })
        });
        fed?;
        match (got, read) {
            (Some(n), _) => return Ok(n),
            (None, Err(err)) if err.kind() == std::io::ErrorKind::WouldBlock => {}
            (None, Err(err)) => return Err(err.into()),
            (None, Ok(())) => unreachable!("a read that returned Ok set `got`"),
        }
    }
}

/// Drops up to `buf.len()` received bytes without copying them (`MSG_TRUNC` on TCP); how
/// many. The buffer only sets the length: the kernel writes nothing into it.
#[cfg(target_os = "linux")]
async fn discard(tcp: &TcpStream, buf: &mut [u8]) -> std::io::Result<usize> {
    use rustix::net::{RecvFlags, recv};
    loop {
        tcp.readable().await?;
        let dropped = tcp.try_io(tokio::io::Interest::READABLE, || {
            let (_, len) = recv(tcp, &mut *buf, RecvFlags::TRUNC | RecvFlags::DONTWAIT)?;
            Ok(len)
        });
        match dropped {
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
            result => return result,
        }
    }
}

/// Elsewhere: read and ignore.
#[cfg(not(target_os = "linux"))]
async fn discard(tcp: &TcpStream, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        tcp.readable().await?;
        match tcp.try_read(buf) {
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chunked MJPEG body of stamped fake JPEGs, with parts split across chunks.
    fn stream(frames: &[(u64, usize)]) -> Vec<u8> {
        let mut body = b"--lenscastframe\r\n".to_vec();
        for &(seq, len) in frames {
            let mut jpeg = vec![0xAB_u8; len];
            jpeg[..STAMP_AT].copy_from_slice(b"\xFF\xD8\xFF\xFE\x00\x12");
            jpeg[STAMP_AT..STAMP_AT + 8].copy_from_slice(&seq.to_be_bytes());
            jpeg[STAMP_AT + 8..STAMP_AT + 16].copy_from_slice(&(seq * 10).to_be_bytes());
            body.extend_from_slice(
                format!("Content-Type: image/jpeg\r\nContent-Length: {len}\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(&jpeg);
            body.extend_from_slice(b"\r\n--lenscastframe\r\n");
        }
        let mut chunked = Vec::new();
        for piece in body.chunks(700) {
            chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            chunked.extend_from_slice(piece);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked
    }

    /// Reads `data` as the viewer does: small reads, and skips wherever allowed.
    fn read_skipping(data: &[u8]) -> Vec<(u64, u64)> {
        let mut parser = StampParser::default();
        let mut got = Vec::new();
        let mut on_frame = |stamp: &[u8; STAMP_LEN]| {
            got.push((
                u64::from_be_bytes(stamp[..8].try_into().expect("8 bytes")),
                u64::from_be_bytes(stamp[8..].try_into().expect("8 bytes")),
            ));
        };
        let mut at = 0;
        while at < data.len() {
            let skippable = parser.skippable().min(data.len() - at);
            if skippable > 0 {
                parser.skip(skippable, &mut on_frame).expect("skip");
                at += skippable;
            } else {
                let end = (at + HEAD_READ).min(data.len());
                parser.feed(&data[at..end], &mut on_frame).expect("feed");
                at = end;
            }
        }
        got
    }

    #[test]
    fn skipping_bodies_finds_the_same_frames_and_stamps_as_reading_them() {
        let frames = [(1, 30), (2, 5000), (3, 23), (4, 1500), (5, 701)];
        let data = stream(&frames);
        let mut read = Vec::new();
        let mut parser = StampParser::default();
        parser
            .feed(&data, &mut |stamp: &[u8; STAMP_LEN]| {
                read.push(u64::from_be_bytes(stamp[..8].try_into().expect("8 bytes")));
            })
            .expect("feed");
        assert_eq!(read, [1, 2, 3, 4, 5]);
        let skipped = read_skipping(&data);
        assert_eq!(skipped, [(1, 10), (2, 20), (3, 30), (4, 40), (5, 50)]);
    }
}
