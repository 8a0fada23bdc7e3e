//! Publishing over HTTP, authenticated like Supabase (docs/protocol.md §4.3): the batch endpoint, the
//! single-message endpoint, and `db/send`, this server's stand-in for `realtime.send`.

// Handlers answer with a `Response` either way; boxing the error side would only add noise.
#![allow(clippy::result_large_err)]

use crate::hub::{now_ms, Hub, Origin};
use crate::jwt::{self, Claims};
use crate::policy;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use casino_realtime::json::{self, Value};
use casino_realtime::protocol::{Broadcast, BroadcastPayload};
use std::collections::HashMap;
use std::sync::Arc;

fn message(status: StatusCode, text: &str) -> Response {
    let body = Value::Object(vec![("message".into(), text.into())]).to_json();
    (status, [("content-type", "application/json")], body).into_response()
}

/// The caller's token: `Authorization: Bearer`, an `apikey` header, or `?apikey=`.
pub(crate) fn token<'a>(
    headers: &'a HeaderMap,
    params: &'a HashMap<String, String>,
) -> Option<&'a str> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    bearer
        .or_else(|| headers.get("apikey").and_then(|v| v.to_str().ok()))
        .or_else(|| params.get("apikey").map(String::as_str))
}

/// The caller's claims, from its token.
fn authenticate(
    hub: &Hub,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<Claims, Response> {
    token(headers, params)
        .and_then(|t| jwt::verify(t, &hub.config.secret, now_ms() / 1000).ok())
        .ok_or_else(|| message(StatusCode::UNAUTHORIZED, "Unauthorized"))
}

/// A publishing transaction as the query asks (`?transaction_ms=N`: it lasts N ms;
/// `?at=commit|start`: its producer writes `at` at commit or before it began), else the
/// server's settings.
pub(crate) fn transaction(
    hub: &Hub,
    params: &HashMap<String, String>,
) -> Result<crate::hub::Transaction, Response> {
    let mut transaction = hub.config.transaction;
    match params.get("transaction_ms").map(|t| t.parse::<u64>()) {
        None => {}
        Some(Ok(ms)) => transaction.length = std::time::Duration::from_millis(ms),
        Some(Err(_)) => {
            return Err(message(
                StatusCode::BAD_REQUEST,
                "transaction_ms must be a whole number",
            ))
        }
    }
    match params.get("at").map(String::as_str) {
        None => {}
        Some("commit") => transaction.at_commit = true,
        Some("start") => transaction.at_commit = false,
        Some(_) => {
            return Err(message(
                StatusCode::BAD_REQUEST,
                "at must be commit or start",
            ))
        }
    }
    Ok(transaction)
}

fn json_body(body: &Bytes) -> Result<Value, Response> {
    std::str::from_utf8(body)
        .ok()
        .and_then(|text| json::parse(text).ok())
        .ok_or_else(|| message(StatusCode::UNPROCESSABLE_ENTITY, "Body must be JSON"))
}

/// The caller's claims and the JSON body, or the response that refuses them.
fn authenticated_json(
    hub: &Hub,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    body: &Bytes,
) -> Result<(Claims, Value), Response> {
    Ok((authenticate(hub, headers, params)?, json_body(body)?))
}

/// `POST /api/broadcast`: `{"messages": [{topic, event, payload, private?, id?}]}` → 202.
/// Receivers get the JSON text form, with `meta.id` when `id` was given. Private messages the
/// caller may not write are skipped, still with 202.
pub async fn batch(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let (claims, body) = match authenticated_json(&hub, &headers, &params, &body) {
        Ok(request) => request,
        Err(response) => return response,
    };
    let Some(Value::Array(messages)) = body.get("messages") else {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "messages must be an array",
        );
    };
    let mut checked = Vec::with_capacity(messages.len());
    for m in messages {
        let (Some(topic), Some(event)) = (
            m.get("topic").and_then(Value::as_str),
            m.get("event").and_then(Value::as_str),
        ) else {
            return message(
                StatusCode::UNPROCESSABLE_ENTITY,
                "each message needs a topic and an event",
            );
        };
        let private = matches!(m.get("private"), Some(Value::Bool(true)));
        if m.get("payload").map_or(0, |p| p.to_json().len()) > hub.config.max_payload_bytes {
            return message(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Payload size exceeds tenant limit",
            );
        }
        checked.push((
            topic.to_owned(),
            event.to_owned(),
            private,
            m.get("payload").cloned(),
            m.get("id").cloned(),
        ));
    }
    let mut state = hub.lock();
    for (topic, event, private, payload, id) in checked {
        if private && !policy::can_write(&claims, &topic) {
            continue;
        }
        let meta = id.map(|id| Value::Object(vec![("id".into(), id)]));
        let broadcast = Broadcast {
            join_ref: None,
            msg_ref: None,
            topic: format!("realtime:{topic}"),
            event,
            payload: BroadcastPayload::Json(payload.unwrap_or(Value::Null)),
            meta,
        };
        state.deliver(&topic, private, &broadcast, &Origin::RestBatch, &hub.config);
    }
    StatusCode::ACCEPTED.into_response()
}

