//! `CasinoRealtime`: the session executed in a browser. It feeds the session socket events,
//! timer ticks, page events and app calls, and carries out what the session asks.
//!
//! User callbacks are called only after every `RefCell` borrow is released, and what they throw
//! is caught and reported; a callback may call `unsubscribe()` or `close()` from inside itself.

use super::host::{OwnedListener, OwnedSocket, OwnedTimer};
use super::options::{self, Options};
use crate::session::{Output, Session, SessionError, Status};
use js_sys::{Array, Date, Error, Function, Promise, Reflect, Uint8Array, JSON};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, VisibilityState};

#[wasm_bindgen(typescript_custom_section)]
const REALTIME_TS: &str = r#"
/** What `onBatch` receives: the cache actions of one coalescing window. */
export interface CacheBatch {
  actions: CacheAction[];
  /** "window" (the window closed), "resync" (a gap could not be replayed), "flush" (flush()). */
  reason: "window" | "resync" | "flush";
  /** Events whose actions are in the batch. */
  events: number;
  /** Duplicate deliveries dropped since the previous batch. */
  duplicates: number;
  /** When the window opened and was flushed, ms since the epoch. */
  openedAt: number;
  flushedAt: number;
}

/** The connection as the UI should show it. */
export type RealtimeStatus = "connecting" | "connected" | "reconnecting" | "degraded" | "denied" | "closed";

/** Options of `new CasinoRealtime(options)`. */
export interface CasinoRealtimeOptions {
  /** `wss://<project>.supabase.co/realtime/v1` (or the dev server's). */
  url: string;
  /** The project's anon/publishable key. */
  apiKey: string;
  /** The casino whose channels are joined; events naming another casino are dropped. */
  casinoId: string;
  /** The user's JWT for channel joins. */
  accessToken?: string;
  /** Called when a token is needed: none was given, or the server said it expired. */
  getAccessToken?: () => Promise<string | null | undefined> | string | null | undefined;
  /** Private channels (RLS decides joins; replay after gaps). Default true. */
  private?: boolean;
  /** One call per batch of cache actions. */
  onBatch?: (batch: CacheBatch) => void;
  /** Status changes. */
  onStatus?: (status: RealtimeStatus) => void;
  /** Dropped events, refused channels, token failures, errors thrown by callbacks. */
  onError?: (error: CasinoRealtimeError) => void;
  /** Coalescing window: quiet time and longest wait, ms (250 / 500). */
  batch?: { debounceMs?: number; maxWaitMs?: number };
  /** Replay filter: identities kept and for how long (10000 / 600000 ms). */
  dedup?: { capacity?: number; ttlMs?: number };
  /** Changes to the default cache rules. */
  rules?: RuleOverrides;
  /** Wire serializer. Default "2.0.0". */
  vsn?: "1.0.0" | "2.0.0";
}

/** `stats()`. */
export interface RealtimeStats {
  status: RealtimeStatus;
  eventsReceived: number;
  applied: number;
  duplicates: number;
  malformed: number;
  foreignCasino: number;
  batches: number;
  reconnects: number;
  channels: Array<{ topic: string; state: "joining" | "joined" | "retrying" | "denied"; lastEventAgeMs: number | null }>;
}
"#;

struct Callbacks {
    on_batch: Option<Function>,
    on_status: Option<Function>,
    on_error: Option<Function>,
    get_access_token: Option<Function>,
}

#[derive(Default)]
struct Host {
    socket: Option<OwnedSocket>,
    timer: Option<OwnedTimer>,
    listeners: Vec<OwnedListener>,
}

struct Inner {
    session: RefCell<Session>,
    host: RefCell<Host>,
    callbacks: Callbacks,
    /// Deliveries in the order the session produced them. A callback that re-enters (calls
    /// `close()`, `subscribe()`) only adds to the queue; the outermost `run` empties it.
    queue: RefCell<VecDeque<Delivery>>,
    delivering: Cell<bool>,
    me: Weak<Inner>,
}

fn now() -> u64 {
    Date::now() as u64
}

/// What to hand user code once no state is borrowed.
enum Delivery {
    Batch(String),
    Status(Status),
    Error(JsValue),
    RequestToken(u64),
}

