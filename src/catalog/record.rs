//! The macros that turn the catalog's field lists into typed structs: one list per event gives
//! the struct, its JSON reader and writer, its field table (for rule templates and TypeScript) and
//! its identity, so the four cannot drift apart.

/// The JSON name of a field: its Rust name, or the literal after `as` (for `type`).
macro_rules! json_name {
    ($field:ident) => {
        stringify!($field)
    };
    ($field:ident $json:literal) => {
        $json
    };
}

/// A struct read from a JSON object: `Name { field: Type, rust_name as "json_name": Type }`.
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

            fn read_object(
                value: &$crate::json::Value,
            ) -> Result<Self, $crate::catalog::FieldError> {
                $crate::catalog::fields::expect_object(value)?;
                Ok($name {$(
                    $field: $crate::catalog::fields::member(value, json_name!($field $($json)?))?,
                )+})
            }

            fn to_json(&self) -> $crate::json::Value {
                $crate::json::Value::Object(vec![$(
                    (json_name!($field $($json)?).to_owned(), $crate::catalog::Field::to_json(&self.$field)),
                )+])
            }
        }

        impl $name {
            /// The value of the field with this JSON name, if the record has one.
            pub fn field_value(&self, name: &str) -> Option<$crate::json::Value> {
                $(if name == json_name!($field $($json)?) {
                    return Some($crate::catalog::Field::to_json(&self.$field));
                })+
                None
            }
        }
    };
}

/// The whole catalog: each event's struct plus `EventKind` and `DomainEvent` over all of them.
/// `identity(...)` lists the fields that, after `event` and `casino_id` and before `at`, make the
/// event's natural identity (DESIGN.md).
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

                fn natural_identity(&self) -> u64 {
                    let mut hasher = $crate::catalog::IdentityHasher::new($event);
                    $crate::catalog::Field::hash_identity(&self.casino_id, &mut hasher);
                    $($crate::catalog::Field::hash_identity(&self.$id, &mut hasher);)+
                    $crate::catalog::Field::hash_identity(&self.at, &mut hasher);
                    hasher.finish()
                }
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

            pub(super) fn read(
                self,
                payload: &$crate::json::Value,
            ) -> Result<DomainEvent, $crate::catalog::FieldError> {
                use $crate::catalog::Record;
                match self {
                    $(EventKind::$name => $name::read_object(payload).map(DomainEvent::$name),)+
                }
            }
        }

        /// One validated catalog event.
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

            /// The casino the event belongs to.
            pub fn casino_id(&self) -> $crate::catalog::Uuid {
                match self {
                    $(DomainEvent::$name(e) => e.casino_id,)+
                }
            }

            /// When it happened.
            pub fn at(&self) -> &$crate::catalog::Timestamp {
                match self {
                    $(DomainEvent::$name(e) => &e.at,)+
                }
            }

            /// The value of a payload field, by JSON name.
            pub fn field_value(&self, name: &str) -> Option<$crate::json::Value> {
                match self {
                    $(DomainEvent::$name(e) => e.field_value(name),)+
                }
            }

            /// The payload as JSON (normalised: uuids in lower case).
            pub fn to_json(&self) -> $crate::json::Value {
                use $crate::catalog::Record;
                match self {
                    $(DomainEvent::$name(e) => e.to_json(),)+
                }
            }

            /// `event + casino_id + primary id + at`, hashed.
            pub fn natural_identity(&self) -> u64 {
                match self {
                    $(DomainEvent::$name(e) => e.natural_identity(),)+
                }
            }
        }
    };
}
