//! TypeScript declarations for what the app writes: cache rules. They mirror the rule format
//! the core reads from JSON (no Rust type has this shape: the core turns rules into templates);
//! tsify turns them into the `.d.ts`. What the SDK hands out (actions, batches, statuses,
//! stats) is declared by tsify on the core's own types (`cache::CacheAction`,
//! `batch::CacheBatch`, `session::SessionStats`, ...).
#![allow(dead_code)]

use tsify::Tsify;
use wasm_bindgen::prelude::*;

/// One action of a cache rule. Key elements are literals or exactly `"{field}"`, a scalar field
/// of the event; an action whose placeholder is null in an event is skipped for that event.
#[derive(Tsify)]
#[serde(tag = "type")]
pub enum RuleAction {
    /// Invalidate the expanded key (`refetchType` defaults to `"active"`).
    #[serde(rename = "invalidate", rename_all = "camelCase")]
    Invalidate {
        /// The key template.
        #[tsify(type = "unknown[]")]
        query_key: (),
        /// Which matching queries refetch now.
        #[tsify(optional)]
        #[tsify(type = "RefetchType")]
        refetch_type: Option<()>,
    },
    /// Set the expanded key to the value of `field`, or to the whole payload.
    #[serde(rename = "setQueryData", rename_all = "camelCase")]
    SetQueryData {
        /// The key template.
        #[tsify(type = "unknown[]")]
        query_key: (),
        /// The payload field written.
        #[tsify(optional)]
        field: Option<String>,
    },
    /// Merge `fields` of the payload (or all of it) into the cached object.
    #[serde(rename = "mergeQueryData", rename_all = "camelCase")]
    MergeQueryData {
        /// The key template.
        #[tsify(type = "unknown[]")]
        query_key: (),
        /// The payload fields merged.
        #[tsify(optional)]
        fields: Option<Vec<String>>,
    },
}

/// How an app changes one event's rules: `extend` adds after the defaults, `replace` swaps them
/// (`[]` turns the event's actions off).
#[derive(Tsify)]
#[serde(rename_all = "lowercase")]
pub enum RuleChange {
    /// Added after the defaults.
    Extend(Vec<RuleAction>),
    /// Instead of the defaults.
    Replace(Vec<RuleAction>),
}

#[wasm_bindgen(typescript_custom_section)]
const RULES_TS: &str = r#"
/** Changes to the default cache rules, by catalog event name. */
export type RuleOverrides = { [event: string]: RuleChange };
"#;
