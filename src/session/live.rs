//! The session while it lives: its parts, the inputs that reach it, the connection, what is due,
//! and the status derived from it all.

use super::auth::{Auth, TokenRequest};
use super::channel::{Channel, Channels, Coverage, Demand, Phase};
use super::clients::{Client, Subscription};
use super::link::{Heartbeat, Link, LinkState, OpenLink};
use super::recovery::{resync_actions, Skew};
use super::retry::Rng;
use super::types::{ChannelState, Output, SessionError, SessionStats, Status};
use super::{SessionConfig, SubscriptionId, MAX_FRAME_BYTES};
use crate::audience::{Audience, ClientId, MAX_CLIENTS};
use crate::batch::{BatchConfig, BatchReason, CacheBatch};
use crate::cache::{CacheAction, RuleSet};
use crate::clock::Now;
use crate::dedup::DedupConfig;
use crate::inspect::Inspector;
use crate::json::Value;
use crate::pipeline::Pipeline;
use crate::protocol::{decode_binary, decode_text, encode_text, Frame, FrameError, Message};

/// The time of the last input and the deadline the session then asked for: a later input
/// tells from them whether the machine slept or the page was frozen.
#[derive(Debug, Default)]
pub(super) struct Watch {
    last: Option<Now>,
    due: Option<u64>,
}

pub(super) struct Live {
    pub config: SessionConfig,
    pub rng: Rng,
    pub pipeline: Pipeline,
    /// What a resync invalidates: every key family the rules write.
    pub resync: Vec<CacheAction>,
    pub link: Link,
    pub auth: Auth,
    pub channels: Channels,
    /// Who the session serves (client 0 from the start), each with what it was last told.
    pub clients: Vec<Client>,
    pub subscriptions: Vec<Subscription>,
    pub next_subscription: SubscriptionId,
    pub next_ref: u64,
    pub skew: Skew,
    pub watch: Watch,
    /// Channels whose resync is in open windows, with the clients whose batches still carry
    /// it: fresh once every one of them is delivered.
    pub resync_in_window: Vec<(String, Audience)>,
    pub unreadable_frames: u64,
    pub replays: u64,
    pub resyncs: u64,
    pub out: Vec<Output>,
    /// What `debug` records (`src/inspect.rs`); `None` when off.
    pub inspector: Option<Box<Inspector>>,
}

impl Live {
    pub fn new(
        config: SessionConfig,
        rules: RuleSet,
        dedup: DedupConfig,
        batch: BatchConfig,
        token: Option<String>,
        token_source: bool,
        seed: u64,
    ) -> Self {
        let mut rng = Rng::new(seed);
        let dedup_seed = rng.next_u64();
        let inspector = if config.inspect > 0 {
            Inspector::boxed(config.inspect, config.log)
        } else {
            None
        };
        let resync = resync_actions(&rules);
        let mut pipeline = Pipeline::new(rules, dedup, batch, dedup_seed);
        pipeline.keep_keys(inspector.is_some());
        Live {
            config,
            resync,
            pipeline,
            rng,
            link: Link::new(),
            auth: Auth::new(token, token_source),
            channels: Channels::default(),
            clients: vec![Client::new(0)],
            subscriptions: Vec::new(),
            next_subscription: 0,
            next_ref: 0,
            skew: Skew::default(),
            watch: Watch::default(),
            resync_in_window: Vec::new(),
            unreadable_frames: 0,
            replays: 0,
            resyncs: 0,
            out: Vec::new(),
            inspector,
        }
    }

    // ---- time ----

    /// The earliest deadline of every part.
    pub fn deadline(&self) -> Option<u64> {
        [
            self.link.deadline(),
            self.auth.deadline(),
            self.pipeline.deadline(),
        ]
        .into_iter()
        .flatten()
        .chain(self.clients.iter().filter_map(|c| c.poll_at))
        .chain(self.channels.iter().filter_map(Channel::deadline))
        .min()
    }

    /// A wall clock that ran further than the monotonic one (the machine slept: monotonic
    /// clocks stop in suspend), or a deadline served far too late (a frozen or throttled page):
    /// the connection may be dead without the socket knowing, so check it now.
    pub fn observe_clock(&mut self, now: Now) {
        let Some(last) = self.watch.last else {
            return;
        };
        let wake = self.config.wake_after_ms;
        let wall_ran = now.wall.saturating_sub(last.wall);
        let mono_ran = now.mono.saturating_sub(last.mono) as i64;
        let slept = wall_ran.saturating_sub(mono_ran) > wake as i64;
        let late = self
            .watch
            .due
            .is_some_and(|due| now.mono > due.saturating_add(wake));
        if slept || late {
            self.check_link(now);
        }
    }

