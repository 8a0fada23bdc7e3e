//! The access token: the one in use, the generation each join carried, and the single request to
//! the app's `getAccessToken` that all channels share. It says what to do ([`TokenStep`]): ask
//! the app, or tell the channels a token arrived or that none could be had.

use super::config::SessionConfig;
use super::jwt::expiry_ms;
use super::retry::{Backoff, Rng};
use crate::clock::Now;

/// Token state.
#[derive(Debug)]
pub(super) struct Auth {
    token: Option<String>,
    /// Bumped by every new token; a join remembers the one it carried.
    generation: u64,
    /// The generation the server said expired.
    expired: Option<u64>,
    /// When the token in use expires (its JWT `exp`, unix ms), if it says.
    expires_at: Option<i64>,
    /// A generation `getAccessToken` gave already past its `exp` by the local clock: that clock
    /// disagrees with the issuer's, so the server judges it (a clock set hours ahead must not
    /// keep a terminal from joining).
    fresh: Option<u64>,
    /// The app gave a `getAccessToken`.
    source: bool,
    request: TokenRequest,
    /// Consecutive requests that failed or gave the expired token back, and tokens the server
    /// refused as expired.
    failures: u32,
    /// A join carrying the token in use succeeded.
    proven: bool,
    /// The token in use came from `getAccessToken`.
    from_source: bool,
    /// Tokens the server refused as expired since a join last succeeded.
    refused_in_row: u32,
    /// An episode of token trouble is under way: the app was told (`TokenError`, once), and
    /// channels that cannot join read `awaiting-token` until a join succeeds.
    trouble: bool,
    /// Request ids handed out.
    requests: u64,
    backoff: Backoff,
    /// How long `getAccessToken` may take.
    answer_ms: u64,
}

/// The request to `getAccessToken`: one at a time, for every channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenRequest {
    /// None under way.
    Idle,
    /// Asked as `id`; given up at `deadline`.
    InFlight { id: u64, deadline: u64 },
    /// The last one failed: ask again at `until`.
    Waiting { until: u64 },
}

/// What the session is to do about tokens.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum TokenStep {
    /// Call `getAccessToken` as request `id`.
    Ask(u64),
    /// A new token is in use: give it to the channels.
    Installed,
    /// No usable token came, for this reason (tell the app).
    Failed(String),
}

/// What the server's "token expired" means for the channel that heard it.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Expired {
    /// A newer token is in use already: join again with it.
    Rejoin,
    /// Wait for a fresh token (asked, or awaited from `setAuth`). `tell`: an episode of token
    /// trouble begins, tell the app why; `step`: what to do now.
    Wait {
        tell: Option<String>,
        step: Option<TokenStep>,
    },
}

impl Auth {
    pub fn new(token: Option<String>, source: bool, config: &SessionConfig) -> Self {
        Auth {
            expires_at: token.as_deref().and_then(expiry_ms),
            fresh: None,
            token,
            generation: 0,
            expired: None,
            source,
            request: TokenRequest::Idle,
            failures: 0,
            proven: false,
            from_source: false,
            refused_in_row: 0,
            trouble: false,
            requests: 0,
            backoff: config.token_backoff,
            answer_ms: config.join_timeout_ms,
        }
    }

    /// The token in use.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The generation of the token in use.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether the app can be asked for a token (`getAccessToken`).
    pub fn set_source(&mut self, source: bool) {
        self.source = source;
    }

    /// Joins can go: there is a token, or none is expected (the API key's claims are used).
    pub fn ready(&self) -> bool {
        self.token.is_some() || !self.source
    }

    /// The token in use has been refused as expired.
    fn is_expired(&self) -> bool {
        self.expired == Some(self.generation)
    }

    /// The app can give another token and the one in use is past its `exp` by the local clock:
    /// joins wait for a fresh one rather than carry this one, which Supabase refuses only after
    /// 5 s, one join at a time (a terminal waking with three channels would wait 15 s). Without
    /// `getAccessToken` the server's word is awaited: the local clock may be wrong, and it is not
    /// trusted on a token the app gave already past its `exp`.
    pub fn is_stale(&self, wall: i64) -> bool {
        let past_exp = self.expires_at.is_some_and(|at| at <= wall);
        self.source && (self.is_expired() || (past_exp && self.fresh != Some(self.generation)))
    }

    /// An episode of token trouble is under way (see [`Auth::refused_expired`]).
    pub fn in_trouble(&self) -> bool {
        self.trouble
    }

    /// Takes `token`; false when it is the one in use already.
    fn install(&mut self, token: String, from_source: bool) -> bool {
        if self.token.as_deref() == Some(token.as_str()) {
            return false;
        }
        self.expires_at = expiry_ms(&token);
        self.token = Some(token);
        self.generation += 1;
        self.proven = false;
        self.from_source = from_source;
        true
    }

    pub fn deadline(&self) -> Option<u64> {
        match self.request {
            TokenRequest::Idle => None,
            TokenRequest::InFlight { deadline, .. } => Some(deadline),
            TokenRequest::Waiting { until } => Some(until),
        }
    }

    /// A token is needed: asks unless a request is under way or waiting out its backoff. After
    /// tokens that did not work, the request waits its backoff first.
    pub fn need(&mut self, now: Now, rng: &mut Rng) -> Option<TokenStep> {
        if !self.source || self.request != TokenRequest::Idle {
            return None;
        }
        if self.failures > 0 {
            self.wait(now, rng);
            return None;
        }
        Some(self.ask(now))
    }

