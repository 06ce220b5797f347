//! Bindings for the few browser APIs the frame loop needs that `web-sys` only exposes behind
//! `web_sys_unstable_apis` (`WebCodecs` `VideoFrame`, `MediaStreamTrackProcessor`) or not at
//! all (`requestVideoFrameCallback`). Declaring them here keeps the build free of cfg flags.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// A `WebCodecs` `VideoFrame`. Every frame read from a processor must be `close()`d, or the
    /// camera runs out of buffers and stalls.
    #[derive(Clone, Debug)]
    #[wasm_bindgen(extends = js_sys::Object)]
    pub type VideoFrame;

    /// `new VideoFrame(image, init)`: a frame from a canvas, image or video element.
    #[wasm_bindgen(constructor, catch, js_class = "VideoFrame")]
    pub fn new_from_image(image: &JsValue, init: &js_sys::Object) -> Result<VideoFrame, JsValue>;

    #[wasm_bindgen(method, getter, js_name = displayWidth)]
    pub fn display_width(this: &VideoFrame) -> u32;

    #[wasm_bindgen(method, getter, js_name = displayHeight)]
    pub fn display_height(this: &VideoFrame) -> u32;

    /// The visible rectangle (`DOMRectReadOnly`), `null` once closed.
    #[wasm_bindgen(method, getter, js_name = visibleRect)]
    pub fn visible_rect(this: &VideoFrame) -> JsValue;

    /// The pixel format (`I420`, `NV12`, `RGBA`…), `null` once closed.
    #[wasm_bindgen(method, getter)]
    pub fn format(this: &VideoFrame) -> JsValue;

    /// `{matrix, fullRange, …}` (`VideoColorSpace`).
    #[wasm_bindgen(method, getter, js_name = colorSpace)]
    pub fn color_space(this: &VideoFrame) -> JsValue;

    /// Presentation timestamp in microseconds.
    #[wasm_bindgen(method, getter)]
    pub fn timestamp(this: &VideoFrame) -> f64;

    /// `copyTo(destination, options)`: resolves once `destination` holds the pixels.
    #[wasm_bindgen(method, catch, js_name = copyTo)]
    pub fn copy_to(
        this: &VideoFrame,
        destination: &js_sys::Uint8Array,
        options: &js_sys::Object,
    ) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = allocationSize)]
    pub fn allocation_size(this: &VideoFrame, options: &js_sys::Object) -> Result<f64, JsValue>;

    #[wasm_bindgen(method)]
    pub fn close(this: &VideoFrame);

    /// `MediaStreamTrackProcessor`: turns a video track into a stream of `VideoFrame`s.
    #[derive(Clone, Debug)]
    #[wasm_bindgen(extends = js_sys::Object, js_name = MediaStreamTrackProcessor)]
    pub type TrackProcessor;

    #[wasm_bindgen(constructor, catch, js_class = "MediaStreamTrackProcessor")]
    pub fn new(init: &js_sys::Object) -> Result<TrackProcessor, JsValue>;

    #[wasm_bindgen(method, getter, js_class = "MediaStreamTrackProcessor")]
    pub fn readable(this: &TrackProcessor) -> web_sys::ReadableStream;

    /// `HTMLVideoElement` with the frame callback methods (cast with `unchecked_ref`).
    #[wasm_bindgen(extends = web_sys::HtmlVideoElement, js_name = HTMLVideoElement)]
    pub type VideoElementExt;

    /// `video.requestVideoFrameCallback(callback)`: `callback(now, metadata)` runs once, for
    /// the next frame the video presents.
    #[wasm_bindgen(method, js_name = requestVideoFrameCallback)]
    pub fn request_video_frame_callback(this: &VideoElementExt, callback: &js_sys::Function)
    -> u32;

    #[wasm_bindgen(method, js_name = cancelVideoFrameCallback)]
    pub fn cancel_video_frame_callback(this: &VideoElementExt, handle: u32);

    /// `CanvasRenderingContext2D` that can draw a `VideoFrame`.
    #[wasm_bindgen(extends = web_sys::CanvasRenderingContext2d, js_name = CanvasRenderingContext2D)]
    pub type Canvas2dExt;

    /// `ctx.drawImage(videoFrame, dx, dy)`.
    #[wasm_bindgen(method, catch, js_name = drawImage)]
    pub fn draw_video_frame(
        this: &Canvas2dExt,
        frame: &VideoFrame,
        dx: f64,
        dy: f64,
    ) -> Result<(), JsValue>;
}

/// Whether this browser has `MediaStreamTrackProcessor` on the main thread.
pub fn has_track_processor() -> bool {
    super::global_has("MediaStreamTrackProcessor")
}

/// Whether video elements have `requestVideoFrameCallback`.
pub fn has_video_frame_callback() -> bool {
    super::global_has("HTMLVideoElement")
        && js_sys::Reflect::get(&js_sys::global(), &"HTMLVideoElement".into())
            .and_then(|class| js_sys::Reflect::get(&class, &"prototype".into()))
            .and_then(|proto| js_sys::Reflect::has(&proto, &"requestVideoFrameCallback".into()))
            .unwrap_or(false)
}
