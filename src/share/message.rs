//! What a tab and the host of its shared session say to each other (docs/tabs.md): small,
//! typed, and text on the wire, so a `MessagePort` and a `BroadcastChannel` carry it alike.
//!
//! A tab's messages are JSON objects `{ "t": kind, ... }`, read by the host with the crate's JSON
//! reader. The host's are `kind\nbody`, the body being the JSON the tab hands on as it is: a
//! batch is written once, by the host, and parsed once, by the tab's `JSON.parse`. No raw frame
//! ever crosses: each event is decoded once per browser.

use crate::errors::ErrorReport;
use crate::json::{self, Value, Writer};
use crate::session::Status;

/// The version of these messages. A client says it in its hello and a host refuses another
/// (`ToTab::Refused`): tabs of two versions of the package never exchange messages they cannot
/// read. The shared worker's, the locks' and the channel's names carry it too
/// (`pkg-template/messages.js` has the same number; a test keeps them equal).
pub const PROTOCOL: u32 = match option_env!("CASINO_REALTIME_PROTOCOL") {
    // A test of two versions in one browser (tests/e2e/ladder.test.mjs) builds a host of another.
    Some(text) => parse_version(text),
    None => 1,
};

const fn parse_version(text: &str) -> u32 {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut n = 0;
    while i < bytes.len() {
        n = n * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    n
}

/// A tab to the host.
#[derive(Debug, Clone, PartialEq)]
pub enum ToHost {
    /// The tab's manager joins (or, after a new host took over, rejoins) a session.
    Hello(Hello),
    /// `subscribe()`: `id` is the tab's own number for it.
    Subscribe {
        /// The tab's number for this subscription.
        id: u64,
        /// The detail channel's resource, or `None` for the list feed.
        resource: Option<String>,
    },
    /// The function `subscribe()` returned was called.
    Unsubscribe {
        /// The tab's number for the subscription.
        id: u64,
    },
    /// `setAuth(token)`.
    SetAuth(String),
    /// `flush()`: deliver what is pending now, then answer [`ToTab::Flushed`] with `id`.
    Flush {
        /// The tab's number for this flush.
        id: u64,
    },
    /// The answer of the tab's `getAccessToken` to the host's request `id`.
    Token {
        /// The request.
        id: u64,
        /// The token, or why there is none.
        result: Result<String, String>,
    },
    /// The tab's page went online or offline.
    Online(bool),
    /// The tab's page became visible or hidden.
    Visible(bool),
    /// The tab's page resumed (was frozen, or the machine slept).
    Resumed,
    /// Send a fresh `stats` snapshot.
    Stats,
    /// `close()`: the manager is done.
    Bye,
}

/// A tab's manager, as the host needs it to serve the tab.
#[derive(Debug, Clone, PartialEq)]
pub struct Hello {
    /// The version of the messages the client speaks ([`PROTOCOL`]; 0 when it said none).
    pub version: u32,
    /// The options the manager was made with (without its functions, its token, and what only
    /// the page reads), as the client wrote them; the host reads and checks them
    /// (`crate::options`). Tabs whose checked options and user are the same share a session.
    pub options: Value,
    /// Its access token, if it has one.
    pub token: Option<String>,
    /// It has a `getAccessToken`, so the host may ask it for a token.
    pub token_source: bool,
    /// Its subscriptions: its number for each and the resource (`None`: the list feed).
    pub subscriptions: Vec<(u64, Option<String>)>,
    /// It was served by a host that is gone, and may have missed events since then (wall ms).
    pub missed_since: Option<i64>,
}

/// The host to a tab.
#[derive(Debug, Clone, PartialEq)]
pub enum ToTab {
    /// A batch for `onBatch`, as JSON.
    Batch(String),
    /// The tab's status and `staleSince` (for `onStatus`).
    Status {
        /// The status.
        status: Status,
        /// Since when its data may be stale (ms since the epoch).
        stale_since: Option<i64>,
    },
    /// An error for `onError`.
    Error(ErrorReport),
    /// Call `getAccessToken` and answer with [`ToHost::Token`].
    RequestToken(u64),
    /// A `stats()` snapshot, as JSON.
    Stats(String),
    /// The host read the tab's options and serves it.
    Ready,
    /// The host cannot serve this tab: its options are refused (`InvalidOptionsError`,
    /// `InvalidRulesError`), or too many tabs share the session.
    Refused(ErrorReport),
    /// The flush `id` is done: its batch, if there was one, was sent before this.
    Flushed(u64),
    /// With `debug`: the inspector's record (`inspect()`), as JSON.
    Inspect(String),
    /// With a `logger`: one line, `{ kind, message, record }`.
    Log(String),
    /// Nothing to say for a while: the host is alive (sent from inside the wasm, so a host that
    /// trapped stops beating).
    Beat,
}

/// A message that could not be read (a tab of another version of the package, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadMessage(pub String);

fn resource_value(resource: &Option<String>) -> Value {
    resource.clone().map_or(Value::Null, Value::String)
}

fn int(n: u64) -> Value {
    Value::Number(json::Number::int(n as i64))
}

fn read_u64(value: &Value, key: &str) -> Result<u64, BadMessage> {
    match value.get(key) {
        Some(Value::Number(n)) if n.value() >= 0.0 && n.value().fract() == 0.0 => {
            Ok(n.value() as u64)
        }
        _ => Err(BadMessage(format!("'{key}' is not a count"))),
    }
}

fn read_string(value: &Value, key: &str) -> Result<String, BadMessage> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| BadMessage(format!("'{key}' is not a string")))
}

