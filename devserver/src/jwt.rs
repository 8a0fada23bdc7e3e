//! HS256 JWTs as a Supabase project issues and checks them: `role` and `exp` are required; the
//! dev server also reads the staff role and casino (top level or under `app_metadata`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use casino_realtime::catalog::Uuid;
use casino_realtime::json::{self, Value, Writer};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The claims the server acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// Postgres role: `anon`, `authenticated`, `service_role`.
    pub role: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Staff role: `pit_boss`, `floor_supervisor`, `cage`, `dealer`, `admin`.
    pub staff_role: Option<String>,
    /// The casino the user works for.
    pub casino_id: Option<Uuid>,
    /// The user.
    pub sub: Option<String>,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    /// Not three base64url parts of JSON, or not HS256.
    Malformed,
    /// The signature does not match the secret.
    BadSignature,
    /// `role` or `exp` is missing.
    MissingClaims,
    /// `exp` is past, by this many seconds.
    Expired(i64),
}

impl JwtError {
    /// The message Supabase sends: in an HTTP 401 body at connect and in `system` pushes.
    pub fn message(&self) -> String {
        match self {
            JwtError::Malformed => "The token provided is not a valid JWT".into(),
            JwtError::BadSignature => "Failed to validate JWT signature".into(),
            JwtError::MissingClaims => "Fields `role` and `exp` are required in JWT".into(),
            JwtError::Expired(ago) => format!("Token has expired {ago} seconds ago"),
        }
    }

    /// The connect-time (HTTP 401) message: an expired key is just "Token has expired".
    pub fn connect_message(&self) -> String {
        match self {
            JwtError::Expired(_) => "Token has expired".into(),
            other => other.message(),
        }
    }

    /// The `Code: message` join-error reason.
    pub fn join_reason(&self) -> String {
        let code = match self {
            JwtError::Malformed => "MalformedJWT",
            JwtError::BadSignature => "JwtSignatureError",
            JwtError::MissingClaims | JwtError::Expired(_) => "InvalidJWTToken",
        };
        format!("{code}: {}", self.message())
    }
}

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!())
}

/// Signs `claims` (a JSON object) with HS256.
pub fn sign(claims: &Value, secret: &str) -> String {
    let header = B64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = B64.encode(claims.to_json());
    let input = format!("{header}.{body}");
    let mut mac = mac(secret);
    mac.update(input.as_bytes());
    format!("{input}.{}", B64.encode(mac.finalize().into_bytes()))
}

/// A token's claims as JSON text (its payload segment, decoded; the signature is not checked:
/// call [`verify`] first). What Realtime sets as `request.jwt.claims`.
pub fn claims_json(token: &str) -> Option<String> {
    let body = token.split('.').nth(1)?;
    let bytes = B64.decode(body.trim_end_matches('=')).ok()?;
    String::from_utf8(bytes).ok()
}

/// Checks a token against the secret at `now` (seconds since the epoch).
pub fn verify(token: &str, secret: &str, now: i64) -> Result<Claims, JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(body), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let decode = |part: &str| -> Result<Value, JwtError> {
        let bytes = B64
            .decode(part.trim_end_matches('='))
            .map_err(|_| JwtError::Malformed)?;
        let text = String::from_utf8(bytes).map_err(|_| JwtError::Malformed)?;
        match json::parse(&text) {
            Ok(value @ Value::Object(_)) => Ok(value),
            _ => Err(JwtError::Malformed),
        }
    };
    let header = decode(header)?;
    let body = decode(body)?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(JwtError::Malformed);
    }
    let signature = B64
        .decode(signature.trim_end_matches('='))
        .map_err(|_| JwtError::Malformed)?;
    let mut mac = mac(secret);
    mac.update(&token.as_bytes()[..token.rfind('.').unwrap_or_default()]);
    mac.verify_slice(&signature)
        .map_err(|_| JwtError::BadSignature)?;

    let role = body.get("role").and_then(Value::as_str).map(str::to_owned);
    let exp = match body.get("exp") {
        Some(Value::Number(n)) => Some(n.value() as i64),
        _ => None,
    };
    let (Some(role), Some(exp)) = (role, exp) else {
        return Err(JwtError::MissingClaims);
    };
    if exp <= now {
        return Err(JwtError::Expired(now - exp));
    }
    let claim = |name: &str| {
        body.get(name)
            .or_else(|| body.get("app_metadata").and_then(|m| m.get(name)))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Ok(Claims {
        role,
        exp,
        staff_role: claim("staff_role"),
        casino_id: claim("casino_id").as_deref().and_then(Uuid::parse),
        sub: claim("sub"),
    })
}

