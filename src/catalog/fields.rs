//! The value types of catalog fields: how each is read from JSON, written back, described to
//! TypeScript and to rule templates, and fed into an event's identity.

use super::error::FieldError;
use super::identity::IdentityHasher;
use super::time::{parse_date, parse_timestamp};
use crate::json::{Number, Value, MAX_SAFE_INTEGER};
use std::fmt;

/// The shape of a field's value, as the catalog gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A uuid string (normalised to lower case).
    Uuid,
    /// An ISO 8601 timestamp with a UTC offset.
    Timestamp,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A number with no fractional part, within JavaScript's safe integers.
    Integer,
    /// Any finite number.
    Number,
    /// Any string.
    Text,
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
    /// An object of denomination → integer count (`Record<string, number>`).
    Counts,
    /// An array of records with these fields.
    Records(&'static [FieldSpec]),
}

/// A field's type and whether it may be `null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldKind {
    /// The value's shape.
    pub ty: FieldType,
    /// `null` is allowed (and so is leaving the member out).
    pub nullable: bool,
}

impl FieldKind {
    const fn of(ty: FieldType) -> Self {
        FieldKind {
            ty,
            nullable: false,
        }
    }

    /// A single value that can stand in a query key (not an object or array).
    pub fn is_scalar(&self) -> bool {
        !matches!(self.ty, FieldType::Counts | FieldType::Records(_))
    }

    /// The TypeScript type of the field.
    pub fn typescript(&self) -> String {
        let base = match self.ty {
            FieldType::Integer | FieldType::Number => "number".to_owned(),
            FieldType::Uuid | FieldType::Timestamp | FieldType::Date | FieldType::Text => {
                "string".to_owned()
            }
            FieldType::Enum(values) => values
                .iter()
                .map(|v| format!("\"{v}\""))
                .collect::<Vec<_>>()
                .join(" | "),
            FieldType::Counts => "Record<string, number>".to_owned(),
            FieldType::Records(fields) => {
                let members: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{}: {}", f.name, f.kind.typescript()))
                    .collect();
                format!("Array<{{ {} }}>", members.join("; "))
            }
        };
        if self.nullable {
            format!("{base} | null")
        } else {
            base
        }
    }

    /// What the catalog wants, as a phrase for error messages.
    fn expected(&self) -> String {
        let base = match self.ty {
            FieldType::Uuid => "a uuid string".to_owned(),
            FieldType::Timestamp => "an ISO 8601 timestamp with a UTC offset".to_owned(),
            FieldType::Date => "a date (YYYY-MM-DD)".to_owned(),
            FieldType::Integer => "an integer".to_owned(),
            FieldType::Number => "a number".to_owned(),
            FieldType::Text => "a string".to_owned(),
            FieldType::Enum(values) => {
                let quoted: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
                format!("one of {}", quoted.join(", "))
            }
            FieldType::Counts => "an object of integer counts".to_owned(),
            FieldType::Records(_) => "an array of objects".to_owned(),
        };
        if self.nullable {
            format!("{base} or null")
        } else {
            base
        }
    }
}

/// A named field of a record, as the catalog lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The JSON member name.
    pub name: &'static str,
    /// Its type.
    pub kind: FieldKind,
}

/// A catalog value type.
pub trait Field: Sized {
    /// The type as the catalog describes it.
    const KIND: FieldKind;
    /// Reads the member's value; `None` when the member is absent.
    fn read(value: Option<&Value>) -> Result<Self, FieldError>;
    /// Writes the value back as JSON.
    fn to_json(&self) -> Value;
    /// Feeds the value into an event identity.
    fn hash_identity(&self, hasher: &mut IdentityHasher) {
        hasher.write(self.to_json().to_json().as_bytes());
    }
}

/// Reads a required scalar, or says what was expected.
pub(crate) fn required<T>(
    value: Option<&Value>,
    read: impl FnOnce(&Value) -> Option<T>,
    kind: FieldKind,
) -> Result<T, FieldError> {
    let value = value.ok_or(FieldError {
        path: String::new(),
        problem: super::Problem::Missing,
    })?;
    read(value).ok_or_else(|| FieldError::invalid(kind.expected(), value.preview(40)))
}

/// Members that are `null` and members that are absent both read as `None`: producers differ on
/// whether they write out nulls, and neither loses information.
impl<T: Field> Field for Option<T> {
    const KIND: FieldKind = FieldKind {
        ty: T::KIND.ty,
        nullable: true,
    };

