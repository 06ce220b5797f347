//! Broadcast panel: start/stop, live state and numbers, the share link and the settings.
//! The state and the lifecycles (room request, publisher, frame-tap listener) live in
//! [`use_broadcast`]; this component only renders them.

use yew::prelude::*;

use crate::{
    broadcast::publisher::LinkState,
    components::{broadcast_settings::BroadcastSettings, share_link::ShareLink},
    frame_tap::FrameTap,
    hooks::use_broadcast,
};

#[derive(PartialEq, Properties)]
pub struct BroadcastPanelProps {
    /// Processed frames from the frame loop.
    pub tap: FrameTap,
    /// `?broadcast=1`: start broadcasting as soon as the source runs.
    pub autostart: bool,
    /// Whether a source is running (frames are flowing into the tap).
    pub source_running: bool,
}

#[function_component]
pub fn BroadcastPanel(props: &BroadcastPanelProps) -> Html {
    let broadcast = use_broadcast(props.tap.clone(), props.autostart, props.source_running);
    let toggle = broadcast.toggle.reform(|_: MouseEvent| ());
    let (state_class, state_text, reason) = describe(
        broadcast.active,
        broadcast.room.is_some(),
        &broadcast.status.state,
        props.source_running,
    );
    let s = &broadcast.status;
    let on = broadcast.active;
    // Nothing to send yet: starting would only show "Paused". Stopping is always possible.
    let blocked = !on && !props.source_running;
    let end_room = broadcast.end_room.reform(|_: MouseEvent| ());

    html! {
        <section class={classes!("panel", "broadcast", on.then_some("is-on"))} data-state={state_class}
            aria-label="Broadcast">
            <header class="bc-head">
                <h2 id="broadcast-title">{ "Broadcast" }</h2>
                <span id="broadcast-state" class={classes!("bc-badge", state_class)}>{ state_text }</span>
            </header>

            <button id="broadcast" type="button"
                class={classes!("bc-toggle", on.then_some("is-on"))}
                aria-pressed={on.to_string()}
                disabled={blocked}
                title={blocked.then_some(START_FIRST)}
                aria-describedby={blocked.then_some("broadcast-blocked")}
                onclick={toggle}>
                { if on { "Stop broadcast" } else { "Start broadcast" } }
            </button>
            if blocked {
                <p id="broadcast-blocked" class="bc-reason">{ START_FIRST }</p>
            }
            if broadcast.room.is_some() {
                <button id="end-room" type="button" class="bc-small bc-end" onclick={end_room}
                    title="Stops broadcasting and tells viewers of this link that the broadcast has ended">
                    { "Stop broadcast, end room" }
                </button>
            }
            if let Some(reason) = reason {
                <p class="bc-reason" role="status">{ reason }</p>
            }
            if let Some(text) = &broadcast.notice {
                <p class="bc-notice" role="status">{ text }</p>
            }

            if let (Some(link), Some(room)) = (&broadcast.link, &broadcast.room) {
                <ShareLink link={link.clone()} watch_url={room.watch_url().to_owned()}
                    on_new_link={broadcast.new_link.clone()} />
            }

            <dl id="broadcast-stats" class="bc-metrics"
                data-frames-sent={s.frames_sent.to_string()}
                data-frames-skipped={s.frames_skipped.to_string()}
                data-viewers={s.viewers.to_string()}
                data-encoder={s.encoder.as_str()}
                data-encode-ms={format!("{:.2}", s.encode_ms)}
                data-tap-ms={format!("{:.2}", s.tap_ms)}
                data-bytes-per-frame={format!("{:.0}", s.bytes_per_frame)}
                data-fps={format!("{:.1}", s.fps)}
                data-encode-ms-sum={format!("{:.3}", s.encode_ms_sum)}
                data-main-ms-sum={format!("{:.3}", s.main_ms_sum)}
                data-bytes-sum={s.bytes_sum.to_string()}
                data-frames-too-large={s.frames_too_large.to_string()}>
                <div class={classes!("bc-metric", "bc-viewers", (s.viewers > 0).then_some("has-viewers"))}>
                    <dt>{ "viewers" }</dt>
                    <dd id="viewer-count" data-count={s.viewers.to_string()}>{ s.viewers }</dd>
                </div>
                <div class="bc-metric">
                    <dt>{ "upload" }</dt>
                    <dd>{ format!("{:.0}", s.kbit_per_s) }<small>{ " kbit/s" }</small></dd>
                </div>
                <div class="bc-metric">
                    <dt>{ "sent" }</dt>
                    <dd><span id="frames-sent" data-count={s.frames_sent.to_string()}>{ s.frames_sent }</span>
                        <small>{ format!(" · {:.0} fps", s.fps) }</small></dd>
                </div>
                <div class="bc-metric">
                    <dt>{ "encode" }</dt>
                    <dd>{ format!("{:.1}", s.encode_ms) }<small>{ format!(" ms · {:.0} KB", s.bytes_per_frame / 1000.0) }</small></dd>
                </div>
            </dl>
            if s.fit.is_reduced() {
                <p id="frame-fit" class="bc-notice" role="status">{ format!(
                    "Frames came out over this server's {} KB limit: sending at {:.0}% of the quality and {:.0}% of the width set.",
                    s.frame_limit / 1000, s.fit.quality * 100.0, s.fit.width * 100.0,
                ) }</p>
            }

            <BroadcastSettings settings={broadcast.settings.clone()} on_change={broadcast.set_settings.clone()} />
        </section>
    }
}

/// Why "Start broadcast" is disabled before a source runs.
const START_FIRST: &str =
    "Start a source first (camera, test pattern or file): there is nothing to send yet.";

/// CSS class, badge text and an optional explanation for the current state.
fn describe(
    active: bool,
    has_room: bool,
    state: &LinkState,
    source_running: bool,
) -> (&'static str, &'static str, Option<String>) {
    if !active {
        return ("is-idle", "Off", None);
    }
    if !has_room {
        return ("is-connecting", "Creating room…", None);
    }
    let idle_source = (!source_running).then(|| "Start a source to send video.".to_owned());
    match state {
        LinkState::Connecting => ("is-connecting", "Connecting…", None),
        LinkState::Live => ("is-live", "Live", idle_source),
        LinkState::Paused => (
            "is-paused",
            "Paused",
            Some("No viewers: nothing is sent until someone opens the link.".into()),
        ),
        LinkState::Reconnecting {
            reason,
            retry_in_ms,
        } => (
            "is-reconnecting",
            "Reconnecting…",
            Some(format!(
                "{reason}; retrying in {:.1} s",
                f64::from(*retry_in_ms) / 1000.0
            )),
        ),
        LinkState::Failed(reason) => ("is-error", "Error", Some(reason.clone())),
    }
}
