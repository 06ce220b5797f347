//! Frame loop measurements: counters and cumulative times (exact, for benchmarks) plus
//! smoothed per-frame times (for people), published twice a second to the UI and to
//! `window.__lenscast_stats`.

use wasm_bindgen::JsValue;

use crate::glue::object;

/// Exponential moving average; the first sample is taken as is.
#[derive(Clone, Copy, Debug, Default)]
struct Ema(Option<f64>);

impl Ema {
    const ALPHA: f64 = 0.1;

    fn add(&mut self, sample: f64) {
        self.0 = Some(match self.0 {
            Some(mean) => mean + Self::ALPHA * (sample - mean),
            None => sample,
        });
    }

    fn get(self) -> f64 {
        self.0.unwrap_or(0.0)
    }
}

#[derive(Clone, Debug)]
struct Stage {
    label: String,
    ms: Ema,
}

/// How frames reach wasm memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FramePath {
    /// `MediaStreamTrackProcessor` + `VideoFrame.copyTo` into wasm memory.
    #[default]
    CopyTo,
    /// `MediaStreamTrackProcessor` + `VideoFrame.copyTo` in the frame's own YUV layout,
    /// converted to RGBA in wasm (the filter worker: no wait for the page's main thread).
    YuvCopy,
    /// `MediaStreamTrackProcessor`, frames drawn to a canvas and read back (no RGBA `copyTo`).
    FrameCanvas,
    /// `requestVideoFrameCallback` + canvas read-back.
    VideoCallback,
    /// `requestAnimationFrame` polling + canvas read-back (oldest browsers).
    AnimationFrame,
    /// The synthetic pattern, painted in wasm memory.
    Pattern,
}

impl FramePath {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CopyTo => "copyTo",
            Self::YuvCopy => "yuv-copyTo",
            Self::FrameCanvas => "frame-canvas",
            Self::VideoCallback => "video-callback",
            Self::AnimationFrame => "animation-frame",
            Self::Pattern => "pattern",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::CopyTo => "VideoFrame.copyTo → wasm",
            Self::YuvCopy => "VideoFrame.copyTo (YUV) → wasm → RGBA",
            Self::FrameCanvas => "VideoFrame → canvas → wasm",
            Self::VideoCallback => "video frame callback → canvas → wasm",
            Self::AnimationFrame => "animation frame → canvas → wasm",
            Self::Pattern => "test pattern painted in wasm",
        }
    }
}

/// What the loop counts exactly (for benchmarks) and its current state: kept in [`Stats`]
/// and copied whole into every [`StatsSnapshot`].
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Totals {
    /// Frames the source delivered.
    pub captured: u64,
    /// Frames filtered and drawn.
    pub processed: u64,
    /// Frames skipped because the previous one was still being processed.
    pub dropped: u64,
    pub sum_copy_ms: f64,
    pub sum_filter_ms: f64,
    pub sum_draw_ms: f64,
    /// Frames the filter worker handed to the sender worker, and the time that took it.
    pub handoffs: u64,
    pub sum_handoff_ms: f64,
    pub width: u32,
    pub height: u32,
    pub path: FramePath,
    /// The loop runs in the filter worker (else on the page's main thread).
    pub in_worker: bool,
    /// When the first frame with the latest pipeline change was drawn (ms since the Unix
    /// epoch; 0 before any).
    pub controls_shown_at_ms: f64,
    pub last_error: Option<String>,
    /// The segmentation stages' model on the last frame (`None`: the pipeline has none).
    pub segment: Option<SegmentState>,
    /// Frames composited with a person mask (the segmentation stages ran, mask ready).
    pub masked_frames: u64,
    /// Inferences the segmentation model finished, and their total ms (in its worker).
    pub inferences: u64,
    pub sum_model_ms: f64,
    /// The `model` stage's model (`None`: the pipeline has no switched-on `model` stage).
    pub own_model: Option<super::model_stage::OwnModelState>,
}

/// Where the model behind `segment-blur`/`segment-replace` stands, as the UI shows it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum SegmentState {
    /// Fetching and compiling the model: frames pass unchanged.
    Loading,
    Ready,
    /// The model cannot run (missing, corrupt, or no worker): frames pass unchanged.
    Failed(String),
}

