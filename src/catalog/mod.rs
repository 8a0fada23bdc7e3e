//! The event catalog (INT-002): one typed struct per event, read from JSON with every field
//! checked, and the facts the rest of the SDK needs from an event: its casino, its time and its
//! identity.
//!
//! ```
//! use casino_realtime::catalog::{parse_event, DomainEvent};
//! use casino_realtime::json;
//!
//! let payload = json::parse(r#"{"table_id":"6f9619ff-8b86-d011-b42d-00c04fc964ff",
//!     "casino_id":"11111111-1111-4111-8111-111111111111","at":"2025-12-20T10:00:00Z"}"#).unwrap();
//! let event = parse_event("table.deactivated", &payload).unwrap();
//! assert_eq!(event.at_micros(), 1_766_224_800_000_000);
//! assert!(matches!(event.typed(), DomainEvent::TableDeactivated(_)));
//!
//! let bad = json::parse(r#"{"minutes_played":"ten"}"#).unwrap();
//! let err = parse_event("rating_slip.updated", &bad).unwrap_err();
//! assert_eq!(err.to_string(), "rating_slip.updated: field 'rating_slip_id' is required");
//! ```
//!
//! Members the catalog does not list are ignored, so producers can add fields without breaking
//! terminals; nullable members may be left out. Everything else must match the catalog.

#[macro_use]
pub(crate) mod record;
mod channels;
mod check;
mod error;
mod event;
mod events;
mod identity;
mod kind;
mod time;
mod typescript;
mod values;

pub use channels::{Channel, INTERNAL_TOPIC};
pub use error::{EventError, FieldError, Problem};
pub use event::Event;
pub use events::*;
pub use identity::{Identity, IdentityHasher};
pub use kind::{FieldKind, FieldSpec, FieldType};
pub use time::{format_timestamp, parse_date, parse_timestamp};
pub use typescript::typescript_declarations;
pub use values::{Counts, Date, Field, Record, Timestamp, Uuid};

use crate::json::Value;
use std::fmt;

impl EventKind {
    /// The field with this JSON name, if the event has one.
    pub fn field(self, name: &str) -> Option<&'static FieldSpec> {
        self.fields().iter().find(|f| f.name == name)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Looks the event up by name and validates its payload.
pub fn parse_event(name: &str, payload: &Value) -> Result<Event, EventError> {
    parse_event_owned(name, payload.clone())
}

/// As [`parse_event`], taking the payload: its values move into the event (the pipeline's way,
/// one allocation fewer per field).
pub fn parse_event_owned(name: &str, payload: Value) -> Result<Event, EventError> {
    let kind = EventKind::from_name(name).ok_or_else(|| EventError::Unknown {
        name: name.to_owned(),
    })?;
    kind.parse(payload)
}
