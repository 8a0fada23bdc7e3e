//! One event's way from payload to batch (docs/design.md, "Flow of one event"): catalog validation,
//! the casino guard, dedup, cache rules, the coalescing window. Counted at every step.
//!
//! Each event is parsed, checked and de-duplicated once, however many clients (tabs) the session
//! serves; each client has its own coalescing window, which gets exactly the actions of the
//! events that reached it.

use crate::audience::{Audience, ClientId};
use crate::batch::{BatchConfig, BatchReason, Batcher, CacheBatch};
use crate::cache::{CacheAction, QueryKey, RuleSet};
use crate::catalog::{parse_event_owned, EventError, Uuid};
use crate::clock::Now;
use crate::dedup::{Dedup, DedupConfig, Sighting};
use crate::json::Value;

/// How far ahead of the local clock an event's `at` is believed for last-writer-wins. A write
/// dated further ahead (a payload dated 2099) is ordered as if written this long before its
/// arrival: it cannot freeze a key against later writes, even from producers whose clocks run
/// behind by up to as much.
pub const FUTURE_AT_ALLOWANCE_MS: i64 = 30_000;

/// What became of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// New: its actions are in the open window.
    Applied {
        /// The event's `at`, µs since the epoch, as sent.
        at_micros: i64,
    },
    /// Seen before: dropped (its actions still reach the clients of this channel it had not
    /// reached).
    Duplicate {
        /// This very message (its `meta.id`) was seen, not only the same event on another topic.
        copy: bool,
    },
    /// Refused by the catalog: dropped.
    Invalid(EventError),
    /// Valid, but for another casino than the channel's: dropped.
    ForeignCasino {
        /// The casino the event names.
        casino_id: Uuid,
    },
}

/// Running counts, for `stats()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(
    target_arch = "wasm32",
    derive(tsify::Tsify),
    serde(rename_all = "camelCase")
)]
pub struct PipelineStats {
    /// Deliveries offered.
    #[cfg_attr(target_arch = "wasm32", serde(rename = "eventsReceived"))]
    pub received: u64,
    /// New events whose actions were taken.
    pub applied: u64,
    /// Replays dropped.
    pub duplicates: u64,
    /// Deliveries the catalog refused.
    pub malformed: u64,
    /// Events for another casino.
    pub foreign_casino: u64,
    /// Batches handed out (to every client).
    pub batches: u64,
}

/// Validation, guard, dedup, rules and batching, driven by the caller's clock.
pub struct Pipeline {
    rules: RuleSet,
    dedup: Dedup,
    batch: BatchConfig,
    /// Each client's coalescing window (client 0's from the start).
    batchers: Vec<(ClientId, Batcher)>,
    stats: PipelineStats,
    /// The keys of the last applied event, kept only for the inspector (`keep_keys`).
    last_keys: Option<Vec<QueryKey>>,
}

impl Pipeline {
    /// A pipeline with these rules and limits; `seed` keys the replay filter's table.
    pub fn new(rules: RuleSet, dedup: DedupConfig, batch: BatchConfig, seed: u64) -> Self {
        Pipeline {
            rules,
            dedup: Dedup::new(dedup, seed),
            batch,
            batchers: vec![(0, Batcher::new(batch))],
            stats: PipelineStats::default(),
            last_keys: None,
        }
    }

    /// A window for a new client.
    pub fn add_client(&mut self, client: ClientId) {
        if !self.batchers.iter().any(|(c, _)| *c == client) {
            self.batchers.push((client, Batcher::new(self.batch)));
        }
    }

    /// Drops a client's window, with whatever it held (the client is gone).
    pub fn remove_client(&mut self, client: ClientId) {
        self.batchers.retain(|(c, _)| *c != client);
    }

    fn batchers_of(&mut self, audience: Audience) -> impl Iterator<Item = &mut Batcher> {
        self.batchers
            .iter_mut()
            .filter(move |(c, _)| audience.contains(*c))
            .map(|(_, b)| b)
    }

    /// Takes one delivery of `event` on a channel of casino `casino`, for the clients in
    /// `audience` (those subscribed to the channel), at `now`.
    pub fn ingest(
        &mut self,
        event: &str,
        payload: Value,
        meta_id: Option<&str>,
        casino: Uuid,
        audience: Audience,
        now: Now,
    ) -> Outcome {
        self.stats.received += 1;
        let event = match parse_event_owned(event, payload) {
            Ok(event) => event,
            Err(error) => {
                self.stats.malformed += 1;
                return Outcome::Invalid(error);
            }
        };
        // An event that names no casino (its schema has none) is the channel's casino's.
        if let Some(named) = event.casino_id().filter(|&named| named != casino) {
            self.stats.foreign_casino += 1;
            return Outcome::ForeignCasino { casino_id: named };
        }
        let identity = event.identity(meta_id);
        let at_micros = event.at_micros();
        let (outcome, to) = match self.dedup.sighting(&identity, now.mono, audience) {
            Sighting::Seen { copy, newcomers } => {
                self.stats.duplicates += 1;
                for batcher in self.batchers_of(audience.without(newcomers)) {
                    batcher.note_duplicate();
                }
                (Outcome::Duplicate { copy }, newcomers)
            }
            Sighting::New => {
                self.stats.applied += 1;
                (Outcome::Applied { at_micros }, audience)
            }
        };
        // Nothing new for anyone: the rules are not even run.
        if to.is_empty() {
            return outcome;
        }
        let mut actions = self.rules.actions(&event);
        let arrival = now.wall.saturating_mul(1000);
        let allowance = FUTURE_AT_ALLOWANCE_MS * 1000;
        if at_micros > arrival.saturating_add(allowance) {
            for action in &mut actions {
                action.set_at(arrival - allowance);
            }
        }
        if let (Some(keys), Outcome::Applied { .. }) = (&mut self.last_keys, &outcome) {
            keys.clear();
            keys.extend(actions.iter().map(|a| a.key().clone()));
        }
        self.push_to(to, actions, now.mono, Batcher::push);
        outcome
    }

