//! The session state machine on a simulated clock: every row of the join-outcome table,
//! heartbeat loss, reconnect with rejoin, replay and resync, dedup across feeds and reconnects,
//! the casino guard, ref-counting.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use casino_realtime::json::Value;
use casino_realtime::session::{ChannelState, ResyncCause, SessionError, Status};
use common::fake_server::{config, Harness, CASINO};
use common::{fixture, with};

fn list() -> String {
    Harness::topic(None)
}

fn event_at(event: &str, at: &str) -> Value {
    with(fixture(event), "at", Some(Value::from(at)))
}

#[test]
fn subscribing_connects_and_joins_with_the_token() {
    let mut h = Harness::new(config());
    assert_eq!(
        h.session.deadline(),
        None,
        "nothing subscribed, nothing to do"
    );
    h.subscribe(None);
    assert_eq!(h.opens, 1);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(h.statuses, [Status::Connected]);
    let (topic, payload) = &h.joins[0];
    assert_eq!(topic, &list());
    assert_eq!(
        payload.get("access_token").and_then(Value::as_str),
        Some("token-1")
    );
    let config = payload.get("config").unwrap();
    assert_eq!(config.get("private"), Some(&Value::Bool(true)));
    assert_eq!(
        config.get("broadcast").unwrap().get("replay"),
        None,
        "nothing to replay on a first join"
    );
}

#[test]
fn denials_are_reported_once_and_retried_only_on_a_long_backoff() {
    for reason in [
        "Unauthorized: You do not have permissions to read from this Channel topic: x",
        "PrivateOnly: This project only allows private channels",
        "MalformedJWT: The token provided is not a valid JWT",
        "JwtSignatureError: Failed to validate JWT signature",
    ] {
        let mut h = Harness::new(config());
        let r = reason.to_owned();
        h.join_policy = Box::new(move |_, _| Some(Err(r.clone())));
        h.subscribe(None);
        assert_eq!(h.state_of(&list()), Some(ChannelState::Denied), "{reason}");
        assert_eq!(h.statuses.last(), Some(&Status::Denied));
        assert!(
            matches!(&h.errors[..], [SessionError::Denied { reason: got, .. }] if got == reason)
        );
        h.advance(50_000);
        assert_eq!(h.joins.len(), 1, "{reason}: no retry loop");
        h.advance(30 * 60 * 1000);
        let joins = h.joins.len();
        assert!(
            (2..=10).contains(&joins),
            "{reason}: {joins} joins in half an hour"
        );
        assert_eq!(h.errors.len(), 1, "the same refusal is not reported again");
        assert_eq!(h.statuses.last(), Some(&Status::Denied));
        assert_eq!(h.state_of(&list()), Some(ChannelState::Denied));
    }
}

#[test]
fn an_expired_token_at_join_is_refreshed_once_for_all_channels() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|_, payload| {
        let token = payload
            .get("access_token")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Some(if token == "token-2" {
            Ok(())
        } else {
            Err("InvalidJWTToken: Token has expired 3 seconds ago".into())
        })
    });
    h.subscribe(None);
    h.subscribe(Some("table-1"));
    assert_eq!(h.token_requests, 1, "single flight");
    assert_eq!(h.state_of(&list()), Some(ChannelState::AwaitingToken));
    assert_eq!(h.statuses.last(), Some(&Status::AwaitingToken));
    h.give_token(Ok("token-2"));
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(
        h.state_of(&Harness::topic(Some("table-1"))),
        Some(ChannelState::Joined)
    );
    assert_eq!(h.statuses.last(), Some(&Status::Connected));
}

