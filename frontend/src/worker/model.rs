//! The segmentation model in the filter worker: fetched from lenscast's own server the
//! first time the pipeline has a `segment-*` stage, loaded with the `segment` crate (rten)
//! and handed to the pipeline. Only the filter worker reaches this module, so the page's
//! wasm does not link the inference engine.
//!
//! The model runs on every second frame ([`EveryOther`]): at 720p on a 2-core machine
//! inference on every frame held about 25 fps (BENCHMARKS.md); the frame in between reuses
//! the last mask, refined against its own pixels, so the mask lags by one frame at most.

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
                        Ok(model) => Box::new(EveryOther::new(model)),
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

/// Runs `inner` on every second call; the calls between answer with the mask as it is
/// (the previous frame's), which the stage refines against the current frame.
pub struct EveryOther<S> {
    inner: S,
    /// The next call reuses the mask instead of running the model.
    skip_next: bool,
}

impl<S> EveryOther<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            skip_next: false,
        }
    }
}

impl<S: Segmenter> Segmenter for EveryOther<S> {
    fn input_size(&self) -> (u32, u32) {
        self.inner.input_size()
    }

    fn segment(&mut self, input: &[f32], mask: &mut [f32]) -> filters::MaskStatus {
        if std::mem::take(&mut self.skip_next) {
            return filters::MaskStatus::Ready;
        }
        let status = self.inner.segment(input, mask);
        // Only a mask just made may be reused: a failure is reported again next frame.
        self.skip_next = status == filters::MaskStatus::Ready;
        status
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

#[cfg(test)]
mod tests {
    use filters::MaskStatus;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    /// Writes the number of its call into the mask; fails when told to.
    struct Counting {
        calls: u32,
        fail: bool,
    }

    impl Segmenter for Counting {
        fn input_size(&self) -> (u32, u32) {
            (2, 1)
        }

        fn segment(&mut self, _input: &[f32], mask: &mut [f32]) -> MaskStatus {
            self.calls += 1;
            if self.fail {
                return MaskStatus::Failed("no".into());
            }
            mask.fill(self.calls as f32);
            MaskStatus::Ready
        }
    }

    #[wasm_bindgen_test]
    fn the_model_runs_on_every_second_frame_and_the_mask_carries_over() {
        let mut every = EveryOther::new(Counting {
            calls: 0,
            fail: false,
        });
        let mut mask = [0.0; 2];
        let mut seen = Vec::new();
        for _ in 0..5 {
            assert_eq!(every.segment(&[0.0; 6], &mut mask), MaskStatus::Ready);
            seen.push(mask[0]);
        }
        assert_eq!(seen, [1.0, 1.0, 2.0, 2.0, 3.0]);
        assert_eq!(every.inner.calls, 3);
    }

    #[wasm_bindgen_test]
    fn a_failure_is_not_covered_by_a_reused_mask() {
        let mut every = EveryOther::new(Counting {
            calls: 0,
            fail: true,
        });
        let mut mask = [0.0; 2];
        for _ in 0..3 {
            assert!(matches!(
                every.segment(&[0.0; 6], &mut mask),
                MaskStatus::Failed(_)
            ));
        }
        assert_eq!(every.inner.calls, 3);
    }
}
