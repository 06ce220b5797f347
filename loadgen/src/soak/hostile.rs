//! The hostile mix of the soak: clients that never read what the server sends them.
//!
//! - **Stalled viewers** on the canary's room: raw TCP with the smallest receive buffer the
//!   kernel allows, which send the GET and never read. The server drops each after its
//!   `--viewer-write-timeout-secs`; each is opened again at once, so the pressure stays. A
//!   stalled viewer cannot see the server close its socket (the FIN waits behind data it
//!   never reads), so it sends two bytes every second: the server reads and ignores them
//!   while the viewer is alive, and its kernel answers them with a reset once it is dropped.
//! - **A publisher that never reads**, in a room of its own: `hello` messages (each asks for
//!   a reply) and real frames faster than the server's frame rate limit (each one over it
//!   asks for an error message), on a socket whose receive window is as small as it gets.
//! - **A ping flood** on the publisher socket of a third room, which never reads either:
//!   every ping asks for a pong.
//!
//! Each client opens a new connection whenever the server ends its one, and counts that.

use std::{
    io,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Result;
use bytes::Bytes;
use futures_util::SinkExt;
use protocol::rooms;
use tokio::{
    io::AsyncWriteExt,
    net::{TcpSocket, TcpStream},
    task::JoinHandle,
};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{Message, Utf8Bytes},
};
use tokio_util::sync::CancellationToken;

use crate::measure::create_room;

/// The receive buffer the hostile clients ask for; the kernel rounds it up to its minimum
/// (about 2 KB), which is the point.
const TINY_RCVBUF: u32 = 1024;
/// How often a stalled viewer checks whether the server dropped it.
const POKE_EVERY: Duration = Duration::from_secs(1);
/// How long a hostile client waits before connecting again after a failed attempt.
const RETRY_AFTER: Duration = Duration::from_millis(200);
/// Ping flood: one burst of pings and a flush per tick.
const PING_TICK: Duration = Duration::from_millis(10);
/// The largest payload a WebSocket control frame may carry.
const PING_PAYLOAD: [u8; 125] = [0x55; 125];
const HELLO: &str = r#"{"type":"hello"}"#;

/// How hard the mix pushes.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub stalled: usize,
    /// Frames per second of the never-reading publisher.
    pub fps: u32,
    /// `hello` messages it sends with each frame.
    pub hellos_per_frame: u32,
    pub pings_per_sec: u32,
}

/// What the hostile clients did so far; the reporter reads it.
#[derive(Debug)]
pub struct Stats {
    /// Stalled viewers connected now.
    pub stalled_open: AtomicUsize,
    /// Stalled viewers the server dropped (and that were opened again).
    pub stalled_dropped: AtomicU64,
    /// Connection attempts of stalled viewers that failed before the GET was sent.
    pub stalled_failed: AtomicU64,
    /// Sum, shortest and longest time from connecting to being found dropped, in ms.
    pub stalled_life_ms_sum: AtomicU64,
    pub stalled_life_ms_min: AtomicU64,
    pub stalled_life_ms_max: AtomicU64,
    pub frames_sent: AtomicU64,
    pub hellos_sent: AtomicU64,
    pub pings_sent: AtomicU64,
    /// Times the server ended the never-reading publisher's socket.
    pub publisher_ended: AtomicU64,
    /// Times the server ended the ping flood's socket.
    pub flood_ended: AtomicU64,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            stalled_open: AtomicUsize::new(0),
            stalled_dropped: AtomicU64::new(0),
            stalled_failed: AtomicU64::new(0),
            stalled_life_ms_sum: AtomicU64::new(0),
            stalled_life_ms_min: AtomicU64::new(u64::MAX),
            stalled_life_ms_max: AtomicU64::new(0),
            frames_sent: AtomicU64::new(0),
            hellos_sent: AtomicU64::new(0),
            pings_sent: AtomicU64::new(0),
            publisher_ended: AtomicU64::new(0),
            flood_ended: AtomicU64::new(0),
        }
    }
}

