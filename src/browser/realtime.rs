//! `CasinoRealtime`, the exported class: options in, a manager out, and its methods. The driver
//! (`driver.rs`) runs the session; this module only converts what the app passes.

use super::driver::{with, Callbacks, Inner};
use super::error::{self, describe, js_type, type_error};
use super::host::now;
use super::options::{self, Options};
use super::page;
use crate::errors::ErrorKind;
use crate::session::Session;
use js_sys::{Array, Reflect};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const REALTIME_TS: &str = r#"
/** Options of `new CasinoRealtime(options)`. */
export interface CasinoRealtimeOptions {
  /** The project URL (`https://<ref>.supabase.co`, as supabase-js takes it) or its realtime
   *  endpoint (`wss://<ref>.supabase.co/realtime/v1`); the dev server's works the same. */
  url: string;
  /** The project's anon/publishable key. */
  apiKey: string;
  /** The casino whose channels are joined; events naming another casino are dropped. */
  casinoId: string;
  /** The user's JWT for channel joins. */
  accessToken?: string;
  /** Called when a token is needed: none was given, the server said it expired, or its JWT
   *  `exp` has passed by the browser's clock before a rejoin. */
  getAccessToken?: () => Promise<string | null | undefined> | string | null | undefined;
  /** Private channels (RLS decides joins; replay after gaps). Default true. */
  private?: boolean;
  /** One call per batch of cache actions. */
  onBatch?: (batch: CacheBatch) => void;
  /** Status changes, and changes of `staleSince`: since when (ms since the epoch) the SDK cannot
   *  vouch that the cache reflects the server (`null`: it can). */
  onStatus?: (status: RealtimeStatus, detail: { staleSince: number | null }) => void;
  /** Dropped events, refused channels, token failures, errors thrown by callbacks. */
  onError?: (error: CasinoRealtimeError) => void;
  /** Coalescing window: quiet time (0-5000) and longest wait (1-10000), ms (250 / 500). */
  batch?: { debounceMs?: number; maxWaitMs?: number };
  /** Replay filter: identities kept (1-1000000) and for how long (1000-86400000 ms) (10000 / 600000). */
  dedup?: { capacity?: number; ttlMs?: number };
  /** Changes to the default cache rules. */
  rules?: RuleOverrides;
  /** Wire serializer. Default "2.0.0". */
  vsn?: "1.0.0" | "2.0.0";
  /** While the data may be stale (`staleSince` set) for this long, a `reason: "poll"` batch
   *  refetches what the channels feed (active queries), and again every period until fresh.
   *  Default 10000; 0 turns it off; otherwise 1000 to 86400000. */
  fallbackPollMs?: number;
  /** A resync (after a gap replay cannot cover) waits a random time up to this, so a floor whose
   *  terminals recover together spreads its refetches; the channel stays stale meanwhile.
   *  Default 2000; 0 to 60000. */
  resyncJitterMs?: number;
  /** Keep the last events (what became of each) and batches (each key with the events that
   *  caused it) for `inspect()`: `true` keeps 200 of each, `{ events }` that many. Default off. */
  debug?: boolean | { events?: number };
  /** Told of every event and batch as it happens (realtime-js has a `logger` too): its kind, a
   *  sentence, and the record `inspect()` would show. */
  logger?: (kind: "event" | "batch", message: string, record: InspectedEvent | InspectedBatch) => void;
}

/** One delivery in `inspect()`: where it came from and what became of it. */
export interface InspectedEvent {
  seq: number;
  /** When it arrived (ms since the epoch). */
  at: number;
  topic: string;
  event: string;
  fate: "applied" | "duplicate" | "foreign" | "malformed";
  /** Why the catalog refused it (`malformed`). */
  reason?: string;
  /** The keys its actions named (`applied`). */
  keys?: unknown[][];
  /** The batch its actions went out in. */
  batch?: number;
}

/** One batch in `inspect()`: each key it touched, and the events (or `resync`) behind it. */
export interface InspectedBatch {
  seq: number;
  at: number;
  reason: "window" | "resync" | "flush" | "poll";
  keys: { type: "invalidate" | "setQueryData" | "mergeQueryData"; queryKey: unknown[]; causes: string[] }[];
}

/** `inspect()`: the recent events and batches, oldest first. */
export interface RealtimeInspection {
  events: InspectedEvent[];
  batches: InspectedBatch[];
}

/** `stats()`: the manager's status, its counts and its channels. */
export type RealtimeStats = { status: RealtimeStatus } & SessionStats;
/** The manager's status (`onStatus`, `status()`, `stats().status`). */
export type RealtimeStatus = Status;
/** A channel's state in `stats()`. */
export type RealtimeChannelState = ChannelState;
"#;

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