    /// Before an input: a wake is noticed, and what was due runs.
    #[inline(never)]
    pub fn begin(&mut self, now: Now) {
        self.observe_clock(now);
        self.run_due(now);
    }

    /// After an input: what it made due runs, a channel waiting for a token has a request
    /// under way or scheduled, and the status is reported if it changed.
    #[inline(never)]
    pub fn end(&mut self, now: Now) {
        self.run_due(now);
        if self.needs_token() {
            self.need_token(now);
        }
        self.settle(now);
    }

    /// Runs everything due at `now`. Each step moves its own deadline past `now`, so a few
    /// passes (a due retry can make a join due) always end it.
    pub fn run_due(&mut self, now: Now) {
        for _ in 0..8 {
            if !self.deadline().is_some_and(|d| d <= now.mono) {
                return;
            }
            self.due_link(now);
            self.due_auth(now);
            self.due_channels(now);
            self.due_poll(now);
            while let Some((client, batch)) = self.pipeline.poll(now.mono) {
                self.deliver(client, batch, now);
            }
        }
    }

    /// Stale for a whole period: refetch what the channels feed (active queries), as a `poll`
    /// batch, and again a period later while still stale.
    fn due_poll(&mut self, now: Now) {
        let period = self.config.fallback_poll_ms;
        for client in &mut self.clients {
            let Some(at) = client.poll_at.filter(|&at| at <= now.mono) else {
                continue;
            };
            let to = Audience::of(client.id);
            self.pipeline.push_poll(to, self.resync.clone(), now.mono);
            client.poll_at = Some(at.max(now.mono) + period);
        }
    }

    /// After an input: remember the time, and tell each client its status and `staleSince`
    /// if they changed.
    pub fn settle(&mut self, now: Now) {
        let period = self.config.fallback_poll_ms;
        for i in 0..self.clients.len() {
            let id = self.clients[i].id;
            let status = self.derive_status(id, now);
            let stale = self.stale_since(id, now);
            let client = &mut self.clients[i];
            if status != client.status {
                client.status = status;
                self.out.push(Output::Status(id, status));
            }
            if stale != client.stale {
                // Polling starts a period after the client went stale, and stops when it is
                // fresh.
                client.poll_at = match (stale, client.poll_at) {
                    (None, _) => None,
                    (Some(_), Some(at)) => Some(at),
                    (Some(_), None) => (period > 0).then_some(now.mono + period),
                };
                client.stale = stale;
                self.out.push(Output::Stale(id, stale));
            }
        }
        // After the clients: a poll may have moved the deadline.
        self.watch = Watch {
            last: Some(now),
            due: self.deadline(),
        };
    }

    // ---- clients ----

    /// A new client (a tab sharing this session), or `None` when [`MAX_CLIENTS`] are served.
    pub fn add_client(&mut self) -> Option<ClientId> {
        let id = (0..MAX_CLIENTS).find(|&id| self.client(id).is_none())?;
        self.clients.push(Client::new(id));
        self.pipeline.add_client(id);
        Some(id)
    }

    /// A client is gone: its subscriptions end and what was pending for it is dropped.
    pub fn remove_client(&mut self, id: ClientId, now: Now) {
        let Some(i) = self.clients.iter().position(|c| c.id == id) else {
            return;
        };
        self.clients.swap_remove(i);
        let held: Vec<SubscriptionId> = self
            .subscriptions
            .iter()
            .filter(|s| s.client == id)
            .map(|s| s.id)
            .collect();
        for subscription in held {
            self.unsubscribe(subscription, now);
        }
        let gone = Audience::of(id);
        for channel in self.channels.iter_mut() {
            channel.audience = channel.audience.without(gone);
        }
        self.pipeline.remove_client(id);
        self.resync_delivered(id);
    }

    pub fn client(&self, id: ClientId) -> Option<&Client> {
        self.clients.iter().find(|c| c.id == id)
    }

    /// Every client served.
    fn everyone(&self) -> Audience {
        self.clients
            .iter()
            .fold(Audience::NONE, |all, c| all.with(Audience::of(c.id)))
    }

    /// Tells `to` (those of them still served) of an error.
    pub fn report(&mut self, to: Audience, error: SessionError) {
        for client in to.and(self.everyone()).iter() {
            self.out.push(Output::Error(client, error.clone()));
        }
    }