fn read_resource(value: &Value) -> Result<Option<String>, BadMessage> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(BadMessage("a resource is a string or null".into())),
    }
}

impl ToHost {
    /// The JSON text sent.
    pub fn encode(&self) -> String {
        let (kind, members): (&str, Vec<(&str, Value)>) = match self {
            ToHost::Hello(hello) => {
                let subscriptions = hello
                    .subscriptions
                    .iter()
                    .map(|(id, resource)| Value::Array(vec![int(*id), resource_value(resource)]))
                    .collect();
                let missed = hello
                    .missed_since
                    .map_or(Value::Null, |t| Value::Number(json::Number::int(t)));
                (
                    "hello",
                    vec![
                        ("v", int(u64::from(hello.version))),
                        ("options", hello.options.clone()),
                        ("token", resource_value(&hello.token)),
                        ("tokenSource", Value::Bool(hello.token_source)),
                        ("subs", Value::Array(subscriptions)),
                        ("missedSince", missed),
                    ],
                )
            }
            ToHost::Subscribe { id, resource } => (
                "sub",
                vec![("id", int(*id)), ("resource", resource_value(resource))],
            ),
            ToHost::Unsubscribe { id } => ("unsub", vec![("id", int(*id))]),
            ToHost::SetAuth(token) => ("auth", vec![("token", Value::String(token.clone()))]),
            ToHost::Flush { id } => ("flush", vec![("id", int(*id))]),
            ToHost::Token { id, result } => {
                let answer = match result {
                    Ok(token) => ("token", Value::String(token.clone())),
                    Err(reason) => ("error", Value::String(reason.clone())),
                };
                ("token", vec![("id", int(*id)), answer])
            }
            ToHost::Online(online) => ("online", vec![("value", Value::Bool(*online))]),
            ToHost::Visible(visible) => ("visible", vec![("value", Value::Bool(*visible))]),
            ToHost::Resumed => ("resumed", vec![]),
            ToHost::Stats => ("stats", vec![]),
            ToHost::Bye => ("bye", vec![]),
        };
        let mut all = vec![("t", Value::String(kind.into()))];
        all.extend(members);
        Value::object(all).to_json()
    }

