//! The frame loop: source frame → wasm buffer → filters → `#preview` → [`FrameTap`].
//!
//! A [`drivers::Driver`] pulls frames from the source (track processor, video frame
//! callback or the test pattern) and hands each to the [`Engine`], which owns the one
//! [`FrameBuffer`], the [`filters::Pipeline`] and the output canvases. Only the newest frame
//! is processed: a frame that arrives while another is in flight replaces the waiting one
//! and counts as dropped. The UI changes the pipeline through [`Controls`], read once per
//! frame, so edits apply on the next frame without restarting anything.

pub mod backdrop;
pub mod drivers;
pub mod model_stage;
pub mod stats;
pub mod surface;

use std::{cell::RefCell, rc::Rc};

use filters::{MaskStatus, Pipeline, PipelineSpec, Segmenter};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{HtmlVideoElement, ImageData};

pub use model_stage::{ModelSource, OwnModelState};
pub use stats::{FramePath, SegmentState, Stats, StatsSnapshot};
pub use surface::{Canvas, Surface};

use crate::{
    frame_tap::{FrameTap, ProcessedFrame},
    glue::{
        bindings::{Canvas2dExt, VideoFrame},
        epoch_ms,
        frame_buffer::{CopyError, FrameBuffer},
        now_ms,
    },
};

/// What the UI controls while the loop runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Controls {
    pub spec: PipelineSpec,
    /// Also draw the unfiltered frame on the `original` canvas.
    pub compare: bool,
    /// Bumped on every change, so the engine notices without comparing specs per frame.
    pub version: u64,
    /// The picture `segment-replace` puts behind the person, if the user picked one.
    pub backdrop: Option<backdrop::Picture>,
}

/// Supplies the model behind the segmentation stages, once a pipeline first needs one.
pub trait SegmenterSource {
    /// Called on each frame while the pipeline needs a segmenter and has none: starts
    /// loading one, and returns it once loaded (or one that reports why it cannot run).
    fn poll(&self) -> Option<Box<dyn Segmenter>>;

    /// Whether a mask is being made for an input already sent (an asynchronous segmenter).
    fn in_flight(&self) -> bool {
        false
    }

    /// A promise that resolves once the mask in flight is back (or the segmenter gives up
    /// on it); `None` when nothing is in flight. The next frame waits for it, so the mask
    /// lags by one frame at most.
    fn settle(&self) -> Option<js_sys::Promise> {
        None
    }

    /// Inferences finished since the last call, and their total ms.
    fn take_inferences(&self) -> (u64, f64) {
        (0, 0.0)
    }
}

/// A segmenter that cannot run, saying why (the stages then leave frames unchanged).
pub struct Unavailable(pub String);

impl Segmenter for Unavailable {
    fn input_size(&self) -> (u32, u32) {
        (256, 144)
    }

    fn segment(&mut self, _input: &[f32], _mask: &mut [f32]) -> MaskStatus {
        MaskStatus::Failed(self.0.clone())
    }
}

/// Why the main-thread loop has no segmentation: the model runs only in the filter worker
/// (its engine stays out of the page's wasm).
const NO_WORKER: &str = "background segmentation runs only in the frame worker: \
     remove worker=0 from the address, or use a browser with OffscreenCanvas and \
     MediaStreamTrackProcessor";

pub struct Engine {
    /// `None` while an asynchronous copy owns it.
    buffer: Option<FrameBuffer>,
    pipeline: Pipeline,
    applied_version: Option<u64>,
    applied_backdrop: Option<backdrop::Picture>,
    /// New controls were applied to the frame being processed.
    controls_pending: bool,
    /// The capture time (epoch ms) and number of the frame `buffer` holds, if it holds a
    /// processed one.
    last: Option<(f64, u64)>,
    controls: Rc<RefCell<Controls>>,
    preview: Surface,
    original: Surface,
    /// Where video frames are drawn for read-back when they cannot be copied directly.
    readback: Option<Surface>,
    tap: FrameTap,
    /// Where the segmentation model comes from (`None`: the main-thread loop, which has none).
    segmenters: Option<Box<dyn SegmenterSource>>,
    /// The pipeline has its segmenter (kept across spec changes).
    has_segmenter: bool,
    /// Where the `model` stage's model comes from (`None`: the main-thread loop).
    models: Option<Box<dyn ModelSource>>,
    /// The user's model is the pipeline's segmenter, loaded from this file (`model:segment=1`).
    own_segmenter: Option<u64>,
    pub stats: Stats,
}

