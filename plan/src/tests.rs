//! The planner's boundary in headless Chrome (`wasm-bindgen-test`, scripts/test.sh): payloads go
//! in as JS objects, actions come out as JS arrays, failures as JS `Error`s with a stable `name`.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use super::{plan_cache_actions, CacheRules};
use casino_realtime::cache::{actions_to_json, RuleSet};
use casino_realtime::json::{self, Value};
use js_sys::{Array, Error, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const FIXTURES: &str = include_str!("../../tests/fixtures/events.json");
const C: &str = "11111111-1111-4111-8111-111111111111";

fn js(text: &str) -> JsValue {
    JSON::parse(text).unwrap()
}

fn fixture(event: &str) -> JsValue {
    Reflect::get(&js(FIXTURES), &event.into()).unwrap()
}

fn prop(value: &JsValue, name: &str) -> Option<String> {
    Reflect::get(value, &name.into())
        .ok()
        .and_then(|v| v.as_string())
}

fn thrown(result: Result<JsValue, JsValue>) -> Error {
    let err = result.expect_err("should throw");
    err.dyn_into::<Error>().expect("a real Error object")
}

#[wasm_bindgen_test]
fn every_event_crosses_the_boundary_intact() {
    let rules = RuleSet::defaults();
    let Value::Object(events) = json::parse(FIXTURES).unwrap() else {
        panic!()
    };
    assert_eq!(events.len(), 24);
    for (name, payload) in events {
        let got = plan_cache_actions(&JsValue::from(name.as_str()), &fixture(&name)).unwrap();
        assert!(Array::is_array(&got), "{name}: an array");
        let expected = actions_to_json(&rules.plan(&name, &payload).unwrap());
        assert_eq!(
            JSON::stringify(&got).unwrap().as_string().unwrap(),
            expected,
            "{name}"
        );
    }
}

#[wasm_bindgen_test]
fn actions_are_plain_objects_with_tanstack_fields() {
    let actions: Array = plan_cache_actions(
        &JsValue::from("table.fill_requested"),
        &fixture("table.fill_requested"),
    )
    .unwrap()
    .into();
    assert_eq!(actions.length(), 2);
    let first = actions.get(0);
    assert_eq!(prop(&first, "type").as_deref(), Some("invalidate"));
    assert_eq!(prop(&first, "refetchType").as_deref(), Some("active"));
    let key: Array = Reflect::get(&first, &"queryKey".into()).unwrap().into();
    let key: Vec<String> = key.iter().map(|k| k.as_string().unwrap()).collect();
    assert_eq!(key, ["table-context", "fills", C]);

    let balance: Array = plan_cache_actions(
        &JsValue::from("loyalty.balance_updated"),
        &fixture("loyalty.balance_updated"),
    )
    .unwrap()
    .into();
    let data = Reflect::get(&balance.get(0), &"data".into()).unwrap();
    assert_eq!(data.as_f64(), Some(1200.0), "a number, not a string");
}

#[wasm_bindgen_test]
fn a_bad_field_throws_invalid_event_error_naming_it() {
    let payload = fixture("rating_slip.updated");
    Reflect::set(&payload, &"minutes_played".into(), &"ten".into()).unwrap();
    let err = thrown(plan_cache_actions(
        &JsValue::from("rating_slip.updated"),
        &payload,
    ));
    assert_eq!(String::from(err.name()), "InvalidEventError");
    assert_eq!(
        String::from(err.message()),
        "rating_slip.updated: field 'minutes_played' must be a number, got \"ten\""
    );
    assert_eq!(prop(&err, "field").as_deref(), Some("minutes_played"));
    assert_eq!(prop(&err, "event").as_deref(), Some("rating_slip.updated"));
    assert_eq!(prop(&err, "reason").as_deref(), Some("invalid_field"));
}

#[wasm_bindgen_test]
fn an_unknown_event_throws_unknown_event_error() {
    let err = thrown(plan_cache_actions(
        &JsValue::from("table.exploded"),
        &fixture("table.deactivated"),
    ));
    assert_eq!(String::from(err.name()), "UnknownEventError");
    assert_eq!(
        String::from(err.message()),
        "unknown event \"table.exploded\": not in the event catalog"
    );
    assert_eq!(prop(&err, "reason").as_deref(), Some("unknown_event"));
}

#[wasm_bindgen_test]
fn payloads_json_cannot_hold_are_refused_clearly() {
    let err = thrown(plan_cache_actions(
        &JsValue::from("table.deactivated"),
        &JsValue::UNDEFINED,
    ));
    assert_eq!(String::from(err.name()), "InvalidEventError");
    assert_eq!(
        String::from(err.message()),
        "table.deactivated: payload must be an object, got undefined"
    );

    let payload = fixture("table.deactivated");
    Reflect::set(&payload, &"seq".into(), &js_sys::BigInt::from(5u32).into()).unwrap();
    let err = thrown(plan_cache_actions(
        &JsValue::from("table.deactivated"),
        &payload,
    ));
    assert_eq!(String::from(err.name()), "InvalidEventError");
    assert_eq!(prop(&err, "reason").as_deref(), Some("not_serializable"));
    assert!(String::from(err.message())
        .starts_with("table.deactivated: payload cannot be written as JSON ("));
}

#[wasm_bindgen_test]
fn cache_rules_validate_up_front_and_plan_with_overrides() {
    let rules = CacheRules::new(&js(r#"{ "table.deactivated": { "replace": [
        { "type": "invalidate", "queryKey": ["tables", "{casino_id}"], "refetchType": "all" } ] } }"#))
    .unwrap();
    let actions = rules
        .plan(
            &JsValue::from("table.deactivated"),
            &fixture("table.deactivated"),
        )
        .unwrap();
    assert_eq!(
        JSON::stringify(&actions).unwrap().as_string().unwrap(),
        format!(r#"[{{"type":"invalidate","queryKey":["tables","{C}"],"refetchType":"all"}}]"#)
    );

    let err = CacheRules::new(&js(r#"{ "table.deactivated": { "extend": [
        { "type": "invalidate", "queryKey": ["tables", "{casino}"] } ] } }"#))
    .err()
    .expect("bad rule")
    .dyn_into::<Error>()
    .unwrap();
    assert_eq!(String::from(err.name()), "InvalidRulesError");
    assert_eq!(
        prop(&err, "path").as_deref(),
        Some("rules[\"table.deactivated\"].extend[0].queryKey[1]")
    );
    assert!(String::from(err.message()).contains("table.deactivated has no field 'casino'"));

    let err = CacheRules::new(&js_sys::BigInt::from(1u32).into())
        .err()
        .expect("not JSON")
        .dyn_into::<Error>()
        .unwrap();
    assert_eq!(String::from(err.name()), "InvalidRulesError");
    assert!(String::from(err.message()).starts_with("rules: cannot be written as JSON ("));
}
