//! Shared state: connections and their channels, the replay store, faults and counters; and
//! fan-out of broadcasts to the channels that should receive them, each in its own framing.
//! The lock is never held across an `await`.

use crate::config::{Config, Faults, FramesMode};
use crate::jwt::Claims;
use casino_realtime::json::Value;
use casino_realtime::protocol::{
    encode_text, encode_user_broadcast, Broadcast, BroadcastPayload, Frame, Message, Vsn,
};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc::UnboundedSender;

/// Identifies a connection.
pub type ConnId = u64;

/// What a connection's writer does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
    /// A close frame with this code and reason, then the end.
    Close(u16, String),
    /// Drop the TCP connection without a close frame (the client sees 1006).
    Abort,
}

/// A joined channel on one connection.
#[derive(Debug, Clone)]
pub struct Channel {
    /// `realtime:<subtopic>`.
    pub topic: String,
    /// The join's ref.
    pub join_ref: String,
    /// A private channel (RLS applies, replay allowed).
    pub private: bool,
    /// Receive own broadcasts.
    pub receive_own: bool,
    /// Reply to broadcast pushes.
    pub ack: bool,
    /// The token in force and its claims.
    pub token: String,
    /// Its claims.
    pub claims: Claims,
    /// Bumped on every token change, so stale expiry timers do nothing.
    pub generation: u64,
    /// Message ids already delivered by replay: live duplicates are suppressed.
    pub replayed: HashSet<String>,
}

impl Channel {
    /// The part after `realtime:`.
    pub fn subtopic(&self) -> &str {
        self.topic.strip_prefix("realtime:").unwrap_or(&self.topic)
    }
}

/// One WebSocket connection.
#[derive(Debug)]
pub struct Conn {
    /// Its writer.
    pub tx: UnboundedSender<Outbound>,
    /// Its serializer.
    pub vsn: Vsn,
    /// Its broadcast framing.
    pub frames: FramesMode,
    /// The connect-time `apikey`.
    pub apikey: String,
    /// Joined channels by topic.
    pub channels: HashMap<String, Channel>,
    /// The writer sends nothing before this time (ms since the epoch): the socket process is
    /// asleep on a failed join.
    pub held_until: Arc<AtomicI64>,
    /// Half-open: the server neither reads nor writes this socket any more, and does not close it.
    pub half_open: Arc<AtomicBool>,
    /// When its last heartbeats came (ms since the epoch, the last 64): `/_dev/status` shows
    /// them, so a test can measure a client's heartbeat period.
    pub heartbeats: Vec<i64>,
}

impl Conn {
    /// Holds everything this socket would send for `delay` more (after what is held already).
    pub fn hold(&self, delay: Duration) {
        let from = self.held_until.load(Ordering::Relaxed).max(now_ms());
        self.held_until
            .store(from + delay.as_millis() as i64, Ordering::Relaxed);
    }

    /// Whether the socket went half-open.
    pub fn is_half_open(&self) -> bool {
        self.half_open.load(Ordering::Relaxed)
    }

    /// Sends a frame in this connection's serializer.
    pub fn send(&self, frame: &Frame) {
        // vsn 1.0.0 frames from the server carry no join_ref (docs/protocol.md §1.2).
        let stripped;
        let frame = match (self.vsn, frame) {
            (Vsn::V1, Frame::Message(m)) if m.join_ref.is_some() => {
                stripped = Frame::Message(Message {
                    join_ref: None,
                    ..m.clone()
                });
                &stripped
            }
            _ => frame,
        };
        if let Ok(text) = encode_text(frame, self.vsn) {
            let _ = self.tx.send(Outbound::Text(text));
        }
    }

    /// `phx_reply` with a status and a response.
    pub fn reply(
        &self,
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
        self.send(&message(join_ref, msg_ref, topic, "phx_reply", payload));
    }

    /// A `system` error for the channel, then `phx_close`; the channel is gone. (Supabase's
    /// `shutdown_response`.)
    pub fn shutdown(&mut self, topic: &str, text: &str) {
        let Some(channel) = self.channels.remove(topic) else {
            return;
        };
        let payload = Value::Object(vec![
            ("extension".into(), "system".into()),
            ("status".into(), "error".into()),
            ("message".into(), text.into()),
            ("channel".into(), channel.subtopic().into()),
        ]);
        self.send(&message(
            Some(&channel.join_ref),
            None,
            topic,
            "system",
            payload,
        ));
        self.close_channel(&channel);
    }