impl Engine {
    pub fn new(
        controls: Rc<RefCell<Controls>>,
        preview: Canvas,
        original: Canvas,
        tap: FrameTap,
        path: FramePath,
    ) -> Result<Self, JsValue> {
        let mut stats = Stats::default();
        stats.totals.path = path;
        Ok(Self {
            buffer: Some(FrameBuffer::new()),
            pipeline: Pipeline::new(PipelineSpec::default()),
            applied_version: None,
            applied_backdrop: None,
            controls_pending: false,
            last: None,
            controls,
            preview: Surface::new(preview, false)?,
            original: Surface::new(original, false)?,
            readback: None,
            tap,
            segmenters: None,
            has_segmenter: false,
            models: None,
            own_segmenter: None,
            stats,
        })
    }

    /// Where this engine's segmentation model comes from (the filter worker sets one).
    pub fn set_segmenter_source(&mut self, source: Box<dyn SegmenterSource>) {
        self.segmenters = Some(source);
    }

    /// Where this engine's `model` stage gets its model (the filter worker sets one).
    pub fn set_model_source(&mut self, source: Box<dyn ModelSource>) {
        self.pipeline.set_model_runner(Some(source.runner()));
        self.models = Some(source);
    }

    /// With `model:segment=1`, the user's model is the segmentation stages' segmenter (once
    /// loaded; until then they wait for it); without, the selfie model.
    fn choose_segmenter(&mut self) {
        let wanted = match (&self.models, self.pipeline.model_stage()) {
            (Some(models), Some(settings)) if settings.mask_as_segmentation => {
                Some(models.generation())
            }
            _ => None,
        };
        if wanted == self.own_segmenter {
            return;
        }
        if let (Some(generation), Some(models)) = (wanted, &self.models) {
            let segmenter = models.segmenter();
            let loaded = segmenter.is_some();
            self.pipeline.set_segmenter(segmenter);
            self.has_segmenter = true;
            self.own_segmenter = loaded.then_some(generation);
        } else {
            // Back to the selfie model (loaded again on the next frame that needs it).
            self.pipeline.set_segmenter(None);
            self.has_segmenter = false;
            self.own_segmenter = None;
        }
    }

    /// Gives the pipeline a segmenter if it needs one and has none yet.
    fn supply_segmenter(&mut self) {
        self.choose_segmenter();
        if self.has_segmenter || !self.pipeline.needs_segmenter() {
            return;
        }
        let segmenter = match &self.segmenters {
            Some(source) => source.poll(),
            None => Some(Box::new(Unavailable(NO_WORKER.to_owned())) as Box<dyn Segmenter>),
        };
        if let Some(segmenter) = segmenter {
            self.pipeline.set_segmenter(Some(segmenter));
            self.has_segmenter = true;
        }
    }

    /// Whether the segmentation stages use the source's segmenter now.
    fn segmenting(&self) -> bool {
        self.has_segmenter && self.pipeline.needs_segmenter()
    }

    /// What the next frame must wait for before it is processed: the mask in flight (see
    /// [`SegmenterSource::settle`]); `None` if nothing.
    pub fn mask_gate(&self) -> Option<js_sys::Promise> {
        if !self.segmenting() {
            return None;
        }
        self.segmenters.as_ref()?.settle()
    }

    fn readback(&mut self) -> Result<&Surface, JsValue> {
        if self.readback.is_none() {
            self.readback = Some(Surface::detached()?);
        }
        Ok(self.readback.as_ref().expect("set just above"))
    }