#[test]
fn a_failed_or_useless_refresh_is_retried_with_backoff_not_denied() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|_, payload| {
        let token = payload.get("access_token").and_then(Value::as_str);
        Some(if token == Some("good") {
            Ok(())
        } else {
            Err("InvalidJWTToken: Token has expired 1 seconds ago".into())
        })
    });
    h.subscribe(None);
    assert_eq!(h.token_requests, 1);
    h.give_token(Err("offline"));
    assert_eq!(h.state_of(&list()), Some(ChannelState::AwaitingToken));
    assert!(h
        .errors
        .iter()
        .any(|e| matches!(e, SessionError::Token { reason } if reason == "offline")));
    h.advance(2_000);
    assert_eq!(h.token_requests, 2, "asked again after a backoff");
    h.give_token(Ok("token-1"));
    assert!(
        h.errors.iter().any(
            |e| matches!(e, SessionError::Token { reason } if reason.contains("gave back the token that expired"))
        ),
        "{:?}",
        h.errors
    );
    assert_eq!(
        h.joins.len(),
        1,
        "the same expired token is not tried again"
    );
    h.advance(5_000);
    assert_eq!(h.token_requests, 3);
    // A fresh token that is expired too: asked again, after a backoff.
    h.give_token(Ok("token-2"));
    assert_eq!(h.joins.len(), 2);
    assert_eq!(h.token_requests, 3, "not at once");
    h.advance(5_000);
    assert_eq!(h.token_requests, 4);
    h.give_token(Ok("good"));
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(h.statuses.last(), Some(&Status::Connected));
    assert!(!h.statuses.contains(&Status::Denied));
}

#[test]
fn transient_failures_retry_with_backoff_and_report_degraded() {
    let mut h = Harness::new(config());
    let mut attempts = 0;
    h.join_policy = Box::new(move |_, _| {
        attempts += 1;
        Some(if attempts <= 4 {
            Err("RealtimeRestarting: Realtime is restarting, please standby".into())
        } else {
            Ok(())
        })
    });
    h.subscribe(None);
    assert_eq!(h.joins.len(), 1);
    h.advance(5 * 60 * 1000);
    assert_eq!(h.joins.len(), 5);
    assert!(h.statuses.contains(&Status::Degraded), "{:?}", h.statuses);
    assert_eq!(h.statuses.last(), Some(&Status::Connected));
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
}

#[test]
fn an_unanswered_join_is_left_and_retried() {
    let mut h = Harness::new(config());
    let mut answered = false;
    h.join_policy = Box::new(move |_, _| {
        let first = !answered;
        answered = true;
        if first {
            None
        } else {
            Some(Ok(()))
        }
    });
    h.subscribe(None);
    h.advance(10_000);
    assert_eq!(h.leaves, [list()], "the timed-out join is left");
    h.advance(60_000);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
}

#[test]
fn server_closes_are_handled_by_reason() {
    // Expiry while joined: refresh, then rejoin.
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.server_shutdown(&list(), "Token has expired 0 seconds ago");
    assert_eq!(h.token_requests, 1);
    h.give_token(Ok("token-2"));
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(
        h.joins[1].1.get("access_token").and_then(Value::as_str),
        Some("token-2")
    );

    // Rate limit: retry later, no token needed.
    h.server_shutdown(&list(), "Too many messages per second");
    assert_eq!(h.state_of(&list()), Some(ChannelState::Retrying));
    h.advance(61_000);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));

    // Permission revoked: denied.
    h.server_shutdown(
        &list(),
        &format!("You no longer have permission to read from this Channel topic: {CASINO}"),
    );
    assert_eq!(h.state_of(&list()), Some(ChannelState::Denied));
    assert_eq!(h.token_requests, 1);
}

#[test]
fn a_crashed_channel_rejoins() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    let jr = h.join_refs[&list()].clone();
    h.push_message(
        Some(&jr),
        Some(&jr),
        &list(),
        "phx_error",
        common::j(r#"{"reason":"channel_crash"}"#),
    );
    h.pump();
    assert_eq!(h.state_of(&list()), Some(ChannelState::Retrying));
    h.advance(60_000);
    assert_eq!(
        (h.joins.len(), h.state_of(&list())),
        (2, Some(ChannelState::Joined))
    );
}

