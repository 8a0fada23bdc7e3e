//! Retry timing and the classification of join failures (docs/design.md, "Join outcomes and retries").

/// xorshift64*: the session's only randomness, seeded by the caller so tests are repeatable.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from any seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..=max`.
    pub fn up_to(&mut self, max: u64) -> u64 {
        match max.checked_add(1) {
            Some(n) => self.next_u64() % n,
            None => self.next_u64(),
        }
    }
}

/// Full-jitter exponential backoff: attempt `n` waits a random time in
/// `[floor, min(cap, base · 2^n)]`, so a floor of terminals that lost Wi-Fi together do not
/// reconnect together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first ceiling, in ms.
    pub base_ms: u64,
    /// The largest ceiling, in ms.
    pub cap_ms: u64,
    /// The shortest wait, in ms.
    pub floor_ms: u64,
}

impl Default for Backoff {
    /// 1 s doubling to 30 s, at least 100 ms.
    fn default() -> Self {
        Backoff {
            base_ms: 1000,
            cap_ms: 30_000,
            floor_ms: 100,
        }
    }
}

impl Backoff {
    /// Ceilings from `base_ms` doubling to `cap_ms`, never shorter than `floor_ms`.
    pub const fn new(base_ms: u64, cap_ms: u64, floor_ms: u64) -> Self {
        Backoff {
            base_ms,
            cap_ms,
            floor_ms,
        }
    }

    /// The wait before attempt `attempt` (0 for the first retry).
    pub fn delay(&self, attempt: u32, rng: &mut Rng) -> u64 {
        let ceiling = self
            .base_ms
            .saturating_mul(1u64 << attempt.min(20))
            .min(self.cap_ms);
        rng.up_to(ceiling).max(self.floor_ms)
    }
}

/// What to do after a join failed or a joined channel was closed by the server. A denial is not
/// forever either: the session tries again on a long backoff (see `SessionConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Refused (a policy, a token): report `denied`, try again rarely.
    Denied,
    /// The token expired: get a fresh one from the app, then rejoin.
    RefreshToken,
    /// A rate limit: Supabase's are averages over a minute, so wait at least that long.
    RateLimited,
    /// Try again later.
    Retry,
}

/// Classifies a join error reason (`Code: message`) or a `system` error message.
pub fn classify(reason: &str) -> Verdict {
    const DENIED: &[&str] = &[
        "Unauthorized",
        "PrivateOnly",
        "MalformedJWT",
        "JwtSignatureError",
        "JwtSignerError",
        "TopicNameRequired",
        "UnableToReplayMessages: Replay is not allowed",
        "You do not have permissions",
        "You no longer have permission",
        "The token provided is not a valid JWT",
        "Fields `role` and `exp` are required",
        "InvalidJWTToken: Fields",
        "unmatched topic",
    ];
    // A byte search: `str::contains` brings a two-way searcher into the wasm for two phrases.
    let has = |needle: &str| {
        reason
            .as_bytes()
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    };
    const RATE_LIMITED: &[&str] = &[
        "Too many messages per second",
        "Too many presence messages per second",
        "Client presence rate limit exceeded",
        "ClientJoinRateLimitReached",
        "ConnectionRateLimitReached",
        "ChannelRateLimitReached",
    ];
    if has("Token has expired") || has("Token expiration time is invalid") {
        Verdict::RefreshToken
    } else if RATE_LIMITED.iter().any(|r| reason.starts_with(r)) {
        Verdict::RateLimited
    } else if DENIED.iter().any(|d| reason.starts_with(d)) {
        Verdict::Denied
    } else {
        Verdict::Retry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_stays_within_bounds() {
        let backoff = Backoff::default();
        let mut rng = Rng::new(7);
        for attempt in 0..30 {
            let ceiling = (1000u64 << attempt.min(20)).min(30_000);
            for _ in 0..50 {
                let d = backoff.delay(attempt, &mut rng);
                assert!(
                    (100..=ceiling.max(100)).contains(&d),
                    "attempt {attempt}: {d}"
                );
            }
        }
        let spread: std::collections::HashSet<u64> =
            (0..20).map(|_| backoff.delay(5, &mut rng)).collect();
        assert!(spread.len() > 10, "jittered");
    }

    #[test]
    fn join_outcomes_are_classified_by_reason() {
        for (reason, verdict) in [
            (
                "Unauthorized: You do not have permissions to read from this Channel topic: c",
                Verdict::Denied,
            ),
            (
                "PrivateOnly: This project only allows private channels",
                Verdict::Denied,
            ),
            (
                "MalformedJWT: The token provided is not a valid JWT",
                Verdict::Denied,
            ),
            (
                "JwtSignatureError: Failed to validate JWT signature",
                Verdict::Denied,
            ),
            (
                "InvalidJWTToken: Fields `role` and `exp` are required in JWT",
                Verdict::Denied,
            ),
            (
                "You no longer have permission to read from this Channel topic: c",
                Verdict::Denied,
            ),
            (
                "InvalidJWTToken: Token has expired 7 seconds ago",
                Verdict::RefreshToken,
            ),
            ("Token has expired 3 seconds ago", Verdict::RefreshToken),
            (
                "ChannelRateLimitReached: Too many channels",
                Verdict::RateLimited,
            ),
            (
                "ClientJoinRateLimitReached: Too many joins per second",
                Verdict::RateLimited,
            ),
            (
                "RealtimeRestarting: Realtime is restarting, please standby",
                Verdict::Retry,
            ),
            ("Too many messages per second", Verdict::RateLimited),
            ("Unknown Error on Channel", Verdict::Retry),
            ("join crashed", Verdict::Retry),
        ] {
            assert_eq!(classify(reason), verdict, "{reason}");
        }
    }
}