    /// `phx_close` for a channel (`ref` = `join_ref`).
    pub fn close_channel(&self, channel: &Channel) {
        let jr = Some(channel.join_ref.as_str());
        self.send(&message(
            jr,
            jr,
            &channel.topic,
            "phx_close",
            Value::Object(Vec::new()),
        ));
    }
}

/// A Phoenix message frame.
pub fn message(
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    event: &str,
    payload: Value,
) -> Frame {
    Frame::Message(Message {
        join_ref: join_ref.map(str::to_owned),
        msg_ref: msg_ref.map(str::to_owned),
        topic: topic.to_owned(),
        event: event.to_owned(),
        payload,
    })
}

/// A publishing transaction: how long it lasts (`inserted_at` is its start, delivery its
/// commit), and whether its producer writes the payload's `at` at its end rather than before it
/// began.
#[derive(Debug, Clone, Copy, Default)]
pub struct Transaction {
    /// From `inserted_at` to delivery.
    pub length: Duration,
    /// The producer writes `at` at commit (a Server Action that stamps it after its writes).
    pub at_commit: bool,
}

/// Sets a payload's `at` (an object's member; anything else is left as it is).
fn stamp_at(payload: &mut Value, at: &str) {
    if let Value::Object(members) = payload {
        match members.iter_mut().find(|(k, _)| k == "at") {
            Some((_, v)) => *v = at.into(),
            None => members.push(("at".into(), at.into())),
        }
    }
}

/// A message kept for replay (a "database" broadcast on a private topic).
#[derive(Debug, Clone)]
pub struct Stored {
    /// Its id (`meta.id`).
    pub id: String,
    /// When its transaction began, ms since the epoch (`inserted_at`).
    pub inserted_ms: i64,
    /// Its transaction committed: replay sees it.
    pub committed: bool,
    /// The user event.
    pub event: String,
    /// The user payload.
    pub payload: Value,
}

/// Where a broadcast comes from, which decides its framing and who is skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `POST /api/broadcast`: JSON text frames.
    RestBatch,
    /// `POST /api/broadcast/<topic>/events/<event>`: kind 4.
    RestSingle,
    /// The database (`realtime.send`, the floor scenario): kind 4, stored for replay.
    Database,
    /// A client's push on a channel; `binary` if it came as kind 3.
    Client {
        /// The sender.
        conn: ConnId,
        /// Whether the sender wants its own message back.
        receive_own: bool,
        /// It came as binary kind 3.
        binary: bool,
    },
}

/// Counts for `/_dev/status`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    /// Connections accepted.
    pub connections: u64,
    /// Broadcast frames written to clients.
    pub deliveries: u64,
    /// Channels closed for the message rate.
    pub rate_limited: u64,
    /// `phx_join` frames received.
    pub joins: u64,
    /// WebSocket upgrades refused (a bad or missing key, an outage).
    pub refused_upgrades: u64,
}

/// Supabase's rate counter: 12 buckets of 5 s, the rate is their sum over 60 s
/// (`lib/realtime/rate_counter/rate_counter.ex`).
#[derive(Debug, Default)]
pub struct RateCounter {
    buckets: [u32; 12],
    /// The 5-second tick of the newest bucket.
    tick: i64,
}

impl RateCounter {
    /// Counts one message at `now_ms`; returns the average per second over the last minute.
    pub fn add(&mut self, now_ms: i64) -> f64 {
        let tick = now_ms.div_euclid(5_000);
        let elapsed = (tick - self.tick).clamp(0, 12);
        for _ in 0..elapsed {
            self.buckets.rotate_right(1);
            self.buckets[0] = 0;
        }
        self.tick = self.tick.max(tick);
        self.buckets[0] += 1;
        f64::from(self.buckets.iter().sum::<u32>()) / 60.0
    }
}

/// Everything behind the lock.
#[derive(Debug, Default)]
pub struct State {
    /// Open connections.
    pub conns: HashMap<ConnId, Conn>,
    next_conn: ConnId,
    /// Replayable messages per private subtopic, oldest first.
    pub store: HashMap<String, VecDeque<Stored>>,
    /// Faults in force.
    pub faults: Faults,
    /// Counters.
    pub counters: Counters,
    /// Messages of the last minute, for the rate limit.
    rate: RateCounter,
    next_id: u64,
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

impl State {
    /// Registers a connection.
    pub fn add_conn(&mut self, conn: Conn) -> ConnId {
        self.next_conn += 1;
        self.counters.connections += 1;
        self.conns.insert(self.next_conn, conn);
        self.next_conn
    }

