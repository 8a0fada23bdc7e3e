//! Cache rules: which TanStack Query keys each catalog event touches.
//!
//! The default table (`defaults.json`, docs/design.md's table written in the rule format) and the
//! rules apps pass in are read by the same code, so every default is checked exactly as a user
//! rule would be. Apps override an event's actions or add to them:
//!
//! ```
//! use casino_realtime::cache::RuleSet;
//! use casino_realtime::json;
//!
//! let rules = json::parse(r#"{ "table.fill_requested": { "extend": [
//!     { "type": "invalidate", "queryKey": ["fills", "{casino_id}"] } ] } }"#).unwrap();
//! assert!(RuleSet::with_overrides(&rules).is_ok());
//!
//! let typo = json::parse(r#"{ "table.fill_requested": { "extend": [
//!     { "type": "invalidate", "queryKey": ["fills", "{casino}"] } ] } }"#).unwrap();
//! let err = RuleSet::with_overrides(&typo).unwrap_err();
//! assert!(err.to_string().starts_with(
//!     "rules[\"table.fill_requested\"].extend[0].queryKey[1]: table.fill_requested has no field 'casino'"));
//! ```

mod action;
mod hash;
mod keys;
mod table;
mod template;

pub use action::{actions_to_json, CacheAction, KeyPart, QueryKey, RefetchType};
pub use hash::key_hash;
pub use keys::{key_factory_js, key_factory_ts};
pub use table::markdown_table;
pub use template::{ActionTemplate, DataSource, KeyElem, KeyTemplate};

use crate::catalog::{parse_event, Event, EventError, EventKind};
use crate::errors::{ErrorKind, ErrorReport, Prop};
use crate::json::{self, Value};
use std::fmt;

/// A rule that cannot be used, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// Where in the rules object: `rules["visit.created"].extend[0].queryKey[2]`.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

impl RuleError {
    pub(crate) fn new(path: &str, message: String) -> Self {
        RuleError {
            path: path.to_owned(),
            message,
        }
    }
}

impl RuleError {
    /// The error as JS gets it (`src/errors.rs`).
    pub fn report(&self) -> ErrorReport {
        ErrorReport::new(ErrorKind::InvalidRules, self.to_string())
            .with(Prop::Reason, "invalid_rule")
            .with(Prop::Path, self.path.as_str())
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for RuleError {}

/// The actions for every catalog event.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    by_event: Vec<Vec<ActionTemplate>>,
}

impl Default for RuleSet {
    fn default() -> Self {
        RuleSet::defaults()
    }
}

impl RuleSet {
    /// docs/design.md's table.
    pub fn defaults() -> RuleSet {
        // A test asserts the table reads without error; a panic path here would only add the
        // Debug formatting machinery to the wasm.
        Self::read_defaults().unwrap_or_else(|_| RuleSet {
            by_event: EventKind::ALL.iter().map(|_| Vec::new()).collect(),
        })
    }

    /// Reads `defaults.json`, which ships inside the crate.
    fn read_defaults() -> Result<RuleSet, RuleError> {
        let mut rules = RuleSet {
            by_event: EventKind::ALL.iter().map(|_| Vec::new()).collect(),
        };
        let doc = json::parse(include_str!("defaults.json"))
            .map_err(|e| RuleError::new("defaults", e.to_string()))?;
        let Value::Object(events) = doc else {
            return Err(RuleError::new("defaults", "must be an object".to_owned()));
        };
        for (name, actions) in &events {
            let path = format!("defaults[\"{name}\"]");
            let kind = EventKind::from_name(name)
                .ok_or_else(|| RuleError::new(&path, "unknown event".to_owned()))?;
            rules.by_event[kind as usize] = parse_actions(kind, actions, &path)?;
        }
        Ok(rules)
    }

