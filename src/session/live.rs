//! The session while it lives: its parts, what is due, and the orchestration of the inputs.
//! Each part owns its state and says what it needs (`link::Step`, `auth::TokenStep`,
//! `joins::Failure`, ...); this module does it, and nothing else changes a part's state.

use super::auth::Auth;
use super::channels::Channels;
use super::clients::{Client, Clients};
use super::connection::Connection;
use super::ingest::{self, Ingested, Sink};
use super::link::Link;
use super::membership::Membership;
use super::recovery::Recovery;
use super::retry::Rng;
use super::status::{self, Counts};
use super::types::{Output, SessionError, SessionStats, Status};
use super::watch::Watch;
use super::wire::{self, Inbound, Wire};
use super::{SessionConfig, SessionParts, SubscriptionId};
use crate::audience::{Audience, ClientId};
use crate::batch::{BatchReason, CacheBatch};
use crate::clock::Now;
use crate::inspect::{Inspector, LogLine};
use crate::pipeline::Pipeline;

pub(super) struct Live {
    config: SessionConfig,
    rng: Rng,
    pipeline: Pipeline,
    link: Link,
    auth: Auth,
    wire: Wire,
    channels: Channels,
    clients: Clients,
    recovery: Recovery,
    watch: Watch,
    unreadable_frames: u64,
    out: Vec<Output>,
    /// What `debug` records (`src/inspect.rs`); `None` when off.
    inspector: Option<Box<Inspector>>,
}

impl Live {
    pub fn new(parts: SessionParts) -> Self {
        let SessionParts { config, rules, .. } = &parts;
        let mut rng = Rng::new(parts.seed);
        let inspector = (config.inspect > 0)
            .then(|| Inspector::boxed(config.inspect, config.log))
            .flatten();
        let recovery = Recovery::new(rules, config);
        let mut pipeline = Pipeline::new(parts.rules, parts.dedup, parts.batch, rng.next_u64());
        pipeline.keep_keys(inspector.is_some());
        let config = parts.config;
        Live {
            rng,
            pipeline,
            link: Link::new(&config),
            auth: Auth::new(parts.token, parts.token_source, &config),
            wire: Wire::new(config.vsn),
            channels: Channels::default(),
            clients: Clients::new(),
            recovery,
            watch: Watch::default(),
            unreadable_frames: 0,
            out: Vec::new(),
            inspector,
            config,
        }
    }

    // ---- what the façade reads ----

