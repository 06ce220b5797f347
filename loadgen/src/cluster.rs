//! `lenscast-loadgen cluster` (`cargo xtask bench cluster`): a real `nats-server` and three
//! release nodes (a, b, c) on loopback, one publisher of stamped 1280×720 JPEGs on node a,
//! viewers split evenly over the three nodes. Viewers on a are local; on b and c remote
//! (each frame crosses the bus once to each of them). Per row it prints the frames each
//! viewer got as a share of those published (min and median, local and remote), latency
//! p50/p99 local and remote and what the hop adds, each process's CPU and RSS, the broker's
//! bytes against frames × size × watching nodes, and a fresh remote viewer's time to its
//! first frame.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use hdrhistogram::Histogram;
use protocol::rooms;
use testkit::{nats::NatsServer, process::ServerProcess};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::{
    measure::{bench_server, cpu_seconds, create_room, http_request, rss_mb, start_publisher},
    soak::Common,
    viewer,
    window::{HIST_MAX_US, Window, now_ns},
};

#[derive(clap::Args)]
pub struct ClusterArgs {
    /// Viewers per node (a, b and c each), one fresh cluster per count.
    #[arg(long, value_delimiter = ',', default_value = "100,300")]
    per_node: Vec<usize>,
    /// Measured seconds per row (after connecting and one second of warm-up).
    #[arg(long, default_value_t = 6)]
    seconds: u64,
}

const NODES: [&str; 3] = ["a", "b", "c"];

/// One row's figures, printed in three tables.
struct Row {
    per_node: usize,
    /// Per viewer: frames of the window that arrived, local (node a) and remote (b, c).
    local: Vec<u64>,
    remote: Vec<u64>,
    local_hist: Histogram<u64>,
    remote_hist: Histogram<u64>,
    published: u64,
    avg_jpeg: f64,
    seconds: f64,
    /// CPU seconds and RSS (MB) of nodes a, b, c and the broker, in that order.
    cpu: [f64; 4],
    rss: [f64; 4],
    /// Frames the nodes' viewers received, per node.
    sent: [u64; 3],
    broker_in: u64,
    broker_out: u64,
    bus_bytes_out: u64,
    /// Frames a put on the bus, b and c took from it, and b and c found missing.
    bus_frames_out: u64,
    bus_frames_in: [u64; 2],
    missing: [u64; 2],
    /// A fresh remote viewer's time to its first frame, on b and on c.
    ttff_ms: [f64; 2],
}

pub async fn cluster(args: &ClusterArgs, common: Common<'_>) -> Result<()> {
    let avg = common.frames.iter().map(Vec::len).sum::<usize>() / common.frames.len();
    println!(
        "nats-server + nodes a, b, c on loopback; publisher on a: {} distinct 1280x720 JPEGs, {:.1} KB on average, {} fps; viewers split evenly over a (local) and b, c (remote); {} s measured per row",
        common.frames.len(),
        avg as f64 / 1000.0,
        common.fps,
        args.seconds
    );
    let mut rows = Vec::new();
    for &n in &args.per_node {
        rows.push(row(n, args.seconds, &common, avg as f64).await?);
    }
    print_tables(&rows);
    Ok(())
}

async fn node(
    common: &Common<'_>,
    scratch: &std::path::Path,
    broker: &NatsServer,
    id: &str,
    secret: &str,
) -> Result<ServerProcess> {
    let dir = scratch.join(id);
    std::fs::create_dir_all(&dir)?;
    bench_server(common.server_bin, &dir)
        .env("LENSCAST_SECRET", secret)
        .env("LENSCAST_CLUSTER_URL", broker.url())
        .env("LENSCAST_NODE_ID", id)
        .start()
        .await
        .with_context(|| format!("start node {id}"))
}

/// The value of metric `name` on the node at `addr`.
async fn metric(addr: &str, name: &str) -> Result<u64> {
    let text = http_request(
        addr,
        "GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n",
    )
    .await?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .with_context(|| format!("metric {name}"))?
        .trim()
        .parse()
        .context("metric value")
}

/// Frames a put on the bus, b and c took from it, b and c found missing.
async fn bus_counts(addrs: &[String]) -> Result<[u64; 5]> {
    Ok([
        metric(&addrs[0], "lenscast_cluster_bus_frames_out_total").await?,
        metric(&addrs[1], "lenscast_cluster_bus_frames_in_total").await?,
        metric(&addrs[2], "lenscast_cluster_bus_frames_in_total").await?,
        metric(&addrs[1], "lenscast_cluster_frames_missing_total").await?,
        metric(&addrs[2], "lenscast_cluster_frames_missing_total").await?,
    ])
}

/// The broker's `in_bytes` and `out_bytes` (`/varz`).
async fn broker_bytes(broker: &NatsServer) -> Result<(u64, u64)> {
    let addr = format!("127.0.0.1:{}", broker.monitor_port);
    let res = http_request(
        &addr,
        "GET /varz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n",
    )
    .await?;
    let body = res.split_once("\r\n\r\n").context("varz response")?.1;
    let varz: serde_json::Value = serde_json::from_str(body).context("varz JSON")?;
    let field = |name: &str| varz[name].as_u64().with_context(|| format!("varz {name}"));
    Ok((field("in_bytes")?, field("out_bytes")?))
}

