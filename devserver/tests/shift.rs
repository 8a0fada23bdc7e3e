//! A 12-hour shift on a simulated clock: the floor scenario's events, with duplicates and
//! reordering, reach the SDK's session through a server that keeps them for replay, while the
//! terminal's Wi-Fi drops every 45 minutes (sometimes for 10). Every unique event is applied
//! exactly once, or its loss is covered by a resync batch.
#![allow(clippy::unwrap_used)]

#[path = "../../tests/common/fake_server.rs"]
mod fake;

use casino_realtime::json::Value;
use casino_realtime::session::{ChannelState, Status};
use devserver::scenario::floor::Floor;
use devserver::scenario::{Delivery, ScenarioConfig, Step};
use fake::{config, Harness, CASINO, MONO0, START};
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

struct Stored {
    id: String,
    event: String,
    payload: Value,
    inserted: u64,
}

#[test]
fn a_twelve_hour_shift_with_wifi_losses_applies_every_event_once_or_resyncs() {
    const TICK_MS: u64 = 6_000; // one event every 6 s: 7,200 in 12 h
    const HOURS: u64 = 12;
    let store: Rc<RefCell<Vec<Stored>>> = Rc::default();
    let reached: Rc<RefCell<HashSet<String>>> = Rc::default();

    let mut h = Harness::new(config());
    let (replay_store, replay_reached) = (store.clone(), reached.clone());
    h.replay = Some(Box::new(move |_topic, since, limit| {
        let store = replay_store.borrow();
        let newest: Vec<&Stored> = store
            .iter()
            .filter(|s| s.inserted as i64 >= since)
            .collect();
        let from = newest.len().saturating_sub(limit);
        newest[from..]
            .iter()
            .map(|s| {
                replay_reached.borrow_mut().insert(s.id.clone());
                (s.event.clone(), s.payload.clone(), s.id.clone())
            })
            .collect()
    }));
    h.subscribe(None);
    let list = Harness::topic(None);

    let mut floor = Floor::new(5, CASINO, START as i64, TICK_MS as i64, 12, 40);
    let mut delivery = Delivery::new(ScenarioConfig {
        seed: 5,
        duplicate_pct: 5,
        out_of_order_pct: 5,
        ..ScenarioConfig::default()
    });
    // Outages: (start, length) in ms from the start; every fourth is 10 minutes long.
    let outages: Vec<(u64, u64)> = (0..HOURS * 60 / 45)
        .map(|i| {
            (
                i * 45 * 60_000 + 20 * 60_000,
                if i % 4 == 3 {
                    10 * 60_000
                } else {
                    30_000 + (i % 3) * 60_000
                },
            )
        })
        .collect();
    let mut missed_per_outage = vec![0u32; outages.len()];
    let (mut produced, mut next_id) = (HashSet::new(), 0u64);
    let end = MONO0 + HOURS * 3600 * 1000;

    let mut now = MONO0;
    while now < end {
        now += TICK_MS;
        h.advance_to(now);
        let outage = outages
            .iter()
            .position(|&(at, len)| now >= MONO0 + at && now < MONO0 + at + len);
        let was_up = h.server_up;
        h.server_up = outage.is_none();
        if was_up && !h.server_up {
            h.drop_connection();
        }
        let connected = h.socket.is_some() && h.state_of(&list) == Some(ChannelState::Joined);
        let publication = floor.next_publication();
        for step in delivery.plan(publication) {
            match step {
                Step::Publish(p) if p.topics.iter().any(|t| t == CASINO) => {
                    next_id += 1;
                    let id = format!("m{next_id}");
                    produced.insert(id.clone());
                    let meta = format!(r#"{{"id":"{id}"}}"#);
                    store.borrow_mut().push(Stored {
                        id: id.clone(),
                        event: p.event.into(),
                        payload: p.payload.clone(),
                        inserted: h.true_time() as u64,
                    });
                    if connected {
                        reached.borrow_mut().insert(id.clone());
                        h.push_event(&list, p.event, &p.payload, Some(&meta));
                    } else if let Some(i) = outage {
                        missed_per_outage[i] += 1;
                    }
                    delivery.published(CASINO, id);
                }
                Step::Publish(_) => {}
                Step::Repeat(_, id) => {
                    let again = store
                        .borrow()
                        .iter()
                        .find(|s| s.id == id)
                        .map(|s| (s.event.clone(), s.payload.clone()));
                    if let (true, Some((event, payload))) = (connected, again) {
                        reached.borrow_mut().insert(id.clone());
                        h.push_event(
                            &list,
                            &event,
                            &payload,
                            Some(&format!(r#"{{"id":"{id}"}}"#)),
                        );
                    }
                }
            }
        }
    }
    h.advance(60_000);
    h.session.flush(h.clock());
    h.pump();

    let stats = h.session.stats(h.clock());
    let reached = reached.borrow();
    // Exactly once: every distinct event that reached the terminal was applied once.
    assert_eq!(stats.pipeline.applied, reached.len() as u64, "{stats:?}");
    assert!(
        stats.pipeline.duplicates > 0,
        "replays and repeats were dropped"
    );
    assert_eq!(stats.pipeline.malformed + stats.pipeline.foreign_casino, 0);
    // Or covered: whatever never arrived was lost in an outage that ended in a resync.
    let lost = produced.difference(&reached).count();
    let resyncs = h
        .batches
        .iter()
        .filter(|b| b.reason.as_str() == "resync")
        .count();
    let long_outages = missed_per_outage.iter().filter(|&&m| m > 25).count();
    assert!(
        resyncs >= long_outages,
        "{resyncs} resyncs for {long_outages} outages replay could not cover"
    );
    assert!(
        lost == 0 || resyncs > 0,
        "{lost} events lost without a resync"
    );
    assert!(
        long_outages > 0 && missed_per_outage.iter().any(|&m| (1..=25).contains(&m)),
        "{missed_per_outage:?}"
    );
    assert_eq!(stats.reconnects as usize, outages.len());
    assert_eq!(h.session.status(), Status::Connected);
    assert!(h.session.dedup_len() <= 10_000);
}