    /// Reads a tab's message.
    pub fn decode(text: &str) -> Result<ToHost, BadMessage> {
        let value = json::parse(text).map_err(|e| BadMessage(e.to_string()))?;
        let kind = read_string(&value, "t")?;
        let flag = |key: &str| match value.get(key) {
            Some(Value::Bool(b)) => Ok(*b),
            _ => Err(BadMessage(format!("'{key}' is not a boolean"))),
        };
        Ok(match kind.as_str() {
            "hello" => {
                let Some(Value::Array(subs)) = value.get("subs") else {
                    return Err(BadMessage("'subs' is not an array".into()));
                };
                let mut subscriptions = Vec::with_capacity(subs.len());
                for sub in subs {
                    match sub {
                        Value::Array(pair) if pair.len() == 2 => {
                            let id = read_u64(&Value::object(vec![("id", pair[0].clone())]), "id")?;
                            subscriptions.push((id, read_resource(&pair[1])?));
                        }
                        _ => return Err(BadMessage("a subscription is [id, resource]".into())),
                    }
                }
                let missed_since = match value.get("missedSince") {
                    Some(Value::Number(n)) if n.value().is_finite() => Some(n.value() as i64),
                    _ => None,
                };
                let options = match value.get("options") {
                    Some(options @ Value::Object(_)) => options.clone(),
                    _ => return Err(BadMessage("'options' is not an object".into())),
                };
                let version = match value.get("v") {
                    Some(Value::Number(n)) if n.value() >= 0.0 && n.value().fract() == 0.0 => {
                        n.value() as u32
                    }
                    _ => 0,
                };
                ToHost::Hello(Hello {
                    version,
                    options,
                    token: read_resource(value.get("token").unwrap_or(&Value::Null))?,
                    token_source: flag("tokenSource")?,
                    subscriptions,
                    missed_since,
                })
            }
            "sub" => ToHost::Subscribe {
                id: read_u64(&value, "id")?,
                resource: read_resource(value.get("resource").unwrap_or(&Value::Null))?,
            },
            "unsub" => ToHost::Unsubscribe {
                id: read_u64(&value, "id")?,
            },
            "auth" => ToHost::SetAuth(read_string(&value, "token")?),
            "flush" => ToHost::Flush {
                id: read_u64(&value, "id")?,
            },
            "token" => ToHost::Token {
                id: read_u64(&value, "id")?,
                result: match read_string(&value, "token") {
                    Ok(token) => Ok(token),
                    Err(_) => Err(read_string(&value, "error")?),
                },
            },
            "online" => ToHost::Online(flag("value")?),
            "visible" => ToHost::Visible(flag("value")?),
            "resumed" => ToHost::Resumed,
            "stats" => ToHost::Stats,
            "bye" => ToHost::Bye,
            other => return Err(BadMessage(format!("unknown message '{other}'"))),
        })
    }
}

/// What kind of message the host sent; its body is JSON for the tab to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TabKind {
    /// Body: the batch.
    Batch,
    /// Body: `{ status, staleSince }`.
    Status,
    /// Body: the error, `{ name, message, ...members }`.
    Error,
    /// Body: the request's id.
    RequestToken,
    /// Body: the stats.
    Stats,
    /// Body: `{}`.
    Ready,
    /// Body: the error.
    Refused,
    /// Body: the flush's id.
    Flushed,
    /// Body: the inspector's record.
    Inspect,
    /// Body: `{ kind, message, record }`.
    Log,
    /// Body: `{}`.
    Beat,
}

impl TabKind {
    fn name(self) -> &'static str {
        match self {
            TabKind::Batch => "batch",
            TabKind::Status => "status",
            TabKind::Error => "error",
            TabKind::RequestToken => "token",
            TabKind::Stats => "stats",
            TabKind::Ready => "ready",
            TabKind::Refused => "refused",
            TabKind::Flushed => "flushed",
            TabKind::Inspect => "inspect",
            TabKind::Log => "log",
            TabKind::Beat => "beat",
        }
    }

    const ALL: [TabKind; 11] = [
        TabKind::Batch,
        TabKind::Status,
        TabKind::Error,
        TabKind::RequestToken,
        TabKind::Stats,
        TabKind::Ready,
        TabKind::Refused,
        TabKind::Flushed,
        TabKind::Inspect,
        TabKind::Log,
        TabKind::Beat,
    ];
}

