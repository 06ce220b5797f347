//! The model worker: the inference engine's own wasm module (the `lenscast_model` binary),
//! started by the filter worker the first time its pipeline has a `segment-*` stage, so
//! neither the page nor the frame workers download or compile rten until then.
//!
//! It fetches the model it is told to, loads it with the `segment` crate, and answers each
//! `Infer` (a downscaled frame, already in the model's input layout) with a mask. All
//! resampling, refinement and compositing stays in the filter worker (`filters::matte`).

use std::{cell::RefCell, rc::Rc};

use filters::MaskStatus;
use wasm_bindgen::{JsCast, JsValue, prelude::Closure};
use wasm_bindgen_futures::JsFuture;
use web_sys::MessageEvent;

use super::{
    mask_io::{mask_buffer, segment_from},
    protocol::{FromModel, ToModel, envelope, field, open},
    scope::{post, scope},
};

#[derive(Default)]
struct State {
    model: Option<segment::MaskModel>,
    /// Reused between calls: the input as f32, and the mask.
    input: Vec<f32>,
    mask: Vec<f32>,
    /// A load was asked for already (a second `Load` is ignored).
    loading: bool,
}

/// Runs in the model worker: installs the message handler.
pub fn run() {
    let state = Rc::new(RefCell::new(State::default()));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        handle(&state, &event.data());
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The worker lives as long as the filter worker: its handler is never freed.
    on_message.forget();
    reply(&FromModel::Ready, &[]);
}

fn handle(state: &Rc<RefCell<State>>, data: &JsValue) {
    // An instance started for the user's own model gets only its messages.
    if super::own_inference::handle(data) {
        return;
    }
    match open::<ToModel>(data) {
        Some(ToModel::Load { url }) => {
            if std::mem::replace(&mut state.borrow_mut().loading, true) {
                return;
            }
            let state = Rc::clone(state);
            wasm_bindgen_futures::spawn_local(async move {
                match load(&url).await {
                    Ok(model) => {
                        let (width, height) = model.input_size();
                        state.borrow_mut().model = Some(model);
                        reply(&FromModel::Loaded { width, height }, &[]);
                    }
                    Err(reason) => reply(&FromModel::Failed { reason }, &[]),
                }
            });
        }
        Some(ToModel::Infer { id }) => infer(&mut state.borrow_mut(), id, data),
        None => {}
    }
}

fn infer(state: &mut State, id: u64, data: &JsValue) {
    let State {
        model, input, mask, ..
    } = state;
    let Some(model) = model.as_mut() else {
        return reply(
            &FromModel::Failed {
                reason: "the model worker got a frame before its model".to_owned(),
            },
            &[],
        );
    };
    let Some(input_buffer) =
        field(data, "input").map(JsCast::unchecked_into::<js_sys::ArrayBuffer>)
    else {
        return;
    };
    let (status, ms) = segment_from(model, &input_buffer, input, mask);
    if let MaskStatus::Failed(reason) = status {
        return reply(&FromModel::Failed { reason }, &[]);
    }
    let mask_buffer = mask_buffer(data, mask);
    reply(
        &FromModel::Mask { id, ms },
        &[("mask", mask_buffer.into()), ("input", input_buffer.into())],
    );
}

/// Posts `message` to the filter worker, transferring the fields' buffers.
fn reply(message: &FromModel, extra: &[(&str, JsValue)]) {
    let transfer: js_sys::Array = extra.iter().map(|(_, value)| value.clone()).collect();
    post(&envelope(message, extra), &transfer);
}

/// Fetches and loads the model; the error says what went wrong, for the user.
async fn load(url: &str) -> Result<segment::MaskModel, String> {
    let bytes = fetch(url)
        .await
        .map_err(|err| format!("the segmentation model could not be fetched from {url}: {err}"))?;
    segment::MaskModel::load(bytes, segment::PixelRange::Unit)
        .map_err(|err| format!("the segmentation model at {url} cannot be used: {err}"))
}

async fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let js = |err: JsValue| crate::glue::js_error_message(&err);
    let response: web_sys::Response = JsFuture::from(scope().fetch_with_str(url))
        .await
        .map_err(js)?
        .unchecked_into();
    if !response.ok() {
        return Err(format!(
            "HTTP {} (run `cargo xtask setup` to make the model)",
            response.status()
        ));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(js)?)
        .await
        .map_err(js)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}
