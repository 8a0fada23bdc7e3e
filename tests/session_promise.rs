//! The session keeps its promise: one regression test per defect of issue 8, each of which
//! failed on the session before its fix (a bag of flags, deadlines only served by the timer,
//! replay from events' `at`). They run on simulated clocks against a fake server that is as
//! hard as Supabase (tests/common/fake_server.rs).
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use casino_realtime::json::Value;
use casino_realtime::session::{Backoff, ChannelState, ResyncCause, SessionError, Status};
use common::fake_server::{config, session, Harness, MONO0};
use common::{fixture, iso, numbered_fill, numbered_fill_key, with};
use std::collections::HashSet;

fn list() -> String {
    Harness::topic(None)
}

fn detail(r: &str) -> String {
    Harness::topic(Some(r))
}

/// Publishes numbered events on the list feed through the database path.
struct Feed {
    next: u64,
    published: Vec<u64>,
    /// When each was published, on the browser's wall clock.
    at: Vec<i64>,
    /// The producer's clock minus the true time.
    producer_skew: i64,
    /// How long each publishing transaction lasts.
    tx_ms: u64,
}

impl Feed {
    fn new(producer_skew: i64, tx_ms: u64) -> Self {
        Feed {
            next: 0,
            published: Vec::new(),
            at: Vec::new(),
            producer_skew,
            tx_ms,
        }
    }

    fn publish(&mut self, h: &mut Harness) {
        self.next += 1;
        let payload = numbered_fill(self.next, h.true_time() + self.producer_skew);
        h.publish(&list(), "table.fill_requested", &payload, self.tx_ms);
        self.published.push(self.next);
        self.at.push(h.clock().wall);
    }

    /// Publishes at `rate` events/s for `ms`, running `fault(h, elapsed)` before each.
    fn run(
        &mut self,
        h: &mut Harness,
        rate: u64,
        ms: u64,
        mut fault: impl FnMut(&mut Harness, u64),
    ) {
        let step = 1000 / rate;
        let mut elapsed = 0;
        while elapsed < ms {
            fault(h, elapsed);
            self.publish(h);
            h.advance(step);
            elapsed += step;
        }
    }

    /// Events whose keys reached no batch and that no later resync covered.
    fn lost(&self, h: &Harness) -> Vec<u64> {
        let keys: HashSet<String> = h.delivered_keys().into_iter().collect();
        let last_resync = h
            .batches
            .iter()
            .filter(|b| b.reason.as_str() == "resync")
            .map(|b| b.flushed_at as i64)
            .max();
        self.published
            .iter()
            .zip(&self.at)
            .filter(|(n, at)| {
                !keys.contains(&numbered_fill_key(**n)) && !last_resync.is_some_and(|r| r >= **at)
            })
            .map(|(n, _)| *n)
            .collect()
    }
}

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
    let mut h = Harness::new(config());
    h.subscribe(None);
    let mut feed = Feed::new(producer_skew, tx_ms);
    feed.run(&mut h, 5, 60_000, outages(&DROPS));
    h.advance(30_000);
    h.session.flush(h.clock());
    h.pump();
    (h, feed)
}

// ---- 1. The 500 ms cap holds under a burst, and a batch's size is bounded. ----

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

// ---- 2. Unauthorized is retried on a long backoff; setAuth and subscribe revive at once. ----

const UNAUTHORIZED: &str =
    "Unauthorized: You do not have permissions to read from this Channel topic: x";

#[test]
fn a_transient_unauthorized_is_retried_on_a_long_backoff_until_it_passes() {
    let mut h = Harness::new(config());
    // Supabase answers Unauthorized when its policy check hits a database error: a failover.
    let failover_ends = MONO0 + 4 * 60_000;
    let clock = std::rc::Rc::new(std::cell::Cell::new(MONO0));
    let seen = clock.clone();
    h.join_policy = Box::new(move |_, _| {
        Some(if seen.get() < failover_ends {
            Err(UNAUTHORIZED.into())
        } else {
            Ok(())
        })
    });
    h.subscribe(None);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Denied));
    assert_eq!(h.session.status(), Status::Denied);
    assert!(
        matches!(&h.errors[..], [SessionError::Denied { reason, .. }] if reason == UNAUTHORIZED)
    );
    for _ in 0..30 * 60 {
        h.advance(1_000);
        clock.set(h.now);
    }
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(h.session.status(), Status::Connected);
    let joins = h.joins.len();
    assert!(
        (2..=8).contains(&joins),
        "{joins} joins: a long backoff, not a loop"
    );
    assert_eq!(h.errors.len(), 1, "reported once, not at every retry");
}

