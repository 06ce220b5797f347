//! Messages between the page and the two frame workers, and between the workers.
//!
//! Each message is a plain JS object: `m` holds the message as JSON (the serde types
//! below), and transferable objects (canvases, the frame stream, ports, pixel buffers)
//! ride beside it under the names given with each variant, in the transfer list.

use filters::PipelineSpec;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use wasm_bindgen::JsValue;

use crate::{
    broadcast::{Settings, publisher::Status, room::Room},
    frame_loop::StatsSnapshot,
    glue::object,
};

/// Which job a worker does; the page says so in the first message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Capture, filters, preview drawing, stats.
    Filter,
    /// JPEG encoding and the publish WebSocket.
    Sender,
}

/// Where the filter worker's frames come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SourceSpec {
    /// A `MediaStreamTrackProcessor`'s `readable` (transferred as `readable`); `fps` is
    /// what the track says it delivers.
    Stream { fps: Option<f64> },
    /// The synthetic test pattern, painted in the worker.
    Pattern { width: u32, height: u32, fps: u32 },
}

/// Page → filter worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToFilter {
    /// The first message. Transfers `port`: the channel to the sender worker.
    Hello { role: Role },
    /// Transfers `preview` and/or `original`: the page's canvases, as `OffscreenCanvas`es.
    Canvases,
    /// The pipeline and compare mode; applied from the next frame.
    Controls { spec: PipelineSpec, compare: bool },
    /// Starts `source` as session `session`, replacing any running one.
    Start { session: u64, source: SourceSpec },
    /// Stops session `session` (if it still runs).
    Stop { session: u64 },
    /// The picture `segment-replace` puts behind the person: `size` of the RGBA `pixels`
    /// (transferred), or `None` to go back to the colour.
    Backdrop { size: Option<(u32, u32)> },
    /// The user picked `name` as the `model` stage's model. Carries `file`: the `File`
    /// itself (a handle: its bytes are read once, in the model worker).
    OwnModel { name: String },
}

/// Filter worker → page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromFilter {
    /// The worker's wasm runs and listens: messages queued so far can go.
    Ready,
    /// Twice a second while a session runs (boxed: the other variant is empty).
    Stats {
        session: u64,
        stats: Box<StatsSnapshot>,
    },
}

/// Page → sender worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToSender {
    /// The first message. Transfers `port`: the channel to the filter worker.
    Hello {
        role: Role,
    },
    /// Starts publishing to `room` (connects at once), replacing any running broadcast.
    Start {
        room: Room,
        origin: String,
        settings: Settings,
    },
    /// New settings, applied from the next frame.
    Settings {
        settings: Settings,
    },
    Stop,
}

/// Sender worker → page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromSender {
    Ready,
    Status {
        status: Status,
    },
    /// The server no longer knows the room.
    RoomLost,
}

/// Filter worker → sender worker. Transfers `bitmap`, an `ImageBitmap` of the frame (a
/// snapshot of the preview canvas), or where none could be made `pixels`, an `ArrayBuffer`
/// of RGBA8.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameMeta {
    pub width: u32,
    pub height: u32,
    pub captured_at_ms: f64,
    pub frame_number: u64,
}

/// Sender worker → filter worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToFilterFromSender {
    /// Whether frames are wanted at all (open socket with viewers); while not, the filter
    /// worker sends none, so a paused broadcast costs no copies.
    Gate { wanted: bool, bitmap_above: u32 },
    /// The last frame is done with (encoded and sent, or skipped): the next may come.
    /// Transfers `pixels` back (the buffer to reuse) when there is one.
    ///
    /// Both carry `bitmap_above`: frames wider than this (the broadcast's `max_width`:
    /// frames the sender scales down) come as `ImageBitmap`s, narrower ones as pixel
    /// buffers. Measured (BENCHMARKS.md, issue 12): a snapshot lets the browser scale
    /// 1080p for a fraction of the sender's time, but costs the filter worker a little
    /// more than a copy, and at the broadcast size a copy is cheaper for both.
    Ready { bitmap_above: u32 },
}

