//! DynamoDB's `N`: a signed decimal of up to 38 significant digits with a
//! magnitude between 1E-130 and 9.99…E+125, compared and added exactly.
//!
//! Why our own type rather than a crate: `rust_decimal` holds 28–29
//! significant digits (a 96-bit mantissa), short of DynamoDB's 38, and
//! `bigdecimal` would pull a bignum library in for the two operations we need
//! (compare, add). The value is kept as its significant digits and an
//! exponent, so compare and add are exact digit operations, and the limits
//! DynamoDB enforces are checked on the digits themselves.
//!
//! Numbers are returned the way DynamoDB returns them: plain notation with no
//! exponent, no leading zeros and no trailing fractional zeros (`"1.50"` and
//! `"15E-1"` both read back as `"1.5"`, `"1E+2"` as `"100"`). The messages are
//! DynamoDB's (as recorded by dynalite's tests against the real service:
//! validations/index.js `checkNum`).

use std::cmp::Ordering;
use std::fmt;

/// Most significant digits DynamoDB stores in a number.
pub const MAX_DIGITS: usize = 38;
/// Largest decimal exponent (scientific notation, `d.ddd × 10^e`).
const MAX_EXPONENT: i64 = 125;
/// Smallest decimal exponent.
const MIN_EXPONENT: i64 = -130;

/// Why a string is not a DynamoDB number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("The parameter cannot be converted to a numeric value")]
    Empty,
    #[error("The parameter cannot be converted to a numeric value: {0}")]
    NotANumber(String),
    #[error(
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    )]
    Overflow,
    #[error(
        "Number underflow. Attempting to store a number with magnitude smaller than supported range"
    )]
    Underflow,
    #[error("Attempting to store more than 38 significant digits in a Number")]
    TooPrecise,
}

/// A DynamoDB number: `(-1)^negative × 0.d₁d₂…dₙ × 10^exponent`, with
/// `d₁ ≠ 0` and `dₙ ≠ 0`; zero has no digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    /// Significant digits (0–9), no leading or trailing zeros.
    digits: Vec<u8>,
    exponent: i64,
}

impl Number {
    /// Zero.
    pub fn zero() -> Self {
        Self {
            negative: false,
            digits: Vec::new(),
            exponent: 0,
        }
    }

    /// Parses the text of an `N` value (`-12.50`, `1e3`, `.5`, `+7`) and
    /// checks DynamoDB's range and precision.
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        if text.is_empty() {
            return Err(NumberError::Empty);
        }
        let bad = || NumberError::NotANumber(text.to_owned());
        let (negative, rest) = match text.as_bytes()[0] {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exp_text) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (int_part, frac_part) = match mantissa.split_once('.') {
            Some((i, f)) => (i, f),
            None => (mantissa, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.len() + frac_part.len() == 0 || !all_digits(int_part) || !all_digits(frac_part)
        {
            return Err(bad());
        }
        let mut exp_value: i64 = 0;
        if let Some(e) = exp_text {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !all_digits(digits) || digits.len() > 9 {
                return Err(bad());
            }
            exp_value = e.parse::<i64>().map_err(|_| bad())?;
        }
        let raw: Vec<u8> = int_part
            .bytes()
            .chain(frac_part.bytes())
            .map(|b| b - b'0')
            .collect();
        // 0.raw × 10^(len(int_part) + exp_value), then strip zeros.
        let exponent = int_part.len() as i64 + exp_value;
        Self::from_parts(negative, raw, exponent).check()
    }

    /// Normalises digits with the value `0.digits × 10^exponent`.
    fn from_parts(negative: bool, mut digits: Vec<u8>, mut exponent: i64) -> Self {
        let leading = digits.iter().take_while(|d| **d == 0).count();
        digits.drain(..leading);
        exponent -= leading as i64;
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Self::zero();
        }
        Self {
            negative,
            digits,
            exponent,
        }
    }

    /// DynamoDB's limits, in the order it checks them.
    fn check(self) -> Result<Self, NumberError> {
        if self.digits.is_empty() {
            return Ok(self);
        }
        let scientific = self.exponent - 1;
        if scientific > MAX_EXPONENT {
            return Err(NumberError::Overflow);
        }
        if scientific < MIN_EXPONENT {
            return Err(NumberError::Underflow);
        }
        if self.digits.len() > MAX_DIGITS {
            return Err(NumberError::TooPrecise);
        }
        Ok(self)
    }

