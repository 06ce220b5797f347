//! Limits on the rates a client controls: rooms created per client address, frames per
//! second per publisher (GCRA limiters from `governor`, which keep one timestamp per key and
//! need no background refill), and log lines a client can cause ([`LogEvery`]).

use std::{
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use governor::{
    DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock,
};

/// How often a publisher over its frame rate is told so, at most.
const WARN_EVERY: Duration = Duration::from_secs(1);

/// At most one log line per period for an event any client can cause at will (a wrong
/// token), with the count of the ones left out: a flood of bad requests writes a line a
/// period, not a line a request.
pub struct LogEvery {
    period_ms: u64,
    start: Instant,
    /// Milliseconds since `start` of the last line written (`u64::MAX`: none yet).
    last: AtomicU64,
    suppressed: AtomicU64,
}

impl LogEvery {
    pub fn new(period: Duration) -> Self {
        Self {
            period_ms: period.as_millis() as u64,
            start: Instant::now(),
            last: AtomicU64::new(u64::MAX),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(n)` when a line may be written now, `n` being the events left out since the
    /// last one; `None` when this event is only counted.
    pub fn check(&self) -> Option<u64> {
        let now = self.start.elapsed().as_millis() as u64;
        let last = self.last.load(Ordering::Relaxed);
        let due = last == u64::MAX || now.saturating_sub(last) >= self.period_ms;
        if due
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::Relaxed));
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// `POST /api/rooms` per client address.
pub struct RoomCreation {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl RoomCreation {
    /// `per_minute` rooms a minute, all of which may come at once (the burst is the same
    /// number), so a page that creates a few rooms quickly is never refused.
    pub fn new(per_minute: NonZeroU32) -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
        }
    }

    /// `Ok` if `peer` may create a room now, else how long it has to wait.
    pub fn check(&self, peer: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&client_key(peer))
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    /// Forgets addresses whose limit has fully recovered, so the map holds only clients
    /// active within the last minute or so; the idle-room sweep calls it.
    pub fn forget_recovered(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Addresses currently remembered.
    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.limiter.len()
    }
}

/// One client is one IPv4 address or one IPv6 /64 (the smallest block a home or phone
/// usually gets, so rotating addresses inside it does not escape the limit).
pub(crate) fn client_key(peer: IpAddr) -> IpAddr {
    match peer.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// One publisher connection's frame rate: `fps` on average with bursts of up to two
/// seconds' worth, so a jittery encoder or a catch-up after a stall is never cut.
pub struct FrameRate {
    fps: NonZeroU32,
    limiter: DefaultDirectRateLimiter,
    last_warning: Option<Instant>,
}

impl FrameRate {
    pub fn new(fps: NonZeroU32) -> Self {
        let burst = fps.saturating_mul(NonZeroU32::new(2).expect("2 is not zero"));
        Self {
            fps,
            limiter: RateLimiter::direct(Quota::per_second(fps).allow_burst(burst)),
            last_warning: None,
        }
    }

    /// Whether one more frame fits the rate now (and takes its place if so).
    pub fn admit(&self) -> bool {
        self.limiter.check().is_ok()
    }

    /// The warning for a dropped frame, at most once per [`WARN_EVERY`].
    pub fn warning(&mut self) -> Option<String> {
        let now = Instant::now();
        if self
            .last_warning
            .is_some_and(|at| now.duration_since(at) < WARN_EVERY)
        {
            return None;
        }
        self.last_warning = Some(now);
        Some(format!("frame rate above {} fps: frames dropped", self.fps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_events_writes_one_line_a_period_with_the_count_left_out() {
        let log = LogEvery::new(Duration::from_hours(1));
        assert_eq!(log.check(), Some(0), "the first event is logged");
        for _ in 0..1000 {
            assert_eq!(log.check(), None);
        }
        let log = LogEvery::new(Duration::ZERO);
        assert_eq!(log.check(), Some(0));
        assert_eq!(log.check(), Some(0), "a zero period logs everything");
    }

    #[test]
    fn ipv6_clients_are_their_64_block_and_mapped_v4_is_v4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(
            client_key(mapped),
            "192.0.2.7".parse::<IpAddr>().expect("ip")
        );
    }

    #[test]
    fn rooms_are_limited_per_client_and_the_map_forgets_recovered_clients() {
        let limit = RoomCreation::new(NonZeroU32::new(3).expect("3 is not zero"));
        let one: IpAddr = "192.0.2.1".parse().expect("ip");
        let two: IpAddr = "192.0.2.2".parse().expect("ip");
        for _ in 0..3 {
            assert!(limit.check(one).is_ok());
        }
        let wait = limit.check(one).expect_err("fourth room is over the limit");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(limit.check(two).is_ok(), "another client is not affected");
        assert_eq!(limit.tracked(), 2);
        // Both are still recovering: nothing is forgotten yet.
        limit.forget_recovered();
        assert_eq!(limit.tracked(), 2);
    }

    #[test]
    fn frames_over_the_burst_are_refused_and_warnings_are_spaced() {
        let mut rate = FrameRate::new(NonZeroU32::new(5).expect("5 is not zero"));
        let admitted = (0..100).filter(|_| rate.admit()).count();
        // Two seconds' worth at once, plus whatever refilled while the loop ran.
        assert!((10..=11).contains(&admitted), "admitted {admitted}");
        let first = rate.warning().expect("first warning goes out");
        assert_eq!(first, "frame rate above 5 fps: frames dropped");
        assert_eq!(rate.warning(), None, "no second warning within a second");
    }
}