#[test]
fn set_auth_or_a_new_subscribe_revives_a_refused_channel_at_once() {
    let mut h = Harness::new(config());
    h.join_policy = only_token("token-of-a-pit-boss", UNAUTHORIZED);
    h.subscribe(None);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Denied));
    h.advance(1_000);
    let joins = h.joins.len();
    h.session.set_auth("token-of-a-pit-boss".into(), h.clock());
    h.pump();
    assert_eq!(h.joins.len(), joins + 1, "joined again at once");
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));

    let mut h = Harness::new(config());
    let mut refusals = 1;
    h.join_policy = Box::new(move |_, _| {
        refusals -= 1;
        Some(if refusals >= 0 {
            Err(UNAUTHORIZED.into())
        } else {
            Ok(())
        })
    });
    h.subscribe(None);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Denied));
    h.advance(1_000);
    h.subscribe(None);
    assert_eq!(h.joins.len(), 2, "a new subscriber tries again at once");
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
}

// ---- 3. An expired accessToken without getAccessToken waits for setAuth. ----

#[test]
fn an_expired_token_without_get_access_token_waits_for_set_auth() {
    let mut h = Harness::with_session(
        session(config(), Some("token-1"), false),
        casino_realtime::protocol::Vsn::V2,
    );
    h.subscribe(None);
    h.server_shutdown(&list(), "Token has expired 0 seconds ago");
    assert_eq!(h.state_of(&list()), Some(ChannelState::AwaitingToken));
    assert_eq!(h.session.status(), Status::AwaitingToken);
    assert!(
        h.errors
            .iter()
            .any(|e| matches!(e, SessionError::Token { reason } if reason.contains("setAuth"))),
        "{:?}",
        h.errors
    );
    h.advance(60 * 60_000);
    assert_eq!(h.joins.len(), 1, "nothing to join with");
    assert_eq!(h.state_of(&list()), Some(ChannelState::AwaitingToken));
    h.session.set_auth("token-2".into(), h.clock());
    h.pump();
    assert_eq!(h.joins.len(), 2);
    assert_eq!(
        h.joins[1].1.get("access_token").and_then(Value::as_str),
        Some("token-2")
    );
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(h.session.status(), Status::Connected);
}

// ---- 4. Replay neither loses nor wastes. ----

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

// ---- 5. Deadlines run on the monotonic clock. ----

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

// ---- 6. A message rate limit backs off a minute, and a join must hold to reset the count. ----

#[test]
fn a_rate_limited_channel_rejoins_no_faster_than_once_a_minute() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    let mut join_times = vec![h.now];
    for _ in 0..10 * 60 {
        h.advance(1_000);
        if h.state_of(&list()) == Some(ChannelState::Joined) {
            if join_times.last() != Some(&h.now) && h.joins.len() > join_times.len() {
                join_times.push(h.now);
            }
            // Supabase closes the channel at its next message while the rolling average is over.
            h.server_shutdown(&list(), "Too many messages per second");
        }
    }
    assert!(h.joins.len() <= 11, "{} joins in 10 minutes", h.joins.len());
    for pair in join_times.windows(2) {
        assert!(pair[1] - pair[0] >= 60_000, "{:?}", join_times);
    }
}

// ---- 7. Join errors that arrive late, one at a time, keep their reasons. ----

