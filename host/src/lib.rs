//! The session host, the package's main module (`casino_realtime_host`, and
//! `casino_realtime_debug` built with the inspector): the exported `SessionHost` runs the sans-IO
//! [`Hub`] wherever the session lives (the package's `SharedWorker`, a leading tab, or a page on
//! its own) and lends it what the browser has: a socket per session, one timer, and a `post`
//! function per client. It decides nothing; every manager of every page is a client of one,
//! speaking the messages of `src/share/message.rs` (docs/tabs.md).
//!
//! JS is called only with no `RefCell` borrowed (posts are collected first): a post may run a
//! client's callbacks in the same page, and they may call back in.
#![cfg(target_arch = "wasm32")]

use casino_realtime::browser::owned::{mono_now, now, OwnedSocket, OwnedTimer};
use casino_realtime::clock::Now;
use casino_realtime::session::{Output, Session, MAX_FRAME_BYTES};
use casino_realtime::share::hub::{Hub, HubOutput, PortId, SessionRef};
use js_sys::{ArrayBuffer, Function, JsString};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::MessageEvent;

/// Size classes in place of std's dlmalloc: smaller and faster for this workload (src/alloc.rs).
#[global_allocator]
static ALLOCATOR: casino_realtime::alloc::wasm::WasmAlloc =
    casino_realtime::alloc::wasm::WasmAlloc::new();

#[wasm_bindgen(inline_js = "
export function binary_frame(event, max) {
  const data = event.data;
  return data instanceof ArrayBuffer && data.byteLength <= max ? new Uint8Array(data) : undefined;
}
export function diagnose(url, session, done) {
  // Answered later, never from inside this call; once, even if the host is gone by then.
  const tell = (status, body) => {
    try { done(new MessageEvent('diagnosis', { data: `${session} ${status} ${body}` })); } catch (_) {}
  };
  const said = (e) => String((e && e.message) || e);
  Promise.resolve().then(() => fetch(url, {
    cache: 'no-store', credentials: 'omit', redirect: 'follow', signal: AbortSignal.timeout(10000),
  })).then(
    (r) => r.text().then((body) => tell(r.status, body.slice(0, 4096)), (e) => tell(r.status, said(e))),
    (e) => tell(0, said(e)));
}
")]
extern "C" {
    /// A binary frame's bytes, copied into wasm memory by the glue; `None` for a text frame or
    /// one over `max` bytes (the slow path reads and judges those).
    fn binary_frame(event: &MessageEvent, max: f64) -> Option<Vec<u8>>;
    /// `GET url` without credentials (10 s at most), then, later, `done` with a `MessageEvent`
    /// whose data is `"<session> <status> <body>"` (status 0 and what was thrown when no answer
    /// could be read). An event, so the socket's closure type serves: no closure glue of its own.
    fn diagnose(url: &str, session: f64, done: &JsValue);
}

/// A JS function that hands a `MessageEvent` to the host.
type EventHandler = Closure<dyn FnMut(MessageEvent)>;

/// The hub and what it was lent.
struct HostInner {
    hub: RefCell<Hub>,
    /// Each client's `post(text)`.
    ports: RefCell<Vec<(PortId, Function)>>,
    /// Each session's socket.
    sockets: RefCell<Vec<(SessionRef, OwnedSocket)>>,
    timer: RefCell<Option<OwnedTimer>>,
    /// What a diagnosis request calls back (made on the first).
    diagnosis: RefCell<Option<EventHandler>>,
    me: Weak<HostInner>,
}

/// Hosts the realtime sessions of the clients that connect to it. Made by the package (its
/// worker, a leading tab, a page hosting its own managers); apps do not make one.
#[wasm_bindgen]
pub struct SessionHost {
    inner: Rc<HostInner>,
}

impl HostInner {
    /// Runs `f` on the hub, then carries out what it asked.
    fn with_hub(&self, f: impl FnOnce(&mut Hub)) {
        f(&mut self.hub.borrow_mut());
        self.run();
    }

    /// Carries out the hub's outputs until it has nothing more to say, then re-arms the
    /// timer. Posts run with nothing borrowed. Never inlined: every input ends here, and a copy
    /// in each caller cost kilobytes of wasm.
    #[inline(never)]
    fn run(&self) {
        loop {
            let outputs = self.hub.borrow_mut().drain(now());
            if outputs.is_empty() {
                break;
            }
            for output in outputs {
                match output {
                    HubOutput::Post { port, text } => {
                        let post = self
                            .ports
                            .borrow()
                            .iter()
                            .find(|(p, _)| *p == port)
                            .map(|(_, f)| f.clone());
                        if let Some(post) = post {
                            let _ = casino_realtime::browser::js::call(&post, &text.into());
                        }
                    }
                    HubOutput::Socket { session, output } => self.socket(session, output),
                }
            }
        }
        let deadline = self.hub.borrow().deadline();
        if let Some(timer) = self.timer.borrow_mut().as_mut() {
            timer.arm(deadline, mono_now());
        }
    }