impl Stats {
    fn record_drop(&self, life: Duration) {
        let ms = life.as_millis() as u64;
        self.stalled_dropped.fetch_add(1, Ordering::Relaxed);
        self.stalled_life_ms_sum.fetch_add(ms, Ordering::Relaxed);
        self.stalled_life_ms_min.fetch_min(ms, Ordering::Relaxed);
        self.stalled_life_ms_max.fetch_max(ms, Ordering::Relaxed);
    }
}

/// The running mix.
pub struct Hostile {
    pub stats: Arc<Stats>,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Hostile {
    /// Creates the two hostile rooms and starts every client; `canary_stream` is the path of
    /// the canary room's MJPEG stream, `frames` JPEGs the server accepts.
    pub async fn start(
        addr: SocketAddr,
        canary_stream: &str,
        frames: &[Vec<u8>],
        options: Options,
    ) -> Result<Self> {
        let stats = Arc::new(Stats::default());
        let stop = CancellationToken::new();
        let mut tasks = Vec::new();
        let request: Arc<str> =
            format!("GET {canary_stream} HTTP/1.1\r\nHost: soak\r\n\r\n").into();
        for _ in 0..options.stalled {
            tasks.push(tokio::spawn(stalled_viewer(
                addr,
                Arc::clone(&request),
                Arc::clone(&stats),
                stop.clone(),
            )));
        }
        let host = addr.to_string();
        let noisy = create_room(&host).await?;
        let frames: Arc<[Bytes]> = frames.iter().map(|f| Bytes::from(f.clone())).collect();
        tasks.push(tokio::spawn(never_reading_publisher(
            addr,
            rooms::publish_path(&noisy.room, &noisy.publish_token),
            frames,
            options,
            Arc::clone(&stats),
            stop.clone(),
        )));
        let flooded = create_room(&host).await?;
        tasks.push(tokio::spawn(ping_flood(
            addr,
            rooms::publish_path(&flooded.room, &flooded.publish_token),
            options.pings_per_sec,
            Arc::clone(&stats),
            stop.clone(),
        )));
        Ok(Self { stats, stop, tasks })
    }

    /// Ends every hostile client: each closes its socket with unread bytes in it, which the
    /// server sees as a reset.
    pub async fn stop(self) {
        self.stop.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Waits `RETRY_AFTER`, or less if stopped; whether to go on.
async fn pause(stop: &CancellationToken) -> bool {
    tokio::select! {
        () = stop.cancelled() => false,
        () = tokio::time::sleep(RETRY_AFTER) => true,
    }
}

/// A TCP connection with the smallest receive buffer.
async fn connect_tiny(addr: SocketAddr) -> io::Result<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_recv_buffer_size(TINY_RCVBUF)?;
    socket.connect(addr).await
}

/// One stalled viewer, opened again whenever the server drops it.
async fn stalled_viewer(
    addr: SocketAddr,
    request: Arc<str>,
    stats: Arc<Stats>,
    stop: CancellationToken,
) {
    while !stop.is_cancelled() {
        let opened = Instant::now();
        let tcp = async {
            let mut tcp = connect_tiny(addr).await?;
            tcp.write_all(request.as_bytes()).await?;
            io::Result::Ok(tcp)
        };
        let tcp = tokio::select! {
            () = stop.cancelled() => return,
            tcp = tcp => tcp,
        };
        let Ok(tcp) = tcp else {
            stats.stalled_failed.fetch_add(1, Ordering::Relaxed);
            if !pause(&stop).await {
                return;
            }
            continue;
        };
        stats.stalled_open.fetch_add(1, Ordering::Relaxed);
        let dropped = poke_until_dropped(&tcp, &stop).await;
        stats.stalled_open.fetch_sub(1, Ordering::Relaxed);
        if !dropped {
            // Stopped: the socket closes with unread bytes, so the server gets a reset.
            return;
        }
        stats.record_drop(opened.elapsed());
    }
}

/// Sends two bytes every [`POKE_EVERY`] until the socket fails (the server's kernel answered
/// them with a reset: the server closed it) or `stop`; whether the server closed it.
async fn poke_until_dropped(tcp: &TcpStream, stop: &CancellationToken) -> bool {
    let mut tick = tokio::time::interval(POKE_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => return false,
            _ = tick.tick() => {}
        }
        if !matches!(tcp.take_error(), Ok(None)) {
            return true;
        }
        match tcp.try_write(b"\r\n") {
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return true,
        }
    }
}

/// A publisher's WebSocket on a socket with the smallest receive window; the caller never
/// reads it.
async fn connect_never_reading(addr: SocketAddr, path: &str) -> Result<WebSocketStream<TcpStream>> {
    let tcp = connect_tiny(addr).await?;
    let (ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}{path}"), tcp).await?;
    Ok(ws)
}

/// Sends `burst` messages, then flushes. Waits as long as the server takes, unless stopped:
/// `None` then, else whether the socket still works.
async fn send_burst(
    ws: &mut WebSocketStream<TcpStream>,
    burst: impl Iterator<Item = Message>,
    stop: &CancellationToken,
) -> Option<bool> {
    let sent = async {
        for message in burst {
            ws.feed(message).await?;
        }
        ws.flush().await
    };
    tokio::select! {
        biased;
        () = stop.cancelled() => None,
        sent = sent => Some(sent.is_ok()),
    }
}

/// A never-reading WebSocket client on `path`: every `every`, sends `burst()` (and counts it
/// with `sent`), and connects again whenever the server ends its socket (counted in `ended`),
/// until stopped.
async fn keep_sending<B, I>(
    addr: SocketAddr,
    path: &str,
    every: Duration,
    stop: &CancellationToken,
    mut burst: B,
    sent: impl Fn(),
    ended: &AtomicU64,
) where
    B: FnMut() -> I,
    I: Iterator<Item = Message>,
{
    while !stop.is_cancelled() {
        let Ok(mut ws) = connect_never_reading(addr, path).await else {
            if !pause(stop).await {
                return;
            }
            continue;
        };
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            match send_burst(&mut ws, burst(), stop).await {
                None => return,
                Some(true) => sent(),
                Some(false) => break,
            }
        }
        ended.fetch_add(1, Ordering::Relaxed);
    }
}

