//! TypeScript declarations for the values that cross the boundary as JSON. These types are
//! never built in Rust (the core writes the JSON); tsify turns them into the `.d.ts`, and the
//! wasm tests check that what the core writes has these shapes.
#![allow(dead_code)]

use tsify::Tsify;
use wasm_bindgen::prelude::*;

/// TanStack's `refetchType` for an invalidation.
#[derive(Tsify)]
#[serde(rename_all = "lowercase")]
pub enum RefetchType {
    /// Refetch matching queries that are on screen.
    Active,
    /// Refetch every matching query.
    All,
    /// Only mark them stale.
    None,
}

/// One thing to do to a TanStack `QueryClient`.
#[derive(Tsify)]
#[serde(tag = "type")]
pub enum CacheAction {
    /// `queryClient.invalidateQueries({ queryKey, refetchType })`.
    #[serde(rename = "invalidate", rename_all = "camelCase")]
    Invalidate {
        /// Matches this key and every key it prefixes.
        #[tsify(type = "unknown[]")]
        query_key: (),
        /// Which matching queries refetch now.
        refetch_type: RefetchType,
    },
    /// `queryClient.setQueryData(queryKey, data)`: the full new value.
    #[serde(rename = "setQueryData", rename_all = "camelCase")]
    SetQueryData {
        /// The exact key.
        #[tsify(type = "unknown[]")]
        query_key: (),
        /// The value.
        #[tsify(type = "unknown")]
        data: (),
    },
    /// Shallow-merge `data` into the cached object, only if one is cached.
    #[serde(rename = "mergeQueryData", rename_all = "camelCase")]
    MergeQueryData {
        /// The exact key.
        #[tsify(type = "unknown[]")]
        query_key: (),
        /// The members to merge.
        #[tsify(type = "Record<string, unknown>")]
        data: (),
    },
}

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
        refetch_type: Option<RefetchType>,
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
