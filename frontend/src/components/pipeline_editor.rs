//! The pipeline editor: add from the catalog, the list of filter cards (drag to reorder),
//! clear, and the text form of what runs.

use wasm_bindgen::JsCast;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::{filter_card::FilterCard, model_card::OwnModelView};
use crate::{
    frame_loop::SegmentState,
    state::{PipelineAction, PipelineState},
};

#[derive(PartialEq, Properties)]
pub struct PipelineEditorProps {
    pub state: PipelineState,
    pub dispatch: Callback<PipelineAction>,
    /// The segmentation model's state, shown on `segment-*` cards.
    #[prop_or_default]
    pub segment: Option<SegmentState>,
    /// The user's own model, shown on the `model` card, and where its file goes.
    #[prop_or_default]
    pub own_model: OwnModelView,
    #[prop_or_default]
    pub on_model_file: Callback<web_sys::File>,
}

#[function_component]
pub fn PipelineEditor(props: &PipelineEditorProps) -> Html {
    let selected = use_state(|| "grayscale".to_owned());
    let dragging = use_state(|| None::<u32>);
    let state = &props.state;

    let on_select = {
        let selected = selected.clone();
        Callback::from(move |event: Event| {
            if let Some(select) = event
                .target()
                .and_then(|target| target.dyn_into::<HtmlSelectElement>().ok())
            {
                selected.set(select.value());
            }
        })
    };
    let on_add = {
        let selected = selected.clone();
        props
            .dispatch
            .reform(move |_| PipelineAction::Add((*selected).clone()))
    };
    let on_drag_start = {
        let dragging = dragging.clone();
        Callback::from(move |id| dragging.set(Some(id)))
    };
    let on_drop = {
        let dragging = dragging.clone();
        let dispatch = props.dispatch.clone();
        Callback::from(move |to: usize| {
            if let Some(id) = *dragging {
                dispatch.emit(PipelineAction::Move { id, to });
            }
            dragging.set(None);
        })
    };
    let text = state.saved_spec().to_string();

    html! {
        <section class="panel" aria-labelledby="pipeline-title">
            <div class="panel-title">
                <h2 id="pipeline-title">{ "Pipeline" }</h2>
                <button id="pipeline-clear" class="btn small ghost" disabled={state.is_empty()}
                    onclick={props.dispatch.reform(|_| PipelineAction::Clear)}>{ "Clear" }</button>
            </div>
            <div class="add-row">
                <select id="filter-choice" aria-label="Filter to add" onchange={on_select}>
                    { for filters::catalog().iter().map(|info| html! {
                        <option value={info.name} selected={*selected == info.name} title={info.description}>
                            { info.label }
                        </option>
                    }) }
                </select>
                <button id="filter-add" class="btn" disabled={state.is_full()} onclick={on_add}>{ "Add" }</button>
            </div>
            if state.is_empty() {
                <p class="hint empty">{ "No filters: the preview shows the source as it is. Add one above." }</p>
            } else {
                <ol class="filters" id="filters">
                    { for state.entries().iter().enumerate().map(|(index, entry)| html! {
                        <FilterCard key={entry.id} entry={entry.clone()} {index} count={state.len()}
                            dispatch={props.dispatch.clone()} segment={props.segment.clone()}
                            own_model={props.own_model.clone()} on_model_file={props.on_model_file.clone()}
                            on_drag_start={on_drag_start.clone()} on_drop={on_drop.clone()}
                            dragging={*dragging == Some(entry.id)} />
                    }) }
                </ol>
            }
            <code class="spec" id="pipeline-text" title="The pipeline's text form (also in the page URL)">
                { if text.is_empty() { "(no filters)".to_owned() } else { text } }
            </code>
        </section>
    }
}
