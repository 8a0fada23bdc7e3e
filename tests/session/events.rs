//! Events into batches: the casino guard, the batch window under bursts and clock steps, the inspector.

use crate::common;
use crate::common::fake_server::{config, Harness};
use crate::common::{fixture, numbered_fill, with};
use crate::support::list;
use casino_realtime::json::Value;
use casino_realtime::session::{SessionError, Status};

#[test]
fn events_for_another_casino_are_dropped_and_reported() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    let foreign = with(
        fixture("table.deactivated"),
        "casino_id",
        Some(Value::from("22222222-2222-4222-8222-222222222222")),
    );
    h.push_event(&list(), "table.deactivated", &foreign, None);
    let bad = with(
        fixture("table.deactivated"),
        "table_id",
        Some(Value::from("seven")),
    );
    h.push_event(&list(), "table.deactivated", &bad, None);
    h.session.flush(h.clock());
    h.pump();
    assert!(h.batches.is_empty());
    assert!(
        matches!(&h.errors[0], SessionError::ForeignCasino { event, .. } if event == "table.deactivated")
    );
    assert_eq!(h.errors[0].name(), "ForeignCasinoError");
    assert_eq!(h.errors[1].name(), "InvalidEventError");
    let stats = h.session.stats(h.clock()).pipeline;
    assert_eq!(
        (stats.foreign_casino, stats.malformed, stats.applied),
        (1, 1, 0)
    );
}

#[test]
fn batches_come_out_of_the_window_and_close_delivers_what_is_pending() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.push_event(
        &list(),
        "visit.checked_in",
        &fixture("visit.checked_in"),
        Some(r#"{"id":"a"}"#),
    );
    h.push_event(
        &list(),
        "visit.checked_out",
        &fixture("visit.checked_out"),
        Some(r#"{"id":"b"}"#),
    );
    h.advance(300);
    assert_eq!(h.batches.len(), 1);
    assert_eq!(h.batches[0].events, 2);
    h.push_event(
        &list(),
        "table.activated",
        &fixture("table.activated"),
        Some(r#"{"id":"c"}"#),
    );
    h.session.close(h.clock());
    h.pump();
    assert_eq!(h.batches.len(), 2);
    assert_eq!(h.statuses.last(), Some(&Status::Closed));
    assert_eq!(h.closes, ["closed by the app"]);
    assert_eq!(h.session.deadline(), None);
}

#[test]
fn the_inspector_records_each_fate_and_what_each_key_was_refetched_for() {
    let mut config = config();
    config.inspect = 20;
    config.log = true;
    let mut h = Harness::new(config);
    h.subscribe(None);
    let event = fixture("table.deactivated");
    h.push_event(&list(), "table.deactivated", &event, Some(r#"{"id":"m1"}"#));
    h.push_event(&list(), "table.deactivated", &event, Some(r#"{"id":"m1"}"#));
    let bad = with(
        fixture("table.deactivated"),
        "table_id",
        Some(Value::from("seven")),
    );
    h.push_event(&list(), "table.deactivated", &bad, None);
    h.session.flush(h.clock());
    h.pump();
    assert_eq!(h.batches.len(), 1);
    let record = h.session.inspect().unwrap();
    let fates: Vec<&str> = record
        .match_indices(r#""fate":""#)
        .map(|(i, _)| &record[i + 8..i + 12])
        .collect();
    assert_eq!(fates, ["appl", "dupl", "malf"], "{record}");
    assert!(
        record.contains(r#"{"type":"invalidate","queryKey":["table-context","tables","11111111-1111-4111-8111-111111111111"],"causes":["table.deactivated"]}"#),
        "{record}"
    );
    let log = h.session.take_log();
    let kinds: Vec<&str> = log.iter().map(|l| l.kind).collect();
    assert_eq!(kinds, ["event", "event", "event", "batch"]);
    assert!(
        log[2]
            .message
            .starts_with("malformed table.deactivated on realtime:"),
        "{}",
        log[2].message
    );

    // Off by default: nothing is recorded.
    let mut quiet = Harness::new(common::fake_server::config());
    quiet.subscribe(None);
    quiet.push_event(&list(), "table.deactivated", &event, Some(r#"{"id":"m1"}"#));
    assert_eq!(quiet.session.inspect(), None);
    assert!(quiet.session.take_log().is_empty());
}

#[test]
fn a_burst_of_frames_without_ticks_still_closes_each_window_by_its_cap() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    // 20,000 events, ten per millisecond, and no timer ever fires: only inputs drive the session.
    for n in 1..=20_000u64 {
        if n % 10 == 0 {
            h.now += 1;
        }
        let payload = numbered_fill(n, h.true_time());
        h.push_event(&list(), "table.fill_requested", &payload, None);
    }
    assert!(
        h.batches.len() >= 4,
        "{} batches during the burst",
        h.batches.len()
    );
    for batch in &h.batches {
        assert!(
            batch.flushed_at - batch.opened_at <= 500,
            "a window of {} ms",
            batch.flushed_at - batch.opened_at
        );
        assert!(
            batch.actions.len() <= 2_000,
            "{} actions",
            batch.actions.len()
        );
    }
    h.advance(1_000);
    let events: u32 = h.batches.iter().map(|b| b.events).sum();
    assert_eq!(events, 20_000, "every event in some batch");
}

#[test]
fn a_wall_clock_set_back_an_hour_does_not_hold_a_batch() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.push_event(
        &list(),
        "table.activated",
        &fixture("table.activated"),
        None,
    );
    h.browser_skew -= 3_600_000;
    h.advance(600);
    assert_eq!(h.batches.len(), 1);
    assert!(h.batches[0].flushed_at as i64 <= h.clock().wall);
}
