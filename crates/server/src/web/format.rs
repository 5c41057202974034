//! Numbers, money and times as each language writes them.
//!
//! * Money comes from integer minor units (the wire's decimal string parsed
//!   exactly by `symbolon_core::Money`, never a float), with the currency's
//!   own number of fraction digits. The rule: a currency with a symbol in the
//!   language's table is written symbol-first with no space (`$1,290.00`,
//!   `€129.00`; in Chinese `¥129.00` for yuan, `US$129.00` for dollars),
//!   any other as amount and code (`129.00 CHF`) in both languages.
//! * Numbers group thousands with a comma (both languages do).
//! * Times are shown in UTC, said so: `Dec 6, 2026, 14:05 UTC` /
//!   `2026年12月6日 14:05 UTC`; days alone `Dec 6, 2026` / `2026年12月6日`.
//! * Rates (0–1) as whole percentages: `83%`.

use super::i18n::Lang;
use symbolon_api as api;
use symbolon_core::Timestamp;

/// `1234567` → `1,234,567`.
pub fn number(_lang: Lang, n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn symbol(lang: Lang, currency: &str) -> Option<&'static str> {
    Some(match (lang, currency) {
        (Lang::EnUs, "USD") => "$",
        (Lang::ZhCn, "USD") => "US$",
        (Lang::EnUs, "CNY") => "CN¥",
        (Lang::ZhCn, "CNY") => "¥",
        (Lang::EnUs, "JPY") => "¥",
        (Lang::ZhCn, "JPY") => "JP¥",
        (_, "EUR") => "€",
        (_, "GBP") => "£",
        (_, "HKD") => "HK$",
        (_, "CAD") => "CA$",
        (_, "AUD") => "A$",
        _ => return None,
    })
}

/// An amount of `minor` units of `currency` (`12900`, `EUR` → `€129.00`).
pub fn money_minor(lang: Lang, minor: i64, currency: &str) -> String {
    let exp = symbolon_core::money::Currency::parse(currency)
        .map(|c| c.exponent())
        .unwrap_or(2);
    let abs = minor.unsigned_abs();
    let scale = 10u64.pow(exp);
    let int = number(lang, (abs / scale) as i64);
    let amount = if exp == 0 {
        int
    } else {
        format!("{int}.{:0w$}", abs % scale, w = exp as usize)
    };
    let sign = if minor < 0 { "-" } else { "" };
    match symbol(lang, currency) {
        Some(s) => format!("{sign}{s}{amount}"),
        None => format!("{sign}{amount} {currency}"),
    }
}

/// Money as the wire carries it (a decimal string and a code); shown as it
/// came when it does not parse.
pub fn money(lang: Lang, m: &api::Money) -> String {
    match symbolon_core::Money::parse(&m.amount, &m.currency) {
        Ok(v) => money_minor(lang, v.minor, v.currency.as_str()),
        Err(_) => format!("{} {}", m.amount, m.currency),
    }
}

/// Whether a wire amount is more than zero.
pub fn positive(m: &api::Money) -> bool {
    symbolon_core::Money::parse(&m.amount, &m.currency).is_ok_and(|v| v.minor > 0)
}

