//! The canary's frame counts, per report interval: how many frames the publisher sent in
//! each, and how many of those each viewer received. Frames are put into intervals by their
//! send time (the stamp), so a frame still on its way at an interval's end counts for the
//! interval it was sent in, once it arrives. Every count is an atomic of its own: the
//! publisher and each viewer only ever add to theirs, the reporter reads.

use std::{
    ops::Range,
    sync::atomic::{AtomicU32, AtomicU64, Ordering},
    time::Duration,
};

pub struct Tally {
    viewers: usize,
    intervals: usize,
    every_ns: u64,
    /// Send time (the loader's clock) where the first interval starts; `u64::MAX` until
    /// [`Tally::start`], so nothing sent before counts.
    start: AtomicU64,
    published: Vec<AtomicU32>,
    /// `received[viewer * intervals + interval]`.
    received: Vec<AtomicU32>,
}

/// The share of the frames published in some intervals that the canary viewers received.
#[derive(Clone, Copy, Debug)]
pub struct Shares {
    pub published: u64,
    /// Of the viewer that got the fewest.
    pub worst: f64,
    pub mean: f64,
}

impl Tally {
    pub fn new(viewers: usize, intervals: usize, every: Duration) -> Self {
        Self {
            viewers,
            intervals,
            every_ns: every.as_nanos() as u64,
            start: AtomicU64::new(u64::MAX),
            published: (0..intervals).map(|_| AtomicU32::new(0)).collect(),
            received: (0..viewers * intervals)
                .map(|_| AtomicU32::new(0))
                .collect(),
        }
    }

    /// The first interval starts at send time `t0`.
    pub fn start(&self, t0: u64) {
        self.start.store(t0, Ordering::Relaxed);
    }

    fn interval(&self, sent: u64) -> Option<usize> {
        let start = self.start.load(Ordering::Relaxed);
        if sent < start {
            return None;
        }
        let k = ((sent - start) / self.every_ns) as usize;
        (k < self.intervals).then_some(k)
    }

    /// The publisher sent a frame at `sent`.
    pub fn published(&self, sent: u64) {
        if let Some(k) = self.interval(sent) {
            self.published[k].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Viewer `viewer` received the frame sent at `sent`.
    pub fn received(&self, viewer: usize, sent: u64) {
        if let Some(k) = self.interval(sent) {
            self.received[viewer * self.intervals + k].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The shares of the frames published in `intervals`, per viewer.
    pub fn shares(&self, intervals: Range<usize>) -> Shares {
        let published: u64 = self.published[intervals.clone()]
            .iter()
            .map(|c| u64::from(c.load(Ordering::Relaxed)))
            .sum();
        let per_viewer = (0..self.viewers).map(|v| {
            self.received[v * self.intervals..][intervals.clone()]
                .iter()
                .map(|c| u64::from(c.load(Ordering::Relaxed)))
                .sum::<u64>()
        });
        let (mut worst, mut total) = (u64::MAX, 0u64);
        for got in per_viewer {
            worst = worst.min(got);
            total += got;
        }
        let of = published.max(1) as f64;
        Shares {
            published,
            worst: if self.viewers == 0 {
                0.0
            } else {
                worst as f64 / of
            },
            mean: total as f64 / self.viewers.max(1) as f64 / of,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_count_in_the_interval_they_were_sent_in() {
        let tally = Tally::new(2, 3, Duration::from_nanos(10));
        // Before the start, nothing counts.
        tally.published(5);
        tally.received(0, 5);
        tally.start(100);
        for sent in [100, 105, 110, 125, 129] {
            tally.published(sent);
            tally.received(0, sent);
        }
        tally.received(1, 105);
        tally.received(1, 125);
        // Past the last interval, nothing counts either.
        tally.published(130);
        tally.received(1, 130);
        let first = tally.shares(0..1);
        assert_eq!(first.published, 2);
        assert!((first.worst - 0.5).abs() < 1e-9);
        assert!((first.mean - 0.75).abs() < 1e-9);
        let all = tally.shares(0..3);
        assert_eq!(all.published, 5);
        assert!((all.worst - 0.4).abs() < 1e-9);
        assert!((all.mean - 0.7).abs() < 1e-9);
    }
}
