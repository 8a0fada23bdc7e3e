//! JSON numbers without Rust's float parser and printer, which together add about 30 KB to the
//! `.wasm`. A number keeps the text it was read from (unless it is a plain integer) and is
//! written back as that text, so nothing is lost or reformatted on the way to JS. Its `f64` value,
//! used for integer checks and key equality, is exact for integers and for decimals with at most
//! 19 significant digits and a decimal exponent within ±22 (Clinger's fast path), and within a
//! few units in the last place otherwise.

use std::fmt::Write as _;

/// A JSON number.
#[derive(Debug, Clone)]
pub struct Number {
    value: f64,
    /// The source text, kept when it is not a plain integer.
    text: Option<Box<str>>,
}

/// Exact powers of ten in `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

impl Number {
    /// An integer made in Rust.
    pub fn int(n: i64) -> Number {
        Number {
            value: n as f64,
            text: None,
        }
    }

    /// The value, as JavaScript reads it.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// Reads a lexeme that matches the JSON number grammar; `None` if its value is infinite.
    pub(crate) fn from_lexeme(lexeme: &str) -> Option<Number> {
        let bytes = lexeme.as_bytes();
        let negative = bytes.first() == Some(&b'-');
        let (mut mantissa, mut digits, mut exp10, mut i) =
            (0u64, 0u32, 0i64, usize::from(negative));
        let mut fraction = false;
        let mut plain = true;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'0'..=b'9' => {
                    if digits < 19 {
                        mantissa = mantissa * 10 + u64::from(b - b'0');
                        digits += u32::from(mantissa != 0);
                        exp10 -= i64::from(fraction);
                    } else {
                        exp10 += i64::from(!fraction);
                    }
                }
                b'.' => {
                    fraction = true;
                    plain = false;
                }
                _ => {
                    plain = false;
                    let exponent: i64 = lexeme
                        .get(i + 1..)
                        .unwrap_or_default()
                        .trim_start_matches('+')
                        .parse()
                        .unwrap_or(i64::MAX);
                    exp10 = exp10.saturating_add(exponent.clamp(-1000, 1000));
                    break;
                }
            }
            i += 1;
        }
        let m = mantissa as f64;
        let magnitude = if mantissa == 0 {
            0.0
        } else if exp10 == 0 {
            m
        } else if mantissa < 1 << 53 && (1..=22).contains(&exp10) {
            m * POW10[exp10 as usize]
        } else if mantissa < 1 << 53 && (-22..0).contains(&exp10) {
            m / POW10[(-exp10) as usize]
        } else {
            approximate(m, exp10)
        };
        if !magnitude.is_finite() {
            return None;
        }
        let value = if negative { -magnitude } else { magnitude };
        let exact_int = plain && digits <= 15;
        Some(Number {
            value,
            text: (!exact_int).then(|| lexeme.into()),
        })
    }

    /// Appends the number as JSON.
    pub fn write(&self, out: &mut String) {
        match &self.text {
            Some(text) => out.push_str(text),
            None => {
                let _ = write!(out, "{}", self.value as i64);
            }
        }
    }
}

/// `m × 10^exp10` by steps of exact powers: a few ulps off at worst, which the text makes up for.
fn approximate(mut m: f64, exp10: i64) -> f64 {
    let mut e = exp10;
    while e > 22 {
        m *= 1e22;
        e -= 22;
    }
    while e < -22 {
        m /= 1e22;
        e += 22;
    }
    if e >= 0 {
        m * POW10[e as usize]
    } else {
        m / POW10[(-e) as usize]
    }
}

impl PartialEq for Number {
    /// By value, as `===` compares numbers.
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Self {
        Number::int(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> f64 {
        Number::from_lexeme(text).unwrap().value()
    }

    #[test]
    fn reads_values_exactly_on_the_fast_path() {
        for (text, value) in [
            ("0", 0.0),
            ("-0", 0.0),
            ("42", 42.0),
            ("-17", -17.0),
            ("10.0", 10.0),
            ("2.5", 2.5),
            ("0.1", 0.1),
            ("25.75", 25.75),
            ("1e3", 1000.0),
            ("1E+3", 1000.0),
            ("-12.5e1", -125.0),
            ("123456.789e-3", 123.456789),
            ("9007199254740991", 9_007_199_254_740_991.0),
            ("0.000001", 1e-6),
        ] {
            assert_eq!(n(text), value, "{text}");
        }
    }

    #[test]
    fn reads_extremes_closely_and_refuses_infinity() {
        let big = n("1.7976931348623157e308");
        assert!((big - f64::MAX).abs() / f64::MAX < 1e-14);
        assert!((n("12345678901234567890123") - 1.2345678901234568e22).abs() < 1e8);
        assert_eq!(n("1e-400"), 0.0);
        assert!(Number::from_lexeme("1e400").is_none());
        assert!(Number::from_lexeme("-1e99999999999999999999").is_none());
    }

    #[test]
    fn writes_back_the_text_it_read() {
        for text in ["0", "-3", "2.50", "1E+3", "0.1", "12345678901234567890"] {
            let mut out = String::new();
            Number::from_lexeme(text).unwrap().write(&mut out);
            assert_eq!(out, text);
        }
        let mut out = String::new();
        Number::int(-42).write(&mut out);
        assert_eq!(out, "-42");
    }
}
