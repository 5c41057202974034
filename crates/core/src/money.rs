//! Money: integer minor units and an ISO 4217 currency. Never floats.
//! On the wire money is `{"amount": "12.34", "currency": "USD"}`.

use crate::limits::MAX_MONEY_MINOR;
use std::fmt;

/// An ISO 4217 alphabetic code (three uppercase ASCII letters).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(s: &str) -> Result<Self, String> {
        let b = s.as_bytes();
        if b.len() != 3 || !b.iter().all(|c| c.is_ascii_uppercase()) {
            return Err(format!(
                "`{s}` is not a currency code (three uppercase letters, e.g. USD)"
            ));
        }
        Ok(Self([b[0], b[1], b[2]]))
    }
    pub fn as_str(&self) -> &str {
        // Constructed from ASCII only.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
    /// Digits after the decimal point (ISO 4217 minor unit).
    pub fn exponent(&self) -> u32 {
        match self.as_str() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF"
            | "UGX" | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            _ => 2,
        }
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount of money in minor units (cents for USD).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Parses a decimal string such as `12.34`, `-5`, `0.5` in the currency's
    /// minor unit. More fraction digits than the currency has, exponents,
    /// signs other than a leading `-`, and amounts beyond ±10^15 minor units are refused.
    pub fn parse(amount: &str, currency: &str) -> Result<Self, String> {
        let currency = Currency::parse(currency)?;
        let exp = currency.exponent() as usize;
        let (neg, digits) = match amount.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, amount),
        };
        let (int, frac) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        let bad =
            || format!("`{amount}` is not a decimal amount with at most {exp} fraction digits");
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if digits.contains('.') && (frac.is_empty() || frac.len() > exp) {
            return Err(bad());
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) || int.len() > 19 {
            return Err(bad());
        }
        let mut minor: i128 = int.parse::<i128>().map_err(|_| bad())?;
        for i in 0..exp {
            let d = frac
                .as_bytes()
                .get(i)
                .map(|b| (b - b'0') as i128)
                .unwrap_or(0);
            minor = minor * 10 + d;
        }
        if minor > MAX_MONEY_MINOR as i128 {
            return Err(format!("`{amount}` is too large"));
        }
        let minor = minor as i64;
        Ok(Self {
            minor: if neg { -minor } else { minor },
            currency,
        })
    }

    /// The amount as a decimal string with exactly the currency's fraction digits.
    pub fn amount_string(&self) -> String {
        let exp = self.currency.exponent();
        let abs = self.minor.unsigned_abs();
        let sign = if self.minor < 0 { "-" } else { "" };
        if exp == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10u64.pow(exp);
        format!(
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = exp as usize
        )
    }

    /// `self × quantity`, or `None` on overflow past the money limit.
    pub fn times(&self, quantity: i64) -> Option<Money> {
        let m = self.minor.checked_mul(quantity)?;
        (m.abs() <= MAX_MONEY_MINOR).then_some(Money {
            minor: m,
            currency: self.currency,
        })
    }

    /// `bps` basis points of this amount, rounded down to the minor unit
    /// (a commission never exceeds its exact value).
    pub fn basis_points(&self, bps: i64) -> Money {
        let m = (self.minor as i128 * bps as i128).div_euclid(10_000);
        Money {
            minor: m as i64,
            currency: self.currency,
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount_string(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_and_format() {
        let m = Money::parse("12.34", "USD").unwrap();
        assert_eq!(m.minor, 1234);
        assert_eq!(m.amount_string(), "12.34");
        assert_eq!(Money::parse("12.3", "USD").unwrap().minor, 1230);
        assert_eq!(Money::parse("12", "USD").unwrap().amount_string(), "12.00");
        assert_eq!(
            Money::parse("-0.05", "USD").unwrap().amount_string(),
            "-0.05"
        );
        assert_eq!(Money::parse("1500", "JPY").unwrap().amount_string(), "1500");
        assert_eq!(Money::parse("1.500", "KWD").unwrap().minor, 1500);
        for bad in [
            "", "1.", ".5", "1.234", "1e3", "+1", "1,00", " 1", "NaN", "1.2.3",
        ] {
            assert!(Money::parse(bad, "USD").is_err(), "{bad:?}");
        }
        assert!(Money::parse("1.5", "JPY").is_err());
        assert!(Money::parse("1", "usd").is_err());
        assert!(Money::parse("99999999999999999999", "USD").is_err());
        assert!(Money::parse("10000000000000.01", "USD").is_err());
    }

    #[test]
    fn commission_rounds_down() {
        let m = Money::parse("9.99", "USD").unwrap();
        assert_eq!(m.basis_points(1000).minor, 99); // 0.999 → 0.99
        assert_eq!(m.basis_points(10_000).minor, 999);
        assert_eq!(m.basis_points(0).minor, 0);
    }

    proptest! {
        #[test]
        fn format_parse_round_trip(minor in -MAX_MONEY_MINOR..=MAX_MONEY_MINOR, cur in prop::sample::select(vec!["USD", "JPY", "KWD", "CNY"])) {
            let m = Money::new(minor, Currency::parse(cur).unwrap());
            prop_assert_eq!(Money::parse(&m.amount_string(), cur).unwrap(), m);
        }

        #[test]
        fn commission_never_exceeds_total(minor in 0..MAX_MONEY_MINOR, bps in 0i64..=10_000) {
            let m = Money::new(minor, Currency::parse("USD").unwrap());
            let c = m.basis_points(bps);
            prop_assert!(c.minor >= 0 && c.minor <= m.minor);
            prop_assert!((c.minor as i128) * 10_000 <= minor as i128 * bps as i128);
            prop_assert!((c.minor as i128 + 1) * 10_000 > minor as i128 * bps as i128);
        }
    }
}
