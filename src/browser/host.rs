//! What the browser lends the session, each owned so that dropping it lets go: the WebSocket and
//! its handlers, the one timer, and the page listeners (online, offline, visibility). No
//! `.forget()`: the closures live exactly as long as their owner.

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, Event, EventTarget, MessageEvent, WebSocket};

/// A WebSocket and the closures its handlers call.
pub(crate) struct OwnedSocket {
    pub ws: WebSocket,
    _handlers: [Closure<dyn FnMut(Event)>; 3],
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl OwnedSocket {
    /// Opens `url` (`binaryType = "arraybuffer"`, so frames keep their order) and wires the
    /// handlers.
    pub fn open(
        url: &str,
        on_open: impl FnMut(Event) + 'static,
        on_close: impl FnMut(Event) + 'static,
        on_message: impl FnMut(MessageEvent) + 'static,
    ) -> Result<Self, JsValue> {
        let ws = WebSocket::new(url)?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let on_open = Closure::<dyn FnMut(Event)>::new(on_open);
        let on_close = Closure::<dyn FnMut(Event)>::new(on_close);
        // An error is always followed by a close; nothing to do on the error itself.
        let on_error = Closure::<dyn FnMut(Event)>::new(|_event: Event| {});
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(on_message);
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Ok(OwnedSocket {
            ws,
            _handlers: [on_open, on_close, on_error],
            _on_message: on_message,
        })
    }

    /// Closes with a code and reason; the handlers are detached first, so nothing of this
    /// socket reaches the session afterwards.
    pub fn close(self, code: u16, reason: &str) {
        self.detach();
        let _ = self.ws.close_with_code_and_reason(code, reason);
    }

    fn detach(&self) {
        self.ws.set_onopen(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        self.ws.set_onmessage(None);
    }
}

impl Drop for OwnedSocket {
    fn drop(&mut self) {
        self.detach();
        let state = self.ws.ready_state();
        if state == WebSocket::CONNECTING || state == WebSocket::OPEN {
            let _ = self.ws.close();
        }
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

/// The one pending timer.
pub(crate) struct OwnedTimer {
    handle: JsValue,
    _callback: Closure<dyn FnMut()>,
}

impl OwnedTimer {
    /// Calls `callback` after `ms`.
    pub fn after(ms: f64, callback: impl FnMut() + 'static) -> Self {
        let callback = Closure::<dyn FnMut()>::new(callback);
        let handle = set_timeout(callback.as_ref().unchecked_ref(), ms.max(0.0));
        OwnedTimer {
            handle,
            _callback: callback,
        }
    }
}

impl Drop for OwnedTimer {
    fn drop(&mut self) {
        clear_timeout(&self.handle);
    }
}

/// An event listener, removed when dropped.
pub(crate) struct OwnedListener {
    target: EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(Event)>,
}

impl OwnedListener {
    /// Listens for `kind` on `target`.
    pub fn new(
        target: EventTarget,
        kind: &'static str,
        callback: impl FnMut(Event) + 'static,
    ) -> Result<Self, JsValue> {
        let callback = Closure::<dyn FnMut(Event)>::new(callback);
        target.add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref())?;
        Ok(OwnedListener {
            target,
            kind,
            callback,
        })
    }
}

impl Drop for OwnedListener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}
