//! Recording the preview canvas to `WebM` with `MediaRecorder`. When the recording stops,
//! the file is made seekable ([`super::webm`]: Duration, Cues, sizes) before it is offered
//! as a download.

use std::{cell::RefCell, rc::Rc};

use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{
    Blob, BlobEvent, BlobPropertyBag, HtmlCanvasElement, MediaRecorder, MediaRecorderOptions,
    MediaStream, RecordingState,
};

use super::download;
use crate::glue::js_error_message;

/// Container and codecs tried in order.
const MIME_TYPES: [&str; 3] = [
    "video/webm;codecs=vp9",
    "video/webm;codecs=vp8",
    "video/webm",
];

/// A running recording. Stopping (or dropping) it ends the recording; the file is offered
/// as a download once the recorder has flushed its last chunk.
pub struct Recording {
    recorder: MediaRecorder,
    stream: MediaStream,
}

fn webm_blob(parts: &js_sys::Array) -> Result<Blob, JsValue> {
    let bag = BlobPropertyBag::new();
    bag.set_type("video/webm");
    Blob::new_with_blob_sequence_and_options(parts, &bag)
}

/// The recording with Duration and Cues written in; `None` (keep the original) if the
/// browser's bytes are not a `WebM` the patcher understands.
async fn seekable(blob: &Blob) -> Option<Blob> {
    let buffer = wasm_bindgen_futures::JsFuture::from(blob.array_buffer())
        .await
        .ok()?;
    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
    let (patched, _) = super::webm::make_seekable(&bytes)?;
    let array = js_sys::Uint8Array::from(patched.as_slice());
    webm_blob(&js_sys::Array::of1(&array)).ok()
}

/// Whether this browser can record a canvas to `WebM`.
pub fn supported() -> bool {
    crate::glue::global_has("MediaRecorder")
        && MIME_TYPES
            .iter()
            .any(|t| MediaRecorder::is_type_supported(t))
}

impl Recording {
    /// Starts recording `canvas` at up to `fps` frames per second.
    pub fn start(canvas: &HtmlCanvasElement, fps: u32) -> Result<Self, String> {
        let mime = MIME_TYPES
            .into_iter()
            .find(|t| MediaRecorder::is_type_supported(t))
            .ok_or("this browser cannot record WebM video")?;
        let stream = canvas
            .capture_stream_with_frame_request_rate(f64::from(fps))
            .map_err(|err| js_error_message(&err))?;
        let options = MediaRecorderOptions::new();
        options.set_mime_type(mime);
        options.set_video_bits_per_second(8_000_000);
        let recorder =
            MediaRecorder::new_with_media_stream_and_media_recorder_options(&stream, &options)
                .map_err(|err| js_error_message(&err))?;

        let chunks: Rc<RefCell<Vec<Blob>>> = Rc::default();
        let on_data = {
            let chunks = Rc::clone(&chunks);
            Closure::<dyn FnMut(BlobEvent)>::new(move |event: BlobEvent| {
                if let Some(blob) = event.data().filter(|blob| blob.size() > 0.0) {
                    chunks.borrow_mut().push(blob);
                }
            })
        };
        recorder.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));
        // A one-shot closure frees itself after `stop` fired; it also owns (and then frees)
        // the data handler, which the recorder calls for the last time just before `stop`.
        let on_stop = Closure::once_into_js(move || {
            let parts: js_sys::Array = chunks.borrow_mut().drain(..).map(JsValue::from).collect();
            let name = download::timestamped("webm");
            if let Ok(blob) = webm_blob(&parts) {
                wasm_bindgen_futures::spawn_local(async move {
                    let blob = seekable(&blob).await.unwrap_or(blob);
                    let _ = download::save_blob(&blob, &name);
                });
            }
            drop(on_data);
        });
        recorder.set_onstop(Some(on_stop.unchecked_ref()));
        // One chunk per second keeps memory flat-ish and loses little if the tab dies.
        recorder
            .start_with_time_slice(1000)
            .map_err(|err| js_error_message(&err))?;
        Ok(Self { recorder, stream })
    }

    /// Ends the recording; the download follows when the recorder fires `stop`.
    pub fn stop(&self) {
        if self.recorder.state() != RecordingState::Inactive {
            let _ = self.recorder.stop();
        }
        crate::media::camera::stop(&self.stream);
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.stop();
    }
}
