//! One filter in the pipeline editor: enable switch, order buttons, drag handle, remove,
//! and a control per parameter (slider, a checkbox for on/off parameters, a colour picker
//! for colours). Segmentation cards also say whether the model is loading or failed; the
//! `model` card has its file picker ([`super::model_card`]).

use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use filters::ParamKind;

use super::backdrop_picker::BackdropPicker;
use super::model_card::{ModelCard, OwnModelView};
use crate::{
    frame_loop::SegmentState,
    state::{Entry, PipelineAction},
};

#[derive(PartialEq, Properties)]
pub struct FilterCardProps {
    pub entry: Entry,
    pub index: usize,
    pub count: usize,
    pub dispatch: Callback<PipelineAction>,
    /// Drag and drop: this card started dragging / something was dropped on it.
    pub on_drag_start: Callback<u32>,
    pub on_drop: Callback<usize>,
    pub dragging: bool,
    /// The segmentation model's state (shown only on `segment-*` cards).
    #[prop_or_default]
    pub segment: Option<SegmentState>,
    /// The user's own model (shown only on the `model` card) and where a picked or
    /// dropped file goes.
    #[prop_or_default]
    pub own_model: OwnModelView,
    #[prop_or_default]
    pub on_model_file: Callback<web_sys::File>,
}

/// `0xRRGGBB` as `#rrggbb`, what `<input type="color">` holds.
fn color_hex(value: f32) -> String {
    format!("#{:06x}", (value.max(0.0) as u32).min(0xff_ff_ff))
}

/// `#rrggbb` back to `0xRRGGBB`.
fn parse_color(text: &str) -> Option<f32> {
    let hex = text.strip_prefix('#')?;
    if hex.len() != 6 {
        return None;
    }
    u32::from_str_radix(hex, 16).ok().map(|rgb| rgb as f32)
}

fn input_of(event: &Event) -> Option<HtmlInputElement> {
    event
        .target()
        .and_then(|target| target.dyn_into::<HtmlInputElement>().ok())
}

