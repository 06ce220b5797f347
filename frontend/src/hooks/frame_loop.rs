//! `use_frame_loop`: runs the source described by a [`SourceRequest`] through the frame
//! loop while the request is `Some`. Changing the request (or setting it to `None`, or
//! unmounting) tears the running source down in the effect destructor: tracks stopped,
//! reader cancelled, callbacks and timers released.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use filters::PipelineSpec;
use gloo::timers::callback::Interval;
use wasm_bindgen_futures::spawn_local;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

use crate::{
    error::SourceError,
    frame_loop::{
        Canvas, Controls, Engine, FramePath, StatsSnapshot,
        backdrop::Picture,
        drivers::{Driver, PatternDriver, ProcessorDriver, VideoDriver},
    },
    frame_tap::FrameTap,
    glue::{bindings::has_track_processor, js_error_message, now_ms},
    media::{
        camera,
        test_pattern::TestPattern,
        video::{HiddenVideo, LocalFile},
    },
    state::{SourceKind, SourceSettings},
    worker::{self, source::WorkerSource},
};

/// What to run. A new `attempt` number restarts the same settings (e.g. "Try again").
#[derive(Clone, Debug, PartialEq)]
pub struct SourceRequest {
    pub settings: SourceSettings,
    pub file: Option<LocalFile>,
    pub attempt: u32,
}

/// What the loop tells the page.
#[derive(Clone, Debug, PartialEq)]
pub enum LoopEvent {
    /// The source runs; `description` says what it delivers (e.g. `1280×720 · 30 fps`).
    Started {
        description: String,
    },
    Failed(SourceError),
    Stats(Box<StatsSnapshot>),
    /// The frame workers' modules did not load (why): nothing runs on this page's worker
    /// path; the main-thread path (`worker=0`) still can.
    WorkersFailed(String),
}

/// Where processed frames go.
pub struct LoopTargets {
    /// `#preview`: the filtered frame.
    pub preview: NodeRef,
    /// `#original`: the unfiltered frame (compare mode).
    pub original: NodeRef,
    pub tap: FrameTap,
}

/// How often stats are published.
const STATS_PERIOD_MS: u32 = 500;

/// A running source: on the page's main thread, or in the filter worker.
enum Session {
    Local {
        engine: Rc<RefCell<Engine>>,
        _driver: Driver,
        _stats_timer: Interval,
    },
    Worker {
        _source: WorkerSource,
    },
}

/// What [`start`] started.
enum Started {
    Local(Rc<RefCell<Engine>>, Driver),
    Worker(WorkerSource),
}

#[hook]
pub fn use_frame_loop(
    request: Option<SourceRequest>,
    spec: PipelineSpec,
    compare: bool,
    backdrop: Option<Picture>,
    targets: LoopTargets,
    on_event: Callback<LoopEvent>,
) {
    let LoopTargets {
        preview,
        original,
        tap,
    } = targets;
    let controls = use_mut_ref(Controls::default);
    {
        let controls = Rc::clone(&controls);
        use_effect_with((spec, compare), move |(spec, compare)| {
            let mut controls = controls.borrow_mut();
            controls.spec = spec.clone();
            controls.compare = *compare;
            controls.version += 1;
            if let Some(host) = worker::host::host() {
                host.send_controls(spec.clone(), *compare);
            }
        });
    }
    {
        // The picture goes once per pick, not with every slider move.
        let controls = Rc::clone(&controls);
        use_effect_with(backdrop, move |backdrop| {
            let mut controls = controls.borrow_mut();
            controls.backdrop.clone_from(backdrop);
            controls.version += 1;
            if let Some(host) = worker::host::host() {
                host.send_backdrop(backdrop.as_ref());
            }
        });
    }

    use_effect_with(request, move |request| {
        let cancelled = Rc::new(Cell::new(false));
        let session: Rc<RefCell<Option<Session>>> = Rc::default();
        if let Some(request) = request.clone() {
            let cancelled = Rc::clone(&cancelled);
            let session = Rc::clone(&session);
            let on_event = on_event.clone();
            spawn_local(async move {
                let parts = (
                    preview.cast::<HtmlCanvasElement>(),
                    original.cast::<HtmlCanvasElement>(),
                );
                let (Some(preview), Some(original)) = parts else {
                    on_event.emit(LoopEvent::Failed(SourceError::Other(
                        "the preview canvas is missing".into(),
                    )));
                    return;
                };
                let started = match worker::host::host() {
                    Some(host) => {
                        host.on_failure(on_event.reform(LoopEvent::WorkersFailed));
                        let on_stats = {
                            let on_event = on_event.clone();
                            Callback::from(move |stats| {
                                on_event.emit(LoopEvent::Stats(Box::new(stats)));
                            })
                        };
                        let is_cancelled = || cancelled.get();
                        worker::source::start(
                            host,
                            &request.settings,
                            request.file.as_ref(),
                            (&preview, &original),
                            on_stats,
                            &is_cancelled,
                        )
                        .await
                        .map(|(source, description)| (Started::Worker(source), description))
                    }
                    None => start(&request, controls, preview, original, tap, &cancelled)
                        .await
                        .map(|(engine, driver, description)| {
                            (Started::Local(engine, driver), description)
                        }),
                };
                if cancelled.get() {
                    return; // Dropping `started` stops whatever did start.
                }
                match started {
                    Ok((Started::Local(engine, driver), description)) => {
                        let timer = {
                            let engine = Rc::clone(&engine);
                            let on_event = on_event.clone();
                            Interval::new(STATS_PERIOD_MS, move || {
                                let snapshot = engine.borrow_mut().stats.snapshot(now_ms(), true);
                                snapshot.publish();
                                on_event.emit(LoopEvent::Stats(Box::new(snapshot)));
                            })
                        };
                        *session.borrow_mut() = Some(Session::Local {
                            engine,
                            _driver: driver,
                            _stats_timer: timer,
                        });
                        on_event.emit(LoopEvent::Started { description });
                    }
                    Ok((Started::Worker(source), description)) => {
                        *session.borrow_mut() = Some(Session::Worker { _source: source });
                        on_event.emit(LoopEvent::Started { description });
                    }
                    Err(err) => on_event.emit(LoopEvent::Failed(err)),
                }
            });
        }
        move || {
            cancelled.set(true);
            // Dropping the session stops the source (its driver, or the worker's).
            let stopped = session.borrow_mut().take();
            if let Some(Session::Local { engine, .. }) = &stopped {
                let snapshot = engine.borrow_mut().stats.snapshot(now_ms(), false);
                snapshot.publish();
            }
            drop(stopped);
        }
    });
}

