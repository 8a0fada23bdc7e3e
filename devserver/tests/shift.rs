//! A 12-hour shift on simulated clocks: the floor scenario's events, with duplicates and
//! reordering, reach the SDK's session through a fake server as hard as Supabase (kept messages
//! stamped at the start of their transaction, replay by that stamp, refused joins answered
//! late, one at a time). The terminal holds the list feed and three tables' detail feeds; its
//! token expires every hour and `getAccessToken` gives a fresh one; its Wi-Fi drops every 45
//! minutes, every fourth time for 10 minutes. Checked per event: each one published on a
//! subscribed channel has all its cache keys in a batch after it was published, or a resync
//! batch came after it; and no event is applied twice.
#![allow(clippy::unwrap_used)]

#[path = "../../tests/common/fake_server.rs"]
mod fake;

use casino_realtime::cache::RuleSet;
use casino_realtime::json::{Value, Writer};
use casino_realtime::session::Status;
use devserver::scenario::floor::Floor;
use devserver::scenario::{Delivery, ScenarioConfig, Step};
use fake::{config, Harness, CASINO, MONO0, START};
use std::collections::HashSet;

const TICK_MS: u64 = 6_000; // one event every 6 s: 7,200 in 12 h
const HOURS: u64 = 12;
const HOUR: u64 = 3_600_000;

/// An event the floor published on channels the terminal holds.
struct Published {
    /// When, on the terminal's wall clock.
    at: i64,
    /// Its cache keys, as JSON.
    keys: Vec<String>,
}

fn key_json(key: &casino_realtime::cache::QueryKey) -> String {
    let mut out = String::new();
    key.write(&mut Writer::new(&mut out));
    out
}

/// Whether `key` is refetched by a batch holding `batch_keys` (the same key, or a prefix).
fn covers(batch_keys: &[String], key: &str) -> bool {
    batch_keys.iter().any(|k| {
        k == key || key.starts_with(&k[..k.len() - 1]) && key.as_bytes()[k.len() - 1] == b','
    })
}

