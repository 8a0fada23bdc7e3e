//! The channels, by topic, and what concerns them together: who holds them, which can join,
//! the server's queue of joins, what a lost connection does to them, a new token.

use super::channel::{Channel, Demand, Phase};
use super::retry::{Backoff, Rng};
use crate::audience::Audience;
use crate::clock::Now;

/// The channels, by topic: a few per terminal, so a vector (a map type would add kilobytes of
/// wasm for nothing).
#[derive(Debug, Default)]
pub(super) struct Channels(Vec<Channel>);

impl Channels {
    pub fn get(&self, topic: &str) -> Option<&Channel> {
        self.0.iter().find(|c| c.topic == topic)
    }

    pub fn get_mut(&mut self, topic: &str) -> Option<&mut Channel> {
        self.0.iter_mut().find(|c| c.topic == topic)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Channel> {
        self.0.iter()
    }

    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, Channel> {
        self.0.iter_mut()
    }

    /// The topics, for loops that change channels while the session sends.
    pub fn topics(&self) -> Vec<String> {
        self.0.iter().map(|c| c.topic.clone()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Forgets a channel (left).
    pub fn remove(&mut self, topic: &str) {
        self.0.retain(|c| c.topic != topic);
    }

    /// The channel of `topic`, new (subscribed at `now`) if it was not held.
    pub fn hold(&mut self, topic: &str, now: Now) -> &mut Channel {
        match self.0.iter().position(|c| c.topic == topic) {
            Some(i) => &mut self.0[i],
            None => {
                self.0.push(Channel::new(topic.to_owned(), now));
                let last = self.0.len() - 1;
                &mut self.0[last]
            }
        }
    }

    /// Some channel is wanted: the connection is needed.
    pub fn wanted(&self) -> bool {
        self.0.iter().any(Channel::wanted)
    }

    /// The clients the events of `topic` are for.
    pub fn audience(&self, topic: &str) -> Audience {
        self.get(topic).map_or(Audience::NONE, |c| c.audience)
    }

    /// `audience` subscribes to `topic`. Two subscriptions to one channel share its join; a new
    /// subscriber tries a refused channel at once (it may come after a change of policy).
    pub fn subscribe(&mut self, topic: &str, audience: Audience, now: Now) -> &mut Channel {
        let held = self.get(topic).is_some();
        let channel = self.hold(topic, now);
        if held {
            channel.demand = match channel.demand {
                Demand::Wanted(n) => Demand::Wanted(n + 1),
                Demand::Releasing { .. } => Demand::Wanted(1),
            };
            if let Phase::Refused { retry_at, .. } = &mut channel.phase {
                *retry_at = Some(now.mono);
            }
        }
        // Held again after a leave grace: only its holders now hear of it.
        channel.audience = match channel.demand {
            Demand::Wanted(1) => audience,
            _ => channel.audience.with(audience),
        };
        channel
    }

    /// A subscription to `topic` ended; `holders` still hold it. Its events go to them; with
    /// none, the channel is left at `until` unless subscribed again, and its events go to its
    /// last holders meanwhile.
    pub fn release(&mut self, topic: &str, holders: Audience, until: u64) {
        if let Some(channel) = self.get_mut(topic) {
            channel.demand = match channel.demand {
                Demand::Wanted(n) if n > 1 => Demand::Wanted(n - 1),
                _ => Demand::Releasing { until },
            };
            if !holders.is_empty() {
                channel.audience = holders;
            }
        }
    }

    /// The wanted channels that can join now: waiting for the socket, or for their retry after
    /// a refusal.
    pub fn ready(&self) -> Vec<String> {
        self.iter()
            .filter(|c| c.wanted())
            .filter(|c| {
                matches!(
                    c.phase,
                    Phase::Pending | Phase::Refused { retry_at: None, .. }
                )
            })
            .map(|c| c.topic.clone())
            .collect()
    }

    /// A join on this socket is still unanswered.
    pub fn joins_pending(&self) -> bool {
        self.iter().any(|c| matches!(c.phase, Phase::Joining(_)))
    }

    /// The last deadline of the joins still answerable after `t`: the server answers them one
    /// at a time, so a heartbeat reply may be queued behind them.
    pub fn queued_until(&self, t: u64) -> Option<u64> {
        self.iter()
            .filter_map(|c| match &c.phase {
                Phase::Joining(j) if j.deadline > t => Some(j.deadline),
                _ => None,
            })
            .max()
    }

    /// A join was answered: the server works through its queue one join at a time (Supabase
    /// answers each failed join after 5 s), so the joins behind it get until `deadline`.
    pub fn queue_moved(&mut self, answered: &str, deadline: u64) {
        for channel in self.iter_mut() {
            if let Phase::Joining(join) = &mut channel.phase {
                if channel.topic != answered {
                    join.deadline = join.deadline.max(deadline);
                }
            }
        }
    }

    /// Some wanted channel waits for a token (`ready`: whether one is in hand).
    pub fn need_token(&self, ready: bool) -> bool {
        self.iter().any(|c| {
            c.wanted()
                && (matches!(c.phase, Phase::AwaitingToken { .. })
                    || (matches!(c.phase, Phase::Pending) && !ready))
        })
    }

    /// The connection is lost: every joined channel opens a gap from `gap_from`, every join
    /// under way starts over on the next socket, but one that retried a refusal is refused
    /// still as far as is known and waits its backoff.
    pub fn lost(&mut self, gap_from: Now, now: Now, refused: Backoff, rng: &mut Rng) {
        for channel in self.iter_mut() {
            match std::mem::replace(&mut channel.phase, Phase::Pending) {
                Phase::Joined(_) => channel.open_gap(gap_from),
                Phase::Joining(join) => {
                    if let Some(reason) = join.retry_of {
                        let attempt = channel.failures.saturating_sub(1).min(16);
                        let wait = refused.delay(attempt, rng);
                        channel.phase = Phase::Refused {
                            reason,
                            retry_at: Some(now.mono + wait),
                        };
                    }
                }
                other => channel.phase = other,
            }
        }
    }

    /// A new token (generation `generation`) is in use: channels waiting for one join again,
    /// refused ones are tried at once, and joined ones get it: their topics and join refs, to
    /// send it there.
    pub fn token_arrived(&mut self, generation: u64) -> Vec<(String, String)> {
        self.0
            .iter_mut()
            .filter_map(|c| Some((c.topic.clone(), c.token_arrived(generation)?)))
            .collect()
    }

    /// The channels in `topics` that wait for the socket wait for a fresh token instead.
    pub fn await_token(&mut self, topics: &[String], reason: &str) {
        for channel in self.0.iter_mut().filter(|c| topics.contains(&c.topic)) {
            channel.await_token_if_pending(reason);
        }
    }
}
