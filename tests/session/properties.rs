//! Property tests over the session: random interleavings of every kind of input (frames,
//! socket open and close, ticks at random times, subscriptions, token answers, page events,
//! server faults, close) against the fake server, with invariants checked after each step:
//! - at most one socket (the harness panics if a second opens while one is open);
//! - no deadline in the past left unserved;
//! - nothing at all comes out after `close()`;
//! - every channel is joined (and the server agrees), on its way with a deadline that will move it, waiting for a
//!   token with a request under way or scheduled, or denied with the server's reason;
//! - no event is applied twice, and every batch's window is within its cap.

use crate::common;
use crate::common::fake_server::{config, Harness};
use crate::common::{numbered_fill, with};
use casino_realtime::dedup::DedupConfig;
use casino_realtime::protocol::Vsn;
use casino_realtime::session::{ChannelState, Session, SessionParts};
use proptest::prelude::*;
use std::collections::HashSet;

#[derive(Debug, Clone)]
enum Op {
    Subscribe(u8),
    Unsubscribe(u8),
    Advance(u32),
    /// Publish a new event on a topic through the database path, with a transaction length.
    Publish(u8, u16),
    /// Publish an event already published, on another topic (the list and a detail feed).
    Republish(u8, u8),
    /// A live broadcast with no id that is a replayed copy of an earlier event.
    Repeat(u8),
    Foreign,
    Garbage,
    Oversized,
    DropConnection,
    ServerUp(bool),
    HalfOpen,
    Shutdown(u8, u8),
    Crash(u8),
    Policy(u8),
    JoinErrorDelay(bool),
    SetAuth(u8),
    TokenAnswer(u8),
    Online(bool),
    Visible(bool),
    Resumed,
    Sleep(u32),
    Flush,
    Close,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..4).prop_map(Op::Subscribe),
        1 => any::<u8>().prop_map(Op::Unsubscribe),
        6 => prop_oneof![0u32..300, 0u32..5_000, 0u32..120_000].prop_map(Op::Advance),
        5 => ((0u8..4), prop_oneof![Just(0u16), 0u16..2_000]).prop_map(|(t, tx)| Op::Publish(t, tx)),
        1 => (any::<u8>(), 0u8..4).prop_map(|(n, t)| Op::Republish(n, t)),
        1 => any::<u8>().prop_map(Op::Repeat),
        1 => Just(Op::Foreign),
        1 => Just(Op::Garbage),
        1 => Just(Op::Oversized),
        2 => Just(Op::DropConnection),
        1 => any::<bool>().prop_map(Op::ServerUp),
        1 => Just(Op::HalfOpen),
        1 => ((0u8..4), (0u8..5)).prop_map(|(t, r)| Op::Shutdown(t, r)),
        1 => (0u8..4).prop_map(Op::Crash),
        1 => (0u8..6).prop_map(Op::Policy),
        1 => any::<bool>().prop_map(Op::JoinErrorDelay),
        1 => (0u8..3).prop_map(Op::SetAuth),
        1 => (0u8..4).prop_map(Op::TokenAnswer),
        1 => any::<bool>().prop_map(Op::Online),
        1 => any::<bool>().prop_map(Op::Visible),
        1 => Just(Op::Resumed),
        1 => (0u32..900_000).prop_map(Op::Sleep),
        1 => Just(Op::Flush),
        1 => Just(Op::Close),
    ]
}

fn topic(i: u8) -> String {
    match i % 4 {
        0 => Harness::topic(None),
        n => Harness::topic(Some(&format!("table-{n}"))),
    }
}

const REASONS: [&str; 5] = [
    "Token has expired 0 seconds ago",
    "Too many messages per second",
    "You no longer have permission to read from this Channel topic: x",
    "Realtime was unable to connect to the project database",
    "Unauthorized: You do not have permissions to read from this Channel topic: x",
];

fn harness() -> Harness {
    let session = Session::new(SessionParts {
        dedup: DedupConfig {
            capacity: 100_000,
            ttl_ms: 365 * 24 * 3600 * 1000,
        },
        token: Some("token-1".into()),
        token_source: true,
        seed: 7,
        ..SessionParts::new(config())
    });
    Harness::with_session(session, Vsn::V2)
}

