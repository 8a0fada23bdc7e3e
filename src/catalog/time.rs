//! ISO 8601 timestamps and dates, checked by hand: one profile (RFC 3339, which is what
//! Postgres and `Date.prototype.toISOString` write) does not justify a date library.

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A cursor over ASCII digits and separators.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<i64> {
        let chunk = self.bytes.get(self.pos..self.pos + n)?;
        let mut value = 0;
        for &b in chunk {
            if !b.is_ascii_digit() {
                return None;
            }
            value = value * 10 + i64::from(b - b'0');
        }
        self.pos += n;
        Some(value)
    }

    fn eat(&mut self, byte: u8) -> bool {
        let hit = self.bytes.get(self.pos) == Some(&byte);
        self.pos += usize::from(hit);
        hit
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn done(&self) -> bool {
        self.pos == self.bytes.len()
    }

    /// `YYYY-MM-DD`, as days since the epoch.
    fn date(&mut self) -> Option<i64> {
        let year = self.digits(4)?;
        self.eat(b'-').then_some(())?;
        let month = self.digits(2)?;
        self.eat(b'-').then_some(())?;
        let day = self.digits(2)?;
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        Some(days_from_civil(year, month, day))
    }
}

/// Howard Hinnant's `civil_from_days`: the (year, month, day) of a day number since the epoch.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// RFC 3339 UTC with milliseconds (`2025-12-20T10:15:00.123Z`), from ms since the epoch: what
/// producers (the dev server, tests) write into `at`.
pub fn format_timestamp(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let (h, min, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z")
}

/// Parses a calendar date `YYYY-MM-DD`; returns days since 1970-01-01.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut c = Cursor {
        bytes: text.as_bytes(),
        pos: 0,
    };
    let days = c.date()?;
    c.done().then_some(days)
}

/// Parses an RFC 3339 timestamp (`2025-12-20T10:15:00.123Z`, `...+01:00`; a space may stand for
/// `T`, and the offset may be `+01`, `+0100` or `+01:00`). Returns microseconds since the epoch,
/// UTC. A timestamp without an offset is refused: it cannot be ordered against others.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let mut c = Cursor {
        bytes: text.as_bytes(),
        pos: 0,
    };
    let days = c.date()?;
    if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
        return None;
    }
    let hour = c.digits(2)?;
    c.eat(b':').then_some(())?;
    let minute = c.digits(2)?;
    let mut second = 0;
    let mut micros = 0;
    if c.eat(b':') {
        second = c.digits(2)?;
        if c.eat(b'.') || c.eat(b',') {
            let mut scale = 100_000;
            let start = c.pos;
            while let Some(d @ b'0'..=b'9') = c.peek() {
                micros += i64::from(d - b'0') * scale;
                scale /= 10;
                c.pos += 1;
            }
            if c.pos == start {
                return None;
            }
        }
    }
    // 60 is a leap second.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset_minutes = match c.peek()? {
        b'Z' | b'z' => {
            c.pos += 1;
            0
        }
        sign @ (b'+' | b'-') => {
            c.pos += 1;
            let hours = c.digits(2)?;
            let minutes = if c.done() {
                0
            } else {
                c.eat(b':');
                c.digits(2)?
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 60 + minutes;
            if sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        _ => return None,
    };
    if !c.done() {
        return None;
    }
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1_000_000 + micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_servers_write() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_timestamp("1970-01-01T00:00:01.5Z"), Some(1_500_000));
        let base = parse_timestamp("2025-12-20T10:15:00.123456Z").unwrap();
        for same in [
            "2025-12-20T11:15:00.123456+01:00",
            "2025-12-20 10:15:00.123456+00",
            "2025-12-20t05:15:00.1234569-0500",
        ] {
            assert_eq!(parse_timestamp(same), Some(base), "{same}");
        }
        assert_eq!(parse_timestamp("2025-12-20T10:15Z"), Some(base - 123_456));
        assert_eq!(
            parse_timestamp("2000-03-01T00:00:00Z").unwrap() / 86_400_000_000,
            11_017
        );
    }

    #[test]
    fn refuses_what_is_not_a_moment() {
        for bad in [
            "",
            "yesterday",
            "2025-12-20",
            "2025-12-20T10:15:00",
            "2025-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2025-12-20T24:00:00Z",
            "2025-12-20T10:60:00Z",
            "2025-12-20T10:15:00.Z",
            "2025-12-20T10:15:00Zjunk",
            "2025-12-20T10:15:00+1",
            "２025-12-20T10:15:00Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?}");
        }
        assert!(parse_timestamp("2024-02-29T00:00:00Z").is_some());
    }

    #[test]
    fn reads_dates() {
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert!(parse_date("2000-02-29").is_some());
        assert_eq!(parse_date("1900-02-29"), None);
        assert_eq!(parse_date("2025-12-20T00:00:00Z"), None);
        assert_eq!(parse_date("2025-1-20"), None);
    }

    #[test]
    fn formatted_timestamps_parse_back() {
        for ms in [
            0,
            1_766_225_700_123,
            951_782_400_000,
            4_102_444_799_999,
            -86_400_001,
        ] {
            let text = format_timestamp(ms);
            assert_eq!(parse_timestamp(&text), Some(ms * 1000), "{text}");
        }
        assert_eq!(
            format_timestamp(1_766_225_700_123),
            "2025-12-20T10:15:00.123Z"
        );
    }
}
