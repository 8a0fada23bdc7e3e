//! Faults on demand through `/_dev/faults/*`, and dev tokens through `/_dev/token`.
#![allow(clippy::unwrap_used)]

mod common;

use casino_realtime::catalog::parse_event;
use casino_realtime::json::Value;
use casino_realtime::protocol::{BroadcastPayload, Frame};
use common::*;
use devserver::config::{Config, Faults};
use std::time::{Duration, Instant};

fn topic() -> String {
    format!("realtime:{CASINO}")
}

async fn post(server: &devserver::Server, path: &str) -> Value {
    let (status, body) = http(server, "POST", path, &[], b"").await;
    assert_eq!(status, 200, "{path}: {body}");
    j(&body)
}

async fn joined(server: &devserver::Server) -> Client {
    let mut client = Client::pit_boss(server).await;
    client.join(&topic(), join_payload(true, None, "{}")).await;
    client
}

#[tokio::test]
async fn dropped_connections_end_without_a_close_frame() {
    let server = server(Config::default()).await;
    let mut client = joined(&server).await;
    assert_eq!(
        post(&server, "/_dev/faults/drop-connections")
            .await
            .to_json(),
        r#"{"affected":1}"#
    );
    let ended = tokio::time::timeout(
        Duration::from_secs(5),
        futures_util::StreamExt::next(&mut client.ws),
    )
    .await
    .unwrap();
    assert!(
        !matches!(
            ended,
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_)))
        ),
        "a dropped connection sends no close frame: {ended:?}"
    );
}

#[tokio::test]
async fn a_crashed_channel_gets_phx_error() {
    let server = server(Config::default()).await;
    let mut client = joined(&server).await;
    post(
        &server,
        &format!("/_dev/faults/crash-channel?topic={}", topic()),
    )
    .await;
    let error = client.expect_event("phx_error").await;
    assert_eq!(error.payload.to_json(), r#"{"reason":"channel_crash"}"#);
    assert_eq!(error.join_ref, error.msg_ref);
}

#[tokio::test]
async fn joins_can_be_refused_or_delayed() {
    let server = server(Config::default()).await;
    let mut client = Client::pit_boss(&server).await;
    post(&server, "/_dev/faults/joins?refuse=RealtimeRestarting:%20Realtime%20is%20restarting,%20please%20standby").await;
    let (_, reply) = client.join(&topic(), join_payload(true, None, "{}")).await;
    assert_eq!(
        reason(&reply),
        "RealtimeRestarting: Realtime is restarting, please standby"
    );

    post(&server, "/_dev/faults/joins?refuse=&delay_ms=400").await;
    let started = Instant::now();
    let (_, reply) = client.join(&topic(), join_payload(true, None, "{}")).await;
    assert_eq!(reply_status(&reply).0, "ok");
    assert!(started.elapsed() >= Duration::from_millis(400));
    post(&server, "/_dev/faults/reset").await;
    assert_eq!(server.hub.lock().faults, Faults::default());
}

#[tokio::test]
async fn malformed_and_oversized_frames_reach_the_client() {
    let server = server(Config::default()).await;
    let mut client = joined(&server).await;
    post(&server, "/_dev/faults/malformed-frame").await;
    let raw = futures_util::StreamExt::next(&mut client.ws)
        .await
        .unwrap()
        .unwrap();
    assert!(raw.to_text().unwrap().starts_with("{\"this is\""));
    let raw = futures_util::StreamExt::next(&mut client.ws)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raw.into_data().as_ref(), &[9, 1, 2, 3]);

    post(&server, "/_dev/faults/oversized-frame?bytes=100000").await;
    let raw = futures_util::StreamExt::next(&mut client.ws)
        .await
        .unwrap()
        .unwrap();
    assert!(raw.len() > 100_000);
}

