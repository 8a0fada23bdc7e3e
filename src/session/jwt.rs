//! What the session reads of a JWT: its `exp`, `iat` and `sub` claims. The signature is the
//! server's business; a token that is not a JWT has no claims.

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
