//! The publish WebSocket with its event handlers attached. Dropping a [`Socket`] detaches
//! the handlers before closing, so a socket that is being replaced cannot report its own
//! close as the new one's.

use wasm_bindgen::{JsCast, JsValue, prelude::Closure};
use web_sys::{BinaryType, Blob, CloseEvent, Event, MessageEvent, WebSocket};

type Handler<T> = Closure<dyn FnMut(T)>;

pub(super) struct Socket {
    ws: WebSocket,
    _on_open: Handler<Event>,
    _on_message: Handler<MessageEvent>,
    _on_close: Handler<CloseEvent>,
}

/// One encoded frame: a `Blob` from the browser's encoder goes out as it is, bytes from
/// the wasm encoder are copied out of wasm memory by the send.
pub(super) enum Payload<'a> {
    Blob(&'a Blob),
    Bytes(&'a [u8]),
}

impl Payload<'_> {
    pub(super) fn len(&self) -> usize {
        match self {
            Payload::Blob(blob) => blob.size() as usize,
            Payload::Bytes(bytes) => bytes.len(),
        }
    }
}

impl Socket {
    /// Starts connecting to `url`; binary messages arrive as `ArrayBuffer`s.
    pub(super) fn open(
        url: &str,
        on_open: impl FnMut(Event) + 'static,
        on_message: impl FnMut(MessageEvent) + 'static,
        on_close: impl FnMut(CloseEvent) + 'static,
    ) -> Result<Self, JsValue> {
        let ws = WebSocket::new(url)?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let on_open = Handler::<Event>::new(on_open);
        let on_message = Handler::<MessageEvent>::new(on_message);
        let on_close = Handler::<CloseEvent>::new(on_close);
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Bytes queued by earlier sends and not yet handed to the network.
    pub(super) fn buffered(&self) -> u32 {
        self.ws.buffered_amount()
    }

    /// Queues one text message (JSON for the server).
    pub(super) fn send_text(&self, text: &str) -> Result<(), JsValue> {
        self.ws.send_with_str(text)
    }

    /// Queues one binary message; returns its size.
    pub(super) fn send(&self, payload: &Payload<'_>) -> Result<usize, JsValue> {
        match payload {
            Payload::Blob(blob) => {
                self.ws.send_with_blob(blob)?;
                Ok(blob.size() as usize)
            }
            Payload::Bytes(bytes) => {
                self.ws.send_with_u8_array(bytes)?;
                Ok(bytes.len())
            }
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close_with_code(1000);
    }
}
