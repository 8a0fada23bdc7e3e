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
    /// When the token in use expires (its JWT `exp`, unix ms), if it says.
    pub expires_at: Option<i64>,
    /// A generation `getAccessToken` gave already past its `exp` by the local clock: that clock
    /// disagrees with the issuer's, so the server judges it (a clock set hours ahead must not
    /// keep a terminal from joining).
    pub fresh: Option<u64>,
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
            expires_at: token.as_deref().and_then(expiry_ms),
            fresh: None,
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

    /// The app can give another token and the one in use is past its `exp` by the local clock:
    /// joins wait for a fresh one rather than carry this one, which Supabase refuses only after
    /// 5 s, one join at a time (a terminal waking with three channels would wait 15 s). Without
    /// `getAccessToken` the server's word is awaited: the local clock may be wrong, and it is not
    /// trusted on a token the app gave already past its `exp`.
    pub fn is_stale(&self, wall: i64) -> bool {
        let past_exp = self.expires_at.is_some_and(|at| at <= wall);
        self.source && (self.is_expired() || (past_exp && self.fresh != Some(self.generation)))
    }

    /// Takes `token`; false when it is the one in use already.
    pub fn install(&mut self, token: String) -> bool {
        if self.token.as_deref() == Some(token.as_str()) {
            return false;
        }
        self.expires_at = expiry_ms(&token);
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

/// The claims of a JWT; `None` for what is not one (the signature is the server's business).
fn claims(token: &str) -> Option<crate::json::Value> {
    let claims = base64url(token.split('.').nth(1)?)?;
    crate::json::parse(core::str::from_utf8(&claims).ok()?).ok()
}

/// The `exp` claim of a JWT, in unix ms; `None` for what is not a JWT or has no `exp`.
pub fn expiry_ms(token: &str) -> Option<i64> {
    match claims(token)?.get("exp")? {
        crate::json::Value::Number(n) if n.value().is_finite() => Some((n.value() * 1000.0) as i64),
        _ => None,
    }
}

/// The `iat` claim of a JWT (when it was issued), in unix ms; `None` for what is not a JWT or
/// has no `iat`.
pub fn issued_ms(token: &str) -> Option<i64> {
    match claims(token)?.get("iat")? {
        crate::json::Value::Number(n) if n.value().is_finite() => Some((n.value() * 1000.0) as i64),
        _ => None,
    }
}

/// The `sub` claim of a JWT (the user); `None` for what is not a JWT or has none.
pub fn subject(token: &str) -> Option<String> {
    claims(token)?.get("sub")?.as_str().map(str::to_owned)
}

/// Decodes unpadded base64url (RFC 4648 §5), as JWT segments are written.
fn base64url(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_exp_of_a_jwt_and_nothing_of_other_tokens() {
        // {"alg":"HS256","typ":"JWT"} . {"sub":"x","exp":1700000000} . signature
        let jwt =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4IiwiZXhwIjoxNzAwMDAwMDAwfQ.c2ln";
        assert_eq!(expiry_ms(jwt), Some(1_700_000_000_000));
        assert_eq!(expiry_ms("token-1"), None);
        assert_eq!(expiry_ms("a.!!!.b"), None);
        assert_eq!(expiry_ms("a.eyJzdWIiOiJ4In0.b"), None, "no exp");
        assert_eq!(subject(jwt).as_deref(), Some("x"));
        assert_eq!(subject("token-1"), None);
    }
}
