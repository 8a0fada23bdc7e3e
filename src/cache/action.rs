//! What the SDK asks of a TanStack `QueryClient`, and how that is written for JS.

use crate::json::{Number, Value, Writer};
use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

/// One element of a query key: TanStack compares keys element by element, by value.
#[derive(Debug, Clone)]
pub enum KeyPart {
    /// A string.
    Str(String),
    /// A number.
    Num(Number),
    /// A boolean.
    Bool(bool),
    /// `null`.
    Null,
}

impl KeyPart {
    /// The key part for a JSON scalar; `None` for arrays and objects.
    pub fn from_value(value: &Value) -> Option<KeyPart> {
        Some(match value {
            Value::String(s) => KeyPart::Str(s.clone()),
            Value::Number(n) => KeyPart::Num(n.clone()),
            Value::Bool(b) => KeyPart::Bool(*b),
            Value::Null => KeyPart::Null,
            Value::Array(_) | Value::Object(_) => return None,
        })
    }

    fn write(&self, w: &mut Writer<'_>) {
        match self {
            KeyPart::Str(s) => w.string(s),
            KeyPart::Num(n) => w.value(&Value::Number(n.clone())),
            KeyPart::Bool(b) => w.value(&Value::Bool(*b)),
            KeyPart::Null => w.value(&Value::Null),
        };
    }
}

impl PartialEq for KeyPart {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (KeyPart::Str(a), KeyPart::Str(b)) => a == b,
            // As in JS: 0 and -0 are the same key.
            (KeyPart::Num(a), KeyPart::Num(b)) => a == b,
            (KeyPart::Bool(a), KeyPart::Bool(b)) => a == b,
            (KeyPart::Null, KeyPart::Null) => true,
            _ => false,
        }
    }
}

// Numbers come from JSON, so there is no NaN to break reflexivity.
impl Eq for KeyPart {}

impl Hash for KeyPart {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            KeyPart::Str(s) => (0u8, s).hash(state),
            KeyPart::Num(n) => (1u8, (n.value() + 0.0).to_bits()).hash(state),
            KeyPart::Bool(b) => (2u8, b).hash(state),
            KeyPart::Null => 3u8.hash(state),
        }
    }
}

impl From<&str> for KeyPart {
    fn from(s: &str) -> Self {
        KeyPart::Str(s.to_owned())
    }
}

/// A TanStack Query key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct QueryKey(pub Vec<KeyPart>);

impl QueryKey {
    /// Whether `self` is a proper prefix of `other`: TanStack's `invalidateQueries` with `self`
    /// also reaches every query under `other`.
    pub fn is_proper_prefix_of(&self, other: &QueryKey) -> bool {
        self.0.len() < other.0.len() && other.0.starts_with(&self.0)
    }

    /// Writes the key as a JSON array.
    pub fn write(&self, w: &mut Writer<'_>) {
        w.open('[');
        for part in &self.0 {
            part.write(w);
        }
        w.close(']');
    }
}

// Lets maps keyed by `QueryKey` be probed with a prefix slice without allocating.
impl Borrow<[KeyPart]> for QueryKey {
    fn borrow(&self) -> &[KeyPart] {
        &self.0
    }
}

impl<const N: usize> From<[&str; N]> for QueryKey {
    fn from(parts: [&str; N]) -> Self {
        QueryKey(parts.iter().map(|&p| KeyPart::from(p)).collect())
    }
}

/// TanStack's `refetchType`, ordered by how much it refetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    target_arch = "wasm32",
    derive(tsify::Tsify),
    serde(rename_all = "lowercase")
)]
pub enum RefetchType {
    /// Mark stale, refetch nothing now.
    None,
    /// Refetch queries that are on screen (the default: no background storms).
    Active,
    /// Refetch every matching query.
    All,
}

impl RefetchType {
    /// The TanStack spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RefetchType::None => "none",
            RefetchType::Active => "active",
            RefetchType::All => "all",
        }
    }

    /// Reads the TanStack spelling.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "none" => Some(RefetchType::None),
            "active" => Some(RefetchType::Active),
            "all" => Some(RefetchType::All),
            _ => None,
        }
    }
}