    /// Processes a frame already copied into `buffer`.
    fn finish(
        &mut self,
        buffer: &mut FrameBuffer,
        captured_ms: f64,
        frame_number: u64,
        copy_ms: f64,
    ) {
        let compare = {
            let controls = self.controls.borrow();
            if self.applied_version != Some(controls.version) {
                self.pipeline.set_spec(controls.spec.clone());
                if controls.backdrop != self.applied_backdrop {
                    self.pipeline.set_backdrop(
                        controls
                            .backdrop
                            .as_ref()
                            .and_then(backdrop::Picture::backdrop),
                    );
                    self.applied_backdrop.clone_from(&controls.backdrop);
                }
                self.stats.truncate_stages(0);
                self.applied_version = Some(controls.version);
                self.controls_pending = true;
            }
            controls.compare
        };
        let (width, height) = (buffer.width(), buffer.height());
        self.stats.totals.width = width;
        self.stats.totals.height = height;
        if compare {
            self.original.fit(width, height);
            if let Err(err) = buffer.draw_to(&self.original.ctx) {
                self.stats.totals.last_error = Some(crate::glue::js_error_message(&err));
            }
        }

        self.supply_segmenter();
        let filter_start = now_ms();
        let mut mark = filter_start;
        let mut index = 0;
        let Self {
            pipeline, stats, ..
        } = self;
        pipeline.apply_observed(&mut buffer.frame(), &mut |label| {
            let now = now_ms();
            stats.record_stage(index, label, now - mark);
            index += 1;
            mark = now;
        });
        self.stats.truncate_stages(index);
        self.stats.totals.segment = self.pipeline.segment_status().map(SegmentState::from);
        if let Some(source) = &self.segmenters {
            let (count, ms) = source.take_inferences();
            self.stats.record_inferences(count, ms);
        }
        self.stats.totals.own_model = self.pipeline.model_stage().map(|_| match &self.models {
            Some(models) => models.state(),
            None => OwnModelState::Failed {
                name: String::new(),
                reason: model_stage::NO_WORKER.to_owned(),
            },
        });
        let draw_start = now_ms();
        self.preview.fit(width, height);
        if let Err(err) = buffer.draw_to(&self.preview.ctx) {
            self.stats.totals.last_error = Some(crate::glue::js_error_message(&err));
        }
        let done = now_ms();
        self.stats
            .record_frame(copy_ms, draw_start - filter_start, done - draw_start);
        if std::mem::take(&mut self.controls_pending) {
            // The first frame drawn with new controls: the benchmark's slider-to-frame end.
            self.stats.totals.controls_shown_at_ms = epoch_ms(done);
        }

        let captured_at_ms = epoch_ms(captured_ms);
        self.tap.emit(&ProcessedFrame {
            rgba: buffer.pixels(),
            width,
            height,
            canvas: self.preview.canvas.element(),
            image: None,
            captured_at_ms,
            frame_number,
        });
        self.last = Some((captured_at_ms, frame_number));
    }

    /// The buffer, for a new frame to be copied in; `None` while a copy is under way.
    fn take_buffer(&mut self) -> Option<FrameBuffer> {
        self.last = None;
        self.buffer.take()
    }

