//! `/_dev/*`: faults on demand, dev tokens and status. Loopback only, no auth: this is a
//! development server.

use crate::hub::{now_ms, Hub};
use crate::jwt::{mint, TokenSpec};
use crate::scenario::{self, Running};
use crate::{channel, socket};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use casino_realtime::json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// What the admin handlers share.
#[derive(Clone)]
pub struct Admin {
    /// The hub.
    pub hub: Arc<Hub>,
    /// The floor scenario, if running.
    pub scenario: Option<Arc<Running>>,
}

type Params = Query<HashMap<String, String>>;

fn ok(members: Vec<(&str, Value)>) -> Response {
    let body = Value::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
    .to_json();
    (StatusCode::OK, [("content-type", "application/json")], body).into_response()
}

fn count(n: usize) -> Response {
    ok(vec![("affected", Value::from(n as i64))])
}

fn bad(text: &str) -> Response {
    let body = Value::Object(vec![("message".into(), text.into())]).to_json();
    (
        StatusCode::BAD_REQUEST,
        [("content-type", "application/json")],
        body,
    )
        .into_response()
}

/// `POST /_dev/faults/drop-connections`: every socket dies without a close frame.
pub async fn drop_connections(State(a): State<Admin>) -> Response {
    count(socket::drop_all(&a.hub))
}

/// `POST /_dev/faults/heartbeats?answer=false|true`: stop or resume answering heartbeats.
pub async fn heartbeats(State(a): State<Admin>, Query(p): Params) -> Response {
    let answer = p.get("answer").is_none_or(|v| v != "false");
    a.hub.lock().faults.silent_heartbeats = !answer;
    ok(vec![("answer", Value::Bool(answer))])
}

/// `POST /_dev/faults/joins?delay_ms=N&refuse=<Code: message>`: delay join replies, or refuse
/// joins with a reason (`refuse=` empty stops refusing).
pub async fn joins(State(a): State<Admin>, Query(p): Params) -> Response {
    let mut state = a.hub.lock();
    if let Some(delay) = p.get("delay_ms") {
        let Ok(delay) = delay.parse() else {
            return bad("delay_ms must be a whole number");
        };
        state.faults.join_delay_ms = delay;
    }
    if let Some(reason) = p.get("refuse") {
        state.faults.refuse_joins = (!reason.is_empty()).then(|| reason.clone());
    }
    if let Some(n) = p.get("unauthorized") {
        let Ok(n) = n.parse() else {
            return bad("unauthorized must be a whole number");
        };
        state.faults.unauthorized_joins = n;
    }
    let refuse = state
        .faults
        .refuse_joins
        .clone()
        .map_or(Value::Null, Value::from);
    ok(vec![
        ("delay_ms", Value::from(state.faults.join_delay_ms as i64)),
        ("refuse", refuse),
        (
            "unauthorized",
            Value::from(i64::from(state.faults.unauthorized_joins)),
        ),
    ])
}

/// `POST /_dev/faults/presence`: `presence_state` and `presence_diff` on every joined channel.
pub async fn presence(State(a): State<Admin>) -> Response {
    count(channel::send_presence(&a.hub))
}

/// `POST /_dev/faults/half-open`: every socket stops delivering and answering, without closing.
pub async fn half_open(State(a): State<Admin>) -> Response {
    count(socket::half_open_all(&a.hub))
}

/// `POST /_dev/faults/outage?ms=N`: every socket dies without a close frame and none can
/// connect for N ms (default 3000): the network is down.
pub async fn outage(State(a): State<Admin>, Query(p): Params) -> Response {
    let Ok(ms) = p.get("ms").map_or(Ok(3_000), |ms| ms.parse::<i64>()) else {
        return bad("ms must be a whole number");
    };
    a.hub.lock().faults.outage_until_ms = now_ms() + ms;
    count(socket::drop_all(&a.hub))
}

/// `POST /_dev/faults/crash-channel?topic=realtime:<subtopic>`: `phx_error` on that topic.
pub async fn crash_channel(State(a): State<Admin>, Query(p): Params) -> Response {
    let Some(topic) = p.get("topic") else {
        return bad("topic is required");
    };
    count(channel::crash(&a.hub, topic))
}

/// `POST /_dev/faults/malformed-frame`: a text frame that is not JSON and an unknown binary kind.
pub async fn malformed_frame(State(a): State<Admin>) -> Response {
    count(socket::send_malformed(&a.hub))
}

