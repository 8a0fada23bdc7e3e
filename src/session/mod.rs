//! The realtime session: one connection and its channels, as a sans-IO state machine.
//!
//! The host feeds it inputs, each with the time on both clocks ([`Now`]): socket events, frames,
//! timer ticks, page events, app calls. Every input first runs what is due, so no deadline waits
//! for a timer while frames keep coming (a burst cannot stretch a batch window). The host then
//! takes the [`Output`]s (`drain`): open or close the socket, send a frame, deliver a batch,
//! report a status or an error, ask the app for a token; and arms one timer for
//! [`Session::deadline`]. No clock, socket or timer lives in here, so a 12-hour shift with Wi-Fi
//! losses runs natively in milliseconds (see `tests/session/`).
//!
//! One session can serve several clients (the tabs of a browser sharing its connection,
//! docs/tabs.md): each event is decoded and de-duplicated once, and each client gets its own
//! batches (exactly the actions of the channels it subscribed), status and `staleSince`. A
//! session starts with client 0, which the single-client methods (`subscribe`, `flush`,
//! `status`, `stats`) act for.
//!
//! After [`Session::close`] the session holds nothing: no deadline, and every input is ignored.

mod auth;
mod channel;
mod channels;
mod clients;
mod config;
mod connection;
mod error;
mod ingest;
mod joins;
mod jwt;
mod link;
mod live;
mod membership;
mod recovery;
mod retry;
mod status;
mod types;
mod watch;
mod wire;

pub use crate::clock::Now;
pub use config::{realtime_url, SessionConfig};
pub use jwt::{expiry_ms, issued_ms, subject};
pub use retry::{classify, Backoff, Rng, Verdict};
pub use types::{
    ChannelState, ChannelStats, Output, ResyncCause, SessionError, SessionStats, Status,
};

use crate::audience::ClientId;
use crate::batch::BatchConfig;
use crate::cache::RuleSet;
use crate::dedup::DedupConfig;
use crate::inspect::{Inspector, LogLine};
use live::Live;

/// Identifies one `subscribe()`.
pub type SubscriptionId = u64;

/// Frames larger than this are refused unread, as Supabase refuses them (5,000,000 bytes): a
/// host checks the size before copying a frame into the session.
pub const MAX_FRAME_BYTES: usize = 5_000_000;

/// What a session is made of: where and how to connect, the rules, dedup and batching, the
/// first token, and its randomness. [`SessionParts::new`] gives the defaults for a config.
#[derive(Debug, Clone)]
pub struct SessionParts {
    /// Where and how to connect.
    pub config: SessionConfig,
    /// Event-to-key rules.
    pub rules: RuleSet,
    /// The replay filter's bounds.
    pub dedup: DedupConfig,
    /// The batch window.
    pub batch: BatchConfig,
    /// The access token joins carry (the API key's claims are used without one).
    pub token: Option<String>,
    /// The app can be asked for a token (`getAccessToken`).
    pub token_source: bool,
    /// Drives backoff jitter and keys the replay filter.
    pub seed: u64,
}

impl SessionParts {
    /// The default rules, dedup and batching; no token, no token source; seed 0.
    pub fn new(config: SessionConfig) -> Self {
        SessionParts {
            config,
            rules: RuleSet::defaults(),
            dedup: DedupConfig::default(),
            batch: BatchConfig::default(),
            token: None,
            token_source: false,
            seed: 0,
        }
    }
}

/// One connection to Realtime and the casino channels joined over it.
pub struct Session {
    live: Option<Box<Live>>,
    /// What `close()` had to say, until drained.
    last_words: Vec<Output>,
    /// The logger's lines queued when the session closed.
    last_log: Vec<LogLine>,
}

impl Session {
    /// A session that connects when something is subscribed.
    pub fn new(parts: SessionParts) -> Self {
        // Supabase replays at most 25: a larger limit would never read as full.
        let config = SessionConfig {
            replay_limit: parts.config.replay_limit.clamp(1, 25),
            ..parts.config
        };
        Session {
            live: Some(Box::new(Live::new(SessionParts { config, ..parts }))),
            last_words: Vec::new(),
            last_log: Vec::new(),
        }
    }

    /// Runs one input: what was due first, then the input, then what it made due. The steps
    /// around it are one function, not copied into every input.
    fn input<T>(&mut self, now: Now, f: impl FnOnce(&mut Live) -> T) -> Option<T> {
        let live = self.live.as_deref_mut()?;
        live.begin(now);
        let result = f(live);
        live.end(now);
        Some(result)
    }