    /// A fresh uuid-shaped message id (v4 layout, from a counter and the clock).
    pub fn new_id(&mut self) -> String {
        self.next_id += 1;
        let stamp = now_ms() as u64;
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (stamp >> 16) as u32,
            stamp as u16,
            (self.next_id >> 48) & 0xfff,
            (self.next_id >> 36) & 0xfff,
            self.next_id & 0xffff_ffff_ffff
        )
    }

    /// Counts one message against the rate limit; true when the average is over it.
    fn over_rate(&mut self, limit: Option<u32>) -> bool {
        let average = self.rate.add(now_ms());
        self.faults.rate_limit_tripped || limit.is_some_and(|l| average > f64::from(l))
    }

    /// Keeps a database message for replay.
    pub fn store(&mut self, subtopic: &str, stored: Stored, cap: usize) {
        let queue = self.store.entry(subtopic.to_owned()).or_default();
        queue.push_back(stored);
        while queue.len() > cap {
            queue.pop_front();
        }
    }

    /// Delivers a broadcast to every channel joined to `realtime:<subtopic>` with the same
    /// privacy, in each receiver's framing. Channels over the message rate are closed instead.
    pub fn deliver(
        &mut self,
        subtopic: &str,
        private: bool,
        broadcast: &Broadcast,
        origin: &Origin,
        config: &Config,
    ) {
        let topic = format!("realtime:{subtopic}");
        let id = broadcast.meta_id().map(str::to_owned);
        // Supabase counts the message coming in, and then each delivery.
        self.rate.add(now_ms());
        let mut receivers = Vec::new();
        for (&conn_id, conn) in &self.conns {
            let Some(channel) = conn.channels.get(&topic) else {
                continue;
            };
            if conn.is_half_open() {
                continue;
            }
            if channel.private != private {
                continue;
            }
            if let Origin::Client {
                conn: sender,
                receive_own,
                ..
            } = origin
            {
                if *sender == conn_id && !receive_own {
                    continue;
                }
            }
            if id.as_ref().is_some_and(|id| channel.replayed.contains(id)) {
                continue;
            }
            receivers.push(conn_id);
        }
        for conn_id in receivers {
            if self.over_rate(config.max_events_per_second) {
                self.counters.rate_limited += 1;
                if let Some(conn) = self.conns.get_mut(&conn_id) {
                    conn.shutdown(&topic, "Too many messages per second");
                }
                continue;
            }
            let Some(conn) = self.conns.get(&conn_id) else {
                continue;
            };
            if let Some(out) = frame_for(conn, &topic, broadcast, origin) {
                self.counters.deliveries += 1;
                let _ = conn.tx.send(out);
            }
        }
    }
}

/// A broadcast from the database: kind 4 on `realtime:<subtopic>`, `meta.id` = the row's id.
fn database_broadcast(subtopic: &str, event: &str, payload: Value, id: &str) -> Broadcast {
    Broadcast {
        join_ref: None,
        msg_ref: None,
        topic: format!("realtime:{subtopic}"),
        event: event.into(),
        payload: BroadcastPayload::Json(payload),
        meta: Some(Value::Object(vec![("id".into(), id.into())])),
    }
}

/// The frame a receiver gets for a broadcast, or `None` when its serializer cannot carry it.
fn frame_for(conn: &Conn, topic: &str, broadcast: &Broadcast, origin: &Origin) -> Option<Outbound> {
    let b = Broadcast {
        join_ref: None,
        msg_ref: None,
        topic: topic.to_owned(),
        ..broadcast.clone()
    };
    let binary_payload = matches!(b.payload, BroadcastPayload::Binary(_));
    let binary = match (conn.vsn, conn.frames) {
        (Vsn::V1, _) => false,
        (Vsn::V2, FramesMode::Binary) => true,
        (Vsn::V2, FramesMode::Json) => binary_payload,
        (Vsn::V2, FramesMode::Auto) => match origin {
            Origin::RestBatch => false,
            Origin::Client { binary, .. } => *binary || binary_payload,
            Origin::RestSingle | Origin::Database => true,
        },
    };
    if binary {
        encode_user_broadcast(&b).ok().map(Outbound::Binary)
    } else {
        encode_text(&Frame::Broadcast(b), conn.vsn)
            .ok()
            .map(Outbound::Text)
    }
}

