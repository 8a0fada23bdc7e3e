//! Channels: join (with replay after a gap), replies and their classification, server closes
//! and errors, leaves after the grace period, and broadcasts into the pipeline.

use super::retry::{classify, Verdict};
use super::{ChannelState, Output, Session, SessionError};
use crate::json::{Number, Value};
use crate::pipeline::Outcome;
use crate::protocol::{Broadcast, BroadcastPayload, Message};

/// One channel's state.
#[derive(Debug, Clone)]
pub(super) struct Channel {
    pub private: bool,
    pub refs: u32,
    pub state: ChannelState,
    /// The current join's ref, while joining or joined.
    pub join_ref: Option<String>,
    pub join_deadline: Option<u64>,
    pub retry_at: Option<u64>,
    pub leave_at: Option<u64>,
    /// Consecutive failed joins.
    pub failures: u32,
    /// Events may have been missed since the last join (a loss, an error, a close).
    pub gap: bool,
    /// Joined at least once: a gap can only follow a join.
    pub joined_once: bool,
    /// The newest applied event's time, ms: a replay starts from it.
    pub last_event_at: Option<u64>,
    /// When the last event arrived (session clock).
    pub last_received: Option<u64>,
    /// When the current gap began (for the replay window).
    pub gap_since: Option<u64>,
    /// Replayed messages received since the current join.
    pub replayed: u32,
    /// The current join could not ask for a replay: resync once it succeeds.
    pub resync_on_join: bool,
    /// The server refused a replay: join without one, and resync instead.
    pub no_replay: bool,
    /// When the channel last joined (session clock): where a gap starts when nothing came since.
    pub joined_at: Option<u64>,
    /// The last `system` error, which explains the `phx_close` that follows it.
    pub last_system: Option<String>,
    /// Waiting for the app's token to rejoin.
    pub awaiting_token: bool,
    /// A fresh token was fetched for this channel already: a second expiry is final.
    pub refreshed: bool,
}

impl Channel {
    pub fn new(private: bool) -> Self {
        Channel {
            private,
            refs: 0,
            state: ChannelState::Retrying,
            join_ref: None,
            join_deadline: None,
            retry_at: None,
            leave_at: None,
            failures: 0,
            gap: false,
            joined_once: false,
            last_event_at: None,
            last_received: None,
            gap_since: None,
            replayed: 0,
            resync_on_join: false,
            no_replay: false,
            joined_at: None,
            last_system: None,
            awaiting_token: false,
            refreshed: false,
        }
    }

    /// The connection is gone: rejoin when it is back, and recover what was missed.
    pub fn lose(&mut self) {
        if self.state == ChannelState::Denied {
            return;
        }
        self.state = ChannelState::Retrying;
        self.join_ref = None;
        self.join_deadline = None;
        self.retry_at = None;
        // Only a fresh token refused at once is final; a later expiry asks the app again.
        self.refreshed = false;
        self.mark_gap(None);
    }

    /// Events may be missed from now on: from the last one received, or else the last join.
    fn mark_gap(&mut self, now: Option<u64>) {
        if self.joined_once && !self.gap {
            self.gap = true;
            self.gap_since = self.last_received.or(self.joined_at).or(now);
        }
    }
}

/// The channels, by topic: a few per terminal, so a vector (a map type would add kilobytes of
/// wasm for nothing).
#[derive(Debug, Default)]
pub(super) struct Channels(Vec<(String, Channel)>);

impl Channels {
    pub fn get(&self, topic: &str) -> Option<&Channel> {
        self.0.iter().find(|(t, _)| t == topic).map(|(_, c)| c)
    }

    pub fn get_mut(&mut self, topic: &str) -> Option<&mut Channel> {
        self.0.iter_mut().find(|(t, _)| t == topic).map(|(_, c)| c)
    }

