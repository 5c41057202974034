//! Explaining a refusal: for each criterion of a demand, the smallest
//! relaxation that alone (every other criterion unchanged) would make at least
//! `min_holders` holders qualify.
//!
//! Qualification is monotone in every threshold (a lower `min_*` or a higher
//! `max_price` never removes a holder), so each threshold is found by a binary
//! search over the values present in the market, each probe ranked by the
//! matcher itself — the explanation can never disagree with matching.

use crate::{Market, MatchQuery, Matcher};
use serde::Serialize;
use std::collections::BTreeMap;
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

fn count(m: &dyn Matcher, market: &Market, q: &MatchQuery) -> u64 {
    m.rank(market, q).ranked.len() as u64
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
    market: &Market,
    query: &MatchQuery,
    min_holders: u64,
) -> BTreeMap<String, Relaxation> {
    let mut out = BTreeMap::new();
    let dropped = |q: MatchQuery| {
        let n = count(matcher, market, &q);
        (n >= min_holders).then_some(Relaxation {
            to: RelaxedTo::Dropped,
            qualified: n,
        })
    };

    // Rates: candidate thresholds are the rates holders have, below the current minimum,
    // highest first; `slot` names the criterion's field in a query.
    type RateOf = fn(&crate::HolderProfile) -> Option<f64>;
    type RateSlot = fn(&mut MatchQuery) -> &mut Option<f64>;
    let rate_criteria: [(&str, Option<f64>, RateOf, RateSlot); 2] = [
        (
            "min_positive_rate",
            query.criteria.min_positive_rate,
            |h| h.reputation.positive_rate(),
            |q| &mut q.criteria.min_positive_rate,
        ),
        (
            "min_success_rate",
            query.criteria.min_success_rate,
            |h| h.reputation.success_rate(),
            |q| &mut q.criteria.min_success_rate,
        ),
    ];
    for (name, current, rate, slot) in rate_criteria {
        let Some(current) = current else {
            continue;
        };
        let mut candidates: Vec<f64> = market
            .holders
            .values()
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
            count(matcher, market, &with(Some(*r)))
        });
        let r = match found {
            Some((r, n)) => Some(Relaxation {
                to: RelaxedTo::Rate(r),
                qualified: n,
            }),
            None => dropped(with(None)),
        };
        if let Some(r) = r {
            out.insert(name.to_string(), r);
        }
    }
    if let Some(current) = query.criteria.min_ratings {
        let mut candidates: Vec<u64> = market
            .holders
            .values()
            .map(|h| h.reputation.ratings)
            .filter(|r| *r < current)
            .collect();
        candidates.sort_by(|a, b| b.cmp(a));
        candidates.dedup();
        let found = first_reaching(&candidates, min_holders, |r| {
            let mut q = query.clone();
            q.criteria.min_ratings = Some(*r);
            count(matcher, market, &q)
        });
        if let Some((r, n)) = found {
            out.insert(
                "min_ratings".to_string(),
                Relaxation {
                    to: RelaxedTo::Count(r),
                    qualified: n,
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
        let mut candidates: Vec<i64> = market
            .listings
            .iter()
            .filter(|l| l.price.currency == max.currency && l.price.minor > max.minor)
            .map(|l| l.price.minor)
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let found = first_reaching(&candidates, min_holders, |p| {
            let mut q = query.clone();
            q.item.max_price = Some(Money::new(*p, max.currency));
            count(matcher, market, &q)
        });
        let r = match found {
            Some((p, n)) => {
                let m = Money::new(p, max.currency);
                Some(Relaxation {
                    to: RelaxedTo::Price {
                        amount: m.amount_string(),
                        currency: m.currency.as_str().to_string(),
                    },
                    qualified: n,
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
            let n = count(matcher, market, &q);
            if n >= min_holders {
                found = Some(Relaxation {
                    to: RelaxedTo::Category(parent.as_str().to_string()),
                    qualified: n,
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
    use crate::{ExactMatcher, HolderProfile, Listing};
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
        let mut holders = std::collections::HashMap::new();
        for (i, (pos, n)) in reps.into_iter().enumerate() {
            let id = format!("h{i}");
            listings.push(Listing {
                holder_id: id.clone(),
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
        Market { listings, holders }
    }

    fn query() -> MatchQuery {
        MatchQuery {
            item: ItemSpec {
                query: "headphones".into(),
                category: None,
                max_price: None,
            },
            criteria: HolderCriteria::default(),
        }
    }

    #[test]
    fn the_smallest_sufficient_relaxation_of_each_criterion() {
        let m = market();
        let mut q = query();
        q.criteria.min_positive_rate = Some(0.95);
        // 1/1 and 19/20 qualify at 0.95; three needed: 11/12 = 0.9166… is the next rate down.
        let r = relaxations(&ExactMatcher, &m, &q, 3);
        assert_eq!(
            r["min_positive_rate"],
            Relaxation {
                to: RelaxedTo::Rate(11.0 / 12.0),
                qualified: 3
            }
        );
        // Four needed: 0.9 (9/10).
        let r = relaxations(&ExactMatcher, &m, &q, 4);
        assert_eq!(r["min_positive_rate"].to, RelaxedTo::Rate(0.9));
        // Five needed: only dropping it lets the holder without ratings in.
        let r = relaxations(&ExactMatcher, &m, &q, 5);
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
        assert!(!relaxations(&ExactMatcher, &m, &q, 6).contains_key("min_positive_rate"));
    }

    #[test]
    fn ratings_fields_price_and_category() {
        let m = market();
        let usd = Currency::parse("USD").unwrap();
        let mut q = query();
        q.criteria.min_ratings = Some(15);
        let r = relaxations(&ExactMatcher, &m, &q, 2);
        assert_eq!(
            r["min_ratings"],
            Relaxation {
                to: RelaxedTo::Count(12),
                qualified: 2
            }
        );
        let mut q = query();
        q.item.max_price = Some(Money::new(12_000, usd));
        let r = relaxations(&ExactMatcher, &m, &q, 3);
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
        let r = relaxations(&ExactMatcher, &m, &q, 3);
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
        let r = relaxations(&ExactMatcher, &m, &q, 2);
        assert!(r.is_empty(), "{r:?}");
        // Category: the earbuds holder (h4) is reached by widening to electronics/audio.
        let mut q = query();
        q.item.category = Some(path("electronics/audio/earbuds"));
        let r = relaxations(&ExactMatcher, &m, &q, 2);
        assert_eq!(
            r["category"],
            Relaxation {
                to: RelaxedTo::Category("electronics/audio".into()),
                qualified: 5
            }
        );
    }
}
