//! What the browser lends a host, each owned so that dropping it lets go: the WebSocket and its
//! handlers and the one timer (gloo-timers); and the two clocks. No
//! `.forget()`: the closures live exactly as long as their owner.

use crate::clock::Now;
use gloo_timers::callback::Timeout;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, Event, MessageEvent, WebSocket};

/// A WebSocket and the closures its handlers call.
pub struct OwnedSocket {
    /// The socket.
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
        // Not none: closing a socket still connecting fires `error`, which Node's `ws` (used to
        // run the package outside a browser) throws when nothing listens.
        self.ws.set_onerror(Some(&super::js::ignore()));
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
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Both clocks: `performance.now()` for deadlines, `Date.now()` for what the server compares.
pub fn now() -> Now {
    Now::new(mono_now(), js_sys::Date::now() as i64)
}

/// The monotonic clock alone, where no wall time is needed (re-arming the timer after each
/// input: one call fewer per frame).
pub fn mono_now() -> u64 {
    performance_now().max(0.0) as u64
}

/// The one timer: gloo-timers' owned `Timeout`, cleared when dropped. It is re-armed only when
/// the session's deadline comes earlier than the time it is armed for: a deadline that moves
/// later (a batch window extended by every frame) lets it fire early once, and the tick re-arms
/// it. So a burst of frames costs no `setTimeout`/`clearTimeout` per frame, and a new closure
/// only per re-arm (a few a second).
pub struct OwnedTimer {
    callback: Rc<RefCell<dyn FnMut()>>,
    armed: Option<(u64, Timeout)>,
}

impl OwnedTimer {
    /// A timer that calls `callback` when it fires.
    pub fn new(callback: impl FnMut() + 'static) -> Self {
        OwnedTimer {
            callback: Rc::new(RefCell::new(callback)),
            armed: None,
        }
    }

    /// Makes sure the timer fires by `deadline` (monotonic ms), or not at all for `None`.
    pub fn arm(&mut self, deadline: Option<u64>, now: u64) {
        match (deadline, &self.armed) {
            (None, None) => {}
            (Some(at), Some((armed, _))) if *armed <= at => {}
            (deadline, _) => {
                self.armed = deadline.map(|at| {
                    let ms = at.saturating_sub(now).min(u64::from(u32::MAX)) as u32;
                    let callback = self.callback.clone();
                    (at, Timeout::new(ms, move || (callback.borrow_mut())()))
                });
            }
        }
    }

    /// The timer fired: nothing is armed any more (dropping a fired `Timeout` frees its closure).
    pub fn fired(&mut self) {
        self.armed = None;
    }
}
