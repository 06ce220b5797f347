//! Frames off the main thread: capture, filters, preview drawing, JPEG encoding and the
//! publish WebSocket run in two dedicated workers running this crate's wasm (the
//! `lenscast_worker` binary, built by trunk as a worker). The page does UI only.
//!
//! - The **filter worker** ([`filter`]) reads the camera (a `MediaStreamTrackProcessor`'s
//!   `readable`, transferred from the page) or paints the test pattern, runs the pipeline
//!   and draws `#preview`/`#original` through `OffscreenCanvas`es the page transferred
//!   with `transferControlToOffscreen()`. It posts stats to the page twice a second.
//!   When the pipeline first gains a `segment-*` stage it starts the **model worker**
//!   ([`inference`]: its own wasm module, the `lenscast_model` binary, holding the `segment`
//!   crate and rten), nested in the filter worker, which fetches and loads the model;
//!   [`model`] relays each frame's downscaled input to it and its masks back. Neither the
//!   page nor the frame workers' wasm links the engine. The `model` stage ("your own
//!   model") gets a second instance of the model worker ([`own_inference`]) once the user
//!   picks a file; [`own_model`] sends it the `File` and each frame and draws its output.
//!   Both instances run a mask the same way ([`mask_io`]).
//! - The **sender worker** ([`sender`]) owns the broadcast's [`Publisher`]: flow control,
//!   the wasm JPEG encoder and the WebSocket. Frames come from the filter worker over a
//!   `MessageChannel`, newest only: the filter worker sends a frame only when the sender
//!   has said it is idle and wants frames (an open socket with viewers), so filtering frame
//!   N+1 overlaps with encoding frame N and nothing queues. Frames that the broadcast
//!   scales down travel as `ImageBitmap` snapshots of the preview (the browser scales them
//!   in the sender), others as transferred pixel buffers.
//! - The page side: [`host`] starts both workers once and routes messages, [`source`]
//!   opens a source for the filter worker, [`remote`] stands in for the publisher.
//!
//! The worker path needs `Worker`, `OffscreenCanvas`, `transferControlToOffscreen` and
//! `MediaStreamTrackProcessor`; without them, or with `?worker=0` in the page's address,
//! the main-thread loop ([`crate::frame_loop`]) runs as before. The choice is made once
//! per page load ([`init`]).
//!
//! [`Publisher`]: crate::broadcast::publisher::Publisher

pub mod entry;
pub mod filter;
pub mod host;
pub mod inference;
pub mod mask_io;
pub mod model;
pub mod own_inference;
pub mod own_model;
pub mod protocol;
pub mod remote;
pub mod scope;
pub mod sender;
pub mod source;

use std::cell::Cell;

use crate::glue::global_has;

thread_local! {
    static ENABLED: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Decides, from the page's address and the browser's features, whether frames flow in
/// workers. Call before the app renders (the app rewrites the query string).
pub fn init() {
    let query = web_sys::window()
        .and_then(|window| window.location().search().ok())
        .unwrap_or_default();
    ENABLED.with(|enabled| enabled.set(Some(!forced_off(&query) && supported())));
}

/// Whether frames flow in workers on this page.
pub fn enabled() -> bool {
    ENABLED.with(Cell::get).unwrap_or(false)
}

/// `worker=0` in the query forces the main-thread loop.
pub fn forced_off(query: &str) -> bool {
    query
        .trim_start_matches('?')
        .split('&')
        .any(|pair| pair == "worker=0")
}

/// Whether this browser has everything the worker path uses.
fn supported() -> bool {
    let canvas_transfer = js_sys::Reflect::get(&js_sys::global(), &"HTMLCanvasElement".into())
        .and_then(|class| js_sys::Reflect::get(&class, &"prototype".into()))
        .and_then(|proto| js_sys::Reflect::has(&proto, &"transferControlToOffscreen".into()))
        .unwrap_or(false);
    global_has("Worker")
        && global_has("OffscreenCanvas")
        && global_has("MediaStreamTrackProcessor")
        && canvas_transfer
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn worker_zero_forces_the_main_thread() {
        assert!(forced_off("?worker=0"));
        assert!(forced_off("?source=test&worker=0&start=1"));
        assert!(!forced_off("?worker=1"));
        assert!(!forced_off("?worker=00"));
        assert!(!forced_off(""));
    }
}