/// Opens the source and starts its driver.
async fn start(
    request: &SourceRequest,
    controls: Rc<RefCell<Controls>>,
    preview: HtmlCanvasElement,
    original: HtmlCanvasElement,
    tap: FrameTap,
    cancelled: &Cell<bool>,
) -> Result<(Rc<RefCell<Engine>>, Driver, String), SourceError> {
    let settings = &request.settings;
    let engine = Engine::new(
        controls,
        Canvas::Element(preview),
        Canvas::Element(original),
        tap,
        FramePath::CopyTo,
    )
    .map_err(|err| SourceError::Other(js_error_message(&err)))?;
    let engine = Rc::new(RefCell::new(engine));
    match settings.kind {
        SourceKind::Camera => {
            let stream = camera::open(settings).await?;
            if cancelled.get() {
                camera::stop(&stream);
                return Err(SourceError::Other("cancelled".into()));
            }
            let Some(track) = camera::video_track(&stream) else {
                camera::stop(&stream);
                return Err(SourceError::NoCamera);
            };
            let description = camera::describe(&track);
            if has_track_processor() {
                // Not `stream.clone()`: that is `MediaStream.clone()`, which clones the tracks.
                let handle = Clone::clone(&stream);
                match ProcessorDriver::start(Rc::clone(&engine), handle, &track) {
                    Ok(driver) => return Ok((engine, Driver::Processor(driver), description)),
                    Err(err) => {
                        engine.borrow_mut().stats.totals.last_error = Some(js_error_message(&err));
                    }
                }
            }
            let video = match HiddenVideo::for_stream(&stream) {
                Ok(video) => video,
                Err(err) => {
                    camera::stop(&stream);
                    return Err(SourceError::Other(js_error_message(&err)));
                }
            };
            if let Err(reason) = video.play().await {
                camera::stop(&stream);
                return Err(SourceError::Other(reason));
            }
            let driver = VideoDriver::start(Rc::clone(&engine), video, Some(stream));
            Ok((engine, Driver::Video(driver), description))
        }
        SourceKind::Test => {
            let (width, height) = settings.resolution.size();
            let pattern = TestPattern::new(width, height);
            let driver = PatternDriver::start(Rc::clone(&engine), pattern, settings.fps);
            let description = format!("{width}×{height} · {} fps", settings.fps);
            Ok((engine, Driver::Pattern(driver), description))
        }
        SourceKind::File => {
            let file = request.file.as_ref().ok_or(SourceError::NoFile)?;
            let video = HiddenVideo::for_url(file.url())
                .map_err(|err| SourceError::Other(js_error_message(&err)))?;
            video
                .play()
                .await
                .map_err(|detail| SourceError::FileUnplayable { detail })?;
            let (width, height) = video.size();
            let description = format!("{} · {width}×{height}", file.name());
            let driver = VideoDriver::start(Rc::clone(&engine), video, None);
            Ok((engine, Driver::Video(driver), description))
        }
    }
}
