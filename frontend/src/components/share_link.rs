//! The viewer link of a broadcast: copy it, scan its QR code, open the viewer, or replace
//! it with a new one.

use gloo::timers::callback::Timeout;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use yew::prelude::*;

use crate::broadcast::qr;

#[derive(PartialEq, Properties)]
pub struct ShareLinkProps {
    /// The absolute viewer link.
    pub link: AttrValue,
    /// The viewer page's path on this origin.
    pub watch_url: AttrValue,
    pub on_new_link: Callback<()>,
}

/// How long the copy button says "Copied".
const COPIED_MS: u32 = 1500;

#[function_component]
pub fn ShareLink(props: &ShareLinkProps) -> Html {
    let copied = use_state(|| false);
    // Dropping the timer with the component cancels it.
    let reset = use_mut_ref(|| None::<Timeout>);

    let copy = {
        let copied = copied.clone();
        let link = props.link.clone();
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
            let (copied, reset) = (copied.clone(), reset.clone());
            spawn_local(async move {
                if JsFuture::from(promise).await.is_ok() {
                    copied.set(true);
                    *reset.borrow_mut() = Some(Timeout::new(COPIED_MS, move || copied.set(false)));
                }
            });
        })
    };
    let new_link = props.on_new_link.reform(|_: MouseEvent| ());
    let link = &props.link;

    html! {
        <div class="bc-share">
            <span class="bc-label">{ "Viewer link" }</span>
            <div class="bc-link-row">
                <a id="share-link" href={link.clone()} target="_blank" rel="noopener">{ link.clone() }</a>
                <button id="copy-link" type="button" class="bc-small" onclick={copy}>
                    { if *copied { "Copied" } else { "Copy" } }
                </button>
            </div>
            <div class="bc-share-body">
                if let Some(svg) = qr::svg(link) {
                    <div class="bc-qr" role="img" aria-label="QR code of the viewer link">
                        { Html::from_html_unchecked(AttrValue::from(svg)) }
                    </div>
                }
                <div class="bc-share-actions">
                    <a id="open-viewer" class="bc-small bc-primary" href={props.watch_url.clone()} target="_blank" rel="noopener">
                        { "Open viewer ↗" }
                    </a>
                    <button id="new-link" type="button" class="bc-small" onclick={new_link}>{ "New link" }</button>
                    <p class="bc-hint">{ "Scan to watch on a phone. Anyone with the link can watch." }</p>
                </div>
            </div>
        </div>
    }
}
