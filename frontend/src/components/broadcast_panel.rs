//! Broadcast panel: start/stop, settings, live state and numbers, and the share link
//! (copy, QR code, open viewer). The work happens in [`crate::broadcast`]; this component
//! owns the lifecycles: the room request, the [`Publisher`] and the frame-tap listener
//! live in effects whose destructors close the socket and cancel every timer.

use std::{cell::RefCell, rc::Rc};

use gloo::timers::callback::Timeout;
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::{
    broadcast::{
        EncoderKind, Settings, backoff,
        publisher::{LinkState, Publisher, PublisherEvents, Status},
        qr,
        room::Room,
    },
    frame_tap::FrameTap,
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

fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

fn query() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

const WIDTHS: [u32; 6] = [1920, 1280, 960, 640, 480, 320];
const RATES: [u32; 6] = [60, 30, 24, 15, 10, 5];

#[function_component]
pub fn BroadcastPanel(props: &BroadcastPanelProps) -> Html {
    let settings = use_state(|| Settings::load(&query()));
    // The publisher reads the settings from here on every frame: no reconnect on change.
    let shared = use_mut_ref(|| (*settings).clone());
    let active = use_state(|| false);
    let room = use_state(Room::load);
    let status = use_state(Status::default);
    let notice = use_state(|| None::<String>);
    let copied = use_state(|| false);
    let autostarted = use_mut_ref(|| false);

    {
        let shared = shared.clone();
        use_effect_with((*settings).clone(), move |s| {
            s.save();
            *shared.borrow_mut() = s.clone();
        });
    }

    {
        let active = active.clone();
        let autostarted = autostarted.clone();
        use_effect_with(
            (props.autostart, props.source_running),
            move |&(auto, running)| {
                if auto && running && !*autostarted.borrow() {
                    *autostarted.borrow_mut() = true;
                    active.set(true);
                }
            },
        );
    }

    // Broadcasting without a room: ask the server for one, retrying with backoff
    // (the server may be restarting).
    {
        let room = room.clone();
        let notice = notice.clone();
        use_effect_with((*active, room.is_none()), move |&(active, missing)| {
            let pending: Rc<RefCell<Option<Timeout>>> = Rc::default();
            let alive = Rc::new(RefCell::new(true));
            if active && missing {
                create_room(room, notice, pending.clone(), alive.clone(), 0);
            }
            move || {
                *alive.borrow_mut() = false;
                pending.borrow_mut().take();
            }
        });
    }

    // The live publisher: one per (active, room); the tap feeds it frames.
    {
        let tap = props.tap.clone();
        let status = status.clone();
        let room_handle = room.clone();
        let notice = notice.clone();
        use_effect_with(((*active), (*room).clone()), move |(active, room)| {
            let publisher = match (active, room) {
                (true, Some(room)) => {
                    let events = PublisherEvents {
                        on_status: Callback::from(move |s| status.set(s)),
                        on_room_lost: Callback::from(move |()| {
                            Room::forget();
                            notice.set(Some(
                                "The server lost the room (restarted?): here is a new link.".into(),
                            ));
                            room_handle.set(None);
                        }),
                    };
                    let publisher = Publisher::start(room.clone(), origin(), shared, events);
                    let feed = publisher.clone();
                    tap.set(move |frame| feed.on_frame(frame));
                    Some(publisher)
                }
                _ => None,
            };
            move || {
                if let Some(publisher) = publisher {
                    tap.clear();
                    publisher.stop();
                }
            }
        });
    }

    let toggle = {
        let active = active.clone();
        let status = status.clone();
        let notice = notice.clone();
        Callback::from(move |_: MouseEvent| {
            if *active {
                status.set(Status::default());
            }
            notice.set(None);
            active.set(!*active);
        })
    };

    let new_link = {
        let room = room.clone();
        let notice = notice.clone();
        Callback::from(move |_: MouseEvent| {
            Room::forget();
            let (room, notice) = (room.clone(), notice.clone());
            spawn_local(async move {
                match Room::create().await {
                    Ok(new) => {
                        new.save();
                        notice.set(Some(
                            "New link: the old one no longer shows this broadcast.".into(),
                        ));
                        room.set(Some(new));
                    }
                    Err(e) => notice.set(Some(e.to_string())),
                }
            });
        })
    };

    let link = room.as_ref().map(|r| r.share_link(&origin()));

    let copy = {
        let copied = copied.clone();
        let link = link.clone().unwrap_or_default();
        Callback::from(move |_: MouseEvent| {
            let Some(window) = web_sys::window() else {
                return;
            };
            // `navigator.clipboard` exists only in secure contexts (https, localhost): on
            // plain http the link is offered in a prompt to copy by hand instead.
            let navigator = window.navigator();
            let has_clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into())
                .is_ok_and(|clipboard| !clipboard.is_undefined());
            if !has_clipboard {
                let _ = window.prompt_with_message_and_default("Copy the viewer link:", &link);
                return;
            }
            let promise = navigator.clipboard().write_text(&link);
            let copied = copied.clone();
            spawn_local(async move {
                if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                    copied.set(true);
                    Timeout::new(1500, move || copied.set(false)).forget();
                }
            });
        })
    };

    let on_quality = {
        let settings = settings.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Ok(q) = input.value().parse::<f64>() {
                settings.set(Settings {
                    quality: q.clamp(0.05, 1.0),
                    ..(*settings).clone()
                });
            }
        })
    };
    let on_fps = select_handler(&settings, |s, v| {
        if let Ok(f) = v.parse() {
            s.max_fps = f;
        }
    });
    let on_width = select_handler(&settings, |s, v| {
        if let Ok(w) = v.parse() {
            s.max_width = w;
        }
    });
    let on_encoder = select_handler(&settings, |s, v| {
        if let Some(kind) = EncoderKind::parse(v) {
            s.encoder = kind;
        }
    });

    let (state_class, state_text, reason) =
        describe(*active, room.is_some(), &status.state, props.source_running);
    let s = &*status;
    let on = *active;

    html! {
        <section class={classes!("panel", "broadcast", on.then_some("is-on"))} data-state={state_class}>
            <header class="bc-head">
                <h2>{ "Broadcast" }</h2>
                <span id="broadcast-state" class={classes!("bc-badge", state_class)}>{ state_text }</span>
            </header>

            <button id="broadcast" type="button"
                class={classes!("bc-toggle", on.then_some("is-on"))}
                aria-pressed={on.to_string()}
                onclick={toggle}>
                { if on { "Stop broadcast" } else { "Start broadcast" } }
            </button>
            if let Some(reason) = reason {
                <p class="bc-reason" role="status">{ reason }</p>
            }
            if let Some(text) = &*notice {
                <p class="bc-notice" role="status">{ text }</p>
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
                data-bytes-sum={s.bytes_sum.to_string()}>
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

            if let (Some(link), Some(r)) = (link.clone(), room.as_ref()) {
                <div class="bc-share">
                    <span class="bc-label">{ "Viewer link" }</span>
                    <div class="bc-link-row">
                        <a id="share-link" href={link.clone()} target="_blank" rel="noopener">{ link.clone() }</a>
                        <button id="copy-link" type="button" class="bc-small" onclick={copy}>
                            { if *copied { "Copied" } else { "Copy" } }
                        </button>
                    </div>
                    <div class="bc-share-body">
                        if let Some(svg) = qr::svg(&link) {
                            <div class="bc-qr" aria-label="QR code of the viewer link">
                                { Html::from_html_unchecked(AttrValue::from(svg)) }
                            </div>
                        }
                        <div class="bc-share-actions">
                            <a id="open-viewer" class="bc-small bc-primary" href={r.watch_url().to_owned()} target="_blank" rel="noopener">
                                { "Open viewer ↗" }
                            </a>
                            <button id="new-link" type="button" class="bc-small" onclick={new_link}>{ "New link" }</button>
                            <p class="bc-hint">{ "Scan to watch on a phone. Anyone with the link can watch." }</p>
                        </div>
                    </div>
                </div>
            }

            <details class="bc-settings">
                <summary>{ "Settings" }</summary>
                <label class="bc-field">
                    <span>{ "JPEG quality" }<output>{ format!("{:.2}", settings.quality) }</output></span>
                    <input id="broadcast-quality" type="range" min="0.1" max="1" step="0.05"
                        value={settings.quality.to_string()} oninput={on_quality} />
                </label>
                <label class="bc-field">
                    <span>{ "Max frame rate" }</span>
                    <select id="broadcast-fps" onchange={on_fps}>
                        { for RATES.iter().map(|&r| html! {
                            <option value={r.to_string()} selected={(settings.max_fps - f64::from(r)).abs() < 0.5}>{ format!("{r} fps") }</option>
                        }) }
                    </select>
                </label>
                <label class="bc-field">
                    <span>{ "Max width" }</span>
                    <select id="broadcast-width" onchange={on_width}>
                        { for WIDTHS.iter().map(|&w| html! {
                            <option value={w.to_string()} selected={settings.max_width == w}>{ format!("{w} px") }</option>
                        }) }
                    </select>
                </label>
                <label class="bc-field">
                    <span>{ "Encoder" }</span>
                    <select id="broadcast-encoder" onchange={on_encoder}>
                        <option value="wasm" selected={settings.encoder == EncoderKind::Wasm}>{ "Wasm (jpeg-encoder)" }</option>
                        <option value="native" selected={settings.encoder == EncoderKind::Native}>{ "Browser (OffscreenCanvas)" }</option>
                    </select>
                </label>
            </details>
        </section>
    }
}

