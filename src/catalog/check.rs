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

/// Checks one member against its kind; `None` when the member is absent. The value is moved
/// through, not copied: the parsed payload is dropped after validation.
pub(crate) fn check(kind: FieldKind, value: Option<Value>) -> Result<Value, FieldError> {
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
    let valid = match (kind.ty, &value) {
        (FieldType::Timestamp, Value::String(s)) => parse_timestamp(s).is_some(),
        (FieldType::Date, Value::String(s)) => parse_date(s).is_some(),
        (FieldType::Integer, _) => is_safe_integer(&value),
        (FieldType::Number, Value::Number(_)) | (FieldType::Text, Value::String(_)) => true,
        (FieldType::Enum(allowed), Value::String(s)) => allowed.contains(&s.as_str()),
        _ => false,
    };
    if valid {
        return Ok(value);
    }
    let invalid = |value: &Value| FieldError::invalid(kind.expected(), value.preview(40));
    match (kind.ty, value) {
        (FieldType::Uuid, Value::String(mut s)) if Uuid::parse(&s).is_some() => {
            // The parser took either case; the cache keys get one.
            s.make_ascii_lowercase();
            Ok(Value::String(s))
        }
        (FieldType::Counts, Value::Object(members)) => {
            for (denomination, count) in &members {
                if !is_safe_integer(count) {
                    let mut segment = String::from("[");
                    write_string(&mut segment, denomination);
                    segment.push(']');
                    return Err(
                        FieldError::invalid("an integer", count.preview(40)).within(&segment)
                    );
                }
            }
            Ok(Value::Object(members))
        }
        (FieldType::Records(fields), Value::Array(items)) => {
            let mut records = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let values = check_record(fields, item).map_err(|e| e.within(&format!("[{i}]")))?;
                let members = fields
                    .iter()
                    .map(|f| f.name.to_owned())
                    .zip(values)
                    .collect();
                records.push(Value::Object(members));
            }
            Ok(Value::Array(records))
        }
        (_, value) => Err(invalid(&value)),
    }
}

/// Checks an object against a record's fields; returns their values in order, moved out of it.
pub(crate) fn check_record(fields: &[FieldSpec], value: Value) -> Result<Vec<Value>, FieldError> {
    let Value::Object(mut members) = value else {
        return Err(FieldError::invalid("an object", value.preview(40)));
    };
    let mut values = Vec::with_capacity(fields.len());
    for f in fields {
        // The last of repeated members counts, as in `JSON.parse`.
        let member = members
            .iter_mut()
            .rev()
            .find(|(k, _)| k == f.name)
            .map(|(_, v)| std::mem::replace(v, Value::Null));
        values.push(check(f.kind, member).map_err(|e| e.within(f.name))?);
    }
    Ok(values)
}