    /// How many significant digits the number has (zero has one).
    pub fn significant_digits(&self) -> usize {
        self.digits.len().max(1)
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// `self + other`, exact, then checked against DynamoDB's limits.
    pub fn add(&self, other: &Number) -> Result<Number, NumberError> {
        if self.is_zero() {
            return Ok(other.clone());
        }
        if other.is_zero() {
            return Ok(self.clone());
        }
        // Align both on the smallest digit position: value = int × 10^low.
        let low = (self.exponent - self.digits.len() as i64)
            .min(other.exponent - other.digits.len() as i64);
        let high = self.exponent.max(other.exponent);
        let width = (high - low) as usize;
        let a = self.aligned(high, width);
        let b = other.aligned(high, width);
        let (negative, digits) = if self.negative == other.negative {
            (self.negative, add_digits(&a, &b))
        } else {
            match cmp_digits(&a, &b) {
                Ordering::Equal => return Ok(Number::zero()),
                Ordering::Greater => (self.negative, sub_digits(&a, &b)),
                Ordering::Less => (other.negative, sub_digits(&b, &a)),
            }
        };
        // add_digits may carry one digit beyond `high`.
        let exponent = high + (digits.len() - width) as i64;
        Number::from_parts(negative, digits, exponent).check()
    }

    /// `self - other`.
    pub fn sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.add(&other.negated())
    }

    pub fn negated(&self) -> Number {
        let mut n = self.clone();
        if !n.is_zero() {
            n.negative = !n.negative;
        }
        n
    }

    /// The digits at positions `high-1 … high-width` (most significant first).
    fn aligned(&self, high: i64, width: usize) -> Vec<u8> {
        let mut out = vec![0u8; width];
        let start = (high - self.exponent) as usize;
        out[start..start + self.digits.len()].copy_from_slice(&self.digits);
        out
    }

    /// An encoding whose byte order is the numbers' order, for SQLite sort keys.
    pub fn sort_key(&self) -> Vec<u8> {
        if self.is_zero() {
            return vec![0x80];
        }
        // Exponents fit in ±2^15 (checked range ±131), offset to stay unsigned.
        let exp = (self.exponent + 0x8000) as u16;
        if self.negative {
            let mut out = vec![0x40];
            out.extend_from_slice(&(u16::MAX - exp).to_be_bytes());
            out.extend(self.digits.iter().map(|d| b'0' + (9 - d)));
            // A longer negative mantissa is smaller: the terminator sorts above digits.
            out.push(0xff);
            out
        } else {
            let mut out = vec![0xc0];
            out.extend_from_slice(&exp.to_be_bytes());
            out.extend(self.digits.iter().map(|d| b'0' + d));
            out
        }
    }
}

fn add_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; a.len() + 1];
    let mut carry = 0;
    for i in (0..a.len()).rev() {
        let s = a[i] + b[i] + carry;
        out[i + 1] = s % 10;
        carry = s / 10;
    }
    out[0] = carry;
    if carry == 0 {
        out.remove(0);
    }
    out
}

/// `a - b` for `a ≥ b`, same width.
fn sub_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; a.len()];
    let mut borrow = 0i8;
    for i in (0..a.len()).rev() {
        let mut d = a[i] as i8 - b[i] as i8 - borrow;
        borrow = 0;
        if d < 0 {
            d += 10;
            borrow = 1;
        }
        out[i] = d as u8;
    }
    out
}

