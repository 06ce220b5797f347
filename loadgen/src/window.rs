//! The measured window and its clock, shared by the publisher side ([`crate::measure`]) and
//! every viewer ([`crate::viewer`]): one epoch, so send and receive times compare directly.

use std::{
    sync::{
        OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

/// Latency histogram range in µs (1 µs .. 60 s), two significant digits.
pub const HIST_MAX_US: u64 = 60_000_000;

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

pub fn now_ns() -> u64 {
    epoch().elapsed().as_nanos() as u64
}

/// The measured window, in send time: frames sent in it are counted everywhere.
pub struct Window {
    pub start: AtomicU64,
    pub end: AtomicU64,
    pub published: AtomicU64,
}

impl Window {
    pub fn contains(&self, t: u64) -> bool {
        t >= self.start.load(Ordering::Relaxed) && t < self.end.load(Ordering::Relaxed)
    }
}
