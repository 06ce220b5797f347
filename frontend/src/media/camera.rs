//! Opening and listing cameras.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{MediaDeviceInfo, MediaDeviceKind, MediaDevices, MediaStream, MediaStreamTrack};

use crate::{
    error::SourceError,
    glue::object,
    state::{Facing, SourceSettings},
};

/// One camera as the picker shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CameraInfo {
    pub device_id: String,
    pub label: String,
}

/// `navigator.mediaDevices`, or why there is none (it is missing outside secure contexts).
pub fn media_devices() -> Result<MediaDevices, SourceError> {
    let window = web_sys::window().ok_or(SourceError::Unsupported {
        feature: "a window",
    })?;
    let navigator = window.navigator();
    let devices = js_sys::Reflect::get(&navigator, &"mediaDevices".into()).unwrap_or_default();
    if devices.is_undefined() || devices.is_null() {
        return Err(if window.is_secure_context() {
            SourceError::Unsupported {
                feature: "camera access (navigator.mediaDevices)",
            }
        } else {
            SourceError::InsecureContext
        });
    }
    Ok(devices.unchecked_into())
}

/// Asks for the camera described by `settings` (video only).
pub async fn open(settings: &SourceSettings) -> Result<MediaStream, SourceError> {
    let devices = media_devices()?;
    let (width, height) = settings.resolution.size();
    let mut video = vec![
        ("width", object(&[("ideal", width.into())]).into()),
        ("height", object(&[("ideal", height.into())]).into()),
        (
            "frameRate",
            object(&[("ideal", settings.fps.into())]).into(),
        ),
    ];
    if let Some(device_id) = &settings.device_id {
        video.push(("deviceId", object(&[("exact", device_id.into())]).into()));
    } else if settings.facing != Facing::Any {
        video.push((
            "facingMode",
            object(&[("ideal", settings.facing.as_str().into())]).into(),
        ));
    }
    let constraints = object(&[("video", object(&video).into()), ("audio", false.into())]);
    let requested = format!("{} at {} fps", settings.resolution.label(), settings.fps);
    let promise = devices
        .get_user_media_with_constraints(constraints.unchecked_ref())
        .map_err(|err| SourceError::from_get_user_media(&err, requested.clone()))?;
    let stream = JsFuture::from(promise)
        .await
        .map_err(|err| SourceError::from_get_user_media(&err, requested))?;
    Ok(stream.unchecked_into())
}

/// The stream's first video track.
pub fn video_track(stream: &MediaStream) -> Option<MediaStreamTrack> {
    stream
        .get_video_tracks()
        .get(0)
        .dyn_into::<MediaStreamTrack>()
        .ok()
}

/// Stops every track of `stream` (turns the camera light off).
pub fn stop(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            track.stop();
        }
    }
}

/// The cameras the browser reports. Labels are empty until the user has allowed access once;
/// those get numbered names.
pub async fn list() -> Vec<CameraInfo> {
    let Ok(devices) = media_devices() else {
        return Vec::new();
    };
    let Ok(promise) = devices.enumerate_devices() else {
        return Vec::new();
    };
    let Ok(list) = JsFuture::from(promise).await else {
        return Vec::new();
    };
    let list: js_sys::Array = list.unchecked_into();
    list.iter()
        .filter_map(|device| device.dyn_into::<MediaDeviceInfo>().ok())
        .filter(|device| device.kind() == MediaDeviceKind::Videoinput)
        .filter(|device| !device.device_id().is_empty())
        .enumerate()
        .map(|(i, device)| CameraInfo {
            device_id: device.device_id(),
            label: if device.label().is_empty() {
                format!("Camera {}", i + 1)
            } else {
                device.label()
            },
        })
        .collect()
}

/// The frame rate the track says it delivers, if it says.
pub fn frame_rate(track: &MediaStreamTrack) -> Option<f64> {
    let settings: JsValue = track.get_settings().into();
    crate::glue::get_f64(&settings, "frameRate").filter(|fps| fps.is_finite() && *fps > 0.0)
}

/// What the track actually delivers, e.g. `1280×720 · 30 fps`.
pub fn describe(track: &MediaStreamTrack) -> String {
    let settings: JsValue = track.get_settings().into();
    let width = crate::glue::get_f64(&settings, "width").unwrap_or_default();
    let height = crate::glue::get_f64(&settings, "height").unwrap_or_default();
    let fps = crate::glue::get_f64(&settings, "frameRate").unwrap_or_default();
    format!("{width:.0}×{height:.0} · {fps:.0} fps")
}
