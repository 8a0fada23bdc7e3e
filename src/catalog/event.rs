//! A validated event: its kind and its field values, checked and normalised, in catalog order.
//! This is what the pipeline and the rules work with; [`Event::typed`] gives the struct.

use super::check::check_record;
use super::error::EventError;
use super::identity::{Identity, IdentityHasher};
use super::time::parse_timestamp;
use super::{DomainEvent, EventKind, Uuid};
use crate::json::{self, Value};

/// A catalog event that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    kind: EventKind,
    values: Vec<Value>,
    /// `None` only for the one event whose schema omits it (`finance.outbox_processed`).
    casino_id: Option<Uuid>,
    at_micros: i64,
}

impl EventKind {
    /// Validates a payload as this event, moving its values into the event.
    pub fn parse(self, payload: Value) -> Result<Event, EventError> {
        if !matches!(payload, Value::Object(_)) {
            return Err(EventError::NotAnObject {
                event: self,
                got: payload.preview(40),
            });
        }
        // The catalog's payloads repeat their name in `event`; when present it must agree.
        if let Some(named) = payload.get("event") {
            if named.as_str() != Some(self.name()) {
                return Err(EventError::WrongEvent {
                    event: self,
                    got: named.preview(60),
                });
            }
        }
        let values = check_record(self.fields(), payload)
            .map_err(|error| EventError::Field { event: self, error })?;
        let mut event = Event {
            kind: self,
            values,
            casino_id: None,
            at_micros: 0,
        };
        // Every catalog event has both, `casino_id` optional only where its schema omits it (a
        // test walks the catalog); the validator checked them.
        event.casino_id = event
            .field("casino_id")
            .and_then(Value::as_str)
            .and_then(Uuid::parse);
        event.at_micros = event
            .field("at")
            .and_then(Value::as_str)
            .and_then(parse_timestamp)
            .unwrap_or_default();
        Ok(event)
    }

    /// Validates JSON text as this event.
    pub fn parse_str(self, payload: &str) -> Result<Event, EventError> {
        let value =
            json::parse(payload).map_err(|error| EventError::NotJson { event: self, error })?;
        self.parse(value)
    }
}

impl Event {
    /// Which event this is.
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// The casino it names; `None` when it names none (then it belongs to its channel's).
    pub fn casino_id(&self) -> Option<Uuid> {
        self.casino_id
    }

    /// When it happened, in microseconds since the epoch (UTC).
    pub fn at_micros(&self) -> i64 {
        self.at_micros
    }

    /// When it happened, as sent.
    pub fn at(&self) -> &str {
        self.field("at").and_then(Value::as_str).unwrap_or_default()
    }

    /// A field's normalised value, by JSON name; `None` for names the event does not have.
    pub fn field(&self, name: &str) -> Option<&Value> {
        let i = self.kind.fields().iter().position(|f| f.name == name)?;
        self.values.get(i)
    }

    /// The payload as JSON, normalised (uuids in lower case, absent nullable fields as null).
    pub fn to_json(&self) -> Value {
        let names = self.kind.fields().iter().map(|f| f.name.to_owned());
        Value::Object(names.zip(self.values.iter().cloned()).collect())
    }

    /// `event + casino_id + primary id + at`, hashed (docs/design.md).
    pub fn natural_identity(&self) -> u64 {
        let mut hasher = IdentityHasher::new(self.kind.name());
        hasher.write(&self.casino_id.unwrap_or_default().0.to_le_bytes());
        for name in self.kind.identity_fields() {
            hasher.write(
                self.field(name)
                    .map(Value::to_json)
                    .unwrap_or_default()
                    .as_bytes(),
            );
            hasher.write(b"\0");
        }
        hasher.write(&self.at_micros.to_le_bytes());
        hasher.finish()
    }

    /// The identity of this delivery (see [`Identity`]).
    pub fn identity(&self, meta_id: Option<&str>) -> Identity {
        Identity::new(self.natural_identity(), meta_id)
    }

    /// The event as its typed struct.
    pub fn typed(&self) -> DomainEvent {
        DomainEvent::from_event(self)
    }
}
