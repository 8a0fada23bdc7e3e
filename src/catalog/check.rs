//! The validator: one function, driven by the catalog's field tables, checks every event. It
//! returns the field values normalised (uuids in lower case, absent nullable members as `null`),
//! in catalog order.

use super::error::{FieldError, Problem};
use super::kind::{FieldKind, FieldSpec, FieldType};
use super::time::{parse_date, parse_timestamp};
use super::Uuid;
use crate::json::{write_string, Value, MAX_SAFE_INTEGER};

/// Whether a JSON number is an integer JavaScript represents exactly.
pub(crate) fn is_safe_integer(value: &Value) -> bool {
    matches!(value, Value::Number(n) if n.value().fract() == 0.0 && n.value().abs() <= MAX_SAFE_INTEGER)
}

/// Checks one member against its kind; `None` when the member is absent.
pub(crate) fn check(kind: FieldKind, value: Option<&Value>) -> Result<Value, FieldError> {
    let value = match value {
        None | Some(Value::Null) if kind.nullable => return Ok(Value::Null),
        None => {
            return Err(FieldError {
                path: String::new(),
                problem: Problem::Missing,
            })
        }
        Some(value) => value,
    };
    let checked = match (kind.ty, value) {
        (FieldType::Uuid, Value::String(s)) => {
            Uuid::parse(s).map(|id| Value::String(id.to_string()))
        }
        (FieldType::Timestamp, Value::String(s)) => parse_timestamp(s).map(|_| value.clone()),
        (FieldType::Date, Value::String(s)) => parse_date(s).map(|_| value.clone()),
        (FieldType::Integer, _) => is_safe_integer(value).then(|| value.clone()),
        (FieldType::Number, Value::Number(_)) | (FieldType::Text, Value::String(_)) => {
            Some(value.clone())
        }
        (FieldType::Enum(allowed), Value::String(s)) => {
            allowed.contains(&s.as_str()).then(|| value.clone())
        }
        (FieldType::Counts, Value::Object(members)) => {
            for (denomination, count) in members {
                if !is_safe_integer(count) {
                    let mut segment = String::from("[");
                    write_string(&mut segment, denomination);
                    segment.push(']');
                    return Err(
                        FieldError::invalid("an integer", count.preview(40)).within(&segment)
                    );
                }
            }
            Some(value.clone())
        }
        (FieldType::Records(fields), Value::Array(items)) => {
            let mut records = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let values = check_record(fields, item).map_err(|e| e.within(&format!("[{i}]")))?;
                let members = fields
                    .iter()
                    .map(|f| f.name.to_owned())
                    .zip(values)
                    .collect();
                records.push(Value::Object(members));
            }
            Some(Value::Array(records))
        }
        _ => None,
    };
    checked.ok_or_else(|| FieldError::invalid(kind.expected(), value.preview(40)))
}

/// Checks an object against a record's fields; returns their values in order.
pub(crate) fn check_record(fields: &[FieldSpec], value: &Value) -> Result<Vec<Value>, FieldError> {
    if !matches!(value, Value::Object(_)) {
        return Err(FieldError::invalid("an object", value.preview(40)));
    }
    fields
        .iter()
        .map(|f| check(f.kind, value.get(f.name)).map_err(|e| e.within(f.name)))
        .collect()
}