impl From<&filters::MaskStatus> for SegmentState {
    fn from(status: &filters::MaskStatus) -> Self {
        match status {
            filters::MaskStatus::Ready => Self::Ready,
            filters::MaskStatus::Loading => Self::Loading,
            filters::MaskStatus::Failed(reason) => Self::Failed(reason.clone()),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub totals: Totals,
    copy_ms: Ema,
    filter_ms: Ema,
    draw_ms: Ema,
    stages: Vec<Stage>,
    rate_mark: Option<RateMark>,
    fps: f64,
    capture_fps: f64,
    model_ms: Ema,
    mask_every: f64,
}

#[derive(Clone, Copy, Debug)]
struct RateMark {
    at_ms: f64,
    processed: u64,
    captured: u64,
    masked: u64,
    inferences: u64,
}

impl Stats {
    /// Records the time of stage `index` of the current frame.
    pub fn record_stage(&mut self, index: usize, label: &str, ms: f64) {
        if index >= self.stages.len() {
            self.stages.push(Stage {
                label: label.to_owned(),
                ms: Ema::default(),
            });
        } else if self.stages[index].label != label {
            self.stages[index] = Stage {
                label: label.to_owned(),
                ms: Ema::default(),
            };
        }
        self.stages[index].ms.add(ms);
    }

    /// Forgets stage timings (the pipeline changed); `count` stages remain.
    pub fn truncate_stages(&mut self, count: usize) {
        self.stages.truncate(count);
    }

    /// Once per frame, after its segmentation state is set: `count` inferences of the
    /// segmentation model finished since the last frame, taking `ms` in all.
    pub fn record_inferences(&mut self, count: u64, ms: f64) {
        if self.totals.segment == Some(SegmentState::Ready) {
            self.totals.masked_frames += 1;
        }
        if count == 0 {
            return;
        }
        self.totals.inferences += count;
        self.totals.sum_model_ms += ms;
        self.model_ms.add(ms / count as f64);
    }

    pub fn record_frame(&mut self, copy_ms: f64, filter_ms: f64, draw_ms: f64) {
        let totals = &mut self.totals;
        totals.processed += 1;
        totals.sum_copy_ms += copy_ms;
        totals.sum_filter_ms += filter_ms;
        totals.sum_draw_ms += draw_ms;
        self.copy_ms.add(copy_ms);
        self.filter_ms.add(filter_ms);
        self.draw_ms.add(draw_ms);
    }

    /// Rates since the previous snapshot, and the smoothed times.
    pub fn snapshot(&mut self, now_ms: f64, running: bool) -> StatsSnapshot {
        let (processed, captured) = (self.totals.processed, self.totals.captured);
        let (masked, inferences) = (self.totals.masked_frames, self.totals.inferences);
        if let Some(mark) = self.rate_mark {
            let seconds = (now_ms - mark.at_ms) / 1000.0;
            if seconds > 0.0 {
                self.fps = (processed - mark.processed) as f64 / seconds;
                self.capture_fps = (captured - mark.captured) as f64 / seconds;
            }
            let made = inferences - mark.inferences;
            self.mask_every = if made > 0 {
                (masked - mark.masked) as f64 / made as f64
            } else {
                0.0
            };
        }
        self.rate_mark = Some(RateMark {
            at_ms: now_ms,
            processed,
            captured,
            masked,
            inferences,
        });
        StatsSnapshot {
            running,
            fps: self.fps,
            capture_fps: self.capture_fps,
            copy_ms: self.copy_ms.get(),
            filter_ms: self.filter_ms.get(),
            draw_ms: self.draw_ms.get(),
            stages: self
                .stages
                .iter()
                .map(|stage| (stage.label.clone(), stage.ms.get()))
                .collect(),
            totals: self.totals.clone(),
            encode: None,
            model_ms: self.model_ms.0,
            mask_every: self.mask_every,
        }
    }
}

/// What the stats overlay shows and the benchmark reads.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StatsSnapshot {
    pub running: bool,
    /// Processed frames per second.
    pub fps: f64,
    /// Frames per second the source delivered.
    pub capture_fps: f64,
    pub copy_ms: f64,
    pub filter_ms: f64,
    pub draw_ms: f64,
    /// `(label, ms)` of each pipeline stage.
    pub stages: Vec<(String, f64)>,
    pub totals: Totals,
    /// The broadcast's JPEG encode, smoothed, and where it runs (`None`: not broadcasting).
    pub encode: Option<EncodeStats>,
    /// The segmentation model's ms per inference, smoothed (`None` before the first).
    pub model_ms: Option<f64>,
    /// Frames composited per mask the model made over the last stats period (1: a mask for
    /// every frame; 2: every second frame); 0 when no mask was made.
    pub mask_every: f64,
}

/// The broadcast side as the stats overlay shows it.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EncodeStats {
    /// Frame hand-off to JPEG bytes, smoothed.
    pub ms: f64,
    /// Frames sent per second.
    pub fps: f64,
    pub in_worker: bool,
}

