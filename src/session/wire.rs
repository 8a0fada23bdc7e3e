//! The wire: message refs, frames out (encoded for the socket's serializer), frames in (size
//! checked, decoded and routed), and the `phx_join` payload. It knows no channel state: what a
//! frame means for a channel is the channel's business (`joins.rs`).

use super::channel::ReplayPlan;
use super::types::Output;
use super::MAX_FRAME_BYTES;
use crate::json::{Number, Value};
use crate::protocol::{
    decode_binary, decode_text, encode_text, Broadcast, Frame, FrameError, Message, Vsn,
};

/// Refs and the serializer.
#[derive(Debug)]
pub(super) struct Wire {
    vsn: Vsn,
    /// Refs handed out; a join's ref is its `join_ref` too.
    refs: u64,
}

/// What an incoming frame is for.
#[derive(Debug)]
pub(super) enum Inbound {
    /// A broadcast, for the pipeline (`ingest.rs`).
    Broadcast(Broadcast),
    /// A reply on the `phoenix` topic: a heartbeat's, by its ref.
    Reply(String),
    /// A message for a channel: replies to joins, closes, errors, `system`.
    Channel(Message),
    /// Not a Realtime frame, or too large: dropped, counted and reported.
    Unreadable(String),
    /// Something to ignore (a `phoenix` message that is no reply).
    Nothing,
}

impl Wire {
    pub fn new(vsn: Vsn) -> Self {
        Wire { vsn, refs: 0 }
    }

    fn next_ref(&mut self) -> String {
        self.refs += 1;
        self.refs.to_string()
    }

    /// Sends a message with a fresh ref; returns the ref.
    pub fn send(
        &mut self,
        out: &mut Vec<Output>,
        join_ref: Option<&str>,
        topic: &str,
        event: &str,
        payload: Value,
    ) -> String {
        let msg_ref = self.next_ref();
        self.send_as(out, join_ref, &msg_ref, topic, event, payload);
        msg_ref
    }

    fn send_as(
        &self,
        out: &mut Vec<Output>,
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
        if let Ok(text) = encode_text(&frame, self.vsn) {
            out.push(Output::Send(text));
        }
    }

    /// A heartbeat; returns its ref, which its reply carries.
    pub fn heartbeat(&mut self, out: &mut Vec<Output>) -> String {
        self.send(out, None, "phoenix", "heartbeat", Value::Object(Vec::new()))
    }

    /// Leaves the join `join_ref` of `topic`.
    pub fn leave(&mut self, out: &mut Vec<Output>, join_ref: &str, topic: &str) {
        let payload = Value::Object(Vec::new());
        self.send(out, Some(join_ref), topic, "phx_leave", payload);
    }

    /// Gives the join `join_ref` of `topic` a new access token.
    pub fn access_token(
        &mut self,
        out: &mut Vec<Output>,
        join_ref: &str,
        topic: &str,
        token: &str,
    ) {
        let payload = Value::Object(vec![("access_token".into(), token.into())]);
        self.send(out, Some(join_ref), topic, "access_token", payload);
    }

    /// Sends `phx_join` for `topic`; returns its ref, which is its `join_ref`.
    pub fn join(&mut self, out: &mut Vec<Output>, topic: &str, payload: Value) -> String {
        let join_ref = self.next_ref();
        self.send_as(out, Some(&join_ref), &join_ref, topic, "phx_join", payload);
        join_ref
    }

    /// A text frame, routed (refused unread over [`MAX_FRAME_BYTES`]).
    pub fn text(&self, text: &str) -> Inbound {
        if text.len() > MAX_FRAME_BYTES {
            return Inbound::Unreadable(too_large(text.len()));
        }
        route(decode_text(text, self.vsn))
    }

    /// A binary frame, routed (refused unread over [`MAX_FRAME_BYTES`]).
    pub fn binary(&self, bytes: &[u8]) -> Inbound {
        if bytes.len() > MAX_FRAME_BYTES {
            return Inbound::Unreadable(too_large(bytes.len()));
        }
        route(decode_binary(bytes))
    }
}

/// What the session says of a frame refused for its size.
pub(super) fn too_large(bytes: usize) -> String {
    format!("a frame of {bytes} bytes is over the {MAX_FRAME_BYTES}-byte limit")
}

fn route(frame: Result<Frame, FrameError>) -> Inbound {
    match frame {
        Err(e) => Inbound::Unreadable(e.reason),
        Ok(Frame::Broadcast(b)) => Inbound::Broadcast(b),
        Ok(Frame::Message(m)) if m.topic == "phoenix" => match m.msg_ref {
            Some(msg_ref) if m.event == "phx_reply" => Inbound::Reply(msg_ref),
            _ => Inbound::Nothing,
        },
        Ok(Frame::Message(m)) => Inbound::Channel(m),
    }
}

/// Whether a message belongs to the join `join_ref`. vsn 1.0.0 frames carry no `join_ref`: a
/// reply, close or error is matched by its `ref` (the join's ref), anything else without a
/// `join_ref` is accepted, as phoenix.js's `isMember` does.
pub(super) fn of_join(m: &Message, join_ref: &str) -> bool {
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

/// The `phx_join` payload: broadcasts without acks or echo, a replay from `since` when the plan
/// has one, presence off, no Postgres changes, and the access token if there is one.
pub(super) fn join_payload(
    plan: ReplayPlan,
    replay_limit: u32,
    private: bool,
    token: Option<&str>,
) -> Value {
    let mut broadcast = vec![("ack", Value::Bool(false)), ("self", Value::Bool(false))];
    if let ReplayPlan::Since(since) = plan {
        let replay = Value::object(vec![
            ("since", Value::Number(Number::int(since))),
            ("limit", Value::Number(Number::int(i64::from(replay_limit)))),
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
        ("private", Value::Bool(private)),
    ]);
    let mut payload = vec![("config", config)];
    if let Some(token) = token {
        payload.push(("access_token", token.into()));
    }
    Value::object(payload)
}

/// The server's words in an HTTP answer: its JSON `error` or `message` (Realtime's and the
/// gateway's), else the text itself, cut to 200 characters.
pub(super) fn said(body: &str) -> String {
    let json = crate::json::parse(body).ok();
    let words = json.as_ref().and_then(|v| {
        let field = v.get("error").or_else(|| v.get("message"))?;
        field.as_str()
    });
    let text = words.unwrap_or(body).trim();
    match text
        .char_indices()
        .nth(200)
        .and_then(|(cut, _)| text.get(..cut))
    {
        Some(head) => format!("{head}..."),
        None => text.to_owned(),
    }
}
