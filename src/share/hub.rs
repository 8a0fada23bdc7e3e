//! The host of the sessions a browser's tabs share (docs/tabs.md), as a sans-IO state machine:
//! tabs' messages and socket events in, posts to tabs and socket actions out. It runs in a
//! `SharedWorker`, or in the tab that leads the others; the browser layer only moves its bytes.
//!
//! Tabs whose managers were made with the same options (URL, key, casino, rules, windows...)
//! for the same user (the token's `sub`) share one [`Session`]: one socket, one join per
//! channel, each event decoded and de-duplicated once. Each tab is a client of it: its batches
//! hold exactly the actions of its own subscriptions, and it is told its own status and errors.
//! A tab of another user or casino is in another session, so it never gets their events.

use super::message::{Hello, ToHost, ToTab};
use crate::audience::ClientId;
use crate::errors::{ErrorKind, ErrorReport};
use crate::session::{expiry_ms, subject, Now, Output, Session, SubscriptionId};

/// A tab's connection to the hub (a `MessagePort`, or a tab on a `BroadcastChannel`).
pub type PortId = u64;

/// One of the hub's sessions, for the host's sockets.
pub type SessionRef = u64;

/// What the hub asks of its host.
#[derive(Debug, Clone, PartialEq)]
pub enum HubOutput {
    /// Post this text to the tab at `port`.
    Post {
        /// The tab.
        port: PortId,
        /// The message ([`ToTab::encode`]).
        text: String,
    },
    /// A socket action of one session: `Open`, `Close` or `Send`.
    Socket {
        /// The session whose socket it is.
        session: SessionRef,
        /// What to do.
        output: Output,
    },
}

/// Makes the session for a first tab's options, or says why they are refused.
pub type MakeSession<'a> = &'a mut dyn FnMut(&Hello) -> Result<Session, ErrorReport>;

/// Tabs get a fresh `stats` snapshot at most this often (and this long after a change at
/// most): `stats()` is synchronous in a tab, so the snapshot must already be there.
const STATS_EVERY_MS: u64 = 200;

/// A tab, once it said hello: its session, its client there, and its subscriptions.
struct Member {
    session: SessionRef,
    client: ClientId,
    /// The tab's number for each subscription, and the session's.
    subscriptions: Vec<(u64, SubscriptionId)>,
    token_source: bool,
    /// Its hello, to move it to another session when its user changes (`setAuth`).
    hello: Hello,
}

struct Shared {
    id: SessionRef,
    options: String,
    user: Option<String>,
    token: Option<String>,
    session: Session,
    /// Something may have changed its counts since its tabs were last sent `stats`.
    stats_dirty: bool,
    /// When they were (monotonic).
    stats_sent: Option<u64>,
}

/// The sessions and the tabs they serve.
#[derive(Default)]
pub struct Hub {
    sessions: Vec<Shared>,
    members: Vec<(PortId, Member)>,
    next_session: SessionRef,
    out: Vec<HubOutput>,
}

/// Whether `token` is worth taking over `current`: there was none, or it expires later.
fn newer(token: &str, current: Option<&str>) -> bool {
    match current {
        None => true,
        Some(current) if current == token => false,
        Some(current) => expiry_ms(token).unwrap_or(i64::MAX) > expiry_ms(current).unwrap_or(0),
    }
}

impl Hub {
    /// An empty hub.
    pub fn new() -> Self {
        Hub::default()
    }

