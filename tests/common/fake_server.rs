//! An in-process stand-in for a Supabase Realtime server and a browser host, driving a sans-IO
//! [`Session`] on simulated clocks. It is as hard as Supabase where that matters to recovery
//! (docs/supabase-server-behaviour.md): failed joins can be answered late and one at a time per
//! socket, kept messages are stamped with the server's clock at the start of their transaction
//! and delivered when it commits, replay is by that stamp (newest `limit`, oldest first), and a
//! socket can go half-open. It collects what the session hands the app.
#![allow(dead_code, clippy::unwrap_used)]

use casino_realtime::batch::CacheBatch;
use casino_realtime::catalog::Uuid;
use casino_realtime::clock::Now;
use casino_realtime::json::{self, Value};
use casino_realtime::protocol::{
    decode_text, encode_text, encode_user_broadcast, Broadcast, BroadcastPayload, Frame, Message,
    Vsn,
};
use casino_realtime::session::{
    ChannelState, Output, Session, SessionConfig, SessionError, SessionParts, Status,
};
use std::collections::{HashMap, VecDeque};

pub const CASINO: &str = "11111111-1111-4111-8111-111111111111";
/// The true time at the start, ms since the epoch (2025-12-20T10:15:00Z).
pub const START: u64 = 1_766_225_700_000;
/// The monotonic clock at the start (any origin).
pub const MONO0: u64 = 5_000_000;

/// How the fake server answers a join.
pub type JoinPolicy = Box<dyn FnMut(&str, &Value) -> Option<Result<(), String>>>;

/// What the fake server replays for `(topic, since_ms, limit)`: `(event, payload, id)`, oldest first.
pub type ReplaySource = Box<dyn FnMut(&str, i64, usize) -> Vec<(String, Value, String)>>;

/// A message kept as `realtime.send` keeps it.
#[derive(Debug, Clone)]
pub struct Kept {
    pub topic: String,
    pub event: String,
    pub payload: Value,
    pub id: String,
    /// The server's clock at the start of the publishing transaction.
    pub inserted_at: i64,
    /// When the transaction commits and the message goes out (monotonic).
    pub commit_at: u64,
}

enum Scheduled {
    /// A text frame to the client on this socket, at its time.
    Frame(u64, String),
    /// A text frame from a channel process: it goes out once the socket process is free.
    Mailbox(u64, String),
    /// Kept message `index` commits: deliver it to every channel joined on its topic.
    Commit(usize),
}

pub struct Harness {
    pub session: Session,
    /// The monotonic clock, ms.
    pub now: u64,
    /// The browser's wall clock minus the true time.
    pub browser_skew: i64,
    /// Wall-clock jumps the monotonic clock did not see (sleeps), added to the browser's wall.
    pub slept: i64,
    /// Whether sockets can open.
    pub server_up: bool,
    /// Sockets neither open nor fail (a captive portal).
    pub hang_opens: bool,
    /// The serializer: vsn 1.0.0 server frames carry no `join_ref`.
    pub vsn: Vsn,
    pub answer_heartbeats: bool,
    /// The socket stays open but the server neither receives nor sends anything.
    pub half_open: bool,
    /// `None` leaves the join unanswered.
    pub join_policy: JoinPolicy,
    /// How long Supabase sleeps before answering a failed join (it blocks the socket meanwhile).
    pub join_error_delay_ms: u64,
    /// Answers replay requests of successful joins, if set (else the kept store answers).
    pub replay: Option<ReplaySource>,
    /// Messages kept for replay, in insertion order.
    pub kept: Vec<Kept>,
    pub socket: Option<u64>,
    /// Until when the server's socket process is busy (sleeping on a failed join).
    busy_until: u64,
    /// Topics joined on the current socket, with their join_ref, and the ids replayed to them.
    pub joined: HashMap<String, (String, Vec<String>)>,
    pub opens: u32,
    pub joins: Vec<(String, Value)>,
    pub leaves: Vec<String>,
    pub heartbeats: u32,
    pub access_tokens: Vec<(String, String)>,
    pub join_refs: HashMap<String, String>,
    pub batches: Vec<CacheBatch>,
    pub statuses: Vec<Status>,
    /// Every `staleSince` the session reported, in order.
    pub stale: Vec<Option<i64>>,
    pub errors: Vec<SessionError>,
    /// What the session said to clients other than 0 (tabs sharing it), in order.
    pub for_clients: Vec<Output>,
    pub token_requests: u32,
    /// The id of the last token request.
    pub token_request: u64,
    pub closes: Vec<String>,
    /// The URLs the session asked to diagnose, and what the server answers them at once (as a
    /// plain GET of the socket URL: the upgrade's own status and JSON); `None`: no answer yet.
    pub diagnoses: Vec<String>,
    pub diagnosis: Option<(u16, String)>,
    inbox: VecDeque<String>,
    schedule: Vec<(u64, Scheduled)>,
    next_id: u64,
}

