//! The connection: one socket at a time, its heartbeat, its deadlines, and the failures that pace
//! reconnects. It says what to do ([`Step`]) and the session does it: open a socket, send a
//! heartbeat, drop the socket. Every way of losing the connection goes through [`Link::lose`].

use super::config::SessionConfig;
use super::retry::{Backoff, Rng};
use crate::clock::Now;

/// The socket and what is known of it.
#[derive(Debug)]
pub(super) struct Link {
    state: LinkState,
    /// Socket ids handed out.
    sockets: u64,
    /// Sockets that opened.
    opened: u64,
    /// When the current streak of failures began (connections that failed, or died before a
    /// join succeeded on them): reconnects wait longer the longer it lasts.
    failing_since: Option<u64>,
    /// What the browser says of the network (`navigator.onLine`).
    online: bool,
    /// Sockets in a row that closed before they opened (refused at the upgrade, or never
    /// answered), and whether this streak has had its diagnosis.
    unopened: u32,
    diagnosed: bool,
    timing: Timing,
}

/// Sockets in a row that never opened before the session asks what the server says
/// (`Output::Diagnose`), once the link also reads as failing (`degraded_after_ms`): a blip is
/// over sooner, a wrong key or a rate limit is not.
const DIAGNOSE_AFTER: u32 = 3;

/// The settings the link reads.
#[derive(Debug, Clone, Copy)]
struct Timing {
    heartbeat_ms: u64,
    probe_timeout_ms: u64,
    connect_timeout_ms: u64,
    backoff: Backoff,
    quick_reconnect_ms: u64,
    degraded_after_ms: u64,
}

#[derive(Debug)]
enum LinkState {
    /// No socket. `retry_at`: when to open one (`None`: nothing needs one yet).
    Down { retry_at: Option<u64> },
    /// Opening socket `socket`; given up at `deadline` (a captive portal, a dropped SYN).
    Opening { socket: u64, deadline: u64 },
    /// Socket open.
    Open(OpenLink),
}

#[derive(Debug)]
struct OpenLink {
    socket: u64,
    /// A join succeeded on it: it worked, whatever ends it later.
    worked: bool,
    /// When the last frame arrived: everything the server sent before it was received, so a
    /// gap starts there.
    last_frame: Now,
    heartbeat: Heartbeat,
}

