//! Membership: getting the wanted channels joined and keeping them authorised. Joins (with the
//! replay a gap asks for), the server's answers, refusals and closes, and the access token they
//! carry. It needs most parts at once, so it borrows them for one call ([`Membership`]) rather
//! than owning any: the state stays with the parts (`channels`, `auth`, `wire`, ...).

use super::auth::{Auth, Expired, TokenStep};
use super::channels::Channels;
use super::clients::Clients;
use super::config::SessionConfig;
use super::joins::{Due, Failure, Heard};
use super::link::Link;
use super::recovery::Recovery;
use super::retry::Rng;
use super::types::{Output, SessionError};
use super::wire::{self, Wire};
use crate::audience::Audience;
use crate::clock::Now;
use crate::pipeline::Pipeline;
use crate::protocol::Message;

/// The parts a join or a token touches, borrowed from the session for one input.
pub(super) struct Membership<'a> {
    pub config: &'a SessionConfig,
    pub channels: &'a mut Channels,
    pub auth: &'a mut Auth,
    pub wire: &'a mut Wire,
    pub link: &'a mut Link,
    pub recovery: &'a mut Recovery,
    pub pipeline: &'a mut Pipeline,
    pub clients: &'a Clients,
    pub rng: &'a mut Rng,
    pub out: &'a mut Vec<Output>,
}

