//! The socket's side of the session: what the link's steps and the socket's events (closed,
//! failed, the network back, a check) do to the other parts. A borrow of the parts they touch,
//! made by `Live::connection`; the link decides, this carries it out.

use super::channels::Channels;
use super::clients::Clients;
use super::config::SessionConfig;
use super::link::{Link, Step};
use super::retry::Rng;
use super::types::{Output, SessionError};
use super::wire::{self, Wire};
use crate::clock::Now;

pub(super) struct Connection<'a> {
    pub config: &'a SessionConfig,
    pub link: &'a mut Link,
    pub channels: &'a mut Channels,
    pub wire: &'a mut Wire,
    pub clients: &'a Clients,
    pub rng: &'a mut Rng,
    pub out: &'a mut Vec<Output>,
}

impl Connection<'_> {
    /// Carries out what the link asked.
    pub fn step(&mut self, step: Step, now: Now) {
        match step {
            Step::Nothing => {}
            Step::Open(socket) => {
                let url = self.config.socket_url();
                self.out.push(Output::Open { url, socket });
            }
            Step::Heartbeat { deadline, next } => {
                let msg_ref = self.wire.heartbeat(self.out);
                self.link.heartbeat_sent(msg_ref, deadline, next);
            }
            Step::Drop(reason) => {
                self.close(reason);
                self.lose(now);
            }
        }
    }

    pub fn close(&mut self, reason: &str) {
        let reason = reason.into();
        self.out.push(Output::Close { code: 1000, reason });
    }

    /// The socket closed or failed (`why`: the browser would not open it, which every client
    /// is told; it is retried as a lost socket is).
    pub fn closed(&mut self, socket: u64, why: Option<String>, now: Now) {
        if !self.link.is_current(socket) {
            return;
        }
        if let Some(why) = why {
            let url = self.config.url.clone();
            self.report(SessionError::CannotOpen { url, why });
        }
        self.lose(now);
    }

    /// The one way a connection ends (`Link::lose`, `Channels::lost`). Sockets that keep
    /// failing before they open are diagnosed once (`Output::Diagnose`).
    fn lose(&mut self, now: Now) {
        let gap_from = self.link.lose(self.channels.wanted(), now, self.rng);
        let refused = self.config.refused_backoff;
        self.channels.lost(gap_from, now, refused, self.rng);
        if self.link.diagnose(now) {
            let url = self.config.diagnosis_url();
            self.out.push(Output::Diagnose { url });
        }
    }

    /// What the diagnosis request got: told to every client, unless a socket opened since.
    pub fn diagnosed(&mut self, status: u16, body: &str) {
        if self.link.still_failing() {
            let said = wire::said(body);
            self.report(SessionError::Refused { status, said });
        }
    }

    /// Checks the connection now (a wake, a resumed page).
    pub fn check(&mut self, now: Now) {
        let step = self.link.check(self.channels.wanted(), now, self.rng);
        self.step(step, now);
    }

    pub fn set_online(&mut self, online: bool, now: Now) {
        let wanted = self.channels.wanted();
        let step = self.link.set_online(online, wanted, now, self.rng);
        self.step(step, now);
    }

    fn report(&mut self, error: SessionError) {
        self.clients.tell(self.clients.everyone(), &error, self.out);
    }
}
