//! The session host, as a sans-IO state machine: clients' messages and socket events in, posts to
//! clients and socket actions out. It runs wherever the session lives (a `SharedWorker`, the
//! tab that leads the others, or a page on its own, docs/tabs.md); the browser layer
//! (`host/`) only moves its bytes.
//!
//! Every manager is a client that says hello with its options; the hub reads and checks them
//! (`crate::options`), answers `ready` or `refused`, and places the client in the session of its
//! options and user (the token's `sub`), made for it if there is none. Clients of one session
//! share one socket and one join per channel, each event decoded and de-duplicated once; each
//! gets exactly the actions of its own subscriptions, its own status and errors. A client of
//! another user or casino is in another session, so it never gets their events. A client that
//! says hello without a token but can give one is asked for it first: its user picks the
//! session.

use super::message::{Hello, ToHost, ToTab, PROTOCOL};
use crate::audience::ClientId;
use crate::errors::{ErrorKind, ErrorReport, Prop};
use crate::json::Writer;
use crate::options::{self, Options};
use crate::session::{issued_ms, subject, Now, Output, Rng, Session, SubscriptionId};

/// A client's connection to the hub (a `MessagePort`, a tab on a `BroadcastChannel`, or a
/// manager in the same page).
pub type PortId = u64;

/// One of the hub's sessions, for the host's sockets.
pub type SessionRef = u64;

/// What the hub asks of its host.
#[derive(Debug, Clone, PartialEq)]
pub enum HubOutput {
    /// Post this text to the client at `port`.
    Post {
        /// The client.
        port: PortId,
        /// The message ([`ToTab::encode`]).
        text: String,
    },
    /// A network action of one session: `Open`, `Close` or `Send` on its socket, or the
    /// `Diagnose` request.
    Socket {
        /// The session whose socket it is.
        session: SessionRef,
        /// What to do.
        output: Output,
    },
}

/// Clients get a fresh `stats` snapshot (and, with `debug`, the inspector's record) at most
/// this often, and this long after a change at most: `stats()` is synchronous in a client, so
/// the snapshot must already be there.
pub const STATS_EVERY_MS: u64 = 200;

/// A client the hub has said nothing to for this long is sent a [`ToTab::Beat`]: from inside the
/// wasm, so a client knows within a few beats that its host is gone, wedged or trapped. Under a
/// second, so a leading tab that is hidden (whose timers the browser runs on whole seconds)
/// still beats every second, not every other one.
pub const BEAT_MS: u64 = 750;

/// How long a client asked for its first token waits for it: then it is placed without one (its
/// `getAccessToken` may never answer; the session will ask again when it needs a token).
pub const FIRST_TOKEN_WAIT_MS: u64 = 10_000;

/// Where a client is.
enum Place {
    /// Asked for its first token (at `since`, monotonic); its user picks the session.
    AwaitingToken { options: Box<Options>, since: u64 },
    /// A client of one session.
    In {
        session: SessionRef,
        client: ClientId,
        /// The client's number for each subscription, and the session's.
        subscriptions: Vec<(u64, SubscriptionId)>,
    },
}

/// A client, once it said hello.
struct Member {
    place: Place,
    token_source: bool,
    /// The token requests it was asked to answer: the session's, and its number there (a client
    /// that moved to another session still answers for the one that asked).
    asked: Vec<(SessionRef, u64)>,
    /// When the hub last posted to it (monotonic): it beats after [`BEAT_MS`] of silence.
    last_post: u64,
    /// Its hello, kept current (subscriptions, token), to place it again when its user
    /// changes (`setAuth`) or once its token comes.
    hello: Hello,
    identity: String,
}

struct Shared {
    id: SessionRef,
    identity: String,
    user: Option<String>,
    token: Option<String>,
    session: Session,
    /// Something may have changed its counts since its clients were last sent `stats`.
    stats_dirty: bool,
    /// When they were (monotonic).
    stats_sent: Option<u64>,
}

/// The sessions and the clients they serve.
pub struct Hub {
    sessions: Vec<Shared>,
    members: Vec<(PortId, Member)>,
    next_session: SessionRef,
    rng: Rng,
    out: Vec<HubOutput>,
}

