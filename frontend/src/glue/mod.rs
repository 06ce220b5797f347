//! The wasm-facing edge: browser APIs that web-sys leaves out or marks unstable
//! ([`bindings`]), and the one place where pixels cross between JavaScript and wasm memory
//! ([`frame_buffer`]).

pub mod bindings;
pub mod frame_buffer;

use wasm_bindgen::{JsCast, JsValue};

/// The global `performance` (of the page or of a worker), if any.
fn performance() -> Option<web_sys::Performance> {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance"))
        .ok()
        .filter(|value| !value.is_undefined() && !value.is_null())
        .map(JsCast::unchecked_into)
}

/// `performance.now()` in milliseconds (0 where there is no `performance`). Read from the
/// global object, not `window`, so it works in the frame workers too.
pub fn now_ms() -> f64 {
    performance().map_or(0.0, |performance| performance.now())
}

/// Milliseconds since the Unix epoch at `performance_ms` (a `performance.now()` value).
pub fn epoch_ms(performance_ms: f64) -> f64 {
    performance().map_or_else(js_sys::Date::now, |performance| {
        performance.time_origin() + performance_ms
    })
}

/// Whether the global object has a property `name` (feature detection).
pub fn global_has(name: &str) -> bool {
    js_sys::Reflect::has(&js_sys::global(), &JsValue::from_str(name)).unwrap_or(false)
}

/// A plain JS object built from `(key, value)` pairs.
pub fn object(pairs: &[(&str, JsValue)]) -> js_sys::Object {
    let object = js_sys::Object::new();
    for (key, value) in pairs {
        // Setting a property on a fresh plain object cannot fail.
        let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object
}

/// Reads `object[key]` as a number.
pub fn get_f64(object: &JsValue, key: &str) -> Option<f64> {
    js_sys::Reflect::get(object, &JsValue::from_str(key))
        .ok()
        .and_then(|value| value.as_f64())
}

/// The message of a thrown JS value, for people.
pub fn js_error_message(error: &JsValue) -> String {
    if let Some(error) = error.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    if let Some(exception) = error.dyn_ref::<web_sys::DomException>() {
        return exception.message();
    }
    error.as_string().unwrap_or_else(|| format!("{error:?}"))
}