/// `POST /_dev/faults/oversized-frame?bytes=N`: a broadcast of about N bytes (default 6 MB) on
/// every joined channel.
pub async fn oversized_frame(State(a): State<Admin>, Query(p): Params) -> Response {
    let bytes = p
        .get("bytes")
        .and_then(|b| b.parse().ok())
        .unwrap_or(6_000_000);
    count(socket::send_oversized(&a.hub, bytes))
}

fn sample(event: &str, casino: &str) -> Value {
    let payload = format!(
        r#"{{"event":"{event}","casino_id":"{casino}","table_id":"5ab1e000-0000-4000-8000-000000000001","at":"{}"}}"#,
        scenario::floor::iso(now_ms())
    );
    casino_realtime::json::parse(&payload).unwrap_or(Value::Null)
}

/// `POST /_dev/faults/foreign-casino?topic=<subtopic>`: a valid event that names another casino.
pub async fn foreign_casino(State(a): State<Admin>, Query(p): Params) -> Response {
    let Some(topic) = p.get("topic") else {
        return bad("topic (a subtopic such as <casino_id>) is required");
    };
    let id = a.hub.publish_database(
        topic,
        "table.deactivated",
        sample("table.deactivated", scenario::OTHER_CASINO),
        true,
        a.hub.config.transaction,
    );
    ok(vec![("id", id.into())])
}

/// `POST /_dev/faults/schema-violation?topic=<subtopic>`: an event whose payload breaks the
/// catalog (`table_id` is not a uuid).
pub async fn schema_violation(State(a): State<Admin>, Query(p): Params) -> Response {
    let Some(topic) = p.get("topic") else {
        return bad("topic (a subtopic such as <casino_id>) is required");
    };
    let casino = topic.split(':').next().unwrap_or_default();
    let mut payload = sample("table.deactivated", casino);
    if let Value::Object(members) = &mut payload {
        members.retain(|(k, _)| k != "table_id");
        members.push(("table_id".into(), "table seven".into()));
    }
    let id = a.hub.publish_database(
        topic,
        "table.deactivated",
        payload,
        true,
        a.hub.config.transaction,
    );
    ok(vec![("id", id.into())])
}

/// `POST /_dev/faults/expire-token[?topic=realtime:<subtopic>]`: channels close as at token
/// expiry (`system` error, then `phx_close`).
pub async fn expire_token(State(a): State<Admin>, Query(p): Params) -> Response {
    count(channel::expire_tokens(
        &a.hub,
        p.get("topic").map(String::as_str),
    ))
}

/// `POST /_dev/faults/rate-limit?trip=true|false`: every channel that next receives a message is
/// closed with `Too many messages per second`, until `trip=false`.
pub async fn rate_limit(State(a): State<Admin>, Query(p): Params) -> Response {
    let trip = p.get("trip").is_none_or(|v| v != "false");
    a.hub.lock().faults.rate_limit_tripped = trip;
    ok(vec![("tripped", Value::Bool(trip))])
}

/// `POST /_dev/faults/reset`: no faults.
pub async fn reset(State(a): State<Admin>) -> Response {
    a.hub.lock().faults = Default::default();
    ok(vec![("reset", Value::Bool(true))])
}

/// `POST /_dev/scenario?running=false|true`: pause or resume the floor scenario's events.
pub async fn scenario(State(a): State<Admin>, Query(p): Params) -> Response {
    let Some(running) = &a.scenario else {
        return bad("no scenario is running (start with --scenario floor)");
    };
    let go = match p.get("running").map(String::as_str) {
        Some("true") => true,
        Some("false") => false,
        _ => return bad("running must be true or false"),
    };
    running
        .paused
        .store(!go, std::sync::atomic::Ordering::Relaxed);
    ok(vec![("running", Value::Bool(go))])
}

/// `GET /_dev/anon-key`: the project's anon key, the same on every call (a Supabase project's
/// is fixed too): tabs of one app pass the same `apiKey`, so they can share a session.
pub async fn anon_key(State(a): State<Admin>) -> Response {
    let spec = TokenSpec {
        role: "anon".into(),
        staff_role: None,
        casino_id: None,
        sub: "anon".into(),
        // Issued at the epoch, valid until 2100.
        ttl_s: 4_102_444_800,
    };
    ok(vec![("key", mint(&spec, &a.hub.config.secret, 0).into())])
}

