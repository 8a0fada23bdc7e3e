//! `POST /rest/v1/rpc/emit`: `casino_realtime.emit` called the way supabase-js calls a function
//! (`supabase.schema('casino_realtime').rpc('emit', { event, payload })`, i.e. PostgREST: the
//! schema in `Content-Profile`, the caller's JWT as `Authorization: Bearer` or `apikey`, run as
//! the JWT's role with `request.jwt.claims` set). Only with `--database-url`. Errors come back as
//! PostgREST shapes them: `{code, message, details, hint}`, 400 for a payload the catalog
//! refuses (SQLSTATE 22023), 403 for an RLS refusal (42501), 401 for a bad token, 404 (PGRST202)
//! without the `casino_realtime` profile, 406 (PGRST106) for a schema it does not serve.
//! `?transaction_ms=N&at=commit|start` make the transaction last N ms (`pg_sleep`) and write
//! `at` at commit (dev server only).

#![allow(clippy::result_large_err)]

use crate::database::Caller;
use crate::hub::{now_ms, Hub};
use crate::jwt;
use crate::rest::{token, transaction};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use casino_realtime::json::{self, Value};
use std::collections::HashMap;
use std::sync::Arc;

fn error(status: StatusCode, code: &str, text: &str, details: Option<&str>) -> Response {
    let body = Value::object(vec![
        ("code", code.into()),
        ("message", text.into()),
        ("details", details.map_or(Value::Null, Value::from)),
        ("hint", Value::Null),
    ])
    .to_json();
    (status, [("content-type", "application/json")], body).into_response()
}

/// The handler.
pub async fn emit(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let Some(db) = hub.db.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "PGRST202",
            "casino_realtime.emit needs the database: start the dev server with --database-url",
            None,
        );
    };
    // PostgREST: no profile means `public`, where there is no `emit` (404, PGRST202); a schema
    // it does not expose is 406, PGRST106.
    match headers.get("content-profile").and_then(|v| v.to_str().ok()) {
        Some("casino_realtime") => {}
        None | Some("public") => {
            return error(
                StatusCode::NOT_FOUND,
                "PGRST202",
                "Could not find the function public.emit(event, payload) in the schema cache",
                None,
            )
        }
        Some(_) => {
            return error(
                StatusCode::NOT_ACCEPTABLE,
                "PGRST106",
                "The schema must be one of the following: public, casino_realtime",
                None,
            )
        }
    }
    let Some(token_text) = token(&headers, &params) else {
        return error(StatusCode::UNAUTHORIZED, "PGRST301", "No JWT", None);
    };
    let claims = match jwt::verify(token_text, &hub.config.secret, now_ms() / 1000) {
        Ok(claims) => claims,
        Err(e) => return error(StatusCode::UNAUTHORIZED, "PGRST301", &e.join_reason(), None),
    };
    let args = std::str::from_utf8(&body)
        .ok()
        .and_then(|t| json::parse(t).ok());
    let (Some(event), Some(payload)) = (
        args.as_ref()
            .and_then(|a| a.get("event"))
            .and_then(Value::as_str),
        args.as_ref().and_then(|a| a.get("payload")),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            "PGRST102",
            "the body must be a JSON object with `event` (a string) and `payload`",
            None,
        );
    };
    let transaction = match transaction(&hub, &params) {
        Ok(t) => t,
        Err(response) => return response,
    };
    let claims_json = jwt::claims_json(token_text).unwrap_or_default();
    let caller = Caller::Jwt {
        role: &claims.role,
        claims: &claims_json,
    };
    match db
        .publish(caller, event, &payload.to_json(), None, transaction)
        .await
    {
        Ok(ids) => {
            let ids = Value::Array(ids.into_iter().map(Value::from).collect());
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                ids.to_json(),
            )
                .into_response()
        }
        Err(e) => {
            let status = match e.code.as_str() {
                "42501" => StatusCode::FORBIDDEN,
                c if c.starts_with("22") || c.starts_with("P0") => StatusCode::BAD_REQUEST,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            error(status, &e.code, &e.message, e.detail.as_deref())
        }
    }
}
