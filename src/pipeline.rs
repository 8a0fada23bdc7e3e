//! One event's way from payload to batch (docs/design.md, "Flow of one event"): catalog validation,
//! the casino guard, dedup, cache rules, the coalescing window. Counted at every step.

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
    /// Seen before: dropped.
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
    /// Batches handed out.
    pub batches: u64,
}

/// Validation, guard, dedup, rules and batching, driven by the caller's clock.
pub struct Pipeline {
    rules: RuleSet,
    dedup: Dedup,
    batcher: Batcher,
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
            batcher: Batcher::new(batch),
            stats: PipelineStats::default(),
            last_keys: None,
        }
    }

    /// Takes one delivery of `event` on a channel of casino `casino`, at `now`.
    pub fn ingest(
        &mut self,
        event: &str,
        payload: Value,
        meta_id: Option<&str>,
        casino: Uuid,
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
        if let Sighting::Seen { copy } = self.dedup.sighting(&event.identity(meta_id), now.mono) {
            self.stats.duplicates += 1;
            self.batcher.note_duplicate();
            return Outcome::Duplicate { copy };
        }
        self.stats.applied += 1;
        let at_micros = event.at_micros();
        let mut actions = self.rules.actions(&event);
        let arrival = now.wall.saturating_mul(1000);
        let allowance = FUTURE_AT_ALLOWANCE_MS * 1000;
        if at_micros > arrival.saturating_add(allowance) {
            for action in &mut actions {
                action.set_at(arrival - allowance);
            }
        }
        if let Some(keys) = &mut self.last_keys {
            keys.clear();
            keys.extend(actions.iter().map(|a| a.key().clone()));
        }
        self.batcher.push(actions, now.mono);
        Outcome::Applied { at_micros }
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

    /// Adds a poll's invalidations (while stale); the batch says `poll`.
    pub fn push_poll(&mut self, actions: Vec<CacheAction>, now: u64) {
        self.batcher.push_poll(actions, now);
    }

    /// Adds a resync's invalidations (they come from no event); the batch says `resync`.
    pub fn push_resync(&mut self, actions: Vec<CacheAction>, now: u64) {
        self.batcher.push_resync(actions, now);
    }

    /// When the open window must be flushed.
    pub fn deadline(&self) -> Option<u64> {
        self.batcher.deadline()
    }

    /// The batch, if its window closed by `now`.
    pub fn poll(&mut self, now: u64) -> Option<CacheBatch> {
        let batch = self.batcher.poll(now);
        self.stats.batches += u64::from(batch.is_some());
        batch
    }

    /// Everything pending, now.
    pub fn flush(&mut self, now: u64, reason: BatchReason) -> Option<CacheBatch> {
        let batch = self.batcher.flush(now, reason);
        self.stats.batches += u64::from(batch.is_some());
        batch
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
            p.ingest(name, outbox(None, 1), None, casino, now),
            Outcome::Applied { .. }
        ));
        assert!(matches!(
            p.ingest(name, outbox(Some(CASINO), 2), None, casino, now),
            Outcome::Applied { .. }
        ));
        let other = "22222222-2222-4222-8222-222222222222";
        assert_eq!(
            p.ingest(name, outbox(Some(other), 3), None, casino, now),
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
                at(1)
            ),
            Outcome::Duplicate { copy: false }
        );
        let other = "22222222-2222-4222-8222-222222222222";
        assert!(matches!(
            p.ingest("table.deactivated", payload(other), None, casino, at(2)),
            Outcome::ForeignCasino { .. }
        ));
        assert!(matches!(
            p.ingest("table.deactivated", Value::Null, None, casino, at(3)),
            Outcome::Invalid(_)
        ));
        assert!(matches!(
            p.ingest("nope", payload(CASINO), None, casino, at(4)),
            Outcome::Invalid(_)
        ));
        assert_eq!(p.poll(100), None);
        let batch = p.poll(250).unwrap();
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
            Now::new(0, wall),
        );
        assert!(matches!(outcome, Outcome::Applied { .. }));
        assert_eq!(p.poll(1_000).map(|b| b.actions.len()), Some(1));
        // A write dated a minute later by a sane clock is newer than the 2099 one's arrival.
        let later = balance("2025-12-20T10:01:00Z", 250);
        p.ingest(
            "loyalty.balance_updated",
            later,
            None,
            casino,
            Now::new(60_000, wall + 60_000),
        );
        let batch = p
            .poll(61_000)
            .expect("the later write is not dropped as stale");
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
            Now::new(62_000, wall + 62_000),
        );
        assert_eq!(p.poll(63_000), None);
    }
}