    /// Tells every client of an error that concerns them all (the connection, the token).
    pub fn report_all(&mut self, error: SessionError) {
        self.report(self.everyone(), error);
    }

    /// The clients the events of `topic` are for.
    pub fn audience(&self, topic: &str) -> Audience {
        self.channels
            .get(topic)
            .map_or(Audience::NONE, |c| c.audience)
    }

    // ---- subscriptions ----

    /// `None` for a client that is not served. `missed`: the client comes from another host
    /// (docs/tabs.md) and may have missed this channel's events since then.
    pub fn subscribe(
        &mut self,
        client: ClientId,
        resource: Option<&str>,
        missed: Option<Now>,
        now: Now,
    ) -> Option<SubscriptionId> {
        self.client(client)?;
        self.next_subscription += 1;
        let id = self.next_subscription;
        let topic = match resource {
            Some(r) => format!("realtime:{}:{r}", self.config.casino_id),
            None => format!("realtime:{}", self.config.casino_id),
        };
        self.subscriptions.push(Subscription {
            id,
            client,
            topic: topic.clone(),
        });
        let audience = Audience::of(client);
        match self.channels.get_mut(&topic) {
            Some(channel) => {
                channel.demand = match channel.demand {
                    Demand::Wanted(n) => Demand::Wanted(n + 1),
                    Demand::Releasing { .. } => Demand::Wanted(1),
                };
                // A new subscriber may come after a change of policy: try a refused channel now.
                if let Phase::Refused { retry_at, .. } = &mut channel.phase {
                    *retry_at = Some(now.mono);
                }
            }
            None => self.channels.0.push(Channel::new(topic.clone(), now)),
        }
        if let Some(channel) = self.channels.get_mut(&topic) {
            // Held again after a leave grace: only its holders now hear of it.
            channel.audience = match channel.demand {
                Demand::Wanted(1) => audience,
                _ => channel.audience.with(audience),
            };
            if let Some(missed) = missed {
                // Decided before the join goes out below, which reads the coverage.
                let joined = matches!(channel.phase, Phase::Joined(_));
                match channel.coverage {
                    // Joined here already: this session's own record is sound; only this
                    // client's gap is unknown, so it alone refetches.
                    _ if joined => {
                        let actions = self.resync.clone();
                        self.pipeline.push_resync(audience, actions, now.mono);
                        self.resyncs += 1;
                    }
                    Coverage::Inherited(since) if since.wall <= missed.wall => {}
                    _ => channel.coverage = Coverage::Inherited(missed),
                }
            }
        }
        self.join_ready(now);
        self.ensure_link(now);
        Some(id)
    }

    pub fn unsubscribe(&mut self, id: SubscriptionId, now: Now) {
        let Some(i) = self.subscriptions.iter().position(|s| s.id == id) else {
            return;
        };
        let Subscription { topic, .. } = self.subscriptions.swap_remove(i);
        let until = now.mono + self.config.leave_grace_ms;
        // Its events go to those who still hold it; during the leave grace, to the last holders.
        let holders = self
            .subscriptions
            .iter()
            .filter(|s| s.topic == topic)
            .fold(Audience::NONE, |all, s| all.with(Audience::of(s.client)));
        if let Some(channel) = self.channels.get_mut(&topic) {
            channel.demand = match channel.demand {
                Demand::Wanted(n) if n > 1 => Demand::Wanted(n - 1),
                _ => Demand::Releasing { until },
            };
            if !holders.is_empty() {
                channel.audience = holders;
            }
        }
    }

    // ---- the connection ----

    fn wants_link(&self) -> bool {
        self.channels.iter().any(Channel::wanted)
    }

    /// Opens a socket if a channel wants one and none is on its way.
    pub fn ensure_link(&mut self, now: Now) {
        if matches!(self.link.state, LinkState::Down { retry_at: None }) {
            self.connect(now);
        }
    }

    fn connect(&mut self, now: Now) {
        if !self.wants_link() {
            self.link.state = LinkState::Down { retry_at: None };
            return;
        }
        if !self.link.online {
            // `navigator.onLine` is not always right (VPNs): keep trying, on the backoff.
            let delay = self.link_delay(now);
            self.link.state = LinkState::Down {
                retry_at: Some(now.mono + delay),
            };
            return;
        }
        self.link.sockets += 1;
        let socket = self.link.sockets;
        self.link.state = LinkState::Opening {
            socket,
            deadline: now.mono + self.config.join_timeout_ms,
        };
        self.out.push(Output::Open {
            url: self.config.socket_url(),
            socket,
        });
    }