fn session_error(error: &SessionError) -> JsValue {
    let js = Error::new(&error.to_string());
    js.set_name(error.name());
    if let Some(topic) = error.topic() {
        let _ = Reflect::set(&js, &"topic".into(), &topic.into());
    }
    if let SessionError::InvalidEvent { error, .. } = error {
        let _ = Reflect::set(&js, &"reason".into(), &error.reason().into());
        if let Some(field) = error.field() {
            let _ = Reflect::set(&js, &"field".into(), &field.into());
        }
    }
    js.into()
}

impl Inner {
    /// Carries out the session's outputs until it has nothing more to say, then re-arms the
    /// timer. Callbacks run between rounds, with nothing borrowed.
    fn run(&self) {
        loop {
            self.execute();
            if self.delivering.get() {
                // A callback re-entered: the outer run delivers, in order.
                return;
            }
            let next = self.queue.borrow_mut().pop_front();
            let Some(delivery) = next else { break };
            self.delivering.set(true);
            self.deliver(delivery);
            self.delivering.set(false);
        }
        self.arm_timer();
    }

    /// Carries out the session's socket outputs and queues what is for the app.
    fn execute(&self) {
        loop {
            let outputs = self.session.borrow_mut().drain();
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
                        if let Some(socket) = self.host.borrow_mut().socket.take() {
                            socket.close(code, &reason);
                        }
                        continue;
                    }
                    Output::Send(text) => {
                        if let Some(socket) = &self.host.borrow().socket {
                            // A failed send means the socket is going; its close event follows.
                            let _ = socket.ws.send_with_str(&text);
                        }
                        continue;
                    }
                    Output::Channel { .. } => continue,
                    Output::Batch(batch) => Delivery::Batch(batch.to_json()),
                    Output::Status(status) => Delivery::Status(status),
                    Output::Error(error) => Delivery::Error(session_error(&error)),
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
                with(&message, |inner| {
                    let data = event.data();
                    let mut session = inner.session.borrow_mut();
                    match data.as_string() {
                        Some(text) => session.text_frame(id, &text, now()),
                        None => session.binary_frame(id, &Uint8Array::new(&data).to_vec(), now()),
                    }
                })
            },
        );
        match socket {
            Ok(socket) => self.host.borrow_mut().socket = Some(socket),
            // An invalid URL, or a page that may not open it (mixed content): say so, and treat
            // it as a lost socket, which retries with backoff.
            Err(thrown) => {
                let error = Error::new(&format!("cannot open a WebSocket to {url}"));
                error.set_name("ProtocolError");
                let _ = Reflect::set(&error, &"cause".into(), &thrown);
                self.queue
                    .borrow_mut()
                    .push_back(Delivery::Error(error.into()));
                self.session.borrow_mut().socket_closed(id, now());
            }
        }
    }

    fn arm_timer(&self) {
        let deadline = self.session.borrow().deadline();
        let mut host = self.host.borrow_mut();
        host.timer = deadline.map(|at| {
            let me = self.me.clone();
            OwnedTimer::after(at.saturating_sub(now()) as f64, move || {
                with(&me, |inner| inner.session.borrow_mut().tick(now()))
            })
        });
    }

    /// Calls user code; what it throws is reported to `onError` (or the console, if `onError`
    /// itself threw).
    fn call(
        &self,
        callback: Option<&Function>,
        arg: &JsValue,
        is_on_error: bool,
    ) -> Option<JsValue> {
        let callback = callback?;
        match callback.call1(&JsValue::UNDEFINED, arg) {
            Ok(value) => Some(value),
            Err(thrown) if is_on_error => {
                console_error(&thrown);
                None
            }
            Err(thrown) => {
                let error = Error::new("a CasinoRealtime callback threw");
                error.set_name("CallbackError");
                let _ = Reflect::set(&error, &"cause".into(), &thrown);
                self.call(self.callbacks.on_error.as_ref(), &error.into(), true);
                None
            }
        }
    }

    fn deliver(&self, delivery: Delivery) {
        match delivery {
            Delivery::Batch(json) => {
                let batch = JSON::parse(&json).unwrap_or(JsValue::NULL);
                self.call(self.callbacks.on_batch.as_ref(), &batch, false);
            }
            Delivery::Status(status) => {
                self.call(
                    self.callbacks.on_status.as_ref(),
                    &status.as_str().into(),
                    false,
                );
            }
            Delivery::Error(error) => {
                self.call(self.callbacks.on_error.as_ref(), &error, true);
            }
            Delivery::RequestToken(id) => self.request_token(id),
        }
    }

    fn request_token(&self, id: u64) {
        let Some(get) = self.callbacks.get_access_token.as_ref() else {
            let reason = "the token expired and there is no getAccessToken option".into();
            self.session
                .borrow_mut()
                .token_result(id, Err(reason), now());
            return;
        };
        let result = match get.call0(&JsValue::UNDEFINED) {
            Ok(value) => value,
            Err(thrown) => Promise::reject(&thrown).into(),
        };
        let promise = Promise::resolve(&result);
        let (ok, err) = (self.me.clone(), self.me.clone());
        let on_ok = Closure::once_into_js(move |token: JsValue| {
            let token = token
                .as_string()
                .ok_or_else(|| "getAccessToken gave no token".to_owned());
            with(&ok, |inner| {
                inner.session.borrow_mut().token_result(id, token, now())
            });
        });
        let on_err = Closure::once_into_js(move |thrown: JsValue| {
            let reason = thrown
                .dyn_ref::<Error>()
                .map(|e| String::from(e.message()))
                .or_else(|| thrown.as_string())
                .unwrap_or_else(|| "getAccessToken failed".into());
            with(&err, |inner| {
                inner
                    .session
                    .borrow_mut()
                    .token_result(id, Err(reason), now())
            });
        });
        if let Ok(then) =
            Reflect::get(&promise, &"then".into()).and_then(|t| t.dyn_into::<Function>())
        {
            let _ = then.call2(&promise, &on_ok, &on_err);
        }
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(value: &JsValue);
}

