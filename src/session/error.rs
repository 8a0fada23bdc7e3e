//! What the session tells the app went wrong (it carries on): each error, its kind and members
//! as the error contract declares them (`src/errors.rs`), and its message.

use crate::catalog::{EventError, Uuid};
use crate::errors::{ErrorKind, ErrorReport, Prop};
use std::fmt;

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
    /// A frame could not be read, or was too large, and was dropped.
    BadFrame {
        /// Why.
        reason: String,
    },
    /// The server refused a channel.
    Denied {
        /// The channel.
        topic: String,
        /// The server's reason.
        reason: String,
    },
    /// No usable token: `getAccessToken` failed, gave nothing or gave the expired token back,
    /// or there is no `getAccessToken` and the token expired.
    Token {
        /// Why.
        reason: String,
    },
    /// The browser would not open the socket (an invalid URL, a page that may not open it:
    /// mixed content, a Content-Security-Policy); retried like a lost socket.
    CannotOpen {
        /// The socket's URL.
        url: String,
        /// What the browser said.
        why: String,
    },
    /// Sockets kept failing before they opened; asked why over HTTP, the server answered this.
    Refused {
        /// The HTTP status; 0 when no answer could be read.
        status: u16,
        /// The server's words (its JSON `error` or `message`), or what the browser said.
        said: String,
    },
}

impl SessionError {
    /// What an HTTP status means for a socket that will not open (`ConnectionError.reason`).
    pub fn refusal(status: u16) -> &'static str {
        match status {
            0 => "unreachable",
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not-found",
            429 => "rate-limited",
            500..=599 => "server-error",
            // The checks passed (a plain GET is no upgrade): the key is good, yet WebSockets
            // do not get through.
            200..=299 | 400 | 426 => "websocket-blocked",
            _ => "refused",
        }
    }
}

impl SessionError {
    /// Its kind (the JS `name`).
    pub fn kind(&self) -> ErrorKind {
        match self {
            SessionError::InvalidEvent { error, .. } => error.kind(),
            SessionError::ForeignCasino { .. } => ErrorKind::ForeignCasino,
            SessionError::BadFrame { .. } | SessionError::CannotOpen { .. } => ErrorKind::Protocol,
            SessionError::Refused { .. } => ErrorKind::Connection,
            SessionError::Denied { .. } => ErrorKind::ChannelDenied,
            SessionError::Token { .. } => ErrorKind::Token,
        }
    }

    /// A stable name for JS (`error.name`).
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// The error as JS gets it: kind, message and members (`src/errors.rs`).
    pub fn report(&self) -> ErrorReport {
        let message = self.to_string();
        match self {
            SessionError::InvalidEvent { topic, error } => {
                let mut report = error.report();
                report.message = message;
                report.with(Prop::Topic, topic.as_str())
            }
            SessionError::ForeignCasino {
                topic,
                event,
                casino_id,
            } => ErrorReport::new(ErrorKind::ForeignCasino, message)
                .with(Prop::Topic, topic.as_str())
                .with(Prop::Event, event.as_str())
                .with(Prop::CasinoId, casino_id.to_string()),
            SessionError::BadFrame { reason } => {
                ErrorReport::new(ErrorKind::Protocol, message).with(Prop::Reason, reason.as_str())
            }
            SessionError::Denied { topic, reason } => {
                ErrorReport::new(ErrorKind::ChannelDenied, message)
                    .with(Prop::Topic, topic.as_str())
                    .with(Prop::Reason, reason.as_str())
            }
            SessionError::Token { reason } => {
                ErrorReport::new(ErrorKind::Token, message).with(Prop::Reason, reason.as_str())
            }
            SessionError::CannotOpen { why, .. } => ErrorReport::new(ErrorKind::Protocol, message)
                .with(Prop::Reason, "cannot_open")
                .with(Prop::Cause, why.as_str()),
            SessionError::Refused { status, .. } => {
                ErrorReport::new(ErrorKind::Connection, message)
                    .with(Prop::Reason, SessionError::refusal(*status))
                    .with(Prop::Status, status.to_string())
            }
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
            SessionError::Token { reason } => write!(f, "no usable access token: {reason}"),
            SessionError::CannotOpen { url, why } => {
                write!(f, "cannot open a WebSocket to {url}: {why}")
            }
            SessionError::Refused { status, said } => {
                let meaning = match SessionError::refusal(*status) {
                    "unreachable" => "the server could not be reached",
                    "unauthorized" => "the server refused the apiKey (wrong, missing or expired)",
                    "forbidden" => "the server refused the connection",
                    "not-found" => "the server knows no such project",
                    "rate-limited" => "the server is limiting connections; retrying on a backoff",
                    "server-error" => "the server failed",
                    "websocket-blocked" => {
                        "the server accepts the apiKey, yet WebSockets do not get through (a \
                         proxy or firewall may block them)"
                    }
                    _ => "the server refused",
                };
                match status {
                    0 => write!(f, "sockets keep failing: {meaning} ({said})"),
                    _ => write!(f, "sockets keep failing: {meaning} (HTTP {status}: {said})"),
                }
            }
        }
    }
}