    pub fn get_or_insert_with(
        &mut self,
        topic: &str,
        make: impl FnOnce() -> Channel,
    ) -> &mut Channel {
        let i = match self.0.iter().position(|(t, _)| t == topic) {
            Some(i) => i,
            None => {
                self.0.push((topic.to_owned(), make()));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }

    pub fn remove(&mut self, topic: &str) {
        self.0.retain(|(t, _)| t != topic);
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Channel)> {
        self.0.iter().map(|(t, c)| (t, c))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&String, &mut Channel)> {
        self.0.iter_mut().map(|(t, c)| (&*t, c))
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(t, _)| t)
    }

    pub fn values(&self) -> impl Iterator<Item = &Channel> {
        self.0.iter().map(|(_, c)| c)
    }
}

fn obj(members: Vec<(&str, Value)>) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

impl Session {
    /// Sends `phx_join` for `topic`, asking for a replay after a gap on a private channel.
    pub(super) fn join(&mut self, topic: &str, now: u64) {
        let Some(channel) = self.channels.get(topic) else {
            return;
        };
        if channel.refs == 0 || channel.state == ChannelState::Denied || channel.awaiting_token {
            return;
        }
        if self.token.is_none() && self.token_requested {
            // The app's first token is on its way; join with it.
            if let Some(channel) = self.channels.get_mut(topic) {
                channel.awaiting_token = true;
            }
            return;
        }
        let mut broadcast = vec![("ack", Value::Bool(false)), ("self", Value::Bool(false))];
        let replay_from = channel.last_event_at.or(channel.gap_since);
        // vsn 1.0.0 sockets get no replays (docs/protocol.md §1.2).
        let replayable = channel.private
            && !channel.no_replay
            && self.config.vsn == crate::protocol::Vsn::V2
            && channel.gap
            && replay_from
                .is_some_and(|from| now.saturating_sub(from) <= self.config.replay_window_ms);
        if replayable {
            // Start a second before the newest applied event: dedup removes the overlap.
            let since = replay_from.unwrap_or_default().saturating_sub(1000) as i64;
            let replay = obj(vec![
                ("since", Value::Number(Number::int(since))),
                (
                    "limit",
                    Value::Number(Number::int(i64::from(self.config.replay_limit))),
                ),
            ]);
            broadcast.push(("replay", replay));
        }
        let config = obj(vec![
            ("broadcast", obj(broadcast)),
            (
                "presence",
                obj(vec![("key", "".into()), ("enabled", Value::Bool(false))]),
            ),
            ("postgres_changes", Value::Array(Vec::new())),
            ("private", Value::Bool(channel.private)),
        ]);
        let mut payload = vec![("config", config)];
        if let Some(token) = &self.token {
            payload.push(("access_token", token.as_str().into()));
        }
        let join_ref = self.make_ref();
        let frame = crate::protocol::Frame::Message(Message {
            join_ref: Some(join_ref.clone()),
            msg_ref: Some(join_ref.clone()),
            topic: topic.to_owned(),
            event: "phx_join".to_owned(),
            payload: obj(payload),
        });
        if let Ok(text) = crate::protocol::encode_text(&frame, self.config.vsn) {
            self.out.push(Output::Send(text));
        }
        let timeout = self.config.join_timeout_ms;
        if let Some(channel) = self.channels.get_mut(topic) {
            channel.join_ref = Some(join_ref);
            channel.join_deadline = Some(now + timeout);
            channel.retry_at = None;
            channel.replayed = 0;
            channel.last_system = None;
            channel.state = ChannelState::Joining;
            // A public channel cannot replay, nor can a gap older than the server keeps.
            channel.resync_on_join = channel.gap && !replayable;
        }
        self.out.push(Output::Channel {
            topic: topic.to_owned(),
            state: ChannelState::Joining,
        });
    }

    /// Schedules the next join attempt after a transient failure.
    fn retry(&mut self, topic: &str, now: u64) {
        let Some(channel) = self.channels.get_mut(topic) else {
            return;
        };
        channel.failures += 1;
        channel.refreshed = false;
        channel.join_ref = None;
        channel.join_deadline = None;
        channel.state = ChannelState::Retrying;
        channel.mark_gap(Some(now));
        let attempts = channel.failures.min(16);
        let delay = self.config.backoff.delay(attempts, &mut self.rng);
        if let Some(channel) = self.channels.get_mut(topic) {
            channel.retry_at = Some(now + delay);
        }
        self.out.push(Output::Channel {
            topic: topic.to_owned(),
            state: ChannelState::Retrying,
        });
        self.update_status();
    }