/// Whether a tab's hello may install `token` over `current`: there was none, or it was issued no
/// earlier (JWT `iat`; a token without one counts as new). Its lifetime does not matter: a fresh
/// one-hour token replaces a twelve-hour one issued before it, and a tab opened from a stale cache
/// cannot put back a token issued before the one every channel carries. `setAuth` is the app's
/// latest word and is always taken.
fn issued_later(token: &str, current: Option<&str>) -> bool {
    match current {
        None => true,
        Some(current) if current == token => false,
        Some(current) => {
            issued_ms(token).unwrap_or(i64::MAX) >= issued_ms(current).unwrap_or(i64::MIN)
        }
    }
}

/// The refusal a client of another version (or whose message cannot be read) is sent: it takes
/// the next rung.
fn not_understood(why: &str) -> ErrorReport {
    ErrorReport::new(
        ErrorKind::Host,
        format!("casino-realtime: this host cannot serve the manager: {why}"),
    )
    .with(Prop::Reason, "refused")
}

impl Hub {
    /// An empty hub; `seed` drives its sessions' randomness (backoff jitter, the replay filter's
    /// keys).
    pub fn new(seed: u64) -> Self {
        Hub {
            sessions: Vec::new(),
            members: Vec::new(),
            next_session: 0,
            rng: Rng::new(seed),
            out: Vec::new(),
        }
    }

    /// Takes one message from the client at `port`. A message that cannot be read is ignored
    /// (a client of another version of the package).
    pub fn receive(&mut self, port: PortId, text: &str, now: Now) {
        let message = match ToHost::decode(text) {
            Ok(message) => message,
            // From a client that never said hello here (another version of the package, say):
            // it is told, so it moves on; from one that did, it is dropped.
            Err(bad) if !self.members.iter().any(|(p, _)| *p == port) => {
                let why = format!("its message could not be read ({})", bad.0);
                return self.refuse(port, not_understood(&why));
            }
            Err(_) => return,
        };
        if let ToHost::Hello(hello) = message {
            if hello.version != PROTOCOL {
                let why = format!(
                    "it speaks version {} of the messages, this host {PROTOCOL}",
                    hello.version
                );
                return self.refuse(port, not_understood(&why));
            }
            return self.hello(port, hello, now);
        }
        if matches!(message, ToHost::Bye) {
            return self.disconnect(port, now);
        }
        let Some(i) = self.members.iter().position(|(p, _)| *p == port) else {
            return;
        };
        if let Place::AwaitingToken { .. } = self.members[i].1.place {
            return self.before_placed(i, message, now);
        }
        let Place::In {
            session: session_id,
            client,
            ..
        } = self.members[i].1.place
        else {
            return;
        };
        match &message {
            ToHost::SetAuth(token) => {
                self.members[i].1.hello.token = Some(token.clone());
                let user = self.shared(session_id).and_then(|s| s.user.clone());
                if subject(token) != user {
                    // Another user: another session, with its subscriptions.
                    let mut hello = self.members[i].1.hello.clone();
                    hello.missed_since = None;
                    return self.hello(port, hello, now);
                }
            }
            ToHost::Flush { id } => {
                let id = *id;
                if let Some(shared) = self.sessions.iter_mut().find(|s| s.id == session_id) {
                    shared.session.flush_for(client, now);
                }
                // The batch goes out before the answer.
                self.pump(now);
                return self.post(Some(port), ToTab::Flushed(id));
            }
            ToHost::Token { id, result } => return self.answered(i, *id, result.clone(), now),
            _ => {}
        }
        let Some(shared) = self.sessions.iter_mut().find(|s| s.id == session_id) else {
            return;
        };
        shared.stats_dirty = true;
        let member = &mut self.members[i].1;
        let session = &mut shared.session;
        match message {
            ToHost::Subscribe { id, resource } => {
                if let Some(sub) = session.subscribe_for(client, resource.as_deref(), now) {
                    if let Place::In { subscriptions, .. } = &mut member.place {
                        subscriptions.push((id, sub));
                    }
                    member.hello.subscriptions.push((id, resource));
                }
            }
            ToHost::Unsubscribe { id } => {
                if let Place::In { subscriptions, .. } = &mut member.place {
                    if let Some(k) = subscriptions.iter().position(|(t, _)| *t == id) {
                        let (_, sub) = subscriptions.swap_remove(k);
                        session.unsubscribe(sub, now);
                    }
                }
                member.hello.subscriptions.retain(|(t, _)| *t != id);
            }
            // The app's latest word, whatever the token's lifetime.
            ToHost::SetAuth(token) if shared.token.as_deref() != Some(token.as_str()) => {
                session.set_auth(token.clone(), now);
                shared.token = Some(token);
            }
            ToHost::Online(online) => session.set_online(online, now),
            ToHost::Visible(visible) => session.set_visible(visible, now),
            ToHost::Resumed => session.resumed(now),
            ToHost::Stats => {
                let text = ToTab::Stats(stats_json(session, client, now)).encode();
                self.out.push(HubOutput::Post { port, text });
            }
            ToHost::SetAuth(_)
            | ToHost::Flush { .. }
            | ToHost::Token { .. }
            | ToHost::Hello(_)
            | ToHost::Bye => {}
        }
    }

