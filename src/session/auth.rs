//! The access token: the one in use, the generation each join carried, and the single request to
//! the app's `getAccessToken` that all channels share.

/// Token state.
#[derive(Debug)]
pub(super) struct Auth {
    pub token: Option<String>,
    /// Bumped by every new token; a join remembers the one it carried.
    pub generation: u64,
    /// The generation the server said expired.
    pub expired: Option<u64>,
    /// The app gave a `getAccessToken`.
    pub source: bool,
    pub request: TokenRequest,
    /// Consecutive requests that failed or gave the expired token back.
    pub failures: u32,
    /// Request ids handed out.
    pub requests: u64,
}

/// The request to `getAccessToken`: one at a time, for every channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenRequest {
    /// None under way.
    Idle,
    /// Asked as `id`; given up at `deadline`.
    InFlight { id: u64, deadline: u64 },
    /// The last one failed: ask again at `until`.
    Waiting { until: u64 },
}

impl Auth {
    pub fn new(token: Option<String>, source: bool) -> Self {
        Auth {
            token,
            generation: 0,
            expired: None,
            source,
            request: TokenRequest::Idle,
            failures: 0,
            requests: 0,
        }
    }

    /// Joins can go: there is a token, or none is expected (the API key's claims are used).
    pub fn ready(&self) -> bool {
        self.token.is_some() || !self.source
    }

    /// The token in use has been refused as expired.
    pub fn is_expired(&self) -> bool {
        self.expired == Some(self.generation)
    }

    /// Takes `token`; false when it is the one in use already.
    pub fn install(&mut self, token: String) -> bool {
        if self.token.as_deref() == Some(token.as_str()) {
            return false;
        }
        self.token = Some(token);
        self.generation += 1;
        true
    }

    pub fn deadline(&self) -> Option<u64> {
        match self.request {
            TokenRequest::Idle => None,
            TokenRequest::InFlight { deadline, .. } => Some(deadline),
            TokenRequest::Waiting { until } => Some(until),
        }
    }
}
