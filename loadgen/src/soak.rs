//! `lenscast-loadgen soak`: one server for many minutes under a hostile mix, printed, not
//! asserted (`cargo xtask bench soak`).
//!
//! A canary room gets the bench's publisher (stamped 1280×720 JPEGs at 30 fps) and
//! `--viewers` MJPEG viewers that count every frame they receive. Once they are connected,
//! the server's RSS and open files are the baseline, and the hostile mix ([`hostile`])
//! starts: stalled viewers on the canary room, a publisher that never reads in a room of its
//! own, a ping flood on the publisher socket of a third. For the last tenth of the run (a
//! minute of ten) the hostile clients are gone. Every `--every-secs` one table row: server
//! RSS and open files, the canary frames published in that interval and the share of them
//! the worst and the mean viewer received, and what the hostile clients did so far. At the
//! end, a summary against the targets: the canary viewers get ≥ 99% of the frames, RSS ends
//! within 10% of the baseline, open files return to the baseline.

mod hostile;
mod tally;

use std::{
    path::Path,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use protocol::rooms;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::{measure, viewer, window::now_ns};
use hostile::Hostile;
use tally::{Shares, Tally};

/// How long after an interval's end its frames are counted: the last ones are on their way.
const GRACE: Duration = Duration::from_millis(500);
/// The shares the canary viewers must get, and how close RSS must stay to its baseline.
const SHARE_TARGET: f64 = 0.99;
const RSS_TOLERANCE: f64 = 0.10;
/// How many times one sample counts the server's open files.
const FD_COUNTS: usize = 5;

/// The soak's own flags; the frame rate, frames, server binary and `--drop-bodies` are the
/// bench's.
#[derive(clap::Args, Debug)]
pub struct SoakArgs {
    /// Minutes to run; the hostile clients stop for the last tenth (at least one report).
    #[arg(long, default_value_t = 10)]
    pub minutes: u64,
    /// Canary viewers, which count the frames they get.
    #[arg(long, default_value_t = 500)]
    pub viewers: usize,
    /// Stalled viewers on the canary room (they send the GET and never read).
    #[arg(long, default_value_t = 50)]
    pub stalled: usize,
    /// Seconds between two reports.
    #[arg(long, default_value_t = 10)]
    pub every_secs: u64,
    /// Frames per second of the publisher that never reads (the server takes 60 by default).
    #[arg(long, default_value_t = 90)]
    pub hostile_fps: u32,
    /// `hello` messages it sends with each frame.
    #[arg(long, default_value_t = 10)]
    pub hellos_per_frame: u32,
    /// Pings per second of the ping flood.
    #[arg(long, default_value_t = 10_000)]
    pub pings_per_sec: u32,
}

/// What the common flags say.
pub struct Common<'a> {
    pub server_bin: &'a Path,
    pub fps: u32,
    pub drop_bodies: bool,
    pub frames: Arc<Vec<Vec<u8>>>,
}

/// The server as `/proc` shows it.
#[derive(Clone, Copy)]
struct Sample {
    rss_mb: f64,
    fds: usize,
}

/// Open files are counted a few times, a few ms apart, and the least kept: each frame that
/// viewers are still being sent has files of its own (an in-memory file and a pipe), so a
/// single count catches a frame in flight or not.
async fn sample(pid: u32) -> Result<Sample> {
    let mut fds = usize::MAX;
    for _ in 0..FD_COUNTS {
        fds = fds.min(std::fs::read_dir(format!("/proc/{pid}/fd"))?.count());
        tokio::time::sleep(Duration::from_millis(7)).await;
    }
    Ok(Sample {
        rss_mb: measure::rss_mb(pid)?,
        fds,
    })
}

/// One report row's figures.
struct Row {
    sample: Sample,
    shares: Shares,
}

/// The canary viewers that are gone, and why the first one went.
#[derive(Default)]
struct Lost {
    count: AtomicUsize,
    first: Mutex<Option<String>>,
}

