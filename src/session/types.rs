//! What the session reports: its outputs, the manager's and the channels' states, counts (its
//! errors are in `error.rs`).

pub use super::error::SessionError;
use crate::audience::ClientId;
use crate::batch::CacheBatch;
use crate::pipeline::PipelineStats;

/// The manager's state, derived from its channels after every input (never stored beside
/// them): "connected" every channel joined; "connecting" the first joins under way;
/// "reconnecting" a connection or channel lost and being recovered; "degraded" repeated
/// failures (data may be stale); "partial" some channels live, others refused or waiting for a
/// token; "awaiting-token" every channel waits for a fresh token (`setAuth`); "denied" channels
/// refused and none live (tried again every few minutes); "closed" after `close()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    target_arch = "wasm32",
    derive(tsify::Tsify),
    serde(rename_all = "kebab-case")
)]
pub enum Status {
    /// Not connected yet: nothing subscribed, or channels are joining for the first time
    /// (at start, or one subscribed later) and none was lost.
    Connecting,
    /// Every subscribed channel is joined.
    Connected,
    /// A connection or a channel was lost; retrying.
    Reconnecting,
    /// Repeated failures: still retrying, but the UI should say data may be stale.
    Degraded,
    /// Some channels are joined and live, others are refused or wait for a token (a refusal
    /// shows at once, while other joins may still be answered).
    Partial,
    /// Every channel waits for a fresh token (`setAuth`, or `getAccessToken` retried).
    AwaitingToken,
    /// Channels were refused (wrong casino, role, token) and none is live; retried rarely.
    Denied,
    /// `close()` was called.
    Closed,
}

impl Status {
    const ALL: [Status; 8] = [
        Status::Connecting,
        Status::Connected,
        Status::Reconnecting,
        Status::Degraded,
        Status::Partial,
        Status::AwaitingToken,
        Status::Denied,
        Status::Closed,
    ];

    /// The status with this JS spelling.
    pub fn parse(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The JS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Connecting => "connecting",
            Status::Connected => "connected",
            Status::Reconnecting => "reconnecting",
            Status::Degraded => "degraded",
            Status::Partial => "partial",
            Status::AwaitingToken => "awaiting-token",
            Status::Denied => "denied",
            Status::Closed => "closed",
        }
    }
}

/// A channel's state, as `stats()` shows it: "joining", "joined", "retrying" (lost or failed,
/// joins again after its backoff), "awaiting-token" (its token expired), "denied" (refused by
/// the server, with its reason; tried again rarely).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    target_arch = "wasm32",
    derive(tsify::Tsify),
    serde(rename_all = "kebab-case")
)]
pub enum ChannelState {
    /// Not joined yet, or its join is under way.
    Joining,
    /// Joined: events flow.
    Joined,
    /// Lost or failed: joins again when its backoff or the connection allows.
    Retrying,
    /// The token expired: waits for a fresh one.
    AwaitingToken,
    /// Refused by the server (its reason is in the stats); tried again rarely.
    Denied,
}

impl ChannelState {
    /// The JS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelState::Joining => "joining",
            ChannelState::Joined => "joined",
            ChannelState::Retrying => "retrying",
            ChannelState::AwaitingToken => "awaiting-token",
            ChannelState::Denied => "denied",
        }
    }
}

/// What the session asks its host (the browser layer, or a test) to do. What is for the app
/// names the client it is for (0 for a tab on its own).
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
    /// Hand this batch to the client's `onBatch`. Its `opened_at`/`flushed_at` are wall-clock
    /// ms; it holds exactly the actions of the channels the client subscribed.
    Batch(ClientId, CacheBatch),
    /// The client's status changed.
    Status(ClientId, Status),
    /// The client's `staleSince` changed (see [`SessionStats::stale_since`]): ms since the
    /// epoch, or `None` when every channel it subscribed is fresh again.
    Stale(ClientId, Option<i64>),
    /// Report to the client's `onError`.
    Error(ClientId, SessionError),
    /// Call the app's `getAccessToken()` and pass the result to `token_result` with this id.
    RequestToken {
        /// Identifies the request.
        id: u64,
    },
    /// Sockets keep failing before they open: `GET` this URL (the socket's, over HTTP, no
    /// credentials) and pass its status and body to `diagnosed` (status 0 and what was thrown
    /// when no answer could be read). Once until a socket opens.
    Diagnose {
        /// The URL.
        url: String,
    },
}