/// Filter worker → model worker (the engine module, started by the filter worker the first
/// time the pipeline has a `segment-*` stage).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToModel {
    /// Fetch the model at `url` (same origin) and load it.
    Load { url: String },
    /// Run the model once. Transfers `input`: an `ArrayBuffer` of `height × width × 3` f32,
    /// RGB in [0, 1] (the size `Loaded` gave), and `mask`: a buffer to write the mask into
    /// (`height × width` f32), or none the first time.
    Infer { id: u64 },
}

/// Model worker → filter worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromModel {
    /// The engine module runs and listens: `Load` may go.
    Ready,
    /// The model is loaded; its input is `width × height`.
    Loaded { width: u32, height: u32 },
    /// The mask for `Infer { id }`, made in `ms`. Transfers `mask` and gives `input` back.
    Mask { id: u64, ms: f64 },
    /// The model cannot be fetched, loaded or run; said to the user as is.
    Failed { reason: String },
}

/// Filter worker → model worker, about the user's own model (its own instance of the model
/// worker, so it runs beside the segmentation model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToOwnModel {
    /// Load `file` (a `File`, read there), replacing any model loaded before.
    Load { name: String, generation: u64 },
    /// Run the model on `pixels` (RGBA8, transferred) with `settings`; the answer is
    /// [`FromOwnModel::Frame`] with the buffer back.
    Run {
        id: u64,
        width: u32,
        height: u32,
        byte_range: bool,
        mask_as_segmentation: bool,
    },
    /// The model as a segmenter: `input` (f32 RGB in [0, 1], NHWC at the loaded
    /// `mask_size`, transferred); the answer is [`FromOwnModel::Mask`].
    Segment { id: u64, byte_range: bool },
}

/// Model worker → filter worker, about the user's own model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromOwnModel {
    /// Loaded `generation`: as a segmenter its input is `mask_size` (width, height).
    Loaded {
        generation: u64,
        mask_size: (u32, u32),
    },
    /// `generation` cannot be used (too large, not ONNX, unsupported operator, input shape).
    Failed { generation: u64, reason: String },
    /// Run `id` took `ms`; `pixels` is back (transferred), changed if `changed` (a mask used
    /// for segmentation leaves the frame as it was). `error`: the run failed.
    Frame {
        id: u64,
        ms: f64,
        changed: bool,
        error: Option<String>,
    },
    /// Segmentation `id` took `ms`; `mask` (f32, transferred) holds the mask unless `error`;
    /// `input` comes back for reuse.
    Mask {
        id: u64,
        ms: f64,
        error: Option<String>,
    },
}

/// A message object: `m` = `message` as JSON, plus `extra` fields (transferables).
pub fn envelope<T: Serialize>(message: &T, extra: &[(&str, JsValue)]) -> js_sys::Object {
    let json = serde_json::to_string(message).unwrap_or_default();
    let envelope = object(extra);
    let _ = js_sys::Reflect::set(&envelope, &"m".into(), &JsValue::from_str(&json));
    envelope
}

/// The message in `data` (a `MessageEvent`'s data), if it is one of type `T`.
pub fn open<T: DeserializeOwned>(data: &JsValue) -> Option<T> {
    let json = js_sys::Reflect::get(data, &"m".into()).ok()?.as_string()?;
    serde_json::from_str(&json).ok()
}

/// Field `name` of a message object (a transferred object), if present.
pub fn field(data: &JsValue, name: &str) -> Option<JsValue> {
    js_sys::Reflect::get(data, &JsValue::from_str(name))
        .ok()
        .filter(|value| !value.is_undefined() && !value.is_null())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn messages_round_trip() {
        let spec: PipelineSpec = "grayscale|blur:r=2".parse().expect("valid pipeline");
        let message = ToFilter::Controls {
            spec,
            compare: true,
        };
        let data: JsValue = envelope(&message, &[("x", JsValue::from(1))]).into();
        assert_eq!(open::<ToFilter>(&data), Some(message));
        assert_eq!(field(&data, "x").and_then(|x| x.as_f64()), Some(1.0));
        assert_eq!(field(&data, "y"), None);
        assert_eq!(open::<ToFilter>(&JsValue::from_str("junk")), None);
    }
}