    /// The answer of the client at `members[i]` to token request `id`: for the session that
    /// asked it. A token of another user is no answer for this session: the session is told so
    /// and the client moves to that user's session, as with `setAuth`.
    fn answered(&mut self, i: usize, id: u64, result: Result<String, String>, now: Now) {
        let member = &mut self.members[i].1;
        let Some(k) = member.asked.iter().position(|(_, r)| *r == id) else {
            // Not asked (or answered already): nothing to do.
            return;
        };
        let (asker, _) = member.asked.swap_remove(k);
        let current = member.session();
        let port = self.members[i].0;
        let Some(index) = self.sessions.iter().position(|s| s.id == asker) else {
            return;
        };
        let user = self.sessions[index].user.clone();
        let other_user = matches!(&result, Ok(token) if subject(token) != user);
        let shared = &mut self.sessions[index];
        if other_user {
            let reason = "getAccessToken gave a token of another user".to_owned();
            shared.session.token_result(id, Err(reason), now);
        } else {
            if let Ok(token) = &result {
                shared.token = Some(token.clone());
            }
            shared.session.token_result(id, result.clone(), now);
        }
        shared.stats_dirty = true;
        if let (true, Some(current), Ok(token)) = (other_user, current, result) {
            if current == asker {
                let mut hello = self.members[i].1.hello.clone();
                hello.token = Some(token);
                hello.missed_since = None;
                self.hello(port, hello, now);
            }
        }
    }

    /// A client waiting for its first token: what it does meanwhile is kept for its hello, and
    /// the token (or the news that there is none) places it.
    fn before_placed(&mut self, i: usize, message: ToHost, now: Now) {
        let port = self.members[i].0;
        let hello = &mut self.members[i].1.hello;
        match message {
            ToHost::Subscribe { id, resource } => hello.subscriptions.push((id, resource)),
            ToHost::Unsubscribe { id } => hello.subscriptions.retain(|(t, _)| *t != id),
            ToHost::SetAuth(token) => {
                hello.token = Some(token);
                self.place(i, now);
            }
            ToHost::Token { result, .. } => {
                hello.token = result.ok();
                self.place(i, now);
            }
            ToHost::Flush { id } => self.post(Some(port), ToTab::Flushed(id)),
            ToHost::Stats => {
                let stats = crate::session::SessionStats::default();
                let json = stats.to_json(crate::session::Status::Connecting);
                self.post(Some(port), ToTab::Stats(json));
            }
            ToHost::Online(_) | ToHost::Visible(_) | ToHost::Resumed => {}
            ToHost::Hello(_) | ToHost::Bye => {}
        }
    }