    /// The defaults with an app's changes. `overrides` maps event names to
    /// `{ "extend": [actions] }` (added after the defaults) or `{ "replace": [actions] }`
    /// (instead of them; `[]` turns an event's actions off).
    pub fn with_overrides(overrides: &Value) -> Result<RuleSet, RuleError> {
        let mut rules = RuleSet::defaults();
        let Value::Object(events) = overrides else {
            return Err(RuleError::new(
                "rules",
                format!(
                    "must be an object keyed by event name, got {}",
                    overrides.preview(40)
                ),
            ));
        };
        for (name, change) in events {
            let path = format!("rules[{}]", Value::from(name.as_str()).to_json());
            let kind = EventKind::from_name(name).ok_or_else(|| {
                RuleError::new(
                    &path,
                    format!("unknown event \"{name}\": not in the event catalog"),
                )
            })?;
            let (mode, actions) = match change {
                Value::Object(members) if members.len() == 1 => {
                    (members[0].0.as_str(), &members[0].1)
                }
                other => {
                    let msg = format!(
                        "must be {{ \"extend\": [...] }} or {{ \"replace\": [...] }}, got {}",
                        other.preview(60)
                    );
                    return Err(RuleError::new(&path, msg));
                }
            };
            let templates = parse_actions(kind, actions, &format!("{path}.{mode}"))?;
            let slot = &mut rules.by_event[kind as usize];
            match mode {
                "extend" => slot.extend(templates),
                "replace" => *slot = templates,
                _ => {
                    let msg = format!("must be {{ \"extend\": [...] }} or {{ \"replace\": [...] }}, not \"{mode}\"");
                    return Err(RuleError::new(&path, msg));
                }
            }
        }
        Ok(rules)
    }

    /// The templates for one event.
    pub fn templates(&self, kind: EventKind) -> &[ActionTemplate] {
        &self.by_event[kind as usize]
    }

    /// The actions for one validated event.
    pub fn actions(&self, event: &Event) -> Vec<CacheAction> {
        self.templates(event.kind())
            .iter()
            .filter_map(|t| t.expand(event))
            .collect()
    }