/// Runs `f` on the manager if it is still alive, then carries out what it caused.
fn with(me: &Weak<Inner>, f: impl FnOnce(&Inner)) {
    if let Some(inner) = me.upgrade() {
        f(&inner);
        inner.run();
    }
}

#[wasm_bindgen]
extern "C" {
    /// `subscribe()`'s options.
    #[wasm_bindgen(typescript_type = "{ resourceId?: string }")]
    pub type SubscribeOptions;
}

/// A realtime manager for one casino: joins its channels, validates, de-duplicates and batches
/// events, and calls `onBatch` once per batch of TanStack Query cache actions.
///
/// ```ts
/// const realtime = new CasinoRealtime({ url, apiKey, casinoId, accessToken,
///   onBatch: (batch) => applyCacheBatch(queryClient, batch),
///   onStatus: (status) => setBadge(status) });
/// const unsubscribe = realtime.subscribe();               // the casino's list feed
/// const unsubscribeSlip = realtime.subscribe({ resourceId: slipId }); // a detail channel
/// ```
#[wasm_bindgen]
pub struct CasinoRealtime {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl CasinoRealtime {
    /// Creates the manager; nothing connects until the first `subscribe()`. Throws
    /// `InvalidOptionsError` or `InvalidRulesError` for bad options.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "CasinoRealtimeOptions")] options: &JsValue,
    ) -> Result<CasinoRealtime, JsValue> {
        let Options {
            session,
            rules,
            dedup,
            batch,
            access_token,
            get_access_token,
            on_batch,
            on_status,
            on_error,
        } = options::read(options)?;
        let seed = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
        let needs_token = access_token.is_none() && get_access_token.is_some();
        let mut session = Session::new(session, rules, dedup, batch, access_token, seed);
        if needs_token {
            session.request_token_first(now());
        }
        let inner = Rc::new_cyclic(|me| Inner {
            session: RefCell::new(session),
            host: RefCell::new(Host::default()),
            callbacks: Callbacks {
                on_batch,
                on_status,
                on_error,
                get_access_token,
            },
            queue: RefCell::new(VecDeque::new()),
            delivering: Cell::new(false),
            me: me.clone(),
        });
        inner.host.borrow_mut().listeners = page_listeners(&inner.me);
        inner.run();
        Ok(CasinoRealtime { inner })
    }