    /// A client says hello: its options are read and checked, then it joins the session of its
    /// options and user, or is asked for its token first.
    fn hello(&mut self, port: PortId, hello: Hello, now: Now) {
        // A client saying hello again (its user changed) leaves its session first.
        self.leave(port, now);
        let options = match options::read(&hello.options) {
            Ok(options) => options,
            Err(report) => return self.refuse(port, report),
        };
        self.post(Some(port), ToTab::Ready);
        let asks = hello.token.is_none() && hello.token_source;
        let member = Member {
            identity: options.identity().to_owned(),
            place: Place::AwaitingToken {
                options: Box::new(options),
                since: now.mono,
            },
            token_source: hello.token_source,
            asked: Vec::new(),
            last_post: now.mono,
            hello,
        };
        self.members.push((port, member));
        let i = self.members.len() - 1;
        if asks {
            // Its own request, not a session's: the answer places it, whatever its number.
            self.post(Some(port), ToTab::RequestToken(0));
        } else {
            self.place(i, now);
        }
    }

    /// Puts the client at `members[i]` in the session of its options and user, made for it if
    /// there is none.
    fn place(&mut self, i: usize, now: Now) {
        let Place::AwaitingToken { options, .. } = &self.members[i].1.place else {
            return;
        };
        let port = self.members[i].0;
        let hello = self.members[i].1.hello.clone();
        let identity = self.members[i].1.identity.clone();
        let user = hello.token.as_deref().and_then(subject);
        let found = self
            .sessions
            .iter()
            .position(|s| s.identity == identity && s.user == user);
        let index = match found {
            Some(index) => index,
            None => {
                let mut session =
                    options.session(hello.token.clone(), hello.token_source, self.rng.next_u64());
                // Sessions start with client 0 for a manager on its own; here every client is
                // added as it comes.
                session.remove_client(0, now);
                self.next_session += 1;
                self.sessions.push(Shared {
                    id: self.next_session,
                    identity,
                    user,
                    token: hello.token.clone(),
                    session,
                    stats_dirty: true,
                    stats_sent: None,
                });
                self.sessions.len() - 1
            }
        };
        let shared = &mut self.sessions[index];
        let Some(client) = shared.session.add_client(now) else {
            self.members.swap_remove(i);
            // The client takes the next rung.
            return self.refuse(port, not_understood("64 tabs share this session already"));
        };
        if let Some(token) = &hello.token {
            if issued_later(token, shared.token.as_deref()) {
                shared.session.set_auth(token.clone(), now);
                shared.token = Some(token.clone());
            }
        }
        let mut subscriptions = Vec::with_capacity(hello.subscriptions.len());
        for (id, resource) in &hello.subscriptions {
            let resource = resource.as_deref();
            let sub = match hello.missed_since {
                Some(missed) => shared.session.resume_for(client, resource, missed, now),
                None => shared.session.subscribe_for(client, resource, now),
            };
            if let Some(sub) = sub {
                subscriptions.push((*id, sub));
            }
        }
        shared.stats_dirty = true;
        // Its status in this session now, said once even if it never changes (a client that came
        // from a lost host reads `reconnecting` until told).
        let status = ToTab::Status {
            status: shared.session.status_of(client),
            stale_since: shared.session.stale_since_of(client),
        };
        self.members[i].1.place = Place::In {
            session: shared.id,
            client,
            subscriptions,
        };
        self.post(Some(port), status);
        self.token_sources(index, now);
    }

    /// The session may ask for a token while any of its clients can give one.
    fn token_sources(&mut self, index: usize, now: Now) {
        let id = self.sessions[index].id;
        let any = self
            .members
            .iter()
            .any(|(_, m)| m.session() == Some(id) && m.token_source);
        self.sessions[index].session.set_token_source(any, now);
    }

    fn refuse(&mut self, port: PortId, report: ErrorReport) {
        self.post(Some(port), ToTab::Refused(report));
    }

    /// The client at `port` is gone (its tab closed, or its manager closed): its subscriptions
    /// end, and a session no client uses any more is closed.
    pub fn disconnect(&mut self, port: PortId, now: Now) {
        self.leave(port, now);
    }

    fn leave(&mut self, port: PortId, now: Now) {
        let Some(i) = self.members.iter().position(|(p, _)| *p == port) else {
            return;
        };
        let (_, member) = self.members.swap_remove(i);
        if let Place::In {
            session, client, ..
        } = member.place
        {
            if let Some(index) = self.sessions.iter().position(|s| s.id == session) {
                self.sessions[index].session.remove_client(client, now);
                self.token_sources(index, now);
            }
        }
        self.pump(now);
    }