#[test]
fn heartbeat_loss_reconnects_and_rejoins() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.advance(60_000);
    assert_eq!(h.opens, 1, "answered heartbeats keep the connection");
    h.answer_heartbeats = false;
    h.advance(60_000);
    assert_eq!(h.closes, ["heartbeat timeout"]);
    assert!(h.opens >= 2);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert!(h.statuses.contains(&Status::Reconnecting));
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
    // From the last frame received (at START, 10:15:00Z), less the 500 ms overlap: the event's
    // `at` (10:20:00Z, ahead of the local clock) does not move it.
    assert_eq!(replay.to_json(), r#"{"since":1766225699500,"limit":25}"#);
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
fn subscriptions_are_ref_counted_with_a_leave_grace() {
    let mut h = Harness::new(config());
    let a = h.subscribe(Some("slip-1"));
    let b = h.subscribe(Some("slip-1"));
    let topic = Harness::topic(Some("slip-1"));
    assert_eq!(h.joins_of(&topic), 1, "one join for two subscribers");
    h.unsubscribe(a);
    h.unsubscribe(a);
    h.advance(5_000);
    assert!(h.leaves.is_empty(), "still joined for the other subscriber");
    // StrictMode: unmount and mount again within the grace: no leave, no rejoin.
    h.unsubscribe(b);
    let c = h.subscribe(Some("slip-1"));
    h.advance(5_000);
    assert!(h.leaves.is_empty());
    assert_eq!(h.joins_of(&topic), 1);
    h.unsubscribe(c);
    h.advance(5_000);
    assert_eq!(h.leaves, std::slice::from_ref(&topic));
    assert_eq!(h.state_of(&topic), None);
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
fn set_auth_sends_the_new_token_to_joined_channels() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.session.set_auth("token-9".into(), h.clock());
    h.session.set_auth("token-9".into(), h.clock());
    h.pump();
    assert_eq!(h.access_tokens, [(list(), "token-9".to_owned())]);
}

#[test]
fn offline_waits_and_online_reconnects_at_once() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.session.set_online(false, h.clock());
    h.server_up = false;
    h.drop_connection();
    h.advance(10 * 60 * 1000);
    let opens_while_offline = h.opens;
    h.server_up = true;
    h.session.set_online(true, h.clock());
    h.pump();
    assert_eq!(h.opens, opens_while_offline + 1);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
}

#[test]
fn with_only_a_token_callback_the_first_join_waits_for_the_token() {
    let mut h = Harness::with_session(
        common::fake_server::session(config(), None, true),
        casino_realtime::protocol::Vsn::V2,
    );
    h.subscribe(None);
    assert_eq!((h.token_requests, h.joins.len()), (1, 0));
    h.give_token(Ok("from-app"));
    assert_eq!(
        h.joins[0].1.get("access_token").and_then(Value::as_str),
        Some("from-app")
    );
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
}

// Regressions found in review.

#[test]
fn a_due_rejoin_while_offline_does_not_spin() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|_, _| None); // joins time out, so a rejoin is scheduled
    h.subscribe(None);
    h.advance(10_000);
    h.session.set_online(false, h.clock());
    h.server_up = false;
    h.drop_connection();
    h.advance(30 * 60 * 1000); // the harness panics if a deadline keeps firing in the past
    assert!(h.session.deadline().is_some_and(|d| d > h.now));
}

#[test]
fn vsn_1_frames_without_join_ref_still_join_and_gaps_are_resynced() {
    let mut cfg = config();
    cfg.vsn = casino_realtime::protocol::Vsn::V1;
    let mut h = Harness::new(cfg);
    h.subscribe(None);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    h.push_event(
        &list(),
        "table.deactivated",
        &fixture("table.deactivated"),
        None,
    );
    h.drop_connection();
    h.advance(120_000);
    let rejoin = &h.joins.last().unwrap().1;
    assert_eq!(
        rejoin
            .get("config")
            .unwrap()
            .get("broadcast")
            .unwrap()
            .get("replay"),
        None,
        "no replays on vsn 1"
    );
    assert_eq!(
        h.batches
            .iter()
            .filter(|b| b.reason.as_str() == "resync")
            .count(),
        1
    );
    h.server_shutdown(&list(), "Too many messages per second");
    assert_eq!(
        h.state_of(&list()),
        Some(ChannelState::Retrying),
        "a vsn 1 close is recognised"
    );
}

#[test]
fn sockets_that_open_and_die_back_off_and_degrade() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|_, _| None);
    h.subscribe(None);
    for _ in 0..4 {
        h.drop_connection();
        let opens = h.opens;
        h.advance(500);
        assert!(h.opens <= opens + 1);
        h.advance(60_000);
    }
    assert!(h.statuses.contains(&Status::Degraded), "{:?}", h.statuses);
}

