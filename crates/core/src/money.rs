//! Money: integer minor units and an ISO 4217 currency. Never floats.
//! On the wire money is `{"amount": "12.34", "currency": "USD"}`.

use crate::limits::MAX_MONEY_MINOR;
use std::fmt;

/// An ISO 4217 alphabetic code of a currency in circulation (the standard's
/// list, with funds codes such as `CLF`; not precious metals, `XTS` or `XXX`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// ISO 4217 alphabetic codes and their minor units (digits after the decimal
/// point), sorted by code. Recently withdrawn codes whose amounts may still be
/// held (`ANG`, `BGN`) stay accepted.
pub const ISO_4217: &[(&str, u32)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BOV", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHE", 2),
    ("CHF", 2),
    ("CHW", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("COU", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MXV", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("USN", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

impl Currency {
    /// Parses an ISO 4217 code in any letter case (`usd`, `Usd` → `USD`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let b = s.as_bytes();
        if b.len() != 3 || !b.iter().all(|c| c.is_ascii_alphabetic()) {
            return Err(format!(
                "`{s}` is not a currency code (three letters, e.g. USD)"
            ));
        }
        let up = s.to_ascii_uppercase();
        let (s, b) = (up.as_str(), up.as_bytes());
        if ISO_4217.binary_search_by(|(c, _)| c.cmp(&s)).is_err() {
            return Err(format!("`{s}` is not an ISO 4217 currency code"));
        }
        Ok(Self([b[0], b[1], b[2]]))
    }
    pub fn as_str(&self) -> &str {
        // Constructed from ASCII only.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
    /// Digits after the decimal point (ISO 4217 minor unit).
    pub fn exponent(&self) -> u32 {
        let code = self.as_str();
        ISO_4217
            .binary_search_by(|(c, _)| c.cmp(&code))
            .map(|i| ISO_4217[i].1)
            .unwrap_or(2)
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
    fn only_iso_4217_codes_are_currencies() {
        for ok in ["USD", "EUR", "CNY", "JPY", "KWD", "CLF", "XCG", "ZWG"] {
            assert!(Currency::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ABC", "XXX", "XTS", "XAU", "QQQ", "us1", "US", "USDX", "", "ÜSD",
        ] {
            assert!(Currency::parse(bad).is_err(), "{bad}");
        }
        // Any letter case, normalised.
        for loose in ["usd", "Usd", "uSD"] {
            assert_eq!(Currency::parse(loose).unwrap().as_str(), "USD");
        }
        assert!(Money::parse("1.00", "ABC")
            .unwrap_err()
            .contains("ISO 4217"));
        assert!(
            ISO_4217.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, no duplicates"
        );
        let exp = |c: &str| Currency::parse(c).unwrap().exponent();
        assert_eq!(
            (exp("USD"), exp("JPY"), exp("KWD"), exp("CLF")),
            (2, 0, 3, 4)
        );
    }

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
        assert_eq!(Money::parse("1", "usd").unwrap().currency.as_str(), "USD");
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
