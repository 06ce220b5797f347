//! The worker binary's entry: waits for the page's first message, which says whether this
//! worker filters or sends, and hands over to that role.

use wasm_bindgen::{JsCast, prelude::Closure};
use web_sys::{MessageEvent, MessagePort};

use super::{
    filter,
    protocol::{FromFilter, Role, ToFilter, envelope, field, open},
    scope::{post, scope},
    sender,
};

/// Runs in the worker: installs the first message handler and tells the page it listens.
pub fn run() {
    let first = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        // Both roles' first message is `Hello` with the role, and the port to the other.
        let Some(ToFilter::Hello { role }) = open::<ToFilter>(&data) else {
            return;
        };
        let Some(port) = field(&data, "port").map(JsCast::unchecked_into::<MessagePort>) else {
            return;
        };
        // The role installs its own handler in place of this one.
        match role {
            Role::Filter => filter::run(port),
            Role::Sender => sender::run(port),
        }
    });
    scope().set_onmessage(Some(first.as_ref().unchecked_ref()));
    // Runs once per worker; a closure must outlive its own call, so it is never freed.
    first.forget();
    post(&envelope(&FromFilter::Ready, &[]), &js_sys::Array::new());
}