    /// Takes what the session asks of its host, in order.
    pub fn drain(&mut self) -> Vec<Output> {
        match self.live.as_mut() {
            Some(live) => live.take_out(),
            None => std::mem::take(&mut self.last_words),
        }
    }

    /// Client 0's `staleSince` (see [`Session::stale_since_of`]).
    pub fn stale_since(&self) -> Option<i64> {
        self.stale_since_of(0)
    }

    /// A client's `staleSince` as last reported (`Output::Stale`): ms since the epoch, or
    /// `None` when every channel it subscribed is fresh (and after `close()`).
    pub fn stale_since_of(&self, client: ClientId) -> Option<i64> {
        let live = self.live.as_ref()?;
        live.client(client).and_then(|c| c.stale())
    }

    /// Client 0's status.
    pub fn status(&self) -> Status {
        self.status_of(0)
    }

    /// A client's status (`closed` after `close()`, or for a client not served).
    pub fn status_of(&self, client: ClientId) -> Status {
        self.live
            .as_ref()
            .and_then(|live| live.client(client))
            .map_or(Status::Closed, |c| c.status())
    }

    /// A new client (another tab sharing this session); `None` when 64 are served or after
    /// `close()`.
    pub fn add_client(&mut self, now: Now) -> Option<ClientId> {
        self.input(now, Live::add_client).flatten()
    }

    /// A client is gone (its tab closed): its subscriptions end, as by `unsubscribe`, and what
    /// was pending for it is dropped.
    pub fn remove_client(&mut self, client: ClientId, now: Now) {
        self.input(now, |live| live.remove_client(client, now));
    }

    /// When the session next needs [`Session::tick`]; `None` when nothing is pending or after
    /// `close()`.
    pub fn deadline(&self) -> Option<u64> {
        self.live.as_ref().and_then(|live| live.deadline())
    }

    /// Runs what is due (the host's timer fired).
    pub fn tick(&mut self, now: Now) {
        self.input(now, |_| ());
    }

    /// Subscribes client 0 (see [`Session::subscribe_for`]).
    pub fn subscribe(&mut self, resource: Option<&str>, now: Now) -> Option<SubscriptionId> {
        self.subscribe_for(0, resource, now)
    }

    /// Subscribes `client` to the casino's list feed (`None`) or a detail channel. Two
    /// subscriptions to one channel, of one client or two, share its join. `None` after
    /// `close()`, or for a client not served.
    pub fn subscribe_for(
        &mut self,
        client: ClientId,
        resource: Option<&str>,
        now: Now,
    ) -> Option<SubscriptionId> {
        self.input(now, |live| live.subscribe(client, resource, None, now))
            .flatten()
    }

    /// As [`Session::subscribe_for`], for a client coming from another host (the tab that led
    /// the others is gone) that may have missed the channel's events since `missed_since`
    /// (wall ms): the channel stays stale from then until a resync batch reaches the client.
    pub fn resume_for(
        &mut self,
        client: ClientId,
        resource: Option<&str>,
        missed_since: i64,
        now: Now,
    ) -> Option<SubscriptionId> {
        let missed = Now::new(now.mono, missed_since.min(now.wall));
        self.input(now, |live| {
            live.subscribe(client, resource, Some(missed), now)
        })
        .flatten()
    }

    /// Ends a subscription; safe to call twice. The channel is left after the leave grace if
    /// nothing else subscribed to it meanwhile.
    pub fn unsubscribe(&mut self, id: SubscriptionId, now: Now) {
        self.input(now, |live| live.unsubscribe(id, now));
    }

    /// The socket opened.
    pub fn socket_opened(&mut self, socket: u64, now: Now) {
        self.input(now, |live| live.socket_opened(socket, now));
    }

    /// The socket closed or failed.
    pub fn socket_closed(&mut self, socket: u64, now: Now) {
        self.input(now, |live| live.connection().closed(socket, None, now));
    }

    /// The browser would not open `socket` (it threw): every client is told, and it is retried
    /// as a lost socket is.
    pub fn socket_failed(&mut self, socket: u64, why: String, now: Now) {
        self.input(now, |live| live.connection().closed(socket, Some(why), now));
    }

    /// A text frame arrived on `socket`.
    pub fn text_frame(&mut self, socket: u64, text: &str, now: Now) {
        self.input(now, |live| live.frame(socket, |wire| wire.text(text), now));
    }