    /// The wait before the next connection attempt, full jitter under a ceiling that follows
    /// how long the connection has been failing: within the base for the first seconds (a Wi-Fi
    /// blip is over quickly, and a replay covers only 25 messages), then up to half the outage
    /// so far, capped.
    fn link_delay(&mut self, now: Now) -> u64 {
        let backoff = self.config.backoff;
        let failing = self
            .link
            .failing_since
            .map_or(0, |since| now.mono.saturating_sub(since));
        let ceiling = if failing < self.config.quick_reconnect_ms {
            backoff.base_ms
        } else {
            (failing / 2).clamp(backoff.base_ms, backoff.cap_ms)
        };
        self.rng.up_to(ceiling).max(backoff.floor_ms)
    }

    pub fn socket_opened(&mut self, socket: u64, now: Now) {
        if !matches!(self.link.state, LinkState::Opening { socket: s, .. } if s == socket) {
            return;
        }
        self.link.opened += 1;
        self.link.state = LinkState::Open(OpenLink {
            socket,
            worked: false,
            last_frame: now,
            heartbeat: Heartbeat::Due(now.mono + self.config.heartbeat_ms),
        });
        self.join_ready(now);
    }

    pub fn socket_closed(&mut self, socket: u64, now: Now) {
        if self.link.is_current(socket) {
            self.lose_link(now);
        }
    }

    /// Closes the socket ourselves (a timeout), then loses it.
    fn drop_link(&mut self, reason: &str, now: Now) {
        self.out.push(Output::Close {
            code: 1000,
            reason: reason.into(),
        });
        self.lose_link(now);
    }

