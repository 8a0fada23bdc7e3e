//! The connection: one socket at a time, its heartbeat, and the failures that pace reconnects.
//! Every way of losing it goes through one place (`Live::lose_link`), which resets all of it.

use crate::clock::Now;

/// The socket and what is known of it.
#[derive(Debug)]
pub(super) struct Link {
    pub state: LinkState,
    /// Socket ids handed out.
    pub sockets: u64,
    /// Sockets that opened.
    pub opened: u64,
    /// When the current streak of failures began (connections that failed, or died before a
    /// join succeeded on them): reconnects wait longer the longer it lasts.
    pub failing_since: Option<u64>,
    /// What the browser says of the network (`navigator.onLine`).
    pub online: bool,
}

#[derive(Debug)]
pub(super) enum LinkState {
    /// No socket. `retry_at`: when to open one (`None`: nothing needs one yet).
    Down { retry_at: Option<u64> },
    /// Opening socket `socket`; given up at `deadline` (a captive portal, a dropped SYN).
    Opening { socket: u64, deadline: u64 },
    /// Socket open.
    Open(OpenLink),
}

#[derive(Debug)]
pub(super) struct OpenLink {
    pub socket: u64,
    /// A join succeeded on it: it worked, whatever ends it later.
    pub worked: bool,
    /// When the last frame arrived: everything the server sent before it was received, so a
    /// gap starts there.
    pub last_frame: Now,
    pub heartbeat: Heartbeat,
}

#[derive(Debug)]
pub(super) enum Heartbeat {
    /// The next heartbeat goes at this time.
    Due(u64),
    /// Sent as `msg_ref`; no reply by `deadline` means the connection is dead. The next one
    /// goes at `next`.
    Awaiting {
        msg_ref: String,
        deadline: u64,
        next: u64,
    },
}

impl Link {
    pub fn new() -> Self {
        Link {
            state: LinkState::Down { retry_at: None },
            sockets: 0,
            opened: 0,
            failing_since: None,
            online: true,
        }
    }

    /// The open socket's id.
    pub fn open_socket(&self) -> Option<u64> {
        match &self.state {
            LinkState::Open(open) => Some(open.socket),
            _ => None,
        }
    }

    /// Whether `socket` is the one opening or open.
    pub fn is_current(&self, socket: u64) -> bool {
        match &self.state {
            LinkState::Opening { socket: s, .. } => *s == socket,
            LinkState::Open(open) => open.socket == socket,
            LinkState::Down { .. } => false,
        }
    }

    /// When the link next needs attention.
    pub fn deadline(&self) -> Option<u64> {
        match &self.state {
            LinkState::Down { retry_at } => *retry_at,
            LinkState::Opening { deadline, .. } => Some(*deadline),
            LinkState::Open(open) => Some(match open.heartbeat {
                Heartbeat::Due(at) => at,
                Heartbeat::Awaiting { deadline, .. } => deadline,
            }),
        }
    }
}
