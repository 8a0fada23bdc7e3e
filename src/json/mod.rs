//! A small JSON value, reader and writer.
//!
//! Why not serde_json: measured on this toolchain it adds about 15 KB gzipped to the `.wasm`, as
//! much as the whole of `@supabase/realtime-js`. Events are small flat objects; this module reads
//! them with JavaScript's semantics (numbers are `f64`, the last of duplicate keys wins) and writes
//! JSON that the JS side turns into objects with one `JSON.parse`.

mod number;
mod read;
mod write;

pub use number::Number;

pub(crate) use read::hex_digit;
pub use read::{parse, whole_number, ParseError};
pub use write::{write_string, Writer, MAX_SAFE_INTEGER};

/// A JSON value. Objects keep their members in order; lookups take the last duplicate, as
/// `JSON.parse` does.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, members in document order.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// An object from `(name, value)` pairs.
    pub fn object(members: Vec<(&str, Value)>) -> Value {
        Value::Object(
            members
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }

    /// The member `key` of an object (the last one, if repeated); `None` for other values.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The JSON type name, as used in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// This value as JSON text.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        Writer::new(&mut out).value(self);
        out
    }

    /// A short rendering for error messages: the JSON text, cut at `max` characters.
    pub fn preview(&self, max: usize) -> String {
        let text = self.to_json();
        match text.char_indices().nth(max) {
            // `get`, not indexing: `cut` is a char boundary, and no panic path is linked.
            Some((cut, _)) => {
                let mut short = text.get(..cut).unwrap_or_default().to_owned();
                short.push('…');
                short
            }
            None => text,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(Number::int(n))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_nested_values() {
        let text = r#"{"a":[1,2.5,-3e2,true,false,null],"b":{"c":"d\n\"é\u0001"},"e":[]}"#;
        let value = parse(text).unwrap();
        assert_eq!(
            value.get("a").unwrap(),
            &parse("[1,2.5,-300,true,false,null]").unwrap()
        );
        assert_eq!(parse(&value.to_json()).unwrap(), value);
        assert_eq!(
            value.get("b").unwrap().get("c").unwrap().as_str(),
            Some("d\n\"é\u{1}")
        );
    }

    #[test]
    fn last_duplicate_key_wins_like_json_parse() {
        let value = parse(r#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(value.get("a"), Some(&Value::from(2)));
    }

    #[test]
    fn preview_cuts_long_values() {
        let value = Value::String("x".repeat(100));
        assert_eq!(value.preview(10), "\"xxxxxxxxx…");
        assert_eq!(Value::from(3).preview(10), "3");
    }
}
