//! The session executed in a page: feeds it socket events, timer ticks, page events and app
//! calls, and carries out what it asks.
//!
//! User callbacks are called only after every `RefCell` borrow is released, and what they throw
//! is caught and reported; a callback may call `unsubscribe()` or `close()` from inside itself.

use super::callbacks::Callbacks;
use super::error;
use super::owned::{mono_now, now, OwnedListener, OwnedSocket, OwnedTimer};
use crate::clock::Now;
use crate::errors::{ErrorKind, Prop};
use crate::inspect::LogLine;
use crate::session::{Output, Session, SessionError, Status, MAX_FRAME_BYTES};
use js_sys::{ArrayBuffer, JsString};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::MessageEvent;

#[wasm_bindgen(inline_js = "
export function binary_frame(event, max) {
  const data = event.data;
  return data instanceof ArrayBuffer && data.byteLength <= max ? new Uint8Array(data) : undefined;
}
")]
extern "C" {
    /// A binary frame's bytes, copied into wasm memory by the glue; `None` for a text frame or
    /// one over `max` bytes (the slow path reads and judges those).
    fn binary_frame(event: &MessageEvent, max: f64) -> Option<Vec<u8>>;
}

#[derive(Default)]
pub(crate) struct Host {
    pub socket: Option<OwnedSocket>,
    pub timer: Option<OwnedTimer>,
    pub listeners: Vec<OwnedListener>,
}

pub(crate) struct Inner {
    pub session: RefCell<Session>,
    pub host: RefCell<Host>,
    pub callbacks: Callbacks,
    /// Deliveries in the order the session produced them. A callback that re-enters (calls
    /// `close()`, `subscribe()`) only adds to the queue; the outermost `run` empties it.
    queue: RefCell<VecDeque<Delivery>>,
    delivering: Cell<bool>,
    pub me: Weak<Inner>,
}

/// What to hand user code once no state is borrowed.
enum Delivery {
    Batch(String),
    /// A status, with the manager's `staleSince` then.
    Status(Status, Option<i64>),
    Error(JsValue),
    RequestToken(u64),
    Log(LogLine),
}

fn session_error(error: &SessionError) -> JsValue {
    error::report(&error.report())
}

impl Inner {
    pub fn new(session: Session, callbacks: Callbacks) -> Rc<Inner> {
        let inner = Rc::new_cyclic(|me: &Weak<Inner>| Inner {
            session: RefCell::new(session),
            host: RefCell::new(Host::default()),
            callbacks,
            queue: RefCell::new(VecDeque::new()),
            delivering: Cell::new(false),
            me: me.clone(),
        });
        let me = inner.me.clone();
        inner.host.borrow_mut().timer = Some(OwnedTimer::new(move || {
            if let Some(inner) = me.upgrade() {
                if let Some(timer) = inner.host.borrow_mut().timer.as_mut() {
                    timer.fired();
                }
                inner.session.borrow_mut().tick(now());
                inner.run();
            }
        }));
        inner
    }

    /// Carries out the session's outputs until it has nothing more to say, then re-arms the
    /// timer. Callbacks run between rounds, with nothing borrowed.
    pub fn run(&self) {
        self.run_since(None);
    }

    /// As `run`, after an input read at monotonic time `read`: the re-arm reuses that reading
    /// unless a callback ran meanwhile (one clock call fewer per frame).
    fn run_since(&self, mut read: Option<u64>) {
        loop {
            self.execute();
            if self.delivering.get() {
                // A callback re-entered: the outer run delivers, in order.
                return;
            }
            let next = self.queue.borrow_mut().pop_front();
            let Some(delivery) = next else { break };
            read = None;
            self.delivering.set(true);
            self.deliver(delivery);
            self.delivering.set(false);
        }
        let deadline = self.session.borrow().deadline();
        if let Some(timer) = self.host.borrow_mut().timer.as_mut() {
            timer.arm(deadline, read.unwrap_or_else(mono_now));
        }
    }

