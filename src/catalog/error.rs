//! What can be wrong with an event, said so that a person can fix the producer.

use super::EventKind;
use crate::errors::{ErrorKind, ErrorReport, Prop};
use crate::json::ParseError;
use std::fmt;

/// What is wrong with one field (or the payload itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A required member is absent.
    Missing,
    /// The member is there but is not what the catalog says.
    Invalid {
        /// What the catalog wants, as a phrase: "a uuid string", "an integer".
        expected: String,
        /// A short JSON rendering of what came instead.
        got: String,
    },
}

/// A problem at a path inside a payload (`minutes_played`, `pits[2].label`, `chipset["25"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path from the payload's top; empty for the value itself.
    pub path: String,
    /// What is wrong there.
    pub problem: Problem,
}

impl FieldError {
    pub(crate) fn invalid(expected: impl Into<String>, got: String) -> Self {
        FieldError {
            path: String::new(),
            problem: Problem::Invalid {
                expected: expected.into(),
                got,
            },
        }
    }

    /// Puts `segment` (a member name or `[i]`) in front of the path.
    pub(crate) fn within(mut self, segment: &str) -> Self {
        self.path = match (self.path.is_empty(), self.path.starts_with('[')) {
            (true, _) => segment.to_owned(),
            (false, true) => format!("{segment}{}", self.path),
            (false, false) => format!("{segment}.{}", self.path),
        };
        self
    }
}

/// Why an event was refused. Never a panic: every input yields a value or one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    /// The event name is not in the catalog.
    Unknown {
        /// The name that was given.
        name: String,
    },
    /// The payload is not JSON at all.
    NotJson {
        /// The event it was meant to be.
        event: EventKind,
        /// Where the text went wrong.
        error: ParseError,
    },
    /// The payload is JSON but not an object.
    NotAnObject {
        /// The event it was meant to be.
        event: EventKind,
        /// A short rendering of what came instead.
        got: String,
    },
    /// The payload's own `event` member names another event.
    WrongEvent {
        /// The event it was delivered as.
        event: EventKind,
        /// What the payload says it is.
        got: String,
    },
    /// A field is missing or does not match the catalog.
    Field {
        /// The event it was meant to be.
        event: EventKind,
        /// Which field, and what is wrong with it.
        error: FieldError,
    },
}

impl EventError {
    /// Its kind: `UnknownEventError` when the name is not in the catalog, else
    /// `InvalidEventError`.
    pub fn kind(&self) -> ErrorKind {
        match self {
            EventError::Unknown { .. } => ErrorKind::UnknownEvent,
            _ => ErrorKind::InvalidEvent,
        }
    }

    /// The error as JS gets it (`src/errors.rs`).
    pub fn report(&self) -> ErrorReport {
        let event = match self {
            EventError::Unknown { name } => name.as_str(),
            EventError::NotJson { event, .. }
            | EventError::NotAnObject { event, .. }
            | EventError::WrongEvent { event, .. }
            | EventError::Field { event, .. } => event.name(),
        };
        ErrorReport::new(self.kind(), self.to_string())
            .with(Prop::Reason, self.reason())
            .with(Prop::Event, event)
            .with_some(Prop::Field, self.field())
    }

    /// A stable, machine-readable reason, for counters and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            EventError::Unknown { .. } => "unknown_event",
            EventError::NotJson { .. } => "not_json",
            EventError::NotAnObject { .. } => "not_an_object",
            EventError::WrongEvent { .. } => "wrong_event",
            EventError::Field { error, .. } => match error.problem {
                Problem::Missing => "missing_field",
                Problem::Invalid { .. } => "invalid_field",
            },
        }
    }

    /// The catalog event concerned, when the name was known.
    pub fn event(&self) -> Option<EventKind> {
        match self {
            EventError::Unknown { .. } => None,
            EventError::NotJson { event, .. }
            | EventError::NotAnObject { event, .. }
            | EventError::WrongEvent { event, .. }
            | EventError::Field { event, .. } => Some(*event),
        }
    }

    /// The path of the offending field, for field errors.
    pub fn field(&self) -> Option<&str> {
        match self {
            EventError::Field { error, .. } => Some(&error.path),
            _ => None,
        }
    }
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::Unknown { name } => {
                let mut shown = String::new();
                crate::json::write_string(&mut shown, name);
                write!(f, "unknown event {shown}: not in the event catalog")
            }
            EventError::NotJson { event, error } => {
                write!(f, "{event}: payload is not JSON ({error})")
            }
            EventError::NotAnObject { event, got } => {
                write!(f, "{event}: payload must be an object, got {got}")
            }
            EventError::WrongEvent { event, got } => {
                write!(f, "{event}: payload's 'event' member says {got}")
            }
            EventError::Field { event, error } => match &error.problem {
                Problem::Missing => write!(f, "{event}: field '{}' is required", error.path),
                Problem::Invalid { expected, got } => {
                    write!(
                        f,
                        "{event}: field '{}' must be {expected}, got {got}",
                        error.path
                    )
                }
            },
        }
    }
}

impl std::error::Error for EventError {}
