//! Choosing the source (camera, test pattern, file), its settings, and `#start`.

use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::{
    media::camera::CameraInfo,
    state::{Facing, Resolution, SourceKind, SourceSettings, source::FRAME_RATES},
};

/// Where the source is in its life.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceStatus {
    Idle,
    Starting,
    Running { description: String },
}

#[derive(PartialEq, Properties)]
pub struct SourcePanelProps {
    pub settings: SourceSettings,
    pub status: SourceStatus,
    pub cameras: Vec<CameraInfo>,
    /// Name of the chosen video file.
    pub file_name: Option<String>,
    pub on_settings: Callback<SourceSettings>,
    pub on_file: Callback<web_sys::File>,
    /// Start when idle, stop otherwise.
    pub on_toggle: Callback<()>,
}

fn select_value(event: &Event) -> String {
    event
        .target()
        .and_then(|target| target.dyn_into::<HtmlSelectElement>().ok())
        .map(|select| select.value())
        .unwrap_or_default()
}

fn source_button_id(kind: SourceKind) -> String {
    format!("source-{}", kind.as_str())
}

/// The radio an arrow key (or Home/End) moves to from `from`, wrapping around, as native
/// radio groups do.
fn arrow_target(from: SourceKind, key: &str) -> Option<SourceKind> {
    let all = SourceKind::ALL;
    let at = all.iter().position(|&k| k == from)?;
    let to = match key {
        "ArrowRight" | "ArrowDown" => (at + 1) % all.len(),
        "ArrowLeft" | "ArrowUp" => (at + all.len() - 1) % all.len(),
        "Home" => 0,
        "End" => all.len() - 1,
        _ => return None,
    };
    Some(all[to])
}

fn focus_by_id(id: &str) {
    let element = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.get_element_by_id(id))
        .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(element) = element {
        let _ = element.focus();
    }
}

#[function_component]
pub fn SourcePanel(props: &SourcePanelProps) -> Html {
    let settings = &props.settings;
    let update = |f: fn(&mut SourceSettings, String)| {
        let settings = settings.clone();
        props.on_settings.reform(move |event: Event| {
            let mut next = settings.clone();
            f(&mut next, select_value(&event));
            next
        })
    };
    let kind_buttons = SourceKind::ALL.iter().map(|&kind| {
        let mut next = settings.clone();
        next.kind = kind;
        let onclick = props.on_settings.reform(move |_| next.clone());
        let pressed = settings.kind == kind;
        // A radio group is one Tab stop (the checked radio); arrows move the choice.
        let onkeydown = {
            let settings = settings.clone();
            let on_settings = props.on_settings.clone();
            Callback::from(move |event: KeyboardEvent| {
                let Some(to) = arrow_target(kind, &event.key()) else {
                    return;
                };
                event.prevent_default();
                let mut next = settings.clone();
                next.kind = to;
                on_settings.emit(next);
                focus_by_id(&source_button_id(to));
            })
        };
        html! {
            <button type="button" role="radio" aria-checked={pressed.to_string()}
                id={source_button_id(kind)} tabindex={if pressed { "0" } else { "-1" }}
                class={classes!("seg", pressed.then_some("on"))} {onclick} {onkeydown}>
                { kind.label() }
            </button>
        }
    });
    let on_file = {
        let on_file = props.on_file.clone();
        Callback::from(move |event: Event| {
            let file = event
                .target()
                .and_then(|target| target.dyn_into::<HtmlInputElement>().ok())
                .and_then(|input| input.files())
                .and_then(|files| files.get(0));
            if let Some(file) = file {
                on_file.emit(file);
            }
        })
    };

    let running = !matches!(props.status, SourceStatus::Idle);
    let (label, class) = match &props.status {
        SourceStatus::Idle => ("Start", "btn primary wide"),
        SourceStatus::Starting => ("Starting… (cancel)", "btn wide"),
        SourceStatus::Running { .. } => ("Stop", "btn danger wide"),
    };
    let fps_options = FRAME_RATES.iter().map(|&fps| {
        html! { <option value={fps.to_string()} selected={settings.fps == fps}>{ format!("{fps} fps") }</option> }
    });
    let resolution_options = Resolution::ALL.iter().map(|&r| {
        html! { <option value={r.as_str()} selected={settings.resolution == r}>{ r.label() }</option> }
    });

    html! {
        <section class="panel" aria-labelledby="source-title">
            <h2 id="source-title">{ "Source" }</h2>
            <div class="segmented" role="radiogroup" aria-label="Source">{ for kind_buttons }</div>

            if settings.kind == SourceKind::Camera {
                <label class="field">
                    <span>{ "Camera" }</span>
                    <select id="camera-device" onchange={update(|s, v| s.device_id = (!v.is_empty()).then_some(v))}>
                        <option value="" selected={settings.device_id.is_none()}>{ "Default camera" }</option>
                        { for props.cameras.iter().map(|camera| html! {
                            <option value={camera.device_id.clone()}
                                selected={settings.device_id.as_deref() == Some(camera.device_id.as_str())}>
                                { camera.label.clone() }
                            </option>
                        }) }
                    </select>
                </label>
                <label class="field">
                    <span>{ "Facing" }</span>
                    <select id="camera-facing" disabled={settings.device_id.is_some()}
                        onchange={update(|s, v| s.facing = Facing::parse(&v).unwrap_or_default())}>
                        { for Facing::ALL.iter().map(|&f| html! {
                            <option value={f.as_str()} selected={settings.facing == f}>{ f.label() }</option>
                        }) }
                    </select>
                </label>
            }
            if settings.kind == SourceKind::File {
                <label class="field file">
                    <span>{ "Video file" }</span>
                    <input id="file-input" type="file" accept="video/*" onchange={on_file} />
                    <small>{ props.file_name.clone().unwrap_or_else(|| "WebM or MP4; it never leaves this device.".into()) }</small>
                </label>
            }
            if settings.kind != SourceKind::File {
                <div class="row">
                    <label class="field">
                        <span>{ "Resolution" }</span>
                        <select id="resolution" onchange={update(|s, v| s.resolution = Resolution::parse(&v).unwrap_or_default())}>
                            { for resolution_options }
                        </select>
                    </label>
                    <label class="field">
                        <span>{ "Frame rate" }</span>
                        <select id="fps" onchange={update(|s, v| s.fps = v.parse().unwrap_or(30))}>
                            { for fps_options }
                        </select>
                    </label>
                </div>
            }
            <button id="start" class={class} aria-pressed={running.to_string()}
                onclick={props.on_toggle.reform(|_| ())}>
                { label }
            </button>
            if let SourceStatus::Running { description } = &props.status {
                <p class="hint live"><span class="dot" aria-hidden="true"></span>{ description.clone() }</p>
            }
        </section>
    }
}
