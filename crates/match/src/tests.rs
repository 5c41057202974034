use super::*;
use proptest::prelude::*;
use std::collections::HashMap;
use symbolon_core::demand::ItemSpec;

fn path(s: &str) -> TaxonomyPath {
    TaxonomyPath::parse(s, "t").unwrap()
}

fn usd(s: &str) -> Money {
    Money::parse(s, "USD").unwrap()
}

/// One pass held by one holder.
fn listing(
    holder: &str,
    pass: &str,
    title: &str,
    category: &str,
    price: &str,
) -> (PassDoc, Listing) {
    (
        PassDoc {
            pass_id: pass.into(),
            title: title.into(),
            description: String::new(),
            specs: vec![],
            category: path(category),
            price: usd(price),
        },
        Listing {
            holder_id: holder.into(),
            pass_id: pass.into(),
        },
    )
}

fn market_of(listings: Vec<(PassDoc, Listing)>, holders: HashMap<String, HolderProfile>) -> Market {
    let (passes, listings) = listings.into_iter().unzip();
    Market {
        passes,
        listings,
        holders,
    }
}

/// Both matchers over the same market.
fn matchers(market: &Market) -> (ExactMatcher, engine::Engine) {
    let engine = engine::Engine::in_memory().unwrap();
    engine.sync(market).unwrap();
    (ExactMatcher::new(market.clone()), engine)
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
    MatchQuery::new(
        ItemSpec {
            query: q.into(),
            category: None,
            max_price: None,
        },
        HolderCriteria::default(),
    )
}

