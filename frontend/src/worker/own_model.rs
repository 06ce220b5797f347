//! "Your own model" in the filter worker: the `model` stage's runner and segmenter, proxies
//! for the user's ONNX model, which runs in its own instance of the model worker (rten
//! stays out of this worker's wasm; the selfie model's instance keeps running beside it).
//!
//! The page sends the picked `File` (a handle); the model worker reads it, so the bytes
//! are never copied between threads. Each frame, the runner sends the frame's pixels
//! (transferred) when no run is in flight, and draws the last output it got: the stage's
//! output lags its input by one frame while the model keeps up. Until a model has loaded
//! (or after it failed) frames pass unchanged.

use std::{cell::RefCell, rc::Rc};

use filters::{Frame, MaskStatus, ModelRunner, ModelSettings, Segmenter};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Worker;

use super::{
    model::start_engine_worker,
    protocol::{FromModel, FromOwnModel, ToOwnModel, envelope, field, open},
};
use crate::frame_loop::{ModelSource, OwnModelState};

/// Smoothing of the ms per inference shown on the card.
const MS_ALPHA: f64 = 0.2;

#[derive(Default)]
enum Phase {
    #[default]
    NoFile,
    Loading,
    Ready {
        mask_size: (u32, u32),
    },
    Failed(String),
}

/// The last output of a run: `width × height` RGBA.
struct Output {
    width: u32,
    height: u32,
    pixels: js_sys::Uint8Array,
}

#[derive(Default)]
struct Link {
    worker: Option<Worker>,
    /// The worker's wasm listens (it said `Ready`).
    listening: bool,
    /// The picked file's name and the `File`, until sent to the worker.
    name: String,
    pending: Option<JsValue>,
    /// Bumped with each file: answers about an older one are dropped.
    generation: u64,
    phase: Phase,
    next_id: u64,
    in_flight: Option<u64>,
    output: Option<Output>,
    /// A pixel buffer back from the worker, reused for the next run.
    spare: Option<js_sys::ArrayBuffer>,
    ms: Option<f64>,
    /// The frame size of the run in flight.
    sizes: Option<(u32, u32)>,
    /// The `model` stage's `byte` setting, for segmentation (the runner keeps it current).
    byte_range: bool,
    mask_in_flight: Option<u64>,
    /// A mask the worker made that no frame has used yet.
    mask: Option<js_sys::Float32Array>,
    spare_input: Option<js_sys::ArrayBuffer>,
    spare_mask: Option<js_sys::ArrayBuffer>,
}

impl Link {
    fn record_ms(&mut self, ms: f64) {
        self.ms = Some(self.ms.map_or(ms, |mean| mean + MS_ALPHA * (ms - mean)));
    }

    fn fail(&mut self, reason: String) {
        gloo::console::error!(format!("lenscast: your own model: {reason}"));
        self.phase = Phase::Failed(reason);
        self.in_flight = None;
        self.mask_in_flight = None;
        self.output = None;
    }

    /// Sends the pending file if the worker listens.
    fn flush(&mut self) {
        if !self.listening {
            return;
        }
        let (Some(worker), Some(file)) = (&self.worker, self.pending.take()) else {
            return;
        };
        let message = envelope(
            &ToOwnModel::Load {
                name: self.name.clone(),
                generation: self.generation,
            },
            &[("file", file)],
        );
        if let Err(err) = worker.post_message(&message) {
            self.fail(crate::glue::js_error_message(&err));
        }
    }

