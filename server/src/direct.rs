//! MJPEG viewers on plain HTTP/1.1, whose sockets the server writes itself.
//!
//! After hyper has written the response head ([`crate::handoff`]), each frame goes out as one
//! HTTP chunk with `sendfile` from the frame's shared file ([`crate::zerocopy`]): no copy of
//! the frame per viewer, and none of hyper's per-chunk work. The bytes on the wire are what
//! hyper would have sent: chunked encoding around the same parts.
//!
//! The task also watches the socket for the viewer leaving, so the room's viewer count drops
//! even while no frames flow. At shutdown it ends the body properly (the last, empty chunk).

use std::{io, time::Duration};

use tokio::{
    io::{AsyncWriteExt as _, Interest},
    net::TcpStream,
};

use crate::{
    metrics::Metrics,
    mjpeg::{Frame, Viewer},
};

/// The multipart prologue as the body's first chunk.
const PROLOGUE_CHUNK: &[u8] = b"11\r\n--lenscastframe\r\n\r\n";
/// The chunk that ends a chunked body.
const LAST_CHUNK: &[u8] = b"0\r\n\r\n";
/// How long a viewer gets to take the last chunk at shutdown.
const LAST_CHUNK_TIMEOUT: Duration = Duration::from_secs(1);

/// Streams frames to a viewer's socket until the viewer leaves or the server shuts down.
pub async fn serve_viewer(mut stream: TcpStream, mut viewer: Viewer) {
    match stream_frames(&stream, &mut viewer).await {
        Ok(Ending::Shutdown) => {
            let _ = tokio::time::timeout(LAST_CHUNK_TIMEOUT, async {
                write_all(&stream, LAST_CHUNK).await?;
                stream.shutdown().await
            })
            .await;
        }
        Ok(Ending::Left) => {}
        Err(err) => tracing::debug!(error = %err, "viewer connection failed"),
    }
}

enum Ending {
    Left,
    Shutdown,
}

async fn stream_frames(stream: &TcpStream, viewer: &mut Viewer) -> io::Result<Ending> {
    write_all(stream, PROLOGUE_CHUNK).await?;
    loop {
        let next = tokio::select! {
            biased;
            next = viewer.next_frame() => next,
            () = left(stream) => return Ok(Ending::Left),
        };
        let Some(frame) = next else {
            return Ok(Ending::Shutdown);
        };
        tokio::select! {
            biased;
            sent = send_frame(stream, &frame, viewer.metrics()) => sent?,
            // A part cut short cannot be ended cleanly: just close.
            () = viewer.shutting_down() => return Ok(Ending::Left),
        }
    }
}

/// Resolves when the viewer closes its side (or the connection breaks). Anything the client
/// sends meanwhile (a pipelined request nobody will answer) is read and dropped.
async fn left(stream: &TcpStream) {
    let mut scratch = [0_u8; 256];
    loop {
        if stream.readable().await.is_err() {
            return;
        }
        match stream.try_read(&mut scratch) {
            Ok(0) => return,
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
    }
}

/// Sends one frame's chunk: from its shared file where possible, else by copying.
async fn send_frame(stream: &TcpStream, frame: &Frame, metrics: &Metrics) -> io::Result<()> {
    let Some(file) = frame.shared_file() else {
        return write_all(stream, &frame.chunk).await;
    };
    let mut sent = 0;
    while sent < file.size() {
        stream.writable().await?;
        let attempt = stream.try_io(Interest::WRITABLE, || match file.send_to(stream, sent) {
            Ok(result) => result.map(Some),
            Err(crate::zerocopy::Unsupported) => Ok(None),
        });
        match attempt {
            Ok(Some(0)) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(Some(n)) => sent += n,
            // Refused before anything went: the same bytes, copied.
            Ok(None) => return write_all(stream, &frame.chunk).await,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) => return Err(err),
        }
    }
    metrics.frames_zero_copy.inc();
    Ok(())
}

async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prologue_chunk_frames_the_prologue() {
        let mut expected = format!("{:X}\r\n", crate::mjpeg::PROLOGUE.len()).into_bytes();
        expected.extend_from_slice(crate::mjpeg::PROLOGUE);
        expected.extend_from_slice(b"\r\n");
        assert_eq!(PROLOGUE_CHUNK, &expected[..]);
    }
}
