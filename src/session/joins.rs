//! A channel's life: held and released, joined, answered, failed, lost, and what falls due. Each
//! transition changes one channel and says what the session must do beside it (send a leave,
//! report a refusal, ask for a token, resync), so the channel's phases stay in this module and
//! `channel.rs`.

use super::channel::{Channel, Coverage, Demand, Joined, Joining, Phase, Replay};
use super::channel::{PendingResync, ReplayPlan};
use super::config::SessionConfig;
use super::retry::{classify, Rng, Verdict};
use super::types::ResyncCause;
use super::wire::of_join;
use crate::clock::Now;
use crate::json::Value;
use crate::protocol::Message;

/// What a message on a channel's topic meant.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Heard {
    Nothing,
    /// Its join was accepted (a reply).
    Joined,
    /// Its join was refused (a reply), for this reason.
    Refused(String),
    /// It was closed or crashed, for this reason.
    Failed(String),
}

/// A join that succeeded: the token generation it carried, and the resync its gap needs.
#[derive(Debug)]
pub(super) struct Accepted {
    pub token: u64,
    pub resync: Option<ResyncCause>,
}

/// What a failure means beside the channel's new phase.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Failure {
    /// Nothing more (backing off, or not joining nor joined).
    Nothing,
    /// Refused for a token replaced since: join again at once.
    Rejoin,
    /// Refused; tell its clients unless this reason was told already.
    Denied { tell: bool },
    /// The token it carried (generation `token`) expired.
    Expired { token: u64 },
}

/// What falls due on a channel.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Due {
    Nothing,
    /// Its leave grace is over: leave its join (if any), and forget it.
    Leave(Option<String>),
    /// Its join was not answered in time: leave that join, and fail it.
    TimedOut(String),
    /// No more replayed messages are expected.
    ReplaySettled,
    /// Its resync's moment came.
    Resync(ResyncCause),
}

impl Channel {
    /// Its join went as `join_ref`, carrying token generation `token`.
    pub fn joining(&mut self, join_ref: String, deadline: u64, token: u64, replay: ReplayPlan) {
        let retry_of = match &self.phase {
            Phase::Refused { reason, .. } => Some(reason.clone()),
            _ => None,
        };
        self.phase = Phase::Joining(Joining {
            join_ref,
            deadline,
            token,
            replay,
            retry_of,
        });
    }

    /// Waits for a fresh token, for this reason.
    pub fn await_token(&mut self, reason: &str) {
        self.phase = Phase::AwaitingToken {
            reason: reason.to_owned(),
        };
    }

    /// Joins at the next chance.
    pub fn pend(&mut self) {
        self.phase = Phase::Pending;
    }

    /// Waits for a token instead of joining with the one in use (past its `exp`).
    pub fn await_token_if_pending(&mut self, reason: &str) {
        if matches!(self.phase, Phase::Pending) {
            self.await_token(reason);
        }
    }

    /// What a message for this channel means. Messages for an old join (or none) mean nothing.
    pub fn hear(&mut self, m: &Message) -> Heard {
        if !self.join_ref().is_some_and(|r| of_join(m, r)) {
            return Heard::Nothing;
        }
        match m.event.as_str() {
            "phx_reply" => {
                let Phase::Joining(join) = &self.phase else {
                    return Heard::Nothing;
                };
                if m.msg_ref.as_deref() != Some(join.join_ref.as_str()) {
                    return Heard::Nothing;
                }
                if m.payload.get("status").and_then(Value::as_str) == Some("ok") {
                    return Heard::Joined;
                }
                let response = m.payload.get("response");
                let reason = response
                    .and_then(|r| r.get("reason").or(Some(r)))
                    .and_then(Value::as_str)
                    .unwrap_or("join refused");
                Heard::Refused(reason.to_owned())
            }
            "system" if m.payload.get("status").and_then(Value::as_str) == Some("error") => {
                if let Phase::Joined(joined) = &mut self.phase {
                    let message = m.payload.get("message").and_then(Value::as_str);
                    joined.system = Some(message.unwrap_or_default().to_owned());
                }
                Heard::Nothing
            }
            "phx_close" => Heard::Failed(match &self.phase {
                Phase::Joined(Joined {
                    system: Some(s), ..
                }) => s.clone(),
                _ => "channel closed by the server".to_owned(),
            }),
            "phx_error" => Heard::Failed("channel error (phx_error)".to_owned()),
            _ => Heard::Nothing,
        }
    }

    /// Its join was accepted at `now`; `None` if it was not joining. A replay asked for is
    /// awaited until `settle_at`.
    pub fn joined(&mut self, now: Now, settle_at: u64) -> Option<Accepted> {
        let Phase::Joining(join) = std::mem::replace(&mut self.phase, Phase::Pending) else {
            return None;
        };
        let replay = matches!(join.replay, ReplayPlan::Since(_)).then_some(Replay {
            received: 0,
            oldest_known: None,
            settle_at,
        });
        // A public channel cannot replay, nor can a gap older than the server keeps.
        let resync = match join.replay {
            ReplayPlan::Resync(cause) => Some(cause),
            _ => None,
        };
        if self.coverage.unjoined() {
            self.coverage = Coverage::Covered;
        }
        if replay.is_none() {
            // A refused replay may have been a passing database error: try one at the next gap.
            self.replay_refused = false;
        }
        self.phase = Phase::Joined(Joined {
            join_ref: join.join_ref,
            since: now.mono,
            token: join.token,
            replay,
            system: None,
            resync: None,
        });
        Some(Accepted {
            token: join.token,
            resync,
        })
    }

