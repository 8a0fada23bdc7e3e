//! Supabase Realtime frames (Phoenix channels), both directions, both serializers
//! (`docs/protocol.md` §1.2): vsn 1.0.0 JSON objects, vsn 2.0.0 JSON arrays plus binary
//! kind 3 (client broadcast push) and kind 4 (server user broadcast). Pure: bytes in, values out.
//!
//! Broadcasts are normalised: a kind-3 or kind-4 frame and a JSON frame whose event is
//! `broadcast` with a `{type: "broadcast", event, payload, meta?}` payload all decode to
//! [`Frame::Broadcast`], so callers handle one shape whichever wire form the server chose.

mod binary;
mod text;

pub use binary::{decode_binary, encode_broadcast_push, encode_user_broadcast};
pub use text::{decode_text, encode_text};

use crate::json::Value;
use std::fmt;

/// The serializer negotiated by the `vsn` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vsn {
    /// `1.0.0`: JSON objects; the default when `vsn` is absent.
    V1,
    /// `2.0.0`: JSON arrays and binary broadcasts; what realtime-js uses.
    V2,
}

impl Vsn {
    /// Reads the `vsn` parameter; `None` for a version the server does not speak.
    pub fn from_param(vsn: Option<&str>) -> Option<Vsn> {
        match vsn {
            None | Some("1.0.0") => Some(Vsn::V1),
            Some("2.0.0") => Some(Vsn::V2),
            Some(_) => None,
        }
    }

    /// The parameter's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Vsn::V1 => "1.0.0",
            Vsn::V2 => "2.0.0",
        }
    }
}

/// A Phoenix message: join, reply, heartbeat, leave, close, error, system, access_token, ...
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The join this message belongs to.
    pub join_ref: Option<String>,
    /// Correlates a push with its reply.
    pub msg_ref: Option<String>,
    /// `realtime:<subtopic>`, or `phoenix` for heartbeats.
    pub topic: String,
    /// `phx_join`, `phx_reply`, `heartbeat`, `system`, ...
    pub event: String,
    /// The message's payload.
    pub payload: Value,
}

/// The user payload of a broadcast.
#[derive(Debug, Clone, PartialEq)]
pub enum BroadcastPayload {
    /// JSON (payload encoding 1).
    Json(Value),
    /// Raw bytes (payload encoding 0); only binary frames carry these.
    Binary(Vec<u8>),
}

/// A broadcast, whichever form it came in.
#[derive(Debug, Clone, PartialEq)]
pub struct Broadcast {
    /// The join it was pushed on (client pushes only).
    pub join_ref: Option<String>,
    /// The push's ref (client pushes only).
    pub msg_ref: Option<String>,
    /// `realtime:<subtopic>`.
    pub topic: String,
    /// The user event, e.g. `rating_slip.updated`.
    pub event: String,
    /// The user payload.
    pub payload: BroadcastPayload,
    /// Metadata, e.g. `{"id": "<uuid>"}` for database broadcasts, `{"replayed": true, ...}`.
    pub meta: Option<Value>,
}

impl Broadcast {
    /// `meta.id`, when the broadcast carries one.
    pub fn meta_id(&self) -> Option<&str> {
        self.meta.as_ref()?.get("id")?.as_str()
    }
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// Anything but a broadcast.
    Message(Message),
    /// A broadcast, from a binary or a JSON frame.
    Broadcast(Broadcast),
}

/// Why bytes are not a frame. Decoding never panics; a bad frame is this error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// What was wrong.
    pub reason: String,
}

impl FrameError {
    fn new(reason: impl Into<String>) -> Self {
        FrameError {
            reason: reason.into(),
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad frame: {}", self.reason)
    }
}

impl std::error::Error for FrameError {}
