//! `CasinoRealtime`, the exported class: options in, a manager out, and its methods. A manager
//! runs its session in this tab (`driver.rs`), or is a client of a session shared with the
//! app's other tabs (`tab_client.rs`, docs/tabs.md); this module only converts what the app
//! passes and hands it to the one in force.

use super::callbacks::Callbacks;
use super::driver::{with, Inner};
use super::error::{self, describe, js_type, type_error};
use super::options::{self, Options};
use super::owned::now;
use super::page::{self, PageEvent};
use super::tab_client::{self, TabClient};
use crate::errors::ErrorKind;
use crate::session::Session;
use js_sys::{Object, Reflect};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

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
    mode: Mode,
}

/// Where the manager's session runs.
enum Mode {
    /// In this tab.
    Local(Rc<Inner>),
    /// Shared with other tabs; this is a client of it.
    Shared(Rc<TabClient>),
}

/// The options tabs must agree on to share a session, as JSON (functions and the token left
/// out: the token's user is compared on its own).
const SHARED_OPTIONS: [&str; 12] = [
    "url",
    "apiKey",
    "casinoId",
    "private",
    "vsn",
    "batch",
    "dedup",
    "rules",
    "fallbackPollMs",
    "resyncJitterMs",
    "heartbeatIntervalMs",
    "debug",
];

fn shared_options(options: &JsValue) -> Option<String> {
    let shared = Object::new();
    for key in SHARED_OPTIONS {
        let value = super::js::get(options, key).ok()?;
        if !value.is_undefined() {
            Reflect::set(&shared, &key.into(), &value).ok()?;
        }
    }
    super::js::stringify(&shared).ok().flatten()
}

/// A subscription's end, as the function `subscribe()` returns. It keeps the manager alive
/// until called, and is safe to call twice.
fn unsubscriber<T: 'static>(keep: T, end: impl Fn(&T) + 'static) -> JsValue {
    let keep = RefCell::new(Some(keep));
    let unsubscribe = Closure::<dyn FnMut()>::new(move || {
        // Taken out first: the manager may be dropped when this was its last holder.
        let held = keep.borrow_mut().take();
        if let Some(held) = held {
            end(&held);
        }
    });
    unsubscribe.into_js_value()
}

fn closed_error() -> JsValue {
    error::new(
        ErrorKind::Closed,
        "subscribe: this CasinoRealtime was closed; create a new one",
    )
}