#[test]
fn reputation_breaks_equal_relevance_with_wilson() {
    let market = market_of(
        vec![
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
        [
            holder("h_one", &[], (1, 1, 1, 1)),
            holder("h_many", &[], (95, 100, 95, 100)),
        ]
        .into(),
    );
    let (exact, engine) = matchers(&market);
    for m in [&exact as &dyn Matcher, &engine] {
        let out = m.rank(&query("headphones"), 10);
        let ids: Vec<_> = out.iter().map(|r| r.holder_id.as_str()).collect();
        assert_eq!(ids, vec!["h_many", "h_one"]);
    }
}

#[test]
fn eliminations_count_each_criterion() {
    let market = market_of(
        vec![
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
        [
            holder("a", &["electronics"], (9, 10, 5, 5)),
            holder("b", &["electronics/audio"], (10, 10, 5, 5)),
            holder("c", &["home"], (10, 10, 5, 5)),
            holder("d", &["music"], (1, 10, 5, 5)),
        ]
        .into(),
    );
    let mut q = query("headphones");
    q.item.category = Some(path("electronics/audio"));
    q.item.max_price = Some(usd("100"));
    q.criteria.min_positive_rate = Some(0.8);
    q.criteria.fields = vec![path("electronics/audio")];
    let (exact, engine) = matchers(&market);
    for m in [&exact as &dyn Matcher, &engine] {
        let ranked = m.rank(&q, 10);
        assert_eq!(ranked.len(), 1);
        assert_eq!(ranked[0].holder_id, "a");
        assert_eq!(ranked[0].matched_fields, vec!["electronics"]);
    }
    let e = &exact.eliminations(&q);
    assert_eq!(e, &engine.eliminations(&q));
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
    l.0.price = Money::parse("1", "EUR").unwrap();
    let market = market_of(vec![l], [holder("a", &[], (0, 0, 0, 0))].into());
    let mut q = query("tea");
    q.item.max_price = Some(usd("100"));
    let (exact, engine) = matchers(&market);
    assert!(exact.rank(&q, 10).is_empty());
    assert!(engine.rank(&q, 10).is_empty());
    q.item.max_price = Some(Money::parse("1", "EUR").unwrap());
    assert_eq!(engine.rank(&q, 10).len(), 1);
}

/// A brute-force statement of the qualification rule, independent of the
/// matchers' structure: statistics over the held passes, then each listing
/// checked on its own.
fn qualifies(market: &Market, q: &MatchQuery, h: &HolderProfile) -> bool {
    let terms = text::Terms::of_query(&q.item.query);
    let held: Vec<&PassDoc> = market
        .passes
        .iter()
        .filter(|p| market.listings.iter().any(|l| l.pass_id == p.pass_id))
        .collect();
    let texts: Vec<score::PassText> = held
        .iter()
        .map(|p| score::PassText::of(&p.title, &p.specs, &p.description))
        .collect();
    let df: Vec<u64> = (0..terms.len())
        .map(|i| texts.iter().filter(|t| t.holds(&terms, i)).count() as u64)
        .collect();
    let corpus = score::Corpus {
        n: held.len() as u64,
        len_sum: std::array::from_fn(|f| texts.iter().map(|t| t.len[f] as u64).sum()),
    };
    let brands: std::collections::HashSet<String> = held
        .iter()
        .filter_map(|p| text::spec_brand(&p.specs))
        .collect();
    let model = score::QueryModel::new(terms, &df, corpus, |b| brands.contains(b), q.floor);
    let item_ok = market
        .listings
        .iter()
        .filter(|l| l.holder_id == h.id && q.exclude_holder.as_deref() != Some(&h.id))
        .filter_map(|l| market.passes.iter().find(|p| p.pass_id == l.pass_id))
        .any(|l| {
            let t = score::PassText::of(&l.title, &l.specs, &l.description);
            let r = model.relevance(&t.terms(&model, |b| brands.contains(b)));
            r.score > 0.0
                && (r.models || r.coverage >= q.floor)
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
    // Plain words, model numbers written several ways, units, brands, CJK.
    let words = prop::sample::select(vec![
        "red",
        "blue",
        "phone",
        "case",
        "耳机",
        "降噪",
        "tv",
        "WH-1000XM5",
        "wh1000xm5",
        "wh 1000 xm5",
        "WH-1000XM4",
        "2TB",
        "2 TB",
        "16 GB",
        "Sony",
        "Bose",
        "索尼",
        "the",
    ]);
    let brands = prop::option::of(prop::sample::select(vec!["Sony", "Bose", "索尼"]));
    let cats = prop::sample::select(vec!["a", "a/b", "a/b/c", "d"]);
    // A pass: title, specs, description words, category, price, holders.
    let pass = (
        prop::collection::vec(words.clone(), 1..4),
        prop::collection::vec(words.clone(), 0..2),
        prop::collection::vec(words.clone(), 0..3),
        cats.clone(),
        1i64..500,
        prop::collection::vec(0usize..8, 0..4),
        brands,
    );
    let holders = prop::collection::vec(
        (
            prop::collection::vec(cats.clone(), 0..3),
            0u64..20,
            0u64..20,
            0u64..20,
            0u64..20,
        ),
        8,
    );
    (
        prop::collection::vec(pass, 0..30),
        holders,
        prop::collection::vec(words, 1..5),
        prop::option::of(cats.clone()),
        prop::option::of(1i64..500),
        prop::option::of(0.0f64..1.0),
        prop::option::of(0u64..10),
        prop::collection::vec(cats, 0..2),
        (
            prop::option::of(0.0f64..1.0),
            prop::option::of(0usize..9),
            prop::sample::select(vec![0.0, 0.3, score::DEFAULT_FLOOR, 0.8, 1.0]),
        ),
    )
        .prop_map(
            |(ps, hs, qw, cat, maxp, minp, minr, fields, (mins, exclude, floor))| {
                let usd = symbolon_core::Currency::parse("USD").unwrap();
                let mut passes = Vec::new();
                let mut listings = Vec::new();
                for (i, (t, sp, d, c, p, holders, brand)) in ps.into_iter().enumerate() {
                    passes.push(PassDoc {
                        pass_id: format!("p{i}"),
                        title: t.join(" "),
                        description: d.join(" "),
                        specs: sp
                            .into_iter()
                            .map(|v| ("model".to_string(), v.to_string()))
                            .chain(brand.map(|b| ("Brand".to_string(), b.to_string())))
                            .collect(),
                        category: path(c),
                        price: Money::new(p, usd),
                    });
                    listings.extend(holders.into_iter().map(|h| Listing {
                        holder_id: format!("h{h}"),
                        pass_id: format!("p{i}"),
                    }));
                }
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
                        min_success_rate: mins,
                        min_ratings: minr,
                        fields: fields.iter().map(|f| path(f)).collect(),
                    },
                    exclude_holder: exclude.map(|h| format!("h{h}")),
                    floor,
                };
                (
                    Market {
                        passes,
                        listings,
                        holders,
                    },
                    q,
                )
            },
        )
}

proptest! {
    #[test]
    fn ranks_exactly_the_qualifying_holders_best_first((market, q) in arb_market()) {
        let exact = ExactMatcher::new(market.clone());
        let ranked = exact.rank(&q, usize::MAX);
        let mut expected: Vec<&str> = market.holders.values().filter(|h| qualifies(&market, &q, h)).map(|h| h.id.as_str()).collect();
        expected.sort();
        let mut got: Vec<&str> = ranked.iter().map(|r| r.holder_id.as_str()).collect();
        got.sort();
        prop_assert_eq!(got, expected);
        for w in ranked.windows(2) {
            prop_assert!(w[0].score > w[1].score || (w[0].score == w[1].score && w[0].holder_id < w[1].holder_id));
        }
        let e = exact.eliminations(&q);
        prop_assert_eq!(e.qualified as usize, ranked.len());
        // The item funnel accounts for every holder with supply that matched no item.
        let item: u64 = ["query", "relevance", "category", "max_price"].iter().map(|k| e.eliminated.get(*k).copied().unwrap_or(0)).sum();
        prop_assert_eq!(e.holders_with_supply - e.holders_matching_item, item);
        // Deterministic.
        prop_assert_eq!(exact.rank(&q, usize::MAX), ranked);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// The oracle: the indexed engine returns the same holders, in the same
    /// order, with the same reasons, as the exhaustive evaluation — for every
    /// limit — and the same eliminations.
    #[test]
    fn engine_agrees_with_the_exact_scorer((market, q) in arb_market(), limit in 1usize..6) {
        let (exact, engine) = matchers(&market);
        prop_assert_eq!(engine.rank(&q, limit), exact.rank(&q, limit));
        prop_assert_eq!(engine.rank(&q, usize::MAX), exact.rank(&q, usize::MAX));
        prop_assert_eq!(engine.eliminations(&q), exact.eliminations(&q));
    }
}

proptest! {
    /// Every relaxation offered, applied alone, qualifies exactly the holders it claims,
    /// at least `min_holders`; a numeric one is the strictest value present that does.
    #[test]
    fn relaxations_are_sufficient_and_minimal((market, q) in arb_market(), k in 2u64..5) {
        use crate::explain::{relaxations, RelaxedTo};
        let exact = ExactMatcher::new(market.clone());
        let count = |q: &MatchQuery| exact.rank(q, usize::MAX).len() as u64;
        for (name, r) in relaxations(&exact, &q, k) {
            let mut relaxed = q.clone();
            match (name.as_str(), &r.to) {
                ("min_positive_rate", RelaxedTo::Rate(v)) => relaxed.criteria.min_positive_rate = Some(*v),
                ("min_positive_rate", RelaxedTo::Dropped) => relaxed.criteria.min_positive_rate = None,
                ("min_success_rate", RelaxedTo::Rate(v)) => relaxed.criteria.min_success_rate = Some(*v),
                ("min_success_rate", RelaxedTo::Dropped) => relaxed.criteria.min_success_rate = None,
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

fn engine_of(market: &Market) -> engine::Engine {
    matchers(market).1
}

fn ids(ranked: &[RankedHolder]) -> Vec<&str> {
    ranked.iter().map(|r| r.holder_id.as_str()).collect()
}

#[test]
fn chinese_and_model_numbers_through_the_index() {
    let market = market_of(
        vec![
            listing(
                "h1",
                "p1",
                "索尼 WH-1000XM5 无线降噪耳机",
                "electronics/audio",
                "2999",
            ),
            listing(
                "h2",
                "p2",
                "Sony WH1000XM5 headphones",
                "electronics/audio",
                "399",
            ),
            listing("h3", "p3", "蓝牙音箱", "electronics/audio", "199"),
        ],
        [].into(),
    );
    let engine = engine_of(&market);
    assert_eq!(ids(&engine.rank(&query("降噪耳机"), 10)), vec!["h1"]);
    let both = engine.rank(&query("WH1000XM5"), 10);
    assert_eq!(both.len(), 2, "{both:?}");
    // Both hold the model number; the shorter title ranks first.
    assert_eq!(ids(&both), vec!["h2", "h1"]);
    assert_eq!(engine.rank(&query("wh-1000xm5"), 10).len(), 2);
    assert!(engine.rank(&query("WH-1000XM4"), 10).is_empty());
    // Mixed query: Chinese words and a model number.
    let mixed = engine.rank(&query("索尼 WH-1000XM5 耳机"), 10);
    assert_eq!(mixed[0].holder_id, "h1");
}

#[test]
fn a_strict_criterion_beyond_the_first_window_still_finds_the_holders() {
    // 500 perfect-relevance passes held by holders with no ratings, then two
    // passes that match only in their description, held by trusted holders.
    let mut listings: Vec<(PassDoc, Listing)> = (0..500)
        .map(|i| {
            listing(
                &format!("weak{i:03}"),
                &format!("p{i}"),
                "Wireless headphones",
                "electronics/audio",
                "100",
            )
        })
        .collect();
    let mut holders: HashMap<String, HolderProfile> = HashMap::new();
    for (i, h) in ["trusted1", "trusted2"].iter().enumerate() {
        let (mut p, l) = listing(h, &format!("q{i}"), "Audio kit", "electronics/audio", "100");
        p.description = "with wireless headphones".into();
        listings.push((p, l));
        holders.extend([holder(h, &["electronics"], (50, 50, 50, 50))]);
    }
    let market = market_of(listings, holders);
    let (exact, engine) = matchers(&market);
    let mut q = query("wireless headphones");
    q.criteria.min_positive_rate = Some(0.9);
    let got = engine.rank(&q, 2);
    assert_eq!(ids(&got), vec!["trusted1", "trusted2"]);
    assert_eq!(got, exact.rank(&q, 2));
    // Without the criterion the perfect-relevance holders come first, ties by id.
    let open = engine.rank(&query("wireless headphones"), 3);
    assert_eq!(open, exact.rank(&query("wireless headphones"), 3));
}

#[test]
fn reputation_can_beat_relevance_across_windows() {
    // The best holder has a lower-relevance pass: the engine must look past
    // the perfect matches to find it (0.6·2/3 + 0.37 > 0.6·1 + 0).
    let mut listings: Vec<(PassDoc, Listing)> = (0..300)
        .map(|i| {
            listing(
                &format!("h{i:03}"),
                &format!("p{i}"),
                "red phone case",
                "a",
                "1",
            )
        })
        .collect();
    let (mut p, l) = listing("star", "s", "phone case", "a", "1");
    p.specs = vec![("color".into(), "red".into())];
    listings.push((p, l));
    let market = market_of(
        listings,
        [holder("star", &[], (1000, 1000, 1000, 1000))].into(),
    );
    let (exact, engine) = matchers(&market);
    let got = engine.rank(&query("red phone case"), 2);
    assert_eq!(got[0].holder_id, "star");
    assert_eq!(got, exact.rank(&query("red phone case"), 2));
}

#[test]
fn the_index_persists_and_volatile_state_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let mut market = market_of(
        vec![
            listing("a", "p1", "Espresso machine", "home/kitchen", "300"),
            listing("b", "p2", "Espresso grinder", "home/kitchen", "100"),
        ],
        [
            holder("a", &[], (0, 0, 0, 0)),
            holder("b", &[], (0, 0, 0, 0)),
        ]
        .into(),
    );
    {
        let engine = engine::Engine::open(dir.path()).unwrap();
        let stats = engine.sync_versioned(&market, 7, &|_, _| {}).unwrap();
        assert_eq!(stats.indexed, 2);
        assert_eq!(ids(&engine.rank(&query("espresso"), 5)), vec!["a", "b"]);
    }
    let engine = engine::Engine::open(dir.path()).unwrap();
    assert_eq!(engine.indexed_passes(), 2);
    assert_eq!(engine.indexed_version(), Some(7));
    // Nothing held until the volatile state is loaded; no re-indexing then.
    assert!(engine.rank(&query("espresso"), 5).is_empty());
    // A rating makes b the better holder: only the in-memory state changes.
    market
        .holders
        .insert("b".into(), holder("b", &[], (40, 40, 40, 40)).1);
    let stats = engine.sync(&market).unwrap();
    assert_eq!(stats.indexed, 0);
    assert_eq!(ids(&engine.rank(&query("espresso"), 5)), vec!["b", "a"]);
    // A sync that indexes nothing commits nothing (no fsync per demand).
    let stats = engine.sync_versioned(&market, 8, &|_, _| {}).unwrap();
    assert_eq!(stats.indexed, 0);
    assert_eq!(engine.indexed_version(), Some(7));
    // Category and price filters come from the stored documents.
    let mut q = query("espresso");
    q.item.category = Some(path("home"));
    q.item.max_price = Some(usd("150"));
    assert_eq!(ids(&engine.rank(&q, 5)), vec!["b"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// Incremental state == recomputed state: an engine that applies new
    /// reputations and fields with `update_holders` ranks, eliminates and
    /// reports facts exactly as one fully synced to the updated market, and
    /// as the exact scorer over it.
    #[test]
    fn holder_updates_agree_with_a_full_sync(
        (market, q) in arb_market(),
        changes in prop::collection::vec(
            (0usize..9, 0u64..30, 0u64..30, 0u64..30, 0u64..30, prop::bool::ANY),
            0..10,
        ),
        limit in 1usize..6,
    ) {
        let incremental = engine::Engine::in_memory().unwrap();
        incremental.sync(&market).unwrap();
        let mut updated = market.clone();
        let mut profiles = Vec::new();
        for (h, a, b, c, d, refocus) in changes {
            let id = format!("h{h}");
            let mut p = updated.holders.get(&id).cloned().unwrap_or_else(|| HolderProfile {
                id: id.clone(),
                fields: vec![],
                reputation: Default::default(),
            });
            let (ratings, positive) = (a.max(b), a.min(b));
            let (decided, offered) = (c.max(d), c.min(d));
            p.reputation = symbolon_core::reputation::ReputationCounts {
                positive,
                ratings,
                offered,
                interactions: decided,
            };
            if refocus {
                p.fields = if p.fields.is_empty() { vec![path("a/b")] } else { vec![] };
            }
            updated.holders.insert(id, p.clone());
            profiles.push(p);
        }
        incremental.update_holders(&profiles);
        let (exact, full) = matchers(&updated);
        prop_assert_eq!(incremental.rank(&q, limit), full.rank(&q, limit));
        prop_assert_eq!(incremental.rank(&q, usize::MAX), exact.rank(&q, usize::MAX));
        prop_assert_eq!(incremental.eliminations(&q), full.eliminations(&q));
        prop_assert_eq!(incremental.facts(), full.facts());
    }

    /// Incremental state == recomputed state for supply: an engine that
    /// applies grants and revocations with `replace_holdings` (a holder's
    /// passes replaced, new pass documents indexed, holders appearing and
    /// left without supply) ranks, eliminates and reports the same facts as
    /// one fully synced to the updated market, and as the exact scorer.
    #[test]
    fn holding_replacements_agree_with_a_full_sync(
        (market, q) in arb_market(),
        changes in prop::collection::vec(
            (0usize..10, prop::collection::vec(0usize..40, 0..5), 0u64..20, 0u64..20),
            0..6,
        ),
        limit in 1usize..6,
    ) {
        let incremental = engine::Engine::in_memory().unwrap();
        incremental.sync(&market).unwrap();
        let usd = symbolon_core::Currency::parse("USD").unwrap();
        // Passes p0.. are the market's; indices past them are new documents.
        let doc = |i: usize| match market.passes.get(i) {
            Some(p) => p.clone(),
            None => PassDoc {
                pass_id: format!("new{i}"),
                title: if i.is_multiple_of(2) { "red phone".into() } else { "blue case".into() },
                description: String::new(),
                specs: vec![],
                category: path(if i.is_multiple_of(3) { "a/b" } else { "d" }),
                price: Money::new(i as i64 + 1, usd),
            },
        };
        let mut updated = market.clone();
        let mut batch = Vec::new();
        for (h, passes, a, b) in changes {
            let id = format!("h{h}");
            let mut profile = updated.holders.get(&id).cloned().unwrap_or_else(|| HolderProfile {
                id: id.clone(),
                fields: vec![],
                reputation: Default::default(),
            });
            profile.reputation.ratings = a.max(b);
            profile.reputation.positive = a.min(b);
            let docs: Vec<PassDoc> = passes.iter().map(|i| doc(*i)).collect();
            updated.listings.retain(|l| l.holder_id != id);
            for d in &docs {
                if !updated.passes.iter().any(|p| p.pass_id == d.pass_id) {
                    updated.passes.push(d.clone());
                }
                updated.listings.push(Listing { holder_id: id.clone(), pass_id: d.pass_id.clone() });
            }
            updated.holders.insert(id, profile.clone());
            batch.push((profile, docs));
        }
        incremental.replace_holdings(&batch, None).unwrap();
        let (exact, full) = matchers(&updated);
        prop_assert_eq!(incremental.rank(&q, limit), full.rank(&q, limit));
        prop_assert_eq!(incremental.rank(&q, usize::MAX), exact.rank(&q, usize::MAX));
        prop_assert_eq!(incremental.eliminations(&q), full.eliminations(&q));
        let sorted = |f: MarketFacts| {
            let mut r: Vec<_> = f.reputations.iter()
                .map(|r| (r.positive, r.ratings, r.offered, r.interactions)).collect();
            r.sort_unstable();
            let mut p: Vec<_> = f.prices.iter().map(|m| m.minor).collect();
            p.sort_unstable();
            (r, p)
        };
        prop_assert_eq!(sorted(incremental.facts()), sorted(full.facts()));
    }
}

#[test]
fn the_floor_contacts_only_real_matches() {
    let market = market_of(
        vec![
            listing(
                "tv1",
                "p1",
                "Sony Bravia 65 inch 4K TV",
                "electronics/tv",
                "900",
            ),
            listing(
                "tv2",
                "p2",
                "Sony Bravia 55 inch TV",
                "electronics/tv",
                "700",
            ),
            listing(
                "cans1",
                "p3",
                "Sony WH-1000XM5 wireless headphones",
                "electronics/audio",
                "399",
            ),
            listing(
                "cans2",
                "p4",
                "SONY WH1000XM5 noise cancelling headphones",
                "electronics/audio",
                "379",
            ),
            listing(
                "disk",
                "p5",
                "Seagate 2TB external drive",
                "electronics/storage",
                "80",
            ),
        ],
        [].into(),
    );
    let (exact, engine) = matchers(&market);
    for m in [&exact as &dyn Matcher, &engine] {
        let got = m.rank(&query("Sony WH-1000XM5 headphones"), 10);
        assert_eq!(ids(&got), vec!["cans1", "cans2"], "{got:?}");
        // The TV holders share "Sony" only: eliminated by the floor, named as closest.
        let e = m.eliminations(&query("Sony WH-1000XM5 headphones"));
        assert_eq!(e.eliminated["relevance"], 2, "{e:?}");
        assert!(e.closest.iter().any(|c| c.pass_id == "p1"), "{e:?}");
        for q in ["WH1000XM5", "WH-1000XM5", "wh 1000 xm5"] {
            assert_eq!(ids(&m.rank(&query(q), 10)), vec!["cans1", "cans2"], "{q}");
        }
        assert_eq!(ids(&m.rank(&query("2 TB drive"), 10)), vec!["disk"]);
        assert!(m.rank(&query("Sony WH-1000XM4"), 10).is_empty());
        // The same pass offered in answer is checked the same way.
        let tv = &market.passes[0];
        assert!(!m.check(&query("Sony WH-1000XM5 headphones"), tv).passes());
        assert!(m.check(&query("Sony Bravia TV"), tv).passes());
    }
}

#[test]
fn a_contradicting_brand_loses_to_the_named_one() {
    let mut market = market_of(
        vec![
            listing(
                "genuine",
                "p1",
                "Canon CLI-221 Ink Tank Magenta",
                "office",
                "20",
            ),
            listing(
                "clone",
                "p2",
                "Premium Compatible Canon CLI-221 Magenta Ink Cartridge",
                "office",
                "9",
            ),
        ],
        [].into(),
    );
    market.passes[0].specs = vec![("brand".into(), "Canon".into())];
    market.passes[1].specs = vec![("brand".into(), "Compatible".into())];
    let (exact, engine) = matchers(&market);
    for m in [&exact as &dyn Matcher, &engine] {
        let got = m.rank(&query("Canon CLI-221 Magenta Ink Cartridge"), 10);
        assert_eq!(got[0].holder_id, "genuine", "{got:?}");
    }
}