    /// The one way a connection ends: every joined channel opens a gap from the last frame
    /// received, every join under way starts over on the next socket, and the next socket waits
    /// its backoff. A connection on which a join succeeded resets the failure streak first, so
    /// only connections that fail (refused, dying before any join) grow it.
    pub fn lose_link(&mut self, now: Now) {
        let (worked, gap_from) = match &self.link.state {
            LinkState::Open(open) => (open.worked, open.last_frame),
            _ => (false, now),
        };
        if worked {
            self.link.failing_since = None;
        }
        self.link.failing_since.get_or_insert(now.mono);
        let delay = self.link_delay(now);
        self.link.state = LinkState::Down {
            retry_at: self.wants_link().then_some(now.mono + delay),
        };
        for channel in self.channels.iter_mut() {
            match std::mem::replace(&mut channel.phase, Phase::Pending) {
                Phase::Joined(_) => channel.open_gap(gap_from),
                Phase::Joining(join) => {
                    if let Some(reason) = join.retry_of {
                        // Still refused as far as we know: tried again after its backoff.
                        let attempt = channel.failures.saturating_sub(1).min(16);
                        let wait = self.config.refused_backoff.delay(attempt, &mut self.rng);
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

    /// Checks the connection now (a wake, a resumed page): a heartbeat with a short timeout
    /// when open, a connection attempt without waiting out the backoff when down.
    pub fn check_link(&mut self, now: Now) {
        let probe_deadline = now.mono + self.config.probe_timeout_ms;
        match &mut self.link.state {
            LinkState::Down { .. } => {
                if self.wants_link() {
                    self.connect(now);
                }
            }
            LinkState::Opening { .. } => {}
            LinkState::Open(open) => match &mut open.heartbeat {
                Heartbeat::Awaiting { deadline, .. } => {
                    *deadline = (*deadline).min(probe_deadline);
                }
                Heartbeat::Due(next) => {
                    let next = *next;
                    self.heartbeat(probe_deadline, next);
                }
            },
        }
    }

    fn heartbeat(&mut self, deadline: u64, next: u64) {
        let msg_ref = self.send(None, "phoenix", "heartbeat", Value::Object(Vec::new()));
        if let LinkState::Open(open) = &mut self.link.state {
            open.heartbeat = Heartbeat::Awaiting {
                msg_ref,
                deadline,
                next,
            };
        }
    }

    fn due_link(&mut self, now: Now) {
        let t = now.mono;
        match &self.link.state {
            LinkState::Down { retry_at: Some(at) } if *at <= t => self.connect(now),
            LinkState::Opening { deadline, .. } if *deadline <= t => {
                self.drop_link("connect timeout", now)
            }
            LinkState::Open(open) => match &open.heartbeat {
                // No reply in time: the connection is dead, whatever the socket says; unless
                // joins are queued on it, which the server answers one at a time and late (the
                // reply waits behind them): their timeouts decide.
                Heartbeat::Awaiting { deadline, .. } if *deadline <= t => {
                    let queued = self
                        .channels
                        .iter()
                        .filter_map(|c| match &c.phase {
                            Phase::Joining(j) if j.deadline > t => Some(j.deadline),
                            _ => None,
                        })
                        .max();
                    match queued {
                        Some(later) => {
                            if let LinkState::Open(open) = &mut self.link.state {
                                if let Heartbeat::Awaiting { deadline, .. } = &mut open.heartbeat {
                                    *deadline = later;
                                }
                            }
                        }
                        None => self.drop_link("heartbeat timeout", now),
                    }
                }
                Heartbeat::Due(at) if *at <= t => {
                    let period = self.config.heartbeat_ms;
                    self.heartbeat(t + period, t + period);
                }
                _ => {}
            },
            _ => {}
        }
    }

    pub fn set_online(&mut self, online: bool, now: Now) {
        self.link.online = online;
        if online && matches!(self.link.state, LinkState::Down { .. }) {
            self.connect(now);
        }
    }

    /// With no channel left, the socket goes too, and is not reconnected.
    fn close_if_idle(&mut self) {
        if !self.channels.0.is_empty() {
            return;
        }
        if !matches!(self.link.state, LinkState::Down { .. }) {
            self.out.push(Output::Close {
                code: 1000,
                reason: "no channels".into(),
            });
        }
        self.link.state = LinkState::Down { retry_at: None };
    }

    // ---- frames ----

    /// Sends a message with a fresh ref; returns the ref.
    pub fn send(
        &mut self,
        join_ref: Option<&str>,
        topic: &str,
        event: &str,
        payload: Value,
    ) -> String {
        self.next_ref += 1;
        let msg_ref = self.next_ref.to_string();
        self.send_with_ref(join_ref, &msg_ref, topic, event, payload);
        msg_ref
    }

    pub fn send_with_ref(
        &mut self,
        join_ref: Option<&str>,
        msg_ref: &str,
        topic: &str,
        event: &str,
        payload: Value,
    ) {
        let frame = Frame::Message(Message {
            join_ref: join_ref.map(str::to_owned),
            msg_ref: Some(msg_ref.to_owned()),
            topic: topic.to_owned(),
            event: event.to_owned(),
            payload,
        });
        if let Ok(text) = encode_text(&frame, self.config.vsn) {
            self.out.push(Output::Send(text));
        }
    }

    /// Whether a frame on `socket` is to be read; records that the connection is alive.
    fn receiving(&mut self, socket: u64, now: Now) -> bool {
        let probe = self.config.probe_timeout_ms;
        match &mut self.link.state {
            LinkState::Open(open) if open.socket == socket => {
                open.last_frame = now;
                // Any frame proves the socket alive: the awaited reply may be behind it.
                if let Heartbeat::Awaiting { deadline, .. } = &mut open.heartbeat {
                    *deadline = (*deadline).max(now.mono + probe);
                }
                true
            }
            _ => false,
        }
    }

    pub fn text_frame(&mut self, socket: u64, text: &str, now: Now) {
        if !self.receiving(socket, now) {
            return;
        }
        if text.len() > MAX_FRAME_BYTES {
            return self.frame_refused(socket, text.len());
        }
        let frame = decode_text(text, self.config.vsn);
        self.frame(frame, now);
    }

    pub fn binary_frame(&mut self, socket: u64, bytes: &[u8], now: Now) {
        if !self.receiving(socket, now) {
            return;
        }
        if bytes.len() > MAX_FRAME_BYTES {
            return self.frame_refused(socket, bytes.len());
        }
        self.frame(decode_binary(bytes), now);
    }

    pub fn frame_refused(&mut self, socket: u64, bytes: usize) {
        if self.link.open_socket() == Some(socket) {
            self.unreadable(format!(
                "a frame of {bytes} bytes is over the {MAX_FRAME_BYTES}-byte limit"
            ));
        }
    }

    pub fn unreadable(&mut self, reason: String) {
        self.unreadable_frames += 1;
        self.report_all(SessionError::BadFrame { reason });
    }

    fn frame(&mut self, frame: Result<Frame, FrameError>, now: Now) {
        match frame {
            Err(e) => self.unreadable(e.reason),
            Ok(Frame::Broadcast(b)) => self.broadcast(b, now),
            Ok(Frame::Message(m)) if m.topic == "phoenix" => {
                if m.event != "phx_reply" || m.msg_ref.is_none() {
                    return;
                }
                if let LinkState::Open(open) = &mut self.link.state {
                    if let Heartbeat::Awaiting { msg_ref, next, .. } = &open.heartbeat {
                        if m.msg_ref.as_ref() == Some(msg_ref) {
                            open.heartbeat = Heartbeat::Due(*next);
                        }
                    }
                }
            }
            Ok(Frame::Message(m)) => self.channel_message(m, now),
        }
    }

    // ---- channels due ----

    fn due_channels(&mut self, now: Now) {
        let t = now.mono;
        let joins_pending = self.joins_pending();
        for topic in self.channels.topics() {
            let Some(channel) = self.channels.get_mut(&topic) else {
                continue;
            };
            if matches!(channel.demand, Demand::Releasing { until } if until <= t) {
                if let Some(join_ref) = channel.join_ref().map(str::to_owned) {
                    self.send(
                        Some(&join_ref),
                        &topic,
                        "phx_leave",
                        Value::Object(Vec::new()),
                    );
                }
                self.channels.0.retain(|c| c.topic != topic);
                continue;
            }
            match &mut channel.phase {
                Phase::Joining(join) if join.deadline <= t => {
                    // No reply in time: leave that join, as realtime-js does, and try again.
                    let join_ref = join.join_ref.clone();
                    self.send(
                        Some(&join_ref),
                        &topic,
                        "phx_leave",
                        Value::Object(Vec::new()),
                    );
                    self.failed(&topic, "join timed out", now);
                }
                Phase::Joined(joined)
                    if joined.replay.as_ref().is_some_and(|r| r.settle_at <= t) =>
                {
                    // Replayed messages come through the server's socket process, which answers
                    // refused joins one at a time, late: they may still be behind those.
                    if joins_pending {
                        if let Some(replay) = joined.replay.as_mut() {
                            replay.settle_at = t + self.config.replay_settle_ms;
                        }
                    } else {
                        self.settle_replay(&topic, now)
                    }
                }
                Phase::Joined(joined) if joined.resync.is_some_and(|r| r.at <= t) => {
                    if let Some(pending) = joined.resync.take() {
                        self.resync_now(&topic, pending.cause, now);
                    }
                }
                Phase::BackingOff { until, .. } if *until <= t => channel.phase = Phase::Pending,
                Phase::Refused { retry_at, .. } if retry_at.is_some_and(|at| at <= t) => {
                    // Tried as soon as the socket is open (`join_ready`).
                    *retry_at = None;
                }
                _ => {}
            }
        }
        self.join_ready(now);
        self.close_if_idle();
    }

    /// Joins every wanted channel that waits for the socket (or for its retry after a refusal),
    /// when the socket is open and a token is in hand; asks for the first token if need be.
    pub fn join_ready(&mut self, now: Now) {
        if self.link.open_socket().is_none() {
            return;
        }
        let ready: Vec<String> = self
            .channels
            .iter()
            .filter(|c| c.wanted())
            .filter(|c| {
                matches!(
                    c.phase,
                    Phase::Pending | Phase::Refused { retry_at: None, .. }
                )
            })
            .map(|c| c.topic.clone())
            .collect();
        if ready.is_empty() {
            return;
        }
        // No token yet (the first is on its way): ask first.
        if !self.auth.ready() {
            self.need_token(now);
            return;
        }
        // The token in use expired and the app can give another: these wait for it too.
        if self.auth.is_stale(now.wall) {
            for topic in ready {
                if let Some(channel) = self.channels.get_mut(&topic) {
                    if matches!(channel.phase, Phase::Pending) {
                        channel.phase = Phase::AwaitingToken {
                            reason: "the access token expired".into(),
                        };
                    }
                }
            }
            self.need_token(now);
            return;
        }
        for topic in ready {
            self.join(&topic, now);
        }
    }

    /// A join on this socket is still unanswered.
    fn joins_pending(&self) -> bool {
        self.channels
            .iter()
            .any(|c| matches!(c.phase, Phase::Joining(_)))
    }

    // ---- tokens ----

    /// Asks the app for a token unless a request is under way or waiting out its backoff. After
    /// tokens that did not work, the request waits its backoff first.
    pub fn need_token(&mut self, now: Now) {
        if !self.auth.source || self.auth.request != TokenRequest::Idle {
            return;
        }
        if self.auth.failures > 0 {
            let attempt = (self.auth.failures - 1).min(16);
            let delay = self.config.token_backoff.delay(attempt, &mut self.rng);
            self.auth.request = TokenRequest::Waiting {
                until: now.mono + delay,
            };
            return;
        }
        self.ask_token(now);
    }

    fn ask_token(&mut self, now: Now) {
        self.auth.requests += 1;
        let id = self.auth.requests;
        self.auth.request = TokenRequest::InFlight {
            id,
            deadline: now.mono + self.config.join_timeout_ms,
        };
        self.out.push(Output::RequestToken { id });
    }

    fn needs_token(&self) -> bool {
        self.channels.iter().any(|c| {
            c.wanted()
                && (matches!(c.phase, Phase::AwaitingToken { .. })
                    || (matches!(c.phase, Phase::Pending) && !self.auth.ready()))
        })
    }

    fn due_auth(&mut self, now: Now) {
        match self.auth.request {
            TokenRequest::InFlight { id, deadline } if deadline <= now.mono => {
                self.token_result(id, Err("getAccessToken did not answer in time".into()), now)
            }
            TokenRequest::Waiting { until } if until <= now.mono => {
                self.auth.request = TokenRequest::Idle;
                if self.needs_token() {
                    self.ask_token(now);
                }
            }
            _ => {}
        }
    }

    pub fn token_result(&mut self, id: u64, token: Result<String, String>, now: Now) {
        if !matches!(self.auth.request, TokenRequest::InFlight { id: i, .. } if i == id) {
            return;
        }
        self.auth.request = TokenRequest::Idle;
        let token = match token {
            Ok(t) if t.is_empty() => Err("getAccessToken gave no token".to_owned()),
            Ok(t) if self.auth.is_expired() && self.auth.token.as_deref() == Some(t.as_str()) => {
                Err("getAccessToken gave back the token that expired".to_owned())
            }
            other => other,
        };
        match token {
            Ok(token) => {
                self.auth.install(token);
                if self.auth.expires_at.is_some_and(|at| at <= now.wall) {
                    // Past its exp as soon as it is given: the local clock disagrees with the
                    // issuer's. Joined with all the same; the server judges.
                    self.auth.fresh = Some(self.auth.generation);
                }
                self.token_arrived(now);
            }
            Err(reason) => {
                self.report_all(SessionError::Token { reason });
                self.auth.failures += 1;
                let attempt = (self.auth.failures - 1).min(16);
                let delay = self.config.token_backoff.delay(attempt, &mut self.rng);
                self.auth.request = TokenRequest::Waiting {
                    until: now.mono + delay,
                };
            }
        }
    }

    pub fn set_auth(&mut self, token: String, now: Now) {
        if token.is_empty() || !self.auth.install(token) {
            return;
        }
        if matches!(self.auth.request, TokenRequest::Waiting { .. }) {
            self.auth.request = TokenRequest::Idle;
        }
        self.token_arrived(now);
    }

    /// A new token is in use: joined channels get it (Supabase re-checks their policies),
    /// channels waiting for one or refused join again with it.
    fn token_arrived(&mut self, now: Now) {
        for topic in self.channels.topics() {
            let Some(channel) = self.channels.get_mut(&topic) else {
                continue;
            };
            match &mut channel.phase {
                Phase::Joined(_) => self.push_token(&topic),
                Phase::AwaitingToken { .. } => channel.phase = Phase::Pending,
                Phase::Refused { retry_at, .. } => *retry_at = None,
                _ => {}
            }
        }
        self.join_ready(now);
    }

    /// Gives a joined channel the token in use (`access_token`); the channel then holds it.
    pub fn push_token(&mut self, topic: &str) {
        let generation = self.auth.generation;
        let token = self.auth.token.clone().unwrap_or_default();
        let Some(Phase::Joined(joined)) = self.channels.get_mut(topic).map(|c| &mut c.phase) else {
            return;
        };
        joined.token = generation;
        let join_ref = joined.join_ref.clone();
        let payload = Value::Object(vec![("access_token".into(), token.into())]);
        self.send(Some(&join_ref), topic, "access_token", payload);
    }

    // ---- batches ----

    /// Hands a client its batch, the window's times on the wall clock.
    pub fn deliver(&mut self, client: ClientId, mut batch: CacheBatch, now: Now) {
        batch.opened_at = now.wall_at(batch.opened_at).max(0) as u64;
        batch.flushed_at = now.wall.max(0) as u64;
        if let Some(inspector) = self.inspector.as_deref_mut() {
            inspector.batch(&batch, now.wall);
        }
        self.resync_delivered(client);
        self.out.push(Output::Batch(client, batch));
    }

    /// `client`'s batch carrying the resyncs in its window went out (or the client is gone): a
    /// resync every client has received closes its channel's gap, if the channel is still
    /// joined (lost meanwhile, its gap stays open for its next join).
    fn resync_delivered(&mut self, client: ClientId) {
        let done = Audience::of(client);
        for (_, waiting) in &mut self.resync_in_window {
            *waiting = waiting.without(done);
        }
        self.close_resynced();
    }

    /// Closes the gaps of the resyncs every client has received.
    pub fn close_resynced(&mut self) {
        while let Some(i) = self.resync_in_window.iter().position(|(_, w)| w.is_empty()) {
            let (topic, _) = self.resync_in_window.swap_remove(i);
            if let Some(channel) = self.channels.get_mut(&topic) {
                if matches!(channel.phase, Phase::Joined(_)) {
                    channel.coverage = Coverage::Covered;
                }
            }
        }
    }

    /// Delivers `client`'s pending batch now.
    pub fn flush(&mut self, client: ClientId, now: Now) {
        if let Some(batch) = self.pipeline.flush(client, now.mono, BatchReason::Flush) {
            self.deliver(client, batch, now);
        }
    }

    pub fn close(&mut self, now: Now) {
        let clients: Vec<ClientId> = self.pipeline.clients().collect();
        for client in clients {
            self.flush(client, now);
        }
        if !matches!(self.link.state, LinkState::Down { .. }) {
            self.out.push(Output::Close {
                code: 1000,
                reason: "closed by the app".into(),
            });
        }
    }

    // ---- status and stats ----

    /// A client's status from the socket and its channels (see [`Status`]).
    fn derive_status(&self, client: ClientId, now: Now) -> Status {
        let mut channels = self
            .channels
            .iter()
            .filter(|c| c.audience.contains(client))
            .peekable();
        if channels.peek().is_none() {
            return Status::Connecting;
        }
        let (mut live, mut refused, mut transient, mut total) = (0, 0, 0, 0);
        // `lost`: a channel on its way back that was joined before. A first join beside a
        // live channel (a second subscription, joins answered one by one) is connecting.
        let (mut failing, mut lost) = (false, false);
        for channel in channels {
            total += 1;
            match channel.state() {
                ChannelState::Joined => live += 1,
                ChannelState::Denied => refused += 1,
                ChannelState::AwaitingToken => {}
                ChannelState::Joining | ChannelState::Retrying => {
                    transient += 1;
                    failing |= channel.failures >= self.config.degraded_after;
                    lost |= !channel.coverage.unjoined();
                }
            }
        }
        let link_worked = matches!(&self.link.state, LinkState::Open(open) if open.worked);
        failing |= !link_worked
            && self
                .link
                .failing_since
                .is_some_and(|t| now.mono.saturating_sub(t) >= self.config.degraded_after_ms);
        // A refusal is news the UI needs at once, even while other joins are still answered
        // (Supabase answers refused joins one at a time, 5 s apart).
        if refused > 0 {
            return if live > 0 {
                Status::Partial
            } else {
                Status::Denied
            };
        }
        if transient > 0 {
            if failing {
                Status::Degraded
            } else if lost {
                Status::Reconnecting
            } else {
                Status::Connecting
            }
        } else if live == total {
            Status::Connected
        } else if live > 0 {
            Status::Partial
        } else {
            Status::AwaitingToken
        }
    }

    /// The counts (the session's, shared by its clients) and `client`'s channels.
    pub fn stats(&self, client: ClientId, now: Now) -> SessionStats {
        SessionStats {
            pipeline: self.pipeline.stats(),
            unreadable_frames: self.unreadable_frames,
            reconnects: self.link.opened.saturating_sub(1),
            replays: self.replays,
            resyncs: self.resyncs,
            channels: self
                .channels
                .iter()
                .filter(|c| c.audience.contains(client))
                .map(|c| c.stats(now))
                .collect(),
            stale_since: self.stale_since(client, now),
        }
    }

    /// The counts and every channel: what the clients share.
    pub fn stats_shared(&self, now: Now) -> SessionStats {
        SessionStats {
            channels: self.channels.iter().map(|c| c.stats(now)).collect(),
            stale_since: self
                .channels
                .iter()
                .filter(|c| c.wanted())
                .filter_map(|c| c.stale_since(now))
                .min(),
            ..self.stats(0, now)
        }
    }

    /// A client's staleness: the earliest of the channels it holds (`None` when all are fresh,
    /// or it holds none).
    pub fn stale_since(&self, client: ClientId, now: Now) -> Option<i64> {
        self.channels
            .iter()
            .filter(|c| c.wanted() && c.audience.contains(client))
            .filter_map(|c| c.stale_since(now))
            .min()
    }
}
