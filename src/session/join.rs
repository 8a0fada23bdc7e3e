//! Joins: the `phx_join` (with a replay after a gap), replies and their classification, server
//! closes and errors.

use super::channel::{Joined, Joining, Phase, Replay, ReplayPlan};
use super::live::Live;
use super::retry::{classify, Verdict};
use super::types::SessionError;
use crate::clock::Now;
use crate::json::{Number, Value};
use crate::protocol::Message;

impl Live {
    /// Sends `phx_join` for `topic` (the socket is open and a token in hand), asking for a
    /// replay after a gap on a private channel.
    pub(super) fn join(&mut self, topic: &str, now: Now) {
        let Some(channel) = self.channels.get(topic) else {
            return;
        };
        let retry_of = match &channel.phase {
            Phase::Refused { reason, .. } => Some(reason.clone()),
            _ => None,
        };
        let plan = self.replay_plan(channel, now);
        let mut broadcast = vec![("ack", Value::Bool(false)), ("self", Value::Bool(false))];
        if let ReplayPlan::Since(since) = plan {
            let replay = Value::object(vec![
                ("since", Value::Number(Number::int(since))),
                (
                    "limit",
                    Value::Number(Number::int(i64::from(self.config.replay_limit))),
                ),
            ]);
            broadcast.push(("replay", replay));
        }
        let config = Value::object(vec![
            ("broadcast", Value::object(broadcast)),
            (
                "presence",
                Value::object(vec![("key", "".into()), ("enabled", Value::Bool(false))]),
            ),
            ("postgres_changes", Value::Array(Vec::new())),
            ("private", Value::Bool(self.config.private)),
        ]);
        let mut payload = vec![("config", config)];
        if let Some(token) = &self.auth.token {
            payload.push(("access_token", token.as_str().into()));
        }
        // A join's ref is its join_ref too.
        self.next_ref += 1;
        let join_ref = self.next_ref.to_string();
        self.send_with_ref(
            Some(&join_ref),
            &join_ref,
            topic,
            "phx_join",
            Value::object(payload),
        );
        let join = Joining {
            join_ref,
            deadline: now.mono + self.config.join_timeout_ms,
            token: self.auth.generation,
            replay: plan,
            retry_of,
        };
        if let Some(channel) = self.channels.get_mut(topic) {
            channel.phase = Phase::Joining(join);
        }
    }

    /// Whether a message belongs to the channel's current join. vsn 1.0.0 frames carry no
    /// `join_ref`: a reply, close or error is matched by its `ref` (the join's ref), anything
    /// else without a `join_ref` is accepted, as phoenix.js's `isMember` does.
    fn current(&self, m: &Message) -> bool {
        let Some(join_ref) = self.channels.get(&m.topic).and_then(|c| c.join_ref()) else {
            return false;
        };
        let by_ref = matches!(m.event.as_str(), "phx_reply" | "phx_close" | "phx_error");
        match m
            .join_ref
            .as_ref()
            .or(if by_ref { m.msg_ref.as_ref() } else { None })
        {
            Some(r) => r == join_ref,
            None => true,
        }
    }

    pub(super) fn channel_message(&mut self, m: Message, now: Now) {
        // Messages for an old join (or a channel already left) are dropped.
        if !self.current(&m) {
            return;
        }
        let topic = m.topic.as_str();
        let Some(channel) = self.channels.get_mut(topic) else {
            return;
        };
        match m.event.as_str() {
            "phx_reply" => {
                let Phase::Joining(join) = &channel.phase else {
                    return;
                };
                if m.msg_ref.as_deref() != Some(join.join_ref.as_str()) {
                    return;
                }
                let status = m.payload.get("status").and_then(Value::as_str);
                if status == Some("ok") {
                    self.joined(topic, now);
                } else {
                    let response = m.payload.get("response");
                    let reason = response
                        .and_then(|r| r.get("reason").or(Some(r)))
                        .and_then(Value::as_str)
                        .unwrap_or("join refused")
                        .to_owned();
                    self.failed(topic, &reason, now);
                }
                self.queue_moved(topic, now);
            }
            "system" if m.payload.get("status").and_then(Value::as_str) == Some("error") => {
                if let Phase::Joined(joined) = &mut channel.phase {
                    let message = m.payload.get("message").and_then(Value::as_str);
                    joined.system = Some(message.unwrap_or_default().to_owned());
                }
            }
            "phx_close" => {
                let reason = match &channel.phase {
                    Phase::Joined(Joined {
                        system: Some(s), ..
                    }) => s.clone(),
                    _ => "channel closed by the server".to_owned(),
                };
                self.failed(topic, &reason, now);
            }
            "phx_error" => self.failed(topic, "channel error (phx_error)", now),
            _ => {}
        }
    }

    /// A join was answered: the server works through its queue one join at a time (Supabase
    /// answers each failed join after 5 s), so the joins behind it get a fresh timeout.
    fn queue_moved(&mut self, answered: &str, now: Now) {
        let deadline = now.mono + self.config.join_timeout_ms;
        for channel in self.channels.iter_mut() {
            if let Phase::Joining(join) = &mut channel.phase {
                if channel.topic != answered {
                    join.deadline = join.deadline.max(deadline);
                }
            }
        }
    }

