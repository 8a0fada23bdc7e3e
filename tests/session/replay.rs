//! Nothing lost across gaps: replays from the right point whoever's clock is off, resyncs when a replay cannot cover the gap, dedup of the overlap.

use crate::common;
use crate::common::fake_server::{config, Harness};
use crate::common::{fixture, iso, with};
use crate::support::{detail, event_at, list, refuse_topics, stale_of, Feed};
use casino_realtime::json::Value;
use casino_realtime::session::{Backoff, ChannelState, ResyncCause, SessionConfig, Status};

/// Connection drops: the server is unreachable for `len` ms from each `start` (ms into the run).
fn outages(drops: &[(u64, u64)]) -> impl FnMut(&mut Harness, u64) + '_ {
    move |h, elapsed| {
        for &(start, len) in drops {
            if elapsed == start {
                h.server_up = false;
                h.drop_connection();
            }
            if elapsed == start + len {
                h.server_up = true;
            }
        }
    }
}

/// 11 drops of 1-3 s over a minute at 5 events/s.
const DROPS: [(u64, u64); 11] = [
    (3_000, 1_000),
    (8_000, 2_000),
    (13_000, 3_000),
    (19_000, 1_000),
    (24_000, 2_000),
    (29_000, 1_400),
    (34_000, 3_000),
    (40_000, 1_000),
    (45_000, 2_200),
    (50_000, 1_000),
    (55_000, 2_600),
];

fn drops_at_5_per_second(producer_skew: i64, tx_ms: u64) -> (Harness, Feed) {
    run_with_drops(Feed::new(producer_skew, tx_ms))
}

fn run_with_drops(feed: Feed) -> (Harness, Feed) {
    run_with_drops_on(config(), feed)
}

fn run_with_drops_on(config: SessionConfig, mut feed: Feed) -> (Harness, Feed) {
    let mut h = Harness::new(config);
    h.subscribe(None);
    feed.run(&mut h, 5, 60_000, outages(&DROPS));
    h.advance(30_000);
    h.session.flush(h.clock());
    h.pump();
    (h, feed)
}

