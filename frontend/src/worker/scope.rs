//! The worker's own global scope, and posting to the page from it.

use wasm_bindgen::JsCast;
use web_sys::DedicatedWorkerGlobalScope;

/// This worker's global scope.
pub fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Posts `message` (an envelope) to the page, transferring `transfer`.
pub fn post(message: &js_sys::Object, transfer: &js_sys::Array) {
    let _ = scope().post_message_with_transfer(message, transfer);
}
