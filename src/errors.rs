//! Every kind of error casino-realtime throws or reports, with its properties: the one source of
//! the JS errors' `name`s and members (the browser layer builds each error from its kind) and of
//! the package's `errors.d.ts` and `errors.js`, which [`typescript`] and [`javascript`] write and
//! a test keeps equal to the shipped files.

/// A member an error may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prop {
    /// Why, in a stable word or the server's words.
    Reason,
    /// The event name concerned.
    Event,
    /// The payload field at fault (`pits[0].sequence`).
    Field,
    /// Where in the rules object the problem is.
    Path,
    /// The channel concerned.
    Topic,
    /// The option at fault (`batch.maxWaitMs`).
    Option,
    /// The casino an event named.
    CasinoId,
    /// Which callback threw.
    Callback,
    /// What was thrown underneath.
    Cause,
    /// The function called too early.
    Function,
    /// Where a session's host was to run.
    Mode,
    /// An HTTP status (a number in JS).
    Status,
}

impl Prop {
    /// Its JS name.
    pub const fn js_name(self) -> &'static str {
        match self {
            Prop::Reason => "reason",
            Prop::Event => "event",
            Prop::Field => "field",
            Prop::Path => "path",
            Prop::Topic => "topic",
            Prop::Option => "option",
            Prop::CasinoId => "casinoId",
            Prop::Callback => "callback",
            Prop::Cause => "cause",
            Prop::Function => "function",
            Prop::Mode => "mode",
            Prop::Status => "status",
        }
    }
}

/// One member of one kind: its TypeScript type, whether it is always there, and what it says.
#[derive(Clone, Copy, Debug)]
pub struct Member {
    /// The member.
    pub prop: Prop,
    /// Its TypeScript type.
    pub ts: &'static str,
    /// Present on every error of the kind.
    pub required: bool,
    /// Its doc comment.
    pub doc: &'static str,
}

const fn req(prop: Prop, ts: &'static str, doc: &'static str) -> Member {
    Member {
        prop,
        ts,
        required: true,
        doc,
    }
}

const fn opt(prop: Prop, ts: &'static str, doc: &'static str) -> Member {
    Member {
        prop,
        ts,
        required: false,
        doc,
    }
}

/// The reasons of an `InvalidEventError` (`EventError::reason`, and `not_serializable`).
pub const INVALID_EVENT_REASONS: &str = r#""not_json" | "not_an_object" | "wrong_event" | "missing_field" | "invalid_field" | "not_serializable""#;

macro_rules! kinds {
    ($($(#[doc = $doc:literal])+ $kind:ident = $name:literal [$($member:expr),* $(,)?])+) => {
        /// A kind of error: its JS `name` and its members.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ErrorKind {
            $($(#[doc = $doc])+ $kind,)+
        }

        impl ErrorKind {
            /// Every kind, in the order the declarations list them.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$kind),+];

            /// Its JS `name`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(ErrorKind::$kind => $name,)+
                }
            }

            /// Its members, beyond `name` and `message`.
            pub fn members(self) -> &'static [Member] {
                match self {
                    $(ErrorKind::$kind => {
                        const MEMBERS: &[Member] = &[$($member),*];
                        MEMBERS
                    })+
                }
            }

            /// What it means, for the declarations.
            pub fn doc(self) -> &'static str {
                match self {
                    $(ErrorKind::$kind => concat!($($doc, "\n"),+),)+
                }
            }
        }
    };
}