    /// Gives `actions` to every client in `to`: the last one takes them, the others a copy.
    /// Nothing is allocated for it: this runs for every event.
    fn push_to(
        &mut self,
        to: Audience,
        actions: Vec<CacheAction>,
        now: u64,
        push: fn(&mut Batcher, Vec<CacheAction>, u64),
    ) {
        let Some(last) = self.batchers.iter().rposition(|(c, _)| to.contains(*c)) else {
            return;
        };
        for (client, batcher) in &mut self.batchers[..last] {
            if to.contains(*client) {
                push(batcher, actions.clone(), now);
            }
        }
        push(&mut self.batchers[last].1, actions, now);
    }

    /// Keep (or stop keeping) the keys of the last applied event, for the inspector.
    pub fn keep_keys(&mut self, keep: bool) {
        self.last_keys = keep.then(Vec::new);
    }

    /// The keys of the last applied event (empty unless `keep_keys(true)`).
    pub fn take_keys(&mut self) -> Vec<QueryKey> {
        self.last_keys
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Adds a poll's invalidations (while stale) to `to`'s windows; the batch says `poll`.
    pub fn push_poll(&mut self, to: Audience, actions: Vec<CacheAction>, now: u64) {
        self.push_to(to, actions, now, Batcher::push_poll);
    }

    /// Adds a resync's invalidations (they come from no event) to `to`'s windows; the batch
    /// says `resync`.
    pub fn push_resync(&mut self, to: Audience, actions: Vec<CacheAction>, now: u64) {
        self.push_to(to, actions, now, Batcher::push_resync);
    }

    /// When the first open window must be flushed.
    pub fn deadline(&self) -> Option<u64> {
        self.batchers.iter().filter_map(|(_, b)| b.deadline()).min()
    }

    /// A batch whose window closed by `now`, and its client; call again for the next.
    pub fn poll(&mut self, now: u64) -> Option<(ClientId, CacheBatch)> {
        let batch = self
            .batchers
            .iter_mut()
            .find_map(|(c, b)| b.poll(now).map(|batch| (*c, batch)));
        self.stats.batches += u64::from(batch.is_some());
        batch
    }

    /// Everything pending in `client`'s window, now.
    pub fn flush(&mut self, client: ClientId, now: u64, reason: BatchReason) -> Option<CacheBatch> {
        let (_, batcher) = self.batchers.iter_mut().find(|(c, _)| *c == client)?;
        let batch = batcher.flush(now, reason);
        self.stats.batches += u64::from(batch.is_some());
        batch
    }

    /// The clients with a window, in the order they came.
    pub fn clients(&self) -> impl Iterator<Item = ClientId> + '_ {
        self.batchers.iter().map(|(c, _)| *c)
    }

    /// The counts so far.
    pub fn stats(&self) -> PipelineStats {
        self.stats
    }

    /// The replay filter, for its size and memory.
    pub fn dedup(&self) -> &Dedup {
        &self.dedup
    }

    /// The rules in force.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    const ONE: Audience = Audience::of(0);
    const CASINO: &str = "11111111-1111-4111-8111-111111111111";

    fn payload(casino: &str) -> Value {
        json::parse(&format!(
            r#"{{"casino_id":"{casino}","table_id":"55555555-5555-4555-8555-555555555555","at":"2025-12-20T10:00:00Z"}}"#
        ))
        .unwrap()
    }