#[test]
fn late_join_errors_queued_on_one_socket_all_keep_their_reason() {
    let mut h = Harness::new(config());
    h.join_error_delay_ms = 5_000;
    h.join_policy = Box::new(|topic, _| {
        Some(if topic == list() {
            Ok(())
        } else {
            Err(format!("Unauthorized: You do not have permissions to read from this Channel topic: {topic}"))
        })
    });
    for r in ["a", "b", "c", "d"] {
        h.subscribe(Some(r));
    }
    h.subscribe(None);
    h.advance(30_000);
    let denied: Vec<&str> = h
        .errors
        .iter()
        .filter_map(|e| match e {
            SessionError::Denied { topic, .. } => Some(topic.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(denied.len(), 4, "{:?}", h.errors);
    assert!(h.leaves.is_empty(), "no join timed out: {:?}", h.leaves);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(h.session.status(), Status::Partial);
}

// ---- 9. close() is final. ----

#[test]
fn after_close_nothing_is_due_and_every_input_is_ignored() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|_, _| {
        Some(Err(
            "InvalidJWTToken: Token has expired 1 seconds ago".into()
        ))
    });
    h.subscribe(None);
    let request = h.token_request;
    let socket = h.socket.unwrap();
    h.session.close(h.clock());
    h.pump();
    assert_eq!(h.statuses.last(), Some(&Status::Closed));
    assert_eq!(h.session.deadline(), None);
    let now = h.clock();
    h.session.token_result(request, Err("late".into()), now);
    h.session.socket_opened(socket, now);
    h.session
        .text_frame(socket, "[null,null,\"phoenix\",\"phx_reply\",{}]", now);
    h.session.set_auth("token-9".into(), now);
    h.session.set_online(true, now);
    h.session.resumed(now);
    h.session.tick(now);
    h.session.flush(now);
    assert_eq!(h.session.subscribe(None, now), None);
    assert_eq!(h.session.drain(), Vec::new(), "nothing after close");
    assert_eq!(h.session.deadline(), None);
    assert_eq!(h.session.status(), Status::Closed);
}

// ---- 10. A wake, a frozen page or a resumed page checks the connection at once. ----

/// Joined with an event received; then the server side of the socket goes silent.
fn joined_then_half_open() -> (Harness, Feed) {
    let mut h = Harness::new(config());
    h.subscribe(None);
    let mut feed = Feed::new(0, 0);
    feed.run(&mut h, 5, 2_000, |_, _| {});
    h.half_open = true;
    (h, feed)
}

#[test]
fn after_a_sleep_the_dead_connection_is_replaced_within_seconds_and_replayed() {
    let (mut h, mut feed) = joined_then_half_open();
    let opens = h.opens;
    // The laptop sleeps 10 minutes: the wall clock runs on, the monotonic one stops. Events are
    // published meanwhile.
    for _ in 0..10 {
        h.slept += 60_000;
        feed.publish(&mut h);
    }
    let woke = h.now;
    h.session.tick(h.clock());
    h.pump();
    h.advance(6_000);
    assert_eq!(h.opens, opens + 1, "reconnected within 6 s of waking");
    assert!(h.now - woke <= 6_000);
    h.advance(5_000);
    assert_eq!(
        feed.lost(&h),
        Vec::<u64>::new(),
        "the sleep's events replayed"
    );
}

#[test]
fn a_frozen_page_whose_timers_did_not_fire_checks_its_connection_when_it_runs_again() {
    let (mut h, _) = joined_then_half_open();
    let opens = h.opens;
    // Frozen for two minutes: no timer fired. The next input is whatever comes first.
    h.now += 120_000;
    let thawed = h.now;
    h.session.set_visible(false, h.clock());
    h.pump();
    h.advance(6_000);
    assert_eq!(h.opens, opens + 1);
    assert!(h.now - thawed <= 6_000);
}

#[test]
fn a_resumed_page_probes_with_a_short_timeout() {
    let (mut h, _) = joined_then_half_open();
    let (opens, heartbeats) = (h.opens, h.heartbeats);
    h.session.resumed(h.clock());
    h.pump();
    assert_eq!(
        h.heartbeats, heartbeats,
        "the half-open server never saw it"
    );
    h.advance(6_500);
    assert_eq!(
        h.opens,
        opens + 1,
        "replaced after the probe's 5 s, not 25-50 s"
    );
    assert_eq!(
        h.closes.last().map(String::as_str),
        Some("heartbeat timeout")
    );
}

// ---- 11. Oversized frames are refused, counted, and the connection kept. ----

#[test]
fn oversized_and_unreadable_frames_are_counted_and_the_connection_kept() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    let socket = h.socket.unwrap();
    h.session.frame_refused(socket, 6_000_000, h.clock());
    let big = format!("[null,null,\"{}\",\"x\",{{}}]", "a".repeat(5_000_001));
    h.session.text_frame(socket, &big, h.clock());
    h.session.text_frame(socket, "not json", h.clock());
    h.session.binary_frame(socket, &[9, 9, 9], h.clock());
    h.pump();
    let stats = h.session.stats(h.clock());
    assert_eq!(stats.unreadable_frames, 4);
    assert_eq!(
        h.errors
            .iter()
            .filter(|e| e.name() == "ProtocolError")
            .count(),
        4
    );
    assert_eq!(h.opens, 1);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
}

