//! The page's side of a source on the worker path: the camera is opened here (only a page
//! may ask for it), a `MediaStreamTrackProcessor` is made for its track, and the
//! processor's `readable` goes to the filter worker (Chromium then delivers the frames in
//! the worker, not through the page). A file plays in a hidden `<video>` whose
//! `captureStream()` track is read the same way; the test pattern is painted in the
//! worker. The page never touches pixels.

use std::rc::Rc;

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{HtmlCanvasElement, MediaStream};
use yew::Callback;

use super::{host::Host, protocol::SourceSpec};
use crate::{
    error::SourceError,
    frame_loop::{StatsSnapshot, drivers::open_processor},
    glue::js_error_message,
    media::{
        camera,
        video::{HiddenVideo, LocalFile},
    },
    state::{SourceKind, SourceSettings},
};

/// A source running in the filter worker; dropping it stops it.
pub struct WorkerSource {
    host: Rc<Host>,
    session: u64,
    stream: Option<MediaStream>,
    _video: Option<HiddenVideo>,
}

impl Drop for WorkerSource {
    fn drop(&mut self) {
        self.host.stop_source(self.session);
        if let Some(stream) = &self.stream {
            camera::stop(stream);
        }
    }
}

fn other(err: &JsValue) -> SourceError {
    SourceError::Other(js_error_message(err))
}

/// Opens the source of `settings` (`file` for a file source) and starts it in the filter
/// worker, which draws on `preview`/`original`; returns it with its description.
pub async fn start(
    host: Rc<Host>,
    settings: &SourceSettings,
    file: Option<&LocalFile>,
    (preview, original): (&HtmlCanvasElement, &HtmlCanvasElement),
    on_stats: Callback<StatsSnapshot>,
    cancelled: &dyn Fn() -> bool,
) -> Result<(WorkerSource, String), SourceError> {
    host.adopt_canvases(preview, original)
        .map_err(|err| other(&err))?;
    match settings.kind {
        SourceKind::Camera => {
            let stream = camera::open(settings).await?;
            if cancelled() {
                camera::stop(&stream);
                return Err(SourceError::Other("cancelled".into()));
            }
            let Some(track) = camera::video_track(&stream) else {
                camera::stop(&stream);
                return Err(SourceError::NoCamera);
            };
            let description = camera::describe(&track);
            let readable = match open_processor(&track) {
                Ok(readable) => readable,
                Err(err) => {
                    camera::stop(&stream);
                    return Err(other(&err));
                }
            };
            let fps = camera::frame_rate(&track);
            let session = host.start_source(SourceSpec::Stream { fps }, Some(readable), on_stats);
            Ok((
                WorkerSource {
                    host,
                    session,
                    stream: Some(stream),
                    _video: None,
                },
                description,
            ))
        }
        SourceKind::Test => {
            let (width, height) = settings.resolution.size();
            let fps = settings.fps;
            let session =
                host.start_source(SourceSpec::Pattern { width, height, fps }, None, on_stats);
            let description = format!("{width}×{height} · {fps} fps");
            Ok((
                WorkerSource {
                    host,
                    session,
                    stream: None,
                    _video: None,
                },
                description,
            ))
        }
        SourceKind::File => {
            let file = file.ok_or(SourceError::NoFile)?;
            let video = HiddenVideo::for_url(file.url()).map_err(|err| other(&err))?;
            video
                .play()
                .await
                .map_err(|detail| SourceError::FileUnplayable { detail })?;
            let (width, height) = video.size();
            let description = format!("{} · {width}×{height}", file.name());
            let stream = capture_stream(&video).map_err(|err| other(&err))?;
            let track =
                camera::video_track(&stream).ok_or_else(|| SourceError::FileUnplayable {
                    detail: "the file has no video track".into(),
                })?;
            let readable = open_processor(&track).map_err(|err| other(&err))?;
            let session =
                host.start_source(SourceSpec::Stream { fps: None }, Some(readable), on_stats);
            Ok((
                WorkerSource {
                    host,
                    session,
                    stream: Some(stream),
                    _video: Some(video),
                },
                description,
            ))
        }
    }
}

/// `video.captureStream()`: the playing video as a live stream.
fn capture_stream(video: &HiddenVideo) -> Result<MediaStream, JsValue> {
    let element = video.element();
    let method = js_sys::Reflect::get(element, &"captureStream".into())?;
    let method: js_sys::Function = method
        .dyn_into()
        .map_err(|_| JsValue::from_str("this browser cannot capture a video's frames"))?;
    Ok(method.call0(element)?.unchecked_into())
}
