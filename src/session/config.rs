//! How to reach the server and how patient to be.

use super::retry::Backoff;
use crate::catalog::Uuid;
use crate::protocol::Vsn;

/// The session's settings. [`SessionConfig::new`] gives the defaults; every duration is in ms.
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
    /// How long a probe heartbeat (after a wake, a resumed page) may go unanswered.
    pub probe_timeout_ms: u64,
    /// How long a join may wait for its reply. Every reply to a join on the socket restarts the
    /// wait of the others, because the server answers failed joins one at a time, late.
    pub join_timeout_ms: u64,
    /// How long a channel stays joined after its last subscriber left (React StrictMode's
    /// mount-unmount-mount does not churn the socket).
    pub leave_grace_ms: u64,
    /// Reconnect and rejoin timing after ordinary failures.
    pub backoff: Backoff,
    /// For this long after a connection starts failing, reconnects come within
    /// `backoff.base_ms`; then the wait grows with the outage, up to `backoff.cap_ms`.
    pub quick_reconnect_ms: u64,
    /// Rejoin timing after a rate limit (Supabase's limits are averages over a minute).
    pub rate_limit_backoff: Backoff,
    /// Rejoin timing after a refusal: Supabase also answers `Unauthorized` when it could not
    /// evaluate the policies, so a refused channel is tried again, rarely.
    pub refused_backoff: Backoff,
    /// Timing of `getAccessToken` calls that failed or gave back the expired token.
    pub token_backoff: Backoff,
    /// A connection or join that held this long resets its failure count.
    pub stable_after_ms: u64,
    /// Consecutive failed joins of a channel after which the status says `degraded`.
    pub degraded_after: u32,
    /// How long the connection may keep failing before the status says `degraded`.
    pub degraded_after_ms: u64,
    /// Messages asked for in a replay (Supabase allows 25).
    pub replay_limit: u32,
    /// Gaps longer than this are not replayed (Supabase keeps 72 h) but resynced.
    pub replay_window_ms: u64,
    /// How long after a join its replayed messages may still arrive.
    pub replay_settle_ms: u64,
    /// The longest time between a message's `inserted_at` (the database's clock when the
    /// transaction that publishes it began) and its delivery (when that transaction commits,
    /// plus Realtime's own time): a replay starts this much before the start of a gap, more if
    /// the producers' `at` runs behind, so a message committed during the gap by a transaction
    /// that began before it is replayed, wherever its producer stamped `at`
    /// (`maxDeliveryDelayMs`).
    pub max_delivery_delay_ms: u64,
    /// Bound on the clock correction a replay point gets from events' `at`.
    pub max_skew_ms: u64,
    /// A wall clock that ran this much further than the monotonic one (a sleep), or a deadline
    /// served this late (a frozen or throttled page), makes the session check its connection.
    pub wake_after_ms: u64,
    /// While the manager is stale, a `poll` batch refetching what its channels feed this often
    /// (`fallbackPollMs`); 0 turns polling off.
    pub fallback_poll_ms: u64,
    /// A resync waits a random time up to this (`resyncJitterMs`), so a fleet that recovers
    /// together spreads its refetches; 0 resyncs at once.
    pub resync_jitter_ms: u64,
    /// The inspector's ring size (`debug`); 0 keeps it off.
    pub inspect: usize,
    /// Queue a line per inspected record for the `logger` (needs `inspect`).
    pub log: bool,
}

impl SessionConfig {
    /// Defaults (docs/protocol.md §6, docs/design.md) for this server, key and casino.
    pub fn new(url: &str, api_key: &str, casino_id: Uuid) -> Self {
        SessionConfig {
            url: url.to_owned(),
            api_key: api_key.to_owned(),
            casino_id,
            private: true,
            vsn: Vsn::V2,
            heartbeat_ms: 25_000,
            probe_timeout_ms: 5_000,
            join_timeout_ms: 10_000,
            leave_grace_ms: 1_000,
            backoff: Backoff::new(1_000, 30_000, 100),
            quick_reconnect_ms: 10_000,
            rate_limit_backoff: Backoff::new(60_000, 300_000, 60_000),
            refused_backoff: Backoff::new(120_000, 600_000, 60_000),
            token_backoff: Backoff::new(1_000, 60_000, 500),
            stable_after_ms: 30_000,
            degraded_after: 3,
            degraded_after_ms: 10_000,
            replay_limit: 25,
            replay_window_ms: 72 * 3600 * 1000,
            replay_settle_ms: 2_000,
            max_delivery_delay_ms: 2_000,
            max_skew_ms: 300_000,
            wake_after_ms: 5_000,
            fallback_poll_ms: 10_000,
            resync_jitter_ms: 2_000,
            inspect: 0,
            log: false,
        }
    }

    /// The topic of the casino's list feed (`None`) or of a detail channel.
    pub fn topic(&self, resource: Option<&str>) -> String {
        match resource {
            Some(r) => format!("realtime:{}:{r}", self.casino_id),
            None => format!("realtime:{}", self.casino_id),
        }
    }

    /// Where to ask why sockets are refused: the socket URL over HTTP(S). Realtime runs the
    /// same checks on a plain GET as on the upgrade and answers with the same status and JSON
    /// (401 a bad or expired key, 403, 404 no such project, 429 too many connections), or 400
    /// when they pass (docs/supabase-server-behaviour.md).
    pub fn diagnosis_url(&self) -> String {
        let url = self.socket_url();
        // `get`, not indexing: no panicking slice on the wasm path.
        match (url.get(..3), url.get(2..), url.get(3..)) {
            (Some(head), _, Some(rest)) if head.eq_ignore_ascii_case("wss") => {
                format!("https{rest}")
            }
            (Some(head), Some(rest), _) if head.eq_ignore_ascii_case("ws:") => {
                format!("http{rest}")
            }
            _ => url,
        }
    }