/// One thing to do to a TanStack `QueryClient`.
//  Written to JS as JSON by `CacheAction::write`; tsify declares it from this type, with the
//  writer's names (a wasm test checks that they agree).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), serde(tag = "type"))]
pub enum CacheAction {
    /// `invalidateQueries({ queryKey, refetchType })`.
    #[cfg_attr(target_arch = "wasm32", serde(rename = "invalidate"))]
    Invalidate {
        /// Matches this key and every key it prefixes.
        #[cfg_attr(
            target_arch = "wasm32",
            serde(rename = "queryKey"),
            tsify(type = "unknown[]")
        )]
        key: QueryKey,
        /// Which matching queries refetch now.
        #[cfg_attr(target_arch = "wasm32", serde(rename = "refetchType"))]
        refetch: RefetchType,
    },
    /// `setQueryData(queryKey, data)`: the full new value.
    #[cfg_attr(target_arch = "wasm32", serde(rename = "setQueryData"))]
    SetQueryData {
        /// The exact key written.
        #[cfg_attr(
            target_arch = "wasm32",
            serde(rename = "queryKey"),
            tsify(type = "unknown[]")
        )]
        key: QueryKey,
        /// The value.
        #[cfg_attr(target_arch = "wasm32", tsify(type = "unknown"))]
        data: Value,
        /// The event time it comes from, in µs; newer writes win. Not sent to JS.
        #[cfg_attr(target_arch = "wasm32", serde(skip))]
        at: i64,
    },
    /// Shallow-merge `data` into the cached value, only if one is cached.
    #[cfg_attr(target_arch = "wasm32", serde(rename = "mergeQueryData"))]
    MergeQueryData {
        /// The exact key written.
        #[cfg_attr(
            target_arch = "wasm32",
            serde(rename = "queryKey"),
            tsify(type = "unknown[]")
        )]
        key: QueryKey,
        /// The members to merge.
        #[cfg_attr(target_arch = "wasm32", tsify(type = "Record<string, unknown>"))]
        data: Vec<(String, Value)>,
        /// The event time it comes from, in µs; newer writes win. Not sent to JS.
        #[cfg_attr(target_arch = "wasm32", serde(skip))]
        at: i64,
    },
}

impl CacheAction {
    /// The key the action concerns.
    pub fn key(&self) -> &QueryKey {
        match self {
            CacheAction::Invalidate { key, .. }
            | CacheAction::SetQueryData { key, .. }
            | CacheAction::MergeQueryData { key, .. } => key,
        }
    }

    /// Sets the event time a data write is ordered by (invalidations have none).
    pub fn set_at(&mut self, time: i64) {
        if let CacheAction::SetQueryData { at, .. } | CacheAction::MergeQueryData { at, .. } = self
        {
            *at = time;
        }
    }

    /// Writes the action as the JS `CacheAction` object (the event time stays on this side).
    pub fn write(&self, w: &mut Writer<'_>) {
        w.open('{');
        match self {
            CacheAction::Invalidate { key, refetch } => {
                w.key("type").string("invalidate").key("queryKey");
                key.write(w);
                w.key("refetchType").string(refetch.as_str());
            }
            CacheAction::SetQueryData { key, data, .. } => {
                w.key("type").string("setQueryData").key("queryKey");
                key.write(w);
                w.key("data").value(data);
            }
            CacheAction::MergeQueryData { key, data, .. } => {
                w.key("type").string("mergeQueryData").key("queryKey");
                key.write(w);
                w.key("data").open('{');
                for (name, value) in data {
                    w.key(name).value(value);
                }
                w.close('}');
            }
        }
        w.close('}');
    }
}

/// Writes actions as a JSON array.
pub fn actions_to_json(actions: &[CacheAction]) -> String {
    let mut out = String::new();
    let mut w = Writer::new(&mut out);
    w.open('[');
    for action in actions {
        action.write(&mut w);
    }
    w.close(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_js_shape() {
        let actions = [
            CacheAction::Invalidate {
                key: ["visit", "list"].into(),
                refetch: RefetchType::Active,
            },
            CacheAction::SetQueryData {
                key: ["b"].into(),
                data: Value::from(5),
                at: 0,
            },
            CacheAction::MergeQueryData {
                key: QueryKey(vec![
                    KeyPart::Num(Number::int(1)),
                    KeyPart::Null,
                    KeyPart::Bool(true),
                ]),
                data: vec![("x".into(), Value::from("y"))],
                at: 0,
            },
        ];
        assert_eq!(
            actions_to_json(&actions),
            r#"[{"type":"invalidate","queryKey":["visit","list"],"refetchType":"active"},{"type":"setQueryData","queryKey":["b"],"data":5},{"type":"mergeQueryData","queryKey":[1,null,true],"data":{"x":"y"}}]"#
        );
    }

    #[test]
    fn prefixes_are_proper_and_elementwise() {
        let short = QueryKey::from(["visit", "list"]);
        assert!(short.is_proper_prefix_of(&["visit", "list", "c1"].into()));
        assert!(!short.is_proper_prefix_of(&short));
        assert!(!short.is_proper_prefix_of(&["visit", "lists", "c1"].into()));
        let zero = |t: &str| KeyPart::from_value(&crate::json::parse(t).unwrap()).unwrap();
        assert_eq!(zero("0"), zero("-0.0"));
        assert_ne!(KeyPart::Num(Number::int(1)), KeyPart::Str("1".into()));
    }
}
