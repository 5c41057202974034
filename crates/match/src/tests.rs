use super::*;
use proptest::prelude::*;
use symbolon_core::demand::ItemSpec;

fn path(s: &str) -> TaxonomyPath {
    TaxonomyPath::parse(s, "t").unwrap()
}

fn usd(s: &str) -> Money {
    Money::parse(s, "USD").unwrap()
}

fn listing(holder: &str, pass: &str, title: &str, category: &str, price: &str) -> Listing {
    Listing {
        holder_id: holder.into(),
        pass_id: pass.into(),
        title: title.into(),
        description: String::new(),
        specs: vec![],
        category: path(category),
        price: usd(price),
    }
}

fn holder(id: &str, fields: &[&str], rep: (u64, u64, u64, u64)) -> (String, HolderProfile) {
    (
        id.to_string(),
        HolderProfile {
            id: id.into(),
            fields: fields.iter().map(|f| path(f)).collect(),
            reputation: ReputationCounts {
                positive: rep.0,
                ratings: rep.1,
                offered: rep.2,
                interactions: rep.3,
            },
        },
    )
}

fn query(q: &str) -> MatchQuery {
    MatchQuery {
        item: ItemSpec {
            query: q.into(),
            category: None,
            max_price: None,
        },
        criteria: HolderCriteria::default(),
    }
}

#[test]
fn reputation_breaks_equal_relevance_with_wilson() {
    let market = Market {
        listings: vec![
            listing(
                "h_one",
                "p1",
                "Noise cancelling headphones",
                "electronics/audio",
                "100",
            ),
            listing(
                "h_many",
                "p2",
                "Noise cancelling headphones",
                "electronics/audio",
                "100",
            ),
        ],
        holders: [
            holder("h_one", &[], (1, 1, 1, 1)),
            holder("h_many", &[], (95, 100, 95, 100)),
        ]
        .into(),
    };
    let out = ExactMatcher.rank(&market, &query("headphones"));
    let ids: Vec<_> = out.ranked.iter().map(|r| r.holder_id.as_str()).collect();
    assert_eq!(ids, vec!["h_many", "h_one"]);
}

#[test]
fn eliminations_count_each_criterion() {
    let market = Market {
        listings: vec![
            listing("a", "p1", "Wireless headphones", "electronics/audio", "80"),
            listing("b", "p2", "Wireless headphones", "electronics/audio", "300"),
            listing("c", "p3", "Coffee grinder", "home/kitchen", "50"),
            listing(
                "d",
                "p4",
                "Studio headphones",
                "electronics/audio/pro",
                "90",
            ),
        ],
        holders: [
            holder("a", &["electronics"], (9, 10, 5, 5)),
            holder("b", &["electronics/audio"], (10, 10, 5, 5)),
            holder("c", &["home"], (10, 10, 5, 5)),
            holder("d", &["music"], (1, 10, 5, 5)),
        ]
        .into(),
    };
    let mut q = query("headphones");
    q.item.category = Some(path("electronics/audio"));
    q.item.max_price = Some(usd("100"));
    q.criteria.min_positive_rate = Some(0.8);
    q.criteria.fields = vec![path("electronics/audio")];
    let out = ExactMatcher.rank(&market, &q);
    assert_eq!(out.ranked.len(), 1);
    assert_eq!(out.ranked[0].holder_id, "a");
    assert_eq!(out.ranked[0].matched_fields, vec!["electronics"]);
    let e = &out.eliminations;
    assert_eq!(e.holders_with_supply, 4);
    assert_eq!(e.holders_matching_item, 2); // a and d
    assert_eq!(e.qualified, 1);
    assert_eq!(e.eliminated["query"], 1); // c: no headphones at all
    assert_eq!(e.eliminated["category"], 0);
    assert_eq!(e.eliminated["max_price"], 1); // b: headphones, too dear
    assert_eq!(e.eliminated["min_positive_rate"], 1); // d
    assert_eq!(e.eliminated["fields"], 1); // d
    assert!(!e.eliminated.contains_key("min_ratings"));
}

#[test]
fn currency_mismatch_fails_max_price() {
    let mut l = listing("a", "p1", "Tea", "food", "1");
    l.price = Money::parse("1", "EUR").unwrap();
    let market = Market {
        listings: vec![l],
        holders: [holder("a", &[], (0, 0, 0, 0))].into(),
    };
    let mut q = query("tea");
    q.item.max_price = Some(usd("100"));
    assert!(ExactMatcher.rank(&market, &q).ranked.is_empty());
}

/// A brute-force statement of the qualification rule, independent of the matcher's structure.
fn qualifies(market: &Market, q: &MatchQuery, h: &HolderProfile) -> bool {
    let terms = text::Terms::of_query(&q.item.query);
    let item_ok = market
        .listings
        .iter()
        .filter(|l| l.holder_id == h.id)
        .any(|l| {
            text::relevance(&terms, &l.title, &l.description, &l.specs) > 0.0
                && q.item
                    .category
                    .as_ref()
                    .is_none_or(|c| l.category.is_under(c))
                && q.item
                    .max_price
                    .is_none_or(|m| l.price.currency == m.currency && l.price.minor <= m.minor)
        });
    item_ok && q.criteria.failures(&h.reputation, &h.fields).is_empty()
}

