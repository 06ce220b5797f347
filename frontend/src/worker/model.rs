//! The segmentation model in the filter worker: fetched from lenscast's own server the
//! first time the pipeline has a `segment-*` stage, loaded with the `segment` crate (rten)
//! and handed to the pipeline. Only the filter worker reaches this module, so the page's
//! wasm does not link the inference engine.

use std::{cell::RefCell, rc::Rc};

use filters::Segmenter;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::frame_loop::{SegmenterSource, Unavailable};

/// Same origin, served by the server from `static/models/` (`cargo xtask setup` makes it).
const MODEL_URL: &str = "/static/models/selfie_segmentation_landscape.onnx";

enum Load {
    Idle,
    Fetching,
    Done(Box<dyn Segmenter>),
    Taken,
}

/// Loads the selfie model on the first poll; later polls return it once it is there.
pub struct ModelLoader {
    state: Rc<RefCell<Load>>,
}

impl Default for ModelLoader {
    fn default() -> Self {
        Self {
            state: Rc::new(RefCell::new(Load::Idle)),
        }
    }
}

impl SegmenterSource for ModelLoader {
    fn poll(&self) -> Option<Box<dyn Segmenter>> {
        let mut state = self.state.borrow_mut();
        match std::mem::replace(&mut *state, Load::Taken) {
            Load::Idle => {
                *state = Load::Fetching;
                let slot = Rc::clone(&self.state);
                wasm_bindgen_futures::spawn_local(async move {
                    let segmenter: Box<dyn Segmenter> = match load().await {
                        Ok(model) => Box::new(model),
                        Err(reason) => {
                            gloo::console::error!(format!("lenscast: {reason}"));
                            Box::new(Unavailable(reason))
                        }
                    };
                    *slot.borrow_mut() = Load::Done(segmenter);
                });
                None
            }
            Load::Fetching => {
                *state = Load::Fetching;
                None
            }
            Load::Done(segmenter) => Some(segmenter),
            Load::Taken => None,
        }
    }
}

/// Fetches and loads the model; the error says what went wrong, for the user.
async fn load() -> Result<segment::MaskModel, String> {
    let bytes = fetch(MODEL_URL).await.map_err(|err| {
        format!("the segmentation model could not be fetched from {MODEL_URL}: {err}")
    })?;
    segment::MaskModel::load(bytes, segment::PixelRange::Unit)
        .map_err(|err| format!("the segmentation model at {MODEL_URL} cannot be used: {err}"))
}

async fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let js = |err: JsValue| crate::glue::js_error_message(&err);
    let response: web_sys::Response = JsFuture::from(super::scope::scope().fetch_with_str(url))
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
