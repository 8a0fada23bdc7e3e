//! The SQL an app deploys (`supabase/migrations/`), in a real PostgreSQL with Supabase's pieces
//! recreated from Supabase's own migrations: every catalog sample published on its channels,
//! every way to break a payload refused in the SDK's words, every join and publish decided by the
//! RLS policies as the dev server's table decides it (evaluated the way Realtime evaluates
//! them), and the dev server serving from that database. Needs `CASINO_REALTIME_DATABASE_URL`
//! (a superuser connection): `scripts/with-postgres.sh cargo test -p devserver --features
//! database-tests --test database` starts a throwaway cluster and runs these.
#![cfg(feature = "database-tests")]
#![allow(clippy::unwrap_used)]

mod common;

use casino_realtime::catalog::{parse_event, EventKind, FieldType};
use casino_realtime::json::{self, Value};
use casino_realtime::protocol::{Frame, Vsn};
use common::*;
use devserver::config::{Config, DatabaseConfig};
use devserver::database::Database;
use devserver::hub::now_ms;
use devserver::jwt::{self, verify};
use devserver::policy::{self, POLICY};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tokio_postgres::{Client as Sql, NoTls};

fn base_url() -> String {
    std::env::var("CASINO_REALTIME_DATABASE_URL").expect(
        "CASINO_REALTIME_DATABASE_URL is not set: run these tests through scripts/with-postgres.sh",
    )
}

/// A fresh database for one test, prepared (Supabase's pieces and the migrations), and a
/// superuser client on it.
async fn fresh_database() -> (String, Database, Sql) {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "casino_realtime_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let (admin, connection) = tokio_postgres::connect(&base_url(), NoTls).await.unwrap();
    tokio::spawn(connection);
    admin
        .batch_execute(&format!("create database {name}"))
        .await
        .unwrap();
    let url = format!("{} dbname={name}", base_url());
    // Roles are the cluster's, not a database's: preparations one at a time.
    static PREPARING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let db = {
        let _one = PREPARING.lock().await;
        Database::connect(&url, true).await.unwrap()
    };
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    (url, db, client)
}

fn fixtures() -> Vec<(String, Value)> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/events.json"),
    )
    .unwrap();
    match json::parse(&text).unwrap() {
        Value::Object(members) => members,
        _ => panic!("events.json is an object"),
    }
}

fn with(payload: &Value, name: &str, value: Option<Value>) -> Value {
    let Value::Object(members) = payload else {
        return payload.clone();
    };
    let mut members: Vec<_> = members.iter().filter(|(k, _)| k != name).cloned().collect();
    if let Some(value) = value {
        members.push((name.to_owned(), value));
    }
    Value::Object(members)
}