    fn read(value: Option<&Value>) -> Result<Self, FieldError> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(v) => T::read(Some(v)).map(Some).map_err(|e| match e.problem {
                super::Problem::Invalid { got, .. } if e.path.is_empty() => {
                    FieldError::invalid(Self::KIND.expected(), got)
                }
                _ => e,
            }),
        }
    }

    fn to_json(&self) -> Value {
        self.as_ref().map_or(Value::Null, Field::to_json)
    }

    fn hash_identity(&self, hasher: &mut IdentityHasher) {
        match self {
            Some(v) => v.hash_identity(hasher),
            None => hasher.write(b"\0null"),
        }
    }
}

/// A uuid, kept as its 128 bits; written in lower case, hyphenated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid(pub u128);

impl Uuid {
    /// Parses the 8-4-4-4-12 hex form, either case.
    pub fn parse(text: &str) -> Option<Uuid> {
        let bytes = text.as_bytes();
        if bytes.len() != 36 {
            return None;
        }
        let mut bits: u128 = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                if b != b'-' {
                    return None;
                }
                continue;
            }
            let nibble = (b as char).to_digit(16)?;
            bits = (bits << 4) | u128::from(nibble);
        }
        Some(Uuid(bits))
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = format!("{:032x}", self.0);
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }
}

impl Field for Uuid {
    const KIND: FieldKind = FieldKind::of(FieldType::Uuid);

    fn read(value: Option<&Value>) -> Result<Self, FieldError> {
        required(value, |v| v.as_str().and_then(Uuid::parse), Self::KIND)
    }

    fn to_json(&self) -> Value {
        Value::String(self.to_string())
    }

    fn hash_identity(&self, hasher: &mut IdentityHasher) {
        hasher.write(&self.0.to_le_bytes());
    }
}

/// An instant: the text as sent (written back unchanged) and microseconds since the epoch, UTC,
/// which is what ordering and identity use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    /// The text as sent.
    pub text: String,
    /// Microseconds since 1970-01-01T00:00:00Z.
    pub micros: i64,
}

impl Timestamp {
    /// Parses an RFC 3339 timestamp.
    pub fn parse(text: &str) -> Option<Timestamp> {
        parse_timestamp(text).map(|micros| Timestamp {
            text: text.to_owned(),
            micros,
        })
    }
}

impl Field for Timestamp {
    const KIND: FieldKind = FieldKind::of(FieldType::Timestamp);

    fn read(value: Option<&Value>) -> Result<Self, FieldError> {
        required(value, |v| v.as_str().and_then(Timestamp::parse), Self::KIND)
    }

    fn to_json(&self) -> Value {
        Value::String(self.text.clone())
    }

    fn hash_identity(&self, hasher: &mut IdentityHasher) {
        hasher.write(&self.micros.to_le_bytes());
    }
}

/// A calendar date such as a gaming day, `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Date(pub String);

impl Field for Date {
    const KIND: FieldKind = FieldKind::of(FieldType::Date);

    fn read(value: Option<&Value>) -> Result<Self, FieldError> {
        let read = |v: &Value| {
            v.as_str()
                .filter(|s| parse_date(s).is_some())
                .map(|s| Date(s.to_owned()))
        };
        required(value, read, Self::KIND)
    }

    fn to_json(&self) -> Value {
        Value::String(self.0.clone())
    }
}

impl Field for i64 {
    const KIND: FieldKind = FieldKind::of(FieldType::Integer);

    fn read(value: Option<&Value>) -> Result<Self, FieldError> {
        let read = |v: &Value| match v {
            Value::Number(n) if n.value().fract() == 0.0 && n.value().abs() <= MAX_SAFE_INTEGER => {
                Some(n.value() as i64)
            },
            _ => None,
        };
        required(value, read, Self::KIND)
    }

    fn to_json(&self) -> Value {
        Value::from(*self)
    }

    fn hash_identity(&self, hasher: &mut IdentityHasher) {
        hasher.write(&self.to_le_bytes());
    }
}

impl Field for Number {
    const KIND: FieldKind = FieldKind::of(FieldType::Number);

    fn read(value: Option<&Value>) -> Result<Self, FieldError> {
        let read = |v: &Value| match v {
            Value::Number(n) => Some(n.clone()),
            _ => None,
        };
        required(value, read, Self::KIND)
    }

    fn to_json(&self) -> Value {
        Value::Number(self.clone())
    }
}

impl Field for String {
    const KIND: FieldKind = FieldKind::of(FieldType::Text);

