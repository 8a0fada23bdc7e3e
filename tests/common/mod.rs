//! Shared by the native integration tests and the benchmark: the catalog fixtures, helpers and
//! a synthetic workload.
#![allow(dead_code)]

pub mod fake_server;
pub mod workload;

use casino_realtime::json::{self, Value};

/// One valid payload per catalog event, by event name (`tests/fixtures/events.json`).
pub fn fixtures() -> Vec<(String, Value)> {
    match json::parse(include_str!("../fixtures/events.json")).unwrap() {
        Value::Object(members) => members,
        _ => panic!("fixtures must be an object"),
    }
}

/// The valid payload of `event`.
pub fn fixture(event: &str) -> Value {
    fixtures()
        .into_iter()
        .find(|(name, _)| name == event)
        .unwrap()
        .1
}

/// `payload` with `field` set to `value`, or removed when `value` is `None`. A dotted path with
/// `[i]` reaches into arrays: `pits[0].sequence`.
pub fn with(mut payload: Value, path: &str, value: Option<Value>) -> Value {
    set(&mut payload, path, value);
    payload
}

fn set(target: &mut Value, path: &str, value: Option<Value>) {
    let (head, rest) = match path.find(['.', '[']) {
        Some(0) => {
            let close = path.find(']').unwrap();
            let index: usize = path[1..close].parse().unwrap();
            let rest = path[close + 1..].trim_start_matches('.');
            let Value::Array(items) = target else {
                panic!("not an array at {path}")
            };
            if rest.is_empty() {
                match value {
                    Some(v) => items[index] = v,
                    None => drop(items.remove(index)),
                }
            } else {
                set(&mut items[index], rest, value);
            }
            return;
        }
        Some(i) => (&path[..i], &path[i..]),
        None => (path, ""),
    };
    let Value::Object(members) = target else {
        panic!("not an object at {path}")
    };
    let rest = rest.trim_start_matches('.');
    if rest.is_empty() {
        members.retain(|(k, _)| k != head);
        if let Some(v) = value {
            members.push((head.to_owned(), v));
        }
    } else {
        let slot = members.iter_mut().find(|(k, _)| k == head).unwrap();
        set(&mut slot.1, rest, value);
    }
}

/// Parses JSON text in tests.
pub fn j(text: &str) -> Value {
    json::parse(text).unwrap()
}

/// `ms` since the epoch as RFC 3339 (`2025-12-20T10:15:00.000Z`).
pub use casino_realtime::catalog::format_timestamp as iso;

/// The `n`th unique `table.fill_requested`, dated `at_ms`: its table is its own
/// (`5555…{n}`), so its custody key names it alone.
pub fn numbered_fill(n: u64, at_ms: i64) -> Value {
    let table = format!("55555555-5555-4555-8555-{n:012}");
    let payload = with(
        fixture("table.fill_requested"),
        "table_id",
        Some(Value::from(table.as_str())),
    );
    let payload = with(
        payload,
        "request_id",
        Some(Value::from(format!("fill-{n}").as_str())),
    );
    with(payload, "at", Some(Value::from(iso(at_ms).as_str())))
}

/// The custody key of [`numbered_fill`] `n`, as the batch JSON writes it.
pub fn numbered_fill_key(n: u64) -> String {
    format!(r#"["table-context","table","55555555-5555-4555-8555-{n:012}","custody"]"#)
}

/// Asserts that `pkg-template/{file}` is `generated` (`BLESS=1` rewrites it first); `test` names
/// the test target that generates it, for the message.
pub fn matches_shipped(file: &str, generated: &str, test: &str) {
    let path = format!("{}/pkg-template/{file}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, generated).unwrap();
    }
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped == generated,
        "pkg-template/{file} is out of date: run `BLESS=1 cargo test --test {test}`"
    );
}
