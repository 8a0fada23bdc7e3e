//! The Rust types of catalog fields, for the typed event structs. They are built from values the
//! validator already accepted, so building cannot fail.

use super::kind::{FieldKind, FieldSpec, FieldType};
use super::time::parse_timestamp;
use crate::json::{Number, Value};
use std::fmt;

/// A catalog value type: what the catalog calls it, and how to take it from a checked value.
pub trait Field: Sized {
    /// The type as the catalog describes it.
    const KIND: FieldKind;
    /// The value, from a member the validator accepted for `KIND`.
    fn from_valid(value: &Value) -> Self;
}

/// Members that are `null` and members that are absent both read as `None`: producers differ on
/// whether they write out nulls, and neither loses information.
impl<T: Field> Field for Option<T> {
    const KIND: FieldKind = FieldKind {
        ty: T::KIND.ty,
        nullable: true,
    };

    fn from_valid(value: &Value) -> Self {
        match value {
            Value::Null => None,
            v => Some(T::from_valid(v)),
        }
    }
}

/// A uuid, kept as its 128 bits; written in lower case, hyphenated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid(pub u128);

impl Uuid {
    /// Parses the 8-4-4-4-12 hex form, either case.
    pub fn parse(text: &str) -> Option<Uuid> {
        let bytes = text.as_bytes();
        if bytes.len() != 36 {
            return None;
        }
        // Two 64-bit halves: wasm has no 128-bit shifts, and this runs for every uuid field.
        let (mut high, mut low) = (0u64, 0u64);
        for (i, &b) in bytes.iter().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                if b != b'-' {
                    return None;
                }
                continue;
            }
            let nibble = crate::json::hex_digit(b)?;
            // The first 16 hex digits (before byte 19) are the high half.
            let half = if i < 19 { &mut high } else { &mut low };
            *half = (*half << 4) | u64::from(nibble);
        }
        Some(Uuid((u128::from(high) << 64) | u128::from(low)))
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = [0u8; 36];
        let mut bits = self.0;
        for i in (0..36).rev() {
            if matches!(i, 8 | 13 | 18 | 23) {
                text[i] = b'-';
                continue;
            }
            text[i] = b"0123456789abcdef"[(bits & 0xf) as usize];
            bits >>= 4;
        }
        f.write_str(std::str::from_utf8(&text).unwrap_or_default())
    }
}

impl Field for Uuid {
    const KIND: FieldKind = FieldKind::of(FieldType::Uuid);

    fn from_valid(value: &Value) -> Self {
        value.as_str().and_then(Uuid::parse).unwrap_or_default()
    }
}

/// An instant: the text as sent and microseconds since the epoch, UTC.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timestamp {
    /// The text as sent.
    pub text: String,
    /// Microseconds since 1970-01-01T00:00:00Z.
    pub micros: i64,
}

impl Field for Timestamp {
    const KIND: FieldKind = FieldKind::of(FieldType::Timestamp);

    fn from_valid(value: &Value) -> Self {
        let text = value.as_str().unwrap_or_default();
        Timestamp {
            text: text.to_owned(),
            micros: parse_timestamp(text).unwrap_or_default(),
        }
    }
}

/// A calendar date such as a gaming day, `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Date(pub String);

impl Field for Date {
    const KIND: FieldKind = FieldKind::of(FieldType::Date);

    fn from_valid(value: &Value) -> Self {
        Date(value.as_str().unwrap_or_default().to_owned())
    }
}

impl Field for i64 {
    const KIND: FieldKind = FieldKind::of(FieldType::Integer);

    fn from_valid(value: &Value) -> Self {
        match value {
            Value::Number(n) => n.value() as i64,
            _ => 0,
        }
    }
}

impl Field for Number {
    const KIND: FieldKind = FieldKind::of(FieldType::Number);

    fn from_valid(value: &Value) -> Self {
        match value {
            Value::Number(n) => n.clone(),
            _ => Number::int(0),
        }
    }
}

impl Field for String {
    const KIND: FieldKind = FieldKind::of(FieldType::Text);

    fn from_valid(value: &Value) -> Self {
        value.as_str().unwrap_or_default().to_owned()
    }
}

/// Chip counts by denomination (`chipset`), in the order sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Counts(pub Vec<(String, i64)>);

impl Field for Counts {
    const KIND: FieldKind = FieldKind::of(FieldType::Counts);

    fn from_valid(value: &Value) -> Self {
        match value {
            Value::Object(members) => Counts(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), i64::from_valid(v)))
                    .collect(),
            ),
            _ => Counts::default(),
        }
    }
}

/// A record type: an event payload, or a record nested in one (an item of `pits`).
pub trait Record: Sized {
    /// The record's fields, in catalog order.
    const FIELDS: &'static [FieldSpec];
    /// The record, from checked members looked up by name.
    fn from_lookup<'a>(get: &dyn Fn(&str) -> Option<&'a Value>) -> Self;
}

impl<T: Record> Field for Vec<T> {
    const KIND: FieldKind = FieldKind::of(FieldType::Records(T::FIELDS));

    fn from_valid(value: &Value) -> Self {
        match value {
            Value::Array(items) => items
                .iter()
                .map(|item| T::from_lookup(&|name| item.get(name)))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Declares an enum of catalog strings with its `Field` impl.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// The catalog's strings, in catalog order.
            pub const VALUES: &'static [&'static str] = &[$($text),+];

            /// The catalog string of this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl $crate::catalog::Field for $name {
            const KIND: $crate::catalog::FieldKind =
                $crate::catalog::FieldKind::of($crate::catalog::FieldType::Enum(Self::VALUES));

            fn from_valid(value: &$crate::json::Value) -> Self {
                let variants = [$($name::$variant),+];
                let i = Self::VALUES.iter().position(|v| Some(*v) == value.as_str()).unwrap_or(0);
                variants[i]
            }
        }
    };
}
pub(crate) use string_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_normalise_to_lower_case() {
        let id = Uuid::parse("6F9619FF-8B86-D011-B42D-00C04FC964FF").unwrap();
        assert_eq!(id.to_string(), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
        assert_eq!(Uuid::parse(&id.to_string()), Some(id));
        for bad in [
            "",
            "6f9619ff8b86d011b42d00c04fc964ff",
            "6f9619ff-8b86-d011-b42d-00c04fc964fg",
            "{6f9619ff-8b86-d011-b42d-00c04fc964f}",
        ] {
            assert_eq!(Uuid::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn typescript_types_follow_the_catalog() {
        assert_eq!(Option::<Uuid>::KIND.typescript(), "string | null");
        assert_eq!(Counts::KIND.typescript(), "Record<string, number>");
        assert_eq!(i64::KIND.typescript(), "number");
        assert_eq!(Option::<Uuid>::KIND.expected(), "a uuid string or null");
    }
}
