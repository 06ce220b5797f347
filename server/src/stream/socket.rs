//! Writing MJPEG to sockets taken over from hyper (plain HTTP/1.1, [`super::handoff`]).
//!
//! Each frame goes out as one HTTP chunk, without a copy from the frame's shared file
//! ([`super::zerocopy`]) when a fan-out pass made one, so no frame is copied per viewer. The
//! bytes on the wire are what hyper would have sent: chunked encoding around the same parts.
//!
//! Most viewers are members of their room's fan-out ([`super::fanout`]), which sends each
//! frame to all of them in one pass using the sends here. A viewer with an `?fps` cap runs on
//! its own ([`serve_capped_viewer`]), since its frames follow its own clock, not the room's.

use std::{io, time::Duration};

use tokio::{io::Interest, net::TcpStream};

use crate::stream::{
    viewer::Viewer,
    wire::{Frame, LAST_CHUNK, PROLOGUE_CHUNK},
    zerocopy::Unsupported,
};

/// How long a viewer gets to take the last chunk at shutdown.
const LAST_CHUNK_TIMEOUT: Duration = Duration::from_secs(1);

/// Streams frames to a capped viewer's socket until it leaves or the server shuts down.
pub async fn serve_capped_viewer(stream: TcpStream, mut viewer: Viewer, timeout: Duration) {
    match stream_frames(&stream, &mut viewer, timeout).await {
        Ok(Ending::Shutdown) => end_body(&stream).await,
        Ok(Ending::Left) => {}
        Err(err) => tracing::debug!(error = %err, "viewer connection failed"),
    }
}

/// Ends the body properly (the last chunk, then no more writes), if the viewer takes it
/// soon enough.
pub async fn end_body(stream: &TcpStream) {
    if write_all(stream, LAST_CHUNK, LAST_CHUNK_TIMEOUT)
        .await
        .is_ok()
    {
        let _ = socket2::SockRef::from(stream).shutdown(std::net::Shutdown::Write);
    }
}

enum Ending {
    Left,
    Shutdown,
}

async fn stream_frames(
    stream: &TcpStream,
    viewer: &mut Viewer,
    timeout: Duration,
) -> io::Result<Ending> {
    write_all(stream, PROLOGUE_CHUNK, timeout).await?;
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
            sent = send_rest(stream, &frame, 0, timeout) => {
                viewer.metrics().bytes_zero_copy.inc_by(sent? as u64);
            }
            // A part cut short cannot be ended cleanly: just close.
            () = viewer.shutting_down() => return Ok(Ending::Left),
        }
    }
}

/// Resolves when the viewer closes its side (or the connection breaks). Anything the client
/// sends meanwhile (a pipelined request nobody will answer) is read and dropped.
pub async fn left(stream: &TcpStream) {
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

/// What one send put into a socket.
pub struct Sent {
    pub bytes: usize,
    /// Of those, how many went from the frame's shared file, not copied.
    pub zero_copy: usize,
}

/// Writes as much of `frame`'s chunk, from byte `from`, as the socket takes now, without
/// waiting (`WouldBlock` if it takes nothing): from the frame's shared file if it has one.
pub fn try_send(stream: &TcpStream, frame: &Frame, from: usize) -> io::Result<Sent> {
    if let Some(file) = frame.existing_shared_file() {
        let sent = stream.try_io(Interest::WRITABLE, || match file.send_to(stream, from) {
            Ok(result) => result.map(Some),
            Err(Unsupported) => Ok(None),
        })?;
        if let Some(bytes) = sent {
            return Ok(Sent {
                bytes,
                zero_copy: bytes,
            });
        }
        // Refused before anything went: the same bytes, copied.
    }
    let bytes = stream.try_write(&frame.chunk[from..])?;
    Ok(Sent {
        bytes,
        zero_copy: 0,
    })
}

/// As [`try_send`] for a whole chunk, without tokio's readiness bookkeeping around the
/// zero-copy send: the fan-out pass sends to hundreds of sockets that nearly always take the
/// whole frame at once. A `WouldBlock` here leaves tokio's readiness set; that is harmless, since
/// whoever sends the rest goes through [`try_send`], which clears it before waiting.
pub fn send_now(stream: &TcpStream, frame: &Frame) -> io::Result<Sent> {
    if let Some(file) = frame.existing_shared_file()
        && let Ok(sent) = file.send_to(stream, 0)
    {
        let bytes = sent?;
        return Ok(Sent {
            bytes,
            zero_copy: bytes,
        });
    }
    try_send(stream, frame, 0)
}

/// Waits until the socket takes bytes again, for at most `timeout`: a viewer that accepts
/// nothing for that long is gone as far as the stream is concerned (`TimedOut`).
async fn writable_within(stream: &TcpStream, timeout: Duration) -> io::Result<()> {
    tokio::time::timeout(timeout, stream.writable())
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))?
}

/// Sends `frame`'s chunk from byte `from` to its end, waiting for the socket as needed (at
/// most `timeout` at a time); how many bytes went without a copy.
pub async fn send_rest(
    stream: &TcpStream,
    frame: &Frame,
    mut from: usize,
    timeout: Duration,
) -> io::Result<usize> {
    let mut zero_copy = 0;
    while from < frame.chunk.len() {
        writable_within(stream, timeout).await?;
        match try_send(stream, frame, from) {
            Ok(Sent { bytes: 0, .. }) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(sent) => {
                from += sent.bytes;
                zero_copy += sent.zero_copy;
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) => return Err(err),
        }
    }
    Ok(zero_copy)
}

/// Writes all of `bytes`, waiting for the socket as needed (at most `timeout` at a time).
pub async fn write_all(stream: &TcpStream, mut bytes: &[u8], timeout: Duration) -> io::Result<()> {
    while !bytes.is_empty() {
        writable_within(stream, timeout).await?;
        match stream.try_write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}