    /// The socket URL with `apikey` and `vsn` (a query the URL has is kept).
    pub fn socket_url(&self) -> String {
        let (path, query) = match self.url.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (self.url.as_str(), None),
        };
        let base = path.trim_end_matches('/');
        let mut url = String::from(base);
        if !base.ends_with("/websocket") {
            url.push_str("/websocket");
        }
        url.push('?');
        if let Some(query) = query.filter(|q| !q.is_empty()) {
            url.push_str(query);
            url.push('&');
        }
        url.push_str("apikey=");
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        for b in self.api_key.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                url.push(b as char);
            } else {
                url.push('%');
                url.push(HEX[usize::from(b >> 4)] as char);
                url.push(HEX[usize::from(b & 15)] as char);
            }
        }
        url.push_str("&vsn=");
        url.push_str(self.vsn.as_str());
        url
    }
}

/// The realtime endpoint for what an app may pass as `url`: a realtime endpoint (`ws(s)://`) as
/// it is, or a project URL (`http(s)://<ref>.supabase.co`, as supabase-js takes it) with
/// `realtime/v1` appended under its path and the scheme made `ws(s)`, as supabase-js derives it.
/// `None` for anything else.
pub fn realtime_url(url: &str) -> Option<String> {
    // Bytes and `get`, not `split_once`/indexing: a str search's panicking slice path would
    // link core's slice-error and char-escape tables into the wasm (~3 KB).
    if ["ws://", "wss://"]
        .iter()
        .any(|p| strip_scheme(url, p).is_some_and(|r| !r.is_empty()))
    {
        return Some(url.to_owned());
    }
    let (scheme, rest) = match strip_scheme(url, "https://") {
        Some(rest) => ("wss", rest),
        None => ("ws", strip_scheme(url, "http://")?),
    };
    // A query or fragment on a project URL would land inside the path: refused.
    if rest.is_empty() || rest.starts_with('/') || rest.bytes().any(|b| b == b'?' || b == b'#') {
        return None;
    }
    let mut base = rest;
    while let Some(shorter) = base.strip_suffix('/') {
        base = shorter;
    }
    let suffix = if base.ends_with("/realtime/v1") {
        ""
    } else {
        "/realtime/v1"
    };
    Some(format!("{scheme}://{base}{suffix}"))
}

/// `url` after `scheme` (compared without case), if it starts with it.
fn strip_scheme<'a>(url: &'a str, scheme: &str) -> Option<&'a str> {
    let head = url.get(..scheme.len())?;
    if head.eq_ignore_ascii_case(scheme) {
        url.get(scheme.len()..)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_url_gives_its_realtime_endpoint() {
        let cases = [
            (
                "https://abc.supabase.co",
                Some("wss://abc.supabase.co/realtime/v1"),
            ),
            (
                "https://abc.supabase.co/",
                Some("wss://abc.supabase.co/realtime/v1"),
            ),
            (
                "http://127.0.0.1:54321",
                Some("ws://127.0.0.1:54321/realtime/v1"),
            ),
            (
                "https://proxy.example/sb/",
                Some("wss://proxy.example/sb/realtime/v1"),
            ),
            (
                "https://abc.supabase.co/realtime/v1",
                Some("wss://abc.supabase.co/realtime/v1"),
            ),
            (
                "wss://abc.supabase.co/realtime/v1",
                Some("wss://abc.supabase.co/realtime/v1"),
            ),
            (
                "ws://h/realtime/v1?log_level=info",
                Some("ws://h/realtime/v1?log_level=info"),
            ),
            (
                "HTTPS://abc.supabase.co",
                Some("wss://abc.supabase.co/realtime/v1"),
            ),
            ("https://abc.supabase.co?x=1", None),
            ("https://", None),
            ("ftp://abc", None),
            ("abc.supabase.co", None),
            ("", None),
        ];
        for (given, expected) in cases {
            assert_eq!(realtime_url(given).as_deref(), expected, "{given}");
        }
    }

    #[test]
    fn the_socket_url_keeps_a_query_and_escapes_the_key() {
        let casino = Uuid::parse("11111111-1111-4111-8111-111111111111").unwrap();
        let url = |u: &str| SessionConfig::new(u, "a b/c", casino).socket_url();
        assert_eq!(
            url("wss://x.supabase.co/realtime/v1"),
            "wss://x.supabase.co/realtime/v1/websocket?apikey=a%20b%2Fc&vsn=2.0.0"
        );
        assert_eq!(
            url("ws://h/realtime/v1/?log_level=info"),
            "ws://h/realtime/v1/websocket?log_level=info&apikey=a%20b%2Fc&vsn=2.0.0"
        );
        assert_eq!(
            url("ws://h/socket/websocket"),
            "ws://h/socket/websocket?apikey=a%20b%2Fc&vsn=2.0.0"
        );
        let diagnosis = |u: &str| SessionConfig::new(u, "k", casino).diagnosis_url();
        assert_eq!(
            diagnosis("wss://x.supabase.co/realtime/v1"),
            "https://x.supabase.co/realtime/v1/websocket?apikey=k&vsn=2.0.0"
        );
        assert_eq!(
            diagnosis("ws://127.0.0.1:4000/realtime/v1"),
            "http://127.0.0.1:4000/realtime/v1/websocket?apikey=k&vsn=2.0.0"
        );
    }
}
