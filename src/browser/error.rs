//! Core errors as JS `Error` objects with a stable `name` and the details as properties.

use crate::cache::RuleError;
use crate::catalog::EventError;
use js_sys::{Error, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(typescript_custom_section)]
const ERRORS_TS: &str = r#"
/**
 * What casino-realtime throws or reports: a real `Error` whose `name` says which kind.
 * - `UnknownEventError`: the event name is not in the catalog (`event` is the name given).
 * - `InvalidEventError`: the payload does not match the catalog (`event`, `field`, `reason`).
 * - `InvalidRulesError`: a cache rule cannot be used (`path` locates it in the rules object).
 * - `InvalidOptionsError`: a `CasinoRealtime` option is missing, of the wrong type or out of range.
 * - `ChannelDeniedError` (to `onError`): the server refused a channel (`topic`, `reason`: its words).
 * - `TokenError` (to `onError`): no usable token (`getAccessToken` failed, or the token expired).
 * - `ProtocolError` (to `onError`): a frame could not be read or was over 5 MB; dropped.
 * - `ForeignCasinoError` (to `onError`): an event named another casino; dropped.
 * - `CallbackError` (to `onError`): `onBatch` or `onStatus` threw (`cause`).
 * - `ClosedError`: `subscribe()` after `close()`.
 * - `NotInitializedError`: a synchronous call before the `.wasm` loaded.
 * A wrong argument type (an event name that is not a string, say) throws a plain `TypeError`.
 */
export interface CasinoRealtimeError extends Error {
  name: "UnknownEventError" | "InvalidEventError" | "InvalidRulesError" | "InvalidOptionsError"
    | "ChannelDeniedError" | "TokenError" | "ProtocolError" | "ForeignCasinoError"
    | "CallbackError" | "ClosedError" | "NotInitializedError";
  /** Machine-readable reason ("unknown_event", "missing_field", ...), or the server's words. */
  reason?: string;
  /** The event name concerned, when there is one. */
  event?: string;
  /** The payload field at fault (`pits[0].sequence`), for field errors. */
  field?: string;
  /** Where in the rules object the problem is, for rule errors. */
  path?: string;
  /** The channel concerned. */
  topic?: string;
  /** What a callback threw, or what opening a socket threw. */
  cause?: unknown;
}
"#;

/// A JS `Error` with this `name`.
pub(crate) fn named(name: &str, message: &str) -> JsValue {
    let error = Error::new(message);
    error.set_name(name);
    error.into()
}

/// A JS `TypeError`, for an argument of the wrong type.
pub(crate) fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

/// What a thrown value says, whatever it is: an `Error`'s message, a string, or its type. Reads
/// no property that could throw again.
pub(crate) fn describe(thrown: &JsValue) -> String {
    if let Some(error) = thrown.dyn_ref::<Error>() {
        // `message` is an own data property of real Errors; a getter that throws gives "".
        return super::js::get(error, "message")
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_default();
    }
    if let Some(text) = thrown.as_string() {
        return text;
    }
    js_type(thrown)
}

/// `typeof value`, with `null` and arrays told apart.
pub(crate) fn js_type(value: &JsValue) -> String {
    if value.is_null() {
        "null".into()
    } else if js_sys::Array::is_array(value) {
        "array".into()
    } else {
        value.js_typeof().as_string().unwrap_or_default()
    }
}

fn error(name: &str, message: &str, props: &[(&str, Option<&str>)]) -> JsValue {
    let error = Error::new(message);
    error.set_name(name);
    for (key, value) in props {
        if let Some(value) = value {
            // Setting a property on a fresh Error cannot fail.
            let _ = Reflect::set(&error, &JsValue::from_str(key), &JsValue::from_str(value));
        }
    }
    error.into()
}

/// `UnknownEventError` or `InvalidEventError`.
pub(crate) fn event_error(err: &EventError, name: &str) -> JsValue {
    let kind = if err.event().is_some() {
        "InvalidEventError"
    } else {
        "UnknownEventError"
    };
    error(
        kind,
        &err.to_string(),
        &[
            ("reason", Some(err.reason())),
            ("event", Some(name)),
            ("field", err.field()),
        ],
    )
}

/// `InvalidRulesError`.
pub(crate) fn rules_error(err: &RuleError) -> JsValue {
    error(
        "InvalidRulesError",
        &err.to_string(),
        &[("reason", Some("invalid_rule")), ("path", Some(&err.path))],
    )
}

/// `InvalidEventError` for a payload `JSON.stringify` refused.
pub(crate) fn not_serializable(message: &str, event: &str) -> JsValue {
    error(
        "InvalidEventError",
        message,
        &[("reason", Some("not_serializable")), ("event", Some(event))],
    )
}
