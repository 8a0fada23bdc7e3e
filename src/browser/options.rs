//! Reads the `CasinoRealtime` options object, with a clear error for anything missing or wrong.

use crate::batch::BatchConfig;
use crate::cache::RuleSet;
use crate::catalog::Uuid;
use crate::dedup::DedupConfig;
use crate::errors::{ErrorKind, Prop};
use crate::json;
use crate::protocol::Vsn;
use crate::session::{realtime_url, SessionConfig};
use js_sys::Function;
use wasm_bindgen::{JsCast, JsValue};

/// Everything the constructor needs.
pub(crate) struct Options {
    pub session: SessionConfig,
    pub rules: RuleSet,
    pub dedup: DedupConfig,
    pub batch: BatchConfig,
    pub access_token: Option<String>,
    pub get_access_token: Option<Function>,
    pub on_batch: Option<Function>,
    pub on_status: Option<Function>,
    pub on_error: Option<Function>,
    pub logger: Option<Function>,
    /// `shareAcrossTabs` (default true; off with `debug` or a `logger`, which inspect a
    /// session of this tab's own).
    pub share: bool,
}

/// `InvalidOptionsError` about `option` (`url`, `batch.maxWaitMs`, or `options` itself).
fn invalid(option: &str, message: &str) -> JsValue {
    let error = super::error::new(
        ErrorKind::InvalidOptions,
        &format!("CasinoRealtime options: {message}"),
    );
    super::error::set(&error, Prop::Option, &option.into());
    error
}

/// A member, `None` when absent; a getter that throws is an error naming the member.
fn get(object: &JsValue, key: &str) -> Result<Option<JsValue>, JsValue> {
    match super::js::get(object, key) {
        Ok(v) if v.is_undefined() || v.is_null() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(thrown) => Err(invalid(
            key,
            &format!("reading '{key}' threw: {}", super::error::describe(&thrown)),
        )),
    }
}

fn string(object: &JsValue, key: &str, required: bool) -> Result<Option<String>, JsValue> {
    match get(object, key)? {
        None if required => Err(invalid(key, &format!("'{key}' is required"))),
        None => Ok(None),
        Some(v) => v
            .as_string()
            .map(Some)
            .ok_or_else(|| invalid(key, &format!("'{key}' must be a string"))),
    }
}

fn function(object: &JsValue, key: &str) -> Result<Option<Function>, JsValue> {
    match get(object, key)? {
        None => Ok(None),
        Some(v) => v
            .dyn_into::<Function>()
            .map(Some)
            .map_err(|_| invalid(key, &format!("'{key}' must be a function"))),
    }
}

/// A whole number in `range`, or `None` when absent.
fn number(
    object: &JsValue,
    key: &str,
    path: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Option<u64>, JsValue> {
    let Some(v) = get(object, key)? else {
        return Ok(None);
    };
    let name = if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    };
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 && n >= *range.start() as f64 && n <= *range.end() as f64 => {
            Ok(Some(n as u64))
        }
        _ => Err(invalid(
            &name,
            &format!(
                "'{name}' must be a whole number from {} to {}, got {}",
                range.start(),
                range.end(),
                // JS writes the number: Rust's float printer would add kilobytes to the wasm.
                super::js::stringify(&v)
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| super::error::js_type(&v))
            ),
        )),
    }
}

/// Reads and checks the options.
pub(crate) fn read(options: &JsValue) -> Result<Options, JsValue> {
    if !options.is_object() {
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
    if let Some(private) = get(options, "private")? {
        session.private = private
            .as_bool()
            .ok_or_else(|| invalid("private", "'private' must be a boolean"))?;
    }
    if let Some(vsn) = string(options, "vsn", false)? {
        session.vsn = Vsn::from_param(Some(&vsn))
            .ok_or_else(|| invalid("vsn", "'vsn' must be \"1.0.0\" or \"2.0.0\""))?;
    }
    // Bounds on numbers: a window of minutes or a dedup table of gigabytes is a mistake, not a
    // setting.
    let mut batch = BatchConfig::default();
    if let Some(b) = get(options, "batch")? {
        if let Some(ms) = number(&b, "debounceMs", "batch", 0..=5_000)? {
            batch.debounce_ms = ms;
        }
        if let Some(ms) = number(&b, "maxWaitMs", "batch", 1..=10_000)? {
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
    if let Some(d) = get(options, "dedup")? {
        if let Some(capacity) = number(&d, "capacity", "dedup", 1..=1_000_000)? {
            dedup.capacity = capacity as usize;
        }
        if let Some(ttl) = number(&d, "ttlMs", "dedup", 1_000..=86_400_000)? {
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
    // `debug`: the inspector's ring; a `logger` needs it on to have lines to give.
    match get(options, "debug")? {
        None => {}
        Some(on) if on.as_bool() == Some(true) => session.inspect = 200,
        Some(on) if on.as_bool() == Some(false) => {}
        Some(d) if d.is_object() => {
            session.inspect = number(&d, "events", "debug", 1..=10_000)?.unwrap_or(200) as usize;
        }
        Some(_) => {
            return Err(invalid(
                "debug",
                "'debug' must be a boolean or { events: number }",
            ))
        }
    }
    let logger = function(options, "logger")?;
    if logger.is_some() {
        session.log = true;
        session.inspect = session.inspect.max(1);
    }
    let rules = match get(options, "rules")? {
        None => RuleSet::defaults(),
        Some(rules) => {
            let text = super::js::stringify(&rules)
                .map_err(|thrown| {
                    invalid(
                        "rules",
                        &format!(
                            "'rules' cannot be written as JSON ({})",
                            super::error::describe(&thrown)
                        ),
                    )
                })?
                .unwrap_or_default();
            let value = json::parse(&text)
                .map_err(|_| invalid("rules", "'rules' must be a plain object"))?;
            RuleSet::with_overrides(&value).map_err(|e| super::error::rules_error(&e))?
        }
    };
    let share = match get(options, "shareAcrossTabs")? {
        None => true,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| invalid("shareAcrossTabs", "'shareAcrossTabs' must be a boolean"))?,
    } && session.inspect == 0;
    Ok(Options {
        share,
        session,
        rules,
        dedup,
        batch,
        access_token: string(options, "accessToken", false)?,
        get_access_token: function(options, "getAccessToken")?,
        on_batch: function(options, "onBatch")?,
        on_status: function(options, "onStatus")?,
        on_error: function(options, "onError")?,
        logger,
    })
}
