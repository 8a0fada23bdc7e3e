//! Helpers the concerns share.

use crate::common;
use crate::common::fake_server::Harness;
use crate::common::{fixture, numbered_fill, numbered_fill_key, with};
use casino_realtime::json::Value;
use std::collections::HashSet;

pub fn list() -> String {
    Harness::topic(None)
}

pub fn event_at(event: &str, at: &str) -> Value {
    with(fixture(event), "at", Some(Value::from(at)))
}

/// The channel's `staleSince` in `stats()`.
pub fn stale_of(h: &Harness, topic: &str) -> Option<i64> {
    h.session
        .stats(h.clock())
        .channels
        .iter()
        .find(|c| c.topic == topic)
        .and_then(|c| c.stale_since)
}

pub fn detail(r: &str) -> String {
    Harness::topic(Some(r))
}

/// Publishes numbered events on the list feed through the database path.
pub struct Feed {
    pub next: u64,
    pub published: Vec<u64>,
    /// When each was published, on the browser's wall clock.
    pub at: Vec<i64>,
    /// The producer's clock minus the true time.
    pub producer_skew: i64,
    /// How long each publishing transaction lasts.
    pub tx_ms: u64,
    /// `at` is written at the end of the transaction (a Server Action that stamps it after its
    /// writes), not at its start.
    pub at_commit: bool,
}

impl Feed {
    pub fn new(producer_skew: i64, tx_ms: u64) -> Self {
        Feed {
            next: 0,
            published: Vec::new(),
            at: Vec::new(),
            producer_skew,
            tx_ms,
            at_commit: false,
        }
    }

    /// As [`Feed::new`], with `at` written at commit.
    pub fn at_commit(producer_skew: i64, tx_ms: u64) -> Self {
        Feed {
            at_commit: true,
            ..Feed::new(producer_skew, tx_ms)
        }
    }

    pub fn publish(&mut self, h: &mut Harness) {
        self.next += 1;
        let written = if self.at_commit { self.tx_ms as i64 } else { 0 };
        let at = h.true_time() + self.producer_skew + written;
        let payload = numbered_fill(self.next, at);
        h.publish(&list(), "table.fill_requested", &payload, self.tx_ms);
        self.published.push(self.next);
        self.at.push(h.clock().wall);
    }

    /// Publishes at `rate` events/s for `ms`, running `fault(h, elapsed)` before each.
    pub fn run(
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
    pub fn lost(&self, h: &Harness) -> Vec<u64> {
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

pub const UNAUTHORIZED: &str =
    "Unauthorized: You do not have permissions to read from this Channel topic: x";

/// Joins with `token` pass; others are refused with `refusal`.
pub fn only_token(token: &'static str, refusal: &'static str) -> common::fake_server::JoinPolicy {
    Box::new(move |_, payload| {
        let given = payload.get("access_token").and_then(Value::as_str);
        Some(if given == Some(token) {
            Ok(())
        } else {
            Err(refusal.into())
        })
    })
}

pub fn refuse_topics(topics: Vec<String>) -> common::fake_server::JoinPolicy {
    Box::new(move |topic, _| {
        Some(if topics.iter().any(|t| t == topic) {
            Err(UNAUTHORIZED.into())
        } else {
            Ok(())
        })
    })
}