    /// Refused for good.
    pub(super) fn deny(&mut self, topic: &str, reason: &str) {
        let Some(channel) = self.channels.get_mut(topic) else {
            return;
        };
        channel.state = ChannelState::Denied;
        channel.join_ref = None;
        channel.join_deadline = None;
        channel.retry_at = None;
        channel.awaiting_token = false;
        self.out.push(Output::Channel {
            topic: topic.to_owned(),
            state: ChannelState::Denied,
        });
        let error = SessionError::Denied {
            topic: topic.to_owned(),
            reason: reason.to_owned(),
        };
        self.out.push(Output::Error(error));
        self.update_status();
    }

    /// The token expired: ask the app once for all channels, then rejoin; a second expiry
    /// after a fresh token is final.
    fn refresh(&mut self, topic: &str, reason: &str, now: u64) {
        let Some(channel) = self.channels.get_mut(topic) else {
            return;
        };
        if channel.refreshed {
            channel.refreshed = false;
            self.deny(topic, reason);
            return;
        }
        channel.awaiting_token = true;
        channel.join_ref = None;
        channel.join_deadline = None;
        channel.state = ChannelState::Retrying;
        channel.mark_gap(Some(now));
        self.out.push(Output::Channel {
            topic: topic.to_owned(),
            state: ChannelState::Retrying,
        });
        self.ask_for_token(now);
    }

    fn after_failure(&mut self, topic: &str, reason: &str, now: u64) {
        if reason.starts_with("UnableToReplayMessages") {
            // The channel itself is fine: join again without a replay, and resync.
            if let Some(channel) = self.channels.get_mut(topic) {
                channel.no_replay = true;
            }
            return self.retry(topic, now);
        }
        match classify(reason) {
            Verdict::Denied => self.deny(topic, reason),
            Verdict::RefreshToken => self.refresh(topic, reason, now),
            Verdict::Retry => self.retry(topic, now),
        }
    }

    pub(super) fn tick_channel(&mut self, topic: &str, now: u64) {
        let Some(channel) = self.channels.get(topic) else {
            return;
        };
        if channel.leave_at.is_some_and(|t| t <= now) && channel.refs == 0 {
            if let Some(join_ref) = channel.join_ref.clone() {
                self.send(
                    Some(&join_ref),
                    topic,
                    "phx_leave",
                    Value::Object(Vec::new()),
                );
            }
            self.channels.remove(topic);
            self.close_if_idle();
            self.update_status();
            return;
        }
        if channel.join_deadline.is_some_and(|t| t <= now) {
            // No reply in time: leave that join, as realtime-js does, and try again later.
            if let Some(join_ref) = channel.join_ref.clone() {
                self.send(
                    Some(&join_ref),
                    topic,
                    "phx_leave",
                    Value::Object(Vec::new()),
                );
            }
            self.retry(topic, now);
            return;
        }
        if channel.retry_at.is_some_and(|t| t <= now) {
            // Due: clear it whatever happens, so a down socket cannot make it fire forever.
            // `socket_opened` rejoins every channel anyway.
            if let Some(channel) = self.channels.get_mut(topic) {
                channel.retry_at = None;
            }
            if matches!(self.socket, super::Socket::Open(_)) {
                self.join(topic, now);
            }
        }
    }

