//! The dev server against docs/protocol.md: upgrade checks, joins and their refusals, heartbeats,
//! leave, stale refs, both serializers, broadcasts in both framings, `self`/`ack`, tokens,
//! replay, idle timeout.
#![allow(clippy::unwrap_used)]

mod common;

use casino_realtime::json::Value;
use casino_realtime::protocol::{encode_broadcast_push, Broadcast, BroadcastPayload, Frame, Vsn};
use common::*;
use devserver::config::Config;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message as Ws;

fn topic() -> String {
    format!("realtime:{CASINO}")
}

#[tokio::test]
async fn the_upgrade_checks_vsn_and_the_api_key_like_supabase() {
    let server = server(Config::default()).await;
    let key = token(&server, "pit_boss", CASINO, 60);
    let url = |q: &str| format!("{}?{q}", server.websocket_url());
    let status_body = |r: Result<_, tokio_tungstenite::tungstenite::Error>| match r {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body = response
                .body()
                .clone()
                .map(|b| String::from_utf8(b).unwrap())
                .unwrap_or_default();
            (response.status().as_u16(), body)
        }
        Ok(_) => (101, String::new()),
        Err(e) => panic!("{e}"),
    };
    let (s, _) = status_body(
        tokio_tungstenite::connect_async(url(&format!("apikey={key}&vsn=3.0.0")))
            .await
            .map(|_| ()),
    );
    assert_eq!(s, 403, "unsupported vsn");
    let (s, body) = status_body(
        tokio_tungstenite::connect_async(url("vsn=2.0.0"))
            .await
            .map(|_| ()),
    );
    assert_eq!(
        (s, body.as_str()),
        (401, r#"{"error":"API key is missing"}"#)
    );
    let expired = token(&server, "pit_boss", CASINO, -5);
    let (s, body) = status_body(
        tokio_tungstenite::connect_async(url(&format!("apikey={expired}&vsn=2.0.0")))
            .await
            .map(|_| ()),
    );
    assert_eq!(
        (s, body.as_str()),
        (401, r#"{"error":"Token has expired"}"#)
    );
    let (s, body) = status_body(
        tokio_tungstenite::connect_async(url("apikey=nonsense&vsn=2.0.0"))
            .await
            .map(|_| ()),
    );
    assert_eq!(
        (s, body.as_str()),
        (401, r#"{"error":"The token provided is not a valid JWT"}"#)
    );
    let forged = devserver::jwt::mint(
        &devserver::jwt::TokenSpec {
            role: "authenticated".into(),
            staff_role: None,
            casino_id: None,
            sub: "x".into(),
            ttl_s: 60,
        },
        "another secret",
        devserver::hub::now_ms() / 1000,
    );
    let (s, body) = status_body(
        tokio_tungstenite::connect_async(url(&format!("apikey={forged}&vsn=2.0.0")))
            .await
            .map(|_| ()),
    );
    assert_eq!(
        (s, body.as_str()),
        (401, r#"{"error":"Failed to validate JWT signature"}"#)
    );
    // No vsn means 1.0.0, and the alternative path works too.
    let plain = format!("ws://{}/socket/websocket?apikey={key}", server.addr);
    assert!(tokio_tungstenite::connect_async(plain).await.is_ok());
}

#[tokio::test]
async fn a_staff_member_joins_a_private_channel_and_gets_database_broadcasts_as_kind_4() {
    let server = server(Config::default()).await;
    let mut client = Client::pit_boss(&server).await;
    let (_, reply) = client
        .join(
            &topic(),
            join_payload(true, None, r#"{"self":false,"ack":false}"#),
        )
        .await;
    assert_eq!(
        reply.to_json(),
        r#"{"status":"ok","response":{"postgres_changes":[]}}"#
    );

    let id = server.hub.publish_database(
        CASINO,
        "table.deactivated",
        j(r#"{"n":1}"#),
        true,
        Default::default(),
    );
    match client.recv().await {
        Got::Binary(Frame::Broadcast(b)) => {
            assert_eq!(
                (b.topic.as_str(), b.event.as_str()),
                (topic().as_str(), "table.deactivated")
            );
            assert_eq!(b.meta_id(), Some(id.as_str()));
            assert_eq!(b.payload, BroadcastPayload::Json(j(r#"{"n":1}"#)));
        }
        other => panic!("expected a kind-4 broadcast, got {other:?}"),
    }
}

#[tokio::test]
async fn joins_are_refused_with_supabase_reasons() {
    let server = server(Config {
        private_only: false,
        ..Config::default()
    })
    .await;
    let mut client = Client::pit_boss(&server).await;
    let sub = CASINO;
    let cases = [
        (format!("realtime:{OTHER}"), join_payload(true, None, "{}"), format!("Unauthorized: You do not have permissions to read from this Channel topic: {OTHER}")),
        (topic(), join_payload(true, Some(&token(&server, "dealer", CASINO, 60)), "{}"), format!("Unauthorized: You do not have permissions to read from this Channel topic: {sub}")),
        (topic(), join_payload(true, Some(&token(&server, "pit_boss", CASINO, -7)), "{}"), "InvalidJWTToken: Token has expired 7 seconds ago".into()),
        (topic(), join_payload(true, Some("garbage"), "{}"), "MalformedJWT: The token provided is not a valid JWT".into()),
        (topic(), join_payload(false, None, r#"{"replay":{"since":0}}"#), "UnableToReplayMessages: Replay is not allowed for public channels".into()),
        (topic(), join_payload(true, None, r#"{"replay":{"since":"yesterday"}}"#), "UnableToReplayMessages: Replay params are not valid".into()),
        ("realtime:".into(), join_payload(false, None, "{}"), "TopicNameRequired: You must provide a topic name".into()),
        ("lobby".into(), join_payload(false, None, "{}"), "unmatched topic".into()),
    ];
    for (topic, payload, expected) in cases {
        let (_, reply) = client.join(&topic, payload).await;
        assert_eq!(reply_status(&reply).0, "error", "{topic}");
        assert_eq!(reason(&reply), expected);
    }
    // A dealer may read a detail channel, and `sb_` access tokens fall back to the apikey.
    let detail = format!("realtime:{CASINO}:table-7");
    let (_, reply) = client
        .join(
            &detail,
            join_payload(true, Some(&token(&server, "dealer", CASINO, 60)), "{}"),
        )
        .await;
    assert_eq!(reply_status(&reply).0, "ok");
    let (_, reply) = client
        .join(
            &topic(),
            join_payload(true, Some("sb_publishable_xyz"), "{}"),
        )
        .await;
    assert_eq!(reply_status(&reply).0, "ok");
}

#[tokio::test]
async fn private_only_projects_refuse_public_channels() {
    let server = server(Config {
        private_only: true,
        ..Config::default()
    })
    .await;
    let mut client = Client::pit_boss(&server).await;
    let (_, reply) = client.join(&topic(), join_payload(false, None, "{}")).await;
    assert_eq!(
        reason(&reply),
        "PrivateOnly: This project only allows private channels"
    );
}

#[tokio::test]
async fn heartbeats_are_answered_until_the_fault_silences_them() {
    let server = server(Config::default()).await;
    let mut client = Client::pit_boss(&server).await;
    let r = client.send(None, "phoenix", "heartbeat", j("{}")).await;
    let reply = client.expect_event("phx_reply").await;
    assert_eq!(
        (reply.join_ref, reply.msg_ref.as_deref()),
        (None, Some(r.as_str()))
    );
    assert_eq!(reply.payload.to_json(), r#"{"status":"ok","response":{}}"#);

    let (status, _) = http(
        &server,
        "POST",
        "/_dev/faults/heartbeats?answer=false",
        &[],
        b"",
    )
    .await;
    assert_eq!(status, 200);
    client.send(None, "phoenix", "heartbeat", j("{}")).await;
    client.quiet(300).await;
}

#[tokio::test]
async fn leave_replies_ok_then_closes_and_stale_join_refs_are_ignored() {
    let server = server(Config::default()).await;
    let mut client = Client::pit_boss(&server).await;
    let (first, _) = client.join(&topic(), join_payload(true, None, "{}")).await;
    // Joining again replaces the first join, which is closed before the new join's reply.
    let second = client.make_ref();
    let join = Frame::Message(casino_realtime::protocol::Message {
        join_ref: Some(second.clone()),
        msg_ref: Some(second.clone()),
        topic: topic(),
        event: "phx_join".into(),
        payload: join_payload(true, None, "{}"),
    });
    client
        .send_raw(Ws::Text(
            casino_realtime::protocol::encode_text(&join, Vsn::V2)
                .unwrap()
                .into(),
        ))
        .await;
    let close = client.recv().await.message();
    assert_eq!(close.event, "phx_close");
    assert_eq!(
        (close.join_ref.as_deref(), close.msg_ref.as_deref()),
        (Some(first.as_str()), Some(first.as_str()))
    );
    let reply = client.recv().await.message();
    assert_eq!(
        (reply.event.as_str(), reply.join_ref.as_deref()),
        ("phx_reply", Some(second.as_str()))
    );

    client
        .send(Some(&first), &topic(), "phx_leave", j("{}"))
        .await;
    client.quiet(300).await;

    let r = client
        .send(Some(&second), &topic(), "phx_leave", j("{}"))
        .await;
    let reply = client.expect_event("phx_reply").await;
    assert_eq!(
        (
            reply.msg_ref.as_deref(),
            reply_status(&reply.payload).0.as_str()
        ),
        (Some(r.as_str()), "ok")
    );
    let close = client.expect_event("phx_close").await;
    assert_eq!(close.join_ref.as_deref(), Some(second.as_str()));
}

#[tokio::test]
async fn vsn_1_speaks_json_objects_without_join_ref_in_replies() {
    let server = server(Config::default()).await;
    let key = token(&server, "pit_boss", CASINO, 3600);
    let mut client = Client::connect(&server, &format!("apikey={key}&vsn=1.0.0"), Vsn::V1).await;
    client.join(&topic(), join_payload(true, None, "{}")).await;
    server.hub.publish_database(
        CASINO,
        "table.deactivated",
        j(r#"{"n":2}"#),
        true,
        Default::default(),
    );
    match client.recv().await {
        Got::Text(Frame::Broadcast(b)) => {
            assert_eq!(b.payload, BroadcastPayload::Json(j(r#"{"n":2}"#)))
        }
        other => panic!("expected a JSON broadcast, got {other:?}"),
    }
    let r = client.send(None, "phoenix", "heartbeat", j("{}")).await;
    let raw = loop {
        if let Some(Ok(Ws::Text(t))) = futures_util::StreamExt::next(&mut client.ws).await {
            break t.to_string();
        }
    };
    assert_eq!(
        raw,
        format!(
            r#"{{"topic":"phoenix","event":"phx_reply","payload":{{"status":"ok","response":{{}}}},"ref":"{r}"}}"#
        )
    );
}

#[tokio::test]
async fn rest_publishing_frames_batch_as_json_and_single_as_kind_4() {
    let server = server(Config::default()).await;
    let mut client = Client::pit_boss(&server).await;
    client.join(&topic(), join_payload(true, None, "{}")).await;
    let service = service_token(&server);

    let body = format!(
        r#"{{"messages":[{{"topic":"{CASINO}","event":"visit.created","payload":{{"a":1}},"private":true,"id":"m-7"}}]}}"#
    );
    assert_eq!(
        post_json(&server, "/realtime/v1/api/broadcast", &service, &body)
            .await
            .0,
        202
    );
    match client.recv().await {
        Got::Text(Frame::Broadcast(b)) => {
            assert_eq!(
                (b.event.as_str(), b.meta_id()),
                ("visit.created", Some("m-7"))
            );
        }
        other => panic!("expected JSON text, got {other:?}"),
    }

    let path = format!("/realtime/v1/api/broadcast/{CASINO}/events/visit.closed?private=true");
    assert_eq!(
        post_json(&server, &path, &service, r#"{"b":2}"#).await.0,
        202
    );
    match client.recv().await {
        Got::Binary(Frame::Broadcast(b)) => {
            assert_eq!((b.event.as_str(), b.meta.as_ref()), ("visit.closed", None))
        }
        other => panic!("expected kind 4, got {other:?}"),
    }

    // Unauthenticated: 401. A dealer may not write: 403 on single, silently skipped on batch.
    assert_eq!(
        post_json(&server, &path, "bad", "{}").await,
        (401, r#"{"message":"Unauthorized"}"#.into())
    );
    let dealer = token(&server, "dealer", CASINO, 60);
    assert_eq!(post_json(&server, &path, &dealer, "{}").await.0, 403);
    assert_eq!(
        post_json(&server, "/realtime/v1/api/broadcast", &dealer, &body)
            .await
            .0,
        202
    );
    let (status, _) = http(
        &server,
        "POST",
        &path,
        &[
            ("authorization", &format!("Bearer {service}")),
            ("content-type", "text/plain"),
        ],
        b"x",
    )
    .await;
    assert_eq!(status, 415);
    client.quiet(300).await;
}

#[tokio::test]
async fn a_socket_may_choose_its_framing() {
    let server = server(Config::default()).await;
    let key = token(&server, "pit_boss", CASINO, 3600);
    let mut json = Client::connect(
        &server,
        &format!("apikey={key}&vsn=2.0.0&frames=json"),
        Vsn::V2,
    )
    .await;
    let mut binary = Client::connect(
        &server,
        &format!("apikey={key}&vsn=2.0.0&frames=binary"),
        Vsn::V2,
    )
    .await;
    json.join(&topic(), join_payload(true, None, "{}")).await;
    binary.join(&topic(), join_payload(true, None, "{}")).await;
    server
        .hub
        .publish_database(CASINO, "e", j("{}"), true, Default::default());
    assert!(matches!(json.recv().await, Got::Text(Frame::Broadcast(_))));
    assert!(matches!(
        binary.recv().await,
        Got::Binary(Frame::Broadcast(_))
    ));
    let body = format!(
        r#"{{"messages":[{{"topic":"{CASINO}","event":"e","payload":{{}},"private":true}}]}}"#
    );
    post_json(&server, "/api/broadcast", &service_token(&server), &body).await;
    assert!(matches!(
        binary.recv().await,
        Got::Binary(Frame::Broadcast(_))
    ));
}

#[tokio::test]
async fn client_pushes_honour_self_and_ack() {
    let server = server(Config::default()).await;
    let mut sender = Client::pit_boss(&server).await;
    let mut other = Client::pit_boss(&server).await;
    let (join_ref, _) = sender
        .join(
            &topic(),
            join_payload(true, None, r#"{"self":false,"ack":true}"#),
        )
        .await;
    other.join(&topic(), join_payload(true, None, "{}")).await;

    let push = |msg_ref: &str| Broadcast {
        join_ref: Some(join_ref.clone()),
        msg_ref: Some(msg_ref.into()),
        topic: topic(),
        event: "cursor".into(),
        payload: BroadcastPayload::Json(j(r#"{"x":1}"#)),
        meta: Some(j(r#"{"persist":{"ttl":60}}"#)),
    };
    sender
        .send_raw(Ws::Binary(
            encode_broadcast_push(&push("40")).unwrap().into(),
        ))
        .await;
    let ack = sender.expect_event("phx_reply").await;
    assert_eq!(
        (
            ack.msg_ref.as_deref(),
            reply_status(&ack.payload).0.as_str()
        ),
        (Some("40"), "ok")
    );
    match other.recv().await {
        Got::Binary(Frame::Broadcast(b)) => {
            assert_eq!((b.event.as_str(), b.join_ref), ("cursor", None))
        }
        got => panic!("expected kind 4, got {got:?}"),
    }
    sender.quiet(300).await;

    // With self, the sender gets its own message.
    let mut echo = Client::pit_boss(&server).await;
    let (jr, _) = echo
        .join(&topic(), join_payload(true, None, r#"{"self":true}"#))
        .await;
    let mine = Broadcast {
        join_ref: Some(jr),
        ..push("41")
    };
    echo.send_raw(Ws::Binary(encode_broadcast_push(&mine).unwrap().into()))
        .await;
    assert!(matches!(
        echo.recv().await,
        Got::Binary(Frame::Broadcast(_))
    ));

    // Too large, with ack: the error is a bare string.
    let small = devserver::Server::start(Config {
        port: 0,
        max_payload_bytes: 4,
        ..Config::default()
    })
    .await
    .unwrap();
    let mut c = Client::pit_boss(&small).await;
    let (jr, _) = c
        .join(&topic(), join_payload(true, None, r#"{"ack":true}"#))
        .await;
    let big = Broadcast {
        join_ref: Some(jr),
        ..push("42")
    };
    c.send_raw(Ws::Binary(encode_broadcast_push(&big).unwrap().into()))
        .await;
    let reply = c.expect_event("phx_reply").await;
    assert_eq!(
        reply.payload.to_json(),
        r#"{"status":"error","response":"payload_size_exceeded"}"#
    );
}

#[tokio::test]
async fn an_expiring_token_closes_the_channel_with_a_system_error() {
    let server = server(Config::default()).await;
    let mut client = Client::pit_boss(&server).await;
    let short = token(&server, "pit_boss", CASINO, 1);
    let (join_ref, _) = client
        .join(&topic(), join_payload(true, Some(&short), "{}"))
        .await;
    let system = client.expect_event("system").await;
    assert_eq!(system.join_ref.as_deref(), Some(join_ref.as_str()));
    let message = system
        .payload
        .get("message")
        .and_then(Value::as_str)
        .unwrap();
    assert!(
        message.starts_with("Token has expired ") && message.ends_with(" seconds ago"),
        "{message}"
    );
    assert_eq!(
        system.payload.get("status").and_then(Value::as_str),
        Some("error")
    );
    assert_eq!(
        system.payload.get("channel").and_then(Value::as_str),
        Some(CASINO)
    );
    let close = client.expect_event("phx_close").await;
    assert_eq!(close.join_ref.as_deref(), Some(join_ref.as_str()));
}

#[tokio::test]
async fn a_refreshed_token_keeps_the_channel_and_a_bad_one_closes_it() {
    let server = server(Config::default()).await;
    let mut client = Client::pit_boss(&server).await;
    let short = token(&server, "pit_boss", CASINO, 1);
    let (join_ref, _) = client
        .join(&topic(), join_payload(true, Some(&short), "{}"))
        .await;
    let fresh = token(&server, "pit_boss", CASINO, 600);
    let payload = j(&format!(r#"{{"access_token":"{fresh}"}}"#));
    client
        .send(Some(&join_ref), &topic(), "access_token", payload)
        .await;
    client.quiet(2200).await; // no reply to access_token, and no expiry of the old token

    let dealer = token(&server, "dealer", CASINO, 600);
    client
        .send(
            Some(&join_ref),
            &topic(),
            "access_token",
            j(&format!(r#"{{"access_token":"{dealer}"}}"#)),
        )
        .await;
    let system = client.expect_event("system").await;
    assert_eq!(
        system.payload.get("message").and_then(Value::as_str),
        Some(
            format!("You no longer have permission to read from this Channel topic: {CASINO}")
                .as_str()
        )
    );
    client.expect_event("phx_close").await;
}

#[tokio::test]
async fn replay_delivers_the_newest_stored_messages_oldest_first_and_suppresses_live_copies() {
    let server = server(Config::default()).await;
    let ids: Vec<String> = (0..30)
        .map(|i| {
            server.hub.publish_database(
                CASINO,
                "e",
                j(&format!(r#"{{"i":{i}}}"#)),
                true,
                Default::default(),
            )
        })
        .collect();
    let mut client = Client::pit_boss(&server).await;
    client
        .join(
            &topic(),
            join_payload(true, None, r#"{"replay":{"since":0,"limit":10}}"#),
        )
        .await;
    for expected in &ids[20..] {
        match client.recv().await {
            Got::Binary(Frame::Broadcast(b)) => {
                assert_eq!(b.meta_id(), Some(expected.as_str()));
                assert_eq!(
                    b.meta.as_ref().and_then(|m| m.get("replayed")),
                    Some(&Value::Bool(true))
                );
            }
            other => panic!("expected a replayed broadcast, got {other:?}"),
        }
    }
    assert!(server.hub.redeliver(CASINO, &ids[25]));
    client.quiet(300).await;
    // A limit above 25 is clamped to 25.
    let mut again = Client::pit_boss(&server).await;
    again
        .join(
            &topic(),
            join_payload(true, None, r#"{"replay":{"since":0,"limit":100}}"#),
        )
        .await;
    for _ in 0..25 {
        assert!(matches!(
            again.recv().await,
            Got::Binary(Frame::Broadcast(_))
        ));
    }
    again.quiet(300).await;
}

#[tokio::test]
async fn silent_sockets_are_closed_after_the_idle_timeout() {
    let server = server(Config {
        idle_timeout: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let mut client = Client::pit_boss(&server).await;
    assert!(matches!(
        client.next(Duration::from_secs(3)).await,
        Some(Got::Closed)
    ));
}

#[tokio::test]
async fn bad_frames_are_dropped_and_the_connection_stays_open() {
    let server = server(Config::default()).await;
    let mut client = Client::pit_boss(&server).await;
    client.send_raw(Ws::Text("[1,2]".into())).await;
    client.send_raw(Ws::Binary(vec![7, 7, 7].into())).await;
    client.send(None, "phoenix", "heartbeat", j("{}")).await;
    assert_eq!(client.expect_event("phx_reply").await.topic, "phoenix");
}

#[tokio::test]
async fn the_http_api_answers_cors_like_supabase() {
    let server = server(Config::default()).await;
    let (status, _) = http(
        &server,
        "OPTIONS",
        "/realtime/v1/api/broadcast",
        &[("origin", "http://app.test")],
        b"",
    )
    .await;
    assert_eq!(status, 204);
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!(
        "GET /_dev/status HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        server.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(
        response
            .to_ascii_lowercase()
            .contains("access-control-allow-origin: *"),
        "{response}"
    );
}