/// What the run has done, for the invariants.
#[derive(Default)]
struct Book {
    subscriptions: Vec<u64>,
    published: Vec<(String, u64)>,
    closed: bool,
    outputs_at_close: (usize, usize, usize),
    next: u64,
}

fn apply(h: &mut Harness, book: &mut Book, op: &Op) {
    let now = h.clock();
    match op {
        Op::Subscribe(t) => {
            let resource = (t % 4 != 0).then(|| format!("table-{}", t % 4));
            if let Some(id) = h.session.subscribe(resource.as_deref(), now) {
                book.subscriptions.push(id);
            }
        }
        Op::Unsubscribe(i) => {
            if !book.subscriptions.is_empty() {
                let id = book.subscriptions[*i as usize % book.subscriptions.len()];
                h.session.unsubscribe(id, now);
            }
        }
        Op::Advance(ms) => h.advance(u64::from(*ms)),
        Op::Publish(t, tx) => {
            book.next += 1;
            let payload = numbered_fill(book.next, h.true_time());
            h.publish(&topic(*t), "table.fill_requested", &payload, u64::from(*tx));
            book.published.push((topic(*t), book.next));
        }
        Op::Republish(n, t) => {
            // The same event again (same request, same `at`) on another topic, as the list and
            // a detail feed both carry it: a new `meta.id`, the same identity.
            let copy = h.kept.get(*n as usize % h.kept.len().max(1)).cloned();
            if let Some(kept) = copy {
                h.publish(&topic(*t), &kept.event, &kept.payload, 0);
            }
        }
        Op::Repeat(n) => {
            if let Some(kept) = h.kept.get(*n as usize % h.kept.len().max(1)).cloned() {
                let meta = format!(r#"{{"id":"{}"}}"#, kept.id);
                h.push_event(&kept.topic, &kept.event, &kept.payload, Some(&meta));
            }
        }
        Op::Foreign => {
            let payload = with(
                numbered_fill(999_999, h.true_time()),
                "casino_id",
                Some("22222222-2222-4222-8222-222222222222".into()),
            );
            h.push_event(&topic(0), "table.fill_requested", &payload, None);
        }
        Op::Garbage => {
            if let Some(socket) = h.socket {
                h.session.text_frame(socket, "{not a frame", now);
                h.session.binary_frame(socket, &[4, 200, 1], now);
            }
        }
        Op::Oversized => {
            if let Some(socket) = h.socket {
                h.session.frame_refused(socket, 7_000_000, now);
            }
        }
        Op::DropConnection => h.drop_connection(),
        Op::ServerUp(up) => h.server_up = *up,
        Op::HalfOpen => h.half_open = true,
        Op::Shutdown(t, r) => {
            if h.joined.contains_key(&topic(*t)) && !h.half_open {
                h.server_shutdown(&topic(*t), REASONS[*r as usize % REASONS.len()]);
            }
        }
        Op::Crash(t) => {
            let t = topic(*t);
            if let (Some((jr, _)), false) = (h.joined.get(&t).cloned(), h.half_open) {
                h.joined.remove(&t);
                let payload = common::j(r#"{"reason":"channel_crash"}"#);
                h.push_message(Some(&jr), Some(&jr), &t, "phx_error", payload);
            }
        }
        Op::Policy(p) => {
            h.join_policy = match p {
                0 | 1 => Box::new(|_, _| Some(Ok(()))),
                2 => Box::new(|_, _| Some(Err(REASONS[4].into()))),
                3 => Box::new(|_, payload| {
                    let token = payload.get("access_token").and_then(|t| t.as_str());
                    Some(if token == Some("token-1") {
                        Err("InvalidJWTToken: Token has expired 3 seconds ago".into())
                    } else {
                        Ok(())
                    })
                }),
                4 => Box::new(|_, _| None),
                _ => Box::new(|_, _| {
                    Some(Err(
                        "ClientJoinRateLimitReached: Too many joins per second".into()
                    ))
                }),
            }
        }
        Op::JoinErrorDelay(on) => h.join_error_delay_ms = if *on { 5_000 } else { 0 },
        Op::SetAuth(n) => h.session.set_auth(format!("token-{n}"), now),
        Op::TokenAnswer(n) => {
            let answer = match n {
                0 => Ok("token-fresh".to_owned()),
                1 => Ok("token-1".to_owned()),
                2 => Ok(String::new()),
                _ => Err("signed out".to_owned()),
            };
            h.session.token_result(h.token_request, answer, now);
        }
        Op::Online(on) => h.session.set_online(*on, now),
        Op::Visible(on) => h.session.set_visible(*on, now),
        Op::Resumed => h.session.resumed(now),
        Op::Sleep(ms) => {
            h.slept += i64::from(*ms);
            h.session.tick(h.clock());
        }
        Op::Flush => h.session.flush(now),
        Op::Close => {
            h.session.close(now);
            h.pump();
            book.closed = true;
            book.outputs_at_close = (h.batches.len(), h.statuses.len(), h.errors.len());
        }
    }
    h.pump();
}

fn check(h: &Harness, book: &Book, op: &Op) -> Result<(), TestCaseError> {
    let deadline = h.session.deadline();
    prop_assert!(
        !deadline.is_some_and(|d| d <= h.now),
        "after {op:?}: deadline {deadline:?} at {} left unserved",
        h.now
    );
    if book.closed {
        prop_assert_eq!(deadline, None);
        prop_assert_eq!(
            (h.batches.len(), h.statuses.len(), h.errors.len()),
            book.outputs_at_close,
            "output after close"
        );
        return Ok(());
    }
    let stats = h.session.stats(h.clock());
    for channel in &stats.channels {
        match channel.state {
            // Joined as far as the server knows, on the socket that is open.
            ChannelState::Joined => prop_assert!(
                !h.quiet() || h.socket.is_some() && h.joined.contains_key(&channel.topic),
                "after {op:?}: {channel:?} reads joined but the server has no such join"
            ),
            ChannelState::Denied => {
                prop_assert!(
                    channel.reason.is_some(),
                    "denied without a reason: {channel:?}"
                )
            }
            ChannelState::Joining | ChannelState::Retrying | ChannelState::AwaitingToken => {
                prop_assert!(
                    deadline.is_some(),
                    "after {op:?}: {channel:?} with nothing due to move it"
                )
            }
        }
    }
    let distinct: HashSet<u64> = book.published.iter().map(|(_, n)| *n).collect();
    prop_assert!(
        stats.pipeline.applied <= distinct.len() as u64,
        "{} applied of {} distinct events",
        stats.pipeline.applied,
        distinct.len()
    );
    let in_batches: u64 = h.batches.iter().map(|b| u64::from(b.events)).sum();
    prop_assert!(in_batches <= stats.pipeline.applied);
    for batch in &h.batches {
        let window = batch.flushed_at.checked_sub(batch.opened_at);
        prop_assert!(
            window.is_some_and(|w| w <= 500),
            "a window of {window:?} ms"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_interleaving_of_inputs_keeps_the_invariants(ops in prop::collection::vec(op(), 1..120)) {
        let mut h = harness();
        let mut book = Book::default();
        for op in &ops {
            apply(&mut h, &mut book, op);
            check(&h, &book, op)?;
        }
        // Whatever happened, once the faults stop a subscribed session ends up joined.
        if !book.closed {
            h.server_up = true;
            h.half_open = false;
            h.answer_heartbeats = true;
            h.join_error_delay_ms = 0;
            h.join_policy = Box::new(|_, _| Some(Ok(())));
            h.session.set_online(true, h.clock());
            h.session.set_auth("token-final".into(), h.clock());
            h.pump();
            h.advance(30 * 60_000);
            let stats = h.session.stats(h.clock());
            for channel in &stats.channels {
                prop_assert_eq!(channel.state, ChannelState::Joined, "{:?} after {:?}", channel, ops);
            }
        }
    }
}
