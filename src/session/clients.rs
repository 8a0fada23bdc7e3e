//! The clients a session serves: a tab on its own is client 0; a session shared by the tabs of
//! a browser has one client per tab (docs/tabs.md). Each client holds its own subscriptions and
//! is told its own status and `staleSince`, derived from the channels it holds.

use super::types::Status;
use super::SubscriptionId;
use crate::audience::ClientId;

/// One client, with what it was last told (derived state, kept only to report changes).
#[derive(Debug)]
pub struct Client {
    pub id: ClientId,
    /// The status last reported to it.
    pub status: Status,
    /// The `staleSince` last reported to it.
    pub stale: Option<i64>,
    /// While it is stale: when its next `poll` batch is due (monotonic).
    pub poll_at: Option<u64>,
}

impl Client {
    pub fn new(id: ClientId) -> Self {
        Client {
            id,
            status: Status::Connecting,
            stale: None,
            poll_at: None,
        }
    }
}

/// One `subscribe()`: whose, and to which channel.
#[derive(Debug)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub client: ClientId,
    pub topic: String,
}
