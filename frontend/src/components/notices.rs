//! Problems found in the page URL: shown once, dismissible; the page works with defaults.

use yew::prelude::*;

#[derive(PartialEq, Properties)]
pub struct NoticesProps {
    pub problems: Vec<String>,
    pub on_dismiss: Callback<()>,
}

#[function_component]
pub fn Notices(props: &NoticesProps) -> Html {
    if props.problems.is_empty() {
        return html! {};
    }
    html! {
        <div class="banner warning" role="status" id="notices">
            <div class="banner-icon" aria-hidden="true">{ "i" }</div>
            <div class="banner-body">
                <strong>{ "Some settings in the link were not understood" }</strong>
                <ul>{ for props.problems.iter().map(|p| html! { <li>{ p.clone() }</li> }) }</ul>
            </div>
            <button class="btn icon ghost" title="Dismiss" aria-label="Dismiss"
                onclick={props.on_dismiss.reform(|_| ())}>{ "×" }</button>
        </div>
    }
}
