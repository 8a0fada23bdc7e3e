//! Core errors as JS `Error` objects with a stable `name` and the details as properties.

use crate::cache::RuleError;
use crate::catalog::EventError;
use crate::errors::{ErrorKind, ErrorReport, Prop};
use js_sys::{Error, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

// The error types are generated from `src/errors.rs` into the package's `errors.d.ts`.
#[wasm_bindgen(typescript_custom_section)]
const ERRORS_TS: &str = r#"
import type { CasinoRealtimeError } from './errors.js';
"#;

/// The JS `Error` a core report describes.
pub fn report(report: &ErrorReport) -> JsValue {
    let error = new(report.kind, &report.message);
    for (prop, value) in &report.members {
        set(&error, *prop, &JsValue::from_str(value));
    }
    error
}

/// A JS `Error` of this kind, with no members yet.
pub fn new(kind: ErrorKind, message: &str) -> JsValue {
    let error = Error::new(message);
    error.set_name(kind.name());
    error.into()
}

/// Sets a member the error's kind declares.
pub fn set(error: &JsValue, prop: Prop, value: &JsValue) {
    // Setting a property on a fresh Error cannot fail.
    let _ = Reflect::set(error, &JsValue::from_str(prop.js_name()), value);
}

/// A JS `TypeError`, for an argument of the wrong type.
pub fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

/// What a thrown value says, whatever it is: an `Error`'s message, a string, or its type. Reads
/// no property that could throw again.
pub fn describe(thrown: &JsValue) -> String {
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
pub fn js_type(value: &JsValue) -> String {
    if value.is_null() {
        "null".into()
    } else if js_sys::Array::is_array(value) {
        "array".into()
    } else {
        value.js_typeof().as_string().unwrap_or_default()
    }
}

/// `UnknownEventError` or `InvalidEventError`.
pub fn event_error(err: &EventError) -> JsValue {
    report(&err.report())
}

/// `InvalidRulesError`.
pub fn rules_error(err: &RuleError) -> JsValue {
    report(&err.report())
}

/// `InvalidEventError` for a payload `JSON.stringify` refused.
pub fn not_serializable(message: &str, event: &str) -> JsValue {
    report(
        &ErrorReport::new(ErrorKind::InvalidEvent, message)
            .with(Prop::Reason, "not_serializable")
            .with(Prop::Event, event),
    )
}