/// `subscribe()`'s `resourceId`, checked.
fn resource_id(options: &JsValue) -> Result<Option<String>, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    if !options.is_object() {
        let got = js_type(options);
        return Err(type_error(&format!(
            "subscribe: pass {{ resourceId }} or nothing, got {got}"
        )));
    }
    let value = super::js::get(options, "resourceId").map_err(|thrown| {
        type_error(&format!(
            "subscribe: reading 'resourceId' threw: {}",
            describe(&thrown)
        ))
    })?;
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_string() {
        Some(id) if !id.is_empty() && !id.contains(':') => Ok(Some(id)),
        Some(_) => Err(type_error(
            "subscribe: 'resourceId' must be non-empty and without ':'",
        )),
        None => Err(type_error(&format!(
            "subscribe: 'resourceId' must be a string, got {}",
            js_type(&value)
        ))),
    }
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
            logger,
            share,
        } = options::read(options)?;
        let callbacks = Callbacks {
            on_batch,
            on_status,
            on_error,
            get_access_token,
            logger,
        };
        let transport = share.then(tab_client::sharing).flatten();
        if let (Some(transport), Some(json)) = (transport, shared_options(options)) {
            let client = TabClient::new(transport, json, access_token, callbacks);
            return Ok(CasinoRealtime {
                mode: Mode::Shared(client),
            });
        }
        let seed = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
        let token_source = callbacks.get_access_token.is_some();
        let session = Session::new(
            session,
            rules,
            dedup,
            batch,
            access_token,
            token_source,
            seed,
        );
        let inner = Inner::new(session, callbacks);
        let me = inner.me.clone();
        inner.host.borrow_mut().listeners = page::listeners(move |event| {
            with(&me, |inner| {
                let mut session = inner.session.borrow_mut();
                match event {
                    PageEvent::Online(online) => session.set_online(online, now()),
                    PageEvent::Visible(visible) => session.set_visible(visible, now()),
                    PageEvent::Resumed => session.resumed(now()),
                }
            })
        });
        inner.run();
        Ok(CasinoRealtime {
            mode: Mode::Local(inner),
        })
    }

    /// Subscribes to the casino's list feed, or to the detail channel of `resourceId`, and
    /// returns a function that ends the subscription (safe to call twice, fits a React effect
    /// cleanup). Two subscriptions to one channel share its join, in this tab or across tabs;
    /// it is left a second after the last ends. The returned function keeps the manager alive
    /// until it is called, so a manager held only through it keeps delivering. Throws
    /// `ClosedError` after `close()`, and a `TypeError` for options that are not
    /// `{ resourceId?: string }`.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(&self, options: Option<SubscribeOptions>) -> Result<JsValue, JsValue> {
        // The declared type is not checked: whatever the app passed arrives here.
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let resource = resource_id(&options)?;
        match &self.mode {
            Mode::Local(inner) => {
                let id = inner
                    .session
                    .borrow_mut()
                    .subscribe(resource.as_deref(), now());
                let id = id.ok_or_else(closed_error)?;
                inner.run();
                Ok(unsubscriber(inner.clone(), move |inner: &Rc<Inner>| {
                    with(&inner.me, |inner| {
                        inner.session.borrow_mut().unsubscribe(id, now())
                    });
                }))
            }
            Mode::Shared(client) => {
                let id = client.subscribe(resource).ok_or_else(closed_error)?;
                Ok(unsubscriber(
                    client.clone(),
                    move |client: &Rc<TabClient>| client.unsubscribe(id),
                ))
            }
        }
    }

    /// A new access token (after the app refreshed its session): joined channels get it at
    /// once, and channels waiting for a token or refused join again with it; shared with other
    /// tabs, the session takes it for all of them (another user's token moves this manager to
    /// that user's session). Throws a `TypeError` for anything but a string.
    #[wasm_bindgen(js_name = setAuth)]
    pub fn set_auth(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: &JsValue,
    ) -> Result<(), JsValue> {
        let token = token.as_string().ok_or_else(|| {
            type_error(&format!(
                "setAuth: the token must be a string, got {}",
                js_type(token)
            ))
        })?;
        match &self.mode {
            Mode::Local(inner) => {
                inner.session.borrow_mut().set_auth(token, now());
                inner.run();
            }
            Mode::Shared(client) => client.set_auth(token),
        }
        Ok(())
    }

    /// Delivers the pending batch now (shared with other tabs: as soon as the host has it).
    pub fn flush(&self) {
        match &self.mode {
            Mode::Local(inner) => {
                inner.session.borrow_mut().flush(now());
                inner.run();
            }
            Mode::Shared(client) => client.flush(),
        }
    }

    /// The current status.
    #[wasm_bindgen(getter, unchecked_return_type = "RealtimeStatus")]
    pub fn status(&self) -> String {
        let status = match &self.mode {
            Mode::Local(inner) => inner.session.borrow().status(),
            Mode::Shared(client) => client.status(),
        };
        status.as_str().to_owned()
    }

    /// Counts and channel states, and the mode in force (`stats().mode`).
    #[wasm_bindgen(unchecked_return_type = "RealtimeStats")]
    pub fn stats(&self) -> JsValue {
        let (json, mode, shared) = match &self.mode {
            Mode::Local(inner) => {
                let session = inner.session.borrow();
                let json = session.stats(now()).to_json(session.status());
                (json, "local".to_owned(), false)
            }
            Mode::Shared(client) => (client.stats(), client.mode(), true),
        };
        let value = js_sys::JSON::parse(&json).unwrap_or_else(|_| Object::new().into());
        // The status is the manager's own now (a shared snapshot may be up to 200 ms old).
        let _ = Reflect::set(&value, &"status".into(), &self.status().into());
        let _ = Reflect::set(&value, &"mode".into(), &mode.into());
        let _ = Reflect::set(&value, &"shared".into(), &shared.into());
        value
    }

    /// The recent events (what became of each) and batches (each key with the events behind it),
    /// oldest first; `null` unless the manager was made with `debug` (or after `close()`).
    #[wasm_bindgen(unchecked_return_type = "RealtimeInspection | null")]
    pub fn inspect(&self) -> JsValue {
        // A manager with `debug` never shares its session (options.rs).
        let Mode::Local(inner) = &self.mode else {
            return JsValue::NULL;
        };
        let record = inner.session.borrow().inspect();
        record.map_or(JsValue::NULL, |json| {
            js_sys::JSON::parse(&json).unwrap_or(JsValue::NULL)
        })
    }

    /// Delivers what is pending and closes the socket (the server drops its channels with it),
    /// then removes every listener and the timer; shared with other tabs, this manager leaves
    /// the session (what was pending for it is dropped) and the others carry on. Final: later
    /// calls do nothing, and `subscribe()` throws.
    pub fn close(&self) {
        match &self.mode {
            Mode::Local(inner) => {
                inner.session.borrow_mut().close(now());
                inner.run();
                inner.release();
            }
            Mode::Shared(client) => client.close(),
        }
    }
}