    pub fn take_out(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.out)
    }

    pub fn client(&self, id: ClientId) -> Option<&Client> {
        self.clients.get(id)
    }

    pub fn inspector(&self) -> Option<&Inspector> {
        self.inspector.as_deref()
    }

    pub fn take_log(&mut self) -> Vec<LogLine> {
        let inspector = self.inspector.as_deref_mut();
        inspector.map(Inspector::take_log).unwrap_or_default()
    }

    pub fn dedup_len(&self) -> usize {
        self.pipeline.dedup().len()
    }

    pub fn set_token_source(&mut self, source: bool) {
        self.auth.set_source(source);
    }

    /// The counts (shared by the clients) and `client`'s channels; every channel for `None`.
    pub fn stats(&self, client: Option<ClientId>, now: Now) -> SessionStats {
        let (replays, resyncs) = self.recovery.counts();
        let counts = Counts {
            pipeline: self.pipeline.stats(),
            unreadable_frames: self.unreadable_frames,
            reconnects: self.link.reconnects(),
            replays,
            resyncs,
        };
        let trouble = self.token_trouble(now);
        status::stats(counts, &self.channels, client, trouble, now)
    }

    /// Token trouble shows (channels on their way to a join read `awaiting-token`) unless the
    /// network itself is failing: a dead network outranks the token, the status reads degraded.
    fn token_trouble(&self, now: Now) -> bool {
        self.auth.in_trouble() && !self.link.failing(now)
    }

    // ---- time ----

    /// The earliest deadline of every part.
    pub fn deadline(&self) -> Option<u64> {
        let parts = [
            self.link.deadline(),
            self.auth.deadline(),
            self.pipeline.deadline(),
            self.clients.deadline(),
        ];
        let channels = self.channels.iter().filter_map(|c| c.deadline());
        parts.into_iter().flatten().chain(channels).min()
    }

    /// Before an input: a wake is noticed and the connection checked; what was due runs.
    #[inline(never)]
    pub fn begin(&mut self, now: Now) {
        if self.watch.woke(now, self.config.wake_after_ms) {
            self.connection().check(now);
        }
        self.run_due(now);
    }

    /// After an input: what it made due runs, a channel waiting for a token has a request
    /// under way or scheduled, and each client is told its status and `staleSince` if they
    /// changed.
    #[inline(never)]
    pub fn end(&mut self, now: Now) {
        self.run_due(now);
        if self.channels.need_token(self.auth.ready()) {
            self.membership().need_token(now);
        }
        let trouble = self.token_trouble(now);
        let (channels, link) = (&self.channels, &self.link);
        let degraded_after = self.config.degraded_after;
        let view = |id| {
            let tally = status::tally(channels, id, degraded_after, trouble);
            let status = status::decide(tally, link.failing(now));
            (status, status::stale_since(channels, Some(id), now))
        };
        let period = self.config.fallback_poll_ms;
        self.clients.settle(now, period, view, &mut self.out);
        // After the clients: a poll may have moved the deadline.
        self.watch.settled(now, self.deadline());
    }

    /// Runs everything due at `now`. Each step moves its own deadline past `now`, so a few
    /// passes (a due retry can make a join due) always end it.
    pub fn run_due(&mut self, now: Now) {
        for _ in 0..8 {
            if !self.deadline().is_some_and(|d| d <= now.mono) {
                return;
            }
            let (channels, rng) = (&self.channels, &mut self.rng);
            let queued = || channels.queued_until(now.mono);
            let step = self.link.due(channels.wanted(), now, queued, rng);
            self.connection().step(step, now);
            let (channels, ready) = (&self.channels, self.auth.ready());
            let needed = || channels.need_token(ready);
            let step = self.auth.due(now, needed, &mut self.rng);
            self.membership().token_step(step, now);
            self.membership().due(now);
            // Stale for a whole period: refetch what the channels feed, as a `poll` batch.
            for id in self.clients.due_polls(now, self.config.fallback_poll_ms) {
                let actions = self.recovery.actions();
                self.pipeline.push_poll(Audience::of(id), actions, now.mono);
            }
            while let Some((client, batch)) = self.pipeline.poll(now.mono) {
                self.deliver(client, batch, now);
            }
        }
    }

    // ---- clients and subscriptions ----

    pub fn add_client(&mut self) -> Option<ClientId> {
        let id = self.clients.add()?;
        self.pipeline.add_client(id);
        Some(id)
    }

    /// A client is gone: its subscriptions end and what was pending for it is dropped.
    pub fn remove_client(&mut self, id: ClientId, now: Now) {
        let Some(held) = self.clients.remove(id) else {
            return;
        };
        for subscription in held {
            self.unsubscribe(subscription, now);
        }
        for channel in self.channels.iter_mut() {
            channel.audience = channel.audience.without(Audience::of(id));
        }
        self.pipeline.remove_client(id);
        self.recovery.delivered(id, &mut self.channels);
    }

    fn report(&mut self, to: Audience, error: SessionError) {
        self.clients.tell(to, &error, &mut self.out);
    }

    /// `None` for a client that is not served. `missed`: the client comes from another host
    /// (docs/tabs.md) and may have missed this channel's events since then.
    pub fn subscribe(
        &mut self,
        client: ClientId,
        resource: Option<&str>,
        missed: Option<Now>,
        now: Now,
    ) -> Option<SubscriptionId> {
        self.clients.get(client)?;
        let topic = self.config.topic(resource);
        let id = self.clients.subscribe(client, topic.clone());
        let audience = Audience::of(client);
        let channel = self.channels.subscribe(&topic, audience, now);
        if let Some(missed) = missed {
            let pipeline = &mut self.pipeline;
            self.recovery
                .missed(channel, audience, missed, pipeline, now);
        }
        self.membership().join_ready(now);
        let step = self.link.ensure(self.channels.wanted(), now, &mut self.rng);
        self.connection().step(step, now);
        Some(id)
    }

    pub fn unsubscribe(&mut self, id: SubscriptionId, now: Now) {
        if let Some((topic, holders)) = self.clients.unsubscribe(id) {
            let until = now.mono + self.config.leave_grace_ms;
            self.channels.release(&topic, holders, until);
        }
    }

    // ---- the connection ----

    /// The parts the socket's events touch (`connection.rs`).
    pub fn connection(&mut self) -> Connection<'_> {
        Connection {
            config: &self.config,
            link: &mut self.link,
            channels: &mut self.channels,
            wire: &mut self.wire,
            clients: &self.clients,
            rng: &mut self.rng,
            out: &mut self.out,
        }
    }

    pub fn socket_opened(&mut self, socket: u64, now: Now) {
        if self.link.opened(socket, now) {
            self.membership().join_ready(now);
        }
    }

    // ---- frames ----

    /// A frame arrived on `socket` (text or binary); read if it is the open socket's.
    pub fn frame(&mut self, socket: u64, read: impl FnOnce(&Wire) -> Inbound, now: Now) {
        if !self.link.receiving(socket, now) {
            return;
        }
        match read(&self.wire) {
            Inbound::Nothing => {}
            Inbound::Reply(msg_ref) => self.link.reply(&msg_ref),
            Inbound::Unreadable(reason) => self.unreadable(reason),
            Inbound::Broadcast(b) => {
                let sink = Sink {
                    channels: &mut self.channels,
                    pipeline: &mut self.pipeline,
                    recovery: &mut self.recovery,
                    inspector: self.inspector.as_deref_mut(),
                    rng: &mut self.rng,
                    casino: self.config.casino_id,
                };
                match ingest::broadcast(b, sink, now) {
                    Ingested::Ignored | Ingested::Taken(None) => {}
                    Ingested::Unreadable(reason) => self.unreadable(reason),
                    Ingested::Taken(Some((to, error))) => self.report(to, error),
                }
            }
            Inbound::Channel(m) => self.membership().heard(&m, now),
        }
    }

    /// A frame on the open socket was refused unread for its size.
    pub fn frame_refused(&mut self, socket: u64, bytes: usize) {
        if self.link.open_socket() == Some(socket) {
            self.unreadable(wire::too_large(bytes));
        }
    }

    fn unreadable(&mut self, reason: String) {
        self.unreadable_frames += 1;
        self.report(self.clients.everyone(), SessionError::BadFrame { reason });
    }

    /// The parts a join or a token touches (`membership.rs`).
    fn membership(&mut self) -> Membership<'_> {
        Membership {
            config: &self.config,
            channels: &mut self.channels,
            auth: &mut self.auth,
            wire: &mut self.wire,
            link: &mut self.link,
            recovery: &mut self.recovery,
            pipeline: &mut self.pipeline,
            clients: &self.clients,
            rng: &mut self.rng,
            out: &mut self.out,
        }
    }

    pub fn token_result(&mut self, id: u64, token: Result<String, String>, now: Now) {
        let step = self.auth.answer(id, token, now, &mut self.rng);
        self.membership().token_step(step, now);
    }

    pub fn set_auth(&mut self, token: String, now: Now) {
        if self.auth.set(token) {
            self.membership().token_arrived(now);
        }
    }

    // ---- batches ----

    /// Hands a client its batch, the window's times on the wall clock.
    fn deliver(&mut self, client: ClientId, mut batch: CacheBatch, now: Now) {
        batch.opened_at = now.wall_at(batch.opened_at).max(0) as u64;
        batch.flushed_at = now.wall.max(0) as u64;
        if let Some(inspector) = self.inspector.as_deref_mut() {
            inspector.batch(&batch, now.wall);
        }
        self.recovery.delivered(client, &mut self.channels);
        self.out.push(Output::Batch(client, batch));
    }

    /// Delivers `client`'s pending batch now.
    pub fn flush(&mut self, client: ClientId, now: Now) {
        if let Some(batch) = self.pipeline.flush(client, now.mono, BatchReason::Flush) {
            self.deliver(client, batch, now);
        }
    }

    /// The end: what is due runs, pending batches are delivered, the socket closed, and every
    /// client told `closed`. Returns the last outputs and log lines.
    pub fn finish(mut self, now: Now) -> (Vec<Output>, Vec<LogLine>) {
        self.run_due(now);
        let clients: Vec<ClientId> = self.pipeline.clients().collect();
        for client in clients {
            self.flush(client, now);
        }
        if self.link.is_up() {
            self.connection().close("closed by the app");
        }
        let ids: Vec<ClientId> = self.clients.ids().collect();
        let closed = ids.into_iter().map(|id| Output::Status(id, Status::Closed));
        self.out.extend(closed);
        let log = self.take_log();
        (self.out, log)
    }
}
