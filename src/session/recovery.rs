//! Nothing lost across gaps (docs/design.md, "No lost updates"): broadcasts into the pipeline,
//! where a replay starts, when it has covered the gap, and the resync when it cannot.
//!
//! Supabase replays the kept messages whose `inserted_at` (the database's clock at the start of
//! the publishing transaction) is at least `since`, the newest `limit` of them, oldest first
//! (docs/supabase-server-behaviour.md). So `since` is chosen from what the browser knows for
//! sure: the local time its gap began (the last frame received), moved earlier by how far
//! behind their arrival events' `at` have run lately (a producer clock behind ours, long
//! transactions), bounded, then by a small overlap that dedup removes. An event's `at` can only
//! move the replay point earlier, never past the local clock: a clock ahead, or a payload dated
//! 2099, costs nothing.

use super::channel::{Channel, Coverage, PendingResync, Phase, ReplayPlan};
use super::live::Live;
use super::types::{ResyncCause, SessionError};
use crate::cache::{CacheAction, KeyElem, QueryKey, RefetchType, RuleSet};
use crate::catalog::EventKind;
use crate::clock::Now;
use crate::inspect::Fate;
use crate::json::Value;
use crate::pipeline::Outcome;
use crate::protocol::{Broadcast, BroadcastPayload, Vsn};

/// How long one bucket of the skew estimate covers: the estimate is the lowest lag of the last
/// five to ten minutes, so it follows a clock that is corrected.
const SKEW_BUCKET_MS: u64 = 300_000;

/// The lowest `at - arrival` (wall ms) seen lately on live events: how far behind the local
/// clock the producers' timestamps run, plus transit. Negative when they lag.
#[derive(Debug, Default)]
pub(super) struct Skew {
    current: Option<i64>,
    previous: Option<i64>,
    started: u64,
}

impl Skew {
    fn observe(&mut self, lag: i64, mono: u64, bound: i64) {
        if mono >= self.started.saturating_add(SKEW_BUCKET_MS) {
            self.previous = self.current.take();
            self.started = mono;
        }
        let lag = lag.clamp(-bound, bound);
        self.current = Some(self.current.map_or(lag, |c| c.min(lag)));
    }

