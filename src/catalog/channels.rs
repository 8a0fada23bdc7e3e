//! Where each event is published (INT-002's "Channel" lines): the list feed `{casino_id}`, a
//! detail channel `{casino_id}:{resource_id}` named by one of the event's uuid fields, or the
//! internal worker-monitoring channel. The SQL `casino_realtime.emit` and the dev server's
//! producers route by this table.

use super::EventKind;

/// One channel an event goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// `{casino_id}`: the casino's list feed.
    List,
    /// `{casino_id}:{field}`: the detail view of the resource this field names.
    Detail(&'static str),
    /// The catalog's "Internal (worker monitoring)": [`INTERNAL_TOPIC`], read by server roles
    /// only.
    Internal,
}

/// The topic of the internal channel (no casino; no staff role may join it).
pub const INTERNAL_TOPIC: &str = "internal:worker-monitoring";

impl EventKind {
    /// The channels the catalog lists for this event, list feed first.
    pub fn channels(self) -> &'static [Channel] {
        use Channel::{Detail, Internal, List};
        match self {
            EventKind::VisitCreated
            | EventKind::RatingSlipCreated
            | EventKind::TableActivated
            | EventKind::TableDeactivated
            | EventKind::FloorLayoutActivated
            | EventKind::VisitCheckedIn => &[List],
            EventKind::VisitClosed | EventKind::VisitConverted | EventKind::VisitCheckedOut => {
                &[List, Detail("visit_id")]
            }
            EventKind::RatingSlipUpdated | EventKind::RatingSlipClosed => {
                &[List, Detail("rating_slip_id")]
            }
            EventKind::LoyaltyLedgerAppended | EventKind::FinanceTransactionCreated => {
                &[List, Detail("player_id")]
            }
            EventKind::LoyaltyBalanceUpdated => &[Detail("player_id")],
            EventKind::TableInventoryRundownRecorded => &[Detail("table_id")],
            EventKind::TableInventoryOpen
            | EventKind::TableInventoryClose
            | EventKind::TableFillRequested
            | EventKind::TableFillCompleted
            | EventKind::TableCreditRequested
            | EventKind::TableCreditCompleted
            | EventKind::TableDropRemoved
            | EventKind::TableDropDelivered => &[List, Detail("table_id")],
            EventKind::FinanceOutboxProcessed => &[Internal],
        }
    }
}