    /// Subscribes to the casino's list feed, or to the detail channel of `resourceId`, and
    /// returns a function that ends the subscription (safe to call twice, fits a React effect
    /// cleanup). Two subscriptions to one channel share its join; it is left a second after the
    /// last ends. If the returned function is garbage-collected uncalled, the subscription
    /// lasts until `close()`.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(&self, options: Option<SubscribeOptions>) -> Result<JsValue, JsValue> {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let resource = match Reflect::get(&options, &"resourceId".into()) {
            Ok(v) if v.is_undefined() || v.is_null() => None,
            Ok(v) => Some(v.as_string().ok_or_else(|| {
                JsValue::from(Error::new("subscribe: 'resourceId' must be a string"))
            })?),
            Err(_) => None,
        };
        if resource
            .as_deref()
            .is_some_and(|r| r.is_empty() || r.contains(':'))
        {
            return Err(
                Error::new("subscribe: 'resourceId' must be non-empty and without ':'").into(),
            );
        }
        let id = self
            .inner
            .session
            .borrow_mut()
            .subscribe(resource.as_deref(), now());
        self.inner.run();
        let me = Rc::downgrade(&self.inner);
        let unsubscribe = Closure::<dyn FnMut()>::new(move || {
            with(&me, |inner| {
                inner.session.borrow_mut().unsubscribe(id, now())
            });
        });
        Ok(unsubscribe.into_js_value())
    }

    /// A new access token (after the app refreshed its session): joined channels get it at once.
    #[wasm_bindgen(js_name = setAuth)]
    pub fn set_auth(&self, token: String) {
        self.inner.session.borrow_mut().set_auth(token);
        self.inner.run();
    }

    /// Delivers the pending batch now.
    pub fn flush(&self) {
        self.inner.session.borrow_mut().flush(now());
        self.inner.run();
    }

    /// The current status.
    #[wasm_bindgen(getter, unchecked_return_type = "RealtimeStatus")]
    pub fn status(&self) -> String {
        self.inner.session.borrow().status().as_str().to_owned()
    }

    /// Counts and channel states.
    #[wasm_bindgen(unchecked_return_type = "RealtimeStats")]
    pub fn stats(&self) -> JsValue {
        let session = self.inner.session.borrow();
        let stats = session.stats(now());
        let p = stats.pipeline;
        let out = js_sys::Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = Reflect::set(&out, &k.into(), &v);
        };
        set("status", session.status().as_str().into());
        for (key, value) in [
            ("eventsReceived", p.received),
            ("applied", p.applied),
            ("duplicates", p.duplicates),
            ("malformed", p.malformed),
            ("foreignCasino", p.foreign_casino),
            ("batches", p.batches),
            ("reconnects", stats.reconnects),
        ] {
            set(key, (value as f64).into());
        }
        let channels = Array::new();
        for (topic, state, age) in stats.channels {
            let c = js_sys::Object::new();
            let _ = Reflect::set(&c, &"topic".into(), &topic.into());
            let _ = Reflect::set(&c, &"state".into(), &state.as_str().into());
            let _ = Reflect::set(
                &c,
                &"lastEventAgeMs".into(),
                &age.map_or(JsValue::NULL, |a| (a as f64).into()),
            );
            channels.push(&c);
        }
        set("channels", channels.into());
        out.into()
    }

    /// Delivers what is pending, leaves everything and closes the socket. Final.
    pub fn close(&self) {
        self.inner.session.borrow_mut().close(now());
        self.inner.run();
        let mut host = self.inner.host.borrow_mut();
        host.timer = None;
        host.listeners.clear();
    }
}

/// `online`, `offline` and `visibilitychange`, so a lost connection is retried the moment the
/// terminal is back.
fn page_listeners(me: &Weak<Inner>) -> Vec<OwnedListener> {
    let Some(window) = web_sys::window() else {
        return Vec::new();
    };
    let mut listeners = Vec::new();
    for (kind, online) in [("online", true), ("offline", false)] {
        let me = me.clone();
        if let Ok(l) = OwnedListener::new(window.clone().into(), kind, move |_| {
            with(&me, |inner| {
                inner.session.borrow_mut().set_online(online, now())
            })
        }) {
            listeners.push(l);
        }
    }
    if let Some(document) = window.document() {
        let me = me.clone();
        let doc = document.clone();
        if let Ok(l) = OwnedListener::new(document.into(), "visibilitychange", move |_| {
            let visible = doc.visibility_state() == VisibilityState::Visible;
            with(&me, |inner| {
                inner.session.borrow_mut().set_visible(visible, now())
            })
        }) {
            listeners.push(l);
        }
    }
    listeners
}