    fn on_message(&mut self, data: &JsValue) {
        if matches!(open::<FromModel>(data), Some(FromModel::Ready)) {
            self.listening = true;
            self.flush();
            return;
        }
        match open::<FromOwnModel>(data) {
            Some(FromOwnModel::Loaded {
                generation,
                mask_size,
            }) if generation == self.generation => {
                self.phase = Phase::Ready { mask_size };
                self.ms = None;
            }
            Some(FromOwnModel::Failed { generation, reason }) if generation == self.generation => {
                self.fail(reason);
            }
            Some(FromOwnModel::Frame {
                id,
                ms,
                changed,
                error,
            }) => {
                let pixels =
                    field(data, "pixels").map(JsCast::unchecked_into::<js_sys::ArrayBuffer>);
                if self.in_flight != Some(id) {
                    self.spare = pixels;
                    return;
                }
                self.in_flight = None;
                if let Some(reason) = error {
                    return self.fail(reason);
                }
                self.record_ms(ms);
                match pixels {
                    Some(buffer) if changed => {
                        self.spare = self.output.take().map(|old| old.pixels.buffer());
                        let (width, height) = self.sizes.take().unwrap_or_default();
                        self.output = Some(Output {
                            width,
                            height,
                            pixels: js_sys::Uint8Array::new(&buffer),
                        });
                    }
                    other => self.spare = other,
                }
            }
            Some(FromOwnModel::Mask { id, ms, error }) => {
                if let Some(input) = field(data, "input") {
                    self.spare_input = Some(input.unchecked_into());
                }
                if self.mask_in_flight != Some(id) {
                    return;
                }
                self.mask_in_flight = None;
                if let Some(reason) = error {
                    return self.fail(reason);
                }
                self.record_ms(ms);
                self.mask = field(data, "mask").map(|mask| js_sys::Float32Array::new(&mask));
            }
            _ => {}
        }
    }

    fn post(&mut self, message: &ToOwnModel, extra: &[(&str, JsValue)]) -> bool {
        let Some(worker) = &self.worker else {
            return false;
        };
        let transfer: js_sys::Array = extra.iter().map(|(_, value)| value.clone()).collect();
        match worker.post_message_with_transfer(&envelope(message, extra), &transfer) {
            Ok(()) => true,
            Err(err) => {
                self.fail(crate::glue::js_error_message(&err));
                false
            }
        }
    }
}

/// The user's model as the filter worker holds it, across sources. Cheap to clone.
#[derive(Clone, Default)]
pub struct OwnModel {
    link: Rc<RefCell<Link>>,
}

impl OwnModel {
    /// The user picked `file` (a `File`) called `name`: loads it in the model worker,
    /// starting that worker on first use.
    pub fn set_file(&self, name: &str, file: JsValue) {
        {
            let mut link = self.link.borrow_mut();
            link.generation += 1;
            link.name = name.chars().take(128).collect();
            link.pending = Some(file);
            link.phase = Phase::Loading;
            link.output = None;
            link.mask = None;
            link.ms = None;
        }
        if self.link.borrow().worker.is_none()
            && let Err(err) = self.start()
        {
            self.link.borrow_mut().fail(format!(
                "the model worker could not start: {}",
                crate::glue::js_error_message(&err)
            ));
            return;
        }
        self.link.borrow_mut().flush();
    }

    fn start(&self) -> Result<(), JsValue> {
        let (messages, errors) = (Rc::clone(&self.link), Rc::clone(&self.link));
        let worker = start_engine_worker(
            move |data| messages.borrow_mut().on_message(data),
            move |message| {
                errors
                    .borrow_mut()
                    .fail(format!("the model worker stopped: {message}"));
            },
        )?;
        self.link.borrow_mut().worker = Some(worker);
        Ok(())
    }
}

impl ModelSource for OwnModel {
    fn runner(&self) -> Box<dyn ModelRunner> {
        Box::new(Runner {
            link: Rc::clone(&self.link),
        })
    }

    fn state(&self) -> OwnModelState {
        let link = self.link.borrow();
        let name = link.name.clone();
        match &link.phase {
            Phase::NoFile => OwnModelState::NeedsFile,
            Phase::Loading => OwnModelState::Loading { name },
            Phase::Ready { .. } => OwnModelState::Running { name, ms: link.ms },
            Phase::Failed(reason) => OwnModelState::Failed {
                name,
                reason: reason.clone(),
            },
        }
    }

    fn segmenter(&self) -> Option<Box<dyn Segmenter>> {
        let link = self.link.borrow();
        let Phase::Ready { mask_size } = link.phase else {
            return None;
        };
        Some(Box::new(OwnSegmenter {
            link: Rc::clone(&self.link),
            size: mask_size,
            generation: link.generation,
            has_mask: false,
        }))
    }