/// Shows a value with as many decimals as its step needs.
fn format_value(value: f32, step: f32) -> String {
    if step.fract() == 0.0 {
        format!("{value:.0}")
    } else if (step * 10.0).fract() == 0.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[function_component]
pub fn FilterCard(props: &FilterCardProps) -> Html {
    let entry = &props.entry;
    let id = entry.id;
    let info = entry.spec.info();
    let dispatch = &props.dispatch;
    let drag_over = use_state(|| false);

    let params = info.params.iter().map(|param| {
        let value = entry.spec.param(param.name).unwrap_or(param.default);
        let name = param.name.to_owned();
        let input_id = format!("f{id}-{}", param.name);
        // Toggles are declared as 0..=1 in whole steps.
        let toggle = param.min.to_bits() == 0.0_f32.to_bits()
            && param.max.to_bits() == 1.0_f32.to_bits()
            && param.step.to_bits() == 1.0_f32.to_bits();
        if param.kind == ParamKind::Color {
            let oninput = dispatch.reform(move |event: InputEvent| PipelineAction::SetParam {
                id,
                param: name.clone(),
                value: input_of(&event)
                    .and_then(|input| parse_color(&input.value()))
                    .unwrap_or(value),
            });
            html! {
                <label class="param color" for={input_id.clone()}>
                    <span class="param-name">{ param.label }</span>
                    <output>{ color_hex(value) }</output>
                    <input id={input_id} type="color" value={color_hex(value)} {oninput} />
                </label>
            }
        } else if toggle {
            let onchange = dispatch.reform(move |event: Event| PipelineAction::SetParam {
                id,
                param: name.clone(),
                value: if input_of(&event).is_some_and(|input| input.checked()) {
                    1.0
                } else {
                    0.0
                },
            });
            html! {
                <label class="param toggle" for={input_id.clone()}>
                    <input id={input_id} type="checkbox" checked={value >= 0.5} {onchange} />
                    <span>{ param.label }</span>
                </label>
            }
        } else {
            let oninput = dispatch.reform(move |event: InputEvent| PipelineAction::SetParam {
                id,
                param: name.clone(),
                value: input_of(&event)
                    .and_then(|input| input.value().parse().ok())
                    .unwrap_or(value),
            });
            html! {
                <label class="param" for={input_id.clone()}>
                    <span class="param-name">{ param.label }</span>
                    <output>{ format_value(value, param.step) }</output>
                    <input id={input_id} type="range"
                        min={param.min.to_string()} max={param.max.to_string()}
                        step={param.step.to_string()} value={value.to_string()} {oninput} />
                </label>
            }
        }
    });

    let on_enabled = dispatch.reform(move |event: Event| PipelineAction::SetEnabled {
        id,
        enabled: input_of(&event).is_some_and(|input| input.checked()),
    });
    let ondragstart = {
        let start = props.on_drag_start.clone();
        Callback::from(move |event: DragEvent| {
            if let Some(data) = event.data_transfer() {
                data.set_effect_allowed("move");
                let _ = data.set_data("text/plain", &id.to_string());
            }
            start.emit(id);
        })
    };
    let ondragover = {
        let drag_over = drag_over.clone();
        Callback::from(move |event: DragEvent| {
            event.prevent_default();
            if !*drag_over {
                drag_over.set(true);
            }
        })
    };
    let ondragleave = {
        let drag_over = drag_over.clone();
        Callback::from(move |_| drag_over.set(false))
    };
    let is_model = info.name == "model";
    let ondrop = {
        let drop = props.on_drop.clone();
        let on_model_file = props.on_model_file.clone();
        let index = props.index;
        let drag_over = drag_over.clone();
        Callback::from(move |event: DragEvent| {
            event.prevent_default();
            drag_over.set(false);
            // A file dropped on the `model` card is its model; anything else reorders.
            let file = event
                .data_transfer()
                .and_then(|data| data.files())
                .and_then(|files| files.get(0));
            match file {
                Some(file) if is_model => on_model_file.emit(file),
                Some(_) => {}
                None => drop.emit(index),
            }
        })
    };

    // Until a frame has run with the stage its state is unknown: it is loading then too.
    let segment_note = info.name.starts_with("segment-").then(|| {
        match props.segment.clone().unwrap_or(SegmentState::Loading) {
            SegmentState::Loading => html! {
                <p class="filter-status loading" role="status">{ "loading model…" }</p>
            },
            SegmentState::Ready => html! {},
            SegmentState::Failed(reason) => html! {
                <p class="filter-status failed" role="alert">{ format!("not running: {reason}") }</p>
            },
        }
    });
    let class = classes!(
        "filter",
        (!entry.enabled).then_some("off"),
        props.dragging.then_some("dragging"),
        (*drag_over).then_some("drag-over"),
    );
    html! {
        <li {class} draggable="true" {ondragstart} {ondragover} {ondragleave} {ondrop}
            data-filter={info.name}>
            <div class="filter-head">
                <span class="grip" title="Drag to reorder" aria-hidden="true">{ "⋮⋮" }</span>
                <label class="switch" title={if entry.enabled { "Disable" } else { "Enable" }}>
                    <input type="checkbox" checked={entry.enabled} onchange={on_enabled}
                        aria-label={format!("Enable {}", info.label)} />
                    <span class="knob"></span>
                </label>
                <span class="filter-name" title={info.description}>{ info.label }</span>
                <div class="filter-tools">
                    <button class="btn icon ghost" title="Move up" aria-label={format!("Move {} up", info.label)}
                        disabled={props.index == 0}
                        onclick={dispatch.reform(move |_| PipelineAction::MoveUp(id))}>{ "↑" }</button>
                    <button class="btn icon ghost" title="Move down" aria-label={format!("Move {} down", info.label)}
                        disabled={props.index + 1 >= props.count}
                        onclick={dispatch.reform(move |_| PipelineAction::MoveDown(id))}>{ "↓" }</button>
                    if !info.params.is_empty() {
                        <button class="btn icon ghost" title="Reset parameters"
                            aria-label={format!("Reset {} parameters", info.label)}
                            onclick={dispatch.reform(move |_| PipelineAction::ResetParams(id))}>{ "↺" }</button>
                    }
                    <button class="btn icon ghost remove" title="Remove" aria-label={format!("Remove {}", info.label)}
                        onclick={dispatch.reform(move |_| PipelineAction::Remove(id))}>{ "×" }</button>
                </div>
            </div>
            if let Some(note) = segment_note {
                { note }
            }
            if is_model {
                <ModelCard {id} view={props.own_model.clone()} on_pick={props.on_model_file.clone()} />
            }
            if !info.params.is_empty() {
                <div class="params">{ for params }</div>
            }
            if info.name == "segment-replace" {
                <BackdropPicker />
            }
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn colours_round_trip_through_the_colour_input() {
        assert_eq!(color_hex(f32::from(0x00_ff_00_u16)), "#00ff00");
        assert_eq!(color_hex(0x12_34_56 as f32), "#123456");
        assert_eq!(color_hex(-1.0), "#000000");
        assert_eq!(color_hex(2.0e7), "#ffffff");
        assert_eq!(parse_color("#123456"), Some(0x12_34_56 as f32));
        assert_eq!(parse_color("#FFFFFF"), Some(0xff_ff_ff as f32));
        assert_eq!(parse_color("123456"), None);
        assert_eq!(parse_color("#12345"), None);
        assert_eq!(parse_color("#12345g"), None);
    }
}