#[test]
fn a_token_request_that_never_answers_is_given_up_and_late_answers_ignored() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|_, _| {
        Some(Err(
            "InvalidJWTToken: Token has expired 1 seconds ago".into()
        ))
    });
    h.subscribe(None);
    let first = h.token_request;
    h.advance(10_500);
    assert_eq!(h.state_of(&list()), Some(ChannelState::AwaitingToken));
    assert!(h
        .errors
        .iter()
        .any(|e| matches!(e, SessionError::Token { .. })));
    let joins = h.joins.len();
    h.session.token_result(first, Ok("late".into()), h.clock());
    h.pump();
    assert_eq!(h.joins.len(), joins, "the late answer changes nothing");
    assert_eq!(h.state_of(&list()), Some(ChannelState::AwaitingToken));
}

#[test]
fn a_later_expiry_asks_the_app_again() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.server_shutdown(&list(), "Token has expired 0 seconds ago");
    h.give_token(Ok("token-2"));
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    h.drop_connection();
    h.advance(120_000);
    h.server_shutdown(&list(), "Token has expired 0 seconds ago");
    assert_eq!(h.token_requests, 2, "not denied: the app is asked again");
    h.give_token(Ok("token-3"));
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
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
fn a_socket_stuck_connecting_is_given_up() {
    let mut h = Harness::new(config());
    h.hang_opens = true;
    h.subscribe(None);
    h.advance(10_000);
    assert_eq!(h.closes, ["connect timeout"]);
    h.hang_opens = false;
    h.advance(60_000);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
}

#[test]
fn subscribing_during_backoff_waits_for_it() {
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.server_up = false;
    h.drop_connection();
    let opens = h.opens;
    h.subscribe(Some("late"));
    assert_eq!(h.opens, opens, "no extra connection attempt");
    h.server_up = true;
    h.advance(60_000);
    assert_eq!(
        h.state_of(&Harness::topic(Some("late"))),
        Some(ChannelState::Joined)
    );
}