// ---- 14. Statuses tell the truth. ----

#[test]
fn connected_means_every_subscribed_channel_is_joined() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|_, _| None); // joins unanswered for now
    h.subscribe(None);
    assert!(h.socket.is_some());
    assert_eq!(
        h.session.status(),
        Status::Connecting,
        "the socket is open, nothing joined"
    );
    h.join_policy = Box::new(|_, _| Some(Ok(())));
    h.advance(60_000);
    assert_eq!(h.session.status(), Status::Connected);
}

#[test]
fn a_first_connect_whose_joins_answer_one_by_one_never_reads_reconnecting() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|topic, _| (topic == list()).then_some(Ok(())));
    h.subscribe(None);
    h.subscribe(Some("table-7"));
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(h.state_of(&detail("table-7")), Some(ChannelState::Joining));
    assert_eq!(
        h.session.status(),
        Status::Connecting,
        "nothing was ever lost: the second join is a first join"
    );
    h.join_policy = Box::new(|_, _| Some(Ok(())));
    h.advance(60_000);
    assert_eq!(h.session.status(), Status::Connected);
    assert!(
        !h.statuses.contains(&Status::Reconnecting),
        "{:?}",
        h.statuses
    );
}

#[test]
fn a_refused_list_feed_beside_a_live_detail_reads_partial_with_each_channels_state() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|topic, _| {
        Some(if topic == list() {
            Err(UNAUTHORIZED.into())
        } else {
            Ok(())
        })
    });
    h.subscribe(None);
    h.subscribe(Some("table-7"));
    assert_eq!(h.state_of(&list()), Some(ChannelState::Denied));
    assert_eq!(h.state_of(&detail("table-7")), Some(ChannelState::Joined));
    assert_eq!(h.session.status(), Status::Partial);
    let stats = h.session.stats(h.clock());
    let refused = stats.channels.iter().find(|c| c.topic == list()).unwrap();
    assert_eq!(refused.reason.as_deref(), Some(UNAUTHORIZED));
}

#[test]
fn get_access_token_is_called_once_whatever_the_order_of_refusals_and_answers() {
    let mut h = Harness::new(config());
    h.join_error_delay_ms = 5_000;
    h.join_policy = only_token(
        "token-2",
        "InvalidJWTToken: Token has expired 3 seconds ago",
    );
    h.subscribe(None);
    h.subscribe(Some("table-1"));
    // The list's refusal comes first, at 5 s; the app answers at once; the detail's refusal
    // of the old token arrives afterwards, at 10 s.
    h.advance(5_000);
    assert_eq!(h.token_requests, 1);
    h.give_token(Ok("token-2"));
    h.advance(30_000);
    assert_eq!(h.token_requests, 1, "one request for both channels");
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(h.state_of(&detail("table-1")), Some(ChannelState::Joined));
}

// ---- Found in review: each failed before its fix. ----

/// Joins with `token` pass; others are refused with `refusal`.
fn only_token(token: &'static str, refusal: &'static str) -> common::fake_server::JoinPolicy {
    Box::new(move |_, payload| {
        let given = payload.get("access_token").and_then(Value::as_str);
        Some(if given == Some(token) {
            Ok(())
        } else {
            Err(refusal.into())
        })
    })
}

