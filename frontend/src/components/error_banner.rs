//! The source error, explained, with buttons for the ways forward.

use yew::prelude::*;

use crate::error::{ErrorAction, SourceError};

#[derive(PartialEq, Properties)]
pub struct ErrorBannerProps {
    pub error: SourceError,
    pub on_action: Callback<ErrorAction>,
    pub on_dismiss: Callback<()>,
}

/// Text with `backticked` parts shown as code.
fn with_code(text: &str) -> Html {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                html! { <code>{ part.to_owned() }</code> }
            } else {
                html! { { part.to_owned() } }
            }
        })
        .collect()
}

#[function_component]
pub fn ErrorBanner(props: &ErrorBannerProps) -> Html {
    let error = &props.error;
    html! {
        <div class="banner error" role="alert" id="error">
            <div class="banner-icon" aria-hidden="true">{ "!" }</div>
            <div class="banner-body">
                <strong>{ error.to_string() }</strong>
                <p>{ with_code(&error.detail()) }</p>
                <div class="banner-actions">
                    { for error.actions().iter().enumerate().map(|(i, action)| {
                        let action = *action;
                        let onclick = props.on_action.reform(move |_| action);
                        let class = if i == 0 { "btn primary" } else { "btn" };
                        html! { <button {class} {onclick}>{ action.label() }</button> }
                    }) }
                </div>
            </div>
            <button class="btn icon ghost" title="Dismiss" aria-label="Dismiss"
                onclick={props.on_dismiss.reform(|_| ())}>{ "×" }</button>
        </div>
    }
}
