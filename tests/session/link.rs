//! The connection: opening, heartbeats, losses and their backoff, offline and online, a machine that slept or a page that froze, frames refused for their size, `close()`.

use crate::common::fake_server::{config, Harness};
use crate::support::{detail, list, refuse_topics, Feed};
use casino_realtime::errors::Prop;
use casino_realtime::session::{ChannelState, SessionError, Status};

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

/// The `Refused` errors reported so far: (status, the server's words).
fn refusals(h: &Harness) -> Vec<(u16, String)> {
    let refused = h.errors.iter().filter_map(|e| match e {
        SessionError::Refused { status, said } => Some((*status, said.clone())),
        _ => None,
    });
    refused.collect()
}

#[test]
fn sockets_refused_at_the_upgrade_are_diagnosed_once_per_streak_with_the_servers_words() {
    let mut h = Harness::new(config());
    h.server_up = false;
    h.diagnosis = Some((401, r#"{"error":"Token has expired"}"#.into()));
    h.subscribe(None);
    // A blip: sockets fail for 8 s (more than three of them), then one opens.
    h.advance(8_000);
    assert!(h.opens > 3, "{} opens", h.opens);
    assert!(h.diagnoses.is_empty(), "a blip is not diagnosed");
    h.server_up = true;
    h.advance(5_000);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    assert!(h.diagnoses.is_empty());
    h.server_up = false;
    h.drop_connection();
    h.advance(10 * 60 * 1000);
    assert_eq!(h.diagnoses.len(), 1, "once per streak, however long");
    assert!(
        h.diagnoses[0].starts_with("http://fake/realtime/v1/websocket?apikey=anon-key&vsn="),
        "{}",
        h.diagnoses[0]
    );
    assert_eq!(refusals(&h), [(401, "Token has expired".to_owned())]);
    let report = h.errors.iter().find_map(|e| match e {
        SessionError::Refused { .. } => Some(e.report()),
        _ => None,
    });
    let report = report.unwrap();
    assert_eq!(report.kind.name(), "ConnectionError");
    let reason = report.members.iter().find(|(p, _)| *p == Prop::Reason);
    assert_eq!(reason.map(|(_, v)| v.as_str()), Some("unauthorized"));
    assert!(
        report.to_json().contains(r#""status":401"#),
        "{}",
        report.to_json()
    );
    assert!(report.message.contains("apiKey"), "{}", report.message);
    // A socket opens: the streak is over. The next one gets its own diagnosis.
    h.server_up = true;
    h.advance(60_000);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    h.server_up = false;
    h.diagnosis = Some((503, "no healthy upstream".into()));
    h.drop_connection();
    h.advance(10 * 60 * 1000);
    assert_eq!(h.diagnoses.len(), 2);
    assert_eq!(refusals(&h)[1], (503, "no healthy upstream".to_owned()));
}

#[test]
fn a_diagnosis_answered_after_a_socket_opened_says_nothing() {
    let mut h = Harness::new(config());
    h.server_up = false;
    h.diagnosis = None;
    h.subscribe(None);
    h.advance(5 * 60 * 1000);
    assert_eq!(h.diagnoses.len(), 1);
    h.server_up = true;
    h.advance(60_000);
    assert_eq!(h.state_of(&list()), Some(ChannelState::Joined));
    h.session.diagnosed(0, "Failed to fetch", h.clock());
    h.pump();
    assert_eq!(refusals(&h), [], "the socket that opened answered it");
}

#[test]
fn refusal_reasons_by_status() {
    let reasons = [
        (0, "unreachable"),
        (401, "unauthorized"),
        (403, "forbidden"),
        (404, "not-found"),
        (429, "rate-limited"),
        (500, "server-error"),
        (503, "server-error"),
        (400, "websocket-blocked"),
        (200, "websocket-blocked"),
        (426, "websocket-blocked"),
        (418, "refused"),
    ];
    for (status, reason) in reasons {
        assert_eq!(SessionError::refusal(status), reason, "{status}");
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
