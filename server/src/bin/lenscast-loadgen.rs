//! `lenscast-loadgen`: the load behind `cargo xtask bench server`.
//!
//! For each viewer count it starts a fresh release `lenscast-server` (found next to this
//! binary), creates a room, publishes a fixed set of real 1280×720 JPEGs (about 60 KB) at
//! 30 fps over a real WebSocket, and opens N MJPEG viewers over loopback. Every published
//! JPEG carries a comment segment with its sequence number and send time, so each viewer
//! can tell which frame it got and how late. Viewers are raw tokio TCP with a preallocated
//! histogram each, reading into one buffer per loader thread: nothing is allocated per frame,
//! and the loader's own copies stay in the cache, so it takes as little of the CPU it shares
//! with the server as a client that reads every byte can.
//!
//! It prints one Markdown table row per viewer count: frames per viewer per second and the
//! share of published frames (mean and worst viewer), server CPU and CPU per frame sent,
//! server RSS, publish-to-receive latency p50/p99, and this process's own CPU.

use std::{
    cell::RefCell,
    io::{BufRead, BufReader, Read},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use image::{ExtendedColorType, codecs::jpeg::JpegEncoder};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::Semaphore,
};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(name = "lenscast-loadgen", about = "MJPEG fan-out load test")]
struct Args {
    /// Viewer counts to measure, one fresh server each.
    #[arg(long, value_delimiter = ',', default_value = "1,100,500,1000,2000")]
    viewers: Vec<usize>,
    /// Measured seconds per viewer count (after connecting and one second of warm-up).
    #[arg(long, default_value_t = 6)]
    seconds: u64,
    /// Publish rate.
    #[arg(long, default_value_t = 30)]
    fps: u32,
    /// Distinct frames in the published loop.
    #[arg(long, default_value_t = 30)]
    frames: u32,
    /// The server binary (default: `lenscast-server` next to this one).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Drop each JPEG's bytes past the stamp in the kernel (`MSG_TRUNC`) instead of reading
    /// them as a real client does: the loader saves a copy of every frame, and loopback
    /// then charges the server more of the receivers' TCP work (see BENCHMARKS.md).
    #[arg(long)]
    drop_bodies: bool,
    /// Only write the generated JPEGs into this folder (for screenshots and manual tests).
    #[arg(long)]
    write_frames: Option<PathBuf>,
}

/// The comment segment each published JPEG starts with: marker, length 18, then the
/// sequence number and the send time (ns since [`epoch`]), both big-endian u64.
const STAMP_AT: usize = 6;
const STAMP_LEN: usize = 16;
/// A viewer's read buffer: one frame in one or two reads.
const READ_BUF: usize = 64 * 1024;
/// Bytes read at once outside JPEG bodies: chunk lines, part headers, the stamp.
const HEAD_READ: usize = 256;
/// Latency histogram range in µs (1 µs .. 60 s), two significant digits.
const HIST_MAX_US: u64 = 60_000_000;

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ns() -> u64 {
    epoch().elapsed().as_nanos() as u64
}

/// The measured window, in send time: frames sent in it are counted everywhere.
struct Window {
    start: AtomicU64,
    end: AtomicU64,
    published: AtomicU64,
}

