//! The app's callbacks, called the same way whether the session runs in this tab or is shared
//! with others: what a callback throws is caught and reported to `onError` as a
//! `CallbackError` (or, thrown by `onError` itself, to the console).
//!
//! Callers hold no `RefCell` borrow while they call these (docs/style.md §7): a callback may
//! call back into the manager.

use super::error::{self, describe};
use crate::errors::{ErrorKind, Prop};
use crate::inspect::LogLine;
use js_sys::{Function, Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// What the app passed.
pub(crate) struct Callbacks {
    pub on_batch: Option<Function>,
    pub on_status: Option<Function>,
    pub on_error: Option<Function>,
    pub get_access_token: Option<Function>,
    pub logger: Option<Function>,
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(value: &JsValue);
}

impl Callbacks {
    /// Calls `onBatch` with the batch, given as JSON.
    pub fn batch(&self, json: &str) {
        let Some(on_batch) = self.on_batch.as_ref() else {
            return;
        };
        let batch = JSON::parse(json).unwrap_or(JsValue::NULL);
        if let Err(thrown) = super::js::call(on_batch, &batch) {
            self.threw("onBatch", thrown);
        }
    }

    /// Calls `onError`; what it throws goes to the console.
    pub fn error(&self, error: &JsValue) {
        if let Some(on_error) = self.on_error.as_ref() {
            if let Err(thrown) = super::js::call(on_error, error) {
                console_error(&thrown);
            }
        }
    }

    /// Reports what callback `name` threw to `onError` as a `CallbackError`.
    pub fn threw(&self, name: &str, thrown: JsValue) {
        let error = error::new(
            ErrorKind::Callback,
            &format!("casino-realtime: {name} threw: {}", describe(&thrown)),
        );
        error::set(&error, Prop::Callback, &name.into());
        error::set(&error, Prop::Cause, &thrown);
        self.error(&error);
    }

    /// Calls `onStatus(status, { staleSince })`.
    pub fn status(&self, status: &str, stale: Option<i64>) {
        let Some(on_status) = self.on_status.as_ref() else {
            return;
        };
        let detail = js_sys::Object::new();
        let since = stale.map_or(JsValue::NULL, |t| JsValue::from_f64(t as f64));
        let _ = Reflect::set(&detail, &"staleSince".into(), &since);
        let args = (status.into(), detail.into(), JsValue::UNDEFINED);
        if let Err(thrown) = super::js::call3(on_status, &args.0, &args.1, &args.2) {
            self.threw("onStatus", thrown);
        }
    }

    /// Calls `logger(kind, message, record)`.
    pub fn log(&self, line: &LogLine) {
        let Some(logger) = self.logger.as_ref() else {
            return;
        };
        let record = JSON::parse(&line.json).unwrap_or(JsValue::NULL);
        let (kind, message) = (line.kind.into(), line.message.as_str().into());
        if let Err(thrown) = super::js::call3(logger, &kind, &message, &record) {
            self.threw("logger", thrown);
        }
    }

    /// Calls `getAccessToken` and hands its answer, whatever it is, to `answer` (later: it may
    /// be a promise). Nothing happens without a `getAccessToken`.
    pub fn ask_token(&self, answer: impl FnOnce(Result<String, String>) + 'static) {
        let Some(get) = self.get_access_token.as_ref() else {
            return;
        };
        let result = match super::js::call(get, &JsValue::UNDEFINED) {
            Ok(value) => value,
            Err(thrown) => Promise::reject(&thrown).into(),
        };
        let promise = Promise::resolve(&result);
        // Either settles the request: whichever runs takes the answer.
        let answer = std::rc::Rc::new(std::cell::Cell::new(Some(answer)));
        let again = answer.clone();
        let on_ok = Closure::once_into_js(move |token: JsValue| {
            let token = token
                .as_string()
                .ok_or_else(|| "getAccessToken gave no token".to_owned());
            if let Some(answer) = answer.take() {
                answer(token);
            }
        });
        let on_err = Closure::once_into_js(move |thrown: JsValue| {
            let reason = format!("getAccessToken failed: {}", describe(&thrown));
            if let Some(answer) = again.take() {
                answer(Err(reason));
            }
        });
        if let Ok(then) =
            Reflect::get(&promise, &"then".into()).and_then(|t| t.dyn_into::<Function>())
        {
            let _ = then.call2(&promise, &on_ok, &on_err);
        }
    }
}
