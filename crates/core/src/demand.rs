//! Demands: what a requester wants (the item) and from whom (holder criteria).

use crate::category::TaxonomyPath;
use crate::error::ValidationError;
use crate::limits::*;
use crate::money::Money;
use crate::reputation::ReputationCounts;

/// The item part of a demand.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemSpec {
    pub query: String,
    pub category: Option<TaxonomyPath>,
    pub max_price: Option<Money>,
}

/// Criteria on holders. Every criterion given must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HolderCriteria {
    pub min_positive_rate: Option<f64>,
    pub min_success_rate: Option<f64>,
    pub min_ratings: Option<u64>,
    /// At least one holder field must lie on the same branch as one of these.
    pub fields: Vec<TaxonomyPath>,
}

/// The criteria a holder can fail, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Criterion {
    MinPositiveRate,
    MinSuccessRate,
    MinRatings,
    Fields,
}

impl Criterion {
    pub const ALL: [Criterion; 4] = [
        Self::MinPositiveRate,
        Self::MinSuccessRate,
        Self::MinRatings,
        Self::Fields,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MinPositiveRate => "min_positive_rate",
            Self::MinSuccessRate => "min_success_rate",
            Self::MinRatings => "min_ratings",
            Self::Fields => "fields",
        }
    }
}

impl HolderCriteria {
    /// Whether a holder with these counts and fields meets `criterion`.
    /// A criterion that is not set always holds. A holder with no ratings has
    /// no positive rate and fails a `min_positive_rate`; likewise for success.
    pub fn holds(&self, c: Criterion, rep: &ReputationCounts, fields: &[TaxonomyPath]) -> bool {
        match c {
            Criterion::MinPositiveRate => self
                .min_positive_rate
                .is_none_or(|min| rep.positive_rate().is_some_and(|r| r >= min)),
            Criterion::MinSuccessRate => self
                .min_success_rate
                .is_none_or(|min| rep.success_rate().is_some_and(|r| r >= min)),
            Criterion::MinRatings => self.min_ratings.is_none_or(|min| rep.ratings >= min),
            Criterion::Fields => {
                self.fields.is_empty()
                    || self
                        .fields
                        .iter()
                        .any(|want| fields.iter().any(|f| f.same_branch(want)))
            }
        }
    }

    /// Whether this holder meets every criterion.
    pub fn qualifies(&self, rep: &ReputationCounts, fields: &[TaxonomyPath]) -> bool {
        Criterion::ALL
            .into_iter()
            .all(|c| self.holds(c, rep, fields))
    }

    /// The criteria this holder fails (empty when it qualifies).
    pub fn failures(&self, rep: &ReputationCounts, fields: &[TaxonomyPath]) -> Vec<Criterion> {
        Criterion::ALL
            .into_iter()
            .filter(|c| !self.holds(*c, rep, fields))
            .collect()
    }
}

/// Checks a rate in [0, 1].
pub fn validate_rate(field: &str, v: f64) -> Result<f64, ValidationError> {
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(ValidationError::new(
            field,
            "must be a number between 0 and 1",
        ))
    }
}

/// Checks a free-text field: trimmed non-empty (unless `allow_empty`), at
/// most `max` characters as sent (blanks around it count, as the API
/// schema's `maxLength` counts them), no control characters but newlines and tabs.
pub fn validate_text(
    field: &str,
    s: &str,
    max: usize,
    allow_empty: bool,
) -> Result<String, ValidationError> {
    let t = s.trim();
    if t.is_empty() && !allow_empty {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if s.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(ValidationError::new(
            field,
            "control characters are not allowed",
        ));
    }
    if t.chars().any(is_bidi_control) {
        return Err(ValidationError::new(
            field,
            "bidirectional override, embedding and isolate characters (U+202A–U+202E, U+2066–U+2069) are not allowed",
        ));
    }
    if !t.is_empty() && t.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
        return Err(ValidationError::new(
            field,
            "must contain visible characters",
        ));
    }
    Ok(t.to_string())
}

