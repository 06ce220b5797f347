//! The segmentation model seen from the filter worker: the first time the pipeline has a
//! `segment-*` stage, this starts the engine's own worker (the `lenscast_model` wasm, a
//! dedicated worker nested in this one; see [`super::inference`]) and tells it to fetch the
//! model. Until it has loaded, the stages pass frames unchanged and the card says "loading
//! model"; then [`RemoteSegmenter`] relays each frame's downscaled input to it and its
//! masks back.
//!
//! Timing: the input of frame N goes out while frame N is composited with the mask of frame
//! N-1, so inference overlaps the rest of the frame's work and runs on every frame. Before
//! frame N+1 is processed the driver waits for mask N ([`SegmenterSource::settle`]), so the
//! mask lags the frame by exactly one frame, never more. Only a model worker that stops
//! answering for [`MASK_WAIT_MS`] lets frames go on with the older mask.

use std::{cell::RefCell, rc::Rc};

use filters::{MaskStatus, Segmenter};
use wasm_bindgen::{JsCast, JsValue, prelude::Closure};
use web_sys::{MessageEvent, Worker};

use super::{
    protocol::{FromModel, ToModel, envelope, field, open},
    scope::scope,
};
use crate::frame_loop::{SegmenterSource, Unavailable};

/// Same origin, served by the server from `static/models/` (`cargo xtask setup` makes it).
const MODEL_URL: &str = "/static/models/selfie_segmentation_landscape.onnx";
/// The engine module's loader (`frontend/workers/`, copied to the dist root by trunk).
pub const MODEL_WORKER_URL: &str = "/lenscast_model_loader.js";
/// How long a frame waits for the mask in flight before going on with the older one.
pub const MASK_WAIT_MS: i32 = 1000;
/// How long the engine module may take to start and load the model before the stages
/// report it: a backstop for a download that hangs (one that fails, or a module that does
/// not compile, is reported at once through the loader, `frontend/workers/`).
const LOAD_TIMEOUT_MS: i32 = 60_000;

enum Phase {
    /// No segmentation stage was ever added: nothing is fetched.
    Idle,
    /// The engine module or the model is on its way.
    Loading,
    Ready {
        width: u32,
        height: u32,
    },
    Failed(String),
}

struct Link {
    worker: Option<Worker>,
    phase: Phase,
    next_id: u64,
    /// The id of the input the model worker is working on.
    in_flight: Option<u64>,
    /// The mask that came back for the last input, until a frame takes it.
    arrived: Option<js_sys::ArrayBuffer>,
    /// Buffers back from the model worker, reused for the next input and mask.
    spare_input: Option<js_sys::ArrayBuffer>,
    spare_mask: Option<js_sys::ArrayBuffer>,
    /// `resolve` of every frame waiting for the mask in flight.
    waiters: Vec<js_sys::Function>,
    /// Inferences and their total ms since the engine last asked.
    inferences: u64,
    sum_ms: f64,
}

impl Link {
    fn wake(&mut self) {
        for resolve in self.waiters.drain(..) {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    }

    fn fail(&mut self, reason: String) {
        gloo::console::error!(format!("lenscast: {reason}"));
        self.phase = Phase::Failed(reason);
        self.in_flight = None;
        self.wake();
    }

    fn on_message(&mut self, data: &JsValue) {
        match open::<FromModel>(data) {
            Some(FromModel::Ready) => {
                let load = envelope(
                    &ToModel::Load {
                        url: MODEL_URL.to_owned(),
                    },
                    &[],
                );
                let sent = self.worker.clone().map(|worker| worker.post_message(&load));
                if let Some(Err(err)) = sent {
                    self.fail(crate::glue::js_error_message(&err));
                }
            }
            Some(FromModel::Loaded { width, height }) => {
                self.phase = Phase::Ready { width, height };
            }
            Some(FromModel::Mask { id, ms }) => {
                if let Some(input) = field(data, "input") {
                    self.spare_input = Some(input.unchecked_into());
                }
                if self.in_flight == Some(id) {
                    self.in_flight = None;
                    self.arrived = field(data, "mask").map(JsCast::unchecked_into);
                    self.inferences += 1;
                    self.sum_ms += ms;
                    self.wake();
                }
            }
            Some(FromModel::Failed { reason }) => self.fail(reason),
            None => {}
        }
    }

    /// Sends `input` to the model worker as the next inference.
    fn send(&mut self, input: &[f32]) {
        let Some(worker) = &self.worker else {
            return;
        };
        let bytes = (input.len() * 4) as u32;
        let buffer = match self.spare_input.take() {
            Some(buffer) if buffer.byte_length() == bytes => buffer,
            _ => js_sys::ArrayBuffer::new(bytes),
        };
        js_sys::Float32Array::new(&buffer).copy_from(input);
        let id = self.next_id;
        self.next_id += 1;
        let mut extra = vec![("input", JsValue::from(buffer))];
        if let Some(mask) = self.spare_mask.take() {
            extra.push(("mask", mask.into()));
        }
        let transfer: js_sys::Array = extra.iter().map(|(_, value)| value.clone()).collect();
        match worker
            .post_message_with_transfer(&envelope(&ToModel::Infer { id }, &extra), &transfer)
        {
            Ok(()) => self.in_flight = Some(id),
            Err(err) => self.fail(crate::glue::js_error_message(&err)),
        }
    }
}

/// Starts the model worker on the first poll; hands out a [`RemoteSegmenter`] once the model
/// has loaded. One per filter worker: a new source reuses the loaded model.
#[derive(Clone)]
pub struct ModelLoader {
    link: Rc<RefCell<Link>>,
}

impl Default for ModelLoader {
    fn default() -> Self {
        Self {
            link: Rc::new(RefCell::new(Link {
                worker: None,
                phase: Phase::Idle,
                next_id: 0,
                in_flight: None,
                arrived: None,
                spare_input: None,
                spare_mask: None,
                waiters: Vec::new(),
                inferences: 0,
                sum_ms: 0.0,
            })),
        }
    }
}

/// Starts an instance of the engine's worker (the selfie model's, or a user's model's):
/// `on_message` gets each message's data, `on_error` what went wrong when the worker
/// itself failed (its script or wasm did not load, or it threw).
pub fn start_engine_worker(
    mut on_message: impl FnMut(&JsValue) + 'static,
    mut on_error: impl FnMut(String) + 'static,
) -> Result<Worker, JsValue> {
    let worker = Worker::new(MODEL_WORKER_URL)?;
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        on_message(&event.data());
    });
    let on_error = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let message = js_sys::Reflect::get(&event, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "it failed to load".into());
        on_error(message);
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    // The engine's worker lives as long as this one: its handlers are never freed.
    on_message.forget();
    on_error.forget();
    Ok(worker)
}