/// A rate in 0–1 as a whole percentage (`0.834` → `83%`).
pub fn percent(_lang: Lang, rate: f64) -> String {
    format!("{}%", (rate * 100.0).round() as i64)
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

struct Civil {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
}

fn civil(at: Timestamp) -> Civil {
    let dt = time::OffsetDateTime::from_unix_timestamp_nanos(at.millis() as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    Civil {
        year: dt.year(),
        month: u8::from(dt.month()),
        day: dt.day(),
        hour: dt.hour(),
        minute: dt.minute(),
    }
}

/// A day: `Dec 6, 2026` / `2026年12月6日`.
pub fn day_of(lang: Lang, at: Timestamp) -> String {
    let c = civil(at);
    match lang {
        Lang::EnUs => format!(
            "{} {}, {}",
            MONTHS_EN[(c.month as usize).saturating_sub(1) % 12],
            c.day,
            c.year
        ),
        Lang::ZhCn => format!("{}年{}月{}日", c.year, c.month, c.day),
    }
}

/// A moment: `Dec 6, 2026, 14:05 UTC` / `2026年12月6日 14:05 UTC`.
pub fn datetime_of(lang: Lang, at: Timestamp) -> String {
    let c = civil(at);
    let sep = match lang {
        Lang::EnUs => ", ",
        Lang::ZhCn => " ",
    };
    format!("{}{sep}{:02}:{:02} UTC", day_of(lang, at), c.hour, c.minute)
}

/// An RFC 3339 string from the wire as a moment; as it came when it does not parse.
pub fn datetime(lang: Lang, rfc3339: &str) -> String {
    match Timestamp::parse_rfc3339(rfc3339) {
        Some(t) => datetime_of(lang, t),
        None => rfc3339.to_string(),
    }
}

/// An RFC 3339 string from the wire as a day.
pub fn day(lang: Lang, rfc3339: &str) -> String {
    match Timestamp::parse_rfc3339(rfc3339) {
        Some(t) => day_of(lang, t),
        None => rfc3339.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(amount: &str, currency: &str) -> api::Money {
        api::Money {
            amount: amount.into(),
            currency: currency.into(),
        }
    }

    #[test]
    fn money_is_written_from_minor_units_per_language() {
        assert_eq!(money(Lang::EnUs, &m("129.00", "EUR")), "€129.00");
        assert_eq!(money(Lang::ZhCn, &m("129.00", "EUR")), "€129.00");
        assert_eq!(money(Lang::EnUs, &m("1290", "USD")), "$1,290.00");
        assert_eq!(money(Lang::ZhCn, &m("1290", "USD")), "US$1,290.00");
        assert_eq!(money(Lang::ZhCn, &m("88.5", "CNY")), "¥88.50");
        assert_eq!(money(Lang::EnUs, &m("88.5", "CNY")), "CN¥88.50");
        // No fraction digits for yen; three for dinar; a code for the rest.
        assert_eq!(money(Lang::EnUs, &m("1234567", "JPY")), "¥1,234,567");
        assert_eq!(money(Lang::ZhCn, &m("1500", "JPY")), "JP¥1,500");
        assert_eq!(money(Lang::EnUs, &m("1.5", "KWD")), "1.500 KWD");
        assert_eq!(money(Lang::ZhCn, &m("0.05", "CHF")), "0.05 CHF");
        assert_eq!(money(Lang::EnUs, &m("-3.10", "GBP")), "-£3.10");
        // Exact far beyond f64's integer range.
        assert_eq!(
            money_minor(Lang::EnUs, 999_999_999_999_999, "USD"),
            "$9,999,999,999,999.99"
        );
        // What does not parse is shown as it came.
        assert_eq!(money(Lang::EnUs, &m("x", "USD")), "x USD");
        assert!(positive(&m("0.01", "USD")) && !positive(&m("0.00", "USD")));
    }

    #[test]
    fn numbers_group_thousands() {
        assert_eq!(number(Lang::EnUs, 0), "0");
        assert_eq!(number(Lang::EnUs, 999), "999");
        assert_eq!(number(Lang::ZhCn, 1000), "1,000");
        assert_eq!(number(Lang::EnUs, -1_234_567), "-1,234,567");
        assert_eq!(percent(Lang::EnUs, 0.834), "83%");
        assert_eq!(percent(Lang::ZhCn, 1.0), "100%");
    }

    #[test]
    fn times_are_written_per_language_in_utc() {
        let at = "2026-12-06T14:05:09.123Z";
        assert_eq!(datetime(Lang::EnUs, at), "Dec 6, 2026, 14:05 UTC");
        assert_eq!(datetime(Lang::ZhCn, at), "2026年12月6日 14:05 UTC");
        assert_eq!(day(Lang::EnUs, at), "Dec 6, 2026");
        assert_eq!(
            day(Lang::ZhCn, "2027-01-31T23:59:59+00:00"),
            "2027年1月31日"
        );
        // Another offset is converted to UTC.
        assert_eq!(
            datetime(Lang::EnUs, "2026-12-07T01:30:00+08:00"),
            "Dec 6, 2026, 17:30 UTC"
        );
        assert_eq!(datetime(Lang::EnUs, "soon"), "soon");
    }
}
