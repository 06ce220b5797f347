//! Broadcasting: processed frames → JPEG → one WebSocket to the server → viewers. What
//! crosses the wire (room JSON, socket messages, close codes, paths) is the `protocol`
//! crate's types; this module is the browser side of it.
//!
//! - [`room`]: `POST /api/rooms`, the room kept in sessionStorage, absolute URLs.
//! - [`publisher`]: the live session: socket with reconnects ([`backoff`]), per-frame
//!   [`flow`] control, the encoders, and the status the panel shows. The
//!   `use_broadcast` hook owns it.
//! - Encoders: [`native`] (the browser's `OffscreenCanvas.convertToBlob`) and [`jpeg`]
//!   (the `jpeg-encoder` crate in wasm, after [`scale`]); both can paint the latency
//!   [`stamp`] used by `cargo xtask bench e2e`.
//! - [`qr`]: the share link as an SVG QR code.

pub mod backoff;
pub mod flow;
pub mod jpeg;
pub mod native;
pub mod publisher;
pub mod qr;
pub mod room;
pub mod scale;
pub mod stamp;

/// Which JPEG encoder turns frames into bytes. Both are kept selectable for comparison;
/// `cargo xtask bench e2e` measures them (BENCHMARKS.md, e2e).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncoderKind {
    /// `OffscreenCanvas.convertToBlob`: asynchronous, almost no main-thread time, but in
    /// Chromium without a GPU its round trip for a 720p frame swings from 14 to 53 ms with
    /// the machine's load, and with one frame in flight that becomes skips and latency spikes.
    Native,
    /// `jpeg-encoder` compiled to wasm, run in its own task right after the frame is
    /// drawn: ≈ 10 ms of main-thread time per 720p frame, but steady. The default.
    #[default]
    Wasm,
}

impl EncoderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::Wasm => "wasm",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "native" => Some(Self::Native),
            "wasm" => Some(Self::Wasm),
            _ => None,
        }
    }
}

/// The user's broadcast settings; changes apply from the next frame. Kept in the tab's
/// sessionStorage, so a reload keeps them (the app rewrites the query string, which drops
/// the parameters below after the first load).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// JPEG quality, 0.0..=1.0.
    pub quality: f64,
    pub max_fps: f64,
    /// Frames wider than this are downscaled before encoding.
    pub max_width: u32,
    pub encoder: EncoderKind,
    /// Paint the capture time into each frame (`?stamp=1`, for the latency benchmark).
    pub stamp: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            quality: 0.8,
            max_fps: 30.0,
            max_width: 1280,
            encoder: EncoderKind::default(),
            stamp: false,
        }
    }
}

const SETTINGS_KEY: &str = "lenscast.broadcast.settings";

impl Settings {
    /// This tab's stored settings (or the defaults), with the page query applied.
    pub fn load(query: &str) -> Self {
        use gloo::storage::{SessionStorage, Storage};
        SessionStorage::get::<Self>(SETTINGS_KEY)
            .unwrap_or_default()
            .sanitized()
            .with_query(query)
    }

    pub fn save(&self) {
        use gloo::storage::{SessionStorage, Storage};
        // Losing this only costs the settings on reload.
        let _ = SessionStorage::set(SETTINGS_KEY, self);
    }

    /// Stored values come from outside the program: clamp them into range.
    fn sanitized(self) -> Self {
        let d = Self::default();
        Self {
            quality: if self.quality.is_finite() {
                self.quality.clamp(0.05, 1.0)
            } else {
                d.quality
            },
            max_fps: if self.max_fps.is_finite() {
                self.max_fps.clamp(1.0, 60.0)
            } else {
                d.max_fps
            },
            max_width: self.max_width.clamp(160, 3840),
            ..self
        }
    }

    /// Defaults, with the page query applied (see [`Settings::with_query`]).
    pub fn from_query(query: &str) -> Self {
        Self::default().with_query(query)
    }

    /// Applies the page query's `encoder=native|wasm`, `stamp=1`, `quality=0..1`,
    /// `maxfps=1..60` and `maxwidth=160..3840` (out-of-range values are ignored).
    #[must_use]
    pub fn with_query(self, query: &str) -> Self {
        let mut settings = self;
        for pair in query.trim_start_matches('?').split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "encoder" => {
                    settings.encoder = EncoderKind::parse(value).unwrap_or(settings.encoder);
                }
                "stamp" => settings.stamp = value == "1",
                "quality" => {
                    if let Some(q) = value
                        .parse::<f64>()
                        .ok()
                        .filter(|q| (0.05..=1.0).contains(q))
                    {
                        settings.quality = q;
                    }
                }
                "maxfps" => {
                    if let Some(f) = value
                        .parse::<f64>()
                        .ok()
                        .filter(|f| (1.0..=60.0).contains(f))
                    {
                        settings.max_fps = f;
                    }
                }
                "maxwidth" => {
                    if let Some(w) = value
                        .parse::<u32>()
                        .ok()
                        .filter(|w| (160..=3840).contains(w))
                    {
                        settings.max_width = w;
                    }
                }
                _ => {}
            }
        }
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn query_settings() {
        assert_eq!(Settings::from_query(""), Settings::default());
        let s = Settings::from_query(
            "?source=camera&encoder=wasm&stamp=1&quality=0.5&maxfps=15&maxwidth=640",
        );
        assert_eq!(s.encoder, EncoderKind::Wasm);
        assert!(s.stamp);
        assert!((s.quality - 0.5).abs() < 1e-9);
        assert!((s.max_fps - 15.0).abs() < 1e-9);
        assert_eq!(s.max_width, 640);
        let bad = Settings::from_query("encoder=gif&quality=7&maxfps=0&maxwidth=99999&stamp");
        assert_eq!(bad, Settings::default());
    }

    #[wasm_bindgen_test]
    fn stored_settings_survive_and_the_query_wins() {
        use gloo::storage::{SessionStorage, Storage};
        SessionStorage::delete(SETTINGS_KEY);
        assert_eq!(Settings::load(""), Settings::default());
        let mine = Settings {
            encoder: EncoderKind::Native,
            max_width: 640,
            ..Settings::default()
        };
        mine.save();
        assert_eq!(Settings::load("?source=camera"), mine);
        assert_eq!(Settings::load("?maxwidth=320").max_width, 320);
        // Tampered storage is clamped, not trusted.
        let _ = SessionStorage::set(
            SETTINGS_KEY,
            serde_json::json!({"quality": 9.0, "max_width": 1}),
        );
        let loaded = Settings::load("");
        assert!((loaded.quality - 1.0).abs() < 1e-9);
        assert_eq!(loaded.max_width, 160);
        SessionStorage::delete(SETTINGS_KEY);
    }
}
