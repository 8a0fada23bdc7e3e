//! A manager's options, read once, here: the JSON a client sends in its hello becomes a checked
//! [`Options`] (what its session is made of) or an `InvalidOptionsError` / `InvalidRulesError`
//! naming the option at fault. Which tabs may share a session follows from the checked values
//! ([`Options::identity`]), not from a hand-kept list of option names.
//!
//! The client reads only what it keeps in the page: its callbacks, `accessToken` (it goes in the
//! hello), `shareAcrossTabs` and `workerUrl` (they pick where the host runs). A `logger` arrives
//! as `true`: the host only needs to know that there is one.

use crate::batch::BatchConfig;
use crate::cache::RuleSet;
use crate::catalog::Uuid;
use crate::dedup::DedupConfig;
use crate::errors::{ErrorKind, ErrorReport, Prop};
use crate::json::{Value, Writer};
use crate::protocol::Vsn;
use crate::session::{realtime_url, Session, SessionConfig, SessionParts};

/// What a session is made of, checked.
#[derive(Debug, Clone)]
pub struct Options {
    /// The connection's settings.
    pub session: SessionConfig,
    /// The cache rules, the defaults with the app's changes.
    pub rules: RuleSet,
    /// The replay filter's bounds.
    pub dedup: DedupConfig,
    /// The coalescing window.
    pub batch: BatchConfig,
    identity: String,
}

impl Options {
    /// Two managers whose options have the same identity (and whose tokens name the same user)
    /// may share one session: every value that shapes a session, as checked (a project URL and
    /// its realtime endpoint are the same server; the order members were written in is not a
    /// difference).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// A session made of these options. `token` is the access token joins carry;
    /// `token_source` says the app can be asked for one; `seed` drives its randomness.
    pub fn session(&self, token: Option<String>, token_source: bool, seed: u64) -> Session {
        Session::new(SessionParts {
            config: self.session.clone(),
            rules: self.rules.clone(),
            dedup: self.dedup,
            batch: self.batch,
            token,
            token_source,
            seed,
        })
    }
}

/// `InvalidOptionsError` about `option` (`url`, `batch.maxWaitMs`, or `options` itself).
pub fn invalid(option: &str, message: &str) -> ErrorReport {
    ErrorReport::new(
        ErrorKind::InvalidOptions,
        format!("CasinoRealtime options: {message}"),
    )
    .with(Prop::Option, option)
}

/// A value as `JSON.stringify` writes it, for messages.
fn written(value: &Value) -> String {
    let mut out = String::new();
    Writer::new(&mut out).value(value);
    out
}

/// A member, `None` when absent or null (as JS's `undefined` and `null` are).
fn get<'a>(object: &'a Value, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !matches!(v, Value::Null))
}

fn string(object: &Value, key: &str, required: bool) -> Result<Option<String>, ErrorReport> {
    match get(object, key) {
        None if required => Err(invalid(key, &format!("'{key}' is required"))),
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(key, &format!("'{key}' must be a string"))),
    }
}

/// A whole number in `range`, or `None` when absent; `path` prefixes the name in messages.
fn number(
    object: &Value,
    key: &str,
    path: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Option<u64>, ErrorReport> {
    let Some(v) = get(object, key) else {
        return Ok(None);
    };
    let name = if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    };
    match v {
        Value::Number(n)
            if n.value().fract() == 0.0
                && n.value() >= *range.start() as f64
                && n.value() <= *range.end() as f64 =>
        {
            Ok(Some(n.value() as u64))
        }
        _ => Err(invalid(
            &name,
            &format!(
                "'{name}' must be a whole number from {} to {}, got {}",
                range.start(),
                range.end(),
                written(v)
            ),
        )),
    }
}

fn flag(object: &Value, key: &str) -> Result<Option<bool>, ErrorReport> {
    match get(object, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(key, &format!("'{key}' must be a boolean"))),
    }
}

