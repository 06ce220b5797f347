//! lenscast's browser app (Yew, wasm32): capture, filter in wasm, preview, record, broadcast.
//!
//! Data flow: a source ([`media`]: camera, test pattern, file) feeds the [`frame_loop`],
//! driven by the [`hooks::use_frame_loop`] hook; each newest frame is copied into one reused
//! wasm buffer ([`glue`]), filtered in place by the `filters` crate, drawn on `#preview`
//! and handed to the [`frame_tap`], where the [`broadcast`] encoder picks it up.
//!
//! Modules:
//! - [`app`]: the page; reads and writes the URL state.
//! - [`components`]: one component per file (source panel, pipeline editor, filter card,
//!   preview with capture toolbar, stats overlay, banners, broadcast panel with its share
//!   link and settings).
//! - [`hooks`]: the frame loop, the camera list and the broadcast, with their browser
//!   resources released in effect destructors.
//! - [`state`]: plain state: source settings, the pipeline editor model, the URL form.
//! - [`frame_loop`]: the engine (buffer, pipeline, canvases, stats) and the source drivers.
//! - [`broadcast`]: rooms, the publish socket, flow control and the JPEG encoders.
//! - [`glue`]: bindings web-sys lacks, and every copy of pixels in and out of wasm memory.
//! - [`media`]: camera access, the test pattern, hidden video, snapshots and recordings.
//! - [`error`]: what went wrong, in words a person can act on.
//! - [`worker`]: the same frame path in two Web Workers (filter; encode and send), the
//!   default where the browser allows; the page then does UI only.

pub mod app;
pub mod broadcast;
pub mod components;
pub mod error;
pub mod frame_loop;
pub mod frame_tap;
pub mod glue;
pub mod hooks;
pub mod media;
pub mod state;
pub mod worker;

/// Mounts the app on `<body>`.
pub fn run() {
    // Before the first render: the app rewrites the query string that may say `worker=0`.
    worker::init();
    yew::Renderer::<app::App>::new().render();
}
