//! The session's configuration, its outputs and the states it reports.

use super::retry::Backoff;
use crate::batch::CacheBatch;
use crate::catalog::{EventError, Uuid};
use crate::protocol::Vsn;
use std::fmt;

/// How to reach the server and how patient to be.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    /// `ws(s)://<host>/realtime/v1` (`/websocket` is added unless present).
    pub url: String,
    /// The project's API key, sent as `apikey` at connect.
    pub api_key: String,
    /// The casino whose channels are joined; events naming another casino are dropped.
    pub casino_id: Uuid,
    /// Join private channels (RLS decides joins; replay is possible).
    pub private: bool,
    /// The serializer.
    pub vsn: Vsn,
    /// Heartbeat period; a heartbeat unanswered for as long means the connection is dead.
    pub heartbeat_ms: u64,
    /// How long a join may take before it is abandoned and retried.
    pub join_timeout_ms: u64,
    /// How long a channel stays joined after its last subscriber left (React StrictMode's
    /// mount-unmount-mount does not churn the socket).
    pub leave_grace_ms: u64,
    /// Reconnect and rejoin timing.
    pub backoff: Backoff,
    /// Consecutive failures after which the status says `degraded`.
    pub degraded_after: u32,
    /// Messages asked for in a replay (Supabase allows 25); a replay that fills it is followed
    /// by a resync, since more may have been missed.
    pub replay_limit: u32,
    /// Gaps longer than this are not replayed (Supabase keeps 72 h) but resynced.
    pub replay_window_ms: u64,
}

impl SessionConfig {
    /// Defaults from docs/protocol.md §6 and docs/design.md for this server, key and casino.
    pub fn new(url: &str, api_key: &str, casino_id: Uuid) -> Self {
        SessionConfig {
            url: url.to_owned(),
            api_key: api_key.to_owned(),
            casino_id,
            private: true,
            vsn: Vsn::V2,
            heartbeat_ms: 25_000,
            join_timeout_ms: 10_000,
            leave_grace_ms: 1_000,
            backoff: Backoff::default(),
            degraded_after: 3,
            replay_limit: 25,
            replay_window_ms: 72 * 3600 * 1000,
        }
    }

    /// The socket URL with `apikey` and `vsn`.
    pub fn socket_url(&self) -> String {
        let base = self.url.trim_end_matches('/');
        let base = if base.ends_with("/websocket") {
            base.to_owned()
        } else {
            format!("{base}/websocket")
        };
        let separator = if base.contains('?') { '&' } else { '?' };
        let mut key = String::new();
        for b in self.api_key.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                key.push(b as char);
            } else {
                key.push_str(&format!("%{b:02X}"));
            }
        }
        format!("{base}{separator}apikey={key}&vsn={}", self.vsn.as_str())
    }
}

/// The connection's state, as the app sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not connected yet (nothing subscribed, or the first attempt is under way).
    Connecting,
    /// Connected, channels joined or joining.
    Connected,
    /// The connection was lost; retrying.
    Reconnecting,
    /// Repeated failures: still retrying, but the UI should say data may be stale.
    Degraded,
    /// The server refused a channel for good (wrong casino, role, token).
    Denied,
    /// `close()` was called.
    Closed,
}

impl Status {
    /// The JS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Connecting => "connecting",
            Status::Connected => "connected",
            Status::Reconnecting => "reconnecting",
            Status::Degraded => "degraded",
            Status::Denied => "denied",
            Status::Closed => "closed",
        }
    }
}

/// A channel's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelState {
    /// Join sent, no reply yet.
    Joining,
    /// Joined: events flow.
    Joined,
    /// Waiting to join again (after a failure, a loss or a refresh).
    Retrying,
    /// Refused for good.
    Denied,
}

impl ChannelState {
    /// The JS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelState::Joining => "joining",
            ChannelState::Joined => "joined",
            ChannelState::Retrying => "retrying",
            ChannelState::Denied => "denied",
        }
    }
}

/// Something the app should know went wrong; the session carries on.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionError {
    /// An event broke the catalog and was dropped.
    InvalidEvent {
        /// The channel it came on.
        topic: String,
        /// What was wrong.
        error: EventError,
    },
    /// An event named another casino and was dropped.
    ForeignCasino {
        /// The channel it came on.
        topic: String,
        /// The event.
        event: String,
        /// The casino it named.
        casino_id: Uuid,
    },
    /// A frame could not be read and was dropped.
    BadFrame {
        /// Why.
        reason: String,
    },
    /// The server refused a channel for good.
    Denied {
        /// The channel.
        topic: String,
        /// The server's reason.
        reason: String,
    },
    /// The app's `getAccessToken` failed or gave nothing.
    Token {
        /// Why.
        reason: String,
    },
}

impl SessionError {
    /// A stable name for JS (`error.name`).
    pub fn name(&self) -> &'static str {
        match self {
            SessionError::InvalidEvent { error, .. } if error.event().is_none() => {
                "UnknownEventError"
            }
            SessionError::InvalidEvent { .. } => "InvalidEventError",
            SessionError::ForeignCasino { .. } => "ForeignCasinoError",
            SessionError::BadFrame { .. } => "ProtocolError",
            SessionError::Denied { .. } => "ChannelDeniedError",
            SessionError::Token { .. } => "TokenError",
        }
    }

    /// The channel concerned, if any.
    pub fn topic(&self) -> Option<&str> {
        match self {
            SessionError::InvalidEvent { topic, .. }
            | SessionError::ForeignCasino { topic, .. }
            | SessionError::Denied { topic, .. } => Some(topic),
            SessionError::BadFrame { .. } | SessionError::Token { .. } => None,
        }
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::InvalidEvent { topic, error } => {
                write!(f, "{error} (on {topic}; dropped)")
            }
            SessionError::ForeignCasino {
                topic,
                event,
                casino_id,
            } => {
                write!(
                    f,
                    "{event} for casino {casino_id} arrived on {topic}; dropped"
                )
            }
            SessionError::BadFrame { reason } => write!(f, "unreadable frame dropped: {reason}"),
            SessionError::Denied { topic, reason } => write!(f, "{topic} refused: {reason}"),
            SessionError::Token { reason } => write!(f, "getAccessToken failed: {reason}"),
        }
    }
}

/// What the session asks its host (the browser layer, or a test) to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Open a WebSocket to this URL; its events must carry `socket`.
    Open {
        /// The URL.
        url: String,
        /// Identifies this socket in `socket_opened`/`socket_closed`/frames.
        socket: u64,
    },
    /// Close the current socket.
    Close {
        /// Close code.
        code: u16,
        /// Close reason.
        reason: String,
    },
    /// Send a text frame.
    Send(String),
    /// Hand this batch to `onBatch`.
    Batch(CacheBatch),
    /// The overall status changed.
    Status(Status),
    /// A channel's state changed.
    Channel {
        /// The channel.
        topic: String,
        /// Its new state.
        state: ChannelState,
    },
    /// Report to `onError`.
    Error(SessionError),
    /// Call the app's `getAccessToken()` and pass the result to `token_result` with this id.
    RequestToken {
        /// Identifies the request.
        id: u64,
    },
}