/// Reads and checks a manager's options.
pub fn read(options: &Value) -> Result<Options, ErrorReport> {
    if !matches!(options, Value::Object(_)) {
        return Err(invalid(
            "options",
            "pass an object: { url, apiKey, casinoId, ... }",
        ));
    }
    let given = string(options, "url", true)?.unwrap_or_default();
    let url = realtime_url(&given).ok_or_else(|| {
        invalid(
            "url",
            &format!(
                "'url' must be the project URL (https://<ref>.supabase.co) or its realtime \
                 endpoint (wss://<ref>.supabase.co/realtime/v1), got \"{given}\""
            ),
        )
    })?;
    let api_key = string(options, "apiKey", true)?.unwrap_or_default();
    let casino = string(options, "casinoId", true)?.unwrap_or_default();
    let casino_id = Uuid::parse(&casino).ok_or_else(|| {
        invalid(
            "casinoId",
            &format!("'casinoId' must be a uuid, got \"{casino}\""),
        )
    })?;
    let mut session = SessionConfig::new(&url, &api_key, casino_id);
    if let Some(private) = flag(options, "private")? {
        session.private = private;
    }
    if let Some(vsn) = string(options, "vsn", false)? {
        session.vsn = Vsn::from_param(Some(&vsn))
            .ok_or_else(|| invalid("vsn", "'vsn' must be \"1.0.0\" or \"2.0.0\""))?;
    }
    // Bounds on numbers: a window of minutes or a dedup table of gigabytes is a mistake, not a
    // setting.
    let mut batch = BatchConfig::default();
    if let Some(b) = get(options, "batch") {
        if let Some(ms) = number(b, "debounceMs", "batch", 0..=5_000)? {
            batch.debounce_ms = ms;
        }
        if let Some(ms) = number(b, "maxWaitMs", "batch", 1..=10_000)? {
            batch.max_wait_ms = ms;
        }
        if batch.max_wait_ms < batch.debounce_ms {
            return Err(invalid(
                "batch.maxWaitMs",
                &format!(
                    "'batch.maxWaitMs' ({}) must be at least 'batch.debounceMs' ({})",
                    batch.max_wait_ms, batch.debounce_ms
                ),
            ));
        }
    }
    let mut dedup = DedupConfig::default();
    if let Some(d) = get(options, "dedup") {
        if let Some(capacity) = number(d, "capacity", "dedup", 1..=1_000_000)? {
            dedup.capacity = capacity as usize;
        }
        if let Some(ttl) = number(d, "ttlMs", "dedup", 1_000..=86_400_000)? {
            dedup.ttl_ms = ttl;
        }
    }
    if let Some(ms) = number(options, "fallbackPollMs", "", 0..=86_400_000)? {
        if (1..1_000).contains(&ms) {
            return Err(invalid(
                "fallbackPollMs",
                "'fallbackPollMs' must be 0 (off) or from 1000 to 86400000",
            ));
        }
        session.fallback_poll_ms = ms;
    }
    // realtime-js's name for the same setting.
    if let Some(ms) = number(options, "heartbeatIntervalMs", "", 1_000..=60_000)? {
        session.heartbeat_ms = ms;
    }
    if let Some(ms) = number(options, "resyncJitterMs", "", 0..=60_000)? {
        session.resync_jitter_ms = ms;
    }
    if let Some(ms) = number(options, "maxDeliveryDelayMs", "", 0..=600_000)? {
        session.max_delivery_delay_ms = ms;
    }
    // A replay reaching further back than dedup remembers would apply events twice: every gap
    // would be resynced instead.
    if session.max_delivery_delay_ms >= dedup.ttl_ms {
        let message = format!(
            "'maxDeliveryDelayMs' must be less than 'dedup.ttlMs' ({}): a replay may not reach \
             further back than dedup remembers",
            dedup.ttl_ms
        );
        return Err(invalid("maxDeliveryDelayMs", &message));
    }
    // `debug`: the inspector's ring; a `logger` needs it on to have lines to give.
    match get(options, "debug") {
        None | Some(Value::Bool(false)) => {}
        Some(Value::Bool(true)) => session.inspect = 200,
        Some(d @ Value::Object(_)) => {
            session.inspect = number(d, "events", "debug", 1..=10_000)?.unwrap_or(200) as usize;
        }
        Some(_) => {
            return Err(invalid(
                "debug",
                "'debug' must be a boolean or { events: number }",
            ))
        }
    }
    match get(options, "logger") {
        None | Some(Value::Bool(false)) => {}
        Some(Value::Bool(true)) => {
            session.log = true;
            session.inspect = session.inspect.max(1);
        }
        Some(_) => return Err(invalid("logger", "'logger' must be a function")),
    }
    if session.inspect > 0 && !cfg!(feature = "inspect") {
        return Err(invalid(
            "debug",
            "'debug' and 'logger' need the package's debug host; this one was built without \
             the inspector",
        ));
    }
    let given_rules = get(options, "rules");
    let rules = match given_rules {
        None => RuleSet::defaults(),
        Some(rules @ Value::Object(_)) => RuleSet::with_overrides(rules).map_err(|e| e.report())?,
        Some(_) => return Err(invalid("rules", "'rules' must be a plain object")),
    };
    let identity = identity(&session, &dedup, &batch, given_rules);
    Ok(Options {
        session,
        rules,
        dedup,
        batch,
        identity,
    })
}

