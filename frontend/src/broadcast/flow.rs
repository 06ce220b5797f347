//! Flow control: decide per processed frame whether to encode and send it.
//!
//! Frames are never queued. A frame is skipped while the previous one is still being
//! encoded, while the socket has more than [`MAX_BUFFERED_BYTES`] waiting to drain, while
//! nobody watches, or when it comes sooner than the max frame rate allows. Because the
//! decision is made afresh for every frame, sending resumes on the first frame after a
//! viewer arrives.

/// At most about one 720p JPEG may wait in the socket's send buffer.
pub const MAX_BUFFERED_BYTES: u32 = 64 * 1024;

/// What the flow controller knows when a frame arrives.
#[derive(Clone, Copy, Debug)]
pub struct FlowInput {
    /// The publish socket is open.
    pub open: bool,
    /// Viewers in the room, as last reported by the server.
    pub viewers: u32,
    /// An earlier frame is still being encoded or sent.
    pub encoding: bool,
    /// The socket's `bufferedAmount`.
    pub buffered: u32,
    /// Now, in milliseconds on any monotonic clock.
    pub now_ms: f64,
    /// When the next frame is due by the rate cap (from [`next_due`]); `None` at first.
    pub next_due_ms: Option<f64>,
    /// The user's frame-rate cap.
    pub max_fps: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    NotConnected,
    NoViewers,
    Encoding,
    Backpressure,
    RateLimit,
}

/// `Ok(())` to encode and send this frame, otherwise why it is skipped.
pub fn decide(input: &FlowInput) -> Result<(), Skip> {
    if !input.open {
        return Err(Skip::NotConnected);
    }
    if input.viewers == 0 {
        return Err(Skip::NoViewers);
    }
    if input.encoding {
        return Err(Skip::Encoding);
    }
    if input.buffered > MAX_BUFFERED_BYTES {
        return Err(Skip::Backpressure);
    }
    if let Some(due) = input.next_due_ms {
        // Frames arrive with jitter: one up to 40% of an interval early still counts as
        // due, or a 30 fps source capped at 30 fps would lose frames; less than 50%, or a
        // 60 fps source capped at 30 fps would send every frame.
        if input.now_ms < due - interval_ms(input.max_fps) * 0.4 {
            return Err(Skip::RateLimit);
        }
    }
    Ok(())
}

fn interval_ms(max_fps: f64) -> f64 {
    1000.0
        / if max_fps.is_finite() {
            max_fps.clamp(0.1, 240.0)
        } else {
            30.0
        }
}

/// The due time after a frame was accepted at `now_ms`: one interval after the previous
/// due time, so the long-run rate stays at the cap, unless the stream fell behind (a pause,
/// no viewers), where the schedule restarts from now instead of bursting to catch up.
pub fn next_due(prev_due_ms: Option<f64>, now_ms: f64, max_fps: f64) -> f64 {
    let interval = interval_ms(max_fps);
    match prev_due_ms {
        Some(due) if now_ms - due <= interval => due + interval,
        _ => now_ms + interval,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn ready() -> FlowInput {
        FlowInput {
            open: true,
            viewers: 1,
            encoding: false,
            buffered: 0,
            now_ms: 1000.0,
            next_due_ms: None,
            max_fps: 30.0,
        }
    }

    #[wasm_bindgen_test]
    fn sends_when_everything_is_ready() {
        assert_eq!(decide(&ready()), Ok(()));
    }

    #[wasm_bindgen_test]
    fn each_condition_skips() {
        let cases = [
            (
                FlowInput {
                    open: false,
                    ..ready()
                },
                Skip::NotConnected,
            ),
            (
                FlowInput {
                    viewers: 0,
                    ..ready()
                },
                Skip::NoViewers,
            ),
            (
                FlowInput {
                    encoding: true,
                    ..ready()
                },
                Skip::Encoding,
            ),
            (
                FlowInput {
                    buffered: MAX_BUFFERED_BYTES + 1,
                    ..ready()
                },
                Skip::Backpressure,
            ),
            (
                FlowInput {
                    next_due_ms: Some(1020.0),
                    ..ready()
                },
                Skip::RateLimit,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(decide(&input), Err(want), "{input:?}");
        }
    }

    /// Runs `frames` arrival times through the rate cap; returns how many were sent.
    fn simulate(times: impl Iterator<Item = f64>, max_fps: f64) -> usize {
        let mut due = None;
        let mut sent = 0;
        for now in times {
            let input = FlowInput {
                now_ms: now,
                next_due_ms: due,
                max_fps,
                ..ready()
            };
            if decide(&input).is_ok() {
                due = Some(next_due(due, now, max_fps));
                sent += 1;
            }
        }
        sent
    }

    #[wasm_bindgen_test]
    fn thirty_fps_source_at_thirty_fps_cap_keeps_jittery_frames() {
        // Frames 33.3 ms apart with ±6 ms of alternating jitter: none may be dropped.
        let times = (0..90).map(|i| {
            let jitter = if i % 2 == 0 { 6.0 } else { -6.0 };
            f64::from(i) * 1000.0 / 30.0 + jitter
        });
        assert_eq!(simulate(times, 30.0), 90);
    }

    #[wasm_bindgen_test]
    fn cap_holds_the_long_run_rate() {
        let at = |fps: f64| (0..300).map(move |i| f64::from(i) * 1000.0 / fps);
        assert_eq!(simulate(at(30.0), 15.0), 150);
        assert_eq!(simulate(at(60.0), 30.0), 150);
        // 50 fps capped at 30: 5 s of frames give about 150, never all 300.
        let sent = simulate(at(50.0).take(250), 30.0);
        assert!((145..=155).contains(&sent), "{sent}");
    }

    #[wasm_bindgen_test]
    fn schedule_restarts_after_a_pause() {
        assert!((next_due(Some(100.0), 110.0, 10.0) - 200.0).abs() < 1e-9);
        assert!((next_due(Some(100.0), 5000.0, 10.0) - 5100.0).abs() < 1e-9);
        assert!((next_due(None, 0.0, f64::NAN) - 1000.0 / 30.0).abs() < 1e-9);
    }

    #[wasm_bindgen_test]
    fn small_buffer_is_fine() {
        assert_eq!(
            decide(&FlowInput {
                buffered: MAX_BUFFERED_BYTES,
                ..ready()
            }),
            Ok(())
        );
    }
}