impl ToTab {
    /// The text sent: `kind\nbody`.
    pub fn encode(&self) -> String {
        let (kind, body) = match self {
            ToTab::Batch(json) => (TabKind::Batch, json.clone()),
            ToTab::Status {
                status,
                stale_since,
            } => {
                let mut body = String::new();
                let mut w = Writer::new(&mut body);
                w.open('{').key("status").string(status.as_str());
                w.key("staleSince");
                match stale_since {
                    Some(t) => w.int(*t),
                    None => w.value(&Value::Null),
                };
                w.close('}');
                (TabKind::Status, body)
            }
            ToTab::Error(report) => (TabKind::Error, report.to_json()),
            ToTab::RequestToken(id) => (TabKind::RequestToken, id.to_string()),
            ToTab::Stats(json) => (TabKind::Stats, json.clone()),
            ToTab::Ready => (TabKind::Ready, "{}".to_owned()),
            ToTab::Refused(report) => (TabKind::Refused, report.to_json()),
            ToTab::Flushed(id) => (TabKind::Flushed, id.to_string()),
            ToTab::Inspect(json) => (TabKind::Inspect, json.clone()),
            ToTab::Log(json) => (TabKind::Log, json.clone()),
            ToTab::Beat => (TabKind::Beat, "{}".to_owned()),
        };
        format!("{}\n{body}", kind.name())
    }

