//! The macros that turn the catalog's field lists into typed structs: one list per event gives
//! the struct and its field table (which drives validation, rule templates and TypeScript), so
//! they cannot drift apart.

/// The JSON name of a field: its Rust name, or the literal after `as` (for `type`).
macro_rules! json_name {
    ($field:ident) => {
        stringify!($field)
    };
    ($field:ident $json:literal) => {
        $json
    };
}

/// A struct with a catalog field table: `Name { field: Type, rust_name as "json_name": Type }`.
macro_rules! record {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$fmeta:meta])* $field:ident $(as $json:literal)?: $ty:ty),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)+
        }

        impl $crate::catalog::Record for $name {
            const FIELDS: &'static [$crate::catalog::FieldSpec] = &[$(
                $crate::catalog::FieldSpec {
                    name: json_name!($field $($json)?),
                    kind: <$ty as $crate::catalog::Field>::KIND,
                },
            )+];

            fn from_lookup<'a>(get: &dyn Fn(&str) -> Option<&'a $crate::json::Value>) -> Self {
                $name {$(
                    $field: $crate::catalog::Field::from_valid(
                        get(json_name!($field $($json)?)).unwrap_or(&$crate::json::Value::Null),
                    ),
                )+}
            }
        }
    };
}

/// The whole catalog: each event's struct plus `EventKind` and `DomainEvent` over all of them.
/// `identity(...)` lists the fields that, after `event` and `casino_id` and before `at`, make the
/// event's natural identity (docs/design.md).
macro_rules! catalog {
    ($(
        $(#[$meta:meta])*
        $name:ident = $event:literal, identity($($id:ident),+) { $($fields:tt)+ }
    )+) => {
        $(
            record! { $(#[$meta])* $name { $($fields)+ } }

            impl $name {
                /// The event's catalog name.
                pub const EVENT: &'static str = $event;
            }
        )+

        /// The events of the catalog, by name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventKind {
            $(#[doc = concat!("`", $event, "`")] $name,)+
        }

        impl EventKind {
            /// Every event, in catalog order.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$name,)+];

            /// The catalog name, `domain.action`.
            pub fn name(self) -> &'static str {
                match self {
                    $(EventKind::$name => $event,)+
                }
            }

            /// The event with this catalog name.
            pub fn from_name(name: &str) -> Option<EventKind> {
                match name {
                    $($event => Some(EventKind::$name),)+
                    _ => None,
                }
            }

            /// The payload's fields, in catalog order.
            pub fn fields(self) -> &'static [$crate::catalog::FieldSpec] {
                match self {
                    $(EventKind::$name => <$name as $crate::catalog::Record>::FIELDS,)+
                }
            }

            /// The fields that make the natural identity, after `event` and `casino_id`.
            pub fn identity_fields(self) -> &'static [&'static str] {
                match self {
                    $(EventKind::$name => &[$(stringify!($id)),+],)+
                }
            }
        }

        /// One catalog event as its typed struct (see [`Event::typed`]).
        #[derive(Debug, Clone, PartialEq)]
        pub enum DomainEvent {
            $($(#[$meta])* $name($name),)+
        }

        impl DomainEvent {
            /// Which event this is.
            pub fn kind(&self) -> EventKind {
                match self {
                    $(DomainEvent::$name(_) => EventKind::$name,)+
                }
            }

            /// The casino the event names; `None` only where its schema omits it.
            pub fn casino_id(&self) -> Option<$crate::catalog::Uuid> {
                use $crate::catalog::record::NamedCasino;
                match self {
                    $(DomainEvent::$name(e) => e.casino_id.named(),)+
                }
            }

            /// When it happened.
            pub fn at(&self) -> &$crate::catalog::Timestamp {
                match self {
                    $(DomainEvent::$name(e) => &e.at,)+
                }
            }

            pub(super) fn from_event(event: &$crate::catalog::Event) -> DomainEvent {
                use $crate::catalog::Record;
                let get = |name: &str| event.field(name);
                match event.kind() {
                    $(EventKind::$name => DomainEvent::$name($name::from_lookup(&get)),)+
                }
            }
        }
    };
}

/// A `casino_id` field, required (`Uuid`) or, where the schema omits it, optional.
pub trait NamedCasino {
    /// The casino named, if any.
    fn named(&self) -> Option<super::Uuid>;
}

impl NamedCasino for super::Uuid {
    fn named(&self) -> Option<super::Uuid> {
        Some(*self)
    }
}

impl NamedCasino for Option<super::Uuid> {
    fn named(&self) -> Option<super::Uuid> {
        *self
    }
}
