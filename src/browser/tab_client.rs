//! The tab's side of a shared session (docs/tabs.md): it owns the app's callbacks and the
//! manager's subscriptions, and talks to the session's host (a `SharedWorker`, or the tab
//! leading the others) through the package's transport (`tabs.js`), in the messages of
//! `src/share/message.rs`. It decides nothing about the connection: the host does.
//!
//! A host that goes (the leading tab closed) is replaced by another, announced through the
//! transport; the tab then says hello again with its subscriptions and since when it heard
//! nothing, and the new host resyncs what it may have missed.

use super::callbacks::Callbacks;
use super::error;
use super::owned::OwnedListener;
use super::page::{self, PageEvent};
use crate::errors::ErrorReport;
use crate::session::{SessionStats, Status};
use crate::share::message::{Hello, TabKind, ToHost, ToTab};
use js_sys::{Function, JSON};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

thread_local! {
    /// The transport `tabs.js` registered (`initCasinoRealtime` does it): `{ available(),
    /// connect(onMessage, onHost) }`. Without it (the glue used on its own, a test), every
    /// manager runs its own session.
    static TRANSPORT: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

/// Registers the package's cross-tab transport. Internal: called by `initCasinoRealtime()`.
#[wasm_bindgen(js_name = __setTabTransport)]
pub fn set_tab_transport(transport: JsValue) {
    TRANSPORT.with(|t| *t.borrow_mut() = Some(transport));
}

fn method(target: &JsValue, name: &str) -> Option<Function> {
    super::js::get(target, name)
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
}

/// How this browser would share a session: `Some("worker")` or `Some("leader")`, or `None`
/// when it cannot (no transport registered, no `SharedWorker` and no Web Locks).
pub(crate) fn sharing() -> Option<JsValue> {
    let transport = TRANSPORT.with(|t| t.borrow().clone())?;
    let available = method(&transport, "available")?;
    let yes = super::js::call(&available, &JsValue::UNDEFINED).ok()?;
    yes.as_bool().unwrap_or(false).then_some(transport)
}

struct TabState {
    hello: Hello,
    next_subscription: u64,
    /// A host is there and was told hello.
    hosted: bool,
    /// Some host served this tab before (a later hello resumes).
    served: bool,
    /// When the last message came from the host (wall ms).
    last_heard: Option<i64>,
    status: Status,
    stale: Option<i64>,
    /// The last `stats` snapshot the host sent, as JSON.
    stats: Option<String>,
    closed: bool,
}

/// A function the transport calls.
type Handler = Closure<dyn FnMut(JsValue)>;

/// One manager of this tab, served by a shared session.
pub(crate) struct TabClient {
    callbacks: Callbacks,
    state: RefCell<TabState>,
    /// `{ post(text), close(), mode() }`, once connected.
    link: RefCell<Option<JsValue>>,
    /// The transport, which says the mode before the link exists.
    transport: JsValue,
    listeners: RefCell<Vec<OwnedListener>>,
    /// What the transport calls; they live as long as the client.
    handlers: RefCell<Vec<Handler>>,
    me: Weak<TabClient>,
}

impl TabClient {
    /// Connects to the shared session through `transport`. `options` is the shared part of the
    /// manager's options, as JSON. Without a token but with `getAccessToken`, it asks for one
    /// first: the token's user picks the session.
    pub fn new(
        transport: JsValue,
        options: String,
        token: Option<String>,
        callbacks: Callbacks,
    ) -> Rc<TabClient> {
        let token_source = callbacks.get_access_token.is_some();
        let client = Rc::new_cyclic(|me: &Weak<TabClient>| TabClient {
            callbacks,
            state: RefCell::new(TabState {
                hello: Hello {
                    options,
                    token: token.clone(),
                    token_source,
                    subscriptions: Vec::new(),
                    missed_since: None,
                },
                next_subscription: 0,
                hosted: false,
                served: false,
                last_heard: None,
                status: Status::Connecting,
                stale: None,
                stats: None,
                closed: false,
            }),
            link: RefCell::new(None),
            transport: transport.clone(),
            listeners: RefCell::new(Vec::new()),
            handlers: RefCell::new(Vec::new()),
            me: me.clone(),
        });
        let me = client.me.clone();
        *client.listeners.borrow_mut() = page::listeners(move |event| {
            if let Some(client) = me.upgrade() {
                client.post(&match event {
                    PageEvent::Online(online) => ToHost::Online(online),
                    PageEvent::Visible(visible) => ToHost::Visible(visible),
                    PageEvent::Resumed => ToHost::Resumed,
                });
            }
        });
        if token.is_none() && token_source {
            let me = client.me.clone();
            client.callbacks.ask_token(move |token| {
                if let Some(client) = me.upgrade() {
                    client.state.borrow_mut().hello.token = token.ok();
                    client.connect(&transport);
                }
            });
        } else {
            client.connect(&transport);
        }
        client
    }

    fn connect(&self, transport: &JsValue) {
        if self.state.borrow().closed {
            return;
        }
        let (on_message, on_host) = (self.me.clone(), self.me.clone());
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |text: JsValue| {
            if let (Some(client), Some(text)) = (on_message.upgrade(), text.as_string()) {
                client.received(&text);
            }
        });
        let on_host = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            if let Some(client) = on_host.upgrade() {
                client.host_arrived();
            }
        });
        let link = method(transport, "connect").and_then(|connect| {
            connect
                .call2(
                    transport,
                    on_message.as_ref().unchecked_ref(),
                    on_host.as_ref().unchecked_ref(),
                )
                .ok()
        });
        self.handlers.borrow_mut().extend([on_message, on_host]);
        *self.link.borrow_mut() = link;
    }

    /// Sends a message, once a host was told hello (before, the hello will carry the state).
    fn post(&self, message: &ToHost) {
        let ready = {
            let state = self.state.borrow();
            state.hosted && !state.closed
        };
        let link = self.link.borrow().clone();
        if let (true, Some(link)) = (ready, link) {
            if let Some(post) = method(&link, "post") {
                let _ = post.call1(&link, &message.encode().into());
            }
        }
    }

    /// A host is there (the first, or one that took over): say hello with everything.
    fn host_arrived(&self) {
        let hello = {
            let mut state = self.state.borrow_mut();
            if state.closed {
                return;
            }
            let mut hello = state.hello.clone();
            if state.served {
                hello.missed_since = Some(state.last_heard.unwrap_or_else(wall_now));
            }
            state.hosted = true;
            state.served = true;
            hello
        };
        self.post(&ToHost::Hello(hello));
    }

    fn received(&self, text: &str) {
        let Ok((kind, body)) = ToTab::split(text) else {
            return;
        };
        {
            let mut state = self.state.borrow_mut();
            if state.closed {
                return;
            }
            state.last_heard = Some(wall_now());
        }
        match kind {
            TabKind::Batch => self.callbacks.batch(body),
            TabKind::Status => {
                let value = JSON::parse(body).unwrap_or(JsValue::NULL);
                let status = super::js::get(&value, "status")
                    .ok()
                    .and_then(|s| s.as_string())
                    .and_then(|s| Status::parse(&s));
                let stale = super::js::get(&value, "staleSince")
                    .ok()
                    .and_then(|s| s.as_f64())
                    .map(|t| t as i64);
                let Some(status) = status else { return };
                {
                    let mut state = self.state.borrow_mut();
                    state.status = status;
                    state.stale = stale;
                }
                self.callbacks.status(status.as_str(), stale);
            }
            TabKind::Error | TabKind::Refused => {
                let report = crate::json::parse(body)
                    .ok()
                    .and_then(|v| ErrorReport::from_json(&v));
                if let Some(report) = report {
                    self.callbacks.error(&error::report(&report));
                }
            }
            TabKind::RequestToken => {
                let Ok(id) = body.parse::<u64>() else { return };
                let me = self.me.clone();
                self.callbacks.ask_token(move |result| {
                    if let Some(client) = me.upgrade() {
                        client.post(&ToHost::Token { id, result });
                    }
                });
            }
            TabKind::Stats => self.state.borrow_mut().stats = Some(body.to_owned()),
        }
    }

    /// `subscribe()`: the tab's number for the subscription, or `None` after `close()`.
    pub fn subscribe(&self, resource: Option<String>) -> Option<u64> {
        let id = {
            let mut state = self.state.borrow_mut();
            if state.closed {
                return None;
            }
            state.next_subscription += 1;
            let id = state.next_subscription;
            state.hello.subscriptions.push((id, resource.clone()));
            id
        };
        self.post(&ToHost::Subscribe { id, resource });
        Some(id)
    }

    pub fn unsubscribe(&self, id: u64) {
        let had = {
            let mut state = self.state.borrow_mut();
            let before = state.hello.subscriptions.len();
            state.hello.subscriptions.retain(|(s, _)| *s != id);
            before != state.hello.subscriptions.len()
        };
        if had {
            self.post(&ToHost::Unsubscribe { id });
        }
    }

    pub fn set_auth(&self, token: String) {
        self.state.borrow_mut().hello.token = Some(token.clone());
        self.post(&ToHost::SetAuth(token));
    }

    pub fn flush(&self) {
        self.post(&ToHost::Flush);
    }

    pub fn status(&self) -> Status {
        let state = self.state.borrow();
        if state.closed {
            Status::Closed
        } else {
            state.status
        }
    }

    /// The mode in force: `worker`, `leader` or `follower`, as the link (or, before it, the
    /// transport) says.
    pub fn mode(&self) -> String {
        let target = self.link.borrow().clone().unwrap_or(self.transport.clone());
        method(&target, "mode")
            .and_then(|m| m.call0(&target).ok())
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "follower".to_owned())
    }

    /// `stats()` as JSON: the host's last snapshot (its counts are the shared session's, its
    /// channels this tab's; at most 200 ms old), or nothing counted yet; a fresh one is asked
    /// for too.
    pub fn stats(&self) -> String {
        let json = {
            let state = self.state.borrow();
            state.stats.clone().unwrap_or_else(|| {
                let stats = SessionStats {
                    stale_since: state.stale,
                    ..SessionStats::default()
                };
                stats.to_json(state.status)
            })
        };
        self.post(&ToHost::Stats);
        json
    }

    /// `close()`: the host forgets this tab; final.
    pub fn close(&self) {
        if self.state.borrow().closed {
            return;
        }
        self.post(&ToHost::Bye);
        self.state.borrow_mut().closed = true;
        let link = self.link.borrow_mut().take();
        if let Some(close) = link.as_ref().and_then(|l| method(l, "close")) {
            let _ = close.call0(link.as_ref().unwrap_or(&JsValue::NULL));
        }
        self.listeners.borrow_mut().clear();
        self.callbacks.status(Status::Closed.as_str(), None);
    }
}

fn wall_now() -> i64 {
    js_sys::Date::now() as i64
}