    /// Runs what is due in every session, and places the clients whose first token is late.
    pub fn tick(&mut self, now: Now) {
        for shared in &mut self.sessions {
            shared.session.tick(now);
            shared.stats_dirty = true;
        }
        while let Some(i) = self.members.iter().position(|(_, m)| {
            matches!(m.place, Place::AwaitingToken { since, .. } if since + FIRST_TOKEN_WAIT_MS <= now.mono)
        }) {
            self.place(i, now);
        }
    }

    /// When [`Hub::tick`] is next needed.
    pub fn deadline(&self) -> Option<u64> {
        let stats = self
            .sessions
            .iter()
            .filter(|s| s.stats_dirty)
            .map(|s| s.stats_sent.map_or(0, |t| t + STATS_EVERY_MS));
        let first_tokens = self.members.iter().filter_map(|(_, m)| match m.place {
            Place::AwaitingToken { since, .. } => Some(since + FIRST_TOKEN_WAIT_MS),
            Place::In { .. } => None,
        });
        let beats = self.members.iter().map(|(_, m)| m.last_post + BEAT_MS);
        self.sessions
            .iter()
            .filter_map(|s| s.session.deadline())
            .chain(stats)
            .chain(first_tokens)
            .chain(beats)
            .min()
    }

    /// A session, to feed it its socket's events.
    pub fn session(&mut self, id: SessionRef) -> Option<&mut Session> {
        let shared = self.sessions.iter_mut().find(|s| s.id == id)?;
        shared.stats_dirty = true;
        Some(&mut shared.session)
    }

    fn shared(&self, id: SessionRef) -> Option<&Shared> {
        self.sessions.iter().find(|s| s.id == id)
    }

    /// The clients a session serves.
    pub fn tabs(&self, id: SessionRef) -> usize {
        self.members
            .iter()
            .filter(|(_, m)| m.session() == Some(id))
            .count()
    }

    /// The sessions open.
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    /// Takes what the hub asks of its host, in order.
    pub fn drain(&mut self, now: Now) -> Vec<HubOutput> {
        self.pump(now);
        std::mem::take(&mut self.out)
    }

    /// Turns the sessions' outputs into posts and socket actions; closes sessions left empty.
    fn pump(&mut self, now: Now) {
        for index in 0..self.sessions.len() {
            let id = self.sessions[index].id;
            if self.tabs(id) == 0 {
                self.sessions[index].session.close(now);
            }
            loop {
                let outputs = self.sessions[index].session.drain();
                if outputs.is_empty() {
                    break;
                }
                for output in outputs {
                    self.route(index, output, now);
                }
            }
            let lines = self.sessions[index].session.take_log();
            for line in lines {
                let mut body = String::new();
                let mut w = Writer::new(&mut body);
                w.open('{').key("kind").string(line.kind);
                w.key("message").string(&line.message);
                w.key("record");
                body.push_str(&line.json);
                body.push('}');
                for port in self.ports(id) {
                    self.post(Some(port), ToTab::Log(body.clone()));
                }
            }
        }
        let members = &self.members;
        self.sessions
            .retain(|s| members.iter().any(|(_, m)| m.session() == Some(s.id)));
        self.send_stats(now);
        self.beat(now);
    }

    /// A beat to every client the hub has said nothing to for [`BEAT_MS`].
    fn beat(&mut self, now: Now) {
        let quiet: Vec<PortId> = self
            .members
            .iter()
            .filter(|(_, m)| m.last_post + BEAT_MS <= now.mono)
            .map(|(p, _)| *p)
            .collect();
        for port in quiet {
            self.post(Some(port), ToTab::Beat);
        }
        // What was posted counts as a beat too.
        let out = &self.out;
        for (port, member) in &mut self.members {
            if out
                .iter()
                .any(|o| matches!(o, HubOutput::Post { port: p, .. } if p == port))
            {
                member.last_post = now.mono;
            }
        }
    }

    fn ports(&self, session: SessionRef) -> Vec<PortId> {
        self.members
            .iter()
            .filter(|(_, m)| m.session() == Some(session))
            .map(|(p, _)| *p)
            .collect()
    }

