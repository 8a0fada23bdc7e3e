//! The clients a session serves: a tab on its own is client 0; a session shared by the tabs of
//! a browser has one client per tab (docs/tabs.md). Each client holds its own subscriptions and
//! is told its own status and `staleSince` (derived from the channels it holds, `status.rs`),
//! and is polled while it is stale.

use super::types::{Output, SessionError, Status};
use super::SubscriptionId;
use crate::audience::{Audience, ClientId, MAX_CLIENTS};
use crate::clock::Now;

/// Who the session serves (client 0 from the start) and what they subscribed.
#[derive(Debug)]
pub(super) struct Clients {
    list: Vec<Client>,
    subscriptions: Vec<Subscription>,
    /// Subscription ids handed out.
    next_subscription: SubscriptionId,
}

/// One client, with what it was last told (derived state, kept only to report changes).
#[derive(Debug)]
pub(super) struct Client {
    id: ClientId,
    /// The status last reported to it.
    status: Status,
    /// The `staleSince` last reported to it.
    stale: Option<i64>,
    /// While it is stale: when its next `poll` batch is due (monotonic).
    poll_at: Option<u64>,
}

impl Client {
    fn new(id: ClientId) -> Self {
        Client {
            id,
            status: Status::Connecting,
            stale: None,
            poll_at: None,
        }
    }

    /// The status last reported to it.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The `staleSince` last reported to it.
    pub fn stale(&self) -> Option<i64> {
        self.stale
    }
}

/// One `subscribe()`: whose, and to which channel.
#[derive(Debug)]
struct Subscription {
    id: SubscriptionId,
    client: ClientId,
    topic: String,
}

impl Clients {
    pub fn new() -> Self {
        Clients {
            list: vec![Client::new(0)],
            subscriptions: Vec::new(),
            next_subscription: 0,
        }
    }

    pub fn get(&self, id: ClientId) -> Option<&Client> {
        self.list.iter().find(|c| c.id == id)
    }

    /// The clients served, in the order they are told things.
    pub fn ids(&self) -> impl Iterator<Item = ClientId> + '_ {
        self.list.iter().map(|c| c.id)
    }

    /// Every client served.
    pub fn everyone(&self) -> Audience {
        self.ids()
            .fold(Audience::NONE, |all, id| all.with(Audience::of(id)))
    }

    /// A new client, or `None` when [`MAX_CLIENTS`] are served.
    pub fn add(&mut self) -> Option<ClientId> {
        let id = (0..MAX_CLIENTS).find(|&id| self.get(id).is_none())?;
        self.list.push(Client::new(id));
        Some(id)
    }

    /// A client is gone: the subscriptions it held, to end; `None` if it was not served.
    pub fn remove(&mut self, id: ClientId) -> Option<Vec<SubscriptionId>> {
        let i = self.list.iter().position(|c| c.id == id)?;
        self.list.swap_remove(i);
        Some(
            self.subscriptions
                .iter()
                .filter(|s| s.client == id)
                .map(|s| s.id)
                .collect(),
        )
    }

    /// Records a subscription of `client` to `topic`.
    pub fn subscribe(&mut self, client: ClientId, topic: String) -> SubscriptionId {
        self.next_subscription += 1;
        let id = self.next_subscription;
        self.subscriptions.push(Subscription { id, client, topic });
        id
    }

    /// Ends a subscription: its topic and who still holds it; `None` if it had ended.
    pub fn unsubscribe(&mut self, id: SubscriptionId) -> Option<(String, Audience)> {
        let i = self.subscriptions.iter().position(|s| s.id == id)?;
        let Subscription { topic, .. } = self.subscriptions.swap_remove(i);
        let holders = self
            .subscriptions
            .iter()
            .filter(|s| s.topic == topic)
            .fold(Audience::NONE, |all, s| all.with(Audience::of(s.client)));
        Some((topic, holders))
    }

    /// When the next poll is due.
    pub fn deadline(&self) -> Option<u64> {
        self.list.iter().filter_map(|c| c.poll_at).min()
    }

    /// The clients whose poll is due (stale for a whole period); each is due again a period
    /// later.
    pub fn due_polls(&mut self, now: Now, period: u64) -> Vec<ClientId> {
        let mut due = Vec::new();
        for client in &mut self.list {
            let Some(at) = client.poll_at.filter(|&at| at <= now.mono) else {
                continue;
            };
            due.push(client.id);
            client.poll_at = Some(at.max(now.mono) + period);
        }
        due
    }

    /// Tells each client its status and `staleSince` (from `view`) if they changed. Polling
    /// starts `period` after a client went stale (never when 0), and stops when it is fresh.
    pub fn settle(
        &mut self,
        now: Now,
        period: u64,
        view: impl Fn(ClientId) -> (Status, Option<i64>),
        out: &mut Vec<Output>,
    ) {
        for client in &mut self.list {
            let id = client.id;
            let (status, stale) = view(id);
            if status != client.status {
                client.status = status;
                out.push(Output::Status(id, status));
            }
            if stale != client.stale {
                client.poll_at = match (stale, client.poll_at) {
                    (None, _) => None,
                    (Some(_), Some(at)) => Some(at),
                    (Some(_), None) => (period > 0).then_some(now.mono + period),
                };
                client.stale = stale;
                out.push(Output::Stale(id, stale));
            }
        }
    }

    /// Tells `to` (those of them still served) of an error.
    pub fn tell(&self, to: Audience, error: &SessionError, out: &mut Vec<Output>) {
        for client in to.and(self.everyone()).iter() {
            out.push(Output::Error(client, error.clone()));
        }
    }
}
