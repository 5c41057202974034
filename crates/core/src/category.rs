//! Taxonomy paths: categories (`electronics/audio/headphones`) and holders'
//! fields of focus. Segments are trimmed and lowercased; comparison is by segment.

use crate::error::ValidationError;
use crate::limits::{MAX_PATH_SEGMENTS, MAX_PATH_SEGMENT_CHARS};
use std::fmt;

/// A normalized `a/b/c` path.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaxonomyPath(String);

impl TaxonomyPath {
    /// Parses and normalizes; `field` names the input in the error.
    pub fn parse(s: &str, field: &str) -> Result<Self, ValidationError> {
        let segs: Vec<String> = s.split('/').map(|seg| seg.trim().to_lowercase()).collect();
        if segs.len() > MAX_PATH_SEGMENTS {
            return Err(ValidationError::new(
                field,
                format!("at most {MAX_PATH_SEGMENTS} segments"),
            ));
        }
        for seg in &segs {
            if seg.is_empty() {
                return Err(ValidationError::new(
                    field,
                    "a path like `a/b/c` with no empty segment",
                ));
            }
            if seg.chars().count() > MAX_PATH_SEGMENT_CHARS {
                return Err(ValidationError::new(
                    field,
                    format!("segments are at most {MAX_PATH_SEGMENT_CHARS} characters"),
                ));
            }
            if seg.chars().any(|c| c.is_control()) {
                return Err(ValidationError::new(
                    field,
                    "control characters are not allowed",
                ));
            }
        }
        Ok(Self(segs.join("/")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// True when `self` equals `ancestor` or lies under it (`a/b/c` is under `a/b`, not under `a/bc`).
    pub fn is_under(&self, ancestor: &TaxonomyPath) -> bool {
        let mut mine = self.segments();
        ancestor.segments().all(|a| mine.next() == Some(a))
    }

    /// True when one path is a prefix of the other, by segments.
    pub fn same_branch(&self, other: &TaxonomyPath) -> bool {
        self.is_under(other) || other.is_under(self)
    }
}

impl fmt::Debug for TaxonomyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}
impl fmt::Display for TaxonomyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> TaxonomyPath {
        TaxonomyPath::parse(s, "f").unwrap()
    }

    #[test]
    fn normalizes_and_compares_by_segment() {
        assert_eq!(p(" Electronics / Audio ").as_str(), "electronics/audio");
        assert!(p("a/b/c").is_under(&p("a/b")));
        assert!(p("a/b").is_under(&p("a/b")));
        assert!(!p("a/bc").is_under(&p("a/b")));
        assert!(!p("a").is_under(&p("a/b")));
        assert!(p("a").same_branch(&p("a/b")));
        assert!(!p("a/c").same_branch(&p("a/b")));
        assert!(TaxonomyPath::parse("a//b", "x").is_err());
        assert!(TaxonomyPath::parse("", "x").is_err());
        assert!(TaxonomyPath::parse("a/".repeat(8).trim_end_matches('/'), "x").is_ok());
        assert!(TaxonomyPath::parse(&["a"; 9].join("/"), "x").is_err());
        assert!(TaxonomyPath::parse(&"x".repeat(65), "x").is_err());
        assert_eq!(p("家电/手机").as_str(), "家电/手机");
    }

    proptest! {
        #[test]
        fn same_branch_is_symmetric_and_prefix_based(a in "[ab]{1}(/[ab]){0,3}", b in "[ab]{1}(/[ab]){0,3}") {
            let (pa, pb) = (p(&a), p(&b));
            prop_assert_eq!(pa.same_branch(&pb), pb.same_branch(&pa));
            let expected = a == b || a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/"));
            prop_assert_eq!(pa.same_branch(&pb), expected);
        }
    }
}