/// A value with every object's members in name order (jsonb keeps them its own way).
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(m) => {
            let mut m: Vec<_> = m.iter().map(|(k, v)| (k.clone(), canonical(v))).collect();
            m.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(m)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// `emit` as the connection user: the ids, or the error's message.
async fn emit(client: &Sql, event: &str, payload: &Value) -> Result<Vec<String>, String> {
    client
        .query_one(
            "select array(select unnest(casino_realtime.emit($1, $2::text::jsonb))::text)",
            &[&event, &payload.to_json()],
        )
        .await
        .map(|row| row.get(0))
        .map_err(|e| {
            e.as_db_error()
                .map_or(e.to_string(), |d| d.message().to_owned())
        })
}

#[tokio::test]
async fn every_catalog_sample_is_published_on_the_channels_the_catalog_lists() {
    let (_, _db, client) = fresh_database().await;
    let mut published = 0;
    for (name, payload) in fixtures() {
        let kind = EventKind::from_name(&name).unwrap();
        let ids = emit(&client, &name, &payload).await.unwrap();
        let rows = client
            .query(
                "select id::text, topic, event, private, extension, payload::text from realtime.messages
                 where id = any($1::text[]::uuid[])",
                &[&ids],
            )
            .await
            .unwrap();
        let mut topics: Vec<String> = ids
            .iter()
            .map(|id| {
                let row = rows.iter().find(|r| r.get::<_, String>(0) == *id).unwrap();
                assert_eq!(row.get::<_, String>(2), name);
                assert!(row.get::<_, bool>(3), "private");
                assert_eq!(row.get::<_, String>(4), "broadcast");
                let stored = json::parse(&row.get::<_, String>(5)).unwrap();
                assert_eq!(
                    canonical(&stored),
                    canonical(&payload),
                    "{name}: stored as given"
                );
                parse_event(&name, &stored).unwrap();
                row.get(1)
            })
            .collect();
        let expected = devserver::topics::topics(kind, &payload);
        assert_eq!(topics.len(), kind.channels().len(), "{name}");
        topics.sort();
        let mut expected_sorted = expected.clone();
        expected_sorted.sort();
        assert_eq!(topics, expected_sorted, "{name}");
        published += 1;
    }
    assert_eq!(published, 24);
}

#[tokio::test]
async fn an_absent_at_is_the_transactions_time_which_is_the_rows_inserted_at_in_utc() {
    let (_, _db, client) = fresh_database().await;
    let payload = with(&fixtures()[0].1, "at", None);
    let payload = with(&payload, "event", None);
    let name = fixtures()[0].0.clone();
    // A producer whose session is not in UTC: `at` and `inserted_at` are UTC all the same, as
    // Realtime's replay reads them.
    client
        .batch_execute("set timezone = 'America/Los_Angeles'")
        .await
        .unwrap();
    client.batch_execute("begin").await.unwrap();
    client.batch_execute("select pg_sleep(0.2)").await.unwrap();
    let ids = emit(&client, &name, &payload).await.unwrap();
    client.batch_execute("commit").await.unwrap();
    let row = client
        .query_one(
            "select payload->>'at', payload->>'event',
                    to_char(inserted_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
                    abs(extract(epoch from inserted_at - (now() at time zone 'UTC'))) < 60
             from realtime.messages where id = $1::text::uuid",
            &[&ids[0]],
        )
        .await
        .unwrap();
    let (at, event, inserted): (String, String, String) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(at, inserted, "at = now() = inserted_at");
    assert!(row.get::<_, bool>(3), "inserted_at is UTC: {inserted}");
    assert_eq!(event, name);
    parse_event(&name, &with(&payload, "at", Some(at.as_str().into()))).unwrap();
}

/// Payloads that break one rule each, made from the catalog's field table.
fn breakages(name: &str, sample: &Value) -> Vec<Value> {
    let kind = EventKind::from_name(name).unwrap();
    let mut out = vec![
        Value::from(42),
        Value::from("a string"),
        with(sample, "event", Some("visit.nonsense".into())),
    ];
    for field in kind.fields() {
        let mut bad = vec![Value::Bool(true), Value::Null];
        match field.kind.ty {
            FieldType::Uuid => bad.extend([
                "not-a-uuid".into(),
                "11111111-1111-4111-8111-11111111111g".into(),
            ]),
            FieldType::Timestamp => bad.extend([
                "2025-02-29T10:00:00Z".into(),
                "2025-12-20T10:15:00".into(),
                "2025-12-20T24:00:00Z".into(),
                "2025-12-20T10:15:00+01:".into(),
            ]),
            FieldType::Date => bad.extend(["2025-02-30".into(), "2025-12-20T00:00:00Z".into()]),
            FieldType::Integer => bad.extend([json::parse("1.5").unwrap(), "1".into()]),
            FieldType::Number => bad.push("1".into()),
            FieldType::Text => bad.push(Value::from(5)),
            FieldType::Enum(_) => bad.push("nope".into()),
            FieldType::Counts => {
                bad.extend([json::parse(r#"{"25":1.5}"#).unwrap(), Value::Array(vec![])])
            }
            FieldType::Records(fields) => {
                bad.push(json::parse("[1]").unwrap());
                let first = fields[0].name;
                bad.push(json::parse(&format!(r#"[{{"{first}":true}}]"#)).unwrap());
            }
        }
        if field.name != "at" {
            out.push(with(sample, field.name, None));
        }
        for value in bad {
            out.push(with(sample, field.name, Some(value)));
        }
    }
    out
}

#[tokio::test]
async fn every_broken_payload_is_refused_with_the_sdks_own_words() {
    let (_, _db, client) = fresh_database().await;
    let mut refused = 0;
    for (name, sample) in fixtures() {
        for payload in breakages(&name, &sample) {
            let sql = emit(&client, &name, &payload).await;
            // emit writes `at` when absent; the SDK sees what was published.
            let seen = match &payload {
                Value::Object(m) if !m.iter().any(|(k, _)| k == "at") => {
                    with(&payload, "at", Some("2025-12-20T10:15:00Z".into()))
                }
                _ => payload.clone(),
            };
            let sdk = parse_event(&name, &seen)
                .map(|_| ())
                .map_err(|e| e.to_string());
            assert_eq!(sql.clone().map(|_| ()), sdk, "{name} {}", payload.to_json());
            refused += usize::from(sql.is_err());
        }
        let unknown = emit(&client, "table.exploded", &sample).await.unwrap_err();
        assert_eq!(
            unknown,
            "unknown event \"table.exploded\": not in the event catalog"
        );
    }
    assert!(refused > 500, "{refused} refusals");
    let rows: i64 = client
        .query_one("select count(*) from realtime.messages", &[])
        .await
        .unwrap()
        .get(0);
    assert!(rows > 0, "nullable members left out are published");
}

#[tokio::test]
async fn a_refused_payload_publishes_nothing_and_the_error_names_event_and_field() {
    let (_, _db, client) = fresh_database().await;
    let (name, sample) = fixtures()
        .into_iter()
        .find(|(n, _)| n == "rating_slip.updated")
        .unwrap();
    let payload = with(&sample, "minutes_played", Some("ten".into()));
    let error = client
        .query_one(
            "select casino_realtime.emit($1, $2::text::jsonb)",
            &[&name, &payload.to_json()],
        )
        .await
        .unwrap_err();
    let db = error.as_db_error().unwrap();
    assert_eq!(db.code().code(), "22023");
    assert_eq!(
        db.message(),
        "rating_slip.updated: field 'minutes_played' must be a number, got \"ten\""
    );
    assert_eq!(db.detail(), Some("invalid_field"));
    let rows: i64 = client
        .query_one("select count(*) from realtime.messages", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 0);
}

/// Realtime's write check (RT `authorization.ex`, `check_write_policies`): as the caller's role
/// with its claims and the topic set, an INSERT in a savepoint; `42501` means no.
async fn can_write(client: &mut Sql, role: &str, claims: &str, topic: &str) -> bool {
    let tx = client.transaction().await.unwrap();
    tx.execute(
        "select set_config('role', $1, true), set_config('realtime.topic', $2, true),
                set_config('request.jwt.claims', $3, true), set_config('request.jwt.claim.role', $1, true)",
        &[&role, &topic, &claims],
    )
    .await
    .unwrap();
    let inserted = tx
        .execute(
            "insert into realtime.messages (topic, extension, inserted_at, updated_at)
             values ($1, 'broadcast', now() at time zone 'UTC', now() at time zone 'UTC')",
            &[&topic],
        )
        .await;
    tx.rollback().await.unwrap();
    match inserted {
        Ok(_) => true,
        Err(e) if e.as_db_error().is_some_and(|d| d.code().code() == "42501") => false,
        Err(e) => panic!("{role} {topic}: {e}"),
    }
}

#[tokio::test]
async fn joins_and_publishing_are_decided_by_rls_exactly_as_by_the_dev_servers_table() {
    let (_, db, mut client) = fresh_database().await;
    let secret = "matrix-secret";
    let exp = now_ms() / 1000 + 3600;
    let mut staff: Vec<Option<&str>> = POLICY.iter().map(|r| Some(r.staff_role)).collect();
    staff.extend([Some("guest"), None]);
    let topics = [
        CASINO.to_owned(),
        format!("{CASINO}:6f9619ff-8b86-d011-b42d-00c04fc964ff"),
        CASINO.to_uppercase(),
        OTHER.to_owned(),
        format!("{OTHER}:6f9619ff-8b86-d011-b42d-00c04fc964ff"),
        format!("{CASINO}:"),
        casino_realtime::catalog::INTERNAL_TOPIC.to_owned(),
        "not-a-casino".to_owned(),
    ];
    let mut checked = 0;
    let mut allowed = 0;
    for role in ["authenticated", "anon", "service_role"] {
        for staff_role in &staff {
            for casino in [Some(CASINO), Some(OTHER), None] {
                for nested in [false, true] {
                    let mut claims = vec![
                        ("role", Value::from(role)),
                        ("exp", Value::from(exp)),
                        ("sub", Value::from("6f9619ff-8b86-d011-b42d-00c04fc964ff")),
                    ];
                    let mut custom = Vec::new();
                    if let Some(s) = staff_role {
                        custom.push(("staff_role", Value::from(*s)));
                    }
                    if let Some(c) = casino {
                        custom.push(("casino_id", Value::from(c)));
                    }
                    if nested {
                        claims.push(("app_metadata", Value::object(custom)));
                    } else {
                        claims.extend(custom);
                    }
                    let claims = Value::object(claims);
                    let token = jwt::sign(&claims, secret);
                    let parsed = verify(&token, secret, now_ms() / 1000).unwrap();
                    let claims_json = claims.to_json();
                    for topic in &topics {
                        let read = db.can_read(role, &claims_json, topic).await.unwrap();
                        let write = can_write(&mut client, role, &claims_json, topic).await;
                        let table = (
                            policy::can_read(&parsed, topic),
                            policy::can_write(&parsed, topic),
                        );
                        assert_eq!(
                            (read, write),
                            table,
                            "{role} {staff_role:?} {casino:?} nested={nested} {topic}"
                        );
                        checked += 1;
                        allowed += usize::from(read) + usize::from(write);
                    }
                }
            }
        }
    }
    assert_eq!(checked, 3 * staff.len() * 3 * 2 * topics.len());
    assert!(allowed > 50, "{allowed} allowed");
}

async fn served(url: &str) -> devserver::Server {
    server(Config {
        database: Some(DatabaseConfig {
            url: url.to_owned(),
            prepare: false,
        }),
        ..Config::default()
    })
    .await
}

async fn rpc_emit(
    server: &devserver::Server,
    bearer: &str,
    body: &str,
    query: &str,
) -> (u16, String) {
    let auth = format!("Bearer {bearer}");
    http(
        server,
        "POST",
        &format!("/rest/v1/rpc/emit{query}"),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
            ("content-profile", "casino_realtime"),
        ],
        body.as_bytes(),
    )
    .await
}

fn broadcast(frame: Frame) -> casino_realtime::protocol::Broadcast {
    match frame {
        Frame::Broadcast(b) => b,
        other => panic!("expected a broadcast, got {other:?}"),
    }
}

fn meta(b: &casino_realtime::protocol::Broadcast, key: &str) -> Option<Value> {
    b.meta.as_ref().and_then(|m| m.get(key)).cloned()
}

#[tokio::test]
async fn the_dev_server_publishes_through_emit_delivers_at_commit_replays_from_the_table() {
    let (url, _db, _client) = fresh_database().await;
    let server = served(&url).await;
    let pit_boss = token(&server, "pit_boss", CASINO, 3600);
    let mut client =
        Client::connect(&server, &format!("apikey={pit_boss}&vsn=2.0.0"), Vsn::V2).await;
    let list = format!("realtime:{CASINO}");
    let (_, reply) = client.join(&list, join_payload(true, None, "{}")).await;
    assert_eq!(reply_status(&reply).0, "ok");

    // A dealer may not read the list feed: RLS says so, in Realtime's words.
    let dealer = token(&server, "dealer", CASINO, 3600);
    let mut other = Client::connect(&server, &format!("apikey={dealer}&vsn=2.0.0"), Vsn::V2).await;
    let (_, reply) = other.join(&list, join_payload(true, None, "{}")).await;
    assert_eq!(
        reason(&reply),
        format!(
            "Unauthorized: You do not have permissions to read from this Channel topic: {CASINO}"
        )
    );

    let (_, sample) = fixtures()
        .into_iter()
        .find(|(n, _)| n == "rating_slip.updated")
        .unwrap();
    let payload = with(&with(&sample, "casino_id", Some(CASINO.into())), "at", None);
    let body = Value::object(vec![
        ("event", "rating_slip.updated".into()),
        ("payload", payload.clone()),
    ]);
    // A transaction of 1.5 s: nothing is delivered before its commit.
    let started = Instant::now();
    let body = body.to_json();
    let publish = rpc_emit(&server, &pit_boss, &body, "?transaction_ms=1500");
    let (status, ids) = tokio::join!(publish, async {
        let early = client.next(Duration::from_millis(1_000)).await;
        assert!(early.is_none(), "delivered before commit: {early:?}");
    })
    .0;
    assert_eq!(status, 200, "{ids}");
    let ids = json::parse(&ids).unwrap();
    let Value::Array(ids) = ids else {
        panic!("{ids:?}")
    };
    assert_eq!(ids.len(), 2, "list feed and detail");
    let live = broadcast(client.recv().await.frame());
    assert!(started.elapsed() >= Duration::from_millis(1_400));
    assert_eq!(live.event, "rating_slip.updated");
    assert_eq!(
        meta(&live, "id"),
        Some(ids[0].clone()),
        "meta.id is the row's id"
    );
    let casino_realtime::protocol::BroadcastPayload::Json(delivered) = &live.payload else {
        panic!("json payload")
    };
    let at = delivered
        .get("at")
        .and_then(Value::as_str)
        .unwrap()
        .to_owned();
    parse_event("rating_slip.updated", delivered).unwrap();

    // A dealer may not publish (42501 → 403); a bad payload is refused before anything is sent.
    let (status, text) = rpc_emit(&server, &dealer, &body, "").await;
    assert_eq!(status, 403, "{text}");
    let bad = Value::object(vec![
        ("event", "rating_slip.updated".into()),
        (
            "payload",
            with(&payload, "minutes_played", Some("ten".into())),
        ),
    ]);
    let (status, text) = rpc_emit(&server, &pit_boss, &bad.to_json(), "").await;
    assert_eq!(status, 400);
    assert!(
        text.contains(
            "rating_slip.updated: field 'minutes_played' must be a number, got \\\"ten\\\""
        ),
        "{text}"
    );
    client.quiet(300).await;

    // Replay from the event's `at` (= inserted_at): the row comes back, marked replayed.
    let since = casino_realtime::catalog::parse_timestamp(&at).unwrap() / 1000;
    let mut late = Client::connect(&server, &format!("apikey={pit_boss}&vsn=2.0.0"), Vsn::V2).await;
    let replay = format!(r#"{{"replay":{{"since":{since},"limit":25}}}}"#);
    let (_, reply) = late.join(&list, join_payload(true, None, &replay)).await;
    assert_eq!(reply_status(&reply).0, "ok");
    let replayed = broadcast(late.recv().await.frame());
    assert_eq!(meta(&replayed, "id"), Some(ids[0].clone()));
    assert_eq!(meta(&replayed, "replayed"), Some(Value::Bool(true)));
    // From one millisecond later (the row's `at` has microseconds), nothing.
    let mut later =
        Client::connect(&server, &format!("apikey={pit_boss}&vsn=2.0.0"), Vsn::V2).await;
    let replay = format!(r#"{{"replay":{{"since":{},"limit":25}}}}"#, since + 1);
    let (_, reply) = later.join(&list, join_payload(true, None, &replay)).await;
    assert_eq!(reply_status(&reply).0, "ok");
    later.quiet(500).await;

    // Without the `casino_realtime` profile there is no `emit` (PostgREST's answers).
    let auth = format!("Bearer {pit_boss}");
    let plain = [("authorization", auth.as_str())];
    let (status, text) = http(
        &server,
        "POST",
        "/rest/v1/rpc/emit",
        &plain,
        body.as_bytes(),
    )
    .await;
    assert_eq!((status, text.contains("PGRST202")), (404, true), "{text}");
    let other = [
        ("authorization", auth.as_str()),
        ("content-profile", "other"),
    ];
    let (status, text) = http(
        &server,
        "POST",
        "/rest/v1/rpc/emit",
        &other,
        body.as_bytes(),
    )
    .await;
    assert_eq!((status, text.contains("PGRST106")), (406, true), "{text}");
}

#[tokio::test]
async fn the_floor_scenario_publishes_through_emit() {
    let (url, db, client) = fresh_database().await;
    drop(db);
    let server = server(Config {
        database: Some(DatabaseConfig {
            url: url.clone(),
            prepare: false,
        }),
        scenario: Some(devserver::scenario::ScenarioConfig {
            casino_id: CASINO.into(),
            rate: 50.0,
            ..Default::default()
        }),
        ..Config::default()
    })
    .await;
    let mut ws = Client::pit_boss(&server).await;
    let (_, reply) = ws
        .join(
            &format!("realtime:{CASINO}"),
            join_payload(true, None, "{}"),
        )
        .await;
    assert_eq!(reply_status(&reply).0, "ok");
    let first = broadcast(ws.recv().await.frame());
    let id = meta(&first, "id")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap();
    let row = client
        .query_one(
            "select topic, event from realtime.messages where id = $1::text::uuid",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), CASINO);
    assert_eq!(row.get::<_, String>(1), first.event);
}

#[tokio::test]
async fn a_pushed_token_is_judged_by_the_policies_in_the_database() {
    let (url, _db, _client) = fresh_database().await;
    let server = served(&url).await;
    let mut client = Client::pit_boss(&server).await;
    let list = format!("realtime:{CASINO}");
    let (join_ref, reply) = client.join(&list, join_payload(true, None, "{}")).await;
    assert_eq!(reply_status(&reply).0, "ok");
    // Another pit boss token: still allowed, nothing said.
    let fresh = token(&server, "pit_boss", CASINO, 600);
    let payload = j(&format!(r#"{{"access_token":"{fresh}"}}"#));
    client
        .send(Some(&join_ref), &list, "access_token", payload)
        .await;
    client.quiet(500).await;
    // A dealer's token: RLS says the list feed is not theirs; the channel is closed.
    let dealer = token(&server, "dealer", CASINO, 600);
    let payload = j(&format!(r#"{{"access_token":"{dealer}"}}"#));
    client
        .send(Some(&join_ref), &list, "access_token", payload)
        .await;
    let system = client.expect_event("system").await;
    assert_eq!(
        system.payload.get("message").and_then(Value::as_str),
        Some(
            format!("You no longer have permission to read from this Channel topic: {CASINO}")
                .as_str()
        )
    );
}

#[tokio::test]
async fn without_todays_partition_emit_fails_where_realtime_send_only_warns() {
    let (url, _db, client) = fresh_database().await;
    let today: String = client
        .query_one(
            "select 'messages_' || to_char(now() at time zone 'UTC', 'YYYY_MM_DD')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    client
        .batch_execute(&format!("drop table realtime.{today}"))
        .await
        .unwrap();
    // realtime.send returns as if it had sent; nothing is kept.
    client
        .batch_execute("select realtime.send('{\"a\":1}', 'x', 'some-topic', true)")
        .await
        .unwrap();
    let kept: i64 = client
        .query_one("select count(*) from realtime.messages", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, 0);
    // emit says so, and the producer's transaction fails.
    let (name, sample) = fixtures().into_iter().next().unwrap();
    let error = emit(&client, &name, &sample).await.unwrap_err();
    assert!(error.contains("no partition of relation"), "{error}");
    // A private join is refused in Realtime's words.
    let server = served(&url).await;
    let mut ws = Client::pit_boss(&server).await;
    let (_, reply) = ws
        .join(
            &format!("realtime:{CASINO}"),
            join_payload(true, None, "{}"),
        )
        .await;
    assert_eq!(
        reason(&reply),
        "MissingPartition: Realtime was unable to find the expected messages partition"
    );
}
