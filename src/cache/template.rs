//! Rule templates: `{ type: 'invalidate', queryKey: ['fills', '{casino_id}'] }`, checked against
//! the event's fields when the rules are built, expanded per event afterwards.
//!
//! A key element is literal (string, number, boolean, null) or exactly `'{field}'`, naming a
//! scalar field of the event. When a placeholder's field is null in an event (a ghost visit's
//! `player_id`), the action is skipped for that event: a key with a hole in it would name some
//! other query.

use super::action::{CacheAction, KeyPart, QueryKey, RefetchType};
use super::RuleError;
use crate::catalog::{Event, EventKind, FieldSpec};
use crate::json::Value;

/// One element of a key template.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyElem {
    /// Used as written.
    Literal(KeyPart),
    /// Replaced by the event's value of this field.
    Field(&'static FieldSpec),
}

/// A query key with placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyTemplate(pub Vec<KeyElem>);

/// Where a data write's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSource {
    /// The whole payload.
    Payload,
    /// These fields of it.
    Fields(Vec<&'static FieldSpec>),
}

/// A rule's action before it meets an event.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionTemplate {
    /// Invalidate the expanded key.
    Invalidate {
        /// The key.
        key: KeyTemplate,
        /// Which matching queries refetch now.
        refetch: RefetchType,
    },
    /// Set the expanded key to one field's value, or to the whole payload.
    Set {
        /// The key.
        key: KeyTemplate,
        /// The field written; `None` for the whole payload.
        field: Option<&'static FieldSpec>,
    },
    /// Merge fields (or the whole payload) into the cached value.
    Merge {
        /// The key.
        key: KeyTemplate,
        /// What is merged.
        data: DataSource,
    },
}

impl KeyTemplate {
    fn expand(&self, event: &Event) -> Option<QueryKey> {
        let mut parts = Vec::with_capacity(self.0.len());
        for elem in &self.0 {
            parts.push(match elem {
                KeyElem::Literal(part) => part.clone(),
                KeyElem::Field(spec) => match KeyPart::from_value(event.field(spec.name)?)? {
                    KeyPart::Null => return None,
                    part => part,
                },
            });
        }
        Some(QueryKey(parts))
    }

    /// The fields whose null value makes the action skip.
    pub fn nullable_fields(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().filter_map(|e| match e {
            KeyElem::Field(spec) if spec.kind.nullable => Some(spec.name),
            _ => None,
        })
    }
}

impl ActionTemplate {
    /// The template's key.
    pub fn key(&self) -> &KeyTemplate {
        match self {
            ActionTemplate::Invalidate { key, .. }
            | ActionTemplate::Set { key, .. }
            | ActionTemplate::Merge { key, .. } => key,
        }
    }

    /// The action for this event, or `None` when a placeholder's field is null.
    pub fn expand(&self, event: &Event) -> Option<CacheAction> {
        let key = self.key().expand(event)?;
        let at = event.at_micros();
        Some(match self {
            ActionTemplate::Invalidate { refetch, .. } => CacheAction::Invalidate {
                key,
                refetch: *refetch,
            },
            ActionTemplate::Set {
                field: Some(spec), ..
            } => CacheAction::SetQueryData {
                key,
                data: event.field(spec.name)?.clone(),
                at,
            },
            ActionTemplate::Set { field: None, .. } => CacheAction::SetQueryData {
                key,
                data: event.to_json(),
                at,
            },
            ActionTemplate::Merge {
                data: DataSource::Fields(fields),
                ..
            } => {
                let data = fields
                    .iter()
                    .filter_map(|spec| {
                        Some((spec.name.to_owned(), event.field(spec.name)?.clone()))
                    })
                    .collect();
                CacheAction::MergeQueryData { key, data, at }
            }
            ActionTemplate::Merge {
                data: DataSource::Payload,
                ..
            } => {
                let data = match event.to_json() {
                    Value::Object(members) => members,
                    _ => Vec::new(),
                };
                CacheAction::MergeQueryData { key, data, at }
            }
        })
    }

