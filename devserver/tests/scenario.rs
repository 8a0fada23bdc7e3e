//! The floor scenario: deterministic, every event valid against the SDK's catalog, all 24
//! events produced, internally consistent, duplicates and reordering in the configured shares,
//! and live on the socket.
#![allow(clippy::unwrap_used)]

mod common;

use casino_realtime::catalog::{parse_event, EventKind};
use casino_realtime::json::Value;
use casino_realtime::protocol::Frame;
use common::*;
use devserver::config::Config;
use devserver::scenario::floor::{Floor, Publication};
use devserver::scenario::{Delivery, ScenarioConfig, Step, DEFAULT_CASINO};
use std::collections::{BTreeMap, HashMap, HashSet};

const START: i64 = 1_766_225_700_000;

fn run(seed: u64, n: usize) -> Vec<Publication> {
    let mut floor = Floor::new(seed, DEFAULT_CASINO, START, 200, 12, 40);
    (0..n).map(|_| floor.next_publication()).collect()
}

#[test]
fn the_same_seed_gives_the_same_shift() {
    assert_eq!(run(7, 3000), run(7, 3000));
    assert_ne!(run(7, 50), run(8, 50));
}

#[test]
fn every_event_is_valid_and_all_24_appear() {
    let mut seen = BTreeMap::new();
    for p in run(3, 5000) {
        let event = parse_event(p.event, &p.payload)
            .unwrap_or_else(|e| panic!("{e}: {}", p.payload.to_json()));
        assert_eq!(event.casino_id().unwrap().to_string(), DEFAULT_CASINO);
        *seen.entry(p.event).or_insert(0) += 1;
        // On the channels the catalog lists: the list feed `{casino_id}`, a detail feed
        // `{casino_id}:{resource}`, the internal channel for worker monitoring.
        assert_eq!(p.topics.len(), event.kind().channels().len(), "{}", p.event);
        for topic in &p.topics {
            assert!(
                topic == DEFAULT_CASINO
                    || topic.starts_with(&format!("{DEFAULT_CASINO}:"))
                    || topic == casino_realtime::catalog::INTERNAL_TOPIC,
                "{topic}"
            );
        }
    }
    let missing: Vec<&str> = EventKind::ALL
        .iter()
        .map(|k| k.name())
        .filter(|n| !seen.contains_key(n))
        .collect();
    assert!(
        missing.is_empty(),
        "never produced: {missing:?} (seen {seen:?})"
    );
}