/// One channel in `stats()`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    target_arch = "wasm32",
    derive(tsify::Tsify),
    serde(rename_all = "camelCase")
)]
pub struct ChannelStats {
    /// `realtime:{casino_id}[:{resource_id}]`.
    pub topic: String,
    /// Its state.
    pub state: ChannelState,
    /// Why it is refused, retrying or waiting, when the server said.
    pub reason: Option<String>,
    /// Subscriptions holding it (0 during the leave grace).
    pub subscribers: u32,
    /// Ms since its last event, if it had one.
    pub last_event_age_ms: Option<u64>,
    /// Why its last gap was resynced rather than replayed, if one was.
    pub last_resync: Option<ResyncCause>,
    /// Since when (ms since the epoch) the cache may not reflect this channel: never joined, or
    /// a gap not yet replayed or resynced; `null` when it is joined and nothing was missed.
    pub stale_since: Option<i64>,
}

/// Why a gap was resynced rather than replayed: `stats()` says it, so an app that sees its
/// queries refetched can tell a server that refused the replay from a gap too long for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    target_arch = "wasm32",
    derive(tsify::Tsify),
    serde(rename_all = "kebab-case")
)]
pub enum ResyncCause {
    /// The replay came back full and started after everything the channel had received.
    ReplayFull,
    /// The server refused the replay (`UnableToReplayMessages`).
    ReplayRefused,
    /// A public channel, or a vsn 1.0.0 socket: Supabase replays neither.
    NoReplay,
    /// The gap is older than the replay window (or than dedup remembers).
    GapTooOld,
    /// The gap began under another host (the tab that led the others is gone; docs/tabs.md).
    HostChanged,
}

impl ResyncCause {
    /// The name `stats()` gives it in JavaScript.
    pub fn as_str(self) -> &'static str {
        match self {
            ResyncCause::ReplayFull => "replay-full",
            ResyncCause::ReplayRefused => "replay-refused",
            ResyncCause::NoReplay => "no-replay",
            ResyncCause::GapTooOld => "gap-too-old",
            ResyncCause::HostChanged => "host-changed",
        }
    }
}

/// Counts for `stats()`.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(
    target_arch = "wasm32",
    derive(tsify::Tsify),
    serde(rename_all = "camelCase")
)]
pub struct SessionStats {
    /// Events through the pipeline.
    #[cfg_attr(target_arch = "wasm32", serde(flatten))]
    pub pipeline: PipelineStats,
    /// Frames dropped unread: not Realtime frames, or over Supabase's 5 MB.
    pub unreadable_frames: u64,
    /// Connections opened after the first.
    pub reconnects: u64,
    /// Gaps recovered by a replay.
    pub replays: u64,
    /// Gaps covered by a resync.
    pub resyncs: u64,
    /// Per channel.
    pub channels: Vec<ChannelStats>,
    /// The earliest of the subscribed channels' `staleSince`: `null` when the SDK vouches for
    /// every one.
    pub stale_since: Option<i64>,
}

impl SessionStats {
    /// `stats()` as JS gets it, as JSON: `status`, the counts, `channels`, `staleSince` (the
    /// browser layer adds where the session runs).
    pub fn to_json(&self, status: Status) -> String {
        use crate::json::{Value, Writer};
        let mut out = String::new();
        let mut w = Writer::new(&mut out);
        let opt_int = |w: &mut Writer<'_>, v: Option<i64>| {
            match v {
                Some(n) => w.int(n),
                None => w.value(&Value::Null),
            };
        };
        let opt_str = |w: &mut Writer<'_>, v: Option<&str>| {
            match v {
                Some(s) => w.string(s),
                None => w.value(&Value::Null),
            };
        };
        w.open('{').key("status").string(status.as_str());
        let p = &self.pipeline;
        for (key, value) in [
            ("eventsReceived", p.received),
            ("applied", p.applied),
            ("duplicates", p.duplicates),
            ("malformed", p.malformed),
            ("foreignCasino", p.foreign_casino),
            ("unreadableFrames", self.unreadable_frames),
            ("batches", p.batches),
            ("reconnects", self.reconnects),
            ("replays", self.replays),
            ("resyncs", self.resyncs),
        ] {
            w.key(key).int(value as i64);
        }
        w.key("channels").open('[');
        for c in &self.channels {
            w.open('{').key("topic").string(&c.topic);
            w.key("state").string(c.state.as_str());
            w.key("reason");
            opt_str(&mut w, c.reason.as_deref());
            w.key("subscribers").int(i64::from(c.subscribers));
            w.key("lastEventAgeMs");
            opt_int(&mut w, c.last_event_age_ms.map(|a| a as i64));
            w.key("lastResync");
            opt_str(&mut w, c.last_resync.map(ResyncCause::as_str));
            w.key("staleSince");
            opt_int(&mut w, c.stale_since);
            w.close('}');
        }
        w.close(']').key("staleSince");
        opt_int(&mut w, self.stale_since);
        w.close('}');
        out
    }
}