    /// A binary frame arrived on `socket`.
    pub fn binary_frame(&mut self, socket: u64, bytes: &[u8], now: Now) {
        self.input(now, |live| {
            live.frame(socket, |wire| wire.binary(bytes), now)
        });
    }

    /// A frame of `bytes` bytes arrived on `socket` and was refused unread (over
    /// [`MAX_FRAME_BYTES`]): counted and reported, the connection kept.
    pub fn frame_refused(&mut self, socket: u64, bytes: usize, now: Now) {
        self.input(now, |live| live.frame_refused(socket, bytes));
    }

    /// The browser went offline or online. Online, a lost connection is retried at once.
    pub fn set_online(&mut self, online: bool, now: Now) {
        self.input(now, |live| live.connection().set_online(online, now));
    }

    /// The page became visible or hidden. Visible, the connection is checked at once.
    pub fn set_visible(&mut self, visible: bool, now: Now) {
        self.input(now, |live| {
            if visible {
                live.connection().check(now)
            }
        });
    }

    /// The page resumed (`resume`, `pageshow`, `focus`): the connection is checked at once, as
    /// it may have died while the page was frozen or the machine asleep.
    pub fn resumed(&mut self, now: Now) {
        self.input(now, |live| live.connection().check(now));
    }

    /// What the request of [`Output::Diagnose`] got: the HTTP status and body, or 0 and what
    /// was thrown when no answer could be read.
    pub fn diagnosed(&mut self, status: u16, body: &str, now: Now) {
        self.input(now, |live| live.connection().diagnosed(status, body));
    }

    /// A new access token from the app (`setAuth`): joined channels get it at once, channels
    /// waiting for a token or refused join again with it.
    pub fn set_auth(&mut self, token: String, now: Now) {
        self.input(now, |live| live.set_auth(token, now));
    }

    /// Whether the app can be asked for a token (`getAccessToken`): in a session shared by
    /// tabs, while any of them can.
    pub fn set_token_source(&mut self, source: bool, now: Now) {
        self.input(now, |live| live.set_token_source(source));
    }

    /// What the app's `getAccessToken()` gave for request `id` ([`Output::RequestToken`]); an
    /// answer to an abandoned request is ignored.
    pub fn token_result(&mut self, id: u64, token: Result<String, String>, now: Now) {
        self.input(now, |live| live.token_result(id, token, now));
    }

    /// Delivers whatever is pending for client 0 now (`flush()`).
    pub fn flush(&mut self, now: Now) {
        self.flush_for(0, now);
    }

    /// Delivers whatever is pending for `client` now.
    pub fn flush_for(&mut self, client: ClientId, now: Now) {
        self.input(now, |live| live.flush(client, now));
    }

    /// Closes everything for good (`close()`): pending actions are delivered first, then the
    /// socket is closed and the session forgets everything.
    pub fn close(&mut self, now: Now) {
        let Some(live) = self.live.take() else {
            return;
        };
        (self.last_words, self.last_log) = live.finish(now);
    }

    /// The inspector's record (`{ events, batches }` as JSON), when `inspect` is on and the
    /// session is open.
    pub fn inspect(&self) -> Option<String> {
        if !cfg!(feature = "inspect") {
            // Said here, where the compiler sees it, so hosts without an inspector carry no
            // code for its records.
            return None;
        }
        let live = self.live.as_ref()?;
        live.inspector().map(Inspector::to_json)
    }

    /// The lines for the `logger` since the last call.
    pub fn take_log(&mut self) -> Vec<LogLine> {
        if !cfg!(feature = "inspect") {
            return Vec::new();
        }
        match self.live.as_deref_mut() {
            Some(live) => live.take_log(),
            None => std::mem::take(&mut self.last_log),
        }
    }

    /// Client 0's counts and channel states.
    pub fn stats(&self, now: Now) -> SessionStats {
        self.stats_of(0, now)
    }

    /// The session's counts (shared by its clients) and the states of `client`'s channels.
    pub fn stats_of(&self, client: ClientId, now: Now) -> SessionStats {
        self.live
            .as_ref()
            .map_or_else(SessionStats::default, |live| live.stats(Some(client), now))
    }

    /// The session's counts and every channel it holds, whoever holds it (what a session
    /// shared by tabs shows as shared).
    pub fn stats_shared(&self, now: Now) -> SessionStats {
        self.live
            .as_ref()
            .map_or_else(SessionStats::default, |live| live.stats(None, now))
    }

    /// The replay filter's current size, for memory checks.
    pub fn dedup_len(&self) -> usize {
        self.live.as_ref().map_or(0, |live| live.dedup_len())
    }
}
