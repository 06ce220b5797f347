//! The broadcast settings form: JPEG quality, frame-rate cap, width cap and encoder.

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::broadcast::{EncoderKind, Settings};

#[derive(PartialEq, Properties)]
pub struct BroadcastSettingsProps {
    pub settings: Settings,
    pub on_change: Callback<Settings>,
}

const WIDTHS: [u32; 6] = [1920, 1280, 960, 640, 480, 320];
const RATES: [u32; 6] = [60, 30, 24, 15, 10, 5];

#[function_component]
pub fn BroadcastSettings(props: &BroadcastSettingsProps) -> Html {
    let settings = &props.settings;
    let on_quality = {
        let settings = settings.clone();
        let on_change = props.on_change.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Ok(q) = input.value().parse::<f64>() {
                on_change.emit(Settings {
                    quality: q.clamp(0.05, 1.0),
                    ..settings.clone()
                });
            }
        })
    };
    let on_fps = select_handler(props, |s, v| {
        if let Ok(f) = v.parse() {
            s.max_fps = f;
        }
    });
    let on_width = select_handler(props, |s, v| {
        if let Ok(w) = v.parse() {
            s.max_width = w;
        }
    });
    let on_encoder = select_handler(props, |s, v| {
        if let Some(kind) = EncoderKind::parse(v) {
            s.encoder = kind;
        }
    });

    html! {
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
    }
}

/// A `<select>` change handler that applies the chosen value to a copy of the settings.
fn select_handler(
    props: &BroadcastSettingsProps,
    apply: fn(&mut Settings, &str),
) -> Callback<Event> {
    let settings = props.settings.clone();
    let on_change = props.on_change.clone();
    Callback::from(move |e: Event| {
        let select: HtmlSelectElement = e.target_unchecked_into();
        let mut next = settings.clone();
        apply(&mut next, &select.value());
        on_change.emit(next);
    })
}