/// `POST /api/broadcast/<subtopic>/events/<event>[?private=true]`: a JSON or binary body,
/// delivered as kind 4 → 202; 403 for a private topic the caller may not write.
pub async fn single(
    State(hub): State<Arc<Hub>>,
    Path((topic, event)): Path<(String, String)>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let claims = match authenticate(&hub, &headers, &params) {
        Ok(claims) => claims,
        Err(response) => return response,
    };
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let payload = if content_type.starts_with("application/json") {
        match json_body(&body) {
            Ok(value) => BroadcastPayload::Json(value),
            Err(response) => return response,
        }
    } else if content_type.starts_with("application/octet-stream") {
        BroadcastPayload::Binary(body.to_vec())
    } else {
        let body = Value::Object(vec![(
            "error".into(),
            "Unsupported Media Type. Use application/json or application/octet-stream".into(),
        )]);
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            [("content-type", "application/json")],
            body.to_json(),
        )
            .into_response();
    };
    if body.len() > hub.config.max_payload_bytes {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Payload size exceeds tenant limit",
        );
    }
    let private = params.get("private").is_some_and(|p| p == "true");
    if private && !policy::can_write(&claims, &topic) {
        return message(StatusCode::FORBIDDEN, "Unauthorized");
    }
    let broadcast = Broadcast {
        join_ref: None,
        msg_ref: None,
        topic: format!("realtime:{topic}"),
        event,
        payload,
        meta: None,
    };
    hub.lock().deliver(
        &topic,
        private,
        &broadcast,
        &Origin::RestSingle,
        &hub.config,
    );
    StatusCode::ACCEPTED.into_response()
}

/// `POST /api/db/send` (this server only): `{topic, event, payload, private?}`, as the database
/// function `realtime.send` would publish it: a fresh `meta.id`, kind 4, and kept for replay
/// when private (the default). Answers `{"id": ...}`.
pub async fn db_send(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let (claims, body) = match authenticated_json(&hub, &headers, &params, &body) {
        Ok(request) => request,
        Err(response) => return response,
    };
    let (Some(topic), Some(event)) = (
        body.get("topic").and_then(Value::as_str),
        body.get("event").and_then(Value::as_str),
    ) else {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "topic and event are required",
        );
    };
    let private = !matches!(body.get("private"), Some(Value::Bool(false)));
    // On a database, the RLS policies decide (as `realtime.send` runs them).
    if hub.db.is_none() && private && !policy::can_write(&claims, topic) {
        return message(StatusCode::FORBIDDEN, "Unauthorized");
    }
    let payload = body.get("payload").cloned().unwrap_or(Value::Null);
    let transaction = match transaction(&hub, &params) {
        Ok(t) => t,
        Err(response) => return response,
    };
    if let Some(db) = &hub.db {
        // `realtime.send` itself, as the caller: it turns failures into warnings, as on Supabase.
        let claims_json = token(&headers, &params)
            .and_then(jwt::claims_json)
            .unwrap_or_default();
        let caller = crate::database::Caller::Jwt {
            role: &claims.role,
            claims: &claims_json,
        };
        let sent = db
            .publish(
                caller,
                event,
                &payload.to_json(),
                Some((topic, private)),
                transaction,
            )
            .await;
        return match sent {
            Ok(_) => (StatusCode::OK, [("content-type", "application/json")], "{}").into_response(),
            Err(e) => message(StatusCode::INTERNAL_SERVER_ERROR, &e.message),
        };
    }
    let id = hub.publish_database(topic, event, payload, private, transaction);
    let body = Value::Object(vec![("id".into(), id.into())]).to_json();
    (StatusCode::OK, [("content-type", "application/json")], body).into_response()
}
