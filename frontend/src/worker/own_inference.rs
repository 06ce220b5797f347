//! The user's own model in the model worker (the `lenscast_model` binary): the filter
//! worker starts an instance of that worker for it, sends the picked `File` (read here, so
//! its bytes cross no thread) and then frames or segmentation inputs. The model runs as a
//! [`segment::ModelStage`]: as the `model` stage's runner on whole frames, or as the
//! segmenter of `segment-blur`/`segment-replace` (`model:segment=1`).

use std::cell::RefCell;

use filters::{Frame, MaskStatus, ModelRunner, ModelSettings, Segmenter};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{
    mask_io::{mask_buffer, segment_from},
    protocol::{FromOwnModel, ToOwnModel, envelope, field, open},
    scope::post,
};
use crate::glue::now_ms;

#[derive(Default)]
struct Own {
    stage: Option<segment::ModelStage>,
    /// The last file asked for (the filter worker's count): a slower load of an older
    /// file must not replace it.
    generation: u64,
    pixels: Vec<u8>,
    input: Vec<f32>,
    mask: Vec<f32>,
}

thread_local! {
    static OWN: RefCell<Own> = RefCell::default();
}

/// Handles `data` if it is a message about the user's own model; returns whether it was.
pub fn handle(data: &JsValue) -> bool {
    let Some(message) = open::<ToOwnModel>(data) else {
        return false;
    };
    match message {
        ToOwnModel::Load { name, generation } => {
            let file = field(data, "file");
            OWN.with_borrow_mut(|own| {
                own.generation = generation;
                own.stage = None;
            });
            wasm_bindgen_futures::spawn_local(async move {
                let loaded = load(&name, file).await;
                if OWN.with_borrow(|own| own.generation) != generation {
                    return;
                }
                let reply = match loaded {
                    Ok(stage) => {
                        let mask_size = Segmenter::input_size(&stage);
                        OWN.with_borrow_mut(|own| own.stage = Some(stage));
                        FromOwnModel::Loaded {
                            generation,
                            mask_size,
                        }
                    }
                    Err(reason) => FromOwnModel::Failed { generation, reason },
                };
                reply_with(&reply, &[]);
            });
        }
        ToOwnModel::Run {
            id,
            width,
            height,
            byte_range,
            mask_as_segmentation,
        } => {
            let settings = ModelSettings {
                byte_range,
                mask_as_segmentation,
            };
            OWN.with_borrow_mut(|own| run(own, data, id, (width, height), settings));
        }
        ToOwnModel::Segment { id, byte_range } => {
            OWN.with_borrow_mut(|own| segment_input(own, data, id, byte_range));
        }
    }
    true
}

/// Reads `file` (a `File`) and loads it; the error is what the card shows.
async fn load(name: &str, file: Option<JsValue>) -> Result<segment::ModelStage, String> {
    let blob: web_sys::Blob = file
        .ok_or_else(|| "no file came with the model".to_owned())?
        .unchecked_into();
    // Checked before reading (the page checks too): a huge file is never read whole.
    let size = blob.size();
    if size > segment::model::MAX_MODEL_BYTES as f64 {
        return Err(segment::ModelError::TooLarge {
            bytes: size as usize,
        }
        .to_string());
    }
    let buffer = JsFuture::from(blob.array_buffer()).await.map_err(|err| {
        format!(
            "{name} could not be read: {}",
            crate::glue::js_error_message(&err)
        )
    })?;
    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
    segment::ModelStage::load(name, bytes, segment::PixelRange::Unit).map_err(|err| err.to_string())
}

fn run(
    own: &mut Own,
    data: &JsValue,
    id: u64,
    (width, height): (u32, u32),
    settings: ModelSettings,
) {
    let Some(buffer) = field(data, "pixels").map(JsCast::unchecked_into::<js_sys::ArrayBuffer>)
    else {
        return;
    };
    let Own { stage, pixels, .. } = own;
    let view = js_sys::Uint8Array::new(&buffer);
    pixels.resize(view.length() as usize, 0);
    view.copy_to(pixels);
    let start = now_ms();
    let error = match (stage.as_mut(), Frame::new(pixels, width, height)) {
        (Some(stage), Ok(mut frame)) => {
            stage.run(&mut frame, settings);
            stage.error().map(str::to_owned)
        }
        (None, _) => Some("the model worker got a frame before its model".to_owned()),
        (_, Err(err)) => Some(err.to_string()),
    };
    let ms = now_ms() - start;
    if error.is_none() {
        view.copy_from(pixels);
    }
    reply_with(
        &FromOwnModel::Frame {
            id,
            ms,
            changed: error.is_none(),
            error,
        },
        &[("pixels", buffer.into())],
    );
}

fn segment_input(own: &mut Own, data: &JsValue, id: u64, byte_range: bool) {
    let Some(input_buffer) =
        field(data, "input").map(JsCast::unchecked_into::<js_sys::ArrayBuffer>)
    else {
        return;
    };
    let Own {
        stage, input, mask, ..
    } = own;
    let Some(stage) = stage.as_mut() else {
        let error = Some("the model worker got a frame before its model".to_owned());
        return reply_with(&FromOwnModel::Mask { id, ms: 0.0, error }, &[]);
    };
    stage.set_range(if byte_range {
        segment::PixelRange::Byte
    } else {
        segment::PixelRange::Unit
    });
    let (status, ms) = segment_from(stage, &input_buffer, input, mask);
    if let MaskStatus::Failed(reason) = status {
        return reply_with(
            &FromOwnModel::Mask {
                id,
                ms,
                error: Some(reason),
            },
            &[("input", input_buffer.into())],
        );
    }
    let mask_buffer = mask_buffer(data, mask);
    reply_with(
        &FromOwnModel::Mask {
            id,
            ms,
            error: None,
        },
        &[("mask", mask_buffer.into()), ("input", input_buffer.into())],
    );
}

/// Posts `message` to the filter worker, transferring the fields' buffers.
fn reply_with(message: &FromOwnModel, extra: &[(&str, JsValue)]) {
    let transfer: js_sys::Array = extra.iter().map(|(_, value)| value.clone()).collect();
    post(&envelope(message, extra), &transfer);
}