/// Hellos and frames at `options.fps`, never reading a reply.
async fn never_reading_publisher(
    addr: SocketAddr,
    path: String,
    frames: Arc<[Bytes]>,
    options: Options,
    stats: Arc<Stats>,
    stop: CancellationToken,
) {
    let period = Duration::from_secs(1) / options.fps.max(1);
    let hellos = options.hellos_per_frame;
    let mut next = 0usize;
    let burst = || {
        let frame = Message::Binary(frames[next % frames.len()].clone());
        next += 1;
        (0..hellos)
            .map(|_| Message::Text(Utf8Bytes::from_static(HELLO)))
            .chain(std::iter::once(frame))
    };
    let sent = || {
        stats.frames_sent.fetch_add(1, Ordering::Relaxed);
        stats
            .hellos_sent
            .fetch_add(u64::from(hellos), Ordering::Relaxed);
    };
    keep_sending(
        addr,
        &path,
        period,
        &stop,
        burst,
        sent,
        &stats.publisher_ended,
    )
    .await;
}

/// Pings at `per_sec`, in bursts every [`PING_TICK`], never reading a pong.
async fn ping_flood(
    addr: SocketAddr,
    path: String,
    per_sec: u32,
    stats: Arc<Stats>,
    stop: CancellationToken,
) {
    let ticks_per_sec = (Duration::from_secs(1).as_millis() / PING_TICK.as_millis()) as u32;
    let per_tick = (per_sec / ticks_per_sec).max(1);
    let payload = Bytes::from_static(&PING_PAYLOAD);
    let burst = || (0..per_tick).map(|_| Message::Ping(payload.clone()));
    let sent = || {
        stats
            .pings_sent
            .fetch_add(u64::from(per_tick), Ordering::Relaxed);
    };
    keep_sending(
        addr,
        &path,
        PING_TICK,
        &stop,
        burst,
        sent,
        &stats.flood_ended,
    )
    .await;
}