    /// A fresh `stats` snapshot (and the inspector's record, with `debug`) to every client of
    /// a session whose counts may have changed, at most every [`STATS_EVERY_MS`].
    fn send_stats(&mut self, now: Now) {
        for index in 0..self.sessions.len() {
            let shared = &self.sessions[index];
            let due = shared
                .stats_sent
                .map_or(true, |t| now.mono >= t + STATS_EVERY_MS);
            if !shared.stats_dirty || !due {
                continue;
            }
            let id = shared.id;
            let record = shared.session.inspect();
            let clients: Vec<(PortId, ClientId)> = self
                .members
                .iter()
                .filter_map(|(p, m)| match m.place {
                    Place::In {
                        session, client, ..
                    } if session == id => Some((*p, client)),
                    _ => None,
                })
                .collect();
            for (port, client) in clients {
                let json = stats_json(&self.sessions[index].session, client, now);
                self.post(Some(port), ToTab::Stats(json));
                if let Some(record) = &record {
                    self.post(Some(port), ToTab::Inspect(record.clone()));
                }
            }
            let shared = &mut self.sessions[index];
            shared.stats_dirty = false;
            shared.stats_sent = Some(now.mono);
        }
    }

    fn port_of(&self, session: SessionRef, client: ClientId) -> Option<PortId> {
        self.members
            .iter()
            .find(|(_, m)| {
                matches!(m.place, Place::In { session: s, client: c, .. } if s == session && c == client)
            })
            .map(|(p, _)| *p)
    }

    fn post(&mut self, port: Option<PortId>, message: ToTab) {
        if let Some(port) = port {
            let text = message.encode();
            self.out.push(HubOutput::Post { port, text });
        }
    }

    fn route(&mut self, index: usize, output: Output, now: Now) {
        let id = self.sessions[index].id;
        match output {
            Output::Open { .. }
            | Output::Close { .. }
            | Output::Send(_)
            | Output::Diagnose { .. } => {
                self.out.push(HubOutput::Socket {
                    session: id,
                    output,
                });
            }
            Output::Batch(client, batch) => {
                let port = self.port_of(id, client);
                self.post(port, ToTab::Batch(batch.to_json()));
            }
            Output::Status(client, _) | Output::Stale(client, _) => {
                let Some(port) = self.port_of(id, client) else {
                    return;
                };
                let session = &self.sessions[index].session;
                let message = ToTab::Status {
                    status: session.status_of(client),
                    stale_since: session.stale_since_of(client),
                };
                // One message for a status and a staleness that changed together.
                let text = message.encode();
                if let Some(HubOutput::Post {
                    port: last,
                    text: previous,
                }) = self.out.last_mut()
                {
                    if *last == port && previous.starts_with("status\n") {
                        *previous = text;
                        return;
                    }
                }
                self.out.push(HubOutput::Post { port, text });
            }
            Output::Error(client, error) => {
                let port = self.port_of(id, client);
                self.post(port, ToTab::Error(error.report()));
            }
            Output::RequestToken { id: request } => {
                // Any client with a getAccessToken will do: the session is one user's.
                let asked = self
                    .members
                    .iter_mut()
                    .find(|(_, m)| m.session() == Some(id) && m.token_source)
                    .map(|(p, m)| {
                        m.asked.push((id, request));
                        *p
                    });
                match asked {
                    Some(port) => self.post(Some(port), ToTab::RequestToken(request)),
                    None => {
                        let reason = "no tab of this session has a getAccessToken".to_owned();
                        let session = &mut self.sessions[index].session;
                        session.token_result(request, Err(reason), now);
                    }
                }
            }
        }
    }
}

impl Member {
    fn session(&self) -> Option<SessionRef> {
        match self.place {
            Place::In { session, .. } => Some(session),
            Place::AwaitingToken { .. } => None,
        }
    }
}

/// A client's `stats()`: its channels, the session's counts.
pub fn stats_json(session: &Session, client: ClientId, now: Now) -> String {
    let stats = session.stats_of(client, now);
    stats.to_json(session.status_of(client))
}
