//! `#stats`: live frame loop numbers over the preview. Its text always contains the
//! processed rate as `NN.N fps` (tests and people read it).

use yew::prelude::*;

use crate::frame_loop::{OwnModelState, StatsSnapshot};

#[derive(PartialEq, Properties)]
pub struct StatsOverlayProps {
    pub stats: StatsSnapshot,
    /// Kept in the page (tests and assistive tech read it) but not drawn over the preview.
    #[prop_or_default]
    pub hidden: bool,
}

/// One `label value` line; `class` marks pipeline stages and the total's budget colour.
fn row(label: &str, ms: f64, class: Option<&'static str>) -> Html {
    html! {
        <div class={classes!("stats-row", class)}>
            <span>{ format!("{label} ") }</span>
            <span>{ format!("{ms:.1} ms") }<span class="sep">{ "; " }</span></span>
        </div>
    }
}

/// The segmentation model's line: its worker, and how often it makes a mask.
fn model_label(mask_every: f64) -> String {
    let every = match mask_every.round() as u64 {
        0 => "no mask lately".to_owned(),
        1 => "every frame, mask 1 frame behind".to_owned(),
        2 => "mask every 2nd frame".to_owned(),
        n => format!("mask every {n}th frame"),
    };
    format!("model inference ({every})")
}

#[function_component]
pub fn StatsOverlay(props: &StatsOverlayProps) -> Html {
    let s = &props.stats;
    let fps = format!("{:.1} fps", s.fps);
    let budget = if s.total_ms() <= 8.0 {
        "good"
    } else if s.total_ms() <= 33.0 {
        "ok"
    } else {
        "slow"
    };
    html! {
        <div id="stats" class={classes!("stats", props.hidden.then_some("collapsed"))} data-fps={format!("{:.1}", s.fps)} data-dropped={s.totals.dropped.to_string()}
            aria-live="off">
            <div class="stats-head">
                <span class="stats-fps">{ fps }</span>{ " " }
                <span class="stats-dim">{ format!("capture {:.1} fps", s.capture_fps) }</span>{ " " }
                if s.totals.width > 0 {
                    <span class="stats-dim">{ format!("{}×{}", s.totals.width, s.totals.height) }</span>{ " " }
                }
            </div>
            <div class="stats-rows">
                { row("copy-in", s.copy_ms, None) }
                { for s.stages.iter().map(|(label, value)| row(label, *value, Some("pipeline-stage"))) }
                { row("draw", s.draw_ms, None) }
                { row("total", s.total_ms(), Some(budget)) }
                if let Some(encode) = &s.encode {
                    { row(if encode.in_worker { "JPEG + send (encode worker)" } else { "JPEG + send" }, encode.ms, None) }
                }
                if let Some(ms) = s.model_ms {
                    { row(&model_label(s.mask_every), ms, None) }
                }
                if let Some(OwnModelState::Running { ms: Some(ms), .. }) = &s.totals.own_model {
                    { row("your model", *ms, None) }
                }
                <div class="stats-row">
                    <span>{ "dropped " }</span><span>{ s.totals.dropped.to_string() }</span>
                </div>
            </div>
            <div class="stats-path" title="How frames reach wasm memory">{ s.totals.path.label() }</div>
            <div class="stats-path stats-thread" title="Where the frame loop runs">
                { if s.totals.in_worker { "runs in workers: filter · encode/send" } else { "runs on the main thread" } }
            </div>
            if let Some(error) = &s.totals.last_error {
                <div class="stats-error">{ error.clone() }</div>
            }
        </div>
    }
}