/// A `staleSince` for JS: ms since the epoch, or `null`.
fn stale_value(since: Option<i64>) -> JsValue {
    since.map_or(JsValue::NULL, |t| JsValue::from_f64(t as f64))
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
        } = options::read(options)?;
        let seed = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
        let token_source = get_access_token.is_some();
        let session = Session::new(
            session,
            rules,
            dedup,
            batch,
            access_token,
            token_source,
            seed,
        );
        let inner = Inner::new(
            session,
            Callbacks {
                on_batch,
                on_status,
                on_error,
                get_access_token,
                logger,
            },
        );
        inner.host.borrow_mut().listeners = page::listeners(&inner.me);
        inner.run();
        Ok(CasinoRealtime { inner })
    }

    /// Subscribes to the casino's list feed, or to the detail channel of `resourceId`, and
    /// returns a function that ends the subscription (safe to call twice, fits a React effect
    /// cleanup). Two subscriptions to one channel share its join; it is left a second after the
    /// last ends. The returned function keeps the manager alive until it is called, so a manager
    /// held only through it keeps delivering. Throws `ClosedError` after `close()`, and a
    /// `TypeError` for options that are not `{ resourceId?: string }`.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(&self, options: Option<SubscribeOptions>) -> Result<JsValue, JsValue> {
        // The declared type is not checked: whatever the app passed arrives here.
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let resource = resource_id(&options)?;
        let id = self
            .inner
            .session
            .borrow_mut()
            .subscribe(resource.as_deref(), now());
        let Some(id) = id else {
            return Err(error::new(
                ErrorKind::Closed,
                "subscribe: this CasinoRealtime was closed; create a new one",
            ));
        };
        self.inner.run();
        let keep = RefCell::new(Some(self.inner.clone()));
        let unsubscribe = Closure::<dyn FnMut()>::new(move || {
            // Taken out first: the manager may be dropped when this was its last holder.
            let inner = keep.borrow_mut().take();
            if let Some(inner) = inner {
                with(&inner.me, |inner| {
                    inner.session.borrow_mut().unsubscribe(id, now())
                });
            }
        });
        Ok(unsubscribe.into_js_value())
    }

    /// A new access token (after the app refreshed its session): joined channels get it at
    /// once, and channels waiting for a token or refused join again with it. Throws a
    /// `TypeError` for anything but a string.
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
        self.inner.session.borrow_mut().set_auth(token, now());
        self.inner.run();
        Ok(())
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
        // Read, then let go: building the JS object runs JS (setters), which may call back in.
        let (stats, status) = {
            let session = self.inner.session.borrow();
            (session.stats(now()), session.status())
        };
        let p = stats.pipeline;
        let out = js_sys::Object::new();
        let set = |target: &js_sys::Object, k: &str, v: JsValue| {
            let _ = Reflect::set(target, &k.into(), &v);
        };
        set(&out, "status", status.as_str().into());
        for (key, value) in [
            ("eventsReceived", p.received),
            ("applied", p.applied),
            ("duplicates", p.duplicates),
            ("malformed", p.malformed),
            ("foreignCasino", p.foreign_casino),
            ("unreadableFrames", stats.unreadable_frames),
            ("batches", p.batches),
            ("reconnects", stats.reconnects),
            ("replays", stats.replays),
            ("resyncs", stats.resyncs),
        ] {
            set(&out, key, (value as f64).into());
        }
        let channels = Array::new();
        for channel in stats.channels {
            let c = js_sys::Object::new();
            set(&c, "topic", channel.topic.into());
            set(&c, "state", channel.state.as_str().into());
            set(
                &c,
                "reason",
                channel.reason.map_or(JsValue::NULL, Into::into),
            );
            set(&c, "subscribers", f64::from(channel.subscribers).into());
            set(
                &c,
                "lastEventAgeMs",
                channel
                    .last_event_age_ms
                    .map_or(JsValue::NULL, |a| (a as f64).into()),
            );
            set(
                &c,
                "lastResync",
                channel
                    .last_resync
                    .map_or(JsValue::NULL, |r| r.as_str().into()),
            );
            set(&c, "staleSince", stale_value(channel.stale_since));
            channels.push(&c);
        }
        set(&out, "channels", channels.into());
        set(&out, "staleSince", stale_value(stats.stale_since));
        out.into()
    }

    /// The recent events (what became of each) and batches (each key with the events behind it),
    /// oldest first; `null` unless the manager was made with `debug` (or after `close()`).
    #[wasm_bindgen(unchecked_return_type = "RealtimeInspection | null")]
    pub fn inspect(&self) -> JsValue {
        let record = self.inner.session.borrow().inspect();
        record.map_or(JsValue::NULL, |json| {
            js_sys::JSON::parse(&json).unwrap_or(JsValue::NULL)
        })
    }

    /// Delivers what is pending and closes the socket (the server drops its channels with it),
    /// then removes every listener and the timer. Final: later calls do nothing, and
    /// `subscribe()` throws.
    pub fn close(&self) {
        self.inner.session.borrow_mut().close(now());
        self.inner.run();
        self.inner.release();
    }
}
