//! The page: state from the URL, the sidebar (source, pipeline, broadcast) and the stage.

use yew::prelude::*;

use crate::{
    components::{
        backdrop_picker::BackdropChoice,
        broadcast_panel::BroadcastPanel,
        error_banner::ErrorBanner,
        model_card::{OwnModelView, Picked, too_large},
        notices::Notices,
        pipeline_editor::PipelineEditor,
        preview::Preview,
        source_panel::{SourcePanel, SourceStatus},
    },
    error::{ErrorAction, SourceError},
    frame_loop::{SegmentState, StatsSnapshot},
    frame_tap::FrameTap,
    hooks::{LoopEvent, LoopTargets, SourceRequest, use_backdrop, use_cameras, use_frame_loop},
    media::video::LocalFile,
    state::{PipelineState, Resolution, SourceKind, SourceSettings, UrlState, url::Parsed},
};

fn location_query() -> String {
    web_sys::window()
        .and_then(|window| window.location().search().ok())
        .unwrap_or_default()
}

/// Writes `query` into the address bar without a navigation or a history entry.
fn replace_query(query: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let path = window.location().pathname().unwrap_or_else(|_| "/".into());
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{path}{query}")),
        );
    }
}

#[function_component]
pub fn App() -> Html {
    let initial = use_memo((), |()| UrlState::parse(&location_query()));
    let Parsed {
        state: url,
        problems,
    } = (*initial).clone();

    let settings = use_state(|| SourceSettings {
        kind: url.source,
        resolution: url.resolution,
        fps: url.fps,
        ..SourceSettings::default()
    });
    let file = use_state(|| None::<LocalFile>);
    let pipeline = use_reducer(|| PipelineState::from_spec(&url.pipeline));
    let compare = use_state(|| false);
    let stats = use_state(StatsSnapshot::default);
    // The user's own model file: it stays on this device (a link cannot carry it).
    let model_file = use_state(|| None::<Picked>);
    let error = use_state(|| None::<SourceError>);
    let notices = use_state(|| problems.clone());
    let camera_refresh = use_state(|| 0_u32);
    let cameras = use_cameras(*camera_refresh);
    let tap = use_memo((), |()| FrameTap::default());
    let preview_ref = use_node_ref();
    let original_ref = use_node_ref();

    // The source asked for (`None` = stopped) and where it is.
    let request = use_state(|| {
        (url.start && url.source != SourceKind::File).then(|| SourceRequest {
            settings: (*settings).clone(),
            file: None,
            attempt: 0,
        })
    });
    let status = use_state(|| {
        if request.is_some() {
            SourceStatus::Starting
        } else {
            SourceStatus::Idle
        }
    });
    {
        // A link cannot carry a local file: ask for one instead of starting.
        let error = error.clone();
        let wants_file = url.start && url.source == SourceKind::File;
        use_effect_with((), move |()| {
            if wants_file {
                error.set(Some(SourceError::NoFile));
            }
        });
    }

    let on_event = {
        let status = status.clone();
        let stats = stats.clone();
        let error = error.clone();
        let request = request.clone();
        let camera_refresh = camera_refresh.clone();
        Callback::from(move |event: LoopEvent| match event {
            LoopEvent::Started { description } => {
                status.set(SourceStatus::Running { description });
                error.set(None);
                // Camera labels become readable once access is granted.
                camera_refresh.set(*camera_refresh + 1);
            }
            LoopEvent::Failed(err) => {
                request.set(None);
                status.set(SourceStatus::Idle);
                error.set(Some(err));
            }
            LoopEvent::Stats(snapshot) => stats.set(*snapshot),
            LoopEvent::WorkersFailed(reason) => {
                // Nothing runs: stop, and offer the main-thread path.
                request.set(None);
                status.set(SourceStatus::Idle);
                error.set(Some(SourceError::WorkersFailed(reason)));
            }
        })
    };
    // The picture behind the person for `segment-replace` (it stays on this device).
    let (backdrop, backdrop_choice) = use_backdrop();
    use_frame_loop(
        (*request).clone(),
        pipeline.spec(),
        *compare,
        backdrop,
        LoopTargets {
            preview: preview_ref.clone(),
            original: original_ref.clone(),
            tap: (*tap).clone(),
        },
        on_event,
    );

    // Starts (or restarts) `next`, or stops when `None`.
    let run = {
        let request = request.clone();
        let status = status.clone();
        let error = error.clone();
        let file = file.clone();
        move |next: Option<SourceSettings>| {
            let attempt = request.as_ref().map_or(0, |r| r.attempt) + 1;
            if let Some(settings) = next {
                error.set(None);
                status.set(SourceStatus::Starting);
                request.set(Some(SourceRequest {
                    settings,
                    file: (*file).clone(),
                    attempt,
                }));
            } else {
                status.set(SourceStatus::Idle);
                request.set(None);
            }
        }
    };

    let running = request.is_some();
    let on_settings = {
        let settings = settings.clone();
        let run = run.clone();
        Callback::from(move |next: SourceSettings| {
            if running && next != *settings {
                // A running source follows its settings (the old one is stopped first).
                let keep_running = next.kind != SourceKind::File;
                run(keep_running.then(|| next.clone()));
            }
            settings.set(next);
        })
    };
    let on_file = {
        let file = file.clone();
        let settings = settings.clone();
        let request = request.clone();
        let status = status.clone();
        let error = error.clone();
        Callback::from(move |chosen: web_sys::File| match LocalFile::new(&chosen) {
            Ok(local) => {
                file.set(Some(local.clone()));
                error.set(None);
                let mut next = (*settings).clone();
                next.kind = SourceKind::File;
                settings.set(next.clone());
                status.set(SourceStatus::Starting);
                let attempt = request.as_ref().map_or(0, |r| r.attempt) + 1;
                request.set(Some(SourceRequest {
                    settings: next,
                    file: Some(local),
                    attempt,
                }));
            }
            Err(err) => error.set(Some(SourceError::FileUnplayable {
                detail: crate::glue::js_error_message(&err),
            })),
        })
    };
    let on_toggle = {
        let settings = settings.clone();
        let run = run.clone();
        Callback::from(move |()| {
            if running {
                run(None);
            } else {
                run(Some((*settings).clone()));
            }
        })
    };
    // This setup as a link.
    let address = UrlState {
        source: settings.kind,
        pipeline: pipeline.saved_spec(),
        start: running,
        broadcast: url.broadcast,
        resolution: settings.resolution,
        fps: settings.fps,
        worker: url.worker,
    };
    let on_action = {
        let address = address.clone();
        let settings = settings.clone();
        let run = run.clone();
        let error = error.clone();
        Callback::from(move |action: ErrorAction| {
            let mut next = (*settings).clone();
            match action {
                ErrorAction::UseTestSource => next.kind = SourceKind::Test,
                ErrorAction::Retry => {}
                ErrorAction::ChooseFile => {
                    next.kind = SourceKind::File;
                    settings.set(next);
                    error.set(None);
                    run(None);
                    return;
                }
                ErrorAction::LowerResolution => next.resolution = Resolution::P480,
                ErrorAction::UseMainThread => {
                    // The canvases went to the failed worker: open this setup anew, with
                    // the main-thread path (`crate::worker::forced_off`).
                    let query = UrlState {
                        start: true,
                        worker: false,
                        ..address.clone()
                    }
                    .to_query();
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().assign(&query);
                    }
                    return;
                }
            }
            settings.set(next.clone());
            run(Some(next));
        })
    };

    // Keep the address bar in step, so the link reproduces this setup.
    use_effect_with(address.to_query(), |query| replace_query(query));

    let source_running = matches!(*status, SourceStatus::Running { .. });
    let dispatch = {
        let pipeline = pipeline.clone();
        Callback::from(move |action| pipeline.dispatch(action))
    };
    let on_model_file = {
        let model_file = model_file.clone();
        Callback::from(move |file: web_sys::File| {
            let name = file.name();
            // Refused before a byte of it is read.
            let error =
                too_large(&name, file.size()).or_else(|| match crate::worker::host::host() {
                    Some(host) => {
                        host.send_own_model(&file);
                        None
                    }
                    None => Some(crate::frame_loop::model_stage::NO_WORKER.to_owned()),
                });
            model_file.set(Some(Picked { name, error }));
        })
    };
    let own_model = OwnModelView {
        picked: (*model_file).clone(),
        state: stats.totals.own_model.clone(),
        // The source's rate, but never above what was asked for: after a stall a camera
        // delivers a burst, which must not make a model look too slow.
        fps: stats.capture_fps.min(f64::from(settings.fps)),
    };
    let on_compare = {
        let compare = compare.clone();
        Callback::from(move |on| compare.set(on))
    };

    html! {
        <div class="app">
            <aside class="sidebar">
                <header class="brand">
                    <span class="logo" aria-hidden="true"></span>
                    <div>
                        <h1>{ "lenscast" }</h1>
                        <p>{ "Live filters in your browser, shareable by link" }</p>
                    </div>
                </header>
                <SourcePanel settings={(*settings).clone()} status={(*status).clone()}
                    cameras={(*cameras).clone()}
                    file_name={file.as_ref().map(|f| f.name().to_owned())}
                    {on_settings} {on_file} {on_toggle} />
                <ContextProvider<BackdropChoice> context={backdrop_choice}>
                    <PipelineEditor state={(*pipeline).clone()} {dispatch}
                        segment={stats.totals.segment.clone()} {own_model} {on_model_file} />
                </ContextProvider<BackdropChoice>>
            </aside>
            // Beside the sidebar, not at its end: broadcasting stays in view however long
            // the pipeline grows (a column of its own on wide screens, a bar under the
            // sidebar on medium ones, after the controls on phones).
            <div class="broadcast-column">
                <BroadcastPanel tap={(*tap).clone()} autostart={url.broadcast} {source_running} />
            </div>
            <main class="stage">
                <Notices problems={(*notices).clone()} on_dismiss={{
                    let notices = notices.clone();
                    Callback::from(move |()| notices.set(Vec::new()))
                }} />
                if let Some(err) = (*error).clone() {
                    <ErrorBanner error={err} {on_action} on_dismiss={{
                        let error = error.clone();
                        Callback::from(move |()| error.set(None))
                    }} />
                }
                if let Some(SegmentState::Failed(reason)) = stats.totals.segment.clone() {
                    <div class="banner error" role="alert" id="segment-error">
                        <div class="banner-icon" aria-hidden="true">{ "!" }</div>
                        <div class="banner-body">
                            <strong>{ "Background segmentation is not running" }</strong>
                            <p>{ reason }</p>
                            <p>{ "Frames pass through the segmentation filters unchanged." }</p>
                        </div>
                    </div>
                }
                <Preview preview={preview_ref} original={original_ref}
                    running={source_running} starting={matches!(*status, SourceStatus::Starting)}
                    compare={*compare} {on_compare} stats={(*stats).clone()} fps={settings.fps} />
            </main>
        </div>
    }
}