/// Characters that reorder the text around them (Trojan Source, CVE-2021-42574):
/// a name or title holding one can display as something it is not.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that render as nothing (zero-width spaces and joiners, marks,
/// fillers, the BOM): a text of only these looks empty.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2060}'..='\u{2064}'
            | '\u{206A}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// Checks an integer range.
pub fn validate_range(field: &str, v: i64, min: i64, max: i64) -> Result<i64, ValidationError> {
    if (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(ValidationError::new(
            field,
            format!("must be between {min} and {max}"),
        ))
    }
}

/// Parses a list of taxonomy paths, deduplicated, at most [`MAX_FIELDS`].
pub fn parse_fields(field: &str, raw: &[String]) -> Result<Vec<TaxonomyPath>, ValidationError> {
    if raw.len() > MAX_FIELDS {
        return Err(ValidationError::new(
            field,
            format!("at most {MAX_FIELDS} entries"),
        ));
    }
    let mut out: Vec<TaxonomyPath> = Vec::with_capacity(raw.len());
    for (i, s) in raw.iter().enumerate() {
        let p = TaxonomyPath::parse(s, &format!("{field}[{i}]"))?;
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

/// Fan-out and time limits of a demand, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fanout {
    pub min_holders: u32,
    pub max_holders: u32,
    pub ttl_seconds: u32,
}

impl Fanout {
    pub fn new(
        min_holders: Option<u32>,
        max_holders: Option<u32>,
        ttl_seconds: Option<u32>,
    ) -> Result<Self, ValidationError> {
        let min = min_holders.unwrap_or(DEFAULT_MIN_HOLDERS);
        if !(MIN_MIN_HOLDERS..=MAX_MAX_HOLDERS).contains(&min) {
            return Err(ValidationError::new(
                "min_holders",
                format!("must be between {MIN_MIN_HOLDERS} and {MAX_MAX_HOLDERS}"),
            ));
        }
        let max = max_holders.unwrap_or(DEFAULT_MAX_HOLDERS.max(min));
        if !(min..=MAX_MAX_HOLDERS).contains(&max) {
            // The schema states 2–20; that it is at least `min_holders` is a rule between fields.
            let refuse = if (MIN_MIN_HOLDERS..=MAX_MAX_HOLDERS).contains(&max) {
                ValidationError::rule
            } else {
                ValidationError::new
            };
            return Err(refuse(
                "max_holders",
                format!("must be between min_holders ({min}) and {MAX_MAX_HOLDERS}"),
            ));
        }
        let ttl = ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
        if !(MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(&ttl) {
            return Err(ValidationError::new(
                "ttl_seconds",
                format!("must be between {MIN_TTL_SECONDS} and {MAX_TTL_SECONDS}"),
            ));
        }
        Ok(Self {
            min_holders: min,
            max_holders: max,
            ttl_seconds: ttl,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_overrides_and_invisible_only_text_are_refused() {
        let check = |s: &str| validate_text("name", s, 100, false);
        assert_eq!(check("Ada Lovelace").unwrap(), "Ada Lovelace");
        assert_eq!(check("李雷").unwrap(), "李雷");
        assert_eq!(
            check("مرحبا").unwrap(),
            "مرحبا",
            "right-to-left text is fine"
        );
        // A zero-width joiner inside an emoji sequence is legitimate.
        assert!(check("family 👨\u{200D}👩\u{200D}👧").is_ok());
        for bad in [
            "invoice\u{202E}fdp.exe",
            "\u{2066}admin\u{2069}",
            "a\u{202A}b",
            "a\u{202D}b",
            "a\u{2068}b",
        ] {
            let e = check(bad).unwrap_err();
            assert_eq!(e.field, "name");
            assert!(e.message.contains("bidirectional"), "{bad:?}: {e}");
        }
        for empty in [
            "\u{200B}",
            "\u{200B}\u{200C}\u{FEFF}",
            " \u{3164} ",
            "\u{2800}\u{2060}",
        ] {
            let e = check(empty).unwrap_err();
            assert!(e.message.contains("visible"), "{empty:?}: {e}");
        }
        // Optional text may be empty, but not invisible.
        assert_eq!(validate_text("note", "", 10, true).unwrap(), "");
        assert!(validate_text("note", "\u{200B}", 10, true).is_err());
    }
    use proptest::prelude::*;

    fn path(s: &str) -> TaxonomyPath {
        TaxonomyPath::parse(s, "f").unwrap()
    }

    #[test]
    fn no_ratings_fails_min_positive_rate() {
        let c = HolderCriteria {
            min_positive_rate: Some(0.0),
            ..Default::default()
        };
        assert!(!c.holds(
            Criterion::MinPositiveRate,
            &ReputationCounts::default(),
            &[]
        ));
        let c = HolderCriteria::default();
        assert!(c.failures(&ReputationCounts::default(), &[]).is_empty());
    }

    #[test]
    fn fields_on_same_branch() {
        let c = HolderCriteria {
            fields: vec![path("electronics/audio")],
            ..Default::default()
        };
        let rep = ReputationCounts::default();
        assert!(c.holds(Criterion::Fields, &rep, &[path("electronics")]));
        assert!(c.holds(
            Criterion::Fields,
            &rep,
            &[path("electronics/audio/headphones")]
        ));
        assert!(!c.holds(Criterion::Fields, &rep, &[path("electronics/video")]));
        assert!(!c.holds(Criterion::Fields, &rep, &[]));
    }

    #[test]
    fn fanout_edges() {
        assert_eq!(
            Fanout::new(None, None, None).unwrap(),
            Fanout {
                min_holders: 2,
                max_holders: 5,
                ttl_seconds: 300
            }
        );
        assert_eq!(
            Fanout::new(Some(1), None, None).unwrap_err().field,
            "min_holders"
        );
        assert_eq!(Fanout::new(Some(8), None, None).unwrap().max_holders, 8);
        assert_eq!(
            Fanout::new(Some(3), Some(2), None).unwrap_err().field,
            "max_holders"
        );
        assert!(Fanout::new(None, Some(MAX_MAX_HOLDERS), None).is_ok());
        assert_eq!(
            Fanout::new(None, Some(MAX_MAX_HOLDERS + 1), None)
                .unwrap_err()
                .field,
            "max_holders"
        );
        assert!(Fanout::new(None, None, Some(MIN_TTL_SECONDS)).is_ok());
        assert_eq!(
            Fanout::new(None, None, Some(MIN_TTL_SECONDS - 1))
                .unwrap_err()
                .field,
            "ttl_seconds"
        );
        assert_eq!(
            Fanout::new(None, None, Some(MAX_TTL_SECONDS + 1))
                .unwrap_err()
                .field,
            "ttl_seconds"
        );
    }

    #[test]
    fn text_limits() {
        assert!(validate_text("t", &"x".repeat(10), 10, false).is_ok());
        assert_eq!(
            validate_text("t", &"x".repeat(11), 10, false)
                .unwrap_err()
                .field,
            "t"
        );
        assert!(validate_text("t", "  ", 10, false).is_err());
        assert!(validate_text("t", "a\u{0}b", 10, false).is_err());
        assert!(validate_rate("r", f64::NAN).is_err());
        assert!(validate_rate("r", 1.01).is_err());
    }

    proptest! {
        #[test]
        fn criteria_match_their_definition(pos in 0u64..50, extra in 0u64..50, off in 0u64..50, extra2 in 0u64..50,
                                           minp in 0.0f64..=1.0, mins in 0.0f64..=1.0, minr in 0u64..100) {
            let rep = ReputationCounts { positive: pos, ratings: pos + extra, offered: off, interactions: off + extra2 };
            let c = HolderCriteria { min_positive_rate: Some(minp), min_success_rate: Some(mins), min_ratings: Some(minr), fields: vec![] };
            let f = c.failures(&rep, &[]);
            let ok_p = rep.ratings > 0 && (pos as f64 / rep.ratings as f64) >= minp;
            let ok_s = rep.interactions > 0 && (off as f64 / rep.interactions as f64) >= mins;
            prop_assert_eq!(f.contains(&Criterion::MinPositiveRate), !ok_p);
            prop_assert_eq!(f.contains(&Criterion::MinSuccessRate), !ok_s);
            prop_assert_eq!(f.contains(&Criterion::MinRatings), rep.ratings < minr);
        }
    }
}