    /// Carries out the session's socket outputs and queues what is for the app.
    fn execute(&self) {
        loop {
            let (lines, outputs) = {
                let mut session = self.session.borrow_mut();
                (session.take_log(), session.drain())
            };
            for line in lines {
                self.queue.borrow_mut().push_back(Delivery::Log(line));
            }
            if outputs.is_empty() {
                return;
            }
            for output in outputs {
                let delivery = match output {
                    Output::Open { url, socket } => {
                        self.open(&url, socket);
                        continue;
                    }
                    Output::Close { code, reason } => {
                        let socket = self.host.borrow_mut().socket.take();
                        if let Some(socket) = socket {
                            socket.close(code, &reason);
                        }
                        continue;
                    }
                    Output::Send(text) => {
                        let ws = self.host.borrow().socket.as_ref().map(|s| s.ws.clone());
                        if let Some(ws) = ws {
                            // A failed send means the socket is going; its close event follows.
                            let _ = ws.send_with_str(&text);
                        }
                        continue;
                    }
                    // This host serves client 0 only: a tab on its own.
                    Output::Batch(_, batch) => Delivery::Batch(batch.to_json()),
                    Output::Status(_, status) => {
                        Delivery::Status(status, self.session.borrow().stale_since())
                    }
                    Output::Stale(_, since) => {
                        // One call for a status and a staleness that changed together.
                        let mut queue = self.queue.borrow_mut();
                        if let Some(Delivery::Status(_, stale)) = queue.back_mut() {
                            *stale = since;
                            continue;
                        }
                        Delivery::Status(self.session.borrow().status(), since)
                    }
                    Output::Error(_, error) => Delivery::Error(session_error(&error)),
                    Output::RequestToken { id } => Delivery::RequestToken(id),
                };
                self.queue.borrow_mut().push_back(delivery);
            }
        }
    }

    fn open(&self, url: &str, id: u64) {
        let (open, close, message) = (self.me.clone(), self.me.clone(), self.me.clone());
        let socket = OwnedSocket::open(
            url,
            move |_| {
                with(&open, |inner| {
                    inner.session.borrow_mut().socket_opened(id, now())
                })
            },
            move |_| {
                with(&close, |inner| {
                    inner.session.borrow_mut().socket_closed(id, now())
                })
            },
            move |event: MessageEvent| {
                if let Some(inner) = message.upgrade() {
                    let at = now();
                    feed_frame(&mut inner.session.borrow_mut(), id, &event, at);
                    inner.run_since(Some(at.mono));
                }
            },
        );
        match socket {
            Ok(socket) => self.host.borrow_mut().socket = Some(socket),
            // An invalid URL, or a page that may not open it (mixed content): say so, and treat
            // it as a lost socket, which retries with backoff.
            Err(thrown) => {
                let error = error::new(
                    ErrorKind::Protocol,
                    &format!("cannot open a WebSocket to {url}"),
                );
                error::set(&error, Prop::Reason, &"cannot_open".into());
                error::set(&error, Prop::Cause, &thrown);
                self.queue.borrow_mut().push_back(Delivery::Error(error));
                self.session.borrow_mut().socket_closed(id, now());
            }
        }
    }

    fn deliver(&self, delivery: Delivery) {
        let callbacks = &self.callbacks;
        match delivery {
            Delivery::Batch(json) => callbacks.batch(&json),
            Delivery::Status(status, stale) => callbacks.status(status.as_str(), stale),
            Delivery::Error(error) => callbacks.error(&error),
            Delivery::RequestToken(id) => {
                let me = self.me.clone();
                callbacks.ask_token(move |token| {
                    with(&me, |inner| {
                        inner.session.borrow_mut().token_result(id, token, now())
                    });
                });
            }
            Delivery::Log(line) => callbacks.log(&line),
        }
    }

    /// Lets go of the socket, the timer and the listeners (after `close()`).
    pub fn release(&self) {
        let mut host = self.host.borrow_mut();
        host.socket = None;
        host.timer = None;
        host.listeners.clear();
    }
}

/// Runs `f` on the manager if it is still alive, then carries out what it caused.
pub(crate) fn with(me: &Weak<Inner>, f: impl FnOnce(&Inner)) {
    if let Some(inner) = me.upgrade() {
        f(&inner);
        inner.run();
    }
}

/// A frame, refused unread when it is larger than Supabase allows: it is never copied into
/// wasm memory. A text frame's UTF-16 length bounds its UTF-8 size from below.
/// A frame, refused unread when it is larger than Supabase allows: it is never copied into
/// wasm memory. A text frame's UTF-16 length bounds its UTF-8 size from below.
pub(crate) fn feed_frame(session: &mut Session, socket: u64, event: &MessageEvent, now: Now) {
    // The common case, a binary frame of a sane size, in one call across the boundary.
    if let Some(bytes) = binary_frame(event, MAX_FRAME_BYTES as f64) {
        return session.binary_frame(socket, &bytes, now);
    }
    let data = event.data();
    if let Some(text) = data.dyn_ref::<JsString>() {
        let units = text.length() as usize;
        if units > MAX_FRAME_BYTES {
            return session.frame_refused(socket, units, now);
        }
        let text = String::from(text);
        session.text_frame(socket, &text, now);
    } else if let Some(buffer) = data.dyn_ref::<ArrayBuffer>() {
        // `binary_frame` took every buffer of an allowed size: this one is over it.
        session.frame_refused(socket, buffer.byte_length() as usize, now);
    }
}
