//! Money as whole minor units (fen, cents) of one currency. Never floats.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An ISO 4217 code such as `CNY`: three upper-case ASCII letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const CNY: Currency = Currency(*b"CNY");

    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        match code.as_bytes() {
            [a, b, c] if code.bytes().all(|b| b.is_ascii_uppercase()) => Ok(Currency([*a, *b, *c])),
            _ => Err(MoneyError::BadCurrency),
        }
    }

    pub fn code(&self) -> &str {
        // Only ASCII upper-case letters get in through `parse` and the constants.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Minor units in one major unit. Hongshu's currencies all use two decimals.
    pub const fn minor_per_major(&self) -> i64 {
        100
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(code: String) -> Result<Self, Self::Error> {
        Currency::parse(&code)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.code().to_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currency must be a three-letter upper-case ISO 4217 code")]
    BadCurrency,
    #[error("amounts in different currencies cannot be combined")]
    CurrencyMismatch,
    #[error("amount is out of range")]
    Overflow,
}

impl Money {
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch);
        }
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }
}

/// An amount written with up to two decimals (`123.45`, `123.4`, `123`) in minor units;
/// anything else (signs, exponents, a third decimal, absurd sizes) is refused.
pub fn minor_units(text: &str) -> Option<i64> {
    let (whole, part) = match text.split_once('.') {
        Some((_, "")) => return None,
        Some(split) => split,
        None => (text, ""),
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || part.len() > 2 || !(part.is_empty() || digits(part)) {
        return None;
    }
    let cents: i64 = format!("{part:0<2}").parse().ok()?;
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents)
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per = self.currency.minor_per_major();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let per = per.unsigned_abs();
        write!(
            f,
            "{sign}{}.{:02} {}",
            abs / per,
            abs % per,
            self.currency.code()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_amounts_are_read_exactly_or_refused() {
        assert_eq!(minor_units("123.45"), Some(12_345));
        assert_eq!(minor_units("0.5"), Some(50));
        assert_eq!(minor_units("88"), Some(8_800));
        for bad in [
            "",
            "1.234",
            "-1",
            "1e3",
            "abc",
            ".5",
            "12.",
            "99999999999999",
        ] {
            assert_eq!(minor_units(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn money_prints_in_major_units() {
        assert_eq!(Money::new(12_345, Currency::CNY).to_string(), "123.45 CNY");
        assert_eq!(Money::new(-5, Currency::CNY).to_string(), "-0.05 CNY");
    }

    #[test]
    fn adding_across_currencies_or_past_the_range_fails() {
        let usd = Currency::parse("USD").unwrap();
        let cny = Money::new(1, Currency::CNY);
        assert_eq!(
            cny.checked_add(Money::new(1, usd)),
            Err(MoneyError::CurrencyMismatch)
        );
        assert_eq!(
            Money::new(i64::MAX, Currency::CNY).checked_add(cny),
            Err(MoneyError::Overflow)
        );
        assert_eq!(cny.checked_add(cny), Ok(Money::new(2, Currency::CNY)));
    }

    #[test]
    fn currency_codes_are_checked() {
        for bad in ["", "cny", "CN", "CNYY", "C1Y"] {
            assert_eq!(
                Currency::parse(bad),
                Err(MoneyError::BadCurrency),
                "{bad:?}"
            );
        }
    }
}
