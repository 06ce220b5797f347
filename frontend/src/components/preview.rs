//! The stage: `#preview` (and the unfiltered `#original` in compare mode), the stats
//! overlay, and the capture toolbar (compare, PNG snapshot, `WebM` recording).

use std::rc::Rc;

use gloo::timers::callback::Interval;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

use super::stats_overlay::StatsOverlay;
use crate::{
    frame_loop::StatsSnapshot,
    glue::{js_error_message, now_ms},
    media::{download, recorder::Recording},
};

#[derive(PartialEq, Properties)]
pub struct PreviewProps {
    pub preview: NodeRef,
    pub original: NodeRef,
    pub running: bool,
    pub starting: bool,
    pub compare: bool,
    pub on_compare: Callback<bool>,
    pub stats: StatsSnapshot,
    /// Frame rate for recordings.
    pub fps: u32,
}

fn elapsed_text(ms: f64) -> String {
    let seconds = (ms / 1000.0) as u64;
    format!("{:02}:{:02}", seconds / 60, seconds % 60)
}

#[function_component]
pub fn Preview(props: &PreviewProps) -> Html {
    let recording = use_mut_ref(|| None::<Recording>);
    let record_start = use_state(|| None::<f64>);
    let elapsed = use_state(|| 0.0_f64);
    let message = use_state(|| None::<String>);
    let show_stats = use_state(|| true);

    // Tick the elapsed time while recording.
    {
        let elapsed = elapsed.clone();
        use_effect_with(*record_start, move |start| {
            let timer = start.map(|start| {
                elapsed.set(0.0);
                Interval::new(250, move || elapsed.set(now_ms() - start))
            });
            move || drop(timer)
        });
    }
    // Stopping the source (or leaving the page) ends a recording.
    {
        let recording = Rc::clone(&recording);
        let record_start = record_start.clone();
        use_effect_with(props.running, move |_| {
            move || {
                if recording.borrow_mut().take().is_some() {
                    record_start.set(None);
                }
            }
        });
    }

    let on_snapshot = {
        let preview = props.preview.clone();
        let message = message.clone();
        Callback::from(move |_| {
            let Some(canvas) = preview.cast::<HtmlCanvasElement>() else {
                return;
            };
            let saved = canvas
                .to_data_url_with_type("image/png")
                .and_then(|url| download::save_url(&url, &download::timestamped("png")));
            message.set(
                saved
                    .err()
                    .map(|err| format!("Snapshot failed: {}", js_error_message(&err))),
            );
        })
    };
    let on_record = {
        let preview = props.preview.clone();
        let recording = Rc::clone(&recording);
        let record_start = record_start.clone();
        let message = message.clone();
        let fps = props.fps;
        Callback::from(move |_| {
            if let Some(active) = recording.borrow_mut().take() {
                active.stop();
                record_start.set(None);
                return;
            }
            let Some(canvas) = preview.cast::<HtmlCanvasElement>() else {
                return;
            };
            match Recording::start(&canvas, fps) {
                Ok(active) => {
                    *recording.borrow_mut() = Some(active);
                    record_start.set(Some(now_ms()));
                    message.set(None);
                }
                Err(reason) => message.set(Some(format!("Recording failed: {reason}"))),
            }
        })
    };
    let on_compare = {
        let on_compare = props.on_compare.clone();
        let compare = props.compare;
        Callback::from(move |_| on_compare.emit(!compare))
    };
    let is_recording = record_start.is_some();
    let can_record = crate::media::recorder::supported();

    html! {
        <section class={classes!("stage-view", props.compare.then_some("comparing"))}>
            <div class="canvases">
                <figure class="canvas-frame original" hidden={!props.compare}>
                    <canvas id="original" ref={props.original.clone()} width="1280" height="720"></canvas>
                    <figcaption>{ "Original" }</figcaption>
                </figure>
                <figure class="canvas-frame">
                    <canvas id="preview" ref={props.preview.clone()} width="1280" height="720"
                        class={classes!((!props.running).then_some("idle"))}></canvas>
                    if props.compare {
                        <figcaption>{ "Filtered" }</figcaption>
                    }
                    if !props.running {
                        <div class="placeholder">
                            if props.starting {
                                <div class="spinner" aria-hidden="true"></div>
                                <p>{ "Starting the source…" }</p>
                            } else {
                                <p class="placeholder-title">{ "Nothing to show yet" }</p>
                                <p>{ "Pick a source under Source and press Start. Frames are filtered on this device; nothing is sent anywhere unless you broadcast." }</p>
                            }
                        </div>
                    }
                    if props.running {
                        <StatsOverlay stats={props.stats.clone()} hidden={!*show_stats} />
                    }
                </figure>
            </div>
            <div class="toolbar" role="toolbar" aria-label="Capture">
                <button id="compare" class={classes!("btn", props.compare.then_some("on"))}
                    aria-pressed={props.compare.to_string()} onclick={on_compare}>
                    { "Compare" }
                </button>
                <button id="stats-toggle" class={classes!("btn", show_stats.then_some("on"))}
                    aria-pressed={show_stats.to_string()} title="Show the frame loop numbers"
                    onclick={{
                        let show_stats = show_stats.clone();
                        Callback::from(move |_| show_stats.set(!*show_stats))
                    }}>
                    { "Stats" }
                </button>
                <span class="spacer"></span>
                if let Some(text) = &*message {
                    <span class="toolbar-message">{ text.clone() }</span>
                }
                <button id="snapshot" class="btn" disabled={!props.running} onclick={on_snapshot}>
                    { "Snapshot" }
                </button>
                <button id="record" class={classes!("btn", is_recording.then_some("recording"))}
                    disabled={!props.running || !can_record}
                    title={if can_record { "Record the filtered preview to WebM" } else { "This browser cannot record WebM" }}
                    onclick={on_record}>
                    if is_recording {
                        <span class="rec-dot" aria-hidden="true"></span>
                        { format!("Stop {}", elapsed_text(*elapsed)) }
                    } else {
                        { "Record" }
                    }
                </button>
            </div>
        </section>
    }
}
