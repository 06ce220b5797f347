//! The `segment-replace` card's picture: a file input for an image to put behind the person
//! instead of the colour, the picked picture's name with a button back to the colour, and
//! why a file cannot be used. The choice lives in the app and reaches the cards as a
//! context ([`BackdropChoice`]): every `segment-replace` card shows the same picture. It
//! stays on this device: a link carries only the colour.

use web_sys::HtmlInputElement;
use yew::prelude::*;

/// The picked picture as the cards show it, and where a pick or a clear goes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BackdropChoice {
    /// The picked file's name, once it has been read.
    pub name: Option<String>,
    /// A file is being read.
    pub reading: bool,
    /// Why the last pick cannot be used.
    pub error: Option<String>,
    pub on_pick: Callback<web_sys::File>,
    pub on_clear: Callback<()>,
}

#[function_component]
pub fn BackdropPicker() -> Html {
    let Some(choice) = use_context::<BackdropChoice>() else {
        return html! {};
    };
    let onchange = {
        let on_pick = choice.on_pick.clone();
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            if let Some(file) = input.files().and_then(|files| files.get(0)) {
                on_pick.emit(file);
            }
            // The same file picked again is a new pick.
            input.set_value("");
        })
    };
    let clear = choice.on_clear.reform(|_: MouseEvent| ());
    let status = if choice.reading {
        Some(html! { <span class="hint">{ "reading the picture…" }</span> })
    } else {
        choice.name.as_ref().map(|name| {
            html! {
                <span class="backdrop-name" title={name.clone()}>
                    { format!("Behind the person: {name}") }
                    <button type="button" class="btn icon ghost backdrop-clear"
                        aria-label="Use the colour again" title="Use the colour again"
                        onclick={clear}>{ "×" }</button>
                </span>
            }
        })
    };
    html! {
        <div class="backdrop-pick">
            if choice.name.is_none() {
                <span class="hint">{ "or a picture behind the person (it stays on this device):" }</span>
            }
            <input class="backdrop-file" type="file" accept="image/*"
                aria-label="A picture to put behind the person" {onchange} />
            { for status }
            if let Some(error) = &choice.error {
                <p class="filter-status failed" role="alert">{ error }</p>
            }
        </div>
    }
}