impl Membership<'_> {
    fn report(&mut self, to: Audience, error: SessionError) {
        self.clients.tell(to, &error, self.out);
    }

    /// Runs each channel's due work (a leave after its grace, a join that timed out, a replay
    /// that settled, a resync whose jitter passed), then the joins that may go. With no channel
    /// left, the socket goes too, and is not reconnected.
    pub fn due(&mut self, now: Now) {
        let joins_pending = self.channels.joins_pending();
        for topic in self.channels.topics() {
            let Some(channel) = self.channels.get_mut(&topic) else {
                continue;
            };
            match channel.due(now.mono, joins_pending, self.config.replay_settle_ms) {
                Due::Nothing => {}
                Due::Leave(join_ref) => {
                    if let Some(join_ref) = join_ref {
                        self.wire.leave(self.out, &join_ref, &topic);
                    }
                    self.channels.remove(&topic);
                }
                Due::TimedOut(join_ref) => {
                    self.wire.leave(self.out, &join_ref, &topic);
                    self.failed(&topic, "join timed out", now);
                }
                Due::ReplaySettled => {
                    let (channels, pipeline) = (&mut *self.channels, &mut *self.pipeline);
                    self.recovery
                        .settle_replay(&topic, channels, pipeline, now, self.rng);
                }
                Due::Resync(cause) => {
                    let (channels, pipeline) = (&mut *self.channels, &mut *self.pipeline);
                    self.recovery
                        .resync_now(&topic, cause, channels, pipeline, now);
                }
            }
        }
        self.join_ready(now);
        if self.channels.is_empty() && self.link.idle() {
            let reason = "no channels".into();
            self.out.push(Output::Close { code: 1000, reason });
        }
    }

    /// A message on a channel's topic: a join's answer, a close, an error.
    pub fn heard(&mut self, m: &Message, now: Now) {
        let topic = m.topic.as_str();
        let Some(channel) = self.channels.get_mut(topic) else {
            return;
        };
        match channel.hear(m) {
            Heard::Nothing => return,
            Heard::Failed(reason) => return self.failed(topic, &reason, now),
            Heard::Joined => self.joined(topic, now),
            Heard::Refused(reason) => self.failed(topic, &reason, now),
        }
        // A join was answered: the server moves on to the next one it queued.
        let deadline = now.mono + self.config.join_timeout_ms;
        self.channels.queue_moved(topic, deadline);
    }

    /// Joins every channel ready to (`Channels::ready`) when the socket is open and a token is
    /// in hand. Without one (the first is on its way), or with one past its `exp` that the app
    /// can replace, they wait for it.
    pub fn join_ready(&mut self, now: Now) {
        if self.link.open_socket().is_none() {
            return;
        }
        let ready = self.channels.ready();
        if ready.is_empty() {
            return;
        }
        if !self.auth.ready() {
            return self.need_token(now);
        }
        if self.auth.is_stale(now.wall) {
            self.channels
                .await_token(&ready, "the access token expired");
            return self.need_token(now);
        }
        for topic in ready {
            self.join(&topic, now);
        }
    }

    /// Sends `phx_join` for `topic`, asking for a replay after a gap on a private channel.
    fn join(&mut self, topic: &str, now: Now) {
        let Some(channel) = self.channels.get(topic) else {
            return;
        };
        let remembered = self.pipeline.dedup().config().ttl_ms;
        let plan = self.recovery.plan(channel, remembered, now);
        let (limit, private) = (self.config.replay_limit, self.config.private);
        let payload = wire::join_payload(plan, limit, private, self.auth.token());
        let join_ref = self.wire.join(self.out, topic, payload);
        let deadline = now.mono + self.config.join_timeout_ms;
        if let Some(channel) = self.channels.get_mut(topic) {
            channel.joining(join_ref, deadline, self.auth.generation(), plan);
        }
    }

    fn joined(&mut self, topic: &str, now: Now) {
        let settle_at = now.mono + self.config.replay_settle_ms;
        let channel = self.channels.get_mut(topic);
        let Some(accepted) = channel.and_then(|c| c.joined(now, settle_at)) else {
            return;
        };
        self.auth.joined_with(accepted.token);
        self.link.worked();
        if let Some(cause) = accepted.resync {
            let (channels, pipeline, rng) =
                (&mut *self.channels, &mut *self.pipeline, &mut *self.rng);
            self.recovery
                .resync(topic, cause, channels, pipeline, now, rng);
        }
        if accepted.token < self.auth.generation() {
            // The token changed while the join was under way: the server must check the new one.
            let generation = self.auth.generation();
            if let Some(join_ref) = self
                .channels
                .get_mut(topic)
                .and_then(|c| c.take_token(generation))
            {
                self.send_token(topic, &join_ref);
            }
        }
    }

    /// A join failed, or a joined channel was closed or crashed.
    pub fn failed(&mut self, topic: &str, reason: &str, now: Now) {
        let Some(channel) = self.channels.get_mut(topic) else {
            return;
        };
        let generation = self.auth.generation();
        match channel.failed(reason, now, self.config, generation, self.rng) {
            Failure::Nothing => {}
            Failure::Rejoin => self.join_ready(now),
            Failure::Denied { tell: false } => {}
            Failure::Denied { tell: true } => {
                let to = channel.audience;
                let (topic, reason) = (topic.to_owned(), reason.to_owned());
                self.report(to, SessionError::Denied { topic, reason });
            }
            // The server said the token expired: join again with a newer one, or wait for one
            // (asking the app once for all channels).
            Failure::Expired { token } => match self.auth.refused_expired(token, now, self.rng) {
                Expired::Rejoin => {
                    channel.pend();
                    self.join_ready(now);
                }
                Expired::Wait { tell, step } => {
                    channel.await_token(reason);
                    if let Some(reason) = tell {
                        let everyone = self.clients.everyone();
                        self.report(everyone, SessionError::Token { reason });
                    }
                    self.token_step(step, now);
                }
            },
        }
    }

    pub fn need_token(&mut self, now: Now) {
        let step = self.auth.need(now, self.rng);
        self.token_step(step, now);
    }

    pub fn token_step(&mut self, step: Option<TokenStep>, now: Now) {
        match step {
            None => {}
            Some(TokenStep::Ask(id)) => self.out.push(Output::RequestToken { id }),
            Some(TokenStep::Installed) => self.token_arrived(now),
            Some(TokenStep::Failed(reason)) => {
                self.report(self.clients.everyone(), SessionError::Token { reason })
            }
        }
    }

    /// A new token is in use: joined channels get it (Supabase re-checks their policies),
    /// channels waiting for one or refused join again with it.
    pub fn token_arrived(&mut self, now: Now) {
        for (topic, join_ref) in self.channels.token_arrived(self.auth.generation()) {
            self.send_token(&topic, &join_ref);
        }
        self.join_ready(now);
    }

    /// Gives the join `join_ref` of `topic` the token in use (`access_token`).
    fn send_token(&mut self, topic: &str, join_ref: &str) {
        let token = self.auth.token().unwrap_or_default();
        self.wire.access_token(self.out, join_ref, topic, token);
    }
}