/// A catalog event as Realtime sends it from the database: a kind-4 frame, with `meta` (JSON).
pub fn broadcast_frame(topic: &str, event: &str, payload: &Value, meta: Option<&str>) -> Vec<u8> {
    let broadcast = Broadcast {
        join_ref: None,
        msg_ref: None,
        topic: topic.into(),
        event: event.into(),
        payload: BroadcastPayload::Json(payload.clone()),
        meta: meta.map(|m| json::parse(m).unwrap()),
    };
    encode_user_broadcast(&broadcast).unwrap()
}

pub fn config() -> SessionConfig {
    SessionConfig::new(
        "ws://fake/realtime/v1",
        "anon-key",
        Uuid::parse(CASINO).unwrap(),
    )
}

pub fn session(config: SessionConfig, token: Option<&str>, token_source: bool) -> Session {
    seeded(config, token, token_source, 42)
}

/// As [`session`], with its randomness (backoff, jitter) from `seed`: a fleet of sessions.
pub fn seeded(
    config: SessionConfig,
    token: Option<&str>,
    token_source: bool,
    seed: u64,
) -> Session {
    Session::new(SessionParts {
        token: token.map(str::to_owned),
        token_source,
        seed,
        ..SessionParts::new(config)
    })
}

impl Harness {
    pub fn new(config: SessionConfig) -> Self {
        let vsn = config.vsn;
        Harness::with_session(session(config, Some("token-1"), true), vsn)
    }

    pub fn with_session(session: Session, vsn: Vsn) -> Self {
        Harness {
            session,
            now: MONO0,
            browser_skew: 0,
            slept: 0,
            server_up: true,
            hang_opens: false,
            answer_heartbeats: true,
            half_open: false,
            vsn,
            join_policy: Box::new(|_, _| Some(Ok(()))),
            join_error_delay_ms: 0,
            replay: None,
            kept: Vec::new(),
            socket: None,
            busy_until: 0,
            joined: HashMap::new(),
            opens: 0,
            joins: Vec::new(),
            leaves: Vec::new(),
            heartbeats: 0,
            access_tokens: Vec::new(),
            join_refs: HashMap::new(),
            batches: Vec::new(),
            statuses: Vec::new(),
            stale: Vec::new(),
            errors: Vec::new(),
            for_clients: Vec::new(),
            token_requests: 0,
            token_request: 0,
            closes: Vec::new(),
            diagnoses: Vec::new(),
            diagnosis: Some((400, "'connection' header must contain 'upgrade'".into())),
            inbox: VecDeque::new(),
            schedule: Vec::new(),
            next_id: 0,
        }
    }

    /// The true time now, ms since the epoch (the server's clock).
    pub fn true_time(&self) -> i64 {
        (START + (self.now - MONO0)) as i64 + self.slept
    }

    /// Both of the browser's clocks.
    pub fn clock(&self) -> Now {
        Now::new(self.now, self.true_time() + self.browser_skew)
    }

    pub fn topic(resource: Option<&str>) -> String {
        match resource {
            Some(r) => format!("realtime:{CASINO}:{r}"),
            None => format!("realtime:{CASINO}"),
        }
    }