    fn read(value: Option<&Value>) -> Result<Self, FieldError> {
        required(value, |v| v.as_str().map(str::to_owned), Self::KIND)
    }

    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }

    fn hash_identity(&self, hasher: &mut IdentityHasher) {
        hasher.write(self.as_bytes());
        hasher.write(b"\0");
    }
}

/// Chip counts by denomination (`chipset`), in the order sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Counts(pub Vec<(String, i64)>);

impl Field for Counts {
    const KIND: FieldKind = FieldKind::of(FieldType::Counts);

    fn read(value: Option<&Value>) -> Result<Self, FieldError> {
        let members = match value {
            Some(Value::Object(members)) => members,
            _ => return required(value, |_| None, Self::KIND),
        };
        let mut counts = Vec::with_capacity(members.len());
        for (denomination, count) in members {
            let count = i64::read(Some(count)).map_err(|e| {
                let mut segment = String::from("[");
                crate::json::write_string(&mut segment, denomination);
                segment.push(']');
                e.within(&segment)
            })?;
            counts.push((denomination.clone(), count));
        }
        Ok(Counts(counts))
    }

    fn to_json(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(*v)))
                .collect(),
        )
    }
}

/// Fails unless `value` is an object. Shared by every record so the check is compiled once.
pub(crate) fn expect_object(value: &Value) -> Result<(), FieldError> {
    match value {
        Value::Object(_) => Ok(()),
        _ => Err(FieldError::invalid("an object", value.preview(40))),
    }
}

/// Reads member `name` of an object as a `T`. Not inlined: one copy per field type instead of
/// one per field keeps the 24 readers small in the `.wasm`.
#[inline(never)]
pub(crate) fn member<T: Field>(object: &Value, name: &'static str) -> Result<T, FieldError> {
    T::read(object.get(name)).map_err(|e| e.within(name))
}

/// A record type nested in an event (an item of `pits`, `table_slots`).
pub trait Record: Sized {
    /// The record's fields.
    const FIELDS: &'static [FieldSpec];
    /// Reads the record from a JSON object.
    fn read_object(value: &Value) -> Result<Self, FieldError>;
    /// Writes the record as a JSON object.
    fn to_json(&self) -> Value;
}

impl<T: Record> Field for Vec<T> {
    const KIND: FieldKind = FieldKind::of(FieldType::Records(T::FIELDS));

    fn read(value: Option<&Value>) -> Result<Self, FieldError> {
        let items = match value {
            Some(Value::Array(items)) => items,
            _ => return required(value, |_| None, Self::KIND),
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| T::read_object(item).map_err(|e| e.within(&format!("[{i}]"))))
            .collect()
    }

    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(Record::to_json).collect())
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
            const KIND: $crate::catalog::FieldKind = $crate::catalog::FieldKind {
                ty: $crate::catalog::FieldType::Enum(Self::VALUES),
                nullable: false,
            };

            fn read(value: Option<&$crate::json::Value>) -> Result<Self, $crate::catalog::FieldError> {
                let read = |v: &$crate::json::Value| match v.as_str()? {
                    $($text => Some($name::$variant),)+
                    _ => None,
                };
                $crate::catalog::fields::required(value, read, Self::KIND)
            }

            fn to_json(&self) -> $crate::json::Value {
                $crate::json::Value::from(self.as_str())
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
    fn integers_must_be_whole_and_safe() {
        let n = |t: &str| crate::json::parse(t).unwrap();
        assert_eq!(i64::read(Some(&n("10.0"))), Ok(10));
        assert!(i64::read(Some(&n("10.5"))).is_err());
        assert!(i64::read(Some(&n("9007199254740992"))).is_err());
        assert!(i64::read(Some(&Value::from("10"))).is_err());
    }

    #[test]
    fn nullable_fields_accept_null_and_absence_and_say_so_when_wrong() {
        assert_eq!(Option::<Uuid>::read(None), Ok(None));
        assert_eq!(Option::<Uuid>::read(Some(&Value::Null)), Ok(None));
        let err = Option::<Uuid>::read(Some(&Value::from(5))).unwrap_err();
        assert_eq!(
            err,
            FieldError::invalid("a uuid string or null", "5".into())
        );
    }

    #[test]
    fn typescript_types_follow_the_catalog() {
        assert_eq!(Option::<Uuid>::KIND.typescript(), "string | null");
        assert_eq!(Counts::KIND.typescript(), "Record<string, number>");
        assert_eq!(i64::KIND.typescript(), "number");
    }
}
