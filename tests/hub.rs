//! The host of the sessions a browser's tabs share (src/share/hub.rs), driven by tabs'
//! messages and a small Realtime server: tabs of one app and user share one socket and one
//! join per channel; each tab gets the batches of its own channels; another user or casino gets
//! another session; a session no tab uses is closed; token requests go to a tab that can answer.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use casino_realtime::clock::Now;
use casino_realtime::errors::{ErrorKind, ErrorReport};
use casino_realtime::json::{self, Value};
use casino_realtime::protocol::{decode_text, encode_text, Frame, Message, Vsn};
use casino_realtime::session::Output;
use casino_realtime::share::hub::{Hub, HubOutput, PortId, SessionRef, BEAT_MS};
use casino_realtime::share::message::{Hello, TabKind, ToHost, ToTab, PROTOCOL};
use common::fake_server::{broadcast_frame, CASINO};
use common::fixture;

const OTHER_CASINO: &str = "22222222-2222-4222-8222-222222222222";

/// A JWT (unsigned: the server here does not check) for `sub`, expiring at `exp` (seconds).
fn jwt(sub: &str, exp: u64) -> String {
    jwt_claims(&format!(r#"{{"sub":"{sub}","exp":{exp}}}"#))
}

/// A JWT of `sub` issued at `iat`, expiring at `exp` (seconds).
fn jwt_issued(sub: &str, iat: u64, exp: u64) -> String {
    jwt_claims(&format!(r#"{{"sub":"{sub}","iat":{iat},"exp":{exp}}}"#))
}

fn jwt_claims(claims: &str) -> String {
    let b64 = |s: &str| {
        const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let bytes = s.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
                << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    };
    format!(
        "{}.{}.sig",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(claims)
    )
}

/// Three tokens of one user, each issued later than the one before and expiring sooner: a
/// twelve-hour token, then shorter ones (lifetime never orders tokens; issue time does).
fn pit_boss_tokens() -> [String; 3] {
    [
        (3_999_000_000, 3_999_043_200),
        (3_999_000_600, 3_999_004_200),
        (3_999_001_200, 3_999_004_800),
    ]
    .map(|(iat, exp)| jwt_issued("pit-boss", iat, exp))
}

fn options(casino: &str) -> Value {
    json::parse(&format!(
        r#"{{"url":"ws://fake/realtime/v1","apiKey":"anon-key","casinoId":"{casino}"}}"#
    ))
    .unwrap()
}

fn hello(casino: &str, token: &str, subs: &[(u64, Option<&str>)]) -> String {
    ToHost::Hello(Hello {
        version: PROTOCOL,
        options: options(casino),
        token: Some(token.into()),
        token_source: true,
        subscriptions: subs
            .iter()
            .map(|(id, r)| (*id, r.map(str::to_owned)))
            .collect(),
        missed_since: None,
    })
    .encode()
}

/// The hub, its tabs' inboxes, and a server answering every socket it opens.
struct World {
    hub: Hub,
    now: u64,
    posts: Vec<(PortId, String)>,
    /// When each post was made (monotonic), beside `posts`.
    post_times: Vec<u64>,
    /// Per session: its open socket, and the topics joined with their join_ref.
    sockets: Vec<(SessionRef, u64)>,
    joins: Vec<(SessionRef, String, String)>,
    /// Tokens pushed to joined channels (`access_token`).
    tokens: Vec<String>,
    closes: Vec<SessionRef>,
}

fn wall(mono: u64) -> i64 {
    1_766_224_800_000 + mono as i64
}

impl World {
    fn new() -> Self {
        World {
            hub: Hub::new(42),
            now: 1_000,
            posts: Vec::new(),
            post_times: Vec::new(),
            sockets: Vec::new(),
            joins: Vec::new(),
            tokens: Vec::new(),
            closes: Vec::new(),
        }
    }

    fn clock(&self) -> Now {
        Now::new(self.now, wall(self.now))
    }

    fn tab(&mut self, port: PortId, text: &str) {
        let now = self.clock();
        self.hub.receive(port, text, now);
        self.pump();
    }

    fn advance(&mut self, ms: u64) {
        let until = self.now + ms;
        while let Some(d) = self.hub.deadline().filter(|&d| d <= until) {
            self.now = d.max(self.now);
            let now = self.clock();
            self.hub.tick(now);
            self.pump();
        }
        self.now = until;
    }

    fn pump(&mut self) {
        loop {
            let now = self.clock();
            let outputs = self.hub.drain(now);
            if outputs.is_empty() {
                return;
            }
            for output in outputs {
                match output {
                    HubOutput::Post { port, text } => {
                        self.posts.push((port, text));
                        self.post_times.push(self.now);
                    }
                    HubOutput::Socket { session, output } => self.server(session, output),
                }
            }
        }
    }

    fn server(&mut self, id: SessionRef, output: Output) {
        let now = self.clock();
        match output {
            Output::Open { socket, .. } => {
                self.sockets.push((id, socket));
                self.hub.session(id).unwrap().socket_opened(socket, now);
            }
            Output::Close { .. } => self.closes.push(id),
            Output::Send(text) => {
                let Ok(Frame::Message(m)) = decode_text(&text, Vsn::V2) else {
                    panic!("sent {text}")
                };
                let socket = self.sockets.iter().rev().find(|(s, _)| *s == id).unwrap().1;
                let reply = |status: &str, m: &Message| {
                    let payload = Value::Object(vec![
                        ("status".into(), status.into()),
                        ("response".into(), Value::Object(Vec::new())),
                    ]);
                    let frame = Frame::Message(Message {
                        join_ref: m.join_ref.clone(),
                        msg_ref: m.msg_ref.clone(),
                        topic: m.topic.clone(),
                        event: "phx_reply".into(),
                        payload,
                    });
                    encode_text(&frame, Vsn::V2).unwrap()
                };
                if m.event == "access_token" {
                    let token = m.payload.get("access_token").and_then(Value::as_str);
                    self.tokens.push(token.unwrap().to_owned());
                }
                if m.event == "phx_join" {
                    self.joins
                        .push((id, m.topic.clone(), m.join_ref.clone().unwrap()));
                }
                if matches!(m.event.as_str(), "phx_join" | "heartbeat" | "phx_leave") {
                    let text = reply("ok", &m);
                    self.hub.session(id).unwrap().text_frame(socket, &text, now);
                }
            }
            other => panic!("not a socket output: {other:?}"),
        }
    }

    /// The server broadcasts an event on a topic of session `id`.
    fn event(&mut self, id: SessionRef, topic: &str, event: &str, payload: &Value) {
        let bytes = broadcast_frame(topic, event, payload, None);
        let socket = self.sockets.iter().rev().find(|(s, _)| *s == id).unwrap().1;
        let now = self.clock();
        self.hub
            .session(id)
            .unwrap()
            .binary_frame(socket, &bytes, now);
        self.pump();
    }

    fn received(&self, port: PortId, kind: TabKind) -> Vec<String> {
        self.posts
            .iter()
            .filter(|(p, _)| *p == port)
            .filter_map(|(_, text)| match ToTab::split(text) {
                Ok((k, body)) if k == kind => Some(body.to_owned()),
                _ => None,
            })
            .collect()
    }

    fn joins_of(&self, topic: &str) -> usize {
        self.joins.iter().filter(|(_, t, _)| t == topic).count()
    }
}

fn topic(casino: &str, resource: Option<&str>) -> String {
    match resource {
        Some(r) => format!("realtime:{casino}:{r}"),
        None => format!("realtime:{casino}"),
    }
}

#[test]
fn tabs_of_one_app_and_user_share_one_socket_and_get_their_own_batches() {
    let mut w = World::new();
    let token = jwt("pit-boss", 4_000_000_000);
    w.tab(1, &hello(CASINO, &token, &[(1, None)]));
    w.tab(2, &hello(CASINO, &token, &[(1, Some("table-1"))]));
    w.tab(
        3,
        &hello(CASINO, &token, &[(1, None), (2, Some("table-1"))]),
    );
    assert_eq!((w.hub.sessions(), w.sockets.len()), (1, 1));
    for port in [1, 2, 3] {
        assert_eq!(
            w.received(port, TabKind::Ready),
            ["{}"],
            "tab {port} was told ready"
        );
    }
    assert_eq!(w.joins_of(&topic(CASINO, None)), 1);
    assert_eq!(w.joins_of(&topic(CASINO, Some("table-1"))), 1);
    for port in [1, 2, 3] {
        let statuses = w.received(port, TabKind::Status);
        assert_eq!(
            statuses.last().map(String::as_str),
            Some(r#"{"status":"connected","staleSince":null}"#),
            "tab {port}"
        );
    }

    let session = 1;
    let deactivated = fixture("table.deactivated");
    w.event(
        session,
        &topic(CASINO, None),
        "table.deactivated",
        &deactivated,
    );
    w.advance(1_000);
    let batches = |w: &World, port| w.received(port, TabKind::Batch).len();
    assert_eq!((batches(&w, 1), batches(&w, 2), batches(&w, 3)), (1, 0, 1));
    let fill = fixture("table.fill_requested");
    w.event(
        session,
        &topic(CASINO, Some("table-1")),
        "table.fill_requested",
        &fill,
    );
    w.advance(1_000);
    assert_eq!((batches(&w, 1), batches(&w, 2), batches(&w, 3)), (1, 1, 2));
    let batch = json::parse(&w.received(2, TabKind::Batch)[0]).unwrap();
    assert_eq!(batch.get("reason").and_then(Value::as_str), Some("window"));

    // A tab subscribing later shares the joined channel; unsubscribing leaves it to others.
    w.tab(
        2,
        &ToHost::Subscribe {
            id: 2,
            resource: None,
        }
        .encode(),
    );
    assert_eq!(w.joins_of(&topic(CASINO, None)), 1);
    w.tab(1, &ToHost::Bye.encode());
    w.tab(3, &ToHost::Bye.encode());
    w.advance(5_000);
    assert!(w.closes.is_empty(), "tab 2 still holds the session");
    w.event(
        session,
        &topic(CASINO, None),
        "table.deactivated",
        &deactivated,
    );
    w.advance(1_000);
    assert_eq!(batches(&w, 2), 2);
    // The last tab goes: the socket is closed and the session forgotten.
    w.hub.disconnect(2, w.clock());
    w.pump();
    assert_eq!((w.closes.as_slice(), w.hub.sessions()), (&[session][..], 0));
}

#[test]
fn another_user_or_casino_gets_another_session() {
    let mut w = World::new();
    let (boss, dealer) = (jwt("pit-boss", 4_000_000_000), jwt("dealer", 4_000_000_000));
    w.tab(1, &hello(CASINO, &boss, &[(1, None)]));
    w.tab(2, &hello(CASINO, &dealer, &[(1, None)]));
    w.tab(3, &hello(OTHER_CASINO, &boss, &[(1, None)]));
    assert_eq!((w.hub.sessions(), w.sockets.len()), (3, 3));
    // An event on one session reaches only its tab.
    w.event(
        1,
        &topic(CASINO, None),
        "table.deactivated",
        &fixture("table.deactivated"),
    );
    w.advance(1_000);
    let batches = |w: &World, port| w.received(port, TabKind::Batch).len();
    assert_eq!((batches(&w, 1), batches(&w, 2), batches(&w, 3)), (1, 0, 0));

    // The dealer's tab signs in as the pit boss: it moves to the pit boss's session.
    w.tab(2, &ToHost::SetAuth(boss.clone()).encode());
    assert_eq!(w.hub.sessions(), 2, "the dealer's session closed");
    assert!(w.closes.contains(&2));
    w.event(
        1,
        &topic(CASINO, None),
        "table.fill_requested",
        &fixture("table.fill_requested"),
    );
    w.advance(1_000);
    assert_eq!((batches(&w, 1), batches(&w, 2)), (2, 1));
}

#[test]
fn a_hello_installs_a_token_issued_later_whatever_its_lifetime_and_not_an_earlier_one() {
    let mut w = World::new();
    let [old, new, newest] = pit_boss_tokens();
    w.tab(1, &hello(CASINO, &new, &[(1, None)]));
    // A tab opened from a stale cache brings a token issued earlier (that expires later): the
    // session keeps the one issued later.
    w.tab(2, &hello(CASINO, &old, &[(1, None)]));
    assert!(
        w.tokens.is_empty(),
        "the token issued earlier is not pushed"
    );
    w.tab(3, &hello(CASINO, &newest, &[(1, None)]));
    assert_eq!(
        w.tokens,
        [newest],
        "one issued later is, though it expires sooner"
    );
    assert_eq!(w.joins_of(&topic(CASINO, None)), 1);
    let stats = json::parse(&{
        w.tab(2, &ToHost::Stats.encode());
        w.received(2, TabKind::Stats).pop().unwrap()
    })
    .unwrap();
    assert_eq!(
        stats.get("status").and_then(Value::as_str),
        Some("connected")
    );
    assert_eq!(
        stats
            .get("channels")
            .map(Value::to_json)
            .unwrap()
            .matches("\"subscribers\":3")
            .count(),
        1
    );
}

#[test]
fn token_requests_go_to_a_tab_that_can_answer() {
    let mut w = World::new();
    let token = jwt("pit-boss", 4_000_000_000);
    // The first tab has no getAccessToken; the second has.
    let first = ToHost::Hello(Hello {
        version: PROTOCOL,
        options: options(CASINO),
        token: Some(token.clone()),
        token_source: false,
        subscriptions: vec![(1, None)],
        missed_since: None,
    });
    w.tab(1, &first.encode());
    w.tab(2, &hello(CASINO, &token, &[(1, Some("table-1"))]));
    // The server says the token expired on the list feed.
    let join_ref = w
        .joins
        .iter()
        .find(|(_, t, _)| t == &topic(CASINO, None))
        .unwrap()
        .2
        .clone();
    let text = encode_text(
        &Frame::Message(Message {
            join_ref: Some(join_ref.clone()),
            msg_ref: None,
            topic: topic(CASINO, None),
            event: "system".into(),
            payload: json::parse(
                r#"{"status":"error","message":"Token has expired 0 seconds ago","extension":"system","channel":"x"}"#,
            )
            .unwrap(),
        }),
        Vsn::V2,
    )
    .unwrap();
    let now = w.clock();
    let socket = w.sockets[0].1;
    w.hub.session(1).unwrap().text_frame(socket, &text, now);
    let close = encode_text(
        &Frame::Message(Message {
            join_ref: Some(join_ref),
            msg_ref: None,
            topic: topic(CASINO, None),
            event: "phx_close".into(),
            payload: Value::Object(Vec::new()),
        }),
        Vsn::V2,
    )
    .unwrap();
    w.hub.session(1).unwrap().text_frame(socket, &close, now);
    w.pump();
    w.advance(100);
    assert!(w.received(1, TabKind::RequestToken).is_empty());
    let requests = w.received(2, TabKind::RequestToken);
    assert_eq!(requests.len(), 1, "asked the tab with getAccessToken");
    let id: u64 = requests[0].parse().unwrap();
    let fresh = jwt("pit-boss", 4_000_000_900);
    w.tab(
        2,
        &ToHost::Token {
            id,
            result: Ok(fresh),
        }
        .encode(),
    );
    w.advance(1_000);
    assert_eq!(
        w.joins_of(&topic(CASINO, None)),
        2,
        "joined again with the fresh token"
    );
}

#[test]
fn options_the_host_refuses_are_said_to_the_tab() {
    let mut w = World::new();
    w.tab(
        1,
        &hello("not-a-uuid", &jwt("x", 4_000_000_000), &[(1, None)]),
    );
    let refused = w.received(1, TabKind::Refused);
    assert_eq!(refused.len(), 1);
    let report = ErrorReport::from_json(&json::parse(&refused[0]).unwrap()).unwrap();
    assert_eq!(report.kind, ErrorKind::InvalidOptions);
    assert_eq!(
        report.message,
        "CasinoRealtime options: 'casinoId' must be a uuid, got \"not-a-uuid\""
    );
    assert!(w.received(1, TabKind::Ready).is_empty());
    assert_eq!(w.hub.sessions(), 0);
    // A client that never said hello here and sends what cannot be read (another version) is
    // told, so it moves on; a version this host does not speak is refused the same way.
    w.tab(1, "garbage");
    let mut old = ToHost::Hello(Hello {
        version: PROTOCOL + 1,
        options: options(CASINO),
        token: Some(jwt("x", 4_000_000_000)),
        token_source: false,
        subscriptions: vec![],
        missed_since: None,
    });
    w.tab(2, &old.encode());
    for port in [1, 2] {
        let refused = w.received(port, TabKind::Refused);
        let report =
            ErrorReport::from_json(&json::parse(refused.last().unwrap()).unwrap()).unwrap();
        assert_eq!(report.kind, ErrorKind::Host, "port {port}");
        assert!(
            report.message.contains("cannot serve"),
            "{}",
            report.message
        );
    }
    assert_eq!(w.hub.sessions(), 0);
    // From a client it serves, an unreadable message is dropped.
    if let ToHost::Hello(h) = &mut old {
        h.version = PROTOCOL;
    }
    w.tab(3, &old.encode());
    let before = w.posts.iter().filter(|(p, _)| *p == 3).count();
    w.tab(3, "{\"t\":\"launch\"}");
    assert_eq!(w.posts.iter().filter(|(p, _)| *p == 3).count(), before);
}

#[test]
fn the_host_beats_every_client_it_has_said_nothing_to() {
    let mut w = World::new();
    let token = jwt("pit-boss", 4_000_000_000);
    w.tab(1, &hello(CASINO, &token, &[(1, None)]));
    let tokenless = ToHost::Hello(Hello {
        version: PROTOCOL,
        options: options(CASINO),
        token: None,
        token_source: true,
        subscriptions: vec![],
        missed_since: None,
    });
    w.tab(2, &tokenless.encode());
    w.advance(10_000);
    for port in [1, 2] {
        let beats = w.received(port, TabKind::Beat).len();
        // At most a beat's time without a word: a beat when nothing else was said.
        assert!(
            (5..=(10_000 / BEAT_MS) as usize).contains(&beats),
            "port {port}: {beats} beats in 10 s"
        );
    }
    // Between two posts to a client there is never more than a beat's time.
    for port in [1, 2] {
        let times: Vec<u64> = w
            .posts
            .iter()
            .zip(&w.post_times)
            .filter(|((p, _), _)| *p == port)
            .map(|(_, t)| *t)
            .collect();
        let longest = times.windows(2).map(|t| t[1] - t[0]).max().unwrap();
        assert!(
            longest <= BEAT_MS,
            "port {port}: {longest} ms without a word"
        );
    }
    // A beat is the hub's own: it comes from its deadline, so a host whose timer never fires
    // (a trapped wasm) says nothing.
    let quiet = w.posts.len();
    w.now += 5_000;
    assert_eq!(w.posts.len(), quiet);
}

#[test]
fn set_auth_is_the_apps_latest_word_whatever_the_tokens_lifetime() {
    let mut w = World::new();
    let [twelve_hours, one_hour, _] = pit_boss_tokens();
    w.tab(1, &hello(CASINO, &twelve_hours, &[(1, None)]));
    w.tab(2, &hello(CASINO, &twelve_hours, &[(1, None)]));
    // A fresh one-hour token after a twelve-hour one (issue 20: it was dropped for expiring
    // sooner, and a refused terminal stayed denied).
    w.tab(2, &ToHost::SetAuth(one_hour.clone()).encode());
    assert_eq!(
        w.tokens,
        std::slice::from_ref(&one_hour),
        "taken, from any tab"
    );
    // The same token again changes nothing.
    w.tab(1, &ToHost::SetAuth(one_hour.clone()).encode());
    assert_eq!(w.tokens, [one_hour]);
}

#[test]
fn a_tab_without_a_token_is_asked_for_one_and_its_user_picks_the_session() {
    let mut w = World::new();
    let boss = jwt("pit-boss", 4_000_000_000);
    w.tab(1, &hello(CASINO, &boss, &[(1, None)]));
    let tokenless = ToHost::Hello(Hello {
        version: PROTOCOL,
        options: options(CASINO),
        token: None,
        token_source: true,
        subscriptions: vec![(1, Some("table-1".into()))],
        missed_since: None,
    });
    w.tab(2, &tokenless.encode());
    // The options are read at once; the session waits for the token.
    assert_eq!(w.received(2, TabKind::Ready), ["{}"]);
    assert_eq!(w.received(2, TabKind::RequestToken), ["0"]);
    assert_eq!(w.joins_of(&topic(CASINO, Some("table-1"))), 0);
    // What it does meanwhile is kept: another subscription, a flush, stats.
    let sub = ToHost::Subscribe {
        id: 2,
        resource: Some("table-2".into()),
    };
    w.tab(2, &sub.encode());
    w.tab(2, &ToHost::Flush { id: 9 }.encode());
    assert_eq!(w.received(2, TabKind::Flushed), ["9"]);
    w.tab(
        2,
        &ToHost::Token {
            id: 0,
            result: Ok(boss),
        }
        .encode(),
    );
    assert_eq!(w.hub.sessions(), 1, "the pit boss's session, shared");
    assert_eq!(w.joins_of(&topic(CASINO, Some("table-1"))), 1);
    assert_eq!(w.joins_of(&topic(CASINO, Some("table-2"))), 1);
    // A tab whose getAccessToken fails joins without a token (the key's claims).
    let mut other = tokenless.clone();
    if let ToHost::Hello(h) = &mut other {
        h.subscriptions = vec![(1, None)];
    }
    w.tab(3, &other.encode());
    w.tab(
        3,
        &ToHost::Token {
            id: 0,
            result: Err("getAccessToken failed: offline".into()),
        }
        .encode(),
    );
    assert_eq!(w.hub.sessions(), 2, "no user: a session of its own");
}

#[test]
fn a_flush_is_answered_after_its_batch() {
    let mut w = World::new();
    let token = jwt("pit-boss", 4_000_000_000);
    w.tab(1, &hello(CASINO, &token, &[(1, None)]));
    w.event(
        1,
        &topic(CASINO, None),
        "table.deactivated",
        &fixture("table.deactivated"),
    );
    let before = w.posts.len();
    w.tab(1, &ToHost::Flush { id: 4 }.encode());
    let after: Vec<&str> = w.posts[before..]
        .iter()
        .filter(|(p, _)| *p == 1)
        .map(|(_, text)| text.split('\n').next().unwrap())
        .collect();
    let batch = after.iter().position(|k| *k == "batch").expect("a batch");
    let flushed = after
        .iter()
        .position(|k| *k == "flushed")
        .expect("the answer");
    assert!(batch < flushed, "{after:?}");
    let body = w.received(1, TabKind::Batch).pop().unwrap();
    assert_eq!(
        json::parse(&body)
            .unwrap()
            .get("reason")
            .and_then(Value::as_str),
        Some("flush")
    );
    // Nothing pending: answered all the same.
    w.tab(1, &ToHost::Flush { id: 5 }.encode());
    assert_eq!(w.received(1, TabKind::Flushed), ["4", "5"]);
}

#[test]
fn options_that_mean_the_same_share_a_session_whatever_their_spelling() {
    let mut w = World::new();
    let token = jwt("pit-boss", 4_000_000_000);
    w.tab(1, &hello(CASINO, &token, &[(1, None)]));
    // Members in another order, and a default written out.
    let same = json::parse(&format!(
        r#"{{"casinoId":"{CASINO}","private":true,"apiKey":"anon-key","url":"ws://fake/realtime/v1","batch":{{"maxWaitMs":500}}}}"#
    ))
    .unwrap();
    let other_window = json::parse(&format!(
        r#"{{"url":"ws://fake/realtime/v1","apiKey":"anon-key","casinoId":"{CASINO}","batch":{{"maxWaitMs":300}}}}"#
    ))
    .unwrap();
    for (port, options) in [(2, same), (3, other_window)] {
        let message = ToHost::Hello(Hello {
            version: PROTOCOL,
            options,
            token: Some(token.clone()),
            token_source: true,
            subscriptions: vec![(1, None)],
            missed_since: None,
        });
        w.tab(port, &message.encode());
    }
    assert_eq!(
        w.hub.sessions(),
        2,
        "the same options share; another window does not"
    );
    assert_eq!(w.hub.tabs(1), 2);
}

#[test]
fn with_debug_each_tab_gets_the_inspectors_record_and_its_logger_lines() {
    let mut w = World::new();
    let token = jwt("pit-boss", 4_000_000_000);
    let debug = json::parse(&format!(
        r#"{{"url":"ws://fake/realtime/v1","apiKey":"anon-key","casinoId":"{CASINO}","debug":true,"logger":true}}"#
    ))
    .unwrap();
    let message = ToHost::Hello(Hello {
        version: PROTOCOL,
        options: debug,
        token: Some(token),
        token_source: false,
        subscriptions: vec![(1, None)],
        missed_since: None,
    });
    w.tab(1, &message.encode());
    w.event(
        1,
        &topic(CASINO, None),
        "table.deactivated",
        &fixture("table.deactivated"),
    );
    w.advance(1_000);
    let lines = w.received(1, TabKind::Log);
    let kinds: Vec<String> = lines
        .iter()
        .map(|l| {
            let line = json::parse(l).unwrap();
            assert!(line.get("record").is_some(), "{l}");
            line.get("kind").and_then(Value::as_str).unwrap().to_owned()
        })
        .collect();
    assert_eq!(kinds, ["event", "batch"]);
    let record = w.received(1, TabKind::Inspect).pop().expect("a record");
    let record = json::parse(&record).unwrap();
    assert!(record.get("events").is_some() && record.get("batches").is_some());
    assert!(record.to_json().contains(r#""fate":"applied""#));
}

#[test]
fn a_first_token_that_never_comes_places_the_tab_without_one() {
    let mut w = World::new();
    let tokenless = ToHost::Hello(Hello {
        version: PROTOCOL,
        options: options(CASINO),
        token: None,
        token_source: true,
        subscriptions: vec![(1, None)],
        missed_since: None,
    });
    w.tab(1, &tokenless.encode());
    assert_eq!(w.received(1, TabKind::RequestToken), ["0"]);
    w.advance(9_000);
    assert_eq!(w.hub.sessions(), 0, "still waiting");
    w.advance(1_500);
    assert_eq!(w.hub.sessions(), 1, "placed with no token after 10 s");
    // Its session asks for a token itself now, and times that request out on its own.
    assert_eq!(w.received(1, TabKind::RequestToken), ["0", "1"]);
    // A late answer changes nothing: it was no request of a session.
    w.tab(
        1,
        &ToHost::Token {
            id: 0,
            result: Ok(jwt("pit-boss", 4_000_000_000)),
        }
        .encode(),
    );
    assert!(w.tokens.is_empty());
}

#[test]
fn a_token_of_another_user_answers_no_request_and_moves_the_tab() {
    let mut w = World::new();
    let boss = jwt("pit-boss", 4_000_000_000);
    w.tab(1, &hello(CASINO, &boss, &[(1, None)]));
    w.tab(2, &hello(CASINO, &boss, &[(1, None)]));
    // The server says the token expired; the session asks a tab for a new one.
    let join_ref = w.joins[0].2.clone();
    let expired = encode_text(
        &Frame::Message(Message {
            join_ref: Some(join_ref.clone()),
            msg_ref: None,
            topic: topic(CASINO, None),
            event: "system".into(),
            payload: json::parse(
                r#"{"status":"error","message":"Token has expired 0 seconds ago","extension":"system","channel":"x"}"#,
            )
            .unwrap(),
        }),
        Vsn::V2,
    )
    .unwrap();
    let close = encode_text(
        &Frame::Message(Message {
            join_ref: Some(join_ref),
            msg_ref: None,
            topic: topic(CASINO, None),
            event: "phx_close".into(),
            payload: Value::Object(Vec::new()),
        }),
        Vsn::V2,
    )
    .unwrap();
    let now = w.clock();
    let socket = w.sockets[0].1;
    w.hub.session(1).unwrap().text_frame(socket, &expired, now);
    w.hub.session(1).unwrap().text_frame(socket, &close, now);
    w.pump();
    w.advance(100);
    let (port, id) = [1, 2]
        .into_iter()
        .find_map(|p| w.received(p, TabKind::RequestToken).pop().map(|r| (p, r)))
        .expect("a tab was asked");
    let id: u64 = id.parse().unwrap();
    // That tab's getAccessToken now gives the dealer's token (another user signed in there).
    let dealer = jwt("dealer", 4_000_000_000);
    w.tab(
        port,
        &ToHost::Token {
            id,
            result: Ok(dealer.clone()),
        }
        .encode(),
    );
    assert!(
        !w.tokens.contains(&dealer),
        "the pit boss's session never carries the dealer's token"
    );
    assert_eq!(w.hub.sessions(), 2, "the tab moved to the dealer's session");
    assert_eq!(w.hub.tabs(1), 1);
}