    /// Validates an event and returns its actions.
    pub fn plan(&self, event: &str, payload: &Value) -> Result<Vec<CacheAction>, EventError> {
        let event = parse_event(event, payload)?;
        Ok(self.actions(&event))
    }
}

fn parse_actions(
    kind: EventKind,
    actions: &Value,
    path: &str,
) -> Result<Vec<ActionTemplate>, RuleError> {
    let Value::Array(items) = actions else {
        return Err(RuleError::new(
            path,
            format!("must be an array of actions, got {}", actions.preview(40)),
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, a)| ActionTemplate::parse(kind, a, &format!("{path}[{i}]")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overrides(text: &str) -> Result<RuleSet, RuleError> {
        RuleSet::with_overrides(&json::parse(text).unwrap())
    }

    #[test]
    fn every_catalog_event_has_default_actions() {
        let rules = RuleSet::read_defaults().unwrap();
        for &kind in EventKind::ALL {
            assert!(
                !rules.templates(kind).is_empty(),
                "{kind} has no default rule"
            );
        }
    }

    #[test]
    fn extend_adds_and_replace_swaps() {
        let kind = EventKind::TableFillRequested;
        let base = RuleSet::defaults().templates(kind).len();
        let action = r#"[{ "type": "invalidate", "queryKey": ["fills", "{casino_id}"], "refetchType": "all" }]"#;
        let extended = overrides(&format!(
            r#"{{ "table.fill_requested": {{ "extend": {action} }} }}"#
        ))
        .unwrap();
        assert_eq!(extended.templates(kind).len(), base + 1);
        let replaced = overrides(&format!(
            r#"{{ "table.fill_requested": {{ "replace": {action} }} }}"#
        ))
        .unwrap();
        assert_eq!(replaced.templates(kind).len(), 1);
        let off = overrides(r#"{ "table.fill_requested": { "replace": [] } }"#).unwrap();
        assert!(off.templates(kind).is_empty());
    }

    #[test]
    fn bad_rules_say_where_and_what() {
        let cases = [
            (r#"[]"#, "rules: must be an object keyed by event name, got []"),
            (r#"{ "table.filled": { "extend": [] } }"#, "rules[\"table.filled\"]: unknown event \"table.filled\": not in the event catalog"),
            (r#"{ "table.deactivated": { "add": [] } }"#, "rules[\"table.deactivated\"]: must be { \"extend\": [...] } or { \"replace\": [...] }, not \"add\""),
            (r#"{ "table.deactivated": [] }"#, "rules[\"table.deactivated\"]: must be { \"extend\": [...] } or { \"replace\": [...] }, got []"),
            (r#"{ "table.deactivated": { "extend": {} } }"#, "rules[\"table.deactivated\"].extend: must be an array of actions, got {}"),
            (r#"{ "table.deactivated": { "extend": [{ "type": "refetch" }] } }"#, "rules[\"table.deactivated\"].extend[0].type: must be \"invalidate\", \"setQueryData\" or \"mergeQueryData\", got \"refetch\""),
            (r#"{ "table.deactivated": { "extend": [{ "type": "invalidate", "querykey": [] }] } }"#, "rules[\"table.deactivated\"].extend[0]: unknown member 'querykey' (\"invalidate\" actions take type, queryKey, refetchType)"),
            (r#"{ "table.deactivated": { "extend": [{ "type": "invalidate" }] } }"#, "rules[\"table.deactivated\"].extend[0].queryKey: is required"),
            (r#"{ "table.deactivated": { "extend": [{ "type": "invalidate", "queryKey": [] }] } }"#, "rules[\"table.deactivated\"].extend[0].queryKey: must not be empty: an empty key matches every query"),
            (r#"{ "table.deactivated": { "extend": [{ "type": "invalidate", "queryKey": ["t", "{pit}"] }] } }"#, "rules[\"table.deactivated\"].extend[0].queryKey[1]: table.deactivated has no field 'pit' (its fields: casino_id, table_id, at)"),
            (r#"{ "table.deactivated": { "extend": [{ "type": "invalidate", "queryKey": ["t-{table_id}"] }] } }"#, "rules[\"table.deactivated\"].extend[0].queryKey[0]: \"t-{table_id}\" mixes text and braces; an element is literal text or exactly '{field}'"),
            (r#"{ "table.deactivated": { "extend": [{ "type": "invalidate", "queryKey": [["a"]] }] } }"#, "rules[\"table.deactivated\"].extend[0].queryKey[0]: must be a string, number, boolean or null, got [\"a\"]"),
            (r#"{ "table.deactivated": { "extend": [{ "type": "invalidate", "queryKey": ["t"], "refetchType": "inactive" }] } }"#, "rules[\"table.deactivated\"].extend[0].refetchType: must be \"active\", \"all\" or \"none\", got \"inactive\""),
            (r#"{ "table.inventory_open": { "extend": [{ "type": "invalidate", "queryKey": ["t", "{chipset}"] }] } }"#, "rules[\"table.inventory_open\"].extend[0].queryKey[1]: '{chipset}' is an object of integer counts and cannot stand in a query key"),
            (r#"{ "loyalty.balance_updated": { "extend": [{ "type": "setQueryData", "queryKey": ["b"], "field": "points" }] } }"#, "rules[\"loyalty.balance_updated\"].extend[0].field: loyalty.balance_updated has no field 'points' (its fields: player_id, casino_id, balance, balance_delta, tier, at)"),
            (r#"{ "rating_slip.updated": { "extend": [{ "type": "mergeQueryData", "queryKey": ["s"], "fields": "status" }] } }"#, "rules[\"rating_slip.updated\"].extend[0].fields: must be an array of field names, got \"status\""),
        ];
        for (rules, expected) in cases {
            assert_eq!(
                overrides(rules).unwrap_err().to_string(),
                expected,
                "{rules}"
            );
        }
    }
}