fn refuse_topics(topics: Vec<String>) -> common::fake_server::JoinPolicy {
    Box::new(move |topic, _| {
        Some(if topics.iter().any(|t| t == topic) {
            Err(UNAUTHORIZED.into())
        } else {
            Ok(())
        })
    })
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
fn joins_queued_behind_refusals_do_not_make_a_probe_drop_a_live_socket() {
    let mut h = Harness::new(config());
    h.join_error_delay_ms = 5_000;
    h.subscribe(None);
    h.join_policy = refuse_topics(vec![detail("a"), detail("b")]);
    h.subscribe(Some("a"));
    h.subscribe(Some("b"));
    h.advance(1_000);
    h.session.resumed(h.clock()); // a probe, answered only after both refusals (10 s)
    h.pump();
    h.advance(15_000);
    assert!(
        !h.closes.iter().any(|c| c == "heartbeat timeout"),
        "{:?}",
        h.closes
    );
    assert_eq!(h.opens, 1);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
}

#[test]
fn a_token_changed_during_a_join_is_given_to_the_channel_once_joined() {
    let mut h = Harness::new(config());
    h.join_error_delay_ms = 5_000;
    h.join_policy = refuse_topics(vec![detail("a")]);
    h.subscribe(Some("a")); // refused: the socket sleeps 5 s
    h.subscribe(None); // its reply waits behind that
    h.advance(1_000);
    h.session.set_auth("token-2".into(), h.clock());
    h.pump();
    h.advance(10_000);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert!(
        h.access_tokens.contains(&(list(), "token-2".to_owned())),
        "{:?}",
        h.access_tokens
    );
}

#[test]
fn a_pushed_token_that_expires_asks_the_app_instead_of_rejoining_with_it() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.session.set_auth("token-2".into(), h.clock());
    h.pump();
    let joins = h.joins.len();
    h.server_shutdown(&list(), "Token has expired 0 seconds ago");
    assert_eq!(
        h.token_requests, 1,
        "the channel held token-2, which expired"
    );
    assert_eq!(h.joins.len(), joins, "not rejoined with the expired token");
}

#[test]
fn set_auth_while_a_refusal_is_on_its_way_tries_the_new_token_at_once() {
    let mut h = Harness::new(config());
    h.join_error_delay_ms = 5_000;
    h.join_policy = only_token("token-2", UNAUTHORIZED);
    h.subscribe(Some("d"));
    h.advance(2_000);
    h.session.set_auth("token-2".into(), h.clock());
    h.pump();
    h.advance(5_000);
    assert_eq!(h.state_of(&detail("d")), Some(ChannelState::Joined));
    assert!(h.errors.is_empty(), "not reported denied: {:?}", h.errors);
}