    /// Handles everything the session asked for, and what the replies cause, until quiet.
    pub fn pump(&mut self) {
        loop {
            let outputs = self.session.drain();
            if outputs.is_empty() && self.inbox.is_empty() {
                return;
            }
            for output in outputs {
                self.handle(output);
            }
            while let Some(text) = self.inbox.pop_front() {
                if let (Some(socket), false) = (self.socket, self.half_open) {
                    self.session.text_frame(socket, &text, self.clock());
                }
            }
        }
    }

    /// Sends a frame to the client now, or when the socket process is free again.
    fn send_to_client(&mut self, text: String) {
        let Some(socket) = self.socket else { return };
        if self.busy_until > self.now {
            self.schedule
                .push((self.busy_until, Scheduled::Frame(socket, text)));
        } else {
            self.inbox.push_back(text);
        }
    }

    fn message(
        &self,
        join_ref: Option<&str>,
        msg_ref: Option<&str>,
        topic: &str,
        event: &str,
        payload: Value,
    ) -> String {
        // vsn 1.0.0: the server writes no join_ref (docs/protocol.md §1.2).
        let join_ref = if self.vsn == Vsn::V1 { None } else { join_ref };
        let frame = Frame::Message(Message {
            join_ref: join_ref.map(Into::into),
            msg_ref: msg_ref.map(Into::into),
            topic: topic.into(),
            event: event.into(),
            payload,
        });
        encode_text(&frame, self.vsn).unwrap()
    }

    fn reply(
        &mut self,
        join_ref: Option<&str>,
        msg_ref: Option<&str>,
        topic: &str,
        status: &str,
        response: Value,
    ) {
        let payload = Value::Object(vec![
            ("status".into(), status.into()),
            ("response".into(), response),
        ]);
        let text = self.message(join_ref, msg_ref, topic, "phx_reply", payload);
        self.send_to_client(text);
    }

    pub fn push_message(
        &mut self,
        join_ref: Option<&str>,
        msg_ref: Option<&str>,
        topic: &str,
        event: &str,
        payload: Value,
    ) {
        let text = self.message(join_ref, msg_ref, topic, event, payload);
        self.send_to_client(text);
    }

    fn handle(&mut self, output: Output) {
        match output {
            Output::Open { socket, .. } => {
                assert!(
                    self.socket.is_none(),
                    "socket {socket} opened while {:?} is still open",
                    self.socket
                );
                self.opens += 1;
                if self.hang_opens {
                    return;
                }
                if self.server_up {
                    self.socket = Some(socket);
                    self.joined.clear();
                    self.busy_until = 0;
                    self.half_open = false;
                    self.session.socket_opened(socket, self.clock());
                } else {
                    self.session.socket_closed(socket, self.clock());
                }
            }
            Output::Diagnose { url } => {
                self.diagnoses.push(url);
                if let Some((status, body)) = self.diagnosis.clone() {
                    self.session.diagnosed(status, &body, self.clock());
                }
            }
            Output::Close { reason, .. } => {
                self.closes.push(reason);
                self.socket = None;
                self.joined.clear();
            }
            Output::Send(text) => {
                if !self.half_open {
                    self.server_receives(&text)
                }
            }
            // Client 0's in their own lists; other clients' (tabs sharing the session) in one.
            Output::Batch(0, batch) => self.batches.push(batch),
            Output::Status(0, status) => self.statuses.push(status),
            Output::Stale(0, since) => self.stale.push(since),
            Output::Error(0, error) => self.errors.push(error),
            other @ (Output::Batch(..)
            | Output::Status(..)
            | Output::Stale(..)
            | Output::Error(..)) => self.for_clients.push(other),
            Output::RequestToken { id } => {
                self.token_requests += 1;
                self.token_request = id;
            }
        }
    }