#[tokio::test]
async fn foreign_casino_and_schema_breaking_events_are_published() {
    let server = server(Config::default()).await;
    let mut client = joined(&server).await;
    post(
        &server,
        &format!("/_dev/faults/foreign-casino?topic={CASINO}"),
    )
    .await;
    let Frame::Broadcast(b) = client.recv().await.frame() else {
        panic!()
    };
    let BroadcastPayload::Json(payload) = b.payload else {
        panic!()
    };
    let event = parse_event(&b.event, &payload).expect("valid, but for another casino");
    assert_ne!(event.casino_id().unwrap().to_string(), CASINO);

    post(
        &server,
        &format!("/_dev/faults/schema-violation?topic={CASINO}"),
    )
    .await;
    let Frame::Broadcast(b) = client.recv().await.frame() else {
        panic!()
    };
    let BroadcastPayload::Json(payload) = b.payload else {
        panic!()
    };
    let err = parse_event(&b.event, &payload).unwrap_err();
    assert_eq!(
        err.to_string(),
        "table.deactivated: field 'table_id' must be a uuid string, got \"table seven\""
    );
}

#[tokio::test]
async fn expire_token_closes_channels_as_at_expiry() {
    let server = server(Config::default()).await;
    let mut client = joined(&server).await;
    assert_eq!(
        post(&server, "/_dev/faults/expire-token").await.to_json(),
        r#"{"affected":1}"#
    );
    let system = client.expect_event("system").await;
    assert_eq!(
        system.payload.get("message").and_then(Value::as_str),
        Some("Token has expired 0 seconds ago")
    );
    client.expect_event("phx_close").await;
}

#[tokio::test]
async fn a_tripped_rate_limit_closes_channels_at_their_next_message() {
    let server = server(Config::default()).await;
    let mut client = joined(&server).await;
    post(&server, "/_dev/faults/rate-limit?trip=true").await;
    server
        .hub
        .publish_database(CASINO, "e", j("{}"), true, Default::default());
    let system = client.expect_event("system").await;
    assert_eq!(
        system.payload.get("message").and_then(Value::as_str),
        Some("Too many messages per second")
    );
    client.expect_event("phx_close").await;
    assert_eq!(server.hub.lock().counters.rate_limited, 1);
}

#[tokio::test]
async fn the_message_rate_is_an_average_over_a_minute_as_on_supabase() {
    // A limit of 1 message per second allows 60 in a minute: a burst of 30 passes (a
    // per-second limit would close at the second message), the 61st closes the channel.
    let server = server(Config {
        max_events_per_second: Some(1),
        ..Config::default()
    })
    .await;
    let mut client = joined(&server).await;
    for _ in 0..100 {
        server
            .hub
            .publish_database(CASINO, "e", j("{}"), true, Default::default());
    }
    let mut broadcasts = 0;
    loop {
        match client.recv().await.frame() {
            Frame::Broadcast(_) => broadcasts += 1,
            Frame::Message(m) if m.event == "phx_close" => break,
            Frame::Message(_) => {}
        }
    }
    // Each message counts twice (sent and delivered), as Supabase counts them.
    assert!(
        (25..=30).contains(&broadcasts),
        "{broadcasts} delivered under an average of 1/s"
    );
}

#[tokio::test]
async fn dev_tokens_are_minted_with_the_servers_secret() {
    let server = server(Config::default()).await;
    let body = post(
        &server,
        &format!("/_dev/token?staff_role=cage&casino_id={CASINO}&ttl_s=120"),
    )
    .await;
    let token = body.get("token").and_then(Value::as_str).unwrap();
    let claims = devserver::jwt::verify(
        token,
        &server.hub.config.secret,
        devserver::hub::now_ms() / 1000,
    )
    .unwrap();
    assert_eq!(
        (
            claims.staff_role.as_deref(),
            claims.casino_id.map(|c| c.to_string())
        ),
        (Some("cage"), Some(CASINO.to_owned()))
    );
    let (status, _) = http(&server, "POST", "/_dev/token?ttl_s=soon", &[], b"").await;
    assert_eq!(status, 400);
    let status = j(&http(&server, "GET", "/_dev/status", &[], b"").await.1);
    assert_eq!(status.get("connections"), Some(&Value::from(0)));
}
