//! Nothing lost across gaps (docs/design.md, "No lost updates"): broadcasts into the pipeline,
//! where a replay starts, when it has covered the gap, and the resync when it cannot.
//!
//! Supabase replays the kept messages whose `inserted_at` (the database's clock at the start of
//! the publishing transaction) is at least `since`, the newest `limit` of them, oldest first
//! (docs/supabase-server-behaviour.md). A message committed during a gap by a transaction that
//! began before it carries an `inserted_at` older than the gap, by up to the longest publishing
//! transaction. So `since` is the local time the gap began (the last frame received), moved
//! earlier by `maxDeliveryDelayMs` (the longest time from `inserted_at` to delivery, 2 s by
//! default), and further by how far behind their arrival events' `at` have run lately (a
//! producer clock behind ours), bounded. Nothing here depends on where a producer stamps `at`:
//! its lag can only widen the replay, never narrow it, and a clock ahead or a payload dated 2099
//! costs nothing. Dedup removes the overlap.

use super::channel::{Channel, Coverage, PendingResync, Phase, ReplayPlan};
use super::channels::Channels;
use super::config::SessionConfig;
use super::retry::Rng;
use super::types::ResyncCause;
use crate::audience::{Audience, ClientId};
use crate::cache::{CacheAction, KeyElem, QueryKey, RefetchType, RuleSet};
use crate::catalog::EventKind;
use crate::clock::Now;
use crate::pipeline::Pipeline;
use crate::protocol::Vsn;

/// How long one bucket of the skew estimate covers: the estimate is the lowest lag of the last
/// five to ten minutes, so it follows a clock that is corrected.
const SKEW_BUCKET_MS: u64 = 300_000;

