//! What a client is told of the session: its status, its `staleSince` and `stats()`, as pure
//! functions of the channels it holds and of the link, derived after every input and never
//! stored beside them (so they cannot disagree with the channels).

use super::channel::Channel;
use super::channels::Channels;
use super::types::{ChannelState, ChannelStats, SessionStats, Status};
use crate::audience::ClientId;
use crate::clock::Now;
use crate::pipeline::PipelineStats;

/// The states of the channels a client holds, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Tally {
    pub total: u32,
    pub live: u32,
    pub refused: u32,
    /// Joining or retrying.
    pub transient: u32,
    /// A transient channel failed its joins `degraded_after` times in a row.
    pub failing: bool,
    /// A transient channel was joined before (on its way back, not a first join).
    pub lost: bool,
}

/// A channel's state as the app sees it: during an episode of token trouble (`auth.rs`), a
/// channel on its way to a join waits for a token that works, whatever it is doing meanwhile.
fn shown(state: ChannelState, trouble: bool) -> ChannelState {
    match state {
        ChannelState::Joining | ChannelState::Retrying if trouble => ChannelState::AwaitingToken,
        other => other,
    }
}

/// Counts the channels `client` holds (`trouble`: with tokens, see [`shown`]).
pub(super) fn tally(
    channels: &Channels,
    client: ClientId,
    degraded_after: u32,
    trouble: bool,
) -> Tally {
    let mut t = Tally::default();
    for channel in channels.iter().filter(|c| c.audience.contains(client)) {
        t.total += 1;
        match shown(channel.state(), trouble) {
            ChannelState::Joined => t.live += 1,
            ChannelState::Denied => t.refused += 1,
            ChannelState::AwaitingToken => {}
            ChannelState::Joining | ChannelState::Retrying => {
                t.transient += 1;
                t.failing |= channel.failures >= degraded_after;
                t.lost |= !channel.coverage.unjoined();
            }
        }
    }
    t
}

/// The status from the tally and whether the connection has been failing long (see
/// [`Status`]).
pub(super) fn decide(t: Tally, link_failing: bool) -> Status {
    if t.total == 0 {
        return Status::Connecting;
    }
    // A refusal is news the UI needs at once, even while other joins are still answered
    // (Supabase answers refused joins one at a time, 5 s apart).
    if t.refused > 0 {
        return if t.live > 0 {
            Status::Partial
        } else {
            Status::Denied
        };
    }
    if t.transient > 0 {
        if t.failing || link_failing {
            Status::Degraded
        } else if t.lost {
            Status::Reconnecting
        } else {
            Status::Connecting
        }
    } else if t.live == t.total {
        Status::Connected
    } else if t.live > 0 {
        Status::Partial
    } else {
        Status::AwaitingToken
    }
}

/// The staleness of the channels `client` holds (every wanted channel for `None`): the
/// earliest `staleSince`, `None` when all are fresh or there are none.
pub(super) fn stale_since(channels: &Channels, client: Option<ClientId>, now: Now) -> Option<i64> {
    channels
        .iter()
        .filter(|c| c.wanted() && holds(client, c))
        .filter_map(|c| c.stale_since(now))
        .min()
}

/// Whether `client` holds the channel (every channel counts for `None`).
fn holds(client: Option<ClientId>, channel: &Channel) -> bool {
    client.map_or(true, |id| channel.audience.contains(id))
}

/// The session's counts, shared by its clients.
#[derive(Debug, Clone, Copy)]
pub(super) struct Counts {
    pub pipeline: PipelineStats,
    pub unreadable_frames: u64,
    pub reconnects: u64,
    pub replays: u64,
    pub resyncs: u64,
}

/// `stats()`: the counts and the channels `client` holds (every channel for `None`).
pub(super) fn stats(
    counts: Counts,
    channels: &Channels,
    client: Option<ClientId>,
    trouble: bool,
    now: Now,
) -> SessionStats {
    SessionStats {
        pipeline: counts.pipeline,
        unreadable_frames: counts.unreadable_frames,
        reconnects: counts.reconnects,
        replays: counts.replays,
        resyncs: counts.resyncs,
        channels: channels
            .iter()
            .filter(|c| holds(client, c))
            .map(|c| {
                let stats = c.stats(now);
                let state = shown(stats.state, trouble);
                ChannelStats { state, ..stats }
            })
            .collect(),
        stale_since: stale_since(channels, client, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(live: u32, refused: u32, transient: u32, waiting: u32) -> Tally {
        Tally {
            total: live + refused + transient + waiting,
            live,
            refused,
            transient,
            ..Tally::default()
        }
    }

    #[test]
    fn the_status_table() {
        let failing = Tally {
            failing: true,
            ..t(0, 0, 1, 0)
        };
        let lost = Tally {
            lost: true,
            ..t(1, 0, 1, 0)
        };
        // (tally, link failing long, status)
        let table = [
            (t(0, 0, 0, 0), true, Status::Connecting),
            (t(0, 0, 2, 0), false, Status::Connecting),
            (t(1, 0, 1, 0), false, Status::Connecting),
            (lost, false, Status::Reconnecting),
            (lost, true, Status::Degraded),
            (failing, false, Status::Degraded),
            (t(0, 0, 1, 0), true, Status::Degraded),
            (t(2, 0, 0, 0), true, Status::Connected),
            (t(1, 0, 0, 1), false, Status::Partial),
            (t(0, 0, 0, 2), false, Status::AwaitingToken),
            (t(1, 1, 0, 0), false, Status::Partial),
            (t(0, 1, 1, 0), false, Status::Denied),
            (t(0, 2, 0, 1), true, Status::Denied),
        ];
        for (tally, link, expected) in table {
            assert_eq!(
                decide(tally, link),
                expected,
                "{tally:?} link failing {link}"
            );
        }
    }
}
