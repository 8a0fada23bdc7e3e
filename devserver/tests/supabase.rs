//! The dev server is as hard as Supabase by default (docs/supabase-server-behaviour.md):
//! refused joins answered late and one at a time per socket, refused upgrades answered late,
//! kept messages stamped at the start of their transaction and delivered at its commit, and
//! the faults Supabase produces (a transient `Unauthorized`, presence messages, a half-open
//! socket, an outage). Delays are shortened here so the tests stay quick; their defaults are
//! checked against Supabase's.
#![allow(clippy::unwrap_used)]

mod common;

use casino_realtime::protocol::{Frame, Vsn};
use common::*;
use devserver::config::Config;
use std::time::{Duration, Instant};

fn topic() -> String {
    format!("realtime:{CASINO}")
}

async fn post(server: &devserver::Server, path: &str) -> u16 {
    http(server, "POST", path, &[], b"").await.0
}

#[test]
fn the_defaults_are_supabases() {
    let config = Config::default();
    assert_eq!(config.join_error_delay, Duration::from_secs(5));
    assert_eq!(config.connect_error_delay, Duration::from_secs(2));
    assert_eq!(config.max_events_per_second, Some(100));
    assert_eq!(config.idle_timeout, Duration::from_secs(60));
    let fast = Config::default().fast();
    assert_eq!(
        (fast.join_error_delay, fast.connect_error_delay),
        (Duration::ZERO, Duration::ZERO)
    );
    assert_eq!(
        fast.max_events_per_second,
        Some(100),
        "--fast keeps the rate limit"
    );
}

#[tokio::test]
async fn refused_joins_are_answered_late_one_at_a_time_and_hold_the_socket() {
    let delay = Duration::from_millis(400);
    let server = server_as_supabase(Config {
        join_error_delay: delay,
        ..Config::default()
    })
    .await;
    let other = "22222222-2222-4222-8222-222222222222";
    let mut client = Client::pit_boss(&server).await;
    let started = Instant::now();
    // Three joins the policy refuses (another casino), sent at once, then a heartbeat.
    for n in 0..3 {
        let t = format!("realtime:{other}:t{n}");
        let join_ref = client.make_ref();
        let frame = Frame::Message(casino_realtime::protocol::Message {
            join_ref: Some(join_ref.clone()),
            msg_ref: Some(join_ref),
            topic: t,
            event: "phx_join".into(),
            payload: join_payload(true, None, "{}"),
        });
        let text = casino_realtime::protocol::encode_text(&frame, Vsn::V2).unwrap();
        client
            .send_raw(tokio_tungstenite::tungstenite::Message::Text(text.into()))
            .await;
    }
    let heartbeat = client.send(None, "phoenix", "heartbeat", j("{}")).await;
    let mut answered = Vec::new();
    while answered.len() < 4 {
        let m = client.recv().await.message();
        if m.event == "phx_reply" {
            answered.push((m.topic.clone(), m.msg_ref.clone(), started.elapsed()));
        }
    }
    for (i, (topic, _, at)) in answered.iter().take(3).enumerate() {
        let expected = delay * (i as u32 + 1);
        assert!(
            *at >= expected && *at < expected + Duration::from_millis(350),
            "{topic}: answered after {at:?}, expected about {expected:?}"
        );
    }
    let (_, msg_ref, at) = &answered[3];
    assert_eq!(msg_ref.as_deref(), Some(heartbeat.as_str()));
    assert!(
        *at >= delay * 3,
        "the heartbeat waited behind the joins: {at:?}"
    );
}