#[test]
fn a_reconnect_rejoins_every_channel_and_private_ones_replay_from_the_last_event() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.subscribe(Some("table-1"));
    h.subscribe(Some("slip-9"));
    let payload = event_at("table.deactivated", "2025-12-20T10:20:00Z");
    h.push_event(
        &list(),
        "table.deactivated",
        &payload,
        Some(r#"{"id":"m1"}"#),
    );

    h.server_up = false;
    h.drop_connection();
    assert_eq!(h.statuses.last(), Some(&Status::Reconnecting));
    h.advance(5_000);
    h.server_up = true;
    h.advance(120_000);
    for resource in [None, Some("table-1"), Some("slip-9")] {
        let topic = Harness::topic(resource);
        assert_eq!(
            (h.joins_of(&topic), h.state_of(&topic)),
            (2, Some(ChannelState::Joined)),
            "{topic}"
        );
    }
    let rejoin = h.joins.iter().rev().find(|(t, _)| t == &list()).unwrap();
    let replay = rejoin
        .1
        .get("config")
        .unwrap()
        .get("broadcast")
        .unwrap()
        .get("replay")
        .unwrap();
    // From the last frame received (at START, 10:15:00Z), less `maxDeliveryDelayMs` (2 s): the
    // event's `at` (10:20:00Z, ahead of the local clock) does not move it.
    assert_eq!(replay.to_json(), r#"{"since":1766225698000,"limit":25}"#);
    assert_eq!(h.session.stats(h.clock()).reconnects, 1);
}

#[test]
fn public_channels_resync_after_a_gap_and_full_replays_too() {
    let mut cfg = config();
    cfg.private = false;
    let mut h = Harness::new(cfg);
    h.subscribe(None);
    h.push_event(
        &list(),
        "table.deactivated",
        &fixture("table.deactivated"),
        None,
    );
    h.drop_connection();
    h.advance(120_000);
    let resync: Vec<_> = h
        .batches
        .iter()
        .filter(|b| b.reason.as_str() == "resync")
        .collect();
    assert_eq!(resync.len(), 1);
    assert_eq!(
        h.session.stats(h.clock()).channels[0].last_resync,
        Some(ResyncCause::NoReplay)
    );
    let keys = h.delivered_keys();
    for family in [
        r#"["visit"]"#,
        r#"["rating-slip"]"#,
        r#"["loyalty"]"#,
        r#"["player"]"#,
        r#"["table-context"]"#,
        r#"["floor-layout"]"#,
        r#"["finance"]"#,
    ] {
        assert!(
            keys.iter().any(|k| k == family),
            "resync covers {family}: {keys:?}"
        );
    }

    // Private: a full replay that starts after everything received may not have covered the
    // gap: resync too.
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.push_event(
        &list(),
        "table.deactivated",
        &fixture("table.deactivated"),
        Some(r#"{"id":"first"}"#),
    );
    h.server_up = false;
    h.drop_connection();
    for i in 0..30 {
        h.advance(100);
        let payload = event_at("table.activated", &format!("2025-12-20T11:00:{i:02}Z"));
        h.publish(&list(), "table.activated", &payload, 0);
    }
    h.server_up = true;
    h.advance(120_000);
    assert_eq!(h.resyncs(), 1);
    let stats = h.session.stats(h.clock());
    assert_eq!(stats.pipeline.applied, 26);
    assert_eq!(stats.channels[0].last_resync, Some(ResyncCause::ReplayFull));
}

#[test]
fn one_event_on_two_feeds_and_again_after_a_reconnect_is_applied_once() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.subscribe(Some("table-1"));
    let payload = fixture("table.fill_requested");
    h.push_event(
        &list(),
        "table.fill_requested",
        &payload,
        Some(r#"{"id":"list-1"}"#),
    );
    h.push_event(
        &Harness::topic(Some("table-1")),
        "table.fill_requested",
        &payload,
        Some(r#"{"id":"detail-1"}"#),
    );
    h.drop_connection();
    h.advance(120_000);
    h.push_event(
        &list(),
        "table.fill_requested",
        &payload,
        Some(r#"{"replayed":true,"id":"list-1"}"#),
    );
    h.session.flush(h.clock());
    h.pump();
    let stats = h.session.stats(h.clock()).pipeline;
    assert_eq!((stats.applied, stats.duplicates), (1, 2));
    let fills = h
        .delivered_keys()
        .iter()
        .filter(|k| k.contains("\"fills\""))
        .count();
    assert_eq!(fills, 1);
}

#[test]
fn quiet_private_channels_replay_from_their_join_instead_of_resyncing() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.subscribe(Some("a"));
    h.subscribe(Some("b"));
    h.drop_connection();
    h.advance(120_000);
    assert_eq!(
        h.batches
            .iter()
            .filter(|b| b.reason.as_str() == "resync")
            .count(),
        0
    );
    let rejoins: Vec<_> = h.joins.iter().skip(3).collect();
    assert_eq!(rejoins.len(), 3);
    for (topic, payload) in rejoins {
        let replay = payload
            .get("config")
            .unwrap()
            .get("broadcast")
            .unwrap()
            .get("replay");
        assert!(replay.is_some(), "{topic} asks for a replay from its join");
    }
}

#[test]
fn a_refused_replay_rejoins_without_one_and_resyncs_once() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.subscribe(Some("a"));
    h.push_event(
        &list(),
        "table.deactivated",
        &fixture("table.deactivated"),
        Some(r#"{"id":"x"}"#),
    );
    h.join_policy = Box::new(|_, payload| {
        let replay = payload
            .get("config")
            .and_then(|c| c.get("broadcast"))
            .and_then(|b| b.get("replay"));
        Some(if replay.is_some() {
            Err("UnableToReplayMessages: Realtime was unable to replay messages".into())
        } else {
            Ok(())
        })
    });
    h.drop_connection();
    h.advance(120_000);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(
        h.state_of(&Harness::topic(Some("a"))),
        Some(ChannelState::Joined)
    );
    // Each channel rejoins on its own backoff; resyncs that land in one window share a batch.
    let resyncs = h
        .batches
        .iter()
        .filter(|b| b.reason.as_str() == "resync")
        .count();
    assert!(
        (1..=2).contains(&resyncs),
        "{resyncs} resync batches for two channels"
    );
    for channel in h.session.stats(h.clock()).channels {
        assert_eq!(channel.last_resync, Some(ResyncCause::ReplayRefused));
    }
}

#[test]
fn resyncs_are_spread_over_the_jitter_and_the_channel_stays_stale_until_its_own() {
    use casino_realtime::batch::BatchReason;
    let mut delays = Vec::new();
    for seed in 0..40 {
        let mut config = config();
        config.private = false; // every gap resyncs
        let session = common::fake_server::seeded(config, Some("token-1"), true, seed);
        let mut h = Harness::with_session(session, casino_realtime::protocol::Vsn::V2);
        h.subscribe(None);
        h.server_up = false;
        h.drop_connection();
        h.advance(2_000);
        h.server_up = true;
        // Step until joined, then until the resync is in a batch.
        let mut joined_at = None;
        for _ in 0..400 {
            h.advance(10);
            if joined_at.is_none() && h.state_of(&list()) == Some(ChannelState::Joined) {
                joined_at = Some(h.now);
            }
            if h.resyncs() == 1 {
                break;
            }
            if joined_at.is_some() {
                assert!(
                    stale_of(&h, &list()).is_some(),
                    "stale while its resync waits"
                );
            }
        }
        let joined_at = joined_at.expect("joined");
        assert_eq!(h.resyncs(), 1, "seed {seed}: resynced within the jitter");
        assert_eq!(stale_of(&h, &list()), None);
        delays.push(h.now - joined_at);
        h.advance(1_000);
        assert!(h.batches.iter().any(|b| b.reason == BatchReason::Resync));
    }
    delays.sort_unstable();
    // From the join to the resync batch: the jitter (0-2000 ms) plus the batch window (250 ms).
    assert!(
        delays[0] < 700 && delays[39] > 1_700,
        "spread over the jitter: {delays:?}"
    );
    assert!(
        delays[39] <= 2_000 + 500 + 10,
        "never later than the jitter and a window: {delays:?}"
    );
}

#[test]
fn a_channel_lost_before_its_resync_decides_again_at_the_next_join() {
    let mut config = config();
    config.private = false;
    config.resync_jitter_ms = 2_000;
    let mut h = Harness::new(config);
    h.subscribe(None);
    h.server_up = false;
    h.drop_connection();
    h.advance(1_000);
    h.server_up = true;
    for _ in 0..300 {
        h.advance(5);
        if h.state_of(&list()) == Some(ChannelState::Joined) {
            break;
        }
    }
    assert_eq!(
        (h.state_of(&list()), h.resyncs()),
        (Some(ChannelState::Joined), 0),
        "waiting"
    );
    // Lost again before the resync ran: nothing resyncs on the dead join.
    h.server_up = false;
    h.drop_connection();
    h.advance(3_000);
    assert_eq!(h.resyncs(), 0);
    assert!(stale_of(&h, &list()).is_some());
    h.server_up = true;
    h.advance(10_000);
    assert_eq!(h.resyncs(), 1, "decided again and made once");
    assert_eq!(stale_of(&h, &list()), None);
}

#[test]
fn nothing_is_lost_across_drops_with_the_producers_clock_3_s_ahead() {
    let (h, feed) = drops_at_5_per_second(3_000, 0);
    assert_eq!(feed.lost(&h), Vec::<u64>::new());
    assert_eq!(h.resyncs(), 0, "recovered by replay");
    assert!(
        h.session.stats(h.clock()).replays >= 5,
        "gaps closed by a replay"
    );
}

#[test]
fn nothing_is_lost_across_drops_with_the_producers_clock_3_s_behind() {
    let (h, feed) = drops_at_5_per_second(-3_000, 0);
    assert_eq!(feed.lost(&h), Vec::<u64>::new());
    assert_eq!(h.resyncs(), 0, "recovered by replay");
}

#[test]
fn nothing_is_lost_across_drops_with_1500_ms_publishing_transactions() {
    let (h, feed) = drops_at_5_per_second(0, 1_500);
    assert_eq!(feed.lost(&h), Vec::<u64>::new());
    assert_eq!(h.resyncs(), 0, "recovered by replay");
}

/// The producer writes `at` at commit: the `at` lag reads ~0 while the rows committed during a
/// gap carry an `inserted_at` 1.5 s older than their delivery. Lost 11 before the replay margin
/// (the replay point followed the `at` lag).
#[test]
fn nothing_is_lost_across_drops_when_at_is_stamped_at_the_commit_of_1500_ms_transactions() {
    for skew in [0, 3_000, -3_000] {
        let (h, feed) = run_with_drops(Feed::at_commit(skew, 1_500));
        assert_eq!(feed.lost(&h), Vec::<u64>::new(), "producer clock {skew} ms");
        assert_eq!(h.resyncs(), 0, "recovered by replay");
    }
}

/// What holds it is `maxDeliveryDelayMs`: set below the transactions' length, the same run
/// loses the messages committed during each gap by a transaction begun before it; set to it,
/// none.
#[test]
fn the_delivery_delay_margin_is_what_covers_long_transactions() {
    let short = SessionConfig {
        max_delivery_delay_ms: 500,
        ..config()
    };
    let (h, feed) = run_with_drops_on(short, Feed::at_commit(0, 1_500));
    assert!(feed.lost(&h).len() >= 10, "lost {:?}", feed.lost(&h));
    let exact = SessionConfig {
        max_delivery_delay_ms: 1_500,
        ..config()
    };
    let (h, feed) = run_with_drops_on(exact, Feed::at_commit(0, 1_500));
    assert_eq!(feed.lost(&h), Vec::<u64>::new());
}

#[test]
fn a_3_s_outage_at_5_events_per_second_is_recovered_by_replay_not_resync() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    let mut feed = Feed::new(0, 0);
    feed.run(&mut h, 5, 12_000, outages(&[(5_000, 3_000)]));
    h.advance(10_000);
    assert_eq!(feed.lost(&h), Vec::<u64>::new());
    assert_eq!(h.resyncs(), 0);
    assert_eq!(h.session.stats(h.clock()).replays, 1);
}

#[test]
fn at_50_events_per_second_a_short_blip_is_replayed_without_a_resync() {
    let mut cfg = config();
    cfg.backoff = Backoff::new(300, 300, 300);
    let mut h = Harness::new(cfg);
    h.subscribe(None);
    let mut feed = Feed::new(0, 0);
    let mut dropped = false;
    feed.run(&mut h, 50, 4_000, |h, elapsed| {
        if elapsed >= 2_000 && !dropped {
            dropped = true;
            h.drop_connection();
        }
    });
    h.advance(5_000);
    assert_eq!(feed.lost(&h), Vec::<u64>::new());
    assert_eq!(h.resyncs(), 0, "the overlap alone does not fill the replay");
}

#[test]
fn an_event_dated_2099_moves_neither_the_replay_point_nor_last_writer_wins() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    let balance = |at: &str, value: i64| {
        let payload = with(
            fixture("loyalty.balance_updated"),
            "at",
            Some(Value::from(at)),
        );
        with(payload, "balance", Some(Value::from(value)))
    };
    h.publish(
        &list(),
        "loyalty.balance_updated",
        &balance("2099-01-01T00:00:00Z", 1),
        0,
    );
    h.advance(60_000);
    let gap_start = h.clock().wall;
    h.drop_connection();
    h.advance(10_000);
    // From the last frame received (a heartbeat reply at most 25 s before the drop), less the
    // overlap: not from 2099.
    let replay = casino_realtime::json::parse(&h.last_replay(&list()).unwrap()).unwrap();
    let since = match replay.get("since") {
        Some(Value::Number(n)) => n.value() as i64,
        other => panic!("{other:?}"),
    };
    assert!(
        (gap_start - 25_500..=gap_start - 500).contains(&since),
        "{since} for a drop at {gap_start}"
    );
    // A later balance, dated by a sane clock, is written, not dropped as older than 2099.
    let later = balance(&iso(h.true_time()), 2);
    h.publish(&list(), "loyalty.balance_updated", &later, 0);
    h.advance(1_000);
    let last = h.batches.last().unwrap();
    assert!(
        last.to_json().contains(r#""type":"setQueryData""#)
            && last.to_json().contains(r#""data":2"#),
        "{}",
        last.to_json()
    );
}

#[test]
fn a_replay_held_behind_a_refused_join_still_counts_and_covers_the_gap() {
    let mut h = Harness::new(config());
    h.join_error_delay_ms = 5_000;
    h.subscribe(None);
    h.subscribe(Some("d"));
    let mut feed = Feed::new(0, 0);
    h.server_up = false;
    h.drop_connection();
    for _ in 0..40 {
        feed.publish(&mut h);
        h.advance(100);
    }
    // On the rejoin the detail channel is refused: Supabase sleeps 5 s on it, and the list
    // feed's replayed messages wait behind that sleep.
    h.join_policy = refuse_topics(vec![detail("d")]);
    h.server_up = true;
    h.advance(30_000);
    assert_eq!(feed.lost(&h), Vec::<u64>::new());
    assert_eq!(
        h.resyncs(),
        1,
        "40 missed: a full replay that did not reach back"
    );
}

#[test]
fn a_gap_longer_than_dedup_remembers_is_resynced_not_replayed_twice() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    let mut feed = Feed::new(0, 0);
    feed.publish(&mut h);
    h.server_up = false;
    h.drop_connection();
    h.advance(30 * 60_000); // longer than dedup's 10 minutes
    feed.publish(&mut h);
    h.server_up = true;
    h.advance(60_000);
    let stats = h.session.stats(h.clock());
    assert_eq!(
        stats.pipeline.applied, 1,
        "the event before the gap is not applied again"
    );
    assert_eq!(stats.channels[0].last_resync, Some(ResyncCause::GapTooOld));
    assert_eq!(h.resyncs(), 1);
    assert_eq!(feed.lost(&h), Vec::<u64>::new());
}

#[test]
fn a_replay_the_server_could_not_serve_once_is_asked_for_again_at_the_next_gap() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    let mut refusals = 1;
    h.join_policy = Box::new(move |_, payload| {
        let replay = payload
            .get("config")
            .and_then(|c| c.get("broadcast"))
            .and_then(|b| b.get("replay"));
        if replay.is_some() && refusals > 0 {
            refusals -= 1;
            return Some(Err(
                "UnableToReplayMessages: Realtime was unable to replay messages".into(),
            ));
        }
        Some(Ok(()))
    });
    h.drop_connection();
    h.advance(30_000);
    assert_eq!(h.resyncs(), 1, "the first gap resynced");
    h.drop_connection();
    h.advance(30_000);
    assert!(
        h.last_replay(&list()).is_some(),
        "the next gap asks for a replay again"
    );
    assert_eq!(h.resyncs(), 1);
}