#[derive(Debug)]
enum Heartbeat {
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

/// What the link asks of the session.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Step {
    Nothing,
    /// Open socket `socket`.
    Open(u64),
    /// Send a heartbeat, then tell [`Link::heartbeat_sent`] its ref.
    Heartbeat {
        deadline: u64,
        next: u64,
    },
    /// Close the socket for this reason, then lose the connection.
    Drop(&'static str),
}

impl Link {
    pub fn new(config: &SessionConfig) -> Self {
        Link {
            state: LinkState::Down { retry_at: None },
            sockets: 0,
            opened: 0,
            failing_since: None,
            online: true,
            unopened: 0,
            diagnosed: false,
            timing: Timing {
                heartbeat_ms: config.heartbeat_ms,
                probe_timeout_ms: config.probe_timeout_ms,
                connect_timeout_ms: config.join_timeout_ms,
                backoff: config.backoff,
                quick_reconnect_ms: config.quick_reconnect_ms,
                degraded_after_ms: config.degraded_after_ms,
            },
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

    /// A socket is opening or open.
    pub fn is_up(&self) -> bool {
        !matches!(self.state, LinkState::Down { .. })
    }

    /// Connections opened after the first.
    pub fn reconnects(&self) -> u64 {
        self.opened.saturating_sub(1)
    }

    /// No join has succeeded on the connection and it has been failing for long enough that
    /// the status says `degraded`.
    pub fn failing(&self, now: Now) -> bool {
        let worked = matches!(&self.state, LinkState::Open(open) if open.worked);
        !worked
            && self
                .failing_since
                .is_some_and(|t| now.mono.saturating_sub(t) >= self.timing.degraded_after_ms)
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

    /// Opens a socket if one is `wanted` and none is on its way.
    pub fn ensure(&mut self, wanted: bool, now: Now, rng: &mut Rng) -> Step {
        match self.state {
            LinkState::Down { retry_at: None } => self.connect(wanted, now, rng),
            _ => Step::Nothing,
        }
    }

    fn connect(&mut self, wanted: bool, now: Now, rng: &mut Rng) -> Step {
        if !wanted {
            self.state = LinkState::Down { retry_at: None };
            return Step::Nothing;
        }
        if !self.online {
            // `navigator.onLine` is not always right (VPNs): keep trying, on the backoff.
            let delay = self.delay(now, rng);
            self.state = LinkState::Down {
                retry_at: Some(now.mono + delay),
            };
            return Step::Nothing;
        }
        self.sockets += 1;
        let socket = self.sockets;
        self.state = LinkState::Opening {
            socket,
            deadline: now.mono + self.timing.connect_timeout_ms,
        };
        Step::Open(socket)
    }

    /// The wait before the next connection attempt, full jitter under a ceiling that follows
    /// how long the connection has been failing: within the base for the first seconds (a Wi-Fi
    /// blip is over quickly, and a replay covers only 25 messages), then up to half the outage
    /// so far, capped.
    fn delay(&self, now: Now, rng: &mut Rng) -> u64 {
        let backoff = self.timing.backoff;
        let failing = self
            .failing_since
            .map_or(0, |since| now.mono.saturating_sub(since));
        let ceiling = if failing < self.timing.quick_reconnect_ms {
            backoff.base_ms
        } else {
            (failing / 2).clamp(backoff.base_ms, backoff.cap_ms)
        };
        rng.up_to(ceiling).max(backoff.floor_ms)
    }

    /// Socket `socket` opened; false when it is not the one awaited.
    pub fn opened(&mut self, socket: u64, now: Now) -> bool {
        if !matches!(self.state, LinkState::Opening { socket: s, .. } if s == socket) {
            return false;
        }
        self.opened += 1;
        self.unopened = 0;
        self.diagnosed = false;
        self.state = LinkState::Open(OpenLink {
            socket,
            worked: false,
            last_frame: now,
            heartbeat: Heartbeat::Due(now.mono + self.timing.heartbeat_ms),
        });
        true
    }

    /// A join succeeded on the open socket.
    pub fn worked(&mut self) {
        if let LinkState::Open(open) = &mut self.state {
            open.worked = true;
        }
    }

    /// The connection is lost: the next socket waits its backoff (if one is `wanted`). A
    /// connection on which a join succeeded resets the failure streak first, so only
    /// connections that fail (refused, dying before any join) grow it. Returns when the gap
    /// starts: the last frame received.
    pub fn lose(&mut self, wanted: bool, now: Now, rng: &mut Rng) -> Now {
        let (worked, gap_from) = match &self.state {
            LinkState::Open(open) => (open.worked, open.last_frame),
            LinkState::Opening { .. } => {
                self.unopened += 1;
                (false, now)
            }
            LinkState::Down { .. } => (false, now),
        };
        if worked {
            self.failing_since = None;
        }
        self.failing_since.get_or_insert(now.mono);
        let delay = self.delay(now, rng);
        self.state = LinkState::Down {
            retry_at: wanted.then_some(now.mono + delay),
        };
        gap_from
    }

    /// Sockets keep failing before they open, for long enough that the session reads
    /// `degraded`: true once per streak, when the session should ask the server why (browsers
    /// hide a refused upgrade's status).
    pub fn diagnose(&mut self, now: Now) -> bool {
        let due = self.unopened >= DIAGNOSE_AFTER && self.failing(now) && !self.diagnosed;
        self.diagnosed |= due;
        due
    }

    /// A diagnosis asked for still explains something: no socket has opened since.
    pub fn still_failing(&self) -> bool {
        self.unopened >= DIAGNOSE_AFTER
    }

    /// Checks the connection now (a wake, a resumed page): a heartbeat with a short timeout
    /// when open, a connection attempt without waiting out the backoff when down.
    pub fn check(&mut self, wanted: bool, now: Now, rng: &mut Rng) -> Step {
        let probe_deadline = now.mono + self.timing.probe_timeout_ms;
        match &mut self.state {
            LinkState::Down { .. } if wanted => self.connect(wanted, now, rng),
            LinkState::Down { .. } | LinkState::Opening { .. } => Step::Nothing,
            LinkState::Open(open) => match &mut open.heartbeat {
                Heartbeat::Awaiting { deadline, .. } => {
                    *deadline = (*deadline).min(probe_deadline);
                    Step::Nothing
                }
                Heartbeat::Due(next) => Step::Heartbeat {
                    deadline: probe_deadline,
                    next: *next,
                },
            },
        }
    }

    /// The heartbeat asked for went as `msg_ref`.
    pub fn heartbeat_sent(&mut self, msg_ref: String, deadline: u64, next: u64) {
        if let LinkState::Open(open) = &mut self.state {
            open.heartbeat = Heartbeat::Awaiting {
                msg_ref,
                deadline,
                next,
            };
        }
    }

    /// What is due at `now`. An unanswered heartbeat drops the connection, unless joins are
    /// queued on it, which the server answers one at a time and late (the reply waits behind
    /// them): `queued` gives the last of their deadlines, which then decides.
    pub fn due(
        &mut self,
        wanted: bool,
        now: Now,
        queued: impl FnOnce() -> Option<u64>,
        rng: &mut Rng,
    ) -> Step {
        let t = now.mono;
        match &mut self.state {
            LinkState::Down { retry_at: Some(at) } if *at <= t => self.connect(wanted, now, rng),
            LinkState::Opening { deadline, .. } if *deadline <= t => Step::Drop("connect timeout"),
            LinkState::Open(open) => match &mut open.heartbeat {
                Heartbeat::Awaiting { deadline, .. } if *deadline <= t => match queued() {
                    Some(later) => {
                        *deadline = later;
                        Step::Nothing
                    }
                    None => Step::Drop("heartbeat timeout"),
                },
                Heartbeat::Due(at) if *at <= t => {
                    let period = self.timing.heartbeat_ms;
                    Step::Heartbeat {
                        deadline: t + period,
                        next: t + period,
                    }
                }
                _ => Step::Nothing,
            },
            _ => Step::Nothing,
        }
    }

    /// Whether a frame on `socket` is to be read; records that the connection is alive.
    pub fn receiving(&mut self, socket: u64, now: Now) -> bool {
        let probe = self.timing.probe_timeout_ms;
        match &mut self.state {
            LinkState::Open(open) if open.socket == socket => {
                open.last_frame = now;
                // Any frame proves the socket alive: the awaited reply may be behind it.
                if let Heartbeat::Awaiting { deadline, .. } = &mut open.heartbeat {
                    *deadline = (*deadline).max(now.mono + probe);
                }
                true
            }
            _ => false,
        }
    }

    /// A reply on the `phoenix` topic: the awaited heartbeat's, if its ref matches.
    pub fn reply(&mut self, msg_ref: &str) {
        if let LinkState::Open(open) = &mut self.state {
            if let Heartbeat::Awaiting {
                msg_ref: r, next, ..
            } = &open.heartbeat
            {
                if r == msg_ref {
                    open.heartbeat = Heartbeat::Due(*next);
                }
            }
        }
    }

    /// The browser went online or offline. Online, a lost connection is retried at once.
    pub fn set_online(&mut self, online: bool, wanted: bool, now: Now, rng: &mut Rng) -> Step {
        self.online = online;
        if online && !self.is_up() {
            return self.connect(wanted, now, rng);
        }
        Step::Nothing
    }

    /// Nothing needs the connection any more: no socket, and none reopened. True when one was
    /// up (the session closes it).
    pub fn idle(&mut self) -> bool {
        let up = self.is_up();
        self.state = LinkState::Down { retry_at: None };
        up
    }
}
