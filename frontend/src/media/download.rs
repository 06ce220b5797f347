//! Saving a file the page made (snapshot, recording) through a temporary `<a download>`.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Blob, HtmlAnchorElement, Url};

/// Starts a download of `url` (an object or data URL) as `filename`.
pub fn save_url(url: &str, filename: &str) -> Result<(), JsValue> {
    let document = web_sys::window()
        .and_then(|window| window.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let anchor: HtmlAnchorElement = document.create_element("a")?.unchecked_into();
    anchor.set_href(url);
    anchor.set_download(filename);
    anchor.set_rel("noopener");
    anchor.click();
    Ok(())
}

/// Starts a download of `blob` as `filename`; the object URL is released a minute later
/// (the download has long started by then).
pub fn save_blob(blob: &Blob, filename: &str) -> Result<(), JsValue> {
    let url = Url::create_object_url_with_blob(blob)?;
    let result = save_url(&url, filename);
    gloo::timers::callback::Timeout::new(60_000, move || {
        let _ = Url::revoke_object_url(&url);
    })
    .forget();
    result
}

/// `lenscast-2026-11-21T10-42-05.png`-style names from the local clock.
pub fn timestamped(extension: &str) -> String {
    let now = js_sys::Date::new_0();
    format!(
        "lenscast-{:04}-{:02}-{:02}T{:02}-{:02}-{:02}.{extension}",
        now.get_full_year(),
        now.get_month() + 1,
        now.get_date(),
        now.get_hours(),
        now.get_minutes(),
        now.get_seconds()
    )
}
