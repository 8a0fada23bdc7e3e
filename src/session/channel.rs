//! A channel: who wants it, where it is in joining, and what its events' coverage is. Each phase
//! holds its own data, so a channel cannot be, say, joined and backing off at once.

use super::types::{ChannelState, ChannelStats, ResyncCause};
use crate::audience::Audience;
use crate::clock::Now;

/// One channel.
#[derive(Debug)]
pub(super) struct Channel {
    pub topic: String,
    pub demand: Demand,
    /// The clients its events are for: those holding it, or during the leave grace the last
    /// ones that did.
    pub audience: Audience,
    pub phase: Phase,
    pub coverage: Coverage,
    /// Consecutive failed joins, for the backoff; reset once a join held.
    pub failures: u32,
    /// The server refused a replay on this channel: join without one, and resync.
    pub replay_refused: bool,
    /// When its last event arrived (monotonic).
    pub last_event: Option<u64>,
    /// Why its last gap was resynced rather than replayed.
    pub last_resync: Option<ResyncCause>,
}

/// How a join covers the channel's gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReplayPlan {
    /// No gap: nothing to cover.
    None,
    /// A replay from this `since` (unix ms).
    Since(i64),
    /// The gap cannot be replayed: a resync once joined.
    Resync(ResyncCause),
}

/// Who holds the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Demand {
    /// This many subscriptions (at least one).
    Wanted(u32),
    /// None since a moment ago: left at `until` unless subscribed again.
    Releasing { until: u64 },
}

#[derive(Debug)]
pub(super) enum Phase {
    /// Joins as soon as the socket is open and a token is in hand.
    Pending,
    Joining(Joining),
    Joined(Joined),
    /// After a failure: joins again at `until`.
    BackingOff {
        until: u64,
        reason: String,
    },
    /// The token expired: waits for a fresh one (`setAuth`, or `getAccessToken`).
    AwaitingToken {
        reason: String,
    },
    /// Refused. Tried again at `retry_at` (`None`: as soon as the socket is open), or at once
    /// after `setAuth` or a new `subscribe`.
    Refused {
        reason: String,
        retry_at: Option<u64>,
    },
}

#[derive(Debug)]
pub(super) struct Joining {
    pub join_ref: String,
    pub deadline: u64,
    /// The token generation it carried.
    pub token: u64,
    /// How its gap, if any, is to be covered.
    pub replay: ReplayPlan,
    /// It tries a channel refused for this reason: the channel still reads `denied`.
    pub retry_of: Option<String>,
}

#[derive(Debug)]
pub(super) struct Joined {
    pub join_ref: String,
    /// When the join succeeded (monotonic).
    pub since: u64,
    /// The token generation it carried.
    pub token: u64,
    /// The replay under way, if one was asked for.
    pub replay: Option<Replay>,
    /// The last `system` error, which explains the `phx_close` that follows it.
    pub system: Option<String>,
    /// A resync decided but not yet made: spread over `resyncJitterMs` so a fleet recovering
    /// together does not refetch in the same second. It lives in `Joined`, so a channel lost
    /// meanwhile drops it and decides again at its next join; the gap stays open until it runs.
    pub resync: Option<PendingResync>,
}

/// A resync waiting for its moment.
#[derive(Debug, Clone, Copy)]
pub(super) struct PendingResync {
    /// When (monotonic).
    pub at: u64,
    /// Why the gap could not be replayed.
    pub cause: ResyncCause,
}

/// A replay after a rejoin: replayed messages counted until the replay settles.
#[derive(Debug)]
pub(super) struct Replay {
    pub received: u32,
    /// Whether the oldest replayed message was one this channel had received: then the replay
    /// reached back into what was seen, even if it was full.
    pub oldest_known: Option<bool>,
    /// When no more replayed messages are expected.
    pub settle_at: u64,
}

/// Whether the cache reflects the channel's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Coverage {
    /// Never joined since it was subscribed at this time: nothing to recover (the app's first
    /// fetch is the starting point), but nothing vouches for the cache either.
    Unjoined(Now),
    /// Joined, and nothing missed.
    Covered,
    /// Events may have been missed since this time (the last proof that it was receiving).
    Gap(Now),
    /// Events may have been missed since this time under another host (a tab that led the
    /// others and is gone): what that host applied is unknown here, so a replay's overlap could
    /// not be told apart; the gap is resynced once joined.
    Inherited(Now),
}