impl StatsSnapshot {
    /// Copy-in + filters + draw, smoothed.
    pub fn total_ms(&self) -> f64 {
        self.copy_ms + self.filter_ms + self.draw_ms
    }

    /// Sets `window.__lenscast_stats` (a stable shape for tests and benchmarks):
    /// `{running, fps, captureFps, frames, captured, dropped, copyMs, filterMs, drawMs, totalMs,
    /// sumCopyMs, sumFilterMs, sumDrawMs, handoffs, sumHandoffMs, stages: [{label, ms}],
    /// width, height, path,
    /// worker, controlsShownAt, encodeMs, sentFps}`: `worker` is whether frames flow in the
    /// workers, `controlsShownAt` when the last pipeline change was first drawn (epoch ms),
    /// `encodeMs`/`sentFps` the broadcast's encode time and rate (0 when not broadcasting),
    /// `segment` the segmentation model's state (`"loading"`, `"ready"`, `"failed"`, or
    /// `null` without a segmentation stage) and `segmentError` why it failed, `modelMs` the
    /// model's ms per inference (smoothed; 0 before the first), `inferences`/`sumModelMs`
    /// its count and total, `maskEvery` frames per mask over the last period (1: every
    /// frame, 2: every second frame; 0: none made); `handoffs` and `sumHandoffMs` count
    /// the frames the filter worker gave the sender worker and what that cost the filter
    /// worker; `ownModel` the `model` stage's state (`"needs-file"`, `"loading"`,
    /// `"running"`, `"failed"`, or `null` without one), `ownModelError` why it failed and
    /// `ownModelMs` its smoothed ms per inference (0 before the first).
    pub fn publish(&self) {
        let stages: js_sys::Array = self
            .stages
            .iter()
            .map(|(label, ms)| {
                JsValue::from(object(&[
                    ("label", JsValue::from_str(label)),
                    ("ms", JsValue::from_f64(*ms)),
                ]))
            })
            .collect();
        let totals = &self.totals;
        let (segment, segment_error) = match &totals.segment {
            None => (JsValue::NULL, JsValue::NULL),
            Some(SegmentState::Loading) => ("loading".into(), JsValue::NULL),
            Some(SegmentState::Ready) => ("ready".into(), JsValue::NULL),
            Some(SegmentState::Failed(reason)) => ("failed".into(), reason.as_str().into()),
        };
        let own = totals.own_model.as_ref();
        let own_error = match own {
            Some(super::model_stage::OwnModelState::Failed { reason, .. }) => {
                reason.as_str().into()
            }
            _ => JsValue::NULL,
        };
        let own_ms = match own {
            Some(super::model_stage::OwnModelState::Running { ms: Some(ms), .. }) => *ms,
            _ => 0.0,
        };
        let value = object(&[
            ("running", self.running.into()),
            ("fps", self.fps.into()),
            ("captureFps", self.capture_fps.into()),
            ("frames", (totals.processed as f64).into()),
            ("captured", (totals.captured as f64).into()),
            ("dropped", (totals.dropped as f64).into()),
            ("copyMs", self.copy_ms.into()),
            ("filterMs", self.filter_ms.into()),
            ("drawMs", self.draw_ms.into()),
            ("totalMs", self.total_ms().into()),
            ("sumCopyMs", totals.sum_copy_ms.into()),
            ("sumFilterMs", totals.sum_filter_ms.into()),
            ("sumDrawMs", totals.sum_draw_ms.into()),
            ("handoffs", (totals.handoffs as f64).into()),
            ("sumHandoffMs", totals.sum_handoff_ms.into()),
            ("stages", stages.into()),
            ("width", totals.width.into()),
            ("height", totals.height.into()),
            ("path", totals.path.as_str().into()),
            ("worker", totals.in_worker.into()),
            ("controlsShownAt", totals.controls_shown_at_ms.into()),
            (
                "encodeMs",
                self.encode.as_ref().map_or(0.0, |e| e.ms).into(),
            ),
            (
                "sentFps",
                self.encode.as_ref().map_or(0.0, |e| e.fps).into(),
            ),
            ("segment", segment),
            ("segmentError", segment_error),
            ("modelMs", self.model_ms.unwrap_or(0.0).into()),
            ("inferences", (totals.inferences as f64).into()),
            ("sumModelMs", totals.sum_model_ms.into()),
            ("maskEvery", self.mask_every.into()),
            (
                "ownModel",
                own.map_or(JsValue::NULL, |state| state.as_str().into()),
            ),
            ("ownModelError", own_error),
            ("ownModelMs", own_ms.into()),
        ]);
        let _ = js_sys::Reflect::set(&js_sys::global(), &"__lenscast_stats".into(), &value);
    }
}