    #[test]
    fn an_event_that_names_no_casino_is_its_channels() {
        let casino = Uuid::parse(CASINO).unwrap();
        let mut p = Pipeline::new(
            RuleSet::defaults(),
            DedupConfig::default(),
            BatchConfig::default(),
            1,
        );
        let outbox = |casino: Option<&str>, attempt: u32| {
            let named = casino.map_or(String::new(), |c| format!(r#""casino_id":"{c}","#));
            json::parse(&format!(
                r#"{{{named}"outbox_id":"cccccccc-cccc-4ccc-8ccc-cccccccccccc","ledger_id":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb","event_type":"email.receipt","attempt_count":{attempt},"processed_at":"2025-12-20T10:14:59Z","at":"2025-12-20T10:15:00Z"}}"#
            ))
            .unwrap()
        };
        let now = Now::new(0, 1_766_224_800_000);
        let name = "finance.outbox_processed";
        assert!(matches!(
            p.ingest(name, outbox(None, 1), None, casino, ONE, now),
            Outcome::Applied { .. }
        ));
        assert!(matches!(
            p.ingest(name, outbox(Some(CASINO), 2), None, casino, ONE, now),
            Outcome::Applied { .. }
        ));
        let other = "22222222-2222-4222-8222-222222222222";
        assert_eq!(
            p.ingest(name, outbox(Some(other), 3), None, casino, ONE, now),
            Outcome::ForeignCasino {
                casino_id: Uuid::parse(other).unwrap()
            }
        );
    }

    #[test]
    fn each_step_drops_and_counts_its_own() {
        let casino = Uuid::parse(CASINO).unwrap();
        let mut p = Pipeline::new(
            RuleSet::defaults(),
            DedupConfig::default(),
            BatchConfig::default(),
            1,
        );
        let at = |ms| Now::new(ms, 1_766_224_800_000 + ms as i64);
        assert!(matches!(
            p.ingest(
                "table.deactivated",
                payload(CASINO),
                Some("m1"),
                casino,
                ONE,
                at(0)
            ),
            Outcome::Applied { .. }
        ));
        assert_eq!(
            p.ingest(
                "table.deactivated",
                payload(CASINO),
                Some("m2"),
                casino,
                ONE,
                at(1)
            ),
            Outcome::Duplicate { copy: false }
        );
        let other = "22222222-2222-4222-8222-222222222222";
        assert!(matches!(
            p.ingest(
                "table.deactivated",
                payload(other),
                None,
                casino,
                ONE,
                at(2)
            ),
            Outcome::ForeignCasino { .. }
        ));
        assert!(matches!(
            p.ingest("table.deactivated", Value::Null, None, casino, ONE, at(3)),
            Outcome::Invalid(_)
        ));
        assert!(matches!(
            p.ingest("nope", payload(CASINO), None, casino, ONE, at(4)),
            Outcome::Invalid(_)
        ));
        assert_eq!(poll(&mut p, 100), None);
        let batch = poll(&mut p, 250).unwrap();
        assert_eq!(
            (batch.events, batch.duplicates, batch.actions.len()),
            (1, 1, 2)
        );
        let stats = p.stats();
        assert_eq!(
            (
                stats.received,
                stats.applied,
                stats.duplicates,
                stats.foreign_casino,
                stats.malformed,
                stats.batches
            ),
            (5, 1, 1, 1, 2, 1)
        );
    }

    fn poll(p: &mut Pipeline, now: u64) -> Option<CacheBatch> {
        p.poll(now).map(|(client, batch)| {
            assert_eq!(client, 0);
            batch
        })
    }

    fn balance(at: &str, value: u32) -> Value {
        json::parse(&format!(
            r#"{{"casino_id":"{CASINO}","player_id":"66666666-6666-4666-8666-666666666666","balance":{value},"balance_delta":1,"at":"{at}"}}"#
        ))
        .unwrap()
    }

    #[test]
    fn an_at_from_the_future_does_not_freeze_last_writer_wins() {
        let casino = Uuid::parse(CASINO).unwrap();
        let mut p = Pipeline::new(
            RuleSet::defaults(),
            DedupConfig::default(),
            BatchConfig::default(),
            1,
        );
        // 2025-12-20T10:00:00Z on the local wall clock.
        let wall = 1_766_224_800_000;
        let future = balance("2099-01-01T00:00:00Z", 100);
        let outcome = p.ingest(
            "loyalty.balance_updated",
            future,
            None,
            casino,
            ONE,
            Now::new(0, wall),
        );
        assert!(matches!(outcome, Outcome::Applied { .. }));
        assert_eq!(poll(&mut p, 1_000).map(|b| b.actions.len()), Some(1));
        // A write dated a minute later by a sane clock is newer than the 2099 one's arrival.
        let later = balance("2025-12-20T10:01:00Z", 250);
        p.ingest(
            "loyalty.balance_updated",
            later,
            None,
            casino,
            ONE,
            Now::new(60_000, wall + 60_000),
        );
        let batch = poll(&mut p, 61_000).expect("the later write is not dropped as stale");
        assert_eq!(batch.actions.len(), 1);
        assert_eq!(
            crate::cache::actions_to_json(&batch.actions),
            r#"[{"type":"setQueryData","queryKey":["player","loyalty","balance","66666666-6666-4666-8666-666666666666","11111111-1111-4111-8111-111111111111"],"data":250}]"#
        );
        // Ordinary reordering is still handled by `at`: an older write arriving later is dropped.
        let older = balance("2025-12-20T10:00:30Z", 200);
        p.ingest(
            "loyalty.balance_updated",
            older,
            None,
            casino,
            ONE,
            Now::new(62_000, wall + 62_000),
        );
        assert_eq!(poll(&mut p, 63_000), None);
    }
}