impl ModelLoader {
    /// Starts the engine's worker; its messages and errors go to the link.
    fn start(&self) -> Result<(), JsValue> {
        let worker = {
            let (messages, errors) = (Rc::clone(&self.link), Rc::clone(&self.link));
            start_engine_worker(
                move |data| messages.borrow_mut().on_message(data),
                move |message| {
                    errors.borrow_mut().fail(format!(
                        "the segmentation engine could not start: {message}"
                    ));
                },
            )?
        };
        let timeout = {
            let link = Rc::clone(&self.link);
            Closure::<dyn FnMut()>::new(move || {
                let mut link = link.borrow_mut();
                if matches!(link.phase, Phase::Loading) {
                    link.fail(format!(
                        "the segmentation engine ({MODEL_WORKER_URL}) and model ({MODEL_URL}) \
                         did not load within {} s",
                        LOAD_TIMEOUT_MS / 1000
                    ));
                }
            })
        };
        scope().set_timeout_with_callback_and_timeout_and_arguments_0(
            timeout.as_ref().unchecked_ref(),
            LOAD_TIMEOUT_MS,
        )?;
        timeout.forget();
        self.link.borrow_mut().worker = Some(worker);
        Ok(())
    }
}

impl SegmenterSource for ModelLoader {
    fn poll(&self) -> Option<Box<dyn Segmenter>> {
        let (width, height) = match &self.link.borrow().phase {
            Phase::Idle => (0, 0),
            Phase::Loading => return None,
            &Phase::Ready { width, height } => (width, height),
            Phase::Failed(reason) => return Some(Box::new(Unavailable(reason.clone()))),
        };
        if width > 0 {
            return Some(Box::new(RemoteSegmenter {
                link: Rc::clone(&self.link),
                size: (width, height),
                has_mask: false,
            }));
        }
        self.link.borrow_mut().phase = Phase::Loading;
        if let Err(err) = self.start() {
            self.link.borrow_mut().fail(format!(
                "the segmentation engine could not start: {}",
                crate::glue::js_error_message(&err)
            ));
        }
        None
    }

    fn in_flight(&self) -> bool {
        self.link.borrow().in_flight.is_some()
    }

    fn settle(&self) -> Option<js_sys::Promise> {
        if !self.in_flight() {
            return None;
        }
        let link = Rc::clone(&self.link);
        Some(js_sys::Promise::new(&mut |resolve, _reject| {
            // Whichever comes first: the mask, or the time limit.
            let _ = scope()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, MASK_WAIT_MS);
            let mut link = link.borrow_mut();
            // Waiters whose time ran out stay listed until a mask comes; a model worker that
            // never answers again must not make the list grow forever.
            if link.waiters.len() >= 16 {
                link.waiters.remove(0);
            }
            link.waiters.push(resolve);
        }))
    }

    fn take_inferences(&self) -> (u64, f64) {
        let mut link = self.link.borrow_mut();
        (
            std::mem::take(&mut link.inferences),
            std::mem::take(&mut link.sum_ms),
        )
    }
}

/// The pipeline's segmenter while the model runs in its worker: takes the mask of the
/// previous frame's input (if it came back) and sends this frame's input.
pub struct RemoteSegmenter {
    link: Rc<RefCell<Link>>,
    size: (u32, u32),
    /// A mask came back at least once (before that, frames pass unchanged).
    has_mask: bool,
}

impl Segmenter for RemoteSegmenter {
    fn input_size(&self) -> (u32, u32) {
        self.size
    }

    fn segment(&mut self, input: &[f32], mask: &mut [f32]) -> MaskStatus {
        let mut link = self.link.borrow_mut();
        if let Phase::Failed(reason) = &link.phase {
            return MaskStatus::Failed(reason.clone());
        }
        if let Some(buffer) = link.arrived.take() {
            let view = js_sys::Float32Array::new(&buffer);
            if view.length() as usize == mask.len() {
                view.copy_to(mask);
                self.has_mask = true;
            }
            link.spare_mask = Some(buffer);
        }
        if link.in_flight.is_none() {
            link.send(input);
        }
        if self.has_mask {
            MaskStatus::Ready
        } else {
            MaskStatus::Loading
        }
    }
}