/// The shared hub.
#[derive(Debug)]
pub struct Hub {
    /// The server's options.
    pub config: Config,
    /// The database served from, with `--database-url`.
    pub db: Option<Arc<crate::database::Database>>,
    state: Mutex<State>,
}

impl Hub {
    /// A hub with the configuration's initial faults.
    pub fn new(config: Config) -> Self {
        let state = State {
            faults: config.faults.clone(),
            ..State::default()
        };
        Hub {
            config,
            db: None,
            state: Mutex::new(state),
        }
    }

    /// A hub serving from a database.
    pub fn with_database(config: Config, db: Arc<crate::database::Database>) -> Self {
        Hub {
            db: Some(db),
            ..Hub::new(config)
        }
    }

    /// Delivers a committed row of `realtime.messages` as Broadcast from Database (kind 4,
    /// `meta.id` = the row's id), and keeps it for the duplicate-delivery fault.
    pub fn deliver_committed(
        &self,
        subtopic: &str,
        event: &str,
        payload: Value,
        private: bool,
        id: &str,
    ) {
        let mut state = self.lock();
        if private {
            let stored = Stored {
                id: id.to_owned(),
                inserted_ms: now_ms(),
                committed: true,
                event: event.into(),
                payload: payload.clone(),
            };
            state.store(subtopic, stored, self.config.replay_store_per_topic);
        }
        let broadcast = database_broadcast(subtopic, event, payload, id);
        state.deliver(
            subtopic,
            private,
            &broadcast,
            &Origin::Database,
            &self.config,
        );
    }

    /// The state, locked. Never hold the guard across an `await`.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Publishes a "database" broadcast (as `realtime.send`): a fresh `meta.id`, kept for replay
    /// when private, stamped with the server's clock at the start of its transaction
    /// (`inserted_at`), and delivered as kind 4 when the transaction commits. Returns the id.
    pub fn publish_database(
        self: &Arc<Self>,
        subtopic: &str,
        event: &str,
        mut payload: Value,
        private: bool,
        transaction: Transaction,
    ) -> String {
        if transaction.at_commit && transaction.length.is_zero() {
            // Committed at once: its commit is now.
            let at = crate::scenario::floor::iso(now_ms() + self.config.publisher_skew_ms);
            stamp_at(&mut payload, &at);
        }
        let mut state = self.lock();
        let id = state.new_id();
        if private {
            let stored = Stored {
                id: id.clone(),
                inserted_ms: now_ms(),
                committed: transaction.length.is_zero(),
                event: event.into(),
                payload: payload.clone(),
            };
            state.store(subtopic, stored, self.config.replay_store_per_topic);
        }
        let mut broadcast = database_broadcast(subtopic, event, payload, &id);
        if transaction.length.is_zero() {
            state.deliver(
                subtopic,
                private,
                &broadcast,
                &Origin::Database,
                &self.config,
            );
            return id;
        }
        drop(state);
        let (hub, subtopic, kept) = (self.clone(), subtopic.to_owned(), id.clone());
        let skew = self.config.publisher_skew_ms;
        tokio::spawn(async move {
            tokio::time::sleep(transaction.length).await;
            let mut state = hub.lock();
            // The producer wrote `at` after its writes, just before `realtime.send` and the
            // commit: the message carries it, kept and delivered.
            let at = transaction
                .at_commit
                .then(|| crate::scenario::floor::iso(now_ms() + skew));
            if let (Some(at), BroadcastPayload::Json(payload)) = (&at, &mut broadcast.payload) {
                stamp_at(payload, at);
            }
            let stored = state
                .store
                .get_mut(&subtopic)
                .and_then(|q| q.iter_mut().find(|s| s.id == kept));
            if let Some(stored) = stored {
                stored.committed = true;
                if let Some(at) = &at {
                    stamp_at(&mut stored.payload, at);
                }
            }
            state.deliver(
                &subtopic,
                private,
                &broadcast,
                &Origin::Database,
                &hub.config,
            );
        });
        id
    }

    /// Re-delivers a stored message with its original id, as a duplicate delivery would.
    pub fn redeliver(&self, subtopic: &str, id: &str) -> bool {
        let mut state = self.lock();
        let Some(stored) = state
            .store
            .get(subtopic)
            .and_then(|q| q.iter().find(|s| s.id == id))
            .cloned()
        else {
            return false;
        };
        let broadcast = database_broadcast(subtopic, &stored.event, stored.payload, &stored.id);
        state.deliver(subtopic, true, &broadcast, &Origin::Database, &self.config);
        true
    }
}