impl Coverage {
    /// Never joined.
    pub fn unjoined(self) -> bool {
        matches!(self, Coverage::Unjoined(_))
    }
}

impl Channel {
    pub fn new(topic: String, now: Now) -> Self {
        Channel {
            topic,
            demand: Demand::Wanted(1),
            audience: Audience::NONE,
            phase: Phase::Pending,
            coverage: Coverage::Unjoined(now),
            failures: 0,
            replay_refused: false,
            last_event: None,
            last_resync: None,
        }
    }

    pub fn wanted(&self) -> bool {
        matches!(self.demand, Demand::Wanted(_))
    }

    /// The current join's ref, while joining or joined.
    pub fn join_ref(&self) -> Option<&str> {
        match &self.phase {
            Phase::Joining(j) => Some(&j.join_ref),
            Phase::Joined(j) => Some(&j.join_ref),
            _ => None,
        }
    }

    /// Events may be missed from `from` on, unless a gap is open already (it started earlier).
    pub fn open_gap(&mut self, from: Now) {
        if self.coverage == Coverage::Covered {
            self.coverage = Coverage::Gap(from);
        }
    }

    /// Since when (wall ms) the cache may not reflect this channel's events: it was never joined,
    /// or a gap is open (lost, waiting for a token, refused, replaying, resync not yet delivered).
    /// `None` only when it is joined with nothing missed. A lost channel always opens a gap, so
    /// `Covered` outside `Joined` is not reached; were it, it would read stale from `now`.
    pub fn stale_since(&self, now: Now) -> Option<i64> {
        match (&self.coverage, &self.phase) {
            (Coverage::Unjoined(since) | Coverage::Gap(since) | Coverage::Inherited(since), _) => {
                Some(since.wall)
            }
            (Coverage::Covered, Phase::Joined(_)) => None,
            (Coverage::Covered, _) => Some(now.wall),
        }
    }

    /// When the channel next needs attention.
    pub fn deadline(&self) -> Option<u64> {
        let phase = match &self.phase {
            Phase::Joining(j) => Some(j.deadline),
            Phase::Joined(j) => j
                .replay
                .as_ref()
                .map(|r| r.settle_at)
                .into_iter()
                .chain(j.resync.map(|r| r.at))
                .min(),
            Phase::BackingOff { until, .. } => Some(*until),
            Phase::Refused { retry_at, .. } => *retry_at,
            Phase::Pending | Phase::AwaitingToken { .. } => None,
        };
        let leave = match self.demand {
            Demand::Releasing { until } => Some(until),
            Demand::Wanted(_) => None,
        };
        phase.into_iter().chain(leave).min()
    }

    pub fn state(&self) -> ChannelState {
        match &self.phase {
            Phase::Joined(_) => ChannelState::Joined,
            Phase::Joining(Joining {
                retry_of: Some(_), ..
            })
            | Phase::Refused { .. } => ChannelState::Denied,
            Phase::Pending | Phase::Joining(_) if self.coverage.unjoined() => ChannelState::Joining,
            Phase::Pending | Phase::Joining(_) | Phase::BackingOff { .. } => ChannelState::Retrying,
            Phase::AwaitingToken { .. } => ChannelState::AwaitingToken,
        }
    }

    pub fn stats(&self, now: Now) -> ChannelStats {
        let reason = match &self.phase {
            Phase::Joining(Joining {
                retry_of: Some(reason),
                ..
            })
            | Phase::BackingOff { reason, .. }
            | Phase::AwaitingToken { reason }
            | Phase::Refused { reason, .. } => Some(reason.clone()),
            _ => None,
        };
        ChannelStats {
            topic: self.topic.clone(),
            state: self.state(),
            reason,
            subscribers: match self.demand {
                Demand::Wanted(n) => n,
                Demand::Releasing { .. } => 0,
            },
            last_event_age_ms: self.last_event.map(|at| now.mono.saturating_sub(at)),
            last_resync: self.last_resync,
            stale_since: self.stale_since(now),
        }
    }
}
