//! `SessionHost`, the exported class that hosts the sessions a browser's tabs share
//! (docs/tabs.md): in the package's `SharedWorker` (`worker.js`), or in the tab that leads the
//! others (`tabs.js`). It runs the sans-IO [`Hub`] and lends it what the browser has: a socket
//! per session, one timer, and a `post` function per tab. It decides nothing.

use super::driver::feed_frame;
use super::options;
use super::owned::{mono_now, now, OwnedSocket, OwnedTimer};
use crate::errors::{ErrorKind, ErrorReport};
use crate::session::{Output, Session};
use crate::share::hub::{Hub, HubOutput, PortId, SessionRef};
use crate::share::message::Hello;
use js_sys::Function;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use web_sys::MessageEvent;

/// The hub and what it was lent.
struct HostInner {
    hub: RefCell<Hub>,
    /// Each tab's `post(text)`.
    ports: RefCell<Vec<(PortId, Function)>>,
    /// Each session's socket.
    sockets: RefCell<Vec<(SessionRef, OwnedSocket)>>,
    timer: RefCell<Option<OwnedTimer>>,
    me: Weak<HostInner>,
}

/// Hosts the realtime sessions of the tabs that connect to it. Made by the package's worker
/// and by a leading tab; apps do not make one.
#[wasm_bindgen]
pub struct SessionHost {
    inner: Rc<HostInner>,
}

/// The session for a first tab's options, read as the tab read them.
fn make_session(hello: &Hello) -> Result<Session, ErrorReport> {
    let options = js_sys::JSON::parse(&hello.options).map_err(|_| {
        ErrorReport::new(
            ErrorKind::InvalidOptions,
            "casino-realtime: the shared options are not JSON",
        )
    })?;
    let read = options::read(&options).map_err(|thrown| {
        let name = js_sys::Reflect::get(&thrown, &"name".into())
            .ok()
            .and_then(|n| n.as_string());
        let kind = name
            .as_deref()
            .and_then(ErrorKind::from_name)
            .unwrap_or(ErrorKind::InvalidOptions);
        ErrorReport::new(kind, super::error::describe(&thrown))
    })?;
    let seed = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
    Ok(Session::new(
        read.session,
        read.rules,
        read.dedup,
        read.batch,
        hello.token.clone(),
        hello.token_source,
        seed,
    ))
}

impl HostInner {
    /// Runs `f` on the hub, then carries out what it asked.
    fn with_hub(&self, f: impl FnOnce(&mut Hub)) {
        f(&mut self.hub.borrow_mut());
        self.run();
    }

    /// Carries out the hub's outputs until it has nothing more to say, then re-arms the
    /// timer. Posts run with nothing borrowed.
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
                            let _ = super::js::call(&post, &text.into());
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
                let mut sockets = self.sockets.borrow_mut();
                if let Some(i) = sockets.iter().position(|(s, _)| *s == session) {
                    let (_, socket) = sockets.swap_remove(i);
                    socket.close(code, &reason);
                }
            }
            Output::Send(text) => {
                let sockets = self.sockets.borrow();
                if let Some((_, socket)) = sockets.iter().find(|(s, _)| *s == session) {
                    let _ = socket.ws.send_with_str(&text);
                }
            }
            _ => {}
        }
    }

    fn open(&self, session: SessionRef, url: &str, id: u64) {
        let (open, close, message) = (self.me.clone(), self.me.clone(), self.me.clone());
        let socket = OwnedSocket::open(
            url,
            move |_| on_hub(&open, session, |s| s.socket_opened(id, now())),
            move |_| on_hub(&close, session, |s| s.socket_closed(id, now())),
            move |event: MessageEvent| {
                if let Some(inner) = message.upgrade() {
                    let at = now();
                    if let Some(s) = inner.hub.borrow_mut().session(session) {
                        // The frame path a tab's own driver takes.
                        feed_frame(s, id, &event, at);
                    }
                    inner.run();
                }
            },
        );
        match socket {
            Ok(socket) => {
                // A session has one socket: a new one replaces the one it lost.
                let mut sockets = self.sockets.borrow_mut();
                sockets.retain(|(s, _)| *s != session);
                sockets.push((session, socket));
            }
            Err(_) => on_hub(&self.me, session, |s| s.socket_closed(id, now())),
        }
    }
}

/// Runs `f` on one of the hub's sessions, then carries out what it caused.
fn on_hub(me: &Weak<HostInner>, session: SessionRef, f: impl FnOnce(&mut Session)) {
    if let Some(inner) = me.upgrade() {
        inner.with_hub(|hub| {
            if let Some(s) = hub.session(session) {
                f(s);
            }
        });
    }
}

#[wasm_bindgen]
impl SessionHost {
    /// A host with no tab yet.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> SessionHost {
        let inner = Rc::new_cyclic(|me: &Weak<HostInner>| HostInner {
            hub: RefCell::new(Hub::new()),
            ports: RefCell::new(Vec::new()),
            sockets: RefCell::new(Vec::new()),
            timer: RefCell::new(None),
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

    /// A tab connected as `port`; `post(text)` sends it a message.
    pub fn open(&self, port: f64, post: Function) {
        self.inner.ports.borrow_mut().push((port as PortId, post));
    }

    /// A message from the tab at `port`.
    pub fn receive(&self, port: f64, text: &str) {
        let port = port as PortId;
        self.inner.with_hub(|hub| {
            hub.receive(port, text, &mut make_session, now());
        });
    }

    /// The tab at `port` is gone.
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