#[test]
fn a_channel_subscribed_after_a_failed_refresh_gets_a_token_and_joins() {
    let mut h = Harness::new(config());
    let good = std::rc::Rc::new(std::cell::Cell::new(false));
    let ok = good.clone();
    h.join_policy = Box::new(move |_, payload| {
        let token = payload.get("access_token").and_then(Value::as_str);
        // token-1 until it expires, then only the fresh one.
        let allowed = if ok.get() { "fresh" } else { "token-1" };
        Some(if token == Some(allowed) {
            Ok(())
        } else {
            Err("InvalidJWTToken: Token has expired 1 seconds ago".into())
        })
    });
    let l = h.subscribe(None);
    good.set(true);
    h.server_shutdown(&list(), "Token has expired 0 seconds ago");
    h.give_token(Err("offline"));
    h.unsubscribe(l);
    h.advance(120_000);
    h.subscribe(Some("d"));
    for _ in 0..120 {
        if h.token_requests > 0 && h.state_of(&detail("d")) == Some(ChannelState::AwaitingToken) {
            h.give_token(Ok("fresh"));
        }
        h.advance(1_000);
    }
    assert_eq!(h.state_of(&detail("d")), Some(ChannelState::Joined));
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

#[test]
fn with_nothing_subscribed_the_status_reads_connecting() {
    let mut h = Harness::new(config());
    let id = h.subscribe(None);
    assert_eq!(h.session.status(), Status::Connected);
    h.unsubscribe(id);
    h.advance(5_000);
    assert_eq!(h.session.status(), Status::Connecting);
}

#[test]
fn the_first_refusal_shows_at_once_while_other_refused_joins_are_still_queued() {
    // A token of another casino and many channels: Supabase answers the refusals 5 s apart.
    let mut h = Harness::new(config());
    h.join_error_delay_ms = 5_000;
    h.join_policy = Box::new(|_, _| Some(Err(UNAUTHORIZED.into())));
    h.subscribe(None);
    for r in ["a", "b", "c", "d", "e"] {
        h.subscribe(Some(r));
    }
    h.advance(5_500);
    assert_eq!(
        h.session.status(),
        Status::Denied,
        "not connecting for 30 s"
    );
    h.advance(30_000);
    assert_eq!(h.errors.len(), 6);
    assert_eq!(h.session.status(), Status::Denied);
}

// ---- Tokens that expire every 20 s, among drops every 4 s, as in the chaos suite. ----

/// Tokens `t{n}`, each good for 20 s from when the app handed it out; the server closes a
/// joined channel whose token expired and refuses joins with one, as Supabase does.
struct ShortTokens {
    expiry: std::rc::Rc<std::cell::RefCell<Vec<u64>>>,
    now: std::rc::Rc<std::cell::Cell<u64>>,
    answered: u32,
}

impl ShortTokens {
    const TTL_MS: u64 = 20_000;

    fn install(h: &mut Harness) -> Self {
        let tokens = ShortTokens {
            expiry: Default::default(),
            now: std::rc::Rc::new(std::cell::Cell::new(h.now)),
            answered: 0,
        };
        let (expiry, now) = (tokens.expiry.clone(), tokens.now.clone());
        h.join_policy = Box::new(move |_, payload| {
            let token = payload.get("access_token").and_then(Value::as_str)?;
            Some(match ShortTokens::number(token) {
                Some(n) if expiry.borrow()[n] > now.get() => Ok(()),
                _ => Err("InvalidJWTToken: Token has expired 1 seconds ago".into()),
            })
        });
        tokens
    }

    fn number(token: &str) -> Option<usize> {
        token.strip_prefix('t')?.parse().ok()
    }

    /// The token each joined channel holds last: its join's, or a later `access_token`'s.
    fn held(h: &Harness, topic: &str) -> Option<usize> {
        let joined = h
            .joins
            .iter()
            .filter(|(t, _)| t == topic)
            .filter_map(|(_, p)| {
                p.get("access_token")
                    .and_then(Value::as_str)
                    .and_then(Self::number)
            });
        let pushed = h
            .access_tokens
            .iter()
            .filter(|(t, _)| t == topic)
            .filter_map(|(_, token)| Self::number(token));
        joined.chain(pushed).max()
    }

    /// Runs before each event: answers token requests, expires tokens.
    fn step(&mut self, h: &mut Harness) {
        self.now.set(h.now);
        if h.token_requests > self.answered {
            self.answered = h.token_requests;
            let n = {
                let mut expiry = self.expiry.borrow_mut();
                expiry.push(h.now + Self::TTL_MS);
                expiry.len() - 1
            };
            h.give_token(Ok(&format!("t{n}")));
        }
        let mut topics: Vec<String> = h.joined.keys().cloned().collect();
        topics.sort();
        for topic in topics {
            let expired = Self::held(h, &topic).map_or(true, |n| self.expiry.borrow()[n] <= h.now);
            if expired {
                h.server_shutdown(&topic, "Token has expired 0 seconds ago");
            }
        }
    }
}

#[test]
fn short_lived_tokens_among_drops_never_read_degraded_nor_resync() {
    let mut h = Harness::with_session(session(config(), None, true), config().vsn);
    let mut tokens = ShortTokens::install(&mut h);
    h.subscribe(None);
    h.subscribe(Some("a"));
    h.subscribe(Some("b"));
    let mut feed = Feed::new(0, 0);
    feed.run(&mut h, 5, 120_000, |h, elapsed| {
        tokens.step(h);
        if elapsed % 4_000 == 3_000 {
            h.drop_connection();
        }
    });
    for _ in 0..100 {
        h.advance(200);
        tokens.step(&mut h);
    }
    h.session.flush(h.clock());
    h.pump();
    assert!(
        tokens.answered >= 6,
        "{} tokens handed out",
        tokens.answered
    );
    assert_eq!(feed.lost(&h), Vec::<u64>::new());
    assert!(
        !h.statuses.contains(&Status::Degraded),
        "expiring tokens are no failure: {:?}",
        h.statuses
    );
    assert_eq!(h.resyncs(), 0, "recovered by replay");
    assert_eq!(h.session.status(), Status::Connected);
}

/// An unsigned JWT with only `exp` (unix seconds): what the session reads of a token.
fn jwt_expiring(exp_s: i64) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let claims = format!(r#"{{"exp":{exp_s}}}"#);
    let mut out = String::from("eyJhbGciOiJIUzI1NiJ9.");
    for chunk in claims.as_bytes().chunks(3) {
        let n = chunk.iter().fold(0u32, |n, &b| (n << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out + ".sig"
}

#[test]
fn a_token_past_its_exp_is_renewed_before_the_rejoin_not_refused_by_the_server() {
    let mut h = Harness::new(config());
    let exp = h.clock().wall / 1000 + 4;
    h.give_token(Ok(&jwt_expiring(exp)));
    h.session.set_auth(jwt_expiring(exp), h.clock());
    h.subscribe(None);
    h.subscribe(Some("a"));
    h.subscribe(Some("b"));
    h.advance(1_000);
    assert_eq!(h.session.status(), Status::Connected);
    // Supabase answers a join with an expired token after 5 s, one join at a time.
    h.join_error_delay_ms = 5_000;
    h.join_policy = Box::new(move |_, payload| {
        let token = payload.get("access_token").and_then(Value::as_str)?;
        Some(
            if token.contains(".sig") && token != jwt_expiring(exp + 3600) {
                Err("InvalidJWTToken: Token has expired 5 seconds ago".into())
            } else {
                Ok(())
            },
        )
    });
    // Down across the expiry (a laptop lid closed): the session comes back after it.
    h.server_up = false;
    h.drop_connection();
    let requests = h.token_requests;
    h.advance(5_000);
    h.server_up = true;
    let back = h.now;
    while h.session.status() != Status::Connected && h.now < back + 60_000 {
        if h.token_requests > requests && h.access_tokens.is_empty() {
            h.give_token(Ok(&jwt_expiring(exp + 3600)));
        }
        h.advance(100);
    }
    assert_eq!(h.session.status(), Status::Connected);
    assert!(
        h.now - back <= 2_000,
        "connected {} ms after the server came back",
        h.now - back
    );
    let stale = jwt_expiring(exp);
    let rejoins_with_stale = h
        .joins
        .iter()
        .filter(|(_, p)| p.get("access_token").and_then(Value::as_str) == Some(stale.as_str()))
        .count();
    assert_eq!(
        rejoins_with_stale, 3,
        "only the first joins carried the old token"
    );
}

#[test]
fn a_browser_clock_hours_ahead_still_joins_with_what_get_access_token_gives() {
    let mut h = Harness::new(config());
    // The browser's clock runs 2 h ahead of the issuer's and the server's.
    h.browser_skew = 2 * 3600 * 1000;
    let exp = h.true_time() / 1000 + 3600;
    h.session.set_auth(jwt_expiring(exp), h.clock());
    h.subscribe(None);
    for _ in 0..50 {
        if h.session.status() == Status::Connected {
            break;
        }
        // The app's getAccessToken gives the token it holds, valid by the issuer's clock.
        h.give_token(Ok(&jwt_expiring(exp)));
        h.advance(100);
    }
    assert_eq!(h.session.status(), Status::Connected);
    assert!(
        h.token_requests <= 1,
        "{} token requests for a token the local clock calls expired",
        h.token_requests
    );
    assert!(
        !h.errors
            .iter()
            .any(|e| matches!(e, SessionError::Token { .. })),
        "{:?}",
        h.errors
    );
}
