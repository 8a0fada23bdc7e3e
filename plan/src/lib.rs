//! The cache planner, the package's small module (`casino_realtime_plan`): `planCacheActions` and
//! `CacheRules`, an event in, the cache actions it calls for out. A page loads it on first use
//! (`initCasinoRealtime()`, `invalidateByDomainEvent`); the session host has its own copy of the
//! rules and never needs this one.
#![cfg(target_arch = "wasm32")]

use casino_realtime::browser::error::{
    describe, event_error, js_type, not_serializable, rules_error, type_error,
};
use casino_realtime::cache::{actions_to_json, RuleSet};
use casino_realtime::catalog::{EventError, EventKind};
use casino_realtime::json::{self, Value};
use js_sys::JSON;
use wasm_bindgen::prelude::*;

/// Size classes in place of std's dlmalloc: smaller and faster for this workload (src/alloc.rs).
#[global_allocator]
static ALLOCATOR: casino_realtime::alloc::wasm::WasmAlloc =
    casino_realtime::alloc::wasm::WasmAlloc::new();

#[cfg(test)]
mod tests;

/// A JS value as the core's JSON; `None` for what JSON cannot hold (`undefined`, functions).
/// For a value `JSON.stringify` refuses (a BigInt, a cycle), the reason it gave.
/// Whatever `JSON.stringify` throws (a getter or `toJSON` may throw anything) is described, never
/// assumed to be an `Error`.
fn to_json(value: &JsValue) -> Result<Option<Value>, String> {
    let text =
        casino_realtime::browser::js::stringify(value).map_err(|thrown| describe(&thrown))?;
    Ok(text.and_then(|text| json::parse(&text).ok()))
}

/// The event name, or a `TypeError` saying what was passed instead.
fn event_name(event: &JsValue, function: &str) -> Result<String, JsValue> {
    event.as_string().ok_or_else(|| {
        type_error(&format!(
            "{function}: the event name must be a string, got {}",
            js_type(event)
        ))
    })
}

fn actions_js(actions: &[casino_realtime::cache::CacheAction]) -> Result<JsValue, JsValue> {
    JSON::parse(&actions_to_json(actions))
}

fn plan(rules: &RuleSet, event: &str, payload: &JsValue) -> Result<JsValue, JsValue> {
    let written = to_json(payload).map_err(|why| {
        not_serializable(
            &format!("{event}: payload cannot be written as JSON ({why})"),
            event,
        )
    })?;
    let payload = match written {
        Some(value) => value,
        None => {
            let err = match EventKind::from_name(event) {
                Some(kind) => EventError::NotAnObject {
                    event: kind,
                    got: js_type(payload),
                },
                None => EventError::Unknown {
                    name: event.to_owned(),
                },
            };
            return Err(event_error(&err));
        }
    };
    let actions = rules
        .plan(event, &payload)
        .map_err(|err| event_error(&err))?;
    actions_js(&actions)
}

/// Validates `payload` as catalog event `event` and returns the cache actions the default rules
/// call for. Throws `UnknownEventError` or `InvalidEventError` (see `CasinoRealtimeError`), and
/// a `TypeError` when `event` is not a string. Any value is accepted and answered.
///
/// ```ts
/// const actions = planCacheActions("table.fill_requested", payload);
/// // [{ type: "invalidate", queryKey: ["table-context", "fills", casinoId], refetchType: "active" }, ...]
/// ```
#[wasm_bindgen(js_name = planCacheActions, unchecked_return_type = "CacheAction[]")]
pub fn plan_cache_actions(
    #[wasm_bindgen(unchecked_param_type = "string")] event: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "unknown")] payload: &JsValue,
) -> Result<JsValue, JsValue> {
    thread_local! {
        static DEFAULTS: RuleSet = RuleSet::defaults();
    }
    let event = event_name(event, "planCacheActions")?;
    DEFAULTS.with(|rules| plan(rules, &event, payload))
}

/// The default rules with an app's changes, validated once when constructed.
///
/// ```ts
/// const rules = new CacheRules({
///   "table.fill_requested": { extend: [{ type: "invalidate", queryKey: ["fills", "{casino_id}"] }] },
/// });
/// rules.plan("table.fill_requested", payload);
/// ```
#[wasm_bindgen]
pub struct CacheRules {
    rules: RuleSet,
}

#[wasm_bindgen]
impl CacheRules {
    /// Builds the rules; throws `InvalidRulesError` naming the bad rule.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "RuleOverrides")] overrides: &JsValue,
    ) -> Result<CacheRules, JsValue> {
        let written = to_json(overrides).map_err(|why| {
            let message = format!("cannot be written as JSON ({why})");
            rules_error(&casino_realtime::cache::RuleError {
                path: "rules".into(),
                message,
            })
        })?;
        let Some(overrides) = written else {
            let err = casino_realtime::cache::RuleError {
                path: "rules".into(),
                message: "must be an object keyed by event name".into(),
            };
            return Err(rules_error(&err));
        };
        let rules = RuleSet::with_overrides(&overrides).map_err(|err| rules_error(&err))?;
        Ok(CacheRules { rules })
    }

    /// As `planCacheActions`, with these rules.
    #[wasm_bindgen(unchecked_return_type = "CacheAction[]")]
    pub fn plan(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] event: &JsValue,
        #[wasm_bindgen(unchecked_param_type = "unknown")] payload: &JsValue,
    ) -> Result<JsValue, JsValue> {
        let event = event_name(event, "CacheRules.plan")?;
        plan(&self.rules, &event, payload)
    }
}