impl Window {
    fn contains(&self, t: u64) -> bool {
        t >= self.start.load(Ordering::Relaxed) && t < self.end.load(Ordering::Relaxed)
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    rlimit::increase_nofile_limit(u64::MAX).context("raise the open-file limit")?;
    let server_bin = match &args.server_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the binary lives in a folder")?
            .join("lenscast-server"),
    };
    let frames = make_frames(args.frames)?;
    if let Some(dir) = &args.write_frames {
        std::fs::create_dir_all(dir)?;
        for (i, frame) in frames.iter().enumerate() {
            std::fs::write(dir.join(format!("frame-{i:02}.jpg")), frame)?;
        }
        println!("wrote {} frames to {}", frames.len(), dir.display());
        return Ok(());
    }
    let avg = frames.iter().map(Vec::len).sum::<usize>() / frames.len();
    println!(
        "{} distinct 1280x720 JPEGs, {:.1} KB on average, published at {} fps; {} s measured per row",
        frames.len(),
        avg as f64 / 1000.0,
        args.fps,
        args.seconds
    );
    println!();
    println!(
        "| viewers | frames/s per viewer | share of published (mean / worst) | server CPU | server µs CPU per frame sent | server RSS | latency p50 | latency p99 | loader CPU |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let frames: Arc<Vec<Vec<u8>>> = Arc::new(frames);
    for &n in &args.viewers {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let row = runtime.block_on(measure(&server_bin, n, &args, Arc::clone(&frames)))?;
        println!("{row}");
        runtime.shutdown_timeout(Duration::from_secs(2));
    }
    Ok(())
}

/// Real JPEGs of a moving, textured scene, at the quality that makes them about 60 KB.
fn make_frames(count: u32) -> Result<Vec<Vec<u8>>> {
    let (w, h) = (1280u32, 720u32);
    let scene = |t: u32| -> Vec<u8> {
        let mut rgb = Vec::with_capacity((w * h * 3) as usize);
        let mut noise = 0x9E37_79B9u32 ^ t;
        for y in 0..h {
            for x in 0..w {
                noise ^= noise << 13;
                noise ^= noise >> 17;
                noise ^= noise << 5;
                let n = (noise & 0x0F) as f32;
                let fx = x as f32 + t as f32 * 8.0;
                let fy = y as f32;
                let r = 128.0 + 90.0 * (fx * 0.020).sin() * (fy * 0.015).cos() + n;
                let g = 128.0 + 90.0 * ((fx + fy) * 0.010).sin() + n;
                let b = 128.0 + 90.0 * (((fx - 640.0).hypot(fy - 360.0)) * 0.030).cos() + n;
                rgb.extend([r as u8, g as u8, b as u8]);
            }
        }
        rgb
    };
    let encode = |rgb: &[u8], q: u8| -> Result<Vec<u8>> {
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, q).encode(rgb, w, h, ExtendedColorType::Rgb8)?;
        Ok(out)
    };
    // Pick the quality whose first frame is closest to 60 KB.
    let first = scene(0);
    let (mut lo, mut hi) = (10u8, 95u8);
    while lo < hi {
        let mid = u8::midpoint(lo, hi);
        if encode(&first, mid)?.len() < 60_000 {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    (0..count)
        .map(|t| {
            let jpeg = encode(&scene(t), lo)?;
            // SOI, the stamp segment, then the rest of the encoder's output.
            let mut stamped = vec![0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x12];
            stamped.extend([0u8; STAMP_LEN]);
            stamped.extend_from_slice(&jpeg[2..]);
            Ok(stamped)
        })
        .collect()
}

struct ServerProcess {
    child: Child,
    addr: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(bin: &PathBuf) -> Result<ServerProcess> {
    let empty = std::env::temp_dir().join("lenscast-loadgen-empty");
    std::fs::create_dir_all(&empty)?;
    let mut child = Command::new(bin)
        .args(["--addr", "127.0.0.1:0", "--max-viewers-per-room", "100000"])
        .arg("--dist")
        .arg(&empty)
        .arg("--static")
        .arg(&empty)
        // Its own secret, so a bench never writes into the user's ~/.local/state.
        .arg("--secret-file")
        .arg(std::env::temp_dir().join("lenscast-loadgen-secret"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let stdout = child.stdout.take().context("server stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let Some(line) = lines.next() else {
            bail!("the server exited before listening");
        };
        if let Some(url) = line?.strip_prefix("listening on http://") {
            break url.trim().to_owned();
        }
    };
    Ok(ServerProcess { child, addr })
}

/// CPU seconds of process `pid`: the nanosecond run times of all its threads
/// (`/proc/<pid>/task/*/schedstat`), precise where `/proc/<pid>/stat` counts 10 ms ticks.
fn cpu_seconds(pid: &str) -> Result<f64> {
    let mut ns = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        // A thread may end between listing and reading.
        let Ok(stat) = std::fs::read_to_string(task?.path().join("schedstat")) else {
            continue;
        };
        ns += stat
            .split_whitespace()
            .next()
            .context("schedstat format")?
            .parse::<u64>()?;
    }
    Ok(ns as f64 / 1e9)
}

fn rss_mb(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .context("VmRSS")?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kb / 1024.0)
}

async fn http_request(addr: &str, request: &str) -> Result<String> {
    let mut tcp = TcpStream::connect(addr).await?;
    tcp.write_all(request.as_bytes()).await?;
    let mut out = Vec::new();
    tcp.read_to_end(&mut out).await?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

async fn create_room(addr: &str) -> Result<(String, String)> {
    let res = http_request(
        addr,
        "POST /api/rooms HTTP/1.1\r\nHost: bench\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await?;
    let body = res.split_once("\r\n\r\n").context("response")?.1;
    let json: serde_json::Value = serde_json::from_str(body).context("room JSON")?;
    Ok((
        json["room"].as_str().context("room")?.to_owned(),
        json["publish_token"].as_str().context("token")?.to_owned(),
    ))
}

async fn measure(
    bin: &PathBuf,
    n: usize,
    args: &Args,
    frames: Arc<Vec<Vec<u8>>>,
) -> Result<String> {
    let server = start_server(bin)?;
    let pid = server.child.id();
    let addr = server.addr.clone();
    let (room, token) = create_room(&addr).await?;
    let window = Arc::new(Window {
        start: AtomicU64::new(u64::MAX),
        end: AtomicU64::new(u64::MAX),
        published: AtomicU64::new(0),
    });
    let stop = CancellationToken::new();

    let (ws, _) = tokio_tungstenite::connect_async(format!(
        "ws://{addr}/ws/rooms/{room}/publish?token={token}"
    ))
    .await
    .context("publisher connects")?;
    let (mut sink, mut source) = ws.split();
    // Viewer counts come back; read them so the socket never backs up.
    tokio::spawn(async move { while let Some(Ok(_)) = source.next().await {} });
    let publisher = {
        let window = Arc::clone(&window);
        let stop = stop.clone();
        let period = Duration::from_secs(1) / args.fps;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut seq = 0u64;
            while !stop.is_cancelled() {
                tick.tick().await;
                seq += 1;
                let mut frame = frames[(seq as usize) % frames.len()].clone();
                let sent = now_ns();
                frame[STAMP_AT..STAMP_AT + 8].copy_from_slice(&seq.to_be_bytes());
                frame[STAMP_AT + 8..STAMP_AT + 16].copy_from_slice(&sent.to_be_bytes());
                if sink
                    .send(Message::Binary(Bytes::from(frame)))
                    .await
                    .is_err()
                {
                    break;
                }
                if window.contains(sent) {
                    window.published.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };

    // Viewers connect in parallel, a bounded number at a time.
    let ready = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(200));
    let path = format!("/api/rooms/{room}/stream.mjpg");
    let drop_bodies = args.drop_bodies;
    let mut viewers = Vec::with_capacity(n);
    for _ in 0..n {
        let (addr, path, window, stop, ready, gate) = (
            addr.clone(),
            path.clone(),
            Arc::clone(&window),
            stop.clone(),
            Arc::clone(&ready),
            Arc::clone(&gate),
        );
        viewers.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.ok();
            let tcp = open_stream(&addr, &path).await;
            drop(permit);
            let tcp = tcp?;
            ready.fetch_add(1, Ordering::Relaxed);
            watch(tcp, &window, &stop, drop_bodies).await
        }));
    }
    let deadline = Instant::now() + Duration::from_mins(1);
    while ready.load(Ordering::Relaxed) < n {
        if Instant::now() > deadline {
            bail!(
                "only {} of {n} viewers connected",
                ready.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    let self_pid = std::process::id().to_string();
    let server_pid = pid.to_string();
    let (s0, l0) = (cpu_seconds(&server_pid)?, cpu_seconds(&self_pid)?);
    let start = now_ns();
    window.start.store(start, Ordering::Relaxed);
    window
        .end
        .store(start + args.seconds * 1_000_000_000, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let (s1, l1) = (cpu_seconds(&server_pid)?, cpu_seconds(&self_pid)?);
    let rss = rss_mb(pid)?;
    // Frames sent at the end of the window are still on their way.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.cancel();
    let _ = publisher.await;

    let mut hist = Histogram::<u64>::new_with_bounds(1, HIST_MAX_US, 2)?;
    let mut counts = Vec::with_capacity(n);
    for v in viewers {
        let (count, h) = v.await??;
        counts.push(count);
        hist.add(&h)?;
    }
    drop(server);

    let secs = args.seconds as f64;
    let published = window.published.load(Ordering::Relaxed).max(1) as f64;
    let total: u64 = counts.iter().sum();
    let mean = total as f64 / n as f64;
    let worst = counts.iter().copied().min().unwrap_or(0) as f64;
    let server_cpu = s1 - s0;
    Ok(format!(
        "| {n} | {:.1} | {:.1}% / {:.1}% | {:.0}% | {:.2} | {:.1} MB | {:.1} ms | {:.1} ms | {:.0}% |",
        mean / secs,
        100.0 * mean / published,
        100.0 * worst / published,
        100.0 * server_cpu / secs,
        server_cpu * 1e6 / (total.max(1) as f64),
        rss,
        hist.value_at_quantile(0.50) as f64 / 1000.0,
        hist.value_at_quantile(0.99) as f64 / 1000.0,
        100.0 * (l1 - l0) / secs,
    ))
}

/// Sends the GET and reads the response head; the body follows on the returned socket.
async fn open_stream(addr: &str, path: &str) -> Result<(TcpStream, Vec<u8>)> {
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

/// Reads one viewer's stream until `stop`; returns the frames sent inside the window that
/// arrived, and their latencies.
async fn watch(
    (tcp, early): (TcpStream, Vec<u8>),
    window: &Window,
    stop: &CancellationToken,
    drop_bodies: bool,
) -> Result<(u64, Histogram<u64>)> {
    let mut hist = Histogram::<u64>::new_with_bounds(1, HIST_MAX_US, 2)?;
    let mut count = 0u64;
    let mut parser = StreamParser::default();
    let mut on_frame = |stamp: &[u8; STAMP_LEN]| {
        let sent = u64::from_be_bytes(stamp[8..].try_into().expect("8 bytes"));
        if window.contains(sent) {
            count += 1;
            hist.saturating_record((now_ns().saturating_sub(sent) / 1000).max(1));
        }
    };
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
        if got == 0 {
            bail!("the server ended a stream");
        }
    }
    Ok((count, hist))
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
    parser: &mut StreamParser,
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

/// HTTP/1.1 chunked transfer decoding feeding an MJPEG part parser, byte-exact and
/// allocation-free: it keeps only counters, a small header buffer and the stamp.
struct StreamParser {
    chunk: Chunk,
    part: Part,
    head: [u8; 128],
    head_len: usize,
    stamp: [u8; STAMP_LEN],
}

#[derive(Clone, Copy)]
enum Chunk {
    /// The chunk-size line, digits so far.
    Size(usize),
    SizeLf(usize),
    Data(usize),
    DataCr,
    DataLf,
}

#[derive(Clone, Copy)]
enum Part {
    /// Bytes of the opening boundary line left to skip.
    Skip(usize),
    Head,
    Body {
        at: usize,
        len: usize,
    },
}

impl Default for StreamParser {
    fn default() -> Self {
        Self {
            chunk: Chunk::default(),
            part: Part::default(),
            head: [0; 128],
            head_len: 0,
            stamp: [0; STAMP_LEN],
        }
    }
}

impl Default for Chunk {
    fn default() -> Self {
        Chunk::Size(0)
    }
}

impl Default for Part {
    fn default() -> Self {
        Part::Skip(b"--lenscastframe\r\n".len())
    }
}

/// The CRLF and boundary line after each JPEG.
const TRAILER_LEN: usize = b"\r\n--lenscastframe\r\n".len();

impl StreamParser {
    /// How many of the next bytes are JPEG body past the stamp, inside the current chunk:
    /// nobody needs to see them.
    fn skippable(&self) -> usize {
        match (self.chunk, self.part) {
            (Chunk::Data(left), Part::Body { at, len }) if at >= STAMP_AT + STAMP_LEN => {
                left.min(len - at)
            }
            _ => 0,
        }
    }

    /// Moves past `n` (at most [`Self::skippable`]) bytes that were dropped unread.
    fn skip(&mut self, n: usize, on_frame: &mut impl FnMut(&[u8; STAMP_LEN])) -> Result<()> {
        let (Chunk::Data(left), Part::Body { at, len }) = (self.chunk, self.part) else {
            bail!("skipped bytes outside a JPEG body");
        };
        if n > left.min(len - at) {
            bail!("skipped past the JPEG body");
        }
        self.chunk = if n == left {
            Chunk::DataCr
        } else {
            Chunk::Data(left - n)
        };
        self.body_advanced(at + n, len, on_frame);
        Ok(())
    }

    /// The body is read up to `at` of `len` bytes.
    fn body_advanced(
        &mut self,
        at: usize,
        len: usize,
        on_frame: &mut impl FnMut(&[u8; STAMP_LEN]),
    ) {
        if at == len {
            on_frame(&self.stamp);
            self.part = Part::Skip(TRAILER_LEN);
        } else {
            self.part = Part::Body { at, len };
        }
    }

    fn feed(&mut self, mut data: &[u8], on_frame: &mut impl FnMut(&[u8; STAMP_LEN])) -> Result<()> {
        while !data.is_empty() {
            match self.chunk {
                Chunk::Size(size) => {
                    let b = data[0];
                    data = &data[1..];
                    match b {
                        b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                            let digit = (b as char).to_digit(16).expect("hex digit") as usize;
                            self.chunk = Chunk::Size(size * 16 + digit);
                        }
                        b'\r' => self.chunk = Chunk::SizeLf(size),
                        _ => bail!("bad chunk size byte {b:#x}"),
                    }
                }
                Chunk::SizeLf(len) => {
                    data = &data[1..];
                    self.chunk = if len == 0 {
                        bail!("the server ended the stream")
                    } else {
                        Chunk::Data(len)
                    };
                }
                Chunk::Data(left) => {
                    let take = left.min(data.len());
                    self.payload(&data[..take], on_frame)?;
                    data = &data[take..];
                    self.chunk = if take == left {
                        Chunk::DataCr
                    } else {
                        Chunk::Data(left - take)
                    };
                }
                Chunk::DataCr => {
                    data = &data[1..];
                    self.chunk = Chunk::DataLf;
                }
                Chunk::DataLf => {
                    data = &data[1..];
                    self.chunk = Chunk::Size(0);
                }
            }
        }
        Ok(())
    }

    fn payload(
        &mut self,
        mut data: &[u8],
        on_frame: &mut impl FnMut(&[u8; STAMP_LEN]),
    ) -> Result<()> {
        while !data.is_empty() {
            match self.part {
                Part::Skip(left) => {
                    let take = left.min(data.len());
                    data = &data[take..];
                    self.part = if take == left {
                        Part::Head
                    } else {
                        Part::Skip(left - take)
                    };
                }
                Part::Head => {
                    let b = data[0];
                    data = &data[1..];
                    if self.head_len == self.head.len() {
                        bail!("part headers too long");
                    }
                    self.head[self.head_len] = b;
                    self.head_len += 1;
                    if self.head[..self.head_len].ends_with(b"\r\n\r\n") {
                        let len = content_length(&self.head[..self.head_len])?;
                        self.head_len = 0;
                        self.part = Part::Body { at: 0, len };
                    }
                }
                Part::Body { at, len } => {
                    let take = (len - at).min(data.len());
                    // The stamp sits at a fixed offset near the JPEG's start.
                    let (lo, hi) = (at.max(STAMP_AT), (at + take).min(STAMP_AT + STAMP_LEN));
                    if lo < hi {
                        self.stamp[lo - STAMP_AT..hi - STAMP_AT]
                            .copy_from_slice(&data[lo - at..hi - at]);
                    }
                    data = &data[take..];
                    self.body_advanced(at + take, len, on_frame);
                }
            }
        }
        Ok(())
    }
}

fn content_length(head: &[u8]) -> Result<usize> {
    let text = std::str::from_utf8(head)?;
    text.split("\r\n")
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .context("part without Content-Length")?
        .trim()
        .parse()
        .context("Content-Length")
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
        let mut parser = StreamParser::default();
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
        let mut parser = StreamParser::default();
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
