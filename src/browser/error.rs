//! Core errors as JS `Error` objects with a stable `name` and the details as properties.

use crate::cache::RuleError;
use crate::catalog::EventError;
use js_sys::{Error, Reflect};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const ERRORS_TS: &str = r#"
/**
 * What casino-realtime throws: a real `Error` whose `name` says which kind.
 * - `UnknownEventError`: the event name is not in the catalog (`event` is the name given).
 * - `InvalidEventError`: the payload does not match the catalog (`event`, `field`, `reason`).
 * - `InvalidRulesError`: a cache rule cannot be used (`path` locates it in the rules object).
 */
export interface CasinoRealtimeError extends Error {
  name: "UnknownEventError" | "InvalidEventError" | "InvalidRulesError";
  /** Stable machine-readable reason: "unknown_event", "missing_field", "invalid_field", ... */
  reason: string;
  /** The event name concerned, when there is one. */
  event?: string;
  /** The payload field at fault (`pits[0].sequence`), for field errors. */
  field?: string;
  /** Where in the rules object the problem is, for rule errors. */
  path?: string;
}
"#;

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