#[test]
fn the_socket_closes_when_the_last_channel_is_left() {
    let mut h = Harness::new(config());
    let a = h.subscribe(None);
    h.unsubscribe(a);
    h.advance(5_000);
    assert_eq!(h.closes, ["no channels"]);
    let opens = h.opens;
    h.advance(10 * 60 * 1000);
    assert_eq!(h.opens, opens, "not reconnected");
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

/// The channel's `staleSince` in `stats()`.
fn stale_of(h: &Harness, topic: &str) -> Option<i64> {
    h.session
        .stats(h.clock())
        .channels
        .iter()
        .find(|c| c.topic == topic)
        .and_then(|c| c.stale_since)
}

#[test]
fn a_channel_is_stale_until_joined_and_after_a_loss_until_its_gap_is_replayed() {
    let mut h = Harness::new(config());
    // Joins are held back: subscribed but not joined is stale, since the subscription.
    h.join_policy = Box::new(|_, _| None);
    let subscribed = h.clock().wall;
    h.subscribe(None);
    assert_eq!(stale_of(&h, &list()), Some(subscribed));
    assert_eq!(h.session.stats(h.clock()).stale_since, Some(subscribed));
    h.join_policy = Box::new(|_, _| Some(Ok(())));
    h.advance(15_000); // the unanswered join is given up and retried: now answered
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(stale_of(&h, &list()), None, "joined, nothing missed");
    assert_eq!(
        h.stale,
        [Some(subscribed), None],
        "reported when it went stale and fresh"
    );

    // A lost socket: stale from the last frame received, through the rejoin, until the replay
    // settles.
    let payload = event_at("table.deactivated", "2025-12-20T10:20:00Z");
    h.push_event(
        &list(),
        "table.deactivated",
        &payload,
        Some(r#"{"id":"m1"}"#),
    );
    let last_frame = h.clock().wall;
    h.server_up = false;
    h.drop_connection();
    assert_eq!(stale_of(&h, &list()), Some(last_frame));
    h.advance(5_000);
    assert_eq!(
        stale_of(&h, &list()),
        Some(last_frame),
        "the time does not move while down"
    );
    h.server_up = true;
    h.advance(1_500);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(
        stale_of(&h, &list()),
        Some(last_frame),
        "joined, but the replay is not settled"
    );
    h.advance(5_000);
    assert_eq!(stale_of(&h, &list()), None, "replayed");
    assert_eq!(h.stale.last(), Some(&None));
}

#[test]
fn refused_and_token_starved_channels_stay_stale_and_the_manager_reports_the_oldest() {
    let mut h = Harness::new(config());
    h.join_policy = Box::new(|topic, _| {
        if topic.ends_with(":vault") {
            Some(Err(
                "Unauthorized: You do not have permissions to read from this Channel topic: x"
                    .into(),
            ))
        } else {
            Some(Ok(()))
        }
    });
    h.subscribe(None);
    assert_eq!(stale_of(&h, &list()), None);
    h.advance(1_000);
    let refused_at = h.clock().wall;
    let vault_id = h.subscribe(Some("vault"));
    let vault = Harness::topic(Some("vault"));
    assert_eq!(h.state_of(&vault), Some(ChannelState::Denied));
    assert_eq!(
        stale_of(&h, &vault),
        Some(refused_at),
        "refused: never vouched for"
    );
    assert_eq!(h.session.stats(h.clock()).stale_since, Some(refused_at));
    h.advance(60_000);
    assert_eq!(stale_of(&h, &vault), Some(refused_at));

    // The list channel's token expires and nobody can give another: stale from the close.
    let expired_at = h.clock().wall;
    h.server_shutdown(&list(), "Token has expired 0 seconds ago");
    assert_eq!(h.state_of(&list()), Some(ChannelState::AwaitingToken));
    assert_eq!(stale_of(&h, &list()), Some(expired_at));
    assert_eq!(
        h.session.stats(h.clock()).stale_since,
        Some(refused_at),
        "the oldest"
    );
    // Once the refused channel is no longer wanted, the manager is stale for the list only.
    h.unsubscribe(vault_id);
    assert_eq!(h.session.stats(h.clock()).stale_since, Some(expired_at));
    // A fresh token: joined again, the gap replayed, fresh.
    h.session.set_auth("token-2".into(), h.clock());
    h.pump();
    h.advance(10_000);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert_eq!(h.session.stats(h.clock()).stale_since, None);
}

#[test]
fn a_gap_that_cannot_be_replayed_is_stale_until_its_resync() {
    let mut config = config();
    config.private = false;
    let mut h = Harness::new(config);
    h.subscribe(None);
    assert_eq!(stale_of(&h, &list()), None);
    let lost = h.clock().wall;
    h.server_up = false;
    h.drop_connection();
    h.advance(3_000);
    assert_eq!(stale_of(&h, &list()), Some(lost));
    h.server_up = true;
    h.advance(2_000);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    // A public channel cannot replay: its resync goes into the window, and it is fresh.
    assert_eq!(h.resyncs(), 1);
    assert_eq!(stale_of(&h, &list()), None);
    h.advance(1_000);
    assert_eq!(
        h.batches.last().map(|b| b.reason),
        Some(casino_realtime::batch::BatchReason::Resync)
    );
}

#[test]
fn while_stale_a_poll_batch_refetches_what_the_channels_feed_every_period_and_stops_when_fresh() {
    use casino_realtime::batch::BatchReason;
    let polls = |h: &Harness| {
        h.batches
            .iter()
            .filter(|b| b.reason == BatchReason::Poll)
            .count()
    };
    let mut h = Harness::new(config());
    h.subscribe(None);
    h.server_up = false;
    h.drop_connection();
    h.advance(9_000);
    assert_eq!(polls(&h), 0, "not before a whole period");
    h.advance(2_000);
    assert_eq!(polls(&h), 1);
    let poll = h
        .batches
        .iter()
        .find(|b| b.reason == BatchReason::Poll)
        .unwrap();
    let families: Vec<String> = poll
        .actions
        .iter()
        .map(|a| a.key().0.len().to_string())
        .collect();
    assert!(
        families.iter().all(|n| n == "1"),
        "key families, not keys: {families:?}"
    );
    assert!(poll.actions.len() >= 6, "every family the rules write");
    h.advance(20_000);
    assert_eq!(polls(&h), 3, "every 10 s while stale");
    h.server_up = true;
    h.advance(8_000);
    assert_eq!(h.session.stats(h.clock()).stale_since, None, "fresh again");
    let after = polls(&h);
    h.advance(60_000);
    assert_eq!(polls(&h), after, "no polling once fresh");

    // `0` turns it off.
    let mut config = config();
    config.fallback_poll_ms = 0;
    let mut h = Harness::new(config);
    h.subscribe(None);
    h.server_up = false;
    h.drop_connection();
    h.advance(60_000);
    assert_eq!(polls(&h), 0);
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