    fn joined(&mut self, topic: &str, now: Now) {
        let settle_at = now.mono + self.config.replay_settle_ms;
        let generation = self.auth.generation;
        let Some(channel) = self.channels.get_mut(topic) else {
            return;
        };
        let Phase::Joining(join) = std::mem::replace(&mut channel.phase, Phase::Pending) else {
            return;
        };
        if join.token == generation {
            self.auth.failures = 0;
        }
        if let super::link::LinkState::Open(open) = &mut self.link.state {
            open.worked = true;
        }
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
        if channel.coverage.unjoined() {
            channel.coverage = super::channel::Coverage::Covered;
        }
        if replay.is_none() {
            // A refused replay may have been a passing database error: try one at the next gap.
            channel.replay_refused = false;
        }
        channel.phase = Phase::Joined(Joined {
            join_ref: join.join_ref,
            since: now.mono,
            token: join.token,
            replay,
            system: None,
            resync: None,
        });
        if let Some(cause) = resync {
            self.resync_channel(topic, cause, now);
        }
        if join.token < generation {
            // The token changed while the join was under way: the server must check the new one.
            self.push_token(topic);
        }
    }

    /// A join failed, or a joined channel was closed or crashed: decide by the reason.
    pub(super) fn failed(&mut self, topic: &str, reason: &str, now: Now) {
        let stable = self.config.stable_after_ms;
        let Some(channel) = self.channels.get_mut(topic) else {
            return;
        };
        let (token, retry_of) = match std::mem::replace(&mut channel.phase, Phase::Pending) {
            Phase::Joined(joined) => {
                if now.mono.saturating_sub(joined.since) >= stable {
                    channel.failures = 0;
                }
                // The server stopped delivering to this channel here; over a rate limit
                // (an average over a minute) it may have dropped messages for up to a minute.
                let from = if classify(reason) == Verdict::RateLimited {
                    Now::new(now.mono.saturating_sub(60_000), now.wall - 60_000)
                } else {
                    now
                };
                channel.open_gap(from);
                (joined.token, None)
            }
            Phase::Joining(join) => (join.token, join.retry_of),
            other => {
                channel.phase = other;
                return;
            }
        };
        let verdict = classify(reason);
        // An expired token is no fault of the channel (tokens expire hourly, or every 20 s in
        // the chaos suite): counted, it would read `degraded` at the next drop. The token's own
        // failures are counted and backed off by `auth`.
        if verdict != Verdict::RefreshToken {
            channel.failures += 1;
        }
        let attempt = channel.failures.saturating_sub(1).min(16);
        if reason.starts_with("UnableToReplayMessages") {
            // The channel is fine; its replay is not: join without one, and resync.
            channel.replay_refused = true;
        }
        let backoff = match verdict {
            Verdict::Denied => self.config.refused_backoff,
            Verdict::RateLimited => self.config.rate_limit_backoff,
            Verdict::Retry | Verdict::RefreshToken => self.config.backoff,
        };
        let until = now.mono + backoff.delay(attempt, &mut self.rng);
        let Some(channel) = self.channels.get_mut(topic) else {
            return;
        };
        let newer_token = token < self.auth.generation;
        match verdict {
            // Refused for a token that has been replaced since: try the new one at once.
            Verdict::Denied if newer_token => {
                channel.phase = Phase::Pending;
                self.join_ready(now);
            }
            Verdict::Denied => {
                channel.phase = Phase::Refused {
                    reason: reason.to_owned(),
                    retry_at: Some(until),
                };
                if retry_of.as_deref() != Some(reason) {
                    let to = channel.audience;
                    self.report(
                        to,
                        SessionError::Denied {
                            topic: topic.to_owned(),
                            reason: reason.to_owned(),
                        },
                    );
                }
            }
            Verdict::RefreshToken => self.expired(topic, reason, token, now),
            Verdict::RateLimited | Verdict::Retry => {
                channel.phase = Phase::BackingOff {
                    until,
                    reason: reason.to_owned(),
                };
            }
        }
    }

    /// The server said the token a join carried expired. If a newer token is in use already,
    /// join again with it; else wait for one, asking the app once for all channels.
    fn expired(&mut self, topic: &str, reason: &str, token: u64, now: Now) {
        let newer = token < self.auth.generation;
        if let Some(channel) = self.channels.get_mut(topic) {
            channel.phase = if newer {
                Phase::Pending
            } else {
                Phase::AwaitingToken {
                    reason: reason.to_owned(),
                }
            };
        }
        if newer {
            return self.join_ready(now);
        }
        let first = !self.auth.is_expired();
        self.auth.expired = Some(self.auth.generation);
        if self.auth.source {
            // Asked at once the first time; a fresh token that expires too waits a backoff.
            self.need_token(now);
            if first {
                self.auth.failures += 1;
            }
        } else if first {
            let reason = "the access token expired and there is no getAccessToken option: \
                          call setAuth() with a fresh one"
                .to_owned();
            self.report_all(SessionError::Token { reason });
        }
    }
}