    fn generation(&self) -> u64 {
        self.link.borrow().generation
    }
}

/// The `model` stage's runner: sends frames to the model worker, draws what comes back.
struct Runner {
    link: Rc<RefCell<Link>>,
}

impl ModelRunner for Runner {
    fn run(&mut self, frame: &mut Frame<'_>, settings: ModelSettings) {
        let mut link = self.link.borrow_mut();
        link.byte_range = settings.byte_range;
        // With `segment=1` the model serves the segmentation stages (see `OwnSegmenter`).
        if !matches!(link.phase, Phase::Ready { .. }) || settings.mask_as_segmentation {
            return;
        }
        let (width, height) = (frame.width(), frame.height());
        if link.in_flight.is_none() {
            let len = width * height * 4;
            let buffer = match link.spare.take() {
                Some(buffer) if buffer.byte_length() == len => buffer,
                _ => js_sys::ArrayBuffer::new(len),
            };
            let view = js_sys::Uint8Array::new(&buffer);
            let row_len = width * 4;
            for (y, row) in frame.rows().enumerate() {
                view.subarray(y as u32 * row_len, (y as u32 + 1) * row_len)
                    .copy_from(row);
            }
            let id = link.next_id;
            link.next_id += 1;
            let message = ToOwnModel::Run {
                id,
                width,
                height,
                byte_range: settings.byte_range,
                mask_as_segmentation: settings.mask_as_segmentation,
            };
            if link.post(&message, &[("pixels", buffer.into())]) {
                link.in_flight = Some(id);
                link.sizes = Some((width, height));
            }
        }
        // The last output, if it is of this frame's size (the source may have changed).
        if let Some(output) = &link.output
            && (output.width, output.height) == (width, height)
        {
            let row_len = width * 4;
            for (y, row) in frame.rows_mut().enumerate() {
                output
                    .pixels
                    .subarray(y as u32 * row_len, (y as u32 + 1) * row_len)
                    .copy_to(row);
            }
        }
    }
}

/// The user's mask model as the segmentation stages' segmenter (`model:segment=1`): sends
/// each input when none is in flight, and answers with the newest mask (one frame behind).
struct OwnSegmenter {
    link: Rc<RefCell<Link>>,
    size: (u32, u32),
    generation: u64,
    has_mask: bool,
}

impl Segmenter for OwnSegmenter {
    fn input_size(&self) -> (u32, u32) {
        self.size
    }

    fn segment(&mut self, input: &[f32], mask: &mut [f32]) -> MaskStatus {
        let mut link = self.link.borrow_mut();
        if link.generation != self.generation {
            return MaskStatus::Loading;
        }
        match &link.phase {
            Phase::Failed(reason) => return MaskStatus::Failed(reason.clone()),
            Phase::Ready { .. } => {}
            Phase::NoFile | Phase::Loading => return MaskStatus::Loading,
        }
        if let Some(arrived) = link.mask.take() {
            if arrived.length() as usize == mask.len() {
                arrived.copy_to(mask);
                self.has_mask = true;
            }
            link.spare_mask = Some(arrived.buffer());
        }
        if link.mask_in_flight.is_none() {
            let bytes = (input.len() * 4) as u32;
            let buffer = match link.spare_input.take() {
                Some(buffer) if buffer.byte_length() == bytes => buffer,
                _ => js_sys::ArrayBuffer::new(bytes),
            };
            js_sys::Float32Array::new(&buffer).copy_from(input);
            let id = link.next_id;
            link.next_id += 1;
            let byte_range = link.byte_range;
            let mut extra = vec![("input", JsValue::from(buffer))];
            if let Some(spare) = link.spare_mask.take() {
                extra.push(("mask", spare.into()));
            }
            if link.post(&ToOwnModel::Segment { id, byte_range }, &extra) {
                link.mask_in_flight = Some(id);
            }
        }
        if self.has_mask {
            MaskStatus::Ready
        } else {
            MaskStatus::Loading
        }
    }
}
