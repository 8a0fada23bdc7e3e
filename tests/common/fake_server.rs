//! An in-process stand-in for a Realtime server and a browser host, driving a sans-IO
//! [`Session`] on a simulated clock: it opens "sockets", answers joins and heartbeats as told,
//! pushes broadcasts, and collects what the session hands the app.
#![allow(dead_code, clippy::unwrap_used)]

use casino_realtime::batch::{BatchConfig, CacheBatch};
use casino_realtime::cache::RuleSet;
use casino_realtime::catalog::Uuid;
use casino_realtime::dedup::DedupConfig;
use casino_realtime::json::{self, Value};
use casino_realtime::protocol::{
    decode_text, encode_text, encode_user_broadcast, Broadcast, BroadcastPayload, Frame, Message,
    Vsn,
};
use casino_realtime::session::{
    ChannelState, Output, Session, SessionConfig, SessionError, Status,
};
use std::collections::{HashMap, VecDeque};

pub const CASINO: &str = "11111111-1111-4111-8111-111111111111";
pub const START: u64 = 1_766_225_700_000;

/// How the fake server answers a join.
pub type JoinPolicy = Box<dyn FnMut(&str, &Value) -> Option<Result<(), String>>>;

/// What the fake server replays for `(topic, since_ms, limit)`: `(event, payload, id)`, oldest first.
pub type ReplaySource = Box<dyn FnMut(&str, i64, usize) -> Vec<(String, Value, String)>>;

pub struct Harness {
    pub session: Session,
    pub now: u64,
    /// Whether sockets can open.
    pub server_up: bool,
    /// Sockets neither open nor fail (a captive portal).
    pub hang_opens: bool,
    /// The serializer: vsn 1.0.0 server frames carry no `join_ref`.
    pub vsn: Vsn,
    pub answer_heartbeats: bool,
    /// `None` leaves the join unanswered.
    pub join_policy: JoinPolicy,
    /// Answers replay requests of successful joins, if set.
    pub replay: Option<ReplaySource>,
    pub socket: Option<u64>,
    pub opens: u32,
    pub joins: Vec<(String, Value)>,
    pub leaves: Vec<String>,
    pub access_tokens: Vec<(String, String)>,
    pub join_refs: HashMap<String, String>,
    pub batches: Vec<CacheBatch>,
    pub statuses: Vec<Status>,
    pub channel_states: Vec<(String, ChannelState)>,
    pub errors: Vec<SessionError>,
    pub token_requests: u32,
    /// The id of the last token request.
    pub token_request: u64,
    pub closes: Vec<String>,
    inbox: VecDeque<String>,
}

pub fn config() -> SessionConfig {
    SessionConfig::new(
        "ws://fake/realtime/v1",
        "anon-key",
        Uuid::parse(CASINO).unwrap(),
    )
}