    fn ask(&mut self, now: Now) -> TokenStep {
        self.requests += 1;
        let id = self.requests;
        self.request = TokenRequest::InFlight {
            id,
            deadline: now.mono + self.answer_ms,
        };
        TokenStep::Ask(id)
    }

    /// The next request waits its backoff.
    fn wait(&mut self, now: Now, rng: &mut Rng) {
        let attempt = (self.failures - 1).min(16);
        let delay = self.backoff.delay(attempt, rng);
        self.request = TokenRequest::Waiting {
            until: now.mono + delay,
        };
    }

    /// What is due at `now`: a request that was not answered in time fails; one that waited out
    /// its backoff goes, if `needed` still.
    pub fn due(
        &mut self,
        now: Now,
        needed: impl FnOnce() -> bool,
        rng: &mut Rng,
    ) -> Option<TokenStep> {
        match self.request {
            TokenRequest::InFlight { id, deadline } if deadline <= now.mono => {
                let late = Err("getAccessToken did not answer in time".into());
                self.answer(id, late, now, rng)
            }
            TokenRequest::Waiting { until } if until <= now.mono => {
                self.request = TokenRequest::Idle;
                needed().then(|| self.ask(now))
            }
            _ => None,
        }
    }

    /// What `getAccessToken` gave for request `id`; an answer to an abandoned request is ignored.
    pub fn answer(
        &mut self,
        id: u64,
        token: Result<String, String>,
        now: Now,
        rng: &mut Rng,
    ) -> Option<TokenStep> {
        if !matches!(self.request, TokenRequest::InFlight { id: i, .. } if i == id) {
            return None;
        }
        self.request = TokenRequest::Idle;
        let token = match token {
            Ok(t) if t.is_empty() => Err("getAccessToken gave no token".to_owned()),
            Ok(t) if self.is_expired() && self.token.as_deref() == Some(t.as_str()) => {
                Err("getAccessToken gave back the token that expired".to_owned())
            }
            other => other,
        };
        match token {
            Ok(token) => {
                self.install(token, true);
                if self.expires_at.is_some_and(|at| at <= now.wall) {
                    // Past its exp as soon as it is given: the local clock disagrees with the
                    // issuer's. Joined with all the same; the server judges.
                    self.fresh = Some(self.generation);
                }
                Some(TokenStep::Installed)
            }
            Err(reason) => {
                // Trouble with the token source: told once per episode, asked again on the
                // backoff either way.
                self.failures += 1;
                self.wait(now, rng);
                let tell = !self.trouble;
                self.trouble = true;
                tell.then_some(TokenStep::Failed(reason))
            }
        }
    }

    /// A token from the app (`setAuth`); false when it is empty or the one in use.
    pub fn set(&mut self, token: String) -> bool {
        if token.is_empty() || !self.install(token, false) {
            return false;
        }
        if matches!(self.request, TokenRequest::Waiting { .. }) {
            self.request = TokenRequest::Idle;
        }
        true
    }

    /// A join that carried generation `carried` succeeded: the server takes tokens again, so
    /// any episode of trouble is over; with the token in use, that token is proven.
    pub fn joined_with(&mut self, carried: u64) {
        self.refused_in_row = 0;
        self.trouble = false;
        if carried == self.generation {
            self.failures = 0;
            self.proven = true;
        }
    }

    /// The server refused a join that carried generation `carried` as expired. The first
    /// refusal of a token that worked is the hourly expiry: a fresh one is asked for at once.
    /// A token `getAccessToken` gave that the server refuses before any join worked with it,
    /// or a second refusal in a row, is trouble with the token source (judged by the server,
    /// since the local clock may be wrong): the app is told once per episode, channels read
    /// `awaiting-token`, and `getAccessToken` is asked again on a capped backoff.
    pub fn refused_expired(&mut self, carried: u64, now: Now, rng: &mut Rng) -> Expired {
        if carried < self.generation {
            return Expired::Rejoin;
        }
        let first = !self.is_expired();
        self.expired = Some(self.generation);
        if !first {
            // Another channel's refusal of the same token: it waits with the others.
            let step = if self.source {
                self.need(now, rng)
            } else {
                None
            };
            return Expired::Wait { tell: None, step };
        }
        self.refused_in_row += 1;
        let doubtful = self.refused_in_row >= 2 || (self.from_source && !self.proven);
        let tell = (doubtful || !self.source) && !self.trouble;
        self.trouble |= doubtful || !self.source;
        if !self.source {
            let reason = "the access token expired and there is no getAccessToken option: \
                          call setAuth() with a fresh one";
            let step = tell.then(|| TokenStep::Failed(reason.into()));
            return Expired::Wait { tell: None, step };
        }
        // Asked at once the first time; a fresh token that expires too waits a backoff.
        let step = self.need(now, rng);
        self.failures += 1;
        let tell = tell.then(|| {
            let reason = match self.from_source {
                true => "getAccessToken gave a token the server refused as expired",
                false => "the server refused the access token as expired, twice in a row",
            };
            format!("{reason}; getAccessToken is asked again, on a backoff")
        });
        Expired::Wait { tell, step }
    }
}