#[tokio::test]
async fn a_refused_upgrade_is_answered_after_the_connect_delay() {
    let server = server_as_supabase(Config {
        connect_error_delay: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let started = Instant::now();
    let url = format!("{}?apikey=not-a-jwt&vsn=2.0.0", server.websocket_url());
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 401)
        }
        other => panic!("expected a 401, got {:?}", other.map(|_| ())),
    }
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_plain_get_of_the_socket_url_gets_the_upgrades_answer_readable_cross_origin() {
    let server = server_as_supabase(Config {
        connect_error_delay: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let get = |query: String| {
        let server = &server;
        async move {
            let path = format!("/realtime/v1/websocket?{query}");
            http_raw(
                server,
                "GET",
                &path,
                &[("Origin", "https://floor.example")],
                b"",
            )
            .await
        }
    };
    let started = Instant::now();
    let refused = get("apikey=not-a-jwt&vsn=2.0.0".into()).await;
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "answered late, as the upgrade is"
    );
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(
        refused.contains(r#"{"error":"The token provided is not a valid JWT"}"#),
        "{refused}"
    );
    assert!(
        refused
            .to_ascii_lowercase()
            .contains("access-control-allow-origin: *"),
        "{refused}"
    );
    let missing = get("vsn=2.0.0".into()).await;
    assert!(
        missing.contains(r#"{"error":"API key is missing"}"#),
        "{missing}"
    );
    let expired = token(&server, "pit_boss", CASINO, -60);
    let expired = get(format!("apikey={expired}&vsn=2.0.0")).await;
    assert!(expired.starts_with("HTTP/1.1 401"), "{expired}");
    assert!(expired.contains("expired"), "{expired}");
    let key = token(&server, "pit_boss", CASINO, 3600);
    assert!(get(format!("apikey={key}&vsn=3.0.0"))
        .await
        .starts_with("HTTP/1.1 403"));
    let passed = get(format!("apikey={key}&vsn=2.0.0")).await;
    assert!(
        passed.starts_with("HTTP/1.1 400"),
        "the checks passed: no upgrade asked: {passed}"
    );
    assert!(post(&server, "/_dev/faults/outage?ms=5000").await == 200);
    assert!(get(format!("apikey={key}&vsn=2.0.0"))
        .await
        .starts_with("HTTP/1.1 503"));
}

#[tokio::test]
async fn kept_messages_are_stamped_at_the_start_of_their_transaction_and_delivered_at_commit() {
    let server = server(Config::default()).await;
    let mut live = Client::pit_boss(&server).await;
    live.join(&topic(), join_payload(true, None, "{}")).await;
    let before = devserver::hub::now_ms();
    let body = r#"{"topic":"11111111-1111-4111-8111-111111111111","event":"e","payload":{"n":1}}"#;
    let started = Instant::now();
    let (status, _) = post_json(
        &server,
        "/realtime/v1/api/db/send?transaction_ms=600",
        &service_token(&server),
        body,
    )
    .await;
    assert_eq!(status, 200);
    // Joining during the transaction: the replay does not see the uncommitted row.
    let mut early = Client::pit_boss(&server).await;
    let replay = format!(r#"{{"replay":{{"since":{before},"limit":25}}}}"#);
    early
        .join(&topic(), join_payload(true, None, &replay))
        .await;
    early.quiet(200).await;
    match live.recv().await.frame() {
        Frame::Broadcast(b) => assert_eq!(
            b.payload,
            casino_realtime::protocol::BroadcastPayload::Json(j(r#"{"n":1}"#))
        ),
        other => panic!("{other:?}"),
    }
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "delivered at commit"
    );
    assert!(
        matches!(early.recv().await.frame(), Frame::Broadcast(_)),
        "delivered live to the early joiner"
    );
    // After the commit, a replay since the transaction's start finds it: it is stamped then.
    let mut late = Client::pit_boss(&server).await;
    late.join(&topic(), join_payload(true, None, &replay)).await;
    match late.recv().await.frame() {
        Frame::Broadcast(b) => assert!(b.meta.unwrap().get("replayed").is_some()),
        other => panic!("{other:?}"),
    }
}

/// The producer that writes `at` at commit (a Server Action stamping it after its writes):
/// the message delivered and the one kept for replay both carry the commit's time, while the
/// replay still selects it by the transaction's start.
#[tokio::test]
async fn a_producer_can_write_at_at_commit() {
    let server = server(Config::default()).await;
    let mut live = Client::pit_boss(&server).await;
    live.join(&topic(), join_payload(true, None, "{}")).await;
    let before = devserver::hub::now_ms();
    let body = r#"{"topic":"11111111-1111-4111-8111-111111111111","event":"e","payload":{"n":1,"at":"2020-01-01T00:00:00.000Z"}}"#;
    let path = "/realtime/v1/api/db/send?transaction_ms=400&at=commit";
    let (status, _) = post_json(&server, path, &service_token(&server), body).await;
    assert_eq!(status, 200);
    let at_of = |frame: Frame| match frame {
        Frame::Broadcast(b) => match b.payload {
            casino_realtime::protocol::BroadcastPayload::Json(p) => {
                p.get("at").and_then(|a| a.as_str()).unwrap().to_owned()
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    let delivered = at_of(live.recv().await.frame());
    let stamp = devserver::scenario::floor::iso(before + 400);
    assert!(
        delivered >= stamp,
        "{delivered} is not after the commit ({stamp})"
    );
    let mut late = Client::pit_boss(&server).await;
    let replay = format!(r#"{{"replay":{{"since":{before},"limit":25}}}}"#);
    late.join(&topic(), join_payload(true, None, &replay)).await;
    assert_eq!(
        at_of(late.recv().await.frame()),
        delivered,
        "kept as delivered"
    );
    // A transaction of no length commits at once: `at` is stamped then too.
    let instant = "/realtime/v1/api/db/send?transaction_ms=0&at=commit";
    let (status, _) = post_json(&server, instant, &service_token(&server), body).await;
    assert_eq!(status, 200);
    let delivered = at_of(live.recv().await.frame());
    assert!(
        delivered >= devserver::scenario::floor::iso(before),
        "{delivered}"
    );
    let (status, _) = post_json(
        &server,
        "/realtime/v1/api/db/send?at=end",
        &service_token(&server),
        body,
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_transient_unauthorized_refuses_allowed_joins_then_passes() {
    let server = server(Config::default()).await;
    assert_eq!(
        post(&server, "/_dev/faults/joins?unauthorized=1").await,
        200
    );
    let mut client = Client::pit_boss(&server).await;
    let (_, reply) = client.join(&topic(), join_payload(true, None, "{}")).await;
    assert_eq!(
        reason(&reply),
        format!(
            "Unauthorized: You do not have permissions to read from this Channel topic: {CASINO}"
        )
    );
    let (_, reply) = client.join(&topic(), join_payload(true, None, "{}")).await;
    assert_eq!(reply_status(&reply).0, "ok");
}

#[tokio::test]
async fn presence_messages_arrive_on_a_channel_on_demand() {
    let server = server(Config::default()).await;
    let mut client = Client::pit_boss(&server).await;
    client.join(&topic(), join_payload(true, None, "{}")).await;
    assert_eq!(post(&server, "/_dev/faults/presence").await, 200);
    assert_eq!(client.expect_event("presence_state").await.topic, topic());
    assert_eq!(client.expect_event("presence_diff").await.topic, topic());
}

#[tokio::test]
async fn a_half_open_socket_neither_answers_nor_delivers_nor_closes() {
    let server = server(Config::default()).await;
    let mut client = Client::pit_boss(&server).await;
    client.join(&topic(), join_payload(true, None, "{}")).await;
    assert_eq!(post(&server, "/_dev/faults/half-open").await, 200);
    client.send(None, "phoenix", "heartbeat", j("{}")).await;
    server
        .hub
        .publish_database(CASINO, "e", j("{}"), true, Default::default());
    client.quiet(1_000).await;
}

#[tokio::test]
async fn an_outage_drops_every_socket_and_refuses_connections_until_it_ends() {
    let server = server(Config::default()).await;
    let mut client = Client::pit_boss(&server).await;
    assert_eq!(post(&server, "/_dev/faults/outage?ms=800").await, 200);
    assert!(matches!(client.recv().await, Got::Closed));
    let key = token(&server, "pit_boss", CASINO, 3600);
    let url = format!("{}?apikey={key}&vsn=2.0.0", server.websocket_url());
    assert!(tokio_tungstenite::connect_async(url.clone()).await.is_err());
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert!(tokio_tungstenite::connect_async(url).await.is_ok());
}