/// A fresh viewer on `addr`: milliseconds from its request to its first whole frame.
async fn time_to_first_frame(addr: &str, path: &str) -> Result<f64> {
    let start = Instant::now();
    let conn = viewer::open_stream(addr, path).await?;
    let stop = CancellationToken::new();
    let first = AtomicU64::new(0);
    let read = viewer::read_frames(conn, &stop, false, |_| {
        if first.load(Ordering::Relaxed) == 0 {
            first.store(start.elapsed().as_micros() as u64, Ordering::Relaxed);
            stop.cancel();
        }
    });
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .context("no first frame within 10 s")??;
    Ok(first.load(Ordering::Relaxed) as f64 / 1000.0)
}

async fn row(per_node: usize, seconds: u64, common: &Common<'_>, avg_jpeg: f64) -> Result<Row> {
    let scratch = testkit::temp::temp_dir("loadgen-cluster");
    let broker = NatsServer::start().await?;
    // Any secret will do, as long as every node has the same.
    let secret = "6c656e73636173742d62656e63682d636c75737465722d7365637265742d3031";
    let mut nodes = Vec::new();
    for id in NODES {
        nodes.push(node(common, scratch.path(), &broker, id, secret).await?);
    }
    let addrs: Vec<String> = nodes.iter().map(|n| n.addr().to_string()).collect();
    let room = create_room(&addrs[0]).await?;
    let path = rooms::stream_path(&room.room);
    let window = Arc::new(Window {
        start: AtomicU64::new(u64::MAX),
        end: AtomicU64::new(u64::MAX),
        published: AtomicU64::new(0),
    });
    let stop = CancellationToken::new();
    let publisher = {
        let window = Arc::clone(&window);
        start_publisher(
            &addrs[0],
            &room,
            Arc::clone(&common.frames),
            common.fps,
            stop.clone(),
            move |sent| {
                if window.contains(sent) {
                    window.published.fetch_add(1, Ordering::Relaxed);
                }
            },
        )
        .await?
    };
    // Before anyone else watches: the first remote viewer waits for the subscription, the
    // presence round trip and the next frame.
    // At offsets that are not whole frame periods, so the two samples see different
    // phases of the publisher's clock (the wait for the next frame is part of the figure).
    tokio::time::sleep(Duration::from_millis(517)).await;
    let ttff_b = time_to_first_frame(&addrs[1], &path).await?;
    tokio::time::sleep(Duration::from_millis(251)).await;
    let ttff_c = time_to_first_frame(&addrs[2], &path).await?;
    let ttff_ms = [ttff_b, ttff_c];

    let ready = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(200));
    let mut viewers = Vec::new();
    for i in 0..per_node * NODES.len() {
        let node = i % NODES.len();
        let (addr, path, window, stop, ready, gate) = (
            addrs[node].clone(),
            path.clone(),
            Arc::clone(&window),
            stop.clone(),
            Arc::clone(&ready),
            Arc::clone(&gate),
        );
        let drop_bodies = common.drop_bodies;
        viewers.push((
            node,
            tokio::spawn(async move {
                let permit = gate.acquire_owned().await.ok();
                let tcp = viewer::open_stream(&addr, &path).await;
                drop(permit);
                let tcp = tcp?;
                ready.fetch_add(1, Ordering::Relaxed);
                viewer::watch(tcp, &window, &stop, drop_bodies).await
            }),
        ));
    }
    let total = per_node * NODES.len();
    let deadline = Instant::now() + Duration::from_mins(1);
    while ready.load(Ordering::Relaxed) < total {
        if Instant::now() > deadline {
            bail!(
                "only {} of {total} viewers connected",
                ready.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    let mut pids: Vec<String> = nodes.iter().map(|n| n.pid().to_string()).collect();
    pids.push(broker.pid().context("the broker runs")?.to_string());
    let cpu0: Vec<f64> = pids.iter().map(|p| cpu_seconds(p)).collect::<Result<_>>()?;
    let (in0, out0) = broker_bytes(&broker).await?;
    let bus0 = metric(&addrs[0], "lenscast_cluster_bus_bytes_out_total").await?;
    let counts0 = bus_counts(&addrs).await?;
    let start = now_ns();
    window.start.store(start, Ordering::Relaxed);
    window
        .end
        .store(start + seconds * 1_000_000_000, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let cpu1: Vec<f64> = pids.iter().map(|p| cpu_seconds(p)).collect::<Result<_>>()?;
    let (in1, out1) = broker_bytes(&broker).await?;
    let bus1 = metric(&addrs[0], "lenscast_cluster_bus_bytes_out_total").await?;
    let counts1 = bus_counts(&addrs).await?;
    let mut rss = [0.0; 4];
    for (i, pid) in pids.iter().enumerate() {
        rss[i] = rss_mb(pid.parse()?)?;
    }
    // Frames sent at the end of the window are still on their way.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.cancel();
    let _ = publisher.await;

    let mut local_hist = Histogram::<u64>::new_with_bounds(1, HIST_MAX_US, 2)?;
    let mut remote_hist = local_hist.clone();
    let (mut local, mut remote, mut sent) = (Vec::new(), Vec::new(), [0u64; 3]);
    for (node, task) in viewers {
        let (count, hist) = task.await??;
        sent[node] += count;
        if node == 0 {
            local.push(count);
            local_hist.add(&hist)?;
        } else {
            remote.push(count);
            remote_hist.add(&hist)?;
        }
    }
    for node in nodes {
        node.kill().await?;
    }
    let mut cpu = [0.0; 4];
    for i in 0..4 {
        cpu[i] = cpu1[i] - cpu0[i];
    }
    Ok(Row {
        per_node,
        local,
        remote,
        local_hist,
        remote_hist,
        published: window.published.load(Ordering::Relaxed),
        avg_jpeg,
        seconds: seconds as f64,
        cpu,
        rss,
        sent,
        broker_in: in1 - in0,
        broker_out: out1 - out0,
        bus_bytes_out: bus1 - bus0,
        bus_frames_out: counts1[0] - counts0[0],
        bus_frames_in: [counts1[1] - counts0[1], counts1[2] - counts0[2]],
        missing: [counts1[3] - counts0[3], counts1[4] - counts0[4]],
        ttff_ms,
    })
}

/// Min and median of `counts` as a share of `published`, in percent.
fn shares(counts: &mut [u64], published: u64) -> (f64, f64) {
    counts.sort_unstable();
    let p = published.max(1) as f64;
    let min = counts.first().copied().unwrap_or(0) as f64;
    let median = counts.get(counts.len() / 2).copied().unwrap_or(0) as f64;
    (100.0 * min / p, 100.0 * median / p)
}

fn ms(hist: &Histogram<u64>, q: f64) -> f64 {
    hist.value_at_quantile(q) as f64 / 1000.0
}

fn print_tables(rows: &[Row]) {
    println!();
    println!(
        "| viewers (a+b+c) | local frames min / median | remote frames min / median | local p50 / p99 | remote p50 / p99 | hop adds p50 / p99 | remote time to first frame (b, c) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let (lmin, lmed) = shares(&mut r.local.clone(), r.published);
        let (rmin, rmed) = shares(&mut r.remote.clone(), r.published);
        let (l50, l99) = (ms(&r.local_hist, 0.5), ms(&r.local_hist, 0.99));
        let (r50, r99) = (ms(&r.remote_hist, 0.5), ms(&r.remote_hist, 0.99));
        println!(
            "| 3 × {} | {lmin:.1}% / {lmed:.1}% | {rmin:.1}% / {rmed:.1}% | {l50:.1} / {l99:.1} ms | {r50:.1} / {r99:.1} ms | {:.1} / {:.1} ms | {:.0}, {:.0} ms |",
            r.per_node,
            r50 - l50,
            r99 - l99,
            r.ttff_ms[0],
            r.ttff_ms[1]
        );
    }
    println!();
    println!(
        "| viewers (a+b+c) | node a CPU / RSS | node b CPU / RSS | node c CPU / RSS | broker CPU / RSS | µs CPU per frame sent: a (local) / b, c (remote) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        let cell = |i: usize| format!("{:.0}% / {:.0} MB", 100.0 * r.cpu[i] / r.seconds, r.rss[i]);
        let per_frame = |i: usize| r.cpu[i] * 1e6 / r.sent[i].max(1) as f64;
        println!(
            "| 3 × {} | {} | {} | {} | {} | {:.1} / {:.1}, {:.1} |",
            r.per_node,
            cell(0),
            cell(1),
            cell(2),
            cell(3),
            per_frame(0),
            per_frame(1),
            per_frame(2)
        );
    }
    println!();
    println!(
        "| viewers (a+b+c) | frames published | bus frames out (a) / in (b, c) / missing (b, c) | JPEG bytes on the bus (a's count) | broker bytes in / out | frames × size × 2 watching nodes | broker out ÷ that |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let expected = r.published as f64 * r.avg_jpeg * 2.0;
        println!(
            "| 3 × {} | {} | {} / {}, {} / {}, {} | {:.1} MB | {:.1} / {:.1} MB | {:.1} MB | {:.3} |",
            r.per_node,
            r.published,
            r.bus_frames_out,
            r.bus_frames_in[0],
            r.bus_frames_in[1],
            r.missing[0],
            r.missing[1],
            r.bus_bytes_out as f64 / 1e6,
            r.broker_in as f64 / 1e6,
            r.broker_out as f64 / 1e6,
            expected / 1e6,
            r.broker_out as f64 / expected.max(1.0)
        );
    }
}
