//! Timestamps as Step Functions accepts them.
//!
//! Amazon States Language spec, "Timestamps" (<https://states-language.net/spec.html>):
//! "The Choice and Wait States deal with JSON field values which represent timestamps.
//! These are strings which MUST conform to the RFC3339 profile of ISO 8601, with the
//! further restrictions that an uppercase "T" character MUST be used to separate date and
//! time, and an uppercase "Z" character MUST be present in the absence of a numeric time
//! zone offset, for example "2016-03-14T01:59:00Z"." The Wait state's TimestampPath error
//! ("does not reference a valid ISO-8601 extended offset date-time") is recorded in the
//! conformance cases for `2016-13-05T21:29:29Z` (month 13), `2016-12-05T25:29:29Z`
//! (hour 25), `2016-12-05 21:29:29Z` (no `T`), `2016-12-05T21:29:29` (no offset) and
//! `05-12-2016T21:29:29Z`; `2023-02-24 12:15:56.832957` never matches a Timestamp rule.
//!
//! Accepted: `YYYY-MM-DDTHH:MM:SS[.fraction]` followed by `Z` or `±HH:MM`; fractions of up
//! to 9 digits. Hand-written (no `chrono` format parsing) so exactly this profile passes.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};

/// Parses a Step Functions timestamp; `None` when it is not a valid one.
pub fn parse(text: &str) -> Option<DateTime<FixedOffset>> {
    let b = text.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = b.get(r)?;
        if s.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(s).ok()?.parse().ok()
        } else {
            None
        }
    };
    let lit = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(lit(4, b'-') && lit(7, b'-') && lit(10, b'T') && lit(13, b':') && lit(16, b':')) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut nanos = 0u32;
    if lit(i, b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = num(start..i)? * 10u32.pow(9 - digits as u32);
    }
    let time = NaiveTime::from_hms_nano_opt(h, mi, s, nanos)?;
    let offset_secs = match b.get(i)? {
        b'Z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && lit(i + 3, b':') => {
            let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if oh > 18 || om > 59 {
                return None;
            }
            let secs = (oh * 3600 + om * 60) as i32;
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    let offset = FixedOffset::east_opt(offset_secs)?;
    date.and_time(time).and_local_timezone(offset).single()
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn accepts_the_rfc3339_profile() {
        for ok in [
            "2016-08-18T17:33:00Z",
            "2012-10-09T19:00:55Z",
            "2016-08-18T17:33:00.123Z",
            "2016-08-18T17:33:00.123456789+02:00",
            "2016-02-29T00:00:00-07:30",
        ] {
            assert!(parse(ok).is_some(), "{ok}");
        }
        assert_eq!(
            parse("2016-08-18T19:33:00+02:00"),
            parse("2016-08-18T17:33:00Z")
        );
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "2016-13-05T21:29:29Z",
            "05-12-2016T21:29:29Z",
            "2016-12-05T25:29:29Z",
            "2016-12-05 21:29:29Z",
            "2016-12-05T21:29:29",
            "2016-12-05t21:29:29z",
            "2015-02-29T00:00:00Z",
            "2016-12-05T21:29Z",
            "2016-12-05T21:29:29.Z",
            "2016-12-05T21:29:29+0200",
            "2023-02-24 12:15:56.832957",
            "",
            "é016-12-05T21:29:29Z",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