    /// Takes one message from the tab at `port`. A message that cannot be read is ignored
    /// (a tab of another version of the package). `make` builds a session for options no
    /// session has yet.
    pub fn receive(&mut self, port: PortId, text: &str, make: MakeSession<'_>, now: Now) {
        let Ok(message) = ToHost::decode(text) else {
            return;
        };
        if let ToHost::Hello(hello) = message {
            return self.hello(port, hello, make, now);
        }
        let Some(i) = self.members.iter().position(|(p, _)| *p == port) else {
            return;
        };
        let (session_id, client) = (self.members[i].1.session, self.members[i].1.client);
        if let ToHost::SetAuth(token) = &message {
            let user = self.shared(session_id).and_then(|s| s.user.clone());
            if subject(token) != user {
                // Another user: another session, with its subscriptions.
                let mut hello = self.members[i].1.hello.clone();
                hello.token = Some(token.clone());
                hello.missed_since = None;
                return self.hello(port, hello, make, now);
            }
        }
        if matches!(message, ToHost::Bye) {
            return self.disconnect(port, now);
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
                    member.subscriptions.push((id, sub));
                    member.hello.subscriptions.push((id, resource));
                }
            }
            ToHost::Unsubscribe { id } => {
                if let Some(k) = member.subscriptions.iter().position(|(t, _)| *t == id) {
                    let (_, sub) = member.subscriptions.swap_remove(k);
                    session.unsubscribe(sub, now);
                }
                member.hello.subscriptions.retain(|(t, _)| *t != id);
            }
            // Tabs renew their tokens on their own clocks: one still holding an older token
            // must not replace the newer one every channel carries.
            ToHost::SetAuth(token) if newer(&token, shared.token.as_deref()) => {
                session.set_auth(token.clone(), now);
                shared.token = Some(token);
            }
            ToHost::SetAuth(_) => {}
            ToHost::Flush => session.flush_for(client, now),
            ToHost::Token { id, result } => {
                if let Ok(token) = &result {
                    shared.token = Some(token.clone());
                }
                session.token_result(id, result, now);
            }
            ToHost::Online(online) => session.set_online(online, now),
            ToHost::Visible(visible) => session.set_visible(visible, now),
            ToHost::Resumed => session.resumed(now),
            ToHost::Stats => {
                let text = ToTab::Stats(stats_json(session, client, now)).encode();
                self.out.push(HubOutput::Post { port, text });
            }
            ToHost::Hello(_) | ToHost::Bye => {}
        }
    }

    /// A tab joins the session of its options and user, made for it if there is none.
    fn hello(&mut self, port: PortId, hello: Hello, make: MakeSession<'_>, now: Now) {
        // A tab saying hello again (its user changed) leaves its session first.
        self.leave(port, now);
        let user = hello.token.as_deref().and_then(subject);
        let found = self
            .sessions
            .iter()
            .position(|s| s.options == hello.options && s.user == user);
        let index = match found {
            Some(index) => index,
            None => match make(&hello) {
                Ok(mut session) => {
                    // Sessions start with client 0 for a tab on its own; here every tab is
                    // added as it comes.
                    session.remove_client(0, now);
                    self.next_session += 1;
                    self.sessions.push(Shared {
                        id: self.next_session,
                        options: hello.options.clone(),
                        user,
                        token: hello.token.clone(),
                        session,
                        stats_dirty: true,
                        stats_sent: None,
                    });
                    self.sessions.len() - 1
                }
                Err(report) => return self.refuse(port, report),
            },
        };
        let shared = &mut self.sessions[index];
        let Some(client) = shared.session.add_client(now) else {
            let report = ErrorReport::new(
                ErrorKind::InvalidOptions,
                "casino-realtime: 64 tabs share this session already; this one runs its own",
            );
            return self.refuse(port, report);
        };
        if let Some(token) = &hello.token {
            if newer(token, shared.token.as_deref()) {
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
        let member = Member {
            session: shared.id,
            client,
            subscriptions,
            token_source: hello.token_source,
            hello,
        };
        self.members.push((port, member));
        self.token_sources(index, now);
    }

    /// The session may ask for a token while any of its tabs can give one.
    fn token_sources(&mut self, index: usize, now: Now) {
        let id = self.sessions[index].id;
        let any = self
            .members
            .iter()
            .any(|(_, m)| m.session == id && m.token_source);
        self.sessions[index].session.set_token_source(any, now);
    }

    fn refuse(&mut self, port: PortId, report: ErrorReport) {
        let text = ToTab::Refused(report).encode();
        self.out.push(HubOutput::Post { port, text });
    }

    /// The tab at `port` is gone (closed, or its manager closed): its subscriptions end, and a
    /// session no tab uses any more is closed.
    pub fn disconnect(&mut self, port: PortId, now: Now) {
        self.leave(port, now);
    }

    fn leave(&mut self, port: PortId, now: Now) {
        let Some(i) = self.members.iter().position(|(p, _)| *p == port) else {
            return;
        };
        let (_, member) = self.members.swap_remove(i);
        if let Some(index) = self.sessions.iter().position(|s| s.id == member.session) {
            self.sessions[index]
                .session
                .remove_client(member.client, now);
            self.token_sources(index, now);
        }
        self.pump(now);
    }

    /// Runs what is due in every session.
    pub fn tick(&mut self, now: Now) {
        for shared in &mut self.sessions {
            shared.session.tick(now);
            shared.stats_dirty = true;
        }
    }

    /// When [`Hub::tick`] is next needed.
    pub fn deadline(&self) -> Option<u64> {
        let stats = self
            .sessions
            .iter()
            .filter(|s| s.stats_dirty)
            .map(|s| s.stats_sent.map_or(0, |t| t + STATS_EVERY_MS));
        self.sessions
            .iter()
            .filter_map(|s| s.session.deadline())
            .chain(stats)
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

    /// The tabs a session serves.
    pub fn tabs(&self, id: SessionRef) -> usize {
        self.members.iter().filter(|(_, m)| m.session == id).count()
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
        }
        let members = &self.members;
        self.sessions
            .retain(|s| members.iter().any(|(_, m)| m.session == s.id));
        self.send_stats(now);
    }

    /// A fresh `stats` snapshot to every tab of a session whose counts may have changed, at
    /// most every [`STATS_EVERY_MS`].
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
            let tabs: Vec<(PortId, ClientId)> = self
                .members
                .iter()
                .filter(|(_, m)| m.session == id)
                .map(|(p, m)| (*p, m.client))
                .collect();
            for (port, client) in tabs {
                let json = stats_json(&self.sessions[index].session, client, now);
                self.post(Some(port), ToTab::Stats(json));
            }
            let shared = &mut self.sessions[index];
            shared.stats_dirty = false;
            shared.stats_sent = Some(now.mono);
        }
    }

    fn port_of(&self, session: SessionRef, client: ClientId) -> Option<PortId> {
        self.members
            .iter()
            .find(|(_, m)| m.session == session && m.client == client)
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
            Output::Open { .. } | Output::Close { .. } | Output::Send(_) => {
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
                // Any tab with a getAccessToken will do: the session is one user's.
                let asked = self
                    .members
                    .iter()
                    .find(|(_, m)| m.session == id && m.token_source)
                    .map(|(p, _)| *p);
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

/// A client's `stats()`: its channels, the session's counts, and how many tabs share them.
pub fn stats_json(session: &Session, client: ClientId, now: Now) -> String {
    let stats = session.stats_of(client, now);
    stats.to_json(session.status_of(client))
}