    fn socket(&self, session: SessionRef, output: Output) {
        match output {
            Output::Open { url, socket } => self.open(session, &url, socket),
            Output::Close { code, reason } => {
                let taken = {
                    let mut sockets = self.sockets.borrow_mut();
                    let i = sockets.iter().position(|(s, _)| *s == session);
                    i.map(|i| sockets.swap_remove(i).1)
                };
                if let Some(socket) = taken {
                    socket.close(code, &reason);
                }
            }
            Output::Diagnose { url } => {
                // JS is called with nothing borrowed.
                let done: JsValue = {
                    let mut done = self.diagnosis.borrow_mut();
                    let done = done.get_or_insert_with(|| {
                        let me = self.me.clone();
                        Closure::new(move |event: MessageEvent| diagnosed(&me, &event))
                    });
                    done.as_ref().clone()
                };
                diagnose(&url, session as f64, &done);
            }
            Output::Send(text) => {
                let ws = self
                    .sockets
                    .borrow()
                    .iter()
                    .find(|(s, _)| *s == session)
                    .map(|(_, socket)| socket.ws.clone());
                if let Some(ws) = ws {
                    // A failed send means the socket is going; its close event follows.
                    let _ = ws.send_with_str(&text);
                }
            }
            _ => {}
        }
    }

    fn open(&self, session: SessionRef, url: &str, id: u64) {
        let (open, close, message) = (self.me.clone(), self.me.clone(), self.me.clone());
        let socket = OwnedSocket::open(
            url,
            move |_| on_hub(&open, session, |s, at| s.socket_opened(id, at)),
            move |_| on_hub(&close, session, |s, at| s.socket_closed(id, at)),
            move |event: MessageEvent| {
                on_hub(&message, session, |s, at| feed_frame(s, id, &event, at));
            },
        );
        match socket {
            Ok(socket) => {
                let mut sockets = self.sockets.borrow_mut();
                sockets.retain(|(s, _)| *s != session);
                sockets.push((session, socket));
            }
            // An invalid URL, or a page that may not open it (mixed content, a CSP): the
            // session tells its clients and retries as for a lost socket.
            Err(thrown) => {
                let why = casino_realtime::browser::error::describe(&thrown);
                if let Some(s) = self.hub.borrow_mut().session(session) {
                    s.socket_failed(id, why, now());
                }
            }
        }
    }
}

/// Runs `f` on one of the hub's sessions, then carries out what it caused.
fn on_hub(me: &Weak<HostInner>, session: SessionRef, f: impl FnOnce(&mut Session, Now)) {
    if let Some(inner) = me.upgrade() {
        inner.with_hub(|hub| {
            if let Some(s) = hub.session(session) {
                f(s, now());
            }
        });
    }
}

/// A diagnosis answered: `"<session> <status> <body>"` to the session that asked.
fn diagnosed(me: &Weak<HostInner>, event: &MessageEvent) {
    let Some(text) = event.data().as_string() else {
        return;
    };
    use casino_realtime::json::whole_number as number;
    let Some((session, rest)) = text.split_once(' ') else {
        return;
    };
    let Some((status, body)) = rest.split_once(' ') else {
        return;
    };
    let (Some(session), Some(status)) = (number(session), number(status)) else {
        return;
    };
    let status = u16::try_from(status).unwrap_or(0);
    on_hub(me, session, |s, at| s.diagnosed(status, body, at));
}

/// A frame, refused unread when it is larger than Supabase allows: it is never copied into
/// wasm memory. A text frame's UTF-16 length bounds its UTF-8 size from below.
fn feed_frame(session: &mut Session, socket: u64, event: &MessageEvent, now: Now) {
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

#[wasm_bindgen]
impl SessionHost {
    /// A host with no client yet.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> SessionHost {
        let seed = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
        let inner = Rc::new_cyclic(|me: &Weak<HostInner>| HostInner {
            hub: RefCell::new(Hub::new(seed)),
            ports: RefCell::new(Vec::new()),
            sockets: RefCell::new(Vec::new()),
            timer: RefCell::new(None),
            diagnosis: RefCell::new(None),
            me: me.clone(),
        });
        let me = inner.me.clone();
        *inner.timer.borrow_mut() = Some(OwnedTimer::new(move || {
            if let Some(inner) = me.upgrade() {
                if let Some(timer) = inner.timer.borrow_mut().as_mut() {
                    timer.fired();
                }
                inner.with_hub(|hub| hub.tick(now()));
            }
        }));
        SessionHost { inner }
    }

    /// A client connected as `port`; `post(text)` sends it a message.
    pub fn open(&self, port: f64, post: Function) {
        self.inner.ports.borrow_mut().push((port as PortId, post));
    }

    /// A message from the client at `port`.
    pub fn receive(&self, port: f64, text: &str) {
        let port = port as PortId;
        self.inner.with_hub(|hub| hub.receive(port, text, now()));
    }

    /// The client at `port` is gone.
    pub fn disconnect(&self, port: f64) {
        let port = port as PortId;
        self.inner.with_hub(|hub| hub.disconnect(port, now()));
        self.inner.ports.borrow_mut().retain(|(p, _)| *p != port);
    }

    /// Closes every session and socket: this host stops (a leading tab that lost its lead).
    pub fn close(&self) {
        let ports: Vec<PortId> = self.inner.ports.borrow().iter().map(|(p, _)| *p).collect();
        for port in ports {
            self.disconnect(port as f64);
        }
        self.inner.sockets.borrow_mut().clear();
        *self.inner.timer.borrow_mut() = None;
    }
}
