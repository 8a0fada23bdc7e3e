//! `/auth/v1/*`: the two calls supabase-js makes when an app hands it a session it already has
//! (`auth.setSession` reads the user; `auth.signOut` logs out), so an app and its tests can use a
//! real supabase-js client against this server with dev tokens. Not an auth server: no sign-in,
//! no refresh, no users beyond what a token says.

use crate::hub::{now_ms, Hub};
use crate::jwt;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use casino_realtime::json::Value;
use std::sync::Arc;

fn json(status: StatusCode, body: Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_json(),
    )
        .into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
}

/// `GET /auth/v1/user`: the user a valid bearer token names, as GoTrue answers (`id`, `aud`,
/// `role`, metadata with the staff role and casino); 401 for a missing, invalid or expired one.
pub async fn user(State(hub): State<Arc<Hub>>, headers: HeaderMap) -> Response {
    let claims = bearer(&headers).map(|t| jwt::verify(t, &hub.config.secret, now_ms() / 1000));
    let Some(Ok(claims)) = claims else {
        let body = Value::Object(vec![
            ("code".into(), 401_i64.into()),
            ("error_code".into(), "bad_jwt".into()),
            (
                "msg".into(),
                "invalid JWT: unable to parse or verify signature".into(),
            ),
        ]);
        return json(StatusCode::UNAUTHORIZED, body);
    };
    let text = |v: Option<String>| Value::from(v);
    let metadata = Value::Object(vec![
        ("staff_role".into(), text(claims.staff_role.clone())),
        (
            "casino_id".into(),
            text(claims.casino_id.map(|c| c.to_string())),
        ),
    ]);
    let body = Value::Object(vec![
        ("id".into(), text(claims.sub.clone())),
        ("aud".into(), "authenticated".into()),
        ("role".into(), claims.role.clone().into()),
        ("email".into(), "".into()),
        ("app_metadata".into(), metadata),
        ("user_metadata".into(), Value::Object(Vec::new())),
        ("created_at".into(), "2025-01-01T00:00:00Z".into()),
    ]);
    json(StatusCode::OK, body)
}

/// `POST /auth/v1/logout`: 204, as GoTrue answers (the token stays valid until it expires, as a
/// JWT does; supabase-js drops its session either way).
pub async fn logout() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