/// `POST /_dev/token?role=&staff_role=&casino_id=&ttl_s=&sub=`: a dev token signed with the
/// server's secret (defaults: an authenticated pit boss of the scenario's casino, one hour).
pub async fn token(State(a): State<Admin>, Query(p): Params) -> Response {
    let default_casino = a
        .hub
        .config
        .scenario
        .as_ref()
        .map_or(scenario::DEFAULT_CASINO, |s| s.casino_id.as_str());
    let ttl_s = match p.get("ttl_s").map(|t| t.parse::<i64>()) {
        None => 3600,
        Some(Ok(ttl)) => ttl,
        Some(Err(_)) => return bad("ttl_s must be a whole number of seconds"),
    };
    let spec = TokenSpec {
        role: p
            .get("role")
            .cloned()
            .unwrap_or_else(|| "authenticated".into()),
        staff_role: Some(
            p.get("staff_role")
                .cloned()
                .unwrap_or_else(|| "pit_boss".into()),
        )
        .filter(|s| !s.is_empty()),
        casino_id: Some(
            p.get("casino_id")
                .cloned()
                .unwrap_or_else(|| default_casino.into()),
        )
        .filter(|s| !s.is_empty()),
        sub: p.get("sub").cloned().unwrap_or_else(|| "dev-user".into()),
        ttl_s,
    };
    ok(vec![(
        "token",
        mint(&spec, &a.hub.config.secret, now_ms() / 1000).into(),
    )])
}

/// `GET /_dev/status`: connections, channels, counters, faults and the scenario's counts.
pub async fn status(State(a): State<Admin>) -> Response {
    let state = a.hub.lock();
    let mut channels = Vec::new();
    for conn in state.conns.values() {
        for c in conn.channels.values() {
            channels.push(Value::Object(vec![
                ("topic".into(), c.topic.as_str().into()),
                ("join_ref".into(), c.join_ref.as_str().into()),
                ("private".into(), Value::Bool(c.private)),
            ]));
        }
    }
    // Each connection's channels and heartbeat times, to count sockets and measure periods.
    let sockets: Vec<Value> = state
        .conns
        .values()
        .map(|conn| {
            let topics = conn.channels.values().map(|c| c.topic.as_str().into());
            let beats = conn.heartbeats.iter().map(|&t| Value::from(t));
            Value::Object(vec![
                ("topics".into(), Value::Array(topics.collect())),
                ("heartbeats".into(), Value::Array(beats.collect())),
            ])
        })
        .collect();
    let f = &state.faults;
    let faults = Value::Object(vec![
        ("silent_heartbeats".into(), Value::Bool(f.silent_heartbeats)),
        ("join_delay_ms".into(), Value::from(f.join_delay_ms as i64)),
        (
            "refuse_joins".into(),
            f.refuse_joins.clone().map_or(Value::Null, Value::from),
        ),
        (
            "rate_limit_tripped".into(),
            Value::Bool(f.rate_limit_tripped),
        ),
        (
            "unauthorized_joins".into(),
            Value::from(i64::from(f.unauthorized_joins)),
        ),
        ("outage".into(), Value::Bool(f.outage_until_ms > now_ms())),
    ]);
    let scenario = a.scenario.as_ref().map_or(Value::Null, |s| {
        let stats = s.delivery.lock().unwrap_or_else(|p| p.into_inner()).stats;
        Value::Object(vec![
            ("events".into(), Value::from(stats.events as i64)),
            ("duplicates".into(), Value::from(stats.duplicates as i64)),
            ("reordered".into(), Value::from(stats.reordered as i64)),
        ])
    });
    ok(vec![
        ("connections", Value::from(state.conns.len() as i64)),
        (
            "connections_total",
            Value::from(state.counters.connections as i64),
        ),
        ("deliveries", Value::from(state.counters.deliveries as i64)),
        ("joins", Value::from(state.counters.joins as i64)),
        (
            "refused_upgrades",
            Value::from(state.counters.refused_upgrades as i64),
        ),
        (
            "rate_limited",
            Value::from(state.counters.rate_limited as i64),
        ),
        ("channels", Value::Array(channels)),
        ("sockets", Value::Array(sockets)),
        ("faults", faults),
        ("scenario", scenario),
    ])
}