/// The lowest `at - arrival` (wall ms) seen lately on live events: how far behind the local
/// clock the producers' timestamps run, plus transit. Negative when they lag.
#[derive(Debug, Default)]
struct Skew {
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
    fn low(&self) -> Option<i64> {
        match (self.current, self.previous) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// One invalidation per key family the rules write (`['visit']`, `['table-context']`, ...):
/// what a channel feeds when its missed events cannot be replayed.
fn resync_actions(rules: &RuleSet) -> Vec<CacheAction> {
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

/// Replays and resyncs: where a channel's replay starts, when it has covered the gap, and the
/// resyncs of gaps it cannot cover, until every client has them.
#[derive(Debug)]
pub(super) struct Recovery {
    skew: Skew,
    /// What a resync invalidates: every key family the rules write.
    actions: Vec<CacheAction>,
    /// Channels whose resync is in open windows, with the clients whose batches still carry
    /// it: fresh once every one of them is delivered.
    in_window: Vec<(String, Audience)>,
    /// Gaps covered by a replay.
    replays: u64,
    /// Gaps covered by a resync.
    resyncs: u64,
    private: bool,
    vsn: Vsn,
    replay_limit: u32,
    replay_window_ms: u64,
    margin_ms: u64,
    max_skew_ms: u64,
    jitter_ms: u64,
}

impl Recovery {
    pub fn new(rules: &RuleSet, config: &SessionConfig) -> Self {
        Recovery {
            skew: Skew::default(),
            actions: resync_actions(rules),
            in_window: Vec::new(),
            replays: 0,
            resyncs: 0,
            private: config.private,
            vsn: config.vsn,
            replay_limit: config.replay_limit,
            replay_window_ms: config.replay_window_ms,
            margin_ms: config.max_delivery_delay_ms,
            max_skew_ms: config.max_skew_ms,
            jitter_ms: config.resync_jitter_ms,
        }
    }

    /// What a resync or a poll refetches.
    pub fn actions(&self) -> Vec<CacheAction> {
        self.actions.clone()
    }

    /// Gaps covered by a replay, and by a resync.
    pub fn counts(&self) -> (u64, u64) {
        (self.replays, self.resyncs)
    }

    /// How the channel's next join covers its gap: a replay from a `since`, or a resync.
    /// `remembered_ms`: how long dedup remembers an event.
    pub fn plan(&self, channel: &Channel, remembered_ms: u64, now: Now) -> ReplayPlan {
        let from = match channel.coverage {
            Coverage::Gap(from) => from,
            Coverage::Inherited(_) => return ReplayPlan::Resync(ResyncCause::HostChanged),
            Coverage::Unjoined(_) | Coverage::Covered => return ReplayPlan::None,
        };
        // vsn 1.0.0 sockets get no replays (docs/protocol.md §1.2); public channels none at all.
        if !self.private || self.vsn != Vsn::V2 {
            return ReplayPlan::Resync(ResyncCause::NoReplay);
        }
        if channel.replay_refused {
            return ReplayPlan::Resync(ResyncCause::ReplayRefused);
        }
        let bound = self.max_skew_ms as i64;
        let lag = self.skew.low().map_or(0, |lag| lag.min(0)).max(-bound);
        let since = from.wall + lag - self.margin_ms as i64;
        // A replay reaching further back than dedup remembers is resynced: its overlap with
        // what came before the gap could no longer be told apart, and would be applied twice.
        let window = self.replay_window_ms.min(remembered_ms);
        if now.wall.saturating_sub(since) > window as i64 {
            return ReplayPlan::Resync(ResyncCause::GapTooOld);
        }
        ReplayPlan::Since(since)
    }

    /// A live event dated `at_micros` arrived: how far behind the producers' clocks run.
    /// Replayed messages are late by nature and say nothing of the clocks.
    pub fn observe(&mut self, at_micros: i64, now: Now) {
        let lag = (at_micros / 1000).saturating_sub(now.wall);
        self.skew.observe(lag, now.mono, self.max_skew_ms as i64);
    }

    /// A replayed message arrived on the channel (`known`: one it had received before): true
    /// when the replay has all it can hold, and is settled now.
    pub fn replayed(&self, channel: &mut Channel, known: bool) -> bool {
        let Phase::Joined(joined) = &mut channel.phase else {
            return false;
        };
        let Some(replay) = joined.replay.as_mut() else {
            return false;
        };
        replay.received += 1;
        if replay.oldest_known.is_none() {
            replay.oldest_known = Some(known);
        }
        replay.received >= self.replay_limit
    }

    /// The replay after a rejoin is over (its limit reached, or no more expected): it covered
    /// the gap unless it was full and started after everything this channel had received, in
    /// which case more may have been missed and the channel resyncs.
    pub fn settle_replay(
        &mut self,
        topic: &str,
        channels: &mut Channels,
        pipeline: &mut Pipeline,
        now: Now,
        rng: &mut Rng,
    ) {
        let Some(channel) = channels.get_mut(topic) else {
            return;
        };
        let Phase::Joined(joined) = &mut channel.phase else {
            return;
        };
        let Some(replay) = joined.replay.take() else {
            return;
        };
        if replay.received >= self.replay_limit && replay.oldest_known != Some(true) {
            self.resync(topic, ResyncCause::ReplayFull, channels, pipeline, now, rng);
        } else {
            channel.coverage = Coverage::Covered;
            self.replays += 1;
        }
    }

    /// Missed events cannot be replayed: resync the (joined) channel after a random delay up
    /// to `resyncJitterMs`, or at once without jitter. It stays stale until then.
    pub fn resync(
        &mut self,
        topic: &str,
        cause: ResyncCause,
        channels: &mut Channels,
        pipeline: &mut Pipeline,
        now: Now,
        rng: &mut Rng,
    ) {
        if self.jitter_ms == 0 {
            return self.resync_now(topic, cause, channels, pipeline, now);
        }
        let at = now.mono + rng.up_to(self.jitter_ms);
        if let Some(Phase::Joined(joined)) = channels.get_mut(topic).map(|c| &mut c.phase) {
            joined.resync = Some(PendingResync { at, cause });
        }
    }

    /// The resync itself: invalidate what the channel feeds. The actions join the open window,
    /// so channels resyncing together make one batch, marked `resync`, and each key family is
    /// refetched once in it.
    pub fn resync_now(
        &mut self,
        topic: &str,
        cause: ResyncCause,
        channels: &mut Channels,
        pipeline: &mut Pipeline,
        now: Now,
    ) {
        if let Some(channel) = channels.get_mut(topic) {
            channel.last_resync = Some(cause);
        }
        // The gap closes when every batch carrying the resync is delivered (`delivered`); with
        // nobody to tell, at once.
        let to = channels.audience(topic);
        match self.in_window.iter_mut().find(|(t, _)| t == topic) {
            Some((_, waiting)) => *waiting = waiting.with(to),
            None => self.in_window.push((topic.to_owned(), to)),
        }
        pipeline.push_resync(to, self.actions(), now.mono);
        if to.is_empty() {
            self.close_resynced(channels);
        }
        self.resyncs += 1;
    }

    /// A client comes from another host (docs/tabs.md) and may have missed the channel's
    /// events since `missed`. Joined here already, this session's own record is sound and only
    /// this client's gap is unknown, so it alone refetches; else the channel's gap is resynced
    /// once joined. Decided before its join goes out, which reads the coverage.
    pub fn missed(
        &mut self,
        channel: &mut Channel,
        client: Audience,
        missed: Now,
        pipeline: &mut Pipeline,
        now: Now,
    ) {
        let joined = matches!(channel.phase, Phase::Joined(_));
        match channel.coverage {
            _ if joined => {
                pipeline.push_resync(client, self.actions(), now.mono);
                self.resyncs += 1;
            }
            Coverage::Inherited(since) if since.wall <= missed.wall => {}
            _ => channel.coverage = Coverage::Inherited(missed),
        }
    }

    /// `client`'s batch carrying the resyncs in its window went out (or the client is gone): a
    /// resync every client has received closes its channel's gap, if the channel is still
    /// joined (lost meanwhile, its gap stays open for its next join).
    pub fn delivered(&mut self, client: ClientId, channels: &mut Channels) {
        let done = Audience::of(client);
        for (_, waiting) in &mut self.in_window {
            *waiting = waiting.without(done);
        }
        self.close_resynced(channels);
    }

    /// Closes the gaps of the resyncs every client has received.
    fn close_resynced(&mut self, channels: &mut Channels) {
        while let Some(i) = self.in_window.iter().position(|(_, w)| w.is_empty()) {
            let (topic, _) = self.in_window.swap_remove(i);
            if let Some(channel) = channels.get_mut(&topic) {
                if matches!(channel.phase, Phase::Joined(_)) {
                    channel.coverage = Coverage::Covered;
                }
            }
        }
    }
}
