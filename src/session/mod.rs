//! The realtime session: one connection and its channels, as a sans-IO state machine.
//!
//! The host feeds it inputs with the current time in ms since the epoch (`socket_opened`,
//! `socket_closed`, `text_frame`, `tick`, `subscribe`, `set_auth`, ...) and then takes its
//! [`Output`]s (`drain`): open or close the socket, send a frame, deliver a batch, report a status
//! or an error, ask the app for a token. It asks to be woken at [`Session::deadline`]. No clock,
//! socket or timer lives in here, so a 12-hour shift with Wi-Fi losses runs natively in
//! milliseconds (see `tests/session.rs`).

mod channel;
mod retry;
mod types;

pub use retry::{classify, Backoff, Rng, Verdict};
pub use types::{ChannelState, Output, SessionConfig, SessionError, Status};

use crate::batch::{BatchConfig, BatchReason};
use crate::cache::{CacheAction, KeyElem, QueryKey, RefetchType, RuleSet};
use crate::catalog::EventKind;
use crate::dedup::DedupConfig;
use crate::json::Value;
use crate::pipeline::{Pipeline, PipelineStats};
use crate::protocol::{decode_binary, decode_text, encode_text, Frame, FrameError, Message};
use channel::{Channel, Channels};

/// Identifies one `subscribe()`.
pub type SubscriptionId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Socket {
    /// No socket; `reconnect_at` says when to try.
    Down,
    /// Opening socket `id`.
    Opening(u64),
    /// Socket `id` is open.
    Open(u64),
}

/// Counts for `stats()`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionStats {
    /// Events through the pipeline.
    pub pipeline: PipelineStats,
    /// Connections opened after the first.
    pub reconnects: u64,
    /// Per channel: topic, state, ms since its last event (if any).
    pub channels: Vec<(String, ChannelState, Option<u64>)>,
}

/// One connection to Realtime and the casino channels joined over it.
pub struct Session {
    config: SessionConfig,
    rng: Rng,
    pipeline: Pipeline,
    resync: Vec<CacheAction>,
    socket: Socket,
    next_socket: u64,
    opened_once: bool,
    reconnect_at: Option<u64>,
    failures: u32,
    open_deadline: Option<u64>,
    heartbeat_at: Option<u64>,
    heartbeat_pending: Option<String>,
    channels: Channels,
    subscriptions: Vec<(SubscriptionId, String)>,
    next_subscription: SubscriptionId,
    next_ref: u64,
    token: Option<String>,
    token_requested: bool,
    token_request: u64,
    token_deadline: Option<u64>,
    resync_pending: bool,
    online: bool,
    closed: bool,
    status: Status,
    reconnects: u64,
    out: Vec<Output>,
}

impl Session {
    /// A session that connects when something is subscribed. `token` is the access token joins
    /// carry (the API key's claims are used without one); `seed` drives backoff jitter.
    pub fn new(
        config: SessionConfig,
        rules: RuleSet,
        dedup: DedupConfig,
        batch: BatchConfig,
        token: Option<String>,
        seed: u64,
    ) -> Self {
        let resync = resync_actions(&rules);
        Session {
            config,
            rng: Rng::new(seed),
            pipeline: Pipeline::new(rules, dedup, batch),
            resync,
            socket: Socket::Down,
            next_socket: 0,
            opened_once: false,
            reconnect_at: None,
            failures: 0,
            open_deadline: None,
            heartbeat_at: None,
            heartbeat_pending: None,
            channels: Channels::default(),
            subscriptions: Vec::new(),
            next_subscription: 0,
            next_ref: 0,
            token,
            token_requested: false,
            token_request: 0,
            token_deadline: None,
            resync_pending: false,
            online: true,
            closed: false,
            status: Status::Connecting,
            reconnects: 0,
            out: Vec::new(),
        }
    }