fn cmp_digits(a: &[u8], b: &[u8]) -> Ordering {
    a.cmp(b)
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = |n: &Number| {
            if n.is_zero() {
                0
            } else if n.negative {
                -1
            } else {
                1
            }
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
        if self.is_zero() {
            return Ordering::Equal;
        }
        let magnitude = self
            .exponent
            .cmp(&other.exponent)
            .then_with(|| self.digits.cmp(&other.digits));
        if self.negative {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Number {
    /// Plain notation, as DynamoDB returns numbers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let mut out = String::new();
        if self.negative {
            out.push('-');
        }
        let digit = |d: &u8| char::from(b'0' + d);
        let n = self.digits.len() as i64;
        if self.exponent <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-self.exponent) as usize));
            out.extend(self.digits.iter().map(digit));
        } else if self.exponent >= n {
            out.extend(self.digits.iter().map(digit));
            out.extend(std::iter::repeat_n('0', (self.exponent - n) as usize));
        } else {
            let (int, frac) = self.digits.split_at(self.exponent as usize);
            out.extend(int.iter().map(digit));
            out.push('.');
            out.extend(frac.iter().map(digit));
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_and_prints_in_plain_notation() {
        for (input, want) in [
            ("0", "0"),
            ("-0", "0"),
            ("000", "0"),
            ("0.000", "0"),
            ("1", "1"),
            ("+7", "7"),
            ("1.50", "1.5"),
            ("15E-1", "1.5"),
            ("1E+2", "100"),
            ("1e2", "100"),
            (".5", "0.5"),
            ("5.", "5"),
            ("-0.0012", "-0.0012"),
            ("00120.0300", "120.03"),
            (
                "123456789012345678901234567890.12345678",
                "123456789012345678901234567890.12345678",
            ),
        ] {
            assert_eq!(n(input).to_string(), want, "{input}");
        }
    }

    #[test]
    fn refuses_what_dynamodb_refuses() {
        assert_eq!(Number::parse(""), Err(NumberError::Empty));
        for bad in [
            "abc", "1.2.3", "-", ".", "1e", "e5", "1e+", " 1", "1 ", "0x10", "NaN", "Infinity",
        ] {
            assert_eq!(
                Number::parse(bad),
                Err(NumberError::NotANumber(bad.to_owned())),
                "{bad}"
            );
        }
        assert_eq!(Number::parse("1E126"), Err(NumberError::Overflow));
        assert!(Number::parse("9.9999999999999999999999999999999999999E+125").is_ok());
        assert_eq!(Number::parse("1E-131"), Err(NumberError::Underflow));
        assert!(Number::parse("1E-130").is_ok());
        // 39 significant digits; trailing zeros do not count.
        assert_eq!(
            Number::parse("123456789012345678901234567890123456789"),
            Err(NumberError::TooPrecise)
        );
        assert!(Number::parse("12345678901234567890123456789012345678000").is_ok());
        assert_eq!(
            NumberError::TooPrecise.to_string(),
            "Attempting to store more than 38 significant digits in a Number"
        );
    }

    #[test]
    fn compares_numerically_not_textually() {
        assert!(n("10") > n("9"));
        assert!(n("-10") < n("-9"));
        assert!(n("0.1") > n("0.09"));
        assert!(n("-0.1") < n("0"));
        assert_eq!(n("1.0"), n("1"));
        assert_eq!(n("1.0").cmp(&n("1")), Ordering::Equal);
        assert!(n("1e-130") > n("0"));
        assert!(n("-1e-130") < n("0"));
        assert!(
            n("12345678901234567890123456789012345678")
                > n("12345678901234567890123456789012345677")
        );
    }

    #[test]
    fn adds_and_subtracts_exactly() {
        for (a, b, sum) in [
            ("1", "2", "3"),
            ("0.1", "0.2", "0.3"),
            ("9", "1", "10"),
            ("99.99", "0.01", "100"),
            ("5", "-7", "-2"),
            ("-5", "7", "2"),
            ("-5", "-7", "-12"),
            ("3", "-3", "0"),
            ("1e10", "1", "10000000001"),
            ("0", "-4.5", "-4.5"),
            (
                "99999999999999999999999999999999999999",
                "-1",
                "99999999999999999999999999999999999998",
            ),
        ] {
            assert_eq!(
                n(a).add(&n(b)).map(|x| x.to_string()),
                Ok(sum.to_owned()),
                "{a}+{b}"
            );
        }
        assert_eq!(
            n("10").sub(&n("0.5")).map(|x| x.to_string()),
            Ok("9.5".to_owned())
        );
        // 38 nines plus one is 1E38 (one significant digit): fine. Adding a tiny
        // fraction to a large number needs more than 38 digits: refused.
        assert_eq!(
            n("99999999999999999999999999999999999999")
                .add(&n("1"))
                .map(|x| x.to_string()),
            Ok(format!("1{}", "0".repeat(38)))
        );
        assert_eq!(n("1e20").add(&n("1e-20")), Err(NumberError::TooPrecise));
        assert_eq!(n("9e125").add(&n("9e125")), Err(NumberError::Overflow));
    }

    #[test]
    fn sort_keys_order_like_the_numbers() {
        let values = [
            "-1e100", "-123", "-12.5", "-12", "-1.23", "-1", "-0.5", "-1e-100", "0", "1e-100",
            "0.5", "1", "1.23", "12", "12.5", "123", "1e100",
        ];
        let keys: Vec<Vec<u8>> = values.iter().map(|v| n(v).sort_key()).collect();
        for pair in keys.windows(2) {
            assert!(pair[0] < pair[1], "{pair:?}");
        }
    }
}