    /// Splits the host's message into its kind and its body (JSON).
    pub fn split(text: &str) -> Result<(TabKind, &str), BadMessage> {
        let (head, body) = text
            .split_once('\n')
            .ok_or_else(|| BadMessage("no kind".into()))?;
        let kind = TabKind::ALL
            .into_iter()
            .find(|k| k.name() == head)
            .ok_or_else(|| BadMessage(format!("unknown message '{head}'")))?;
        Ok((kind, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::{ErrorKind, Prop};

    /// The texts both sides must write and read: the JS client's own test
    /// (`tests/js/protocol.test.mjs`) checks that it writes and reads the same.
    const FIXTURE: &str = include_str!("../../tests/fixtures/tab-messages.json");

    fn fixture(side: &str, name: &str) -> String {
        let all = json::parse(FIXTURE).unwrap_or(Value::Null);
        match all.get(side).and_then(|s| s.get(name)) {
            Some(Value::String(text)) => text.clone(),
            _ => panic!("tests/fixtures/tab-messages.json has no {side}.{name}"),
        }
    }

    fn options() -> Value {
        json::parse(r#"{"url":"ws://x/realtime/v1","apiKey":"k","casinoId":"c"}"#)
            .unwrap_or(Value::Null)
    }

    #[test]
    fn every_tab_message_is_written_and_read_as_the_client_does() {
        let messages = [
            (
                "hello",
                ToHost::Hello(Hello {
                    version: PROTOCOL,
                    options: options(),
                    token: Some("jwt".into()),
                    token_source: true,
                    subscriptions: vec![(1, None), (2, Some("table-1".into()))],
                    missed_since: Some(1_766_224_800_000),
                }),
            ),
            (
                "helloWithoutToken",
                ToHost::Hello(Hello {
                    version: PROTOCOL,
                    options: options(),
                    token: None,
                    token_source: false,
                    subscriptions: vec![],
                    missed_since: None,
                }),
            ),
            (
                "subscribeDetail",
                ToHost::Subscribe {
                    id: 3,
                    resource: Some("slip-\"9\"".into()),
                },
            ),
            (
                "subscribeList",
                ToHost::Subscribe {
                    id: 4,
                    resource: None,
                },
            ),
            ("unsubscribe", ToHost::Unsubscribe { id: 3 }),
            ("setAuth", ToHost::SetAuth("t2".into())),
            ("flush", ToHost::Flush { id: 6 }),
            (
                "token",
                ToHost::Token {
                    id: 7,
                    result: Ok("t3".into()),
                },
            ),
            (
                "tokenFailed",
                ToHost::Token {
                    id: 8,
                    result: Err("getAccessToken failed: boom".into()),
                },
            ),
            ("offline", ToHost::Online(false)),
            ("visible", ToHost::Visible(true)),
            ("resumed", ToHost::Resumed),
            ("stats", ToHost::Stats),
            ("bye", ToHost::Bye),
        ];
        for (name, message) in messages {
            let text = fixture("toHost", name);
            assert_eq!(message.encode(), text, "{name}");
            assert_eq!(ToHost::decode(&text), Ok(message), "{name}");
        }
    }

    #[test]
    fn both_sides_speak_the_same_version() {
        let all = json::parse(FIXTURE).unwrap_or(Value::Null);
        let version = match all.get("protocol") {
            Some(Value::Number(n)) => n.value() as u32,
            _ => panic!("the fixture says no protocol version"),
        };
        assert_eq!(
            version, PROTOCOL,
            "tests/fixtures/tab-messages.json and PROTOCOL"
        );
    }

    #[test]
    fn a_bad_tab_message_is_refused_with_a_reason() {
        for (text, why) in [
            ("nope", "not JSON"),
            (r#"{"t":"launch"}"#, "unknown message 'launch'"),
            (r#"{"t":"sub","id":-1}"#, "'id' is not a count"),
            (r#"{"t":"unsub","id":1.5}"#, "'id' is not a count"),
            (r#"{"t":"flush"}"#, "'id' is not a count"),
            (
                r#"{"t":"online","value":"yes"}"#,
                "'value' is not a boolean",
            ),
            (
                r#"{"t":"hello","options":{},"tokenSource":true,"subs":[[1]]}"#,
                "a subscription is [id, resource]",
            ),
            (
                r#"{"t":"hello","options":"{}","tokenSource":true,"subs":[]}"#,
                "'options' is not an object",
            ),
        ] {
            let error = ToHost::decode(text).unwrap_err();
            assert!(
                why == "not JSON" || error.0.contains(why),
                "{text}: {error:?}"
            );
        }
    }

    #[test]
    fn host_messages_are_written_as_the_client_reads_them() {
        let report = ErrorReport::new(ErrorKind::ChannelDenied, "refused")
            .with(Prop::Topic, "realtime:c")
            .with(Prop::Reason, "Unauthorized");
        let invalid = ErrorReport::new(ErrorKind::InvalidOptions, "CasinoRealtime options: no")
            .with(Prop::Option, "url");
        for (name, message, kind) in [
            (
                "batch",
                ToTab::Batch(r#"{"reason":"window","actions":[]}"#.into()),
                TabKind::Batch,
            ),
            (
                "status",
                ToTab::Status {
                    status: Status::AwaitingToken,
                    stale_since: Some(12),
                },
                TabKind::Status,
            ),
            (
                "statusFresh",
                ToTab::Status {
                    status: Status::Connected,
                    stale_since: None,
                },
                TabKind::Status,
            ),
            ("error", ToTab::Error(report.clone()), TabKind::Error),
            (
                "requestToken",
                ToTab::RequestToken(5),
                TabKind::RequestToken,
            ),
            (
                "stats",
                ToTab::Stats(r#"{"eventsReceived":3}"#.into()),
                TabKind::Stats,
            ),
            ("ready", ToTab::Ready, TabKind::Ready),
            ("refused", ToTab::Refused(invalid), TabKind::Refused),
            ("flushed", ToTab::Flushed(6), TabKind::Flushed),
            (
                "inspect",
                ToTab::Inspect(r#"{"events":[],"batches":[]}"#.into()),
                TabKind::Inspect,
            ),
            (
                "log",
                ToTab::Log(r#"{"kind":"batch","message":"m","record":{}}"#.into()),
                TabKind::Log,
            ),
            ("beat", ToTab::Beat, TabKind::Beat),
        ] {
            let text = message.encode();
            assert_eq!(text, fixture("toTab", name), "{name}");
            let (read, body) = ToTab::split(&text).unwrap();
            assert_eq!(read, kind, "{name}");
            assert!(json::parse(body).is_ok(), "{name}: the body is JSON");
        }
        let back = ErrorReport::from_json(&json::parse(&report.to_json()).unwrap()).unwrap();
        assert_eq!(
            (back.kind, back.message, back.members),
            (report.kind, report.message, report.members)
        );
        assert!(ToTab::split("launch\n{}").is_err());
        assert!(ToTab::split("batch").is_err());
    }
}
