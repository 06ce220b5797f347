//! What a publisher reports to its owner: the [`Status`] shown in the panel, and the
//! [`PublisherEvents`] it is reported through.

use std::collections::VecDeque;

use yew::Callback;

use crate::broadcast::EncoderKind;

/// Where the broadcast stands, as the panel shows it.
#[derive(Clone, Debug, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub enum LinkState {
    #[default]
    Connecting,
    /// Open, and at least one viewer: frames flow.
    Live,
    /// Open, nobody watching: nothing is sent.
    Paused,
    /// Lost the server; retrying on its own.
    Reconnecting { reason: String, retry_in_ms: u32 },
    /// Stopped for good (needs the user).
    Failed(String),
}

impl LinkState {
    /// The state of an open socket with `viewers` watching.
    pub(super) fn open(viewers: u32) -> Self {
        if viewers > 0 {
            Self::Live
        } else {
            Self::Paused
        }
    }
}

/// Everything the panel displays; sent on every state change and about twice a second
/// (from the encode worker to the page as JSON).
#[derive(Clone, Debug, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Status {
    pub state: LinkState,
    pub viewers: u32,
    pub frames_sent: u64,
    pub frames_skipped: u64,
    /// Upload rate over the last two seconds.
    pub kbit_per_s: f64,
    pub fps: f64,
    pub bytes_per_frame: f64,
    /// From frame hand-off to JPEG bytes (exponential moving average).
    pub encode_ms: f64,
    /// Time the frame loop's own callback spends on broadcasting (copy, scale, draw).
    pub tap_ms: f64,
    pub encoder: EncoderKind,
    /// Running totals for benchmarks (mean over any window = difference of two readings):
    /// hand-off-to-JPEG time, main-thread time (tap plus, for wasm, the encode itself), bytes.
    pub encode_ms_sum: f64,
    pub main_ms_sum: f64,
    pub bytes_sum: u64,
    /// Encoded frames not sent because they were over the server's frame limit.
    pub frames_too_large: u64,
    /// The server's frame limit in bytes, once it said (0 before).
    pub frame_limit: u64,
    /// How much smaller than the settings frames are made to fit that limit.
    pub fit: super::fit::Fit,
}

/// How the publisher reaches its owner. Callbacks are emitted outside the publisher's own
/// borrow, so they may call back into it (e.g. stop it).
pub struct PublisherEvents {
    pub on_status: Callback<Status>,
    /// The server no longer knows the room (its secret changed): the owner needs a new one.
    pub on_room_lost: Callback<()>,
}

/// An exponential moving average that starts at the first sample.
pub(super) fn ema(old: f64, new: f64) -> f64 {
    if old == 0.0 {
        new
    } else {
        old * 0.9 + new * 0.1
    }
}

/// How far back the upload rate and frame rate look.
const WINDOW_MS: f64 = 2000.0;

/// `(time, bytes)` of the frames sent within the last [`WINDOW_MS`].
#[derive(Default)]
pub(super) struct SentWindow(VecDeque<(f64, usize)>);

impl SentWindow {
    pub(super) fn push(&mut self, now_ms: f64, bytes: usize) {
        self.0.push_back((now_ms, bytes));
    }

    /// Forgets frames older than the window and writes its rates into `status`.
    pub(super) fn update(&mut self, now_ms: f64, status: &mut Status) {
        while self.0.front().is_some_and(|&(t, _)| now_ms - t > WINDOW_MS) {
            self.0.pop_front();
        }
        let bytes: usize = self.0.iter().map(|&(_, n)| n).sum();
        let frames = self.0.len();
        let seconds = WINDOW_MS / 1000.0;
        status.kbit_per_s = bytes as f64 * 8.0 / WINDOW_MS;
        status.fps = frames as f64 / seconds;
        // With nothing sent lately the last size is still the best guess.
        if frames > 0 {
            status.bytes_per_frame = bytes as f64 / frames as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn rates_cover_the_last_two_seconds() {
        let mut window = SentWindow::default();
        let mut status = Status::default();
        window.push(0.0, 1000);
        window.push(1500.0, 3000);
        window.push(1900.0, 2000);
        window.update(2100.0, &mut status);
        // The frame at 0 ms is older than two seconds.
        assert!((status.fps - 1.0).abs() < 1e-9);
        assert!((status.kbit_per_s - 20.0).abs() < 1e-9);
        assert!((status.bytes_per_frame - 2500.0).abs() < 1e-9);
        window.update(10_000.0, &mut status);
        assert!(status.fps.abs() < 1e-9);
        assert!((status.bytes_per_frame - 2500.0).abs() < 1e-9);
    }
}