    /// Whether a message belongs to the channel's current join. vsn 1.0.0 frames carry no
    /// `join_ref`: a reply, close or error is matched by its `ref` (the join's ref), anything
    /// else without a `join_ref` is accepted, as phoenix.js's `isMember` does.
    fn current(&self, m: &Message) -> bool {
        let Some(join_ref) = self
            .channels
            .get(&m.topic)
            .and_then(|c| c.join_ref.as_ref())
        else {
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

    pub(super) fn channel_message(&mut self, m: Message, now: u64) {
        // Messages for an old join (or a channel already left) are dropped.
        if !self.current(&m) {
            return;
        }
        let topic = m.topic.clone();
        match m.event.as_str() {
            "phx_reply"
                if m.msg_ref == self.channels.get(&topic).and_then(|c| c.join_ref.clone()) =>
            {
                let status = m
                    .payload
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if status == "ok" {
                    self.joined(&topic, now);
                } else {
                    let response = m.payload.get("response");
                    let reason = response
                        .and_then(|r| r.get("reason").or(Some(r)))
                        .and_then(Value::as_str)
                        .unwrap_or("join refused")
                        .to_owned();
                    self.after_failure(&topic, &reason, now);
                }
            }
            "system" if m.payload.get("status").and_then(Value::as_str) == Some("error") => {
                let message = m
                    .payload
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if let Some(c) = self.channels.get_mut(&topic) {
                    c.last_system = Some(message.to_owned());
                }
            }
            "phx_close" => {
                let reason = self
                    .channels
                    .get(&topic)
                    .and_then(|c| c.last_system.clone());
                let reason = reason.unwrap_or_else(|| "channel closed by the server".into());
                self.after_failure(&topic, &reason, now);
            }
            "phx_error" => self.retry(&topic, now),
            _ => {}
        }
    }

    fn joined(&mut self, topic: &str, now: u64) {
        let Some(channel) = self.channels.get_mut(topic) else {
            return;
        };
        channel.state = ChannelState::Joined;
        channel.join_deadline = None;
        channel.failures = 0;
        channel.refreshed = false;
        channel.joined_once = true;
        channel.joined_at = Some(now);
        let needs_resync = channel.resync_on_join;
        // A replay was asked for, or the resync below covers the gap.
        channel.gap = false;
        channel.gap_since = None;
        self.out.push(Output::Channel {
            topic: topic.to_owned(),
            state: ChannelState::Joined,
        });
        if needs_resync {
            self.resync(topic, now);
        }
        self.failures = 0;
        self.update_status();
    }

    /// Missed events cannot be replayed: invalidate what the channel feeds. The actions join
    /// the open window, so channels resyncing together make one batch, marked `resync`.
    fn resync(&mut self, topic: &str, now: u64) {
        if let Some(channel) = self.channels.get_mut(topic) {
            channel.resync_on_join = false;
        }
        self.pipeline.push_actions(self.resync.clone(), now);
        self.resync_pending = true;
    }

    pub(super) fn broadcast(&mut self, b: Broadcast, now: u64) {
        let Some(channel) = self.channels.get(&b.topic) else {
            return;
        };
        // Kind-4 frames carry no join_ref; a JSON one from an old join is stale.
        if channel.state != ChannelState::Joined
            || (b.join_ref.is_some() && b.join_ref != channel.join_ref)
        {
            return;
        }
        let topic = b.topic.clone();
        let BroadcastPayload::Json(payload) = &b.payload else {
            let reason = format!("binary payload for {} on {topic}", b.event);
            self.out
                .push(Output::Error(SessionError::BadFrame { reason }));
            return;
        };
        let replayed = b.meta.as_ref().and_then(|m| m.get("replayed")) == Some(&Value::Bool(true));
        let outcome =
            self.pipeline
                .ingest(&b.event, payload, b.meta_id(), self.config.casino_id, now);
        let limit = self.config.replay_limit;
        let Some(channel) = self.channels.get_mut(&topic) else {
            return;
        };
        channel.last_received = Some(now);
        let mut resync = false;
        if replayed {
            channel.replayed += 1;
            resync = channel.replayed >= limit;
        }
        match outcome {
            // A duplicate was applied from another feed: this channel has seen it too, and its
            // replay may start after it.
            Outcome::Applied | Outcome::Duplicate => {
                let at = payload
                    .get("at")
                    .and_then(Value::as_str)
                    .and_then(crate::catalog::parse_timestamp);
                if let Some(at_ms) = at.map(|micros| (micros / 1000).max(0) as u64) {
                    channel.last_event_at =
                        Some(channel.last_event_at.map_or(at_ms, |t| t.max(at_ms)));
                }
            }
            Outcome::Invalid(error) => self.out.push(Output::Error(SessionError::InvalidEvent {
                topic: topic.clone(),
                error,
            })),
            Outcome::ForeignCasino { casino_id } => {
                let error = SessionError::ForeignCasino {
                    topic: topic.clone(),
                    event: b.event.clone(),
                    casino_id,
                };
                self.out.push(Output::Error(error));
            }
        }
        if resync {
            self.resync(&topic, now);
        }
    }
}
