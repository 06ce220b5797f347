//! One table row: a fresh server, a room, the publisher, N viewers, the measured window, and
//! the figures read from `/proc`.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use protocol::{RoomCreated, rooms};
use testkit::process::{Launch, Output, ServerProcess};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::Semaphore,
    task::JoinHandle,
};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::{
    Args, frames, viewer,
    window::{HIST_MAX_US, Window, now_ns},
};

/// A release server on a free port, with empty asset folders and its own secret, so a
/// bench never writes into the user's ~/.local/state; its warnings reach the terminal.
pub async fn start_server(bin: &Path, scratch: &Path) -> Result<ServerProcess> {
    bench_server(bin, scratch).start().await
}

/// How [`start_server`] launches the server, for callers that add to it.
pub fn bench_server(bin: &Path, scratch: &Path) -> Launch {
    let empty = scratch.join("empty");
    // A scratch folder that cannot be made shows up as the server's own error.
    let _ = std::fs::create_dir_all(&empty);
    Launch::new(bin)
        // Every viewer comes from this one address: lift the per-address caps too.
        .args(["--addr", "127.0.0.1:0", "--max-viewers-per-room", "100000"])
        .args(["--max-viewers-per-address", "100000"])
        .args(["--max-connections-per-address", "100000"])
        .arg("--dist")
        .arg(&empty)
        .arg("--static")
        .arg(&empty)
        .arg("--secret-file")
        .arg(scratch.join("secret"))
        .env("RUST_LOG", "warn")
        .output(Output::Inherit)
}

/// CPU seconds of process `pid`: the nanosecond run times of all its threads
/// (`/proc/<pid>/task/*/schedstat`), precise where `/proc/<pid>/stat` counts 10 ms ticks.
pub fn cpu_seconds(pid: &str) -> Result<f64> {
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

/// The resident memory of process `pid` (`VmRSS`), in MB.
pub fn rss_mb(pid: u32) -> Result<f64> {
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

pub async fn http_request(addr: &str, request: &str) -> Result<String> {
    let mut tcp = TcpStream::connect(addr).await?;
    tcp.write_all(request.as_bytes()).await?;
    let mut out = Vec::new();
    tcp.read_to_end(&mut out).await?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

pub async fn create_room(addr: &str) -> Result<RoomCreated> {
    let res = http_request(
        addr,
        "POST /api/rooms HTTP/1.1\r\nHost: bench\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await?;
    let body = res.split_once("\r\n\r\n").context("response")?.1;
    serde_json::from_str(body).context("room JSON")
}

/// Connects a publisher to `room` that sends `frames` in a loop at `fps`, each stamped with
/// its sequence number and send time, until `stop`; `on_sent` gets each frame's send time
/// once it is sent. The viewer counts the server sends back are read and dropped.
pub async fn start_publisher(
    addr: &str,
    room: &RoomCreated,
    frames: Arc<Vec<Vec<u8>>>,
    fps: u32,
    stop: CancellationToken,
    mut on_sent: impl FnMut(u64) + Send + 'static,
) -> Result<JoinHandle<()>> {
    let (ws, _) = tokio_tungstenite::connect_async(format!(
        "ws://{addr}{}",
        rooms::publish_path(&room.room, &room.publish_token)
    ))
    .await
    .context("publisher connects")?;
    let (mut sink, mut source) = ws.split();
    // Viewer counts come back; read them so the socket never backs up.
    tokio::spawn(async move { while let Some(Ok(_)) = source.next().await {} });
    let period = Duration::from_secs(1) / fps;
    Ok(tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut seq = 0u64;
        while !stop.is_cancelled() {
            tick.tick().await;
            seq += 1;
            let mut frame = frames[(seq as usize) % frames.len()].clone();
            let sent = now_ns();
            frames::stamp(&mut frame, seq, sent);
            if sink
                .send(Message::Binary(Bytes::from(frame)))
                .await
                .is_err()
            {
                break;
            }
            on_sent(sent);
        }
    }))
}

pub async fn measure(
    bin: &Path,
    n: usize,
    args: &Args,
    frames: Arc<Vec<Vec<u8>>>,
) -> Result<String> {
    let scratch = testkit::temp::temp_dir("loadgen");
    let server = start_server(bin, scratch.path()).await?;
    let pid = server.pid();
    let addr = server.addr().to_string();
    let room = create_room(&addr).await?;
    let window = Arc::new(Window {
        start: AtomicU64::new(u64::MAX),
        end: AtomicU64::new(u64::MAX),
        published: AtomicU64::new(0),
    });
    let stop = CancellationToken::new();

    let publisher = {
        let window = Arc::clone(&window);
        start_publisher(&addr, &room, frames, args.fps, stop.clone(), move |sent| {
            if window.contains(sent) {
                window.published.fetch_add(1, Ordering::Relaxed);
            }
        })
        .await?
    };

    // Viewers connect in parallel, a bounded number at a time.
    let ready = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(200));
    let path = rooms::stream_path(&room.room);
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
            let tcp = viewer::open_stream(&addr, &path).await;
            drop(permit);
            let tcp = tcp?;
            ready.fetch_add(1, Ordering::Relaxed);
            viewer::watch(tcp, &window, &stop, drop_bodies).await
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
    server.kill().await?;

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