impl Harness {
    pub fn new(config: SessionConfig) -> Self {
        let vsn = config.vsn;
        let session = Session::new(
            config,
            RuleSet::defaults(),
            DedupConfig::default(),
            BatchConfig::default(),
            Some("token-1".into()),
            42,
        );
        Harness {
            session,
            now: START,
            server_up: true,
            hang_opens: false,
            answer_heartbeats: true,
            vsn,
            join_policy: Box::new(|_, _| Some(Ok(()))),
            replay: None,
            socket: None,
            opens: 0,
            joins: Vec::new(),
            leaves: Vec::new(),
            access_tokens: Vec::new(),
            join_refs: HashMap::new(),
            batches: Vec::new(),
            statuses: Vec::new(),
            channel_states: Vec::new(),
            errors: Vec::new(),
            token_requests: 0,
            token_request: 0,
            closes: Vec::new(),
            inbox: VecDeque::new(),
        }
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
                if let Some(socket) = self.socket {
                    self.session.text_frame(socket, &text, self.now);
                }
            }
        }
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
        self.push_message(join_ref, msg_ref, topic, "phx_reply", payload);
    }

    pub fn push_message(
        &mut self,
        join_ref: Option<&str>,
        msg_ref: Option<&str>,
        topic: &str,
        event: &str,
        payload: Value,
    ) {
        // vsn 1.0.0: the server writes no join_ref (docs/protocol.md §1.2).
        let join_ref = if self.vsn == Vsn::V1 { None } else { join_ref };
        let frame = Frame::Message(Message {
            join_ref: join_ref.map(Into::into),
            msg_ref: msg_ref.map(Into::into),
            topic: topic.into(),
            event: event.into(),
            payload,
        });
        self.inbox.push_back(encode_text(&frame, self.vsn).unwrap());
    }

    fn handle(&mut self, output: Output) {
        match output {
            Output::Open { socket, .. } => {
                self.opens += 1;
                if self.hang_opens {
                    return;
                }
                if self.server_up {
                    self.socket = Some(socket);
                    self.session.socket_opened(socket, self.now);
                } else {
                    self.session.socket_closed(socket, self.now);
                }
            }
            Output::Close { reason, .. } => {
                self.closes.push(reason);
                self.socket = None;
            }
            Output::Send(text) => self.server_receives(&text),
            Output::Batch(batch) => self.batches.push(batch),
            Output::Status(status) => self.statuses.push(status),
            Output::Channel { topic, state } => self.channel_states.push((topic, state)),
            Output::Error(error) => self.errors.push(error),
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
                if self.answer_heartbeats {
                    self.reply(
                        None,
                        m.msg_ref.as_deref(),
                        "phoenix",
                        "ok",
                        Value::Object(Vec::new()),
                    );
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
                        self.replay_after_join(topic, &m);
                    }
                    Some(Err(reason)) => {
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
        let (Some(replay), Some(source)) = (config, self.replay.as_mut()) else {
            return;
        };
        let number = |name: &str| match replay.get(name) {
            Some(Value::Number(n)) => n.value() as i64,
            _ => 0,
        };
        for (event, payload, id) in source(topic, number("since"), number("limit") as usize) {
            let meta = json::parse(&format!(r#"{{"replayed":true,"id":"{id}"}}"#)).unwrap();
            let frame = Frame::Broadcast(Broadcast {
                join_ref: join.join_ref.clone(),
                msg_ref: None,
                topic: topic.into(),
                event,
                payload: BroadcastPayload::Json(payload),
                meta: Some(meta),
            });
            self.inbox.push_back(encode_text(&frame, Vsn::V2).unwrap());
        }
    }

    /// Moves the clock to `until`, running every deadline on the way.
    pub fn advance_to(&mut self, until: u64) {
        let mut steps = 0;
        while let Some(deadline) = self.session.deadline().filter(|&d| d <= until) {
            steps += 1;
            assert!(
                steps < 1_000_000,
                "the session keeps asking for {deadline} at {}",
                self.now
            );
            self.now = deadline.max(self.now);
            self.session.tick(self.now);
            self.pump();
        }
        self.now = until.max(self.now);
    }

    pub fn advance(&mut self, ms: u64) {
        self.advance_to(self.now + ms);
    }

    pub fn subscribe(&mut self, resource: Option<&str>) -> u64 {
        let id = self.session.subscribe(resource, self.now);
        self.pump();
        id
    }

    pub fn unsubscribe(&mut self, id: u64) {
        self.session.unsubscribe(id, self.now);
        self.pump();
    }

    /// The server pushes a catalog event as a kind-4 frame with `meta`.
    pub fn push_event(&mut self, topic: &str, event: &str, payload: &Value, meta: Option<&str>) {
        let broadcast = Broadcast {
            join_ref: None,
            msg_ref: None,
            topic: topic.into(),
            event: event.into(),
            payload: BroadcastPayload::Json(payload.clone()),
            meta: meta.map(|m| json::parse(m).unwrap()),
        };
        let bytes = encode_user_broadcast(&broadcast).unwrap();
        if let Some(socket) = self.socket {
            self.session.binary_frame(socket, &bytes, self.now);
        }
        self.pump();
    }

    /// The app answers the last token request.
    pub fn give_token(&mut self, token: Result<&str, &str>) {
        let result = token.map(str::to_owned).map_err(str::to_owned);
        self.session
            .token_result(self.token_request, result, self.now);
        self.pump();
    }

    /// The connection dies (Wi-Fi gone).
    pub fn drop_connection(&mut self) {
        if let Some(socket) = self.socket.take() {
            self.session.socket_closed(socket, self.now);
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

    pub fn state_of(&self, topic: &str) -> Option<ChannelState> {
        self.session
            .stats(self.now)
            .channels
            .into_iter()
            .find(|(t, ..)| t == topic)
            .map(|(_, s, _)| s)
    }

    pub fn joins_of(&self, topic: &str) -> usize {
        self.joins.iter().filter(|(t, _)| t == topic).count()
    }

    /// Keys of every action delivered so far, as JSON text.
    pub fn delivered_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        for batch in &self.batches {
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