/// What a dev token says.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    /// Postgres role.
    pub role: String,
    /// Staff role, if any.
    pub staff_role: Option<String>,
    /// Casino, if any.
    pub casino_id: Option<String>,
    /// User id.
    pub sub: String,
    /// Seconds of validity from `now` (negative for an already expired token).
    pub ttl_s: i64,
}

/// Mints a dev token.
pub fn mint(spec: &TokenSpec, secret: &str, now: i64) -> String {
    let mut out = String::new();
    let mut w = Writer::new(&mut out);
    w.open('{')
        .key("sub")
        .string(&spec.sub)
        .key("role")
        .string(&spec.role);
    w.key("iat").int(now).key("exp").int(now + spec.ttl_s);
    if let Some(staff) = &spec.staff_role {
        w.key("staff_role").string(staff);
    }
    if let Some(casino) = &spec.casino_id {
        w.key("casino_id").string(casino);
    }
    w.close('}');
    sign(&json::parse(&out).unwrap_or(Value::Null), secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "test-secret";
    const CASINO: &str = "11111111-1111-4111-8111-111111111111";

    fn spec(ttl_s: i64) -> TokenSpec {
        TokenSpec {
            role: "authenticated".into(),
            staff_role: Some("pit_boss".into()),
            casino_id: Some(CASINO.into()),
            sub: "u1".into(),
            ttl_s,
        }
    }

    #[test]
    fn minted_tokens_verify_with_their_claims() {
        let token = mint(&spec(60), SECRET, 1000);
        let claims = verify(&token, SECRET, 1000).unwrap();
        assert_eq!((claims.role.as_str(), claims.exp), ("authenticated", 1060));
        assert_eq!(claims.staff_role.as_deref(), Some("pit_boss"));
        assert_eq!(claims.casino_id, Uuid::parse(CASINO));
    }

    #[test]
    fn refusals_carry_supabase_messages() {
        let token = mint(&spec(60), SECRET, 1000);
        assert_eq!(verify(&token, SECRET, 1065), Err(JwtError::Expired(5)));
        assert_eq!(
            JwtError::Expired(5).join_reason(),
            "InvalidJWTToken: Token has expired 5 seconds ago"
        );
        assert_eq!(verify(&token, "other", 1000), Err(JwtError::BadSignature));
        assert_eq!(verify("not.a.jwt", SECRET, 1000), Err(JwtError::Malformed));
        assert_eq!(verify("abc", SECRET, 1000), Err(JwtError::Malformed));
        let no_role = sign(&json::parse(r#"{"exp":2000}"#).unwrap(), SECRET);
        assert_eq!(verify(&no_role, SECRET, 1000), Err(JwtError::MissingClaims));
        assert_eq!(
            JwtError::MissingClaims.join_reason(),
            "InvalidJWTToken: Fields `role` and `exp` are required in JWT"
        );
        assert_eq!(
            JwtError::Malformed.join_reason(),
            "MalformedJWT: The token provided is not a valid JWT"
        );
        assert_eq!(
            JwtError::BadSignature.join_reason(),
            "JwtSignatureError: Failed to validate JWT signature"
        );
    }

    #[test]
    fn claims_may_sit_under_app_metadata() {
        let claims = json::parse(&format!(
            r#"{{"role":"authenticated","exp":2000,"app_metadata":{{"staff_role":"cage","casino_id":"{CASINO}"}}}}"#
        ))
        .unwrap();
        let verified = verify(&sign(&claims, SECRET), SECRET, 1000).unwrap();
        assert_eq!(verified.staff_role.as_deref(), Some("cage"));
        assert_eq!(verified.casino_id, Uuid::parse(CASINO));
    }
}