#[test]
fn a_twelve_hour_shift_with_token_expiry_and_wifi_losses_loses_no_event() {
    let mut h = Harness::new(config());
    h.join_error_delay_ms = 5_000;
    // Tokens are `hour-<n>` (the first, `token-1`): each is good for its hour.
    let hour_of = |now: u64| (now - MONO0) / HOUR;
    let clock = std::rc::Rc::new(std::cell::Cell::new(MONO0));
    let seen = clock.clone();
    h.join_policy = Box::new(move |_, payload| {
        let token = payload
            .get("access_token")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Some(
            if token == format!("hour-{}", hour_of(seen.get()))
                || token == "token-1" && hour_of(seen.get()) == 0
            {
                Ok(())
            } else {
                Err("InvalidJWTToken: Token has expired 0 seconds ago".into())
            },
        )
    });

    let mut floor = Floor::new(5, CASINO, START as i64, TICK_MS as i64, 12, 40);
    let details: Vec<String> = floor.tables.iter().take(3).map(|t| t.id.clone()).collect();
    let mut held: Vec<String> = vec![CASINO.to_owned()];
    h.subscribe(None);
    for id in &details {
        h.subscribe(Some(id));
        held.push(format!("{CASINO}:{id}"));
    }
    let mut delivery = Delivery::new(ScenarioConfig {
        seed: 5,
        duplicate_pct: 5,
        out_of_order_pct: 5,
        ..ScenarioConfig::default()
    });
    let rules = RuleSet::defaults();
    let outages: Vec<(u64, u64)> = (0..HOURS * 60 / 45)
        .map(|i| {
            let start = i * 45 * 60_000 + 20 * 60_000;
            let len = if i % 4 == 3 {
                10 * 60_000
            } else {
                30_000 + (i % 3) * 60_000
            };
            (MONO0 + start, len)
        })
        .collect();
    let mut published: Vec<Published> = Vec::new();
    let mut tokens_given = 0;
    let (mut expiries, mut last_hour) = (0, 0);
    let end = MONO0 + HOURS * HOUR;
    while h.now < end {
        h.advance(TICK_MS);
        clock.set(h.now);
        // The hour turned: every joined channel's token expires, as Supabase closes them.
        if hour_of(h.now) != last_hour {
            last_hour = hour_of(h.now);
            for topic in h.joined.keys().cloned().collect::<Vec<_>>() {
                h.server_shutdown(&topic, "Token has expired 0 seconds ago");
                expiries += 1;
            }
        }
        // getAccessToken answers with the hour's token.
        if h.token_requests > tokens_given {
            tokens_given = h.token_requests;
            h.give_token(Ok(&format!("hour-{}", hour_of(h.now))));
        }
        let outage = outages
            .iter()
            .find(|&&(at, len)| h.now >= at && h.now < at + len);
        let was_up = h.server_up;
        h.server_up = outage.is_none();
        if was_up && !h.server_up {
            h.drop_connection();
        }
        for step in delivery.plan(floor.next_publication()) {
            match step {
                Step::Publish(p) => {
                    for topic in &p.topics {
                        let id = h.publish(&format!("realtime:{topic}"), p.event, &p.payload, 0);
                        delivery.published(topic, id);
                    }
                    if p.topics.iter().any(|t| held.contains(t)) {
                        let keys = rules.plan(p.event, &p.payload).unwrap();
                        published.push(Published {
                            at: h.clock().wall,
                            keys: keys.iter().map(|a| key_json(a.key())).collect(),
                        });
                    }
                }
                // A duplicate delivery with the same meta.id, live if the channel is joined.
                Step::Repeat(topic, id) => {
                    let kept = h.kept.iter().find(|k| k.id == id).cloned();
                    if let Some(k) = kept {
                        let meta = format!(r#"{{"id":"{id}"}}"#);
                        h.push_event(
                            &format!("realtime:{topic}"),
                            &k.event,
                            &k.payload,
                            Some(&meta),
                        );
                    }
                }
            }
        }
    }
    h.server_up = true;
    h.advance(30 * 60_000);
    if h.token_requests > tokens_given {
        h.give_token(Ok(&format!("hour-{}", hour_of(h.now))));
    }
    h.advance(60_000);
    h.session.flush(h.clock());
    h.pump();

    // Per event: all its keys refetched (or written) by a batch after it, or a resync after it.
    let batches: Vec<(i64, bool, Vec<String>)> = h
        .batches
        .iter()
        .map(|b| {
            let keys = b.actions.iter().map(|a| key_json(a.key())).collect();
            (b.flushed_at as i64, b.reason.as_str() == "resync", keys)
        })
        .collect();
    let lost: Vec<usize> = published
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            let later = || batches.iter().filter(|(at, ..)| *at >= e.at);
            let resynced = later().any(|(_, resync, _)| *resync);
            let refetched = e
                .keys
                .iter()
                .all(|key| later().any(|(_, _, keys)| covers(keys, key)));
            !resynced && !refetched
        })
        .map(|(i, _)| i)
        .collect();
    let stats = h.session.stats(h.clock());
    println!(
        "shift: {} events on held channels, {} lost, {} applied, {} duplicates dropped, {} reconnects, \
         {} replays, {} resyncs, {} token expiries, {} token requests",
        published.len(),
        lost.len(),
        stats.pipeline.applied,
        stats.pipeline.duplicates,
        stats.reconnects,
        stats.replays,
        stats.resyncs,
        expiries,
        h.token_requests
    );
    assert!(
        lost.is_empty(),
        "events lost: {:?}",
        &lost[..lost.len().min(20)]
    );
    // Exactly once: applied ≤ distinct events delivered; the kept store has each once per topic.
    let distinct: HashSet<String> = h
        .kept
        .iter()
        .filter(|k| held.iter().any(|t| format!("realtime:{t}") == k.topic))
        .map(|k| format!("{}{}", k.event, k.payload.to_json()))
        .collect();
    assert!(stats.pipeline.applied <= distinct.len() as u64, "{stats:?}");
    assert!(
        stats.pipeline.duplicates > 0,
        "replays and repeats were dropped"
    );
    assert_eq!(stats.pipeline.malformed + stats.pipeline.foreign_casino, 0);
    assert!(expiries >= (HOURS - 1) * 4 / 2, "{expiries} expiries");
    assert!(
        stats.resyncs >= 3,
        "the 10-minute outages could not be replayed"
    );
    assert!(
        stats.replays > stats.resyncs,
        "the short outages were replayed"
    );
    assert_eq!(
        h.session.status(),
        Status::Connected,
        "{:?}",
        stats.channels
    );
    assert!(h.session.dedup_len() <= 10_000);
}