    /// Takes what the session asks of its host, in order.
    pub fn drain(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.out)
    }

    /// The overall status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The topic of a channel: `realtime:{casino_id}` or `realtime:{casino_id}:{resource}`.
    pub fn topic(&self, resource: Option<&str>) -> String {
        match resource {
            Some(r) => format!("realtime:{}:{r}", self.config.casino_id),
            None => format!("realtime:{}", self.config.casino_id),
        }
    }

    fn make_ref(&mut self) -> String {
        self.next_ref += 1;
        self.next_ref.to_string()
    }

    fn send(&mut self, join_ref: Option<&str>, topic: &str, event: &str, payload: Value) -> String {
        let msg_ref = self.make_ref();
        let frame = Frame::Message(Message {
            join_ref: join_ref.map(str::to_owned),
            msg_ref: Some(msg_ref.clone()),
            topic: topic.to_owned(),
            event: event.to_owned(),
            payload,
        });
        if let Ok(text) = encode_text(&frame, self.config.vsn) {
            self.out.push(Output::Send(text));
        }
        msg_ref
    }

    /// Subscribes to the casino's list feed (`None`) or a detail channel. Two subscriptions to
    /// one channel share its join.
    pub fn subscribe(&mut self, resource: Option<&str>, now: u64) -> SubscriptionId {
        self.next_subscription += 1;
        let id = self.next_subscription;
        let topic = self.topic(resource);
        self.subscriptions.push((id, topic.clone()));
        let private = self.config.private;
        let channel = self
            .channels
            .get_or_insert_with(&topic, || Channel::new(private));
        channel.refs += 1;
        channel.leave_at = None;
        if self.closed {
            return id;
        }
        // A channel waiting out its backoff, or a socket waiting out its own, is not hurried.
        let needs_join = channel.join_ref.is_none()
            && channel.state != ChannelState::Denied
            && channel.retry_at.is_none();
        match self.socket {
            Socket::Open(_) if needs_join => self.join(&topic, now),
            Socket::Down if self.reconnect_at.is_none() => self.connect(now),
            _ => {}
        }
        id
    }

    /// Ends a subscription; safe to call twice. The channel is left after the leave grace if
    /// nothing else subscribed to it meanwhile.
    pub fn unsubscribe(&mut self, id: SubscriptionId, now: u64) {
        let Some(i) = self.subscriptions.iter().position(|(s, _)| *s == id) else {
            return;
        };
        let (_, topic) = self.subscriptions.swap_remove(i);
        let grace = self.config.leave_grace_ms;
        if let Some(channel) = self.channels.get_mut(&topic) {
            channel.refs = channel.refs.saturating_sub(1);
            if channel.refs == 0 {
                channel.leave_at = Some(now + grace);
            }
        }
    }

    fn connect(&mut self, now: u64) {
        if self.closed || !matches!(self.socket, Socket::Down) {
            return;
        }
        if !self.channels.values().any(|c| c.refs > 0) {
            return;
        }
        if !self.online {
            // `navigator.onLine` is not always right (VPNs): keep trying, on the backoff.
            let delay = self
                .config
                .backoff
                .delay(self.failures.min(16), &mut self.rng);
            self.reconnect_at = Some(now + delay);
            return;
        }
        self.next_socket += 1;
        self.socket = Socket::Opening(self.next_socket);
        self.reconnect_at = None;
        // A socket stuck connecting (a captive portal, a dropped SYN) is given up on.
        self.open_deadline = Some(now + self.config.join_timeout_ms);
        self.out.push(Output::Open {
            url: self.config.socket_url(),
            socket: self.next_socket,
        });
    }

    /// The socket opened.
    pub fn socket_opened(&mut self, socket: u64, now: u64) {
        if self.socket != Socket::Opening(socket) {
            return;
        }
        self.socket = Socket::Open(socket);
        self.open_deadline = None;
        if self.opened_once {
            self.reconnects += 1;
        }
        self.opened_once = true;
        self.heartbeat_at = Some(now + self.config.heartbeat_ms);
        self.heartbeat_pending = None;
        let topics: Vec<String> = self
            .channels
            .iter()
            .filter(|(_, c)| c.refs > 0 && c.state != ChannelState::Denied)
            .map(|(t, _)| t.clone())
            .collect();
        for topic in topics {
            self.join(&topic, now);
        }
        self.update_status();
    }

    /// The socket closed or failed (`code` 1006 when it just died).
    pub fn socket_closed(&mut self, socket: u64, now: u64) {
        let current = matches!(self.socket, Socket::Opening(id) | Socket::Open(id) if id == socket);
        if current {
            self.lost(now);
        }
    }

    /// The connection is gone: every channel must rejoin, and what was missed be recovered.
    fn lost(&mut self, now: u64) {
        self.socket = Socket::Down;
        self.open_deadline = None;
        self.heartbeat_at = None;
        self.heartbeat_pending = None;
        for (topic, channel) in self.channels.iter_mut() {
            if channel.join_ref.take().is_some() || channel.state == ChannelState::Joining {
                channel.lose();
                self.out.push(Output::Channel {
                    topic: topic.clone(),
                    state: channel.state,
                });
            }
        }
        if self.closed {
            return;
        }
        // Reset only by a successful join: a socket that opens and dies (a rate limit, a proxy)
        // must back off too, not reconnect every second.
        self.failures += 1;
        let delay = self
            .config
            .backoff
            .delay(self.failures.min(16), &mut self.rng);
        self.reconnect_at = Some(now + delay);
        self.update_status();
    }

    /// The browser went offline or online. Online, a lost connection is retried at once.
    pub fn set_online(&mut self, online: bool, now: u64) {
        self.online = online;
        if online && matches!(self.socket, Socket::Down) {
            self.connect(now);
        }
    }

    /// The page became visible or hidden. Visible, a lost connection is retried at once.
    pub fn set_visible(&mut self, visible: bool, now: u64) {
        if visible && matches!(self.socket, Socket::Down) {
            self.connect(now);
        }
    }

    /// A new access token from the app (`setAuth`): joined channels get it at once, later joins
    /// carry it.
    pub fn set_auth(&mut self, token: String) {
        let changed = self.token.as_deref() != Some(token.as_str());
        self.token = Some(token);
        if !changed {
            return;
        }
        let joined: Vec<(String, String)> = self
            .channels
            .iter()
            .filter(|(_, c)| c.state == ChannelState::Joined)
            .filter_map(|(t, c)| c.join_ref.clone().map(|r| (t.clone(), r)))
            .collect();
        for (topic, join_ref) in joined {
            let payload = Value::Object(vec![(
                "access_token".into(),
                self.token.clone().unwrap_or_default().into(),
            )]);
            self.send(Some(&join_ref), &topic, "access_token", payload);
        }
    }

    /// What the app's `getAccessToken()` gave for request `id` ([`Output::RequestToken`]); an
    /// answer to an abandoned request is ignored.
    pub fn token_result(&mut self, id: u64, token: Result<String, String>, now: u64) {
        if !self.token_requested || id != self.token_request {
            return;
        }
        self.token_requested = false;
        self.token_deadline = None;
        let waiting: Vec<String> = self
            .channels
            .iter()
            .filter(|(_, c)| c.awaiting_token)
            .map(|(t, _)| t.clone())
            .collect();
        match token {
            Ok(token) if !token.is_empty() => {
                self.token = Some(token);
                for topic in waiting {
                    if let Some(c) = self.channels.get_mut(&topic) {
                        c.awaiting_token = false;
                        c.refreshed = true;
                    }
                    if matches!(self.socket, Socket::Open(_)) {
                        self.join(&topic, now);
                    }
                }
            }
            result => {
                let reason = result.err().unwrap_or_else(|| "no token".into());
                self.out.push(Output::Error(SessionError::Token {
                    reason: reason.clone(),
                }));
                for topic in waiting {
                    self.deny(&topic, &format!("token refresh failed: {reason}"));
                }
            }
        }
    }

    /// Asks the app for a token before the first join (a `getAccessToken` and no initial token):
    /// joins wait for [`Session::token_result`].
    pub fn request_token_first(&mut self, now: u64) {
        if self.token.is_none() {
            self.ask_for_token(now);
        }
    }

    /// One token request at a time (for all channels), given up after the join timeout.
    pub(super) fn ask_for_token(&mut self, now: u64) {
        if self.token_requested {
            return;
        }
        self.token_requested = true;
        self.token_request += 1;
        self.token_deadline = Some(now + self.config.join_timeout_ms);
        self.out.push(Output::RequestToken {
            id: self.token_request,
        });
    }

    /// Delivers whatever is pending now (`flush()`).
    pub fn flush(&mut self, now: u64) {
        let batch = self.pipeline.flush(now, BatchReason::Flush);
        self.deliver(batch);
    }

    /// Hands a batch out; one carrying a resync says so.
    fn deliver(&mut self, batch: Option<crate::batch::CacheBatch>) {
        if let Some(mut batch) = batch {
            if std::mem::take(&mut self.resync_pending) {
                batch.reason = BatchReason::Resync;
            }
            self.out.push(Output::Batch(batch));
        }
    }

    /// With no channel left, the socket goes too (and is not reconnected).
    pub(super) fn close_if_idle(&mut self) {
        if self.channels.values().any(|c| c.refs > 0) || matches!(self.socket, Socket::Down) {
            return;
        }
        self.out.push(Output::Close {
            code: 1000,
            reason: "no channels".into(),
        });
        self.socket = Socket::Down;
        self.open_deadline = None;
        self.heartbeat_at = None;
        self.heartbeat_pending = None;
        self.reconnect_at = None;
    }

    /// Closes everything for good (`close()`): pending actions are delivered first.
    pub fn close(&mut self, now: u64) {
        if self.closed {
            return;
        }
        self.flush(now);
        self.closed = true;
        if !matches!(self.socket, Socket::Down) {
            self.out.push(Output::Close {
                code: 1000,
                reason: "closed by the app".into(),
            });
        }
        self.socket = Socket::Down;
        self.channels.clear();
        self.subscriptions.clear();
        self.reconnect_at = None;
        self.heartbeat_at = None;
        self.set_status(Status::Closed);
    }

    /// When the session next needs `tick`.
    pub fn deadline(&self) -> Option<u64> {
        let channel_times = self
            .channels
            .values()
            .flat_map(|c| [c.retry_at, c.join_deadline, c.leave_at])
            .flatten();
        [
            self.reconnect_at,
            self.open_deadline,
            self.heartbeat_at,
            self.token_deadline,
            self.pipeline.deadline(),
        ]
        .into_iter()
        .flatten()
        .chain(channel_times)
        .min()
    }

    /// Runs what is due at `now`: reconnects, heartbeats and their timeouts, join timeouts,
    /// rejoins, leaves after the grace, and the batch window.
    pub fn tick(&mut self, now: u64) {
        if self.reconnect_at.is_some_and(|t| t <= now) {
            self.reconnect_at = None;
            self.connect(now);
        }
        if self.open_deadline.is_some_and(|t| t <= now) {
            self.out.push(Output::Close {
                code: 1000,
                reason: "connect timeout".into(),
            });
            self.lost(now);
        }
        if self.token_deadline.is_some_and(|t| t <= now) {
            let id = self.token_request;
            self.token_result(id, Err("getAccessToken did not answer in time".into()), now);
        }
        if self.heartbeat_at.is_some_and(|t| t <= now) {
            if self.heartbeat_pending.is_some() {
                // No reply within a heartbeat period: the connection is dead, whatever the
                // socket says. Stop waiting for its close and reconnect.
                self.out.push(Output::Close {
                    code: 1000,
                    reason: "heartbeat timeout".into(),
                });
                self.lost(now);
            } else {
                let r = self.send(None, "phoenix", "heartbeat", Value::Object(Vec::new()));
                self.heartbeat_pending = Some(r);
                self.heartbeat_at = Some(now + self.config.heartbeat_ms);
            }
        }
        let topics: Vec<String> = self.channels.keys().cloned().collect();
        for topic in topics {
            self.tick_channel(&topic, now);
        }
        let batch = self.pipeline.poll(now);
        self.deliver(batch);
    }

    /// A text frame arrived on `socket`.
    pub fn text_frame(&mut self, socket: u64, text: &str, now: u64) {
        if self.socket == Socket::Open(socket) {
            let frame = decode_text(text, self.config.vsn);
            self.frame(frame, now);
        }
    }

    /// A binary frame arrived on `socket`.
    pub fn binary_frame(&mut self, socket: u64, bytes: &[u8], now: u64) {
        if self.socket == Socket::Open(socket) {
            self.frame(decode_binary(bytes), now);
        }
    }

    fn frame(&mut self, frame: Result<Frame, FrameError>, now: u64) {
        match frame {
            Err(e) => self
                .out
                .push(Output::Error(SessionError::BadFrame { reason: e.reason })),
            Ok(Frame::Broadcast(b)) => self.broadcast(b, now),
            Ok(Frame::Message(m)) if m.topic == "phoenix" => {
                if m.event == "phx_reply"
                    && m.msg_ref.is_some()
                    && m.msg_ref == self.heartbeat_pending
                {
                    self.heartbeat_pending = None;
                }
            }
            Ok(Frame::Message(m)) => self.channel_message(m, now),
        }
    }

    fn set_status(&mut self, status: Status) {
        if self.status != status {
            self.status = status;
            self.out.push(Output::Status(status));
        }
    }

    /// Denied if any subscribed channel is; else from the socket and the recent failures.
    fn update_status(&mut self) {
        if self.closed {
            return;
        }
        let denied = self
            .channels
            .values()
            .any(|c| c.refs > 0 && c.state == ChannelState::Denied);
        let failing = self.failures >= self.config.degraded_after
            || self
                .channels
                .values()
                .any(|c| c.failures >= self.config.degraded_after);
        let status = match self.socket {
            _ if denied => Status::Denied,
            _ if failing => Status::Degraded,
            Socket::Open(_) => Status::Connected,
            Socket::Opening(_) | Socket::Down if !self.opened_once => Status::Connecting,
            _ => Status::Reconnecting,
        };
        self.set_status(status);
    }

    /// Counts and channel states.
    pub fn stats(&self, now: u64) -> SessionStats {
        SessionStats {
            pipeline: self.pipeline.stats(),
            reconnects: self.reconnects,
            channels: self
                .channels
                .iter()
                .map(|(t, c)| {
                    (
                        t.clone(),
                        c.state,
                        c.last_received.map(|at| now.saturating_sub(at)),
                    )
                })
                .collect(),
        }
    }

    /// The replay filter's current size, for memory checks.
    pub fn dedup_len(&self) -> usize {
        self.pipeline.dedup().len()
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
