//! One event's way from payload to batch (docs/design.md, "Flow of one event"): catalog validation,
//! the casino guard, dedup, cache rules, the coalescing window. Counted at every step.

use crate::batch::{BatchConfig, BatchReason, Batcher, CacheBatch};
use crate::cache::{CacheAction, RuleSet};
use crate::catalog::{parse_event, EventError, Uuid};
use crate::dedup::{Dedup, DedupConfig};
use crate::json::Value;

/// What became of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// New: its actions are in the open window.
    Applied,
    /// Seen before: dropped.
    Duplicate,
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
pub struct PipelineStats {
    /// Deliveries offered.
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
}

impl Pipeline {
    /// A pipeline with these rules and limits.
    pub fn new(rules: RuleSet, dedup: DedupConfig, batch: BatchConfig) -> Self {
        Pipeline {
            rules,
            dedup: Dedup::new(dedup),
            batcher: Batcher::new(batch),
            stats: PipelineStats::default(),
        }
    }

    /// Takes one delivery of `event` on a channel of casino `casino`, at `now` (ms).
    pub fn ingest(
        &mut self,
        event: &str,
        payload: &Value,
        meta_id: Option<&str>,
        casino: Uuid,
        now: u64,
    ) -> Outcome {
        self.stats.received += 1;
        let event = match parse_event(event, payload) {
            Ok(event) => event,
            Err(error) => {
                self.stats.malformed += 1;
                return Outcome::Invalid(error);
            }
        };
        if event.casino_id() != casino {
            self.stats.foreign_casino += 1;
            return Outcome::ForeignCasino {
                casino_id: event.casino_id(),
            };
        }
        if !self.dedup.first_sighting(&event.identity(meta_id), now) {
            self.stats.duplicates += 1;
            self.batcher.note_duplicate();
            return Outcome::Duplicate;
        }
        self.stats.applied += 1;
        self.batcher.push(self.rules.actions(&event), now);
        Outcome::Applied
    }

    /// Adds actions that come from no event (a resync's invalidations).
    pub fn push_actions(&mut self, actions: Vec<CacheAction>, now: u64) {
        self.batcher.push(actions, now);
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
    fn each_step_drops_and_counts_its_own() {
        let casino = Uuid::parse(CASINO).unwrap();
        let mut p = Pipeline::new(
            RuleSet::defaults(),
            DedupConfig::default(),
            BatchConfig::default(),
        );
        assert_eq!(
            p.ingest("table.deactivated", &payload(CASINO), Some("m1"), casino, 0),
            Outcome::Applied
        );
        assert_eq!(
            p.ingest("table.deactivated", &payload(CASINO), Some("m2"), casino, 1),
            Outcome::Duplicate
        );
        let other = "22222222-2222-4222-8222-222222222222";
        assert!(matches!(
            p.ingest("table.deactivated", &payload(other), None, casino, 2),
            Outcome::ForeignCasino { .. }
        ));
        assert!(matches!(
            p.ingest("table.deactivated", &Value::Null, None, casino, 3),
            Outcome::Invalid(_)
        ));
        assert!(matches!(
            p.ingest("nope", &payload(CASINO), None, casino, 4),
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
}