    fn server_receives(&mut self, text: &str) {
        let Ok(Frame::Message(m)) = decode_text(text, self.vsn) else {
            panic!("the session sent {text}")
        };
        match (m.topic.as_str(), m.event.as_str()) {
            ("phoenix", "heartbeat") => {
                self.heartbeats += 1;
                if self.answer_heartbeats {
                    let empty = Value::Object(Vec::new());
                    self.reply(None, m.msg_ref.as_deref(), "phoenix", "ok", empty);
                }
            }
            (topic, "phx_join") => {
                self.joins.push((topic.to_owned(), m.payload.clone()));
                self.join_refs
                    .insert(topic.to_owned(), m.join_ref.clone().unwrap());
                match (self.join_policy)(topic, &m.payload) {
                    Some(Ok(())) => {
                        let response = json::parse(r#"{"postgres_changes":[]}"#).unwrap();
                        self.reply(
                            m.join_ref.as_deref(),
                            m.msg_ref.as_deref(),
                            topic,
                            "ok",
                            response,
                        );
                        self.joined
                            .insert(topic.to_owned(), (m.join_ref.clone().unwrap(), Vec::new()));
                        self.replay_after_join(topic, &m);
                    }
                    Some(Err(reason)) => {
                        // Supabase sleeps before answering a failed join, blocking the socket.
                        self.busy_until = self.busy_until.max(self.now) + self.join_error_delay_ms;
                        let response = Value::Object(vec![("reason".into(), reason.into())]);
                        self.reply(
                            m.join_ref.as_deref(),
                            m.msg_ref.as_deref(),
                            topic,
                            "error",
                            response,
                        );
                    }
                    None => {}
                }
            }
            (topic, "phx_leave") => {
                self.leaves.push(topic.to_owned());
                self.joined.remove(topic);
                self.reply(
                    m.join_ref.as_deref(),
                    m.msg_ref.as_deref(),
                    topic,
                    "ok",
                    Value::Object(Vec::new()),
                );
                let jr = m.join_ref.clone();
                self.push_message(
                    jr.as_deref(),
                    jr.as_deref(),
                    topic,
                    "phx_close",
                    Value::Object(Vec::new()),
                );
            }
            (topic, "access_token") => {
                let token = m
                    .payload
                    .get("access_token")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.access_tokens
                    .push((topic.to_owned(), token.to_owned()));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    fn replay_after_join(&mut self, topic: &str, join: &Message) {
        let config = join
            .payload
            .get("config")
            .and_then(|c| c.get("broadcast"))
            .and_then(|b| b.get("replay"));
        let Some(replay) = config else { return };
        let number = |name: &str| match replay.get(name) {
            Some(Value::Number(n)) => n.value() as i64,
            _ => 0,
        };
        let (since, limit) = (number("since"), number("limit").clamp(1, 25) as usize);
        let messages = match self.replay.as_mut() {
            Some(source) => source(topic, since, limit),
            None => {
                // `inserted_at >= since`, committed, newest `limit`, delivered oldest first.
                let now = self.now;
                let rows: Vec<&Kept> = self
                    .kept
                    .iter()
                    .filter(|k| k.topic == topic && k.inserted_at >= since && k.commit_at <= now)
                    .collect();
                let mut rows = rows;
                rows.sort_by_key(|k| k.inserted_at);
                let from = rows.len().saturating_sub(limit);
                rows[from..]
                    .iter()
                    .map(|k| (k.event.clone(), k.payload.clone(), k.id.clone()))
                    .collect()
            }
        };
        for (event, payload, id) in messages {
            if let Some((_, replayed)) = self.joined.get_mut(topic) {
                replayed.push(id.clone());
            }
            let meta = json::parse(&format!(r#"{{"replayed":true,"id":"{id}"}}"#)).unwrap();
            let frame = Frame::Broadcast(Broadcast {
                join_ref: join.join_ref.clone(),
                msg_ref: None,
                topic: topic.into(),
                event,
                payload: BroadcastPayload::Json(payload),
                meta: Some(meta),
            });
            let text = encode_text(&frame, Vsn::V2).unwrap();
            // Supabase pushes replayed messages from the channel process, through the socket
            // process's mailbox: after the frames the client sent with the join, and after any
            // sleep on a refused join among them.
            if let Some(socket) = self.socket {
                self.schedule
                    .push((self.now + 1, Scheduled::Mailbox(socket, text)));
            }
        }
    }

    /// Publishes through the database path: kept with the server's clock at the start of a
    /// transaction that commits `tx_ms` later, then delivered live to the channels joined on
    /// `topic` (unless replayed to them already). Returns the message id.
    pub fn publish(&mut self, topic: &str, event: &str, payload: &Value, tx_ms: u64) -> String {
        self.next_id += 1;
        let id = format!("msg-{}", self.next_id);
        self.kept.push(Kept {
            topic: topic.into(),
            event: event.into(),
            payload: payload.clone(),
            id: id.clone(),
            inserted_at: self.true_time(),
            commit_at: self.now + tx_ms,
        });
        let index = self.kept.len() - 1;
        if tx_ms == 0 {
            self.commit(index);
            self.pump();
        } else {
            self.schedule
                .push((self.now + tx_ms, Scheduled::Commit(index)));
        }
        id
    }

    fn commit(&mut self, index: usize) {
        let kept = self.kept[index].clone();
        let Some((_, replayed)) = self.joined.get(&kept.topic) else {
            return;
        };
        if replayed.contains(&kept.id) || self.half_open {
            return;
        }
        let broadcast = Broadcast {
            join_ref: None,
            msg_ref: None,
            topic: kept.topic.clone(),
            event: kept.event.clone(),
            payload: BroadcastPayload::Json(kept.payload.clone()),
            meta: Some(json::parse(&format!(r#"{{"id":"{}"}}"#, kept.id)).unwrap()),
        };
        let bytes = encode_user_broadcast(&broadcast).unwrap();
        if let Some(socket) = self.socket {
            self.session.binary_frame(socket, &bytes, self.clock());
        }
    }

    fn run_scheduled(&mut self) {
        loop {
            let Some(i) = self
                .schedule
                .iter()
                .enumerate()
                .filter(|(_, (at, _))| *at <= self.now)
                .min_by_key(|(_, (at, _))| *at)
                .map(|(i, _)| i)
            else {
                return;
            };
            let (_, what) = self.schedule.remove(i);
            match what {
                Scheduled::Mailbox(socket, text) if self.busy_until > self.now => {
                    self.schedule
                        .push((self.busy_until, Scheduled::Mailbox(socket, text)));
                }
                Scheduled::Mailbox(socket, text) => {
                    if self.socket == Some(socket) && !self.half_open {
                        self.session.text_frame(socket, &text, self.clock());
                    }
                }
                Scheduled::Frame(socket, text) => {
                    if self.socket == Some(socket) && !self.half_open {
                        self.session.text_frame(socket, &text, self.clock());
                    }
                }
                Scheduled::Commit(index) => self.commit(index),
            }
            self.pump();
        }
    }

    /// Moves the clock to `until`, running every deadline and every scheduled server action on
    /// the way, in time order.
    pub fn advance_to(&mut self, until: u64) {
        let mut steps = 0;
        loop {
            let session = self.session.deadline();
            let server = self.schedule.iter().map(|(at, _)| *at).min();
            let Some(next) = [session, server].into_iter().flatten().min() else {
                break;
            };
            if next > until {
                break;
            }
            steps += 1;
            assert!(
                steps < 1_000_000,
                "the session keeps asking for {next} at {}",
                self.now
            );
            self.now = next.max(self.now);
            if session.is_some_and(|d| d <= self.now) {
                self.session.tick(self.clock());
                self.pump();
            }
            self.run_scheduled();
        }
        self.now = until.max(self.now);
    }

    pub fn advance(&mut self, ms: u64) {
        self.advance_to(self.now + ms);
    }

    pub fn subscribe(&mut self, resource: Option<&str>) -> u64 {
        let id = self.session.subscribe(resource, self.clock()).unwrap();
        self.pump();
        id
    }

    /// Another client (a tab sharing the session).
    pub fn add_client(&mut self) -> u32 {
        let id = self.session.add_client(self.clock()).unwrap();
        self.pump();
        id
    }

    /// Subscribes another client.
    pub fn subscribe_for(&mut self, client: u32, resource: Option<&str>) -> u64 {
        let id = self
            .session
            .subscribe_for(client, resource, self.clock())
            .unwrap();
        self.pump();
        id
    }

    /// The batches `client` got so far (client 0's are in `batches`).
    pub fn batches_of(&self, client: u32) -> Vec<&CacheBatch> {
        if client == 0 {
            return self.batches.iter().collect();
        }
        self.for_clients
            .iter()
            .filter_map(|o| match o {
                Output::Batch(c, b) if *c == client => Some(b),
                _ => None,
            })
            .collect()
    }

    pub fn unsubscribe(&mut self, id: u64) {
        self.session.unsubscribe(id, self.clock());
        self.pump();
    }

    /// The server pushes a catalog event as a kind-4 frame with `meta` (not kept for replay).
    pub fn push_event(&mut self, topic: &str, event: &str, payload: &Value, meta: Option<&str>) {
        let bytes = broadcast_frame(topic, event, payload, meta);
        if let (Some(socket), false) = (self.socket, self.half_open) {
            self.session.binary_frame(socket, &bytes, self.clock());
        }
        self.pump();
    }

    /// The app answers the last token request.
    pub fn give_token(&mut self, token: Result<&str, &str>) {
        let result = token.map(str::to_owned).map_err(str::to_owned);
        self.session
            .token_result(self.token_request, result, self.clock());
        self.pump();
    }

    /// The connection dies (Wi-Fi gone).
    pub fn drop_connection(&mut self) {
        self.joined.clear();
        if let Some(socket) = self.socket.take() {
            self.session.socket_closed(socket, self.clock());
        }
        self.pump();
    }

    /// The server closes a joined channel after a `system` error, as Supabase does.
    pub fn server_shutdown(&mut self, topic: &str, message: &str) {
        let jr = self.join_refs.get(topic).cloned();
        let payload = json::parse(&format!(
            r#"{{"extension":"system","status":"error","message":"{message}","channel":"{}"}}"#,
            topic.trim_start_matches("realtime:")
        ))
        .unwrap();
        self.joined.remove(topic);
        self.push_message(jr.as_deref(), None, topic, "system", payload);
        self.push_message(
            jr.as_deref(),
            jr.as_deref(),
            topic,
            "phx_close",
            Value::Object(Vec::new()),
        );
        self.pump();
    }

    /// No frame is on its way to the client (so its view can match the server's).
    pub fn quiet(&self) -> bool {
        !self
            .schedule
            .iter()
            .any(|(_, what)| matches!(what, Scheduled::Frame(..) | Scheduled::Mailbox(..)))
    }

    pub fn state_of(&self, topic: &str) -> Option<ChannelState> {
        self.session
            .stats_shared(self.clock())
            .channels
            .into_iter()
            .find(|c| c.topic == topic)
            .map(|c| c.state)
    }

    pub fn joins_of(&self, topic: &str) -> usize {
        self.joins.iter().filter(|(t, _)| t == topic).count()
    }

    /// The `replay` config of the last join of `topic`, as JSON text.
    pub fn last_replay(&self, topic: &str) -> Option<String> {
        let (_, payload) = self.joins.iter().rev().find(|(t, _)| t == topic)?;
        let replay = payload.get("config")?.get("broadcast")?.get("replay")?;
        Some(replay.to_json())
    }

    pub fn resyncs(&self) -> usize {
        self.batches
            .iter()
            .filter(|b| b.reason.as_str() == "resync")
            .count()
    }

    /// Keys of every action delivered so far (to client 0), as JSON text.
    pub fn delivered_keys(&self) -> Vec<String> {
        self.keys_of(0)
    }

    /// Keys of every action delivered to `client` so far, as JSON text, in order.
    pub fn keys_of(&self, client: u32) -> Vec<String> {
        let mut keys = Vec::new();
        for batch in self.batches_of(client) {
            for action in &batch.actions {
                let mut out = String::new();
                action
                    .key()
                    .write(&mut casino_realtime::json::Writer::new(&mut out));
                keys.push(out);
            }
        }
        keys
    }
}
