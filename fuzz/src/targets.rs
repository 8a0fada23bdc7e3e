//! What each target does with an input. Beyond "no panic", a few properties are checked where
//! they are cheap: what the JSON reader accepts, its writer writes back identically; an event the
//! catalog accepts, normalised, is accepted again.

use crate::corpus::TOPIC;
use casino_realtime::cache::RuleSet;
use casino_realtime::catalog::{parse_event, Uuid};
use casino_realtime::clock::Now;
use casino_realtime::json;
use casino_realtime::protocol::{decode_binary, decode_text, Vsn};
use casino_realtime::session::{Output, Session, SessionConfig, SessionParts};

pub const NAMES: &[&str] = &[
    "json", "text-v1", "text-v2", "binary", "event", "rules", "session",
];

pub struct Target {
    name: &'static str,
    rules: RuleSet,
    session: Option<Session>,
    now: u64,
    runs: u64,
}

fn text(input: &[u8]) -> String {
    String::from_utf8_lossy(input).into_owned()
}

/// A session joined to the casino's list feed on socket 1.
fn joined_session(now: u64) -> Session {
    let casino = Uuid::parse("11111111-1111-4111-8111-111111111111").unwrap();
    let config = SessionConfig::new("ws://fuzz/realtime/v1", "key", casino);
    let mut session = Session::new(SessionParts {
        token: Some("token".into()),
        seed: now,
        ..SessionParts::new(config)
    });
    let at = Now::new(now, 1_766_225_700_000 + now as i64);
    session.subscribe(None, at);
    let mut join_ref = None;
    for output in session.drain() {
        if let Output::Open { socket, .. } = output {
            session.socket_opened(socket, at);
        }
    }
    for output in session.drain() {
        if let Output::Send(frame) = output {
            if frame.contains("phx_join") {
                join_ref = frame.split('"').nth(1).map(str::to_owned);
            }
        }
    }
    let reply = format!(
        r#"["{0}","{0}","{TOPIC}","phx_reply",{{"status":"ok","response":{{}}}}]"#,
        join_ref.unwrap_or_default()
    );
    session.text_frame(1, &reply, at);
    session.drain();
    assert_eq!(
        session.status(),
        casino_realtime::session::Status::Connected,
        "the fuzzed session starts joined"
    );
    session
}

impl Target {
    pub fn new(name: &'static str) -> Self {
        Target {
            name,
            rules: RuleSet::defaults(),
            session: None,
            now: 0,
            runs: 0,
        }
    }

    pub fn run(&mut self, input: &[u8]) {
        self.runs += 1;
        match self.name {
            "json" => {
                if let Ok(value) = json::parse(&text(input)) {
                    let again = json::parse(&value.to_json()).expect("written JSON reads back");
                    assert_eq!(again, value, "JSON round trip");
                }
            }
            "text-v1" => drop(decode_text(&text(input), Vsn::V1)),
            "text-v2" => drop(decode_text(&text(input), Vsn::V2)),
            "binary" => drop(decode_binary(input)),
            "event" => {
                let text = text(input);
                let (name, payload) = text.split_once('\n').unwrap_or(("table.activated", &text));
                let Ok(payload) = json::parse(payload) else {
                    return;
                };
                if let Ok(event) = parse_event(name, &payload) {
                    let normal = event.to_json();
                    parse_event(name, &normal).expect("a normalised event is valid");
                    let _ = event.identity(Some("m"));
                    let _ = event.typed();
                }
                let _ = self.rules.plan(name, &payload);
            }
            "rules" => {
                if let Ok(value) = json::parse(&text(input)) {
                    if let Ok(rules) = RuleSet::with_overrides(&value) {
                        for (name, payload) in crate::corpus::fixtures().into_iter().take(3) {
                            let _ = rules.plan(&name, &payload);
                        }
                    }
                }
            }
            "session" => self.session(input),
            _ => unreachable!(),
        }
    }

    fn session(&mut self, input: &[u8]) {
        self.now += 7;
        if self.runs % 2_000 == 1 {
            self.session = None;
        }
        let now = self.now;
        let session = self.session.get_or_insert_with(|| joined_session(now));
        let at = Now::new(now, 1_766_225_700_000 + now as i64);
        match input.first() {
            Some(b'[') | Some(b'{') => session.text_frame(1, &text(input), at),
            _ => session.binary_frame(1, input, at),
        }
        if self.runs.is_multiple_of(16) {
            session.tick(at);
        }
        let mut lost = false;
        for output in session.drain() {
            if let Output::Batch(_, batch) = &output {
                let _ = batch.to_json();
            }
            lost |= matches!(output, Output::Open { .. } | Output::Close { .. });
        }
        if lost {
            self.session = None;
        }
    }
}
