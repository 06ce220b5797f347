//! Just enough HTTP for `cargo xtask dev --check`: one request per connection, the answer read
//! to its end, and a WebSocket handshake.
//!
//! Plain requests say HTTP/1.0, so a server must end the body by closing the connection and
//! may not use chunked encoding: reading to the end is the whole client.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

use anyhow::{Context, Result, ensure};

/// Generous: the first request through trunk's proxy may wait on a busy machine.
const TIMEOUT: Duration = Duration::from_secs(30);

pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// `method path` on `addr`, with an empty body. Sent as the app's own page would send it: a
/// `POST` carries the page's `Origin`, which the server checks.
pub fn request(addr: SocketAddr, method: &str, path: &str) -> Result<Response> {
    let mut stream = connect(addr)?;
    let origin = if method == "GET" {
        String::new()
    } else {
        format!("Origin: http://{addr}\r\n")
    };
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\n{origin}Content-Length: 0\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .with_context(|| format!("{method} {path} on {addr}: reading the answer"))?;
    let head_len = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .with_context(|| format!("{method} {path} on {addr}: no complete answer"))?;
    Ok(Response {
        status: status(&raw[..head_len]).with_context(|| format!("{method} {path} on {addr}"))?,
        body: raw.split_off(head_len + 4),
    })
}

/// Opens a WebSocket on `path`, with the page's `Origin` as a browser sends it: the connection
/// once the answer is `101 Switching Protocols`. Nothing is sent on it; dropping it closes it.
pub fn websocket(addr: SocketAddr, path: &str) -> Result<TcpStream> {
    let mut stream = connect(addr)?;
    // The key only has to be well-formed: RFC 6455's sample.
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nConnection: Upgrade\r\n\
         Upgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )?;
    // Byte by byte up to the end of the head: after it come WebSocket frames.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        stream
            .read_exact(&mut byte)
            .with_context(|| format!("WebSocket {path} on {addr}: no complete answer"))?;
        head.push(byte[0]);
    }
    let status = status(&head).with_context(|| format!("WebSocket {path} on {addr}"))?;
    ensure!(
        status == 101,
        "WebSocket {path} on {addr}: {status} (want 101)"
    );
    Ok(stream)
}

fn connect(addr: SocketAddr) -> Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT)
        .with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    Ok(stream)
}

/// The code of a status line such as `HTTP/1.1 201 Created`.
fn status(head: &[u8]) -> Result<u16> {
    String::from_utf8_lossy(head)
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .context("no status line")
}
