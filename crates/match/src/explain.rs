//! Explaining a refusal: for each criterion of a demand, the smallest
//! relaxation that alone (every other criterion unchanged) would make at least
//! `min_holders` holders qualify.
//!
//! Qualification is monotone in every threshold (a lower `min_*` or a higher
//! `max_price` never removes a holder), so each threshold is found by a binary
//! search over the values present in the market, each probe ranked by the
//! matcher itself — the explanation can never disagree with matching.

use crate::{MatchQuery, Matcher};
use serde::Serialize;
use std::collections::BTreeMap;
use symbolon_core::reputation::ReputationCounts;
use symbolon_core::Money;

/// The relaxed value of one criterion.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RelaxedTo {
    Rate(f64),
    Count(u64),
    Price {
        amount: String,
        currency: String,
    },
    Category(String),
    /// Only dropping the criterion reaches `min_holders`.
    Dropped,
}

/// One criterion's smallest sufficient relaxation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Relaxation {
    /// The relaxed value; `null` when only dropping the criterion is enough.
    pub to: RelaxedTo,
    /// How many holders would qualify with it.
    pub qualified: u64,
}

/// Whether `q` qualifies `need` holders: the qualified count, capped at `need`.
fn count(m: &dyn Matcher, need: u64, q: &MatchQuery) -> u64 {
    m.rank(q, need as usize).len() as u64
}

/// How many holders `q` qualifies (exhaustive; once per relaxation offered).
fn full(m: &dyn Matcher, q: &MatchQuery) -> u64 {
    m.eliminations(q).qualified
}