fn select_handler(
    settings: &UseStateHandle<Settings>,
    apply: fn(&mut Settings, &str),
) -> Callback<Event> {
    let settings = settings.clone();
    Callback::from(move |e: Event| {
        let select: HtmlSelectElement = e.target_unchecked_into();
        let mut next = (*settings).clone();
        apply(&mut next, &select.value());
        settings.set(next);
    })
}

/// Creates a room, retrying with backoff while the panel still wants one.
fn create_room(
    room: UseStateHandle<Option<Room>>,
    notice: UseStateHandle<Option<String>>,
    pending: Rc<RefCell<Option<Timeout>>>,
    alive: Rc<RefCell<bool>>,
    attempt: u32,
) {
    spawn_local(async move {
        let result = Room::create().await;
        if !*alive.borrow() {
            return;
        }
        match result {
            Ok(new) => {
                new.save();
                room.set(Some(new));
            }
            Err(e) => {
                let delay = backoff::delay_ms(attempt, js_sys::Math::random());
                notice.set(Some(format!("{e} — retrying in {:.1} s", delay / 1000.0)));
                let next = pending.clone();
                *pending.borrow_mut() = Some(Timeout::new(delay as u32, move || {
                    create_room(room, notice, next, alive, attempt.saturating_add(1));
                }));
            }
        }
    });
}

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