#[test]
fn the_floor_is_consistent() {
    let field = |p: &Publication, name: &str| {
        p.payload
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let number = |p: &Publication, name: &str| match p.payload.get(name) {
        Some(Value::Number(n)) => n.value() as i64,
        other => panic!("{name}: {other:?}"),
    };
    let (mut visits, mut slips, mut fills) = (HashSet::new(), HashSet::new(), HashSet::new());
    let (mut pending, mut last_balance) = (HashMap::new(), HashMap::new());
    let mut last_at = String::new();
    for p in run(11, 4000) {
        let at = field(&p, "at").unwrap();
        assert!(at >= last_at, "time never goes back: {at} after {last_at}");
        last_at = at;
        match p.event {
            "visit.created" => assert!(visits.insert(field(&p, "visit_id").unwrap())),
            "visit.closed" => assert!(
                visits.remove(&field(&p, "visit_id").unwrap()),
                "closing an unknown visit"
            ),
            "rating_slip.created" => {
                assert!(
                    visits.contains(&field(&p, "visit_id").unwrap()),
                    "a slip's visit is open"
                );
                slips.insert(field(&p, "rating_slip_id").unwrap());
            }
            "rating_slip.updated" => assert!(slips.contains(&field(&p, "rating_slip_id").unwrap())),
            "rating_slip.closed" => assert!(slips.remove(&field(&p, "rating_slip_id").unwrap())),
            "table.fill_requested" => assert!(fills.insert(field(&p, "request_id").unwrap())),
            "table.fill_completed" => assert!(
                fills.remove(&field(&p, "request_id").unwrap()),
                "completing an unrequested fill"
            ),
            "loyalty.ledger_appended" => {
                pending.insert(field(&p, "player_id").unwrap(), number(&p, "points_earned"));
            }
            "loyalty.balance_updated" => {
                let player = field(&p, "player_id").unwrap();
                let (balance, delta) = (number(&p, "balance"), number(&p, "balance_delta"));
                assert_eq!(
                    pending.remove(&player),
                    Some(delta),
                    "the balance moves by the ledger entry"
                );
                if let Some(previous) = last_balance.insert(player, balance) {
                    assert_eq!(balance, previous + delta);
                }
            }
            _ => {}
        }
    }
}

#[test]
fn duplicates_and_reordering_come_in_the_configured_shares() {
    let config = ScenarioConfig {
        duplicate_pct: 10,
        out_of_order_pct: 20,
        ..ScenarioConfig::default()
    };
    let mut delivery = Delivery::new(config);
    let mut floor = Floor::new(1, DEFAULT_CASINO, START, 200, 12, 40);
    let mut published = Vec::new();
    for i in 0..10_000i64 {
        // Number the events in the order generated, to see the order delivered.
        let mut next = floor.next_publication();
        if let Value::Object(members) = &mut next.payload {
            members.push(("seq".into(), Value::from(i)));
        }
        for step in delivery.plan(next) {
            match step {
                Step::Publish(p) => {
                    published.push(
                        p.payload
                            .get("seq")
                            .cloned()
                            .unwrap()
                            .to_json()
                            .parse::<i64>()
                            .unwrap(),
                    );
                    delivery.published(DEFAULT_CASINO, format!("id-{i}"));
                }
                Step::Repeat(..) => {}
            }
        }
    }
    let stats = delivery.stats;
    assert_eq!(stats.events, 10_000);
    assert!((800..1200).contains(&stats.duplicates), "{stats:?}");
    assert!((1400..2600).contains(&stats.reordered), "{stats:?}");
    let out_of_order = published.windows(2).filter(|w| w[1] < w[0]).count() as u64;
    assert_eq!(
        out_of_order, stats.reordered,
        "each held event arrives after a later one"
    );
}

#[tokio::test]
async fn the_running_floor_publishes_to_joined_channels() {
    let scenario = ScenarioConfig {
        rate: 50.0,
        casino_id: CASINO.into(),
        ..ScenarioConfig::default()
    };
    let server = server(Config {
        scenario: Some(scenario),
        ..Config::default()
    })
    .await;
    let mut client = Client::pit_boss(&server).await;
    client
        .join(
            &format!("realtime:{CASINO}"),
            join_payload(true, None, "{}"),
        )
        .await;
    let mut kinds = HashSet::new();
    while kinds.len() < 3 {
        if let Frame::Broadcast(b) = client.recv().await.frame() {
            assert!(b.meta_id().is_some(), "database broadcasts carry meta.id");
            kinds.insert(b.event);
        }
    }
}

#[tokio::test]
async fn the_floor_state_is_readable_and_matches_the_events() {
    let scenario = ScenarioConfig {
        rate: 200.0,
        casino_id: CASINO.into(),
        ..ScenarioConfig::default()
    };
    let server = server(Config {
        scenario: Some(scenario),
        ..Config::default()
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (status, body) = http(&server, "GET", "/api/floor/tables", &[], b"").await;
    assert_eq!(status, 200);
    let Value::Array(tables) = j(&body) else {
        panic!("{body}")
    };
    assert_eq!(tables.len(), 12);
    let id = tables[0]
        .get("id")
        .and_then(Value::as_str)
        .unwrap()
        .to_owned();
    let (status, body) = http(&server, "GET", &format!("/api/floor/tables/{id}"), &[], b"").await;
    assert_eq!(
        (status, j(&body).get("id").and_then(Value::as_str)),
        (200, Some(id.as_str()))
    );
    let (status, body) = http(&server, "GET", "/api/floor/players", &[], b"").await;
    let Value::Array(players) = j(&body) else {
        panic!("{body}")
    };
    assert_eq!((status, players.len()), (200, 40));
    for path in ["/api/floor/slips", "/api/floor/visits"] {
        let (status, body) = http(&server, "GET", path, &[], b"").await;
        assert_eq!(status, 200, "{path}");
        assert!(matches!(j(&body), Value::Array(_)), "{path}: {body}");
    }
    assert_eq!(
        http(&server, "GET", "/api/floor/tables/nope", &[], b"")
            .await
            .0,
        404
    );
    let bare = devserver::Server::start(Config {
        port: 0,
        ..Config::default()
    })
    .await
    .unwrap();
    assert_eq!(
        http(&bare, "GET", "/api/floor/tables", &[], b"").await.0,
        404
    );
}