kinds! {
    /// The event name is not in the catalog.
    UnknownEvent = "UnknownEventError" [
        req(Prop::Reason, r#""unknown_event""#, "Always `unknown_event`."),
        req(Prop::Event, "string", "The name given."),
        opt(Prop::Topic, "string", "The channel it came on (for `onError`)."),
    ]
    /// The payload does not match the catalog.
    InvalidEvent = "InvalidEventError" [
        req(Prop::Reason, INVALID_EVENT_REASONS, "What is wrong."),
        req(Prop::Event, "EventName", "The event."),
        opt(Prop::Field, "string", "The payload field at fault (`pits[0].sequence`), for field errors."),
        opt(Prop::Topic, "string", "The channel it came on (for `onError`); dropped."),
    ]
    /// A cache rule cannot be used.
    InvalidRules = "InvalidRulesError" [
        req(Prop::Reason, r#""invalid_rule""#, "Always `invalid_rule`."),
        req(Prop::Path, "string", "Where in the rules object the problem is (`visit.created.extend[0].queryKey[1]`)."),
    ]
    /// A `CasinoRealtime` option is missing, of the wrong type or out of range.
    InvalidOptions = "InvalidOptionsError" [
        req(Prop::Option, "string", "The option at fault (`url`, `batch.maxWaitMs`), or `options` for the object itself."),
    ]
    /// The server refused a channel (to `onError`): the app's token may not read it. It is joined
    /// again on `setAuth()`, a new `subscribe()`, or after a long backoff.
    ChannelDenied = "ChannelDeniedError" [
        req(Prop::Topic, "string", "The channel."),
        req(Prop::Reason, "string", "The server's words (`Unauthorized: ...`)."),
    ]
    /// No usable token (to `onError`): `getAccessToken` failed, gave nothing or the expired token,
    /// or there is none and the token expired.
    Token = "TokenError" [
        req(Prop::Reason, "string", "Why."),
    ]
    /// Sockets keep failing before they open, and the server, asked once why over HTTP (browsers
    /// hide a refused upgrade's status), answered this (to `onError`, once until a socket opens).
    /// The manager keeps retrying on its backoff.
    Connection = "ConnectionError" [
        req(Prop::Reason, r#""unauthorized" | "forbidden" | "not-found" | "rate-limited" | "server-error" | "websocket-blocked" | "unreachable" | "refused""#, "What the server's answer means: `unauthorized` (401: the `apiKey` is wrong, missing or expired), `forbidden` (403: Realtime refused the project or the connection), `not-found` (404: no such project), `rate-limited` (429: too many connections or joins), `server-error` (5xx), `websocket-blocked` (the server accepts the key, so something between blocks WebSockets), `unreachable` (no answer could be read: offline, DNS, TLS, or a gateway that sends no CORS headers), `refused` (any other status)."),
        req(Prop::Status, "number", "The HTTP status; 0 when no answer could be read."),
    ]
    /// A frame could not be read or was over 5 MB (dropped), or a socket could not be opened (to
    /// `onError`).
    Protocol = "ProtocolError" [
        req(Prop::Reason, "string", "What could not be read, or `cannot_open`."),
        opt(Prop::Cause, "unknown", "What opening the socket threw."),
    ]
    /// An event named another casino (to `onError`); dropped.
    ForeignCasino = "ForeignCasinoError" [
        req(Prop::Topic, "string", "The channel it came on."),
        req(Prop::Event, "EventName", "The event."),
        req(Prop::CasinoId, "string", "The casino it named."),
    ]
    /// A callback threw (to `onError`); the manager carries on.
    Callback = "CallbackError" [
        req(Prop::Callback, r#""onBatch" | "onStatus" | "logger""#, "Which callback."),
        req(Prop::Cause, "unknown", "What it threw."),
    ]
    /// `subscribe()` after `close()`.
    Closed = "ClosedError" []
    /// A synchronous call before the `.wasm` loaded: `await initCasinoRealtime()` first.
    NotInitialized = "NotInitializedError" [
        req(Prop::Function, "string", "The function called."),
    ]
    /// The `.wasm` could not be loaded (offline, a wrong URL, a server that does not serve it).
    Load = "LoadError" [
        req(Prop::Cause, "unknown", "What loading threw."),
    ]
    /// `casino-realtime/server`'s `publishEvent`: the database refused to publish (the caller's
    /// role may not publish to the event's channels, `casino_realtime.emit` is not deployed or
    /// not exposed, the payload failed the database's own check).
    Publish = "PublishError" [
        req(Prop::Event, "EventName", "The event."),
        req(Prop::Reason, "string", "The database's code: a SQLSTATE (`42501`: row-level security said no; `22023`: the catalog check) or PostgREST's (`PGRST202`: no such function in the exposed schemas)."),
        req(Prop::Cause, "unknown", "The error supabase-js returned."),
    ]
    /// A warning (to `onError`): the session's host could not start on one rung, or was lost,
    /// and the manager moved on (to a new shared worker, or down the ladder); it carries on.
    Host = "HostError" [
        req(Prop::Mode, r#""worker" | "leader" | "follower" | "local""#, "The rung that failed."),
        req(Prop::Reason, r#""start" | "load" | "no-answer" | "lost" | "refused""#, "What went wrong: the host could not start (its script), could not load its `.wasm`, did not answer the manager's hello, stopped answering, or refused the manager (another version of the package)."),
        opt(Prop::Cause, "unknown", "What was thrown or said underneath."),
    ]
}

impl ErrorKind {
    /// Whether errors of this kind may carry `prop`.
    pub fn declares(self, prop: Prop) -> bool {
        self.members().iter().any(|m| m.prop == prop)
    }

    /// The kind with this JS name.
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.iter().copied().find(|k| k.name() == name)
    }
}

const GENERATED: &str =
    "Generated from src/errors.rs (`BLESS=1 cargo test --test errors` writes it); do not edit.";

fn doc_comment(out: &mut String, indent: &str, text: &str) {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    if let [line] = lines.as_slice() {
        out.push_str(&format!("{indent}/** {line} */\n"));
        return;
    }
    out.push_str(&format!("{indent}/**\n"));
    for line in lines {
        out.push_str(&format!("{indent} * {line}\n"));
    }
    out.push_str(&format!("{indent} */\n"));
}

/// `errors.d.ts`: one interface per kind, their union, and the guard.
pub fn typescript() -> String {
    let mut out = format!("// {GENERATED}\nimport type {{ EventName }} from './catalog.js';\n\n");
    for &kind in ErrorKind::ALL {
        doc_comment(&mut out, "", kind.doc());
        out.push_str(&format!(
            "export interface {} extends Error {{\n  name: \"{}\";\n",
            kind.name(),
            kind.name()
        ));
        for m in kind.members() {
            doc_comment(&mut out, "  ", m.doc);
            let optional = if m.required { "" } else { "?" };
            out.push_str(&format!("  {}{optional}: {};\n", m.prop.js_name(), m.ts));
        }
        out.push_str("}\n\n");
    }
    out.push_str(
        "/**\n * What casino-realtime throws or reports: a real `Error` whose `name` says which kind, with\n * that kind's members. Narrow on `name`, or with `isCasinoRealtimeError(e, name)`. A wrong\n * argument type (an event name that is not a string, say) throws a plain `TypeError`.\n */\nexport type CasinoRealtimeError =\n",
    );
    let names: Vec<String> = ErrorKind::ALL
        .iter()
        .map(|k| format!("  | {}", k.name()))
        .collect();
    out.push_str(&names.join("\n"));
    out.push_str(";\n\n");
    out.push_str(concat!(
        "/** The `name` of every error kind. */\n",
        "export type CasinoRealtimeErrorName = CasinoRealtimeError['name'];\n\n",
        "/** The error of kind `N`. */\n",
        "export type CasinoRealtimeErrorOf<N extends CasinoRealtimeErrorName> = Extract<CasinoRealtimeError, { name: N }>;\n\n",
        "/** Every kind's `name`. */\n",
        "export declare const ERROR_NAMES: readonly CasinoRealtimeErrorName[];\n\n",
        "/** Whether `value` is an error casino-realtime threw or reported (of kind `name`, when given). */\n",
        "export declare function isCasinoRealtimeError(value: unknown): value is CasinoRealtimeError;\n",
        "export declare function isCasinoRealtimeError<N extends CasinoRealtimeErrorName>(\n",
        "  value: unknown,\n",
        "  name: N,\n",
        "): value is CasinoRealtimeErrorOf<N>;\n",
    ));
    out
}

/// `errors.js`: the names, the guard, and the constructor of the errors JS raises itself.
pub fn javascript() -> String {
    let mut out = format!("// {GENERATED}\n");
    out.push_str("export const ERROR_NAMES = Object.freeze([\n");
    for &kind in ErrorKind::ALL {
        out.push_str(&format!("  '{}',\n", kind.name()));
    }
    out.push_str("]);\n\n");
    out.push_str("// name -> the members it may carry.\nconst MEMBERS = new Map([\n");
    for &kind in ErrorKind::ALL {
        let members: Vec<String> = kind
            .members()
            .iter()
            .map(|m| format!("'{}'", m.prop.js_name()))
            .collect();
        out.push_str(&format!(
            "  ['{}', [{}]],\n",
            kind.name(),
            members.join(", ")
        ));
    }
    out.push_str("]);\n\n");
    out.push_str(concat!(
        "export function isCasinoRealtimeError(value, name) {\n",
        "  if (!(value instanceof Error) || !MEMBERS.has(value.name)) return false;\n",
        "  return name === undefined || value.name === name;\n",
        "}\n\n",
        "/** An error of kind `name` with `members` (each must be one the kind declares). */\n",
        "export function casinoRealtimeError(name, message, members = {}) {\n",
        "  const declared = MEMBERS.get(name);\n",
        "  if (!declared) throw new TypeError(`casino-realtime: no error kind ${name}`);\n",
        "  const error = new Error(message);\n",
        "  error.name = name;\n",
        "  for (const [key, value] of Object.entries(members)) {\n",
        "    if (!declared.includes(key)) throw new TypeError(`casino-realtime: ${name} has no member ${key}`);\n",
        "    if (value !== undefined) error[key] = value;\n",
        "  }\n",
        "  return error;\n",
        "}\n",
    ));
    out
}

/// An error as the core describes it: its kind, message and string members. The browser layer
/// turns it into a JS `Error`; members holding JS values (`cause`) are added there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorReport {
    /// Which kind.
    pub kind: ErrorKind,
    /// The message.
    pub message: String,
    /// Its members, each one its kind declares.
    pub members: Vec<(Prop, String)>,
}

impl ErrorReport {
    /// A report with no members yet.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ErrorReport {
        ErrorReport {
            kind,
            message: message.into(),
            members: Vec::new(),
        }
    }

    /// With `prop` set to `value`.
    pub fn with(mut self, prop: Prop, value: impl Into<String>) -> ErrorReport {
        debug_assert!(self.kind.declares(prop), "{:?} has no {prop:?}", self.kind);
        self.members.push((prop, value.into()));
        self
    }

    /// With `prop` set when there is a value.
    pub fn with_some(self, prop: Prop, value: Option<&str>) -> ErrorReport {
        match value {
            Some(value) => self.with(prop, value),
            None => self,
        }
    }

    /// As JSON: `{ name, message, ...members }` (what crosses between tabs, docs/tabs.md).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        let mut w = crate::json::Writer::new(&mut out);
        w.open('{').key("name").string(self.kind.name());
        w.key("message").string(&self.message);
        for (prop, value) in &self.members {
            match (prop, crate::json::whole_number(value)) {
                (Prop::Status, Some(number)) => w.key(prop.js_name()).int(number as i64),
                _ => w.key(prop.js_name()).string(value),
            };
        }
        w.close('}');
        out
    }

    /// Read back from [`ErrorReport::to_json`]'s form; members its kind does not declare are
    /// left out.
    pub fn from_json(value: &crate::json::Value) -> Option<ErrorReport> {
        let kind = ErrorKind::from_name(value.get("name")?.as_str()?)?;
        let message = value.get("message")?.as_str()?;
        let mut report = ErrorReport::new(kind, message);
        for member in kind.members() {
            match value.get(member.prop.js_name()) {
                Some(crate::json::Value::String(text)) => {
                    report.members.push((member.prop, text.clone()))
                }
                Some(crate::json::Value::Number(n)) if member.prop == Prop::Status => report
                    .members
                    .push((member.prop, (n.value() as i64).to_string())),
                _ => {}
            }
        }
        Some(report)
    }

    /// The required members it lacks (beyond `cause`, which JS adds), and the members its kind
    /// does not declare: both empty for a report that keeps the contract.
    pub fn contract_breaches(&self) -> (Vec<Prop>, Vec<Prop>) {
        let missing = self
            .kind
            .members()
            .iter()
            .filter(|m| m.required && m.prop != Prop::Cause)
            .filter(|m| !self.members.iter().any(|(p, _)| *p == m.prop))
            .map(|m| m.prop)
            .collect();
        let undeclared = self
            .members
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| !self.kind.declares(*p))
            .collect();
        (missing, undeclared)
    }
}
