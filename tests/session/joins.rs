//! Joins and what the server answers: every row of the join-outcome table (refusals, closes, crashes, rate limits, timeouts), answered late and one at a time as Supabase does.

use crate::common;
use crate::common::fake_server::{config, Harness, CASINO, MONO0};
use crate::common::fixture;
use crate::support::{list, only_token, UNAUTHORIZED};
use casino_realtime::json::Value;
use casino_realtime::session::{ChannelState, SessionError, Status};

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