/// The first candidate (in order of increasing relaxation) whose query reaches
/// `need`, by binary search; candidates must be ordered from least to most relaxed.
fn first_reaching<T: Clone>(
    candidates: &[T],
    need: u64,
    probe: impl Fn(&T) -> u64,
) -> Option<(T, u64)> {
    let (mut lo, mut hi) = (0usize, candidates.len());
    let mut best = None;
    while lo < hi {
        let mid = (lo + hi) / 2;
        let n = probe(&candidates[mid]);
        if n >= need {
            best = Some((candidates[mid].clone(), n));
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    best
}

/// The smallest relaxation of each criterion set in `query` that alone reaches
/// `min_holders`. Criteria that cannot reach it even when dropped, and the
/// query text (which is not relaxed), are absent.
pub fn relaxations(
    matcher: &dyn Matcher,
    query: &MatchQuery,
    min_holders: u64,
) -> BTreeMap<String, Relaxation> {
    let mut out = BTreeMap::new();
    let facts = matcher.facts();
    let dropped = |q: MatchQuery| {
        let n = count(matcher, min_holders, &q);
        (n >= min_holders).then(|| Relaxation {
            to: RelaxedTo::Dropped,
            qualified: full(matcher, &q),
        })
    };

    // Rates: candidate thresholds are the rates holders have, below the current minimum,
    // highest first; `slot` names the criterion's field in a query.
    type RateOf = fn(&ReputationCounts) -> Option<f64>;
    type RateSlot = fn(&mut MatchQuery) -> &mut Option<f64>;
    let rate_criteria: [(&str, Option<f64>, RateOf, RateSlot); 2] = [
        (
            "min_positive_rate",
            query.criteria.min_positive_rate,
            |r| r.positive_rate(),
            |q| &mut q.criteria.min_positive_rate,
        ),
        (
            "min_success_rate",
            query.criteria.min_success_rate,
            |r| r.success_rate(),
            |q| &mut q.criteria.min_success_rate,
        ),
    ];
    for (name, current, rate, slot) in rate_criteria {
        let Some(current) = current else {
            continue;
        };
        let mut candidates: Vec<f64> = facts
            .reputations
            .iter()
            .filter_map(rate)
            .filter(|r| *r < current)
            .collect();
        candidates.sort_by(|a, b| b.total_cmp(a));
        candidates.dedup();
        let with = |value: Option<f64>| {
            let mut q = query.clone();
            *slot(&mut q) = value;
            q
        };
        let found = first_reaching(&candidates, min_holders, |r| {
            count(matcher, min_holders, &with(Some(*r)))
        });
        let r = match found {
            Some((r, _)) => Some(Relaxation {
                to: RelaxedTo::Rate(r),
                qualified: full(matcher, &with(Some(r))),
            }),
            None => dropped(with(None)),
        };
        if let Some(r) = r {
            out.insert(name.to_string(), r);
        }
    }
    if let Some(current) = query.criteria.min_ratings {
        let mut candidates: Vec<u64> = facts
            .reputations
            .iter()
            .map(|r| r.ratings)
            .filter(|r| *r < current)
            .collect();
        candidates.sort_by(|a, b| b.cmp(a));
        candidates.dedup();
        let found = first_reaching(&candidates, min_holders, |r| {
            let mut q = query.clone();
            q.criteria.min_ratings = Some(*r);
            count(matcher, min_holders, &q)
        });
        if let Some((r, _)) = found {
            let mut q = query.clone();
            q.criteria.min_ratings = Some(r);
            out.insert(
                "min_ratings".to_string(),
                Relaxation {
                    to: RelaxedTo::Count(r),
                    qualified: full(matcher, &q),
                },
            );
        }
    }
    if !query.criteria.fields.is_empty() {
        let mut q = query.clone();
        q.criteria.fields.clear();
        if let Some(r) = dropped(q) {
            out.insert("fields".to_string(), r);
        }
    }
    if let Some(max) = query.item.max_price {
        let mut candidates: Vec<i64> = facts
            .prices
            .iter()
            .filter(|p| p.currency == max.currency && p.minor > max.minor)
            .map(|p| p.minor)
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let found = first_reaching(&candidates, min_holders, |p| {
            let mut q = query.clone();
            q.item.max_price = Some(Money::new(*p, max.currency));
            count(matcher, min_holders, &q)
        });
        let r = match found {
            Some((p, _)) => {
                let m = Money::new(p, max.currency);
                let mut q = query.clone();
                q.item.max_price = Some(m);
                Some(Relaxation {
                    to: RelaxedTo::Price {
                        amount: m.amount_string(),
                        currency: m.currency.as_str().to_string(),
                    },
                    qualified: full(matcher, &q),
                })
            }
            None => {
                let mut q = query.clone();
                q.item.max_price = None;
                dropped(q)
            }
        };
        if let Some(r) = r {
            out.insert("max_price".to_string(), r);
        }
    }
    if let Some(category) = &query.item.category {
        // Widen to the nearest ancestor that is enough, then to no category at all.
        let segments: Vec<&str> = category.segments().collect();
        let mut found = None;
        for len in (1..segments.len()).rev() {
            let Ok(parent) =
                symbolon_core::TaxonomyPath::parse(&segments[..len].join("/"), "category")
            else {
                continue;
            };
            let mut q = query.clone();
            q.item.category = Some(parent.clone());
            let n = count(matcher, min_holders, &q);
            if n >= min_holders {
                found = Some(Relaxation {
                    to: RelaxedTo::Category(parent.as_str().to_string()),
                    qualified: full(matcher, &q),
                });
                break;
            }
        }
        let found = found.or_else(|| {
            let mut q = query.clone();
            q.item.category = None;
            dropped(q)
        });
        if let Some(r) = found {
            out.insert("category".to_string(), r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ExactMatcher, HolderProfile, Listing, Market, PassDoc};
    use symbolon_core::demand::{HolderCriteria, ItemSpec};
    use symbolon_core::reputation::ReputationCounts;
    use symbolon_core::{Currency, TaxonomyPath};

    fn path(s: &str) -> TaxonomyPath {
        TaxonomyPath::parse(s, "t").unwrap()
    }

    fn market() -> Market {
        let usd = Currency::parse("USD").unwrap();
        // Five holders of headphones: positive rates 1/1, 19/20, 11/12, 9/10, none.
        let reps = [(1, 1), (19, 20), (11, 12), (9, 10), (0, 0)];
        let mut listings = Vec::new();
        let mut passes = Vec::new();
        let mut holders = std::collections::HashMap::new();
        for (i, (pos, n)) in reps.into_iter().enumerate() {
            let id = format!("h{i}");
            listings.push(Listing {
                holder_id: id.clone(),
                pass_id: format!("p{i}"),
            });
            passes.push(PassDoc {
                pass_id: format!("p{i}"),
                title: "Noise cancelling headphones".into(),
                description: String::new(),
                specs: vec![],
                category: path(if i == 4 {
                    "electronics/audio/earbuds"
                } else {
                    "electronics/audio/headphones"
                }),
                price: Money::new(10_000 + 5_000 * i as i64, usd),
            });
            holders.insert(
                id.clone(),
                HolderProfile {
                    id,
                    fields: vec![path(if i < 2 { "electronics/audio" } else { "home" })],
                    reputation: ReputationCounts {
                        positive: pos,
                        ratings: n,
                        offered: 1,
                        interactions: 1,
                    },
                },
            );
        }
        Market {
            passes,
            listings,
            holders,
        }
    }

    fn query() -> MatchQuery {
        MatchQuery::new(
            ItemSpec {
                query: "headphones".into(),
                category: None,
                max_price: None,
            },
            HolderCriteria::default(),
        )
    }

    #[test]
    fn the_smallest_sufficient_relaxation_of_each_criterion() {
        let m = market();
        let mut q = query();
        q.criteria.min_positive_rate = Some(0.95);
        // 1/1 and 19/20 qualify at 0.95; three needed: 11/12 = 0.9166… is the next rate down.
        let r = relaxations(&ExactMatcher::new(m.clone()), &q, 3);
        assert_eq!(
            r["min_positive_rate"],
            Relaxation {
                to: RelaxedTo::Rate(11.0 / 12.0),
                qualified: 3
            }
        );
        // Four needed: 0.9 (9/10).
        let r = relaxations(&ExactMatcher::new(m.clone()), &q, 4);
        assert_eq!(r["min_positive_rate"].to, RelaxedTo::Rate(0.9));
        // Five needed: only dropping it lets the holder without ratings in.
        let r = relaxations(&ExactMatcher::new(m.clone()), &q, 5);
        assert_eq!(
            r["min_positive_rate"],
            Relaxation {
                to: RelaxedTo::Dropped,
                qualified: 5
            }
        );
        assert_eq!(
            serde_json::to_value(&r["min_positive_rate"]).unwrap(),
            serde_json::json!({"to": null, "qualified": 5})
        );
        // Six can never qualify: absent.
        assert!(
            !relaxations(&ExactMatcher::new(m.clone()), &q, 6).contains_key("min_positive_rate")
        );
    }

    #[test]
    fn ratings_fields_price_and_category() {
        let m = market();
        let usd = Currency::parse("USD").unwrap();
        let mut q = query();
        q.criteria.min_ratings = Some(15);
        let r = relaxations(&ExactMatcher::new(m.clone()), &q, 2);
        assert_eq!(
            r["min_ratings"],
            Relaxation {
                to: RelaxedTo::Count(12),
                qualified: 2
            }
        );
        let mut q = query();
        q.item.max_price = Some(Money::new(12_000, usd));
        let r = relaxations(&ExactMatcher::new(m.clone()), &q, 3);
        assert_eq!(
            r["max_price"],
            Relaxation {
                to: RelaxedTo::Price {
                    amount: "200.00".into(),
                    currency: "USD".into()
                },
                qualified: 3
            }
        );
        let mut q = query();
        q.criteria.fields = vec![path("electronics/audio")];
        let r = relaxations(&ExactMatcher::new(m.clone()), &q, 3);
        assert_eq!(
            r["fields"],
            Relaxation {
                to: RelaxedTo::Dropped,
                qualified: 5
            }
        );
        // Two criteria that each fail alone: neither relaxation alone is enough.
        let mut q = query();
        q.criteria.min_ratings = Some(15);
        q.item.max_price = Some(Money::new(12_000, usd));
        let r = relaxations(&ExactMatcher::new(m.clone()), &q, 2);
        assert!(r.is_empty(), "{r:?}");
        // Category: the earbuds holder (h4) is reached by widening to electronics/audio.
        let mut q = query();
        q.item.category = Some(path("electronics/audio/earbuds"));
        let r = relaxations(&ExactMatcher::new(m.clone()), &q, 2);
        assert_eq!(
            r["category"],
            Relaxation {
                to: RelaxedTo::Category("electronics/audio".into()),
                qualified: 5
            }
        );
    }
}