    /// The estimate, if any event was seen lately.
    pub fn low(&self) -> Option<i64> {
        match (self.current, self.previous) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// One invalidation per key family the rules write (`['visit']`, `['table-context']`, ...):
/// what a channel feeds when its missed events cannot be replayed.
pub(super) fn resync_actions(rules: &RuleSet) -> Vec<CacheAction> {
    let mut families: Vec<QueryKey> = Vec::new();
    for &kind in EventKind::ALL {
        for template in rules.templates(kind) {
            if let Some(KeyElem::Literal(first)) = template.key().0.first() {
                let family = QueryKey(vec![first.clone()]);
                if !families.contains(&family) {
                    families.push(family);
                }
            }
        }
    }
    families
        .into_iter()
        .map(|key| CacheAction::Invalidate {
            key,
            refetch: RefetchType::Active,
        })
        .collect()
}

impl Live {
    /// How the channel's next join covers its gap: a replay from a `since`, or a resync.
    pub(super) fn replay_plan(&self, channel: &Channel, now: Now) -> ReplayPlan {
        let from = match channel.coverage {
            Coverage::Gap(from) => from,
            Coverage::Inherited(_) => return ReplayPlan::Resync(ResyncCause::HostChanged),
            Coverage::Unjoined(_) | Coverage::Covered => return ReplayPlan::None,
        };
        // vsn 1.0.0 sockets get no replays (docs/protocol.md §1.2); public channels none at all.
        if !self.config.private || self.config.vsn != Vsn::V2 {
            return ReplayPlan::Resync(ResyncCause::NoReplay);
        }
        if channel.replay_refused {
            return ReplayPlan::Resync(ResyncCause::ReplayRefused);
        }
        // A gap longer than dedup remembers is resynced: a replay's overlap with what came
        // before the gap could no longer be told apart, and would be applied twice.
        let window = self
            .config
            .replay_window_ms
            .min(self.pipeline.dedup().config().ttl_ms);
        if now.wall.saturating_sub(from.wall) > window as i64 {
            return ReplayPlan::Resync(ResyncCause::GapTooOld);
        }
        let bound = self.config.max_skew_ms as i64;
        let lag = self.skew.low().map_or(0, |lag| lag.min(0)).max(-bound);
        ReplayPlan::Since(from.wall + lag - self.config.replay_overlap_ms as i64)
    }

    pub(super) fn broadcast(&mut self, b: Broadcast, now: Now) {
        let Some(channel) = self.channels.get(&b.topic) else {
            return;
        };
        // Kind-4 frames carry no join_ref; a JSON one from an old join is stale.
        let Phase::Joined(joined) = &channel.phase else {
            return;
        };
        if b.join_ref.is_some() && b.join_ref.as_deref() != Some(joined.join_ref.as_str()) {
            return;
        }
        let BroadcastPayload::Json(payload) = b.payload else {
            let reason = format!("binary payload for {} on {}", b.event, b.topic);
            return self.unreadable(reason);
        };
        let replayed = b.meta.as_ref().and_then(|m| m.get("replayed")) == Some(&Value::Bool(true));
        let casino = self.config.casino_id;
        let meta_id = b
            .meta
            .as_ref()
            .and_then(|m| m.get("id"))
            .and_then(Value::as_str);
        let audience = channel.audience;
        let outcome = self
            .pipeline
            .ingest(&b.event, payload, meta_id, casino, audience, now);
        let topic = b.topic.clone();
        if let Some(inspector) = self.inspector.as_deref_mut() {
            let fate = match &outcome {
                Outcome::Applied { .. } => Fate::Applied(self.pipeline.take_keys()),
                Outcome::Duplicate { .. } => Fate::Duplicate,
                Outcome::ForeignCasino { .. } => Fate::Foreign,
                Outcome::Invalid(error) => Fate::Malformed(error.to_string()),
            };
            inspector.event(&topic, &b.event, fate, now.wall);
        }
        match &outcome {
            // Replayed messages are late by nature: they say nothing of the clocks.
            Outcome::Applied { at_micros } if !replayed => {
                let lag = (at_micros / 1000).saturating_sub(now.wall);
                self.skew
                    .observe(lag, now.mono, self.config.max_skew_ms as i64);
            }
            Outcome::Applied { .. } | Outcome::Duplicate { .. } => {}
            Outcome::Invalid(error) => {
                let error = SessionError::InvalidEvent {
                    topic: topic.clone(),
                    error: error.clone(),
                };
                self.report(audience, error);
            }
            Outcome::ForeignCasino { casino_id } => {
                let error = SessionError::ForeignCasino {
                    topic: topic.clone(),
                    event: b.event.clone(),
                    casino_id: *casino_id,
                };
                self.report(audience, error);
            }
        }
        let limit = self.config.replay_limit;
        let Some(channel) = self.channels.get_mut(&topic) else {
            return;
        };
        channel.last_event = Some(now.mono);
        let Phase::Joined(joined) = &mut channel.phase else {
            return;
        };
        if let (true, Some(replay)) = (replayed, joined.replay.as_mut()) {
            replay.received += 1;
            if replay.oldest_known.is_none() {
                replay.oldest_known = Some(outcome == Outcome::Duplicate { copy: true });
            }
            if replay.received >= limit {
                self.settle_replay(&topic, now);
            }
        }
    }

    /// The replay after a rejoin is over (its limit reached, or no more expected): it covered
    /// the gap unless it was full and started after everything this channel had received, in
    /// which case more may have been missed and the channel resyncs.
    pub(super) fn settle_replay(&mut self, topic: &str, now: Now) {
        let limit = self.config.replay_limit;
        let Some(channel) = self.channels.get_mut(topic) else {
            return;
        };
        let Phase::Joined(joined) = &mut channel.phase else {
            return;
        };
        let Some(replay) = joined.replay.take() else {
            return;
        };
        if replay.received >= limit && replay.oldest_known != Some(true) {
            self.resync_channel(topic, ResyncCause::ReplayFull, now);
        } else {
            channel.coverage = Coverage::Covered;
            self.replays += 1;
        }
    }

    /// Missed events cannot be replayed: resync the (joined) channel after a random delay up
    /// to `resyncJitterMs`, or at once without jitter. It stays stale until then.
    pub(super) fn resync_channel(&mut self, topic: &str, cause: ResyncCause, now: Now) {
        let jitter = self.config.resync_jitter_ms;
        if jitter == 0 {
            return self.resync_now(topic, cause, now);
        }
        let at = now.mono + self.rng.up_to(jitter);
        if let Some(Phase::Joined(joined)) = self.channels.get_mut(topic).map(|c| &mut c.phase) {
            joined.resync = Some(PendingResync { at, cause });
        }
    }

    /// The resync itself: invalidate what the channel feeds. The actions join the open window,
    /// so channels resyncing together make one batch, marked `resync`, and each key family is
    /// refetched once in it.
    pub(super) fn resync_now(&mut self, topic: &str, cause: ResyncCause, now: Now) {
        if let Some(channel) = self.channels.get_mut(topic) {
            channel.last_resync = Some(cause);
        }
        // The gap closes when every batch carrying the resync is delivered (`deliver`); with
        // nobody to tell, at once.
        let to = self.audience(topic);
        match self.resync_in_window.iter_mut().find(|(t, _)| t == topic) {
            Some((_, waiting)) => *waiting = waiting.with(to),
            None => self.resync_in_window.push((topic.to_owned(), to)),
        }
        self.pipeline.push_resync(to, self.resync.clone(), now.mono);
        if to.is_empty() {
            self.close_resynced();
        }
        self.resyncs += 1;
    }
}
