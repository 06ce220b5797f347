//! Broadcasting: processed frames → JPEG → one WebSocket to the server → viewers.
//!
//! - [`room`]: `POST /api/rooms`, the room kept in sessionStorage, absolute URLs.
//! - [`publisher`]: the live session: socket with reconnects ([`backoff`]), per-frame
//!   [`flow`] control, the encoders, and the status the panel shows.
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EncoderKind {
    /// `OffscreenCanvas.convertToBlob`: asynchronous, almost no main-thread time, but in
    /// headless Chromium without a GPU a 720p frame takes ~50 ms to come back, which
    /// caps the broadcast near 15 fps.
    Native,
    /// `jpeg-encoder` compiled to wasm, run in its own task right after the frame is
    /// drawn: costs main-thread time, but keeps up with 30 fps at 720p. The default.
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

/// The user's broadcast settings; changes apply from the next frame.
#[derive(Clone, Debug, PartialEq)]
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

impl Settings {
    /// Defaults, with the page query's `encoder=native|wasm`, `stamp=1`, `quality=0..1`,
    /// `maxfps=1..60` and `maxwidth=160..3840` applied (out-of-range values are ignored).
    pub fn from_query(query: &str) -> Self {
        let mut settings = Self::default();
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
}