    /// Reads one action of a rule. `path` locates it for error messages.
    pub fn parse(kind: EventKind, action: &Value, path: &str) -> Result<ActionTemplate, RuleError> {
        let Value::Object(members) = action else {
            return Err(RuleError::new(
                path,
                format!("an action must be an object, got {}", action.preview(60)),
            ));
        };
        let ty = action.get("type").and_then(Value::as_str);
        let allowed: &[&str] = match ty {
            Some("invalidate") => &["type", "queryKey", "refetchType"],
            Some("setQueryData") => &["type", "queryKey", "field"],
            Some("mergeQueryData") => &["type", "queryKey", "fields"],
            _ => {
                let got = action
                    .get("type")
                    .map_or("nothing".to_owned(), |t| t.preview(40));
                return Err(RuleError::new(
                    &format!("{path}.type"),
                    format!(
                        "must be \"invalidate\", \"setQueryData\" or \"mergeQueryData\", got {got}"
                    ),
                ));
            }
        };
        if let Some((name, _)) = members
            .iter()
            .find(|(name, _)| !allowed.contains(&name.as_str()))
        {
            let list = allowed.join(", ");
            return Err(RuleError::new(
                path,
                format!(
                    "unknown member '{name}' (\"{}\" actions take {list})",
                    ty.unwrap_or_default()
                ),
            ));
        }
        let key = parse_key(kind, action.get("queryKey"), &format!("{path}.queryKey"))?;
        match ty {
            Some("invalidate") => {
                let refetch = match action.get("refetchType") {
                    None => RefetchType::Active,
                    Some(v) => v.as_str().and_then(RefetchType::from_name).ok_or_else(|| {
                        RuleError::new(
                            &format!("{path}.refetchType"),
                            format!(
                                "must be \"active\", \"all\" or \"none\", got {}",
                                v.preview(40)
                            ),
                        )
                    })?,
                };
                Ok(ActionTemplate::Invalidate { key, refetch })
            }
            Some("setQueryData") => {
                let field = match action.get("field") {
                    None => None,
                    Some(v) => Some(field_named(kind, v, &format!("{path}.field"))?),
                };
                Ok(ActionTemplate::Set { key, field })
            }
            _ => {
                let data = match action.get("fields") {
                    None => DataSource::Payload,
                    Some(Value::Array(names)) => {
                        let fields = names
                            .iter()
                            .enumerate()
                            .map(|(i, v)| field_named(kind, v, &format!("{path}.fields[{i}]")))
                            .collect::<Result<_, _>>()?;
                        DataSource::Fields(fields)
                    }
                    Some(v) => {
                        let msg = format!("must be an array of field names, got {}", v.preview(40));
                        return Err(RuleError::new(&format!("{path}.fields"), msg));
                    }
                };
                Ok(ActionTemplate::Merge { key, data })
            }
        }
    }
}

/// The field `name` of event `kind`, or an error that lists the fields it does have.
fn field_named(kind: EventKind, name: &Value, path: &str) -> Result<&'static FieldSpec, RuleError> {
    let Some(text) = name.as_str() else {
        return Err(RuleError::new(
            path,
            format!("must be a field name, got {}", name.preview(40)),
        ));
    };
    kind.field(text).ok_or_else(|| {
        let fields: Vec<&str> = kind.fields().iter().map(|f| f.name).collect();
        RuleError::new(
            path,
            format!(
                "{kind} has no field '{text}' (its fields: {})",
                fields.join(", ")
            ),
        )
    })
}

fn parse_key(kind: EventKind, key: Option<&Value>, path: &str) -> Result<KeyTemplate, RuleError> {
    let items = match key {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(Value::Array(_)) => {
            return Err(RuleError::new(
                path,
                "must not be empty: an empty key matches every query".to_owned(),
            ))
        }
        Some(other) => {
            return Err(RuleError::new(
                path,
                format!("must be an array, got {}", other.preview(40)),
            ))
        }
        None => return Err(RuleError::new(path, "is required".to_owned())),
    };
    let mut elems = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let elem = match item {
            Value::String(s) if s.starts_with('{') && s.ends_with('}') && s.len() > 2 => {
                let name = s.get(1..s.len() - 1).unwrap_or_default();
                let spec = field_named(kind, &Value::from(name), &at)?;
                if !spec.kind.is_scalar() {
                    // The phrase event errors use, not the TypeScript type: the TypeScript
                    // writer then stays out of the wasm.
                    let what = spec.kind.expected();
                    return Err(RuleError::new(
                        &at,
                        format!("'{s}' is {what} and cannot stand in a query key"),
                    ));
                }
                KeyElem::Field(spec)
            }
            Value::String(s) if s.contains(['{', '}']) => {
                let msg = format!("\"{s}\" mixes text and braces; an element is literal text or exactly '{{field}}'");
                return Err(RuleError::new(&at, msg));
            }
            scalar => match KeyPart::from_value(scalar) {
                Some(part) => KeyElem::Literal(part),
                None => {
                    let msg = format!(
                        "must be a string, number, boolean or null, got {}",
                        scalar.preview(40)
                    );
                    return Err(RuleError::new(&at, msg));
                }
            },
        };
        elems.push(elem);
    }
    Ok(KeyTemplate(elems))
}