/// Every checked value that shapes a session, written in one fixed order.
fn identity(
    session: &SessionConfig,
    dedup: &DedupConfig,
    batch: &BatchConfig,
    rules: Option<&Value>,
) -> String {
    let mut out = String::new();
    let mut w = Writer::new(&mut out);
    w.open('[')
        .string(&session.url)
        .string(&session.api_key)
        .string(&session.casino_id.to_string())
        .string(session.vsn.as_str())
        .int(i64::from(session.private))
        .int(session.heartbeat_ms as i64)
        .int(session.fallback_poll_ms as i64)
        .int(session.resync_jitter_ms as i64)
        .int(session.max_delivery_delay_ms as i64)
        .int(session.inspect as i64)
        .int(i64::from(session.log))
        .int(batch.debounce_ms as i64)
        .int(batch.max_wait_ms as i64)
        .int(dedup.capacity as i64)
        .int(dedup.ttl_ms as i64);
    match rules {
        Some(rules) => w.value(&sorted(rules)),
        None => w.value(&Value::Null),
    };
    w.close(']');
    out
}

/// `value` with every object's members in name order (the last of duplicates kept, as
/// `JSON.parse` keeps it). Inserted in place, not sorted: a rules object has a few dozen members,
/// and std's sort would add kilobytes to the host's wasm.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(members) => {
            let mut kept: Vec<(String, Value)> = Vec::with_capacity(members.len());
            for (name, member) in members {
                kept.retain(|(n, _)| n != name);
                let at = kept.iter().take_while(|(n, _)| n < name).count();
                kept.insert(at, (name.clone(), sorted(member)));
            }
            Value::Object(kept)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    const BASE: &str = r#""url":"wss://x.supabase.co/realtime/v1","apiKey":"k","casinoId":"66666666-6666-4666-8666-666666666666""#;

    fn with(extra: &str) -> Value {
        let sep = if extra.is_empty() { "" } else { "," };
        parse(&format!("{{{BASE}{sep}{extra}}}")).unwrap()
    }

    fn refused(options: &Value) -> (ErrorKind, String, Option<String>) {
        let report = read(options).unwrap_err();
        let option = report
            .members
            .iter()
            .find(|(p, _)| *p == Prop::Option)
            .map(|(_, v)| v.clone());
        (report.kind, report.message, option)
    }

    #[test]
    fn the_defaults_need_only_url_key_and_casino() {
        let options = read(&with("")).unwrap();
        assert_eq!(options.session.url, "wss://x.supabase.co/realtime/v1");
        assert_eq!(options.batch.debounce_ms, 250);
        assert_eq!(options.dedup.capacity, 10_000);
        assert_eq!(options.session.inspect, 0);
    }

    #[test]
    fn every_bad_option_is_named_with_what_is_wrong() {
        let cases = [
            (r#""url":"ftp://x""#, "url", "'url' must be the project URL"),
            (
                r#""batch":{"maxWaitMs":0}"#,
                "batch.maxWaitMs",
                "'batch.maxWaitMs' must be a whole number from 1 to 10000, got 0",
            ),
            (
                r#""casinoId":"c""#,
                "casinoId",
                "'casinoId' must be a uuid, got \"c\"",
            ),
            (
                r#""fallbackPollMs":500"#,
                "fallbackPollMs",
                "must be 0 (off) or from 1000",
            ),
            (r#""fallbackPollMs":1.5"#, "fallbackPollMs", "got 1.5"),
            (
                r#""resyncJitterMs":120000"#,
                "resyncJitterMs",
                "from 0 to 60000, got 120000",
            ),
            (
                r#""maxDeliveryDelayMs":-1"#,
                "maxDeliveryDelayMs",
                "from 0 to 600000, got -1",
            ),
            (
                r#""maxDeliveryDelayMs":5000,"dedup":{"ttlMs":5000}"#,
                "maxDeliveryDelayMs",
                "must be less than 'dedup.ttlMs' (5000)",
            ),
            (
                r#""dedup":{"capacity":1000000000000}"#,
                "dedup.capacity",
                "'dedup.capacity' must be a whole number from 1 to 1000000, got 1000000000000",
            ),
            (r#""batch":{"debounceMs":-1}"#, "batch.debounceMs", "got -1"),
            (
                r#""batch":{"debounceMs":400,"maxWaitMs":300}"#,
                "batch.maxWaitMs",
                "'batch.maxWaitMs' (300) must be at least 'batch.debounceMs' (400)",
            ),
            (r#""casinoId":7"#, "casinoId", "'casinoId' must be a string"),
            (r#""vsn":"3""#, "vsn", "must be \"1.0.0\" or \"2.0.0\""),
            (
                r#""private":"yes""#,
                "private",
                "'private' must be a boolean",
            ),
            (
                r#""heartbeatIntervalMs":"5s""#,
                "heartbeatIntervalMs",
                "got \"5s\"",
            ),
            (
                r#""debug":"on""#,
                "debug",
                "a boolean or { events: number }",
            ),
            (r#""logger":3"#, "logger", "'logger' must be a function"),
            (r#""rules":[]"#, "rules", "'rules' must be a plain object"),
        ];
        for (extra, option, says) in cases {
            let (kind, message, named) = refused(&with(extra));
            assert_eq!(kind, ErrorKind::InvalidOptions, "{extra}");
            assert_eq!(named.as_deref(), Some(option), "{extra}");
            assert!(message.starts_with("CasinoRealtime options: "), "{message}");
            assert!(message.contains(says), "{extra}: {message}");
        }
        let (_, _, named) = refused(&parse(r#"{"apiKey":"k"}"#).unwrap());
        assert_eq!(named.as_deref(), Some("url"));
        for not_an_object in ["null", "[]", "7", "\"options\""] {
            let (_, message, named) = refused(&parse(not_an_object).unwrap());
            assert_eq!(named.as_deref(), Some("options"), "{not_an_object}");
            assert!(message.contains("pass an object"));
        }
    }

    #[test]
    fn bad_rules_are_an_invalid_rules_error_naming_the_rule() {
        let bad =
            r#""rules":{"visit.created":{"extend":[{"type":"invalidate","queryKey":["{nope}"]}]}}"#;
        let report = read(&with(bad)).unwrap_err();
        assert_eq!(report.kind, ErrorKind::InvalidRules);
        assert!(
            report.message.contains("visit.created"),
            "{}",
            report.message
        );
    }

    #[test]
    fn debug_and_logger_turn_the_inspector_on_where_it_is_built() {
        for (extra, inspect, log) in [
            (r#""debug":true"#, 200, false),
            (r#""debug":{"events":50}"#, 50, false),
            (r#""logger":true"#, 1, true),
            (r#""debug":false"#, 0, false),
        ] {
            let read = read(&with(extra));
            if inspect > 0 && !cfg!(feature = "inspect") {
                assert_eq!(read.unwrap_err().kind, ErrorKind::InvalidOptions);
                continue;
            }
            let session = read.unwrap().session;
            assert_eq!((session.inspect, session.log), (inspect, log), "{extra}");
        }
    }

    #[test]
    fn the_identity_is_what_shapes_a_session_not_how_it_was_written() {
        let id = |extra: &str| read(&with(extra)).unwrap().identity().to_owned();
        // Another spelling of the same server, members in another order, a default written out.
        let project = parse(
            r#"{"casinoId":"66666666-6666-4666-8666-666666666666","apiKey":"k","url":"https://x.supabase.co"}"#,
        )
        .unwrap();
        assert_eq!(read(&project).unwrap().identity(), id(""));
        assert_eq!(id(r#""private":true,"batch":{"debounceMs":250}"#), id(""));
        let rules_a = r#""rules":{"visit.created":{"extend":[]},"table.activated":{"replace":[]}}"#;
        let rules_b = r#""rules":{"table.activated":{"replace":[]},"visit.created":{"extend":[]}}"#;
        assert_eq!(id(rules_a), id(rules_b));
        // Whatever changes the session does not share.
        for other in [
            r#""private":false"#,
            r#""batch":{"maxWaitMs":400}"#,
            r#""dedup":{"ttlMs":60000}"#,
            r#""heartbeatIntervalMs":5000"#,
            r#""fallbackPollMs":0"#,
            r#""resyncJitterMs":0"#,
            r#""maxDeliveryDelayMs":5000"#,
            r#""vsn":"1.0.0""#,
            rules_a,
        ] {
            assert_ne!(id(other), id(""), "{other}");
        }
        assert_ne!(
            read(&parse(&format!("{{{}}}", BASE.replace("\"k\"", "\"k2\""))).unwrap())
                .unwrap()
                .identity(),
            id("")
        );
        // What the client keeps (callbacks, the token, where the host runs) is not read here.
        assert_eq!(
            id(r#""accessToken":"t","shareAcrossTabs":false,"workerUrl":"/w.js""#),
            id("")
        );
    }
}