fn arb_market() -> impl Strategy<Value = (Market, MatchQuery)> {
    let words = prop::sample::select(vec!["red", "blue", "phone", "case", "耳机", "tv"]);
    let cats = prop::sample::select(vec!["a", "a/b", "a/b/c", "d"]);
    let listing = (
        0usize..6,
        prop::collection::vec(words.clone(), 1..4),
        cats.clone(),
        1i64..500,
    );
    let holders = prop::collection::vec(
        (
            prop::collection::vec(cats.clone(), 0..3),
            0u64..20,
            0u64..20,
            0u64..20,
            0u64..20,
        ),
        6,
    );
    (
        prop::collection::vec(listing, 0..20),
        holders,
        prop::collection::vec(words, 1..3),
        prop::option::of(cats.clone()),
        prop::option::of(1i64..500),
        prop::option::of(0.0f64..1.0),
        prop::option::of(0u64..10),
        prop::collection::vec(cats, 0..2),
    )
        .prop_map(|(ls, hs, qw, cat, maxp, minp, minr, fields)| {
            let usd = symbolon_core::Currency::parse("USD").unwrap();
            let listings = ls
                .into_iter()
                .enumerate()
                .map(|(i, (h, w, c, p))| Listing {
                    holder_id: format!("h{h}"),
                    pass_id: format!("p{i}"),
                    title: w.join(" "),
                    description: String::new(),
                    specs: vec![],
                    category: path(c),
                    price: Money::new(p, usd),
                })
                .collect();
            let holders = hs
                .into_iter()
                .enumerate()
                .map(|(i, (f, a, b, c, d))| {
                    let id = format!("h{i}");
                    (
                        id.clone(),
                        HolderProfile {
                            id,
                            fields: f.iter().map(|x| path(x)).collect(),
                            reputation: ReputationCounts {
                                positive: a.min(b),
                                ratings: b,
                                offered: c.min(d),
                                interactions: d,
                            },
                        },
                    )
                })
                .collect();
            let q = MatchQuery {
                item: ItemSpec {
                    query: qw.join(" "),
                    category: cat.map(path),
                    max_price: maxp.map(|m| Money::new(m, usd)),
                },
                criteria: HolderCriteria {
                    min_positive_rate: minp,
                    min_success_rate: None,
                    min_ratings: minr,
                    fields: fields.iter().map(|f| path(f)).collect(),
                },
            };
            (Market { listings, holders }, q)
        })
}

proptest! {
    #[test]
    fn ranks_exactly_the_qualifying_holders_best_first((market, q) in arb_market()) {
        let out = ExactMatcher.rank(&market, &q);
        let mut expected: Vec<&str> = market.holders.values().filter(|h| qualifies(&market, &q, h)).map(|h| h.id.as_str()).collect();
        expected.sort();
        let mut got: Vec<&str> = out.ranked.iter().map(|r| r.holder_id.as_str()).collect();
        got.sort();
        prop_assert_eq!(got, expected);
        for w in out.ranked.windows(2) {
            prop_assert!(w[0].score > w[1].score || (w[0].score == w[1].score && w[0].holder_id < w[1].holder_id));
        }
        prop_assert_eq!(out.eliminations.qualified as usize, out.ranked.len());
        // The item funnel accounts for every holder with supply that matched no item.
        let e = &out.eliminations;
        let item: u64 = ["query", "category", "max_price"].iter().map(|k| e.eliminated.get(*k).copied().unwrap_or(0)).sum();
        prop_assert_eq!(e.holders_with_supply - e.holders_matching_item, item);
        // Deterministic.
        prop_assert_eq!(ExactMatcher.rank(&market, &q), out);
    }
}

proptest! {
    /// Every relaxation offered, applied alone, qualifies exactly the holders it claims,
    /// at least `min_holders`; a numeric one is the strictest value present that does.
    #[test]
    fn relaxations_are_sufficient_and_minimal((market, q) in arb_market(), k in 2u64..5) {
        use crate::explain::{relaxations, RelaxedTo};
        let count = |q: &MatchQuery| ExactMatcher.rank(&market, q).ranked.len() as u64;
        for (name, r) in relaxations(&ExactMatcher, &market, &q, k) {
            let mut relaxed = q.clone();
            match (name.as_str(), &r.to) {
                ("min_positive_rate", RelaxedTo::Rate(v)) => relaxed.criteria.min_positive_rate = Some(*v),
                ("min_positive_rate", RelaxedTo::Dropped) => relaxed.criteria.min_positive_rate = None,
                ("min_ratings", RelaxedTo::Count(v)) => relaxed.criteria.min_ratings = Some(*v),
                ("fields", RelaxedTo::Dropped) => relaxed.criteria.fields.clear(),
                ("max_price", RelaxedTo::Price { amount, currency }) => relaxed.item.max_price = Some(Money::parse(amount, currency).unwrap()),
                ("max_price", RelaxedTo::Dropped) => relaxed.item.max_price = None,
                ("category", RelaxedTo::Category(c)) => relaxed.item.category = Some(path(c)),
                ("category", RelaxedTo::Dropped) => relaxed.item.category = None,
                other => panic!("unexpected relaxation {other:?}"),
            }
            prop_assert_eq!(count(&relaxed), r.qualified);
            prop_assert!(r.qualified >= k);
            if let ("min_ratings", RelaxedTo::Count(v)) = (name.as_str(), &r.to) {
                // No stricter value present in the market would do.
                for h in market.holders.values() {
                    let n = h.reputation.ratings;
                    if n > *v && Some(n) < q.criteria.min_ratings {
                        let mut stricter = q.clone();
                        stricter.criteria.min_ratings = Some(n);
                        prop_assert!(count(&stricter) < k);
                    }
                }
            }
        }
    }
}