    /// Hands the last processed frame to `f` again, if the buffer still holds it (no newer
    /// frame is being copied in); returns whether it did. The sender worker, idle again,
    /// gets the newest frame this way instead of waiting for the next one.
    pub fn with_last_frame(&self, f: impl FnOnce(&ProcessedFrame<'_>)) -> bool {
        let (Some(buffer), Some((captured_at_ms, frame_number))) = (&self.buffer, self.last) else {
            return false;
        };
        f(&ProcessedFrame {
            rgba: buffer.pixels(),
            width: buffer.width(),
            height: buffer.height(),
            canvas: self.preview.canvas.element(),
            image: None,
            captured_at_ms,
            frame_number,
        });
        true
    }

    /// Lets `paint` fill the buffer (`width`×`height` RGBA) and processes the result; the
    /// painting time counts as copy-in.
    pub fn process_painted(
        &mut self,
        (width, height): (u32, u32),
        captured_ms: f64,
        frame_number: u64,
        paint: impl FnOnce(&mut [u8]),
    ) {
        // A painted frame cannot wait for the mask in flight (the timer paints now): it is
        // dropped instead, so the mask never lags by more than one frame.
        let mask_pending = self.segmenting()
            && self
                .segmenters
                .as_ref()
                .is_some_and(|source| source.in_flight());
        if mask_pending {
            self.stats.totals.dropped += 1;
            return;
        }
        let Some(mut buffer) = self.take_buffer() else {
            self.stats.totals.dropped += 1;
            return;
        };
        let start = now_ms();
        match buffer.resize(width, height) {
            Ok(()) => {
                paint(buffer.pixels_mut());
                let copy_ms = now_ms() - start;
                self.finish(&mut buffer, captured_ms, frame_number, copy_ms);
            }
            Err(err) => self.stats.totals.last_error = Some(err.to_string()),
        }
        self.buffer = Some(buffer);
    }

    /// Copies `image` in and processes it.
    pub fn process_image_data(
        &mut self,
        image: &ImageData,
        captured_ms: f64,
        frame_number: u64,
        copy_start: f64,
    ) {
        let Some(mut buffer) = self.take_buffer() else {
            // An asynchronous copy is in flight: this frame is dropped.
            self.stats.totals.dropped += 1;
            return;
        };
        match buffer.copy_from_image_data(image) {
            Ok(()) => {
                let copy_ms = now_ms() - copy_start;
                self.finish(&mut buffer, captured_ms, frame_number, copy_ms);
            }
            Err(err) => self.stats.totals.last_error = Some(err.to_string()),
        }
        self.buffer = Some(buffer);
    }

    /// Draws the current picture of `video` for read-back and processes it.
    pub fn process_video(&mut self, video: &HtmlVideoElement, captured_ms: f64, frame_number: u64) {
        let copy_start = now_ms();
        let (width, height) = (video.video_width(), video.video_height());
        if width == 0 || height == 0 {
            return;
        }
        let image = self.readback().and_then(|surface| {
            surface.fit(width, height);
            surface
                .ctx
                .draw_image_with_html_video_element(video, 0.0, 0.0)?;
            surface.read()
        });
        match image {
            Ok(image) => self.process_image_data(&image, captured_ms, frame_number, copy_start),
            Err(err) => self.stats.totals.last_error = Some(crate::glue::js_error_message(&err)),
        }
    }

    /// Draws `frame` for read-back (browsers whose `copyTo` cannot convert to RGBA).
    fn read_video_frame(&mut self, frame: &VideoFrame) -> Result<ImageData, JsValue> {
        let (width, height) = (frame.display_width(), frame.display_height());
        let surface = self.readback()?;
        surface.fit(width, height);
        surface
            .ctx
            .unchecked_ref::<Canvas2dExt>()
            .draw_video_frame(frame, 0.0, 0.0)?;
        surface.read()
    }
}

/// Copies `frame` into the engine's buffer (directly where the browser can) and processes
/// it. Does not close `frame`.
pub async fn process_video_frame(
    engine: &Rc<RefCell<Engine>>,
    frame: &VideoFrame,
    captured_ms: f64,
    frame_number: u64,
) {
    let copy_start = now_ms();
    loop {
        let path = engine.borrow().stats.totals.path;
        if !matches!(path, FramePath::CopyTo | FramePath::YuvCopy) {
            break;
        }
        let Some(mut buffer) = engine.borrow_mut().take_buffer() else {
            engine.borrow_mut().stats.totals.dropped += 1;
            return;
        };
        let copied = if path == FramePath::YuvCopy {
            buffer.copy_from_video_frame_yuv(frame).await
        } else {
            buffer.copy_from_video_frame(frame).await
        };
        let mut engine = engine.borrow_mut();
        match copied {
            Ok(()) => {
                let copy_ms = now_ms() - copy_start;
                engine.finish(&mut buffer, captured_ms, frame_number, copy_ms);
                engine.buffer = Some(buffer);
                return;
            }
            Err(CopyError::Unsupported(reason) | CopyError::Browser(reason)) => {
                // Fall back, for this and every later frame: from the YUV copy to the
                // browser's RGBA conversion, from that to a canvas.
                let (next, how) = if path == FramePath::YuvCopy {
                    (FramePath::CopyTo, "an RGBA copy")
                } else {
                    (FramePath::FrameCanvas, "a canvas")
                };
                engine.stats.totals.last_error = Some(format!("copyTo: {reason}; using {how}"));
                engine.stats.totals.path = next;
            }
            Err(err) => {
                engine.stats.totals.last_error = Some(err.to_string());
                engine.buffer = Some(buffer);
                return;
            }
        }
        engine.buffer = Some(buffer);
    }
    let mut engine = engine.borrow_mut();
    match engine.read_video_frame(frame) {
        Ok(image) => engine.process_image_data(&image, captured_ms, frame_number, copy_start),
        Err(err) => engine.stats.totals.last_error = Some(crate::glue::js_error_message(&err)),
    }
}