pub async fn soak(args: &SoakArgs, common: Common<'_>) -> Result<()> {
    let every = Duration::from_secs(args.every_secs.max(1));
    let intervals = (args.minutes * 60).div_ceil(every.as_secs()) as usize;
    if intervals < 2 {
        bail!("a soak needs at least two reports: raise --minutes or lower --every-secs");
    }
    let quiet = intervals.div_ceil(10);
    let hostile_intervals = intervals - quiet;

    let scratch = testkit::temp::temp_dir("loadgen-soak");
    let server = measure::start_server(common.server_bin, scratch.path()).await?;
    let pid = server.pid();
    let addr = server.addr();
    let host = addr.to_string();
    let canary = measure::create_room(&host).await?;
    let tally = Arc::new(Tally::new(args.viewers, intervals, every));
    let stop = CancellationToken::new();

    let publisher = {
        let tally = Arc::clone(&tally);
        let frames = Arc::clone(&common.frames);
        measure::start_publisher(&host, &canary, frames, common.fps, stop.clone(), move |t| {
            tally.published(t);
        })
        .await?
    };

    let ready = Arc::new(AtomicUsize::new(0));
    let lost = Arc::new(Lost::default());
    let gate = Arc::new(Semaphore::new(200));
    let path = rooms::stream_path(&canary.room);
    let mut viewers = Vec::with_capacity(args.viewers);
    for i in 0..args.viewers {
        let (host, path, tally, stop, ready, lost, gate) = (
            host.clone(),
            path.clone(),
            Arc::clone(&tally),
            stop.clone(),
            Arc::clone(&ready),
            Arc::clone(&lost),
            Arc::clone(&gate),
        );
        let drop_bodies = common.drop_bodies;
        viewers.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.ok();
            let conn = viewer::open_stream(&host, &path).await;
            drop(permit);
            let watched = match conn {
                Ok(conn) => {
                    ready.fetch_add(1, Ordering::Relaxed);
                    viewer::read_frames(conn, &stop, drop_bodies, |t| tally.received(i, t)).await
                }
                Err(err) => Err(err),
            };
            if let Err(err) = watched {
                lost.count.fetch_add(1, Ordering::Relaxed);
                lost.first
                    .lock()
                    .expect("not poisoned")
                    .get_or_insert_with(|| format!("{err:#}"));
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_mins(1);
    while ready.load(Ordering::Relaxed) < args.viewers {
        if Instant::now() > deadline || lost.count.load(Ordering::Relaxed) > 0 {
            bail!(
                "only {} of {} canary viewers connected",
                ready.load(Ordering::Relaxed),
                args.viewers
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let baseline = sample(pid).await?;

    println!(
        "soak: server pid {pid}; {} canary viewers at {} fps for {} s; the hostile mix for \
         the first {} s ({} stalled viewers, a never-reading publisher at {} fps with {} hellos \
         a frame, {} pings/s), then without it",
        args.viewers,
        common.fps,
        intervals as u64 * every.as_secs(),
        hostile_intervals as u64 * every.as_secs(),
        args.stalled,
        args.hostile_fps,
        args.hellos_per_frame,
        args.pings_per_sec,
    );
    println!(
        "baseline with the canary viewers connected: RSS {:.1} MB, {} open files",
        baseline.rss_mb, baseline.fds
    );
    println!();
    println!(
        "| elapsed | phase | server RSS | open files | canary frames published | canary share (worst / mean viewer) | stalled open / dropped so far | hostile sent so far (frames / hellos / pings) |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|");

    let t0 = now_ns();
    let started = Instant::now();
    tally.start(t0);
    let options = hostile::Options {
        stalled: args.stalled,
        fps: args.hostile_fps,
        hellos_per_frame: args.hellos_per_frame,
        pings_per_sec: args.pings_per_sec,
    };
    let mut hostile = Some(Hostile::start(addr, &path, &common.frames, options).await?);
    let stats = Arc::clone(&hostile.as_ref().context("just started")?.stats);
    let mut rows = Vec::with_capacity(intervals);
    let mut peak = baseline;
    for k in 0..intervals {
        let end = started + every * (k as u32 + 1);
        tokio::time::sleep_until((end + GRACE).into()).await;
        let now = sample(pid).await?;
        peak.rss_mb = peak.rss_mb.max(now.rss_mb);
        peak.fds = peak.fds.max(now.fds);
        let shares = tally.shares(k..k + 1);
        let s = &*stats;
        println!(
            "| {} s | {} | {:.1} MB | {} | {} | {:.1}% / {:.1}% | {} / {} | {} / {} / {} |",
            (k as u64 + 1) * every.as_secs(),
            if k < hostile_intervals {
                "hostile"
            } else {
                "quiet"
            },
            now.rss_mb,
            now.fds,
            shares.published,
            100.0 * shares.worst,
            100.0 * shares.mean,
            s.stalled_open.load(Ordering::Relaxed),
            s.stalled_dropped.load(Ordering::Relaxed),
            s.frames_sent.load(Ordering::Relaxed),
            s.hellos_sent.load(Ordering::Relaxed),
            s.pings_sent.load(Ordering::Relaxed),
        );
        rows.push(Row {
            sample: now,
            shares,
        });
        if k + 1 == hostile_intervals
            && let Some(hostile) = hostile.take()
        {
            hostile.stop().await;
        }
    }
    if let Some(hostile) = hostile {
        hostile.stop().await;
    }

    stop.cancel();
    let _ = publisher.await;
    for v in viewers {
        let _ = v.await;
    }
    server.kill().await?;

    let summary = Summary {
        baseline,
        peak,
        rows: &rows,
        whole: tally.shares(0..intervals),
        hostile_phase: tally.shares(0..hostile_intervals),
        stats: &stats,
        lost: &lost,
    };
    summary.print();
    Ok(())
}

/// The end of the run against the targets.
struct Summary<'a> {
    baseline: Sample,
    peak: Sample,
    rows: &'a [Row],
    whole: Shares,
    hostile_phase: Shares,
    stats: &'a hostile::Stats,
    lost: &'a Lost,
}

impl Summary<'_> {
    fn print(&self) {
        let met = |ok: bool| if ok { "met" } else { "MISSED" };
        let last = self.rows.last().map_or(self.baseline, |r| r.sample);
        let worst_interval = self
            .rows
            .iter()
            .map(|r| r.shares.worst)
            .fold(f64::INFINITY, f64::min);
        let rss_change = last.rss_mb / self.baseline.rss_mb - 1.0;
        let s = self.stats;
        let dropped = s.stalled_dropped.load(Ordering::Relaxed);
        let life = if dropped == 0 {
            "none dropped".to_owned()
        } else {
            format!(
                "after {:.1} s / {:.1} s / {:.1} s (shortest / mean / longest)",
                s.stalled_life_ms_min.load(Ordering::Relaxed) as f64 / 1e3,
                s.stalled_life_ms_sum.load(Ordering::Relaxed) as f64 / 1e3 / dropped as f64,
                s.stalled_life_ms_max.load(Ordering::Relaxed) as f64 / 1e3,
            )
        };
        println!();
        println!("| soak | result | target | |");
        println!("|---|---:|---:|---|");
        println!(
            "| canary share, whole run (mean / worst viewer) | {:.2}% / {:.2}% of {} frames | ≥ 99% | {} |",
            100.0 * self.whole.mean,
            100.0 * self.whole.worst,
            self.whole.published,
            met(self.whole.worst >= SHARE_TARGET),
        );
        println!(
            "| canary share, hostile phase only (mean / worst viewer) | {:.2}% / {:.2}% | ≥ 99% | {} |",
            100.0 * self.hostile_phase.mean,
            100.0 * self.hostile_phase.worst,
            met(self.hostile_phase.worst >= SHARE_TARGET),
        );
        println!(
            "| canary share, worst viewer in its worst interval | {:.2}% | | |",
            100.0 * worst_interval
        );
        println!(
            "| server RSS, baseline → end (peak) | {:.1} → {:.1} MB ({:+.1}%; peak {:.1} MB) | within ±10% | {} |",
            self.baseline.rss_mb,
            last.rss_mb,
            100.0 * rss_change,
            self.peak.rss_mb,
            met(rss_change.abs() <= RSS_TOLERANCE),
        );
        println!(
            "| server open files, baseline → hostile clients gone (peak) | {} → {} (peak {}) | back to baseline | {} |",
            self.baseline.fds,
            last.fds,
            self.peak.fds,
            met(last.fds <= self.baseline.fds),
        );
        println!(
            "| stalled viewers dropped by the server | {dropped}, {life}; {} failed connects | | |",
            s.stalled_failed.load(Ordering::Relaxed),
        );
        println!(
            "| never-reading publisher: frames / hellos sent, sockets the server ended | {} / {} / {} | | |",
            s.frames_sent.load(Ordering::Relaxed),
            s.hellos_sent.load(Ordering::Relaxed),
            s.publisher_ended.load(Ordering::Relaxed),
        );
        println!(
            "| ping flood: pings sent, sockets the server ended | {} / {} | | |",
            s.pings_sent.load(Ordering::Relaxed),
            s.flood_ended.load(Ordering::Relaxed),
        );
        let lost = self.lost.count.load(Ordering::Relaxed);
        println!(
            "| canary viewers the server ended | {lost} | 0 | {} |",
            met(lost == 0)
        );
        if let Some(why) = self.lost.first.lock().expect("not poisoned").as_ref() {
            println!();
            println!("the first canary viewer to go: {why}");
        }
    }
}
