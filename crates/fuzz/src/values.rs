//! Money and category parsing (`symbolon-core`).

use symbolon_core::demand::parse_fields;
use symbolon_core::limits::{
    MAX_FIELDS, MAX_MONEY_MINOR, MAX_PATH_SEGMENTS, MAX_PATH_SEGMENT_CHARS,
};
use symbolon_core::money::ISO_4217;
use symbolon_core::{Currency, Money, TaxonomyPath};

/// Target `money`: the input is an amount and a currency (NUL-separated).
/// What parses is within the limit, formats with the currency's digits and
/// parses back to itself; arithmetic on it never panics.
pub fn money(data: &[u8]) {
    let Some([amount, currency, extra]) = crate::text_fields::<3>(data) else {
        return;
    };
    if let Ok(c) = Currency::parse(currency) {
        let code = c.as_str();
        assert!(ISO_4217.iter().any(|(iso, _)| *iso == code), "{code}");
        assert!(c.exponent() <= 4);
        assert_eq!(Currency::parse(code), Ok(c));
    }
    let Ok(m) = Money::parse(amount, currency) else {
        return;
    };
    assert!(m.minor.abs() <= MAX_MONEY_MINOR, "{amount} → {}", m.minor);
    let text = m.amount_string();
    assert_eq!(
        Money::parse(&text, m.currency.as_str()),
        Ok(m),
        "{amount} → {text}"
    );
    let digits = text.rsplit_once('.').map_or(0, |(_, f)| f.len());
    assert_eq!(digits as u32, m.currency.exponent(), "{text}");
    let n: i64 = extra.trim().parse().unwrap_or(3);
    if let Some(t) = m.times(n) {
        assert!(t.minor.abs() <= MAX_MONEY_MINOR);
        assert_eq!(t.minor, m.minor * n);
    }
    let bps = n.rem_euclid(10_001);
    let c = m.basis_points(bps);
    assert!(c.minor.abs() <= m.minor.abs(), "{m} × {bps} bps = {c}");
    let _ = m.to_string();
}

/// Target `category`: the input is a taxonomy path, and also (split at
/// newlines) a holder's list of fields. What parses is normalised for good:
/// parsing its text again gives itself; it lies under itself and its
/// ancestors.
pub fn category(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = TaxonomyPath::parse(text, "category") {
        let again = TaxonomyPath::parse(p.as_str(), "category");
        assert_eq!(again.as_ref(), Ok(&p), "{text:?} → {p:?}");
        let segments: Vec<&str> = p.segments().collect();
        assert!(!segments.is_empty() && segments.len() <= MAX_PATH_SEGMENTS);
        for s in &segments {
            assert!(!s.is_empty() && s.chars().count() <= MAX_PATH_SEGMENT_CHARS);
            assert_eq!(s.trim(), *s);
        }
        assert!(p.is_under(&p) && p.same_branch(&p));
        for n in 1..segments.len() {
            let ancestor =
                TaxonomyPath::parse(&segments[..n].join("/"), "a").expect("a prefix parses");
            assert!(p.is_under(&ancestor) && !ancestor.is_under(&p));
        }
    }
    let raw: Vec<String> = text.split('\n').map(str::to_string).collect();
    if let Ok(fields) = parse_fields("fields", &raw) {
        assert!(fields.len() <= MAX_FIELDS && fields.len() <= raw.len());
        for (i, f) in fields.iter().enumerate() {
            assert!(!fields[..i].contains(f), "duplicate field {f}");
        }
    }
}