    /// Its join failed, or the joined channel was closed or crashed, for `reason`: decided by
    /// the reason. `generation`: the token generation in use.
    pub fn failed(
        &mut self,
        reason: &str,
        now: Now,
        config: &SessionConfig,
        generation: u64,
        rng: &mut Rng,
    ) -> Failure {
        let (token, retry_of) = match std::mem::replace(&mut self.phase, Phase::Pending) {
            Phase::Joined(joined) => {
                if now.mono.saturating_sub(joined.since) >= config.stable_after_ms {
                    self.failures = 0;
                }
                // The server stopped delivering to this channel here; over a rate limit
                // (an average over a minute) it may have dropped messages for up to a minute.
                let from = if classify(reason) == Verdict::RateLimited {
                    Now::new(now.mono.saturating_sub(60_000), now.wall - 60_000)
                } else {
                    now
                };
                self.open_gap(from);
                (joined.token, None)
            }
            Phase::Joining(join) => (join.token, join.retry_of),
            other => {
                self.phase = other;
                return Failure::Nothing;
            }
        };
        let verdict = classify(reason);
        // An expired token is no fault of the channel (tokens expire hourly, or every 20 s in
        // the chaos suite): counted, it would read `degraded` at the next drop. The token's own
        // failures are counted and backed off by `auth`.
        if verdict != Verdict::RefreshToken {
            self.failures += 1;
        }
        let attempt = self.failures.saturating_sub(1).min(16);
        if reason.starts_with("UnableToReplayMessages") {
            // The channel is fine; its replay is not: join without one, and resync.
            self.replay_refused = true;
        }
        let backoff = match verdict {
            Verdict::Denied => config.refused_backoff,
            Verdict::RateLimited => config.rate_limit_backoff,
            Verdict::Retry | Verdict::RefreshToken => config.backoff,
        };
        let until = now.mono + backoff.delay(attempt, rng);
        match verdict {
            Verdict::Denied if token < generation => Failure::Rejoin,
            Verdict::Denied => {
                self.phase = Phase::Refused {
                    reason: reason.to_owned(),
                    retry_at: Some(until),
                };
                Failure::Denied {
                    tell: retry_of.as_deref() != Some(reason),
                }
            }
            Verdict::RefreshToken => Failure::Expired { token },
            Verdict::RateLimited | Verdict::Retry => {
                self.phase = Phase::BackingOff {
                    until,
                    reason: reason.to_owned(),
                };
                Failure::Nothing
            }
        }
    }

    /// A new token (generation `generation`) is in use: a channel waiting for one joins again,
    /// a refused one is tried at once, and a joined one gets it: its join's ref is returned, to
    /// send it there.
    pub fn token_arrived(&mut self, generation: u64) -> Option<String> {
        match &mut self.phase {
            Phase::Joined(_) => self.take_token(generation),
            Phase::AwaitingToken { .. } => {
                self.phase = Phase::Pending;
                None
            }
            Phase::Refused { retry_at, .. } => {
                *retry_at = None;
                None
            }
            _ => None,
        }
    }

    /// A joined channel now holds token generation `generation`: its join's ref, to send the
    /// token there (`access_token`).
    pub fn take_token(&mut self, generation: u64) -> Option<String> {
        let Phase::Joined(joined) = &mut self.phase else {
            return None;
        };
        joined.token = generation;
        Some(joined.join_ref.clone())
    }

    /// What is due at `t`. A replay's settling waits while `joins_pending` (replayed messages
    /// come through the server's socket process, which answers refused joins one at a time,
    /// late: they may still be behind those): it is moved `settle_ms` on.
    pub fn due(&mut self, t: u64, joins_pending: bool, settle_ms: u64) -> Due {
        if matches!(self.demand, Demand::Releasing { until } if until <= t) {
            return Due::Leave(self.join_ref().map(str::to_owned));
        }
        match &mut self.phase {
            // No reply in time: leave that join, as realtime-js does, and try again.
            Phase::Joining(join) if join.deadline <= t => Due::TimedOut(join.join_ref.clone()),
            Phase::Joined(joined) if joined.replay.as_ref().is_some_and(|r| r.settle_at <= t) => {
                if joins_pending {
                    if let Some(replay) = joined.replay.as_mut() {
                        replay.settle_at = t + settle_ms;
                    }
                    Due::Nothing
                } else {
                    Due::ReplaySettled
                }
            }
            Phase::Joined(joined) if joined.resync.is_some_and(|r| r.at <= t) => {
                match joined.resync.take() {
                    Some(PendingResync { cause, .. }) => Due::Resync(cause),
                    None => Due::Nothing,
                }
            }
            Phase::BackingOff { until, .. } if *until <= t => {
                self.phase = Phase::Pending;
                Due::Nothing
            }
            Phase::Refused { retry_at, .. } if retry_at.is_some_and(|at| at <= t) => {
                // Tried as soon as the socket is open (`ready`).
                *retry_at = None;
                Due::Nothing
            }
            _ => Due::Nothing,
        }
    }
}
