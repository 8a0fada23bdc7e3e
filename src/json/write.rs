//! JSON writer: appends to a `String`, for one `JSON.parse` on the JS side.

use super::Value;
use std::fmt::Write as _;

/// Largest integer JavaScript represents exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// Appends JSON to a string. Callers write objects member by member; the writer handles commas.
pub struct Writer<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Writer<'a> {
    /// A writer appending to `out`.
    pub fn new(out: &'a mut String) -> Self {
        Writer { out, first: true }
    }

    fn separate(&mut self) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
    }

    /// Opens an object or array (`{` or `[`).
    pub fn open(&mut self, bracket: char) -> &mut Self {
        self.separate();
        self.out.push(bracket);
        self.first = true;
        self
    }

    /// Closes an object or array (`}` or `]`).
    pub fn close(&mut self, bracket: char) -> &mut Self {
        self.out.push(bracket);
        self.first = false;
        self
    }

    /// Writes `"name":` inside an object; the member's value follows.
    pub fn key(&mut self, name: &str) -> &mut Self {
        self.separate();
        write_string(self.out, name);
        self.out.push(':');
        self.first = true;
        self
    }

    /// Writes an integer.
    pub fn int(&mut self, n: i64) -> &mut Self {
        self.separate();
        let _ = write!(self.out, "{n}");
        self
    }

    /// Writes a string.
    pub fn string(&mut self, s: &str) -> &mut Self {
        self.separate();
        write_string(self.out, s);
        self
    }

    /// Writes any value.
    pub fn value(&mut self, value: &Value) -> &mut Self {
        match value {
            Value::Null => {
                self.separate();
                self.out.push_str("null");
            }
            Value::Bool(b) => {
                self.separate();
                self.out.push_str(if *b { "true" } else { "false" });
            }
            Value::Number(n) => {
                self.separate();
                n.write(self.out);
            }
            Value::String(s) => {
                self.string(s);
            }
            Value::Array(items) => {
                self.open('[');
                for item in items {
                    self.value(item);
                }
                self.close(']');
            }
            Value::Object(members) => {
                self.open('{');
                for (k, v) in members {
                    self.key(k).value(v);
                }
                self.close('}');
            }
        }
        self
    }
}

/// Appends `s` as a JSON string literal.
pub fn write_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut run = 0;
    // Copy up to the next byte that needs an escape in one go: most strings have none.
    while let Some(k) = bytes
        .get(run..)
        .unwrap_or_default()
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
    {
        let i = run + k;
        // The stops are ASCII, so both ends are character boundaries.
        out.push_str(s.get(run..i).unwrap_or_default());
        match bytes[i] {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            control => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(control >> 4)]));
                out.push(char::from(HEX[usize::from(control & 0xf)]));
            }
        }
        run = i + 1;
    }
    out.push_str(s.get(run..).unwrap_or_default());
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_numbers_as_read() {
        let value = super::super::parse("[1,-0,2.50,1e21]").unwrap();
        assert_eq!(value.to_json(), "[1,0,2.50,1e21]");
        let mut out = String::new();
        Writer::new(&mut out).open('[').int(-7).int(3).close(']');
        assert_eq!(out, "[-7,3]");
    }

    #[test]
    fn escapes_strings() {
        let mut out = String::new();
        write_string(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
    }

    #[test]
    fn writes_objects_with_commas_in_the_right_places() {
        let mut out = String::new();
        let mut w = Writer::new(&mut out);
        w.open('{')
            .key("a")
            .int(1)
            .key("b")
            .open('[')
            .string("x")
            .string("y")
            .close(']');
        w.key("c")
            .open('{')
            .close('}')
            .key("d")
            .open('[')
            .open('[')
            .close(']')
            .open('{')
            .close('}');
        w.close(']').close('}');
        assert_eq!(out, r#"{"a":1,"b":["x","y"],"c":{},"d":[[],{}]}"#);
    }
}
