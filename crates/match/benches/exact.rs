//! The exact matcher on seeded synthetic markets: the baseline the indexed
//! engine will be compared against. `cargo bench -p symbolon-match`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use symbolon_core::demand::{HolderCriteria, ItemSpec};
use symbolon_core::reputation::ReputationCounts;
use symbolon_core::{Currency, Money, TaxonomyPath};
use symbolon_match::engine::Engine;
use symbolon_match::{ExactMatcher, HolderProfile, Listing, Market, MatchQuery, Matcher, PassDoc};

const WORDS: &[&str] = &[
    "wireless",
    "headphones",
    "noise",
    "cancelling",
    "charger",
    "usb",
    "laptop",
    "keyboard",
    "mechanical",
    "coffee",
    "grinder",
    "espresso",
    "kettle",
    "router",
    "mesh",
    "camera",
    "lens",
    "tripod",
    "monitor",
    "耳机",
    "降噪",
    "手机",
    "电饭煲",
    "路由器",
    "键盘",
    "咖啡机",
    "平板",
    "充电器",
    "显示器",
];
const CATS: &[&str] = &[
    "electronics/audio",
    "electronics/computing",
    "home/kitchen",
    "electronics/network",
    "photo",
];

fn market(listings: usize, holders: usize, seed: u64) -> Market {
    let mut rng = StdRng::seed_from_u64(seed);
    let usd = Currency::parse("USD").unwrap();
    let title = |rng: &mut StdRng| {
        (0..4)
            .map(|_| WORDS[rng.random_range(0..WORDS.len())])
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = Vec::new();
    let passes = (0..listings)
        .map(|i| PassDoc {
            pass_id: format!("p{i}"),
            title: title(&mut rng),
            description: title(&mut rng),
            specs: vec![("model".into(), format!("X-{}", rng.random_range(100..999)))],
            category: TaxonomyPath::parse(CATS[rng.random_range(0..CATS.len())], "c").unwrap(),
            price: Money::new(rng.random_range(500..50_000), usd),
        })
        .collect();
    for i in 0..listings {
        out.push(Listing {
            holder_id: format!("h{}", rng.random_range(0..holders)),
            pass_id: format!("p{i}"),
        });
    }
    let holders: HashMap<String, HolderProfile> = (0..holders)
        .map(|i| {
            let ratings = rng.random_range(0..200u64);
            let interactions = rng.random_range(0..300u64);
            let id = format!("h{i}");
            (
                id.clone(),
                HolderProfile {
                    id,
                    fields: vec![
                        TaxonomyPath::parse(CATS[rng.random_range(0..CATS.len())], "f").unwrap(),
                    ],
                    reputation: ReputationCounts {
                        positive: rng.random_range(0..=ratings),
                        ratings,
                        offered: rng.random_range(0..=interactions),
                        interactions,
                    },
                },
            )
        })
        .collect();
    Market {
        passes,
        listings: out,
        holders,
    }
}

fn query(q: &str) -> MatchQuery {
    MatchQuery::new(
        ItemSpec {
            query: q.into(),
            category: Some(TaxonomyPath::parse("electronics", "c").unwrap()),
            max_price: Some(Money::new(30_000, Currency::parse("USD").unwrap())),
        },
        HolderCriteria {
            min_positive_rate: Some(0.5),
            min_ratings: Some(5),
            ..Default::default()
        },
    )
}

fn bench(c: &mut Criterion) {
    // Exact and indexed side by side, on the same market and queries.
    let mut g = c.benchmark_group("matchers");
    for &(listings, holders) in &[(1_000usize, 200usize), (10_000, 2_000)] {
        let m = market(listings, holders, 42);
        let exact = ExactMatcher::new(m.clone());
        let engine = Engine::in_memory().unwrap();
        engine.sync(&m).unwrap();
        for q in ["noise cancelling headphones", "降噪耳机"] {
            let query = query(q);
            g.bench_with_input(
                BenchmarkId::new(format!("exact/{listings}_listings"), q),
                &query,
                |b, query| b.iter(|| exact.rank(query, 10)),
            );
            g.bench_with_input(
                BenchmarkId::new(format!("engine/{listings}_listings"), q),
                &query,
                |b, query| b.iter(|| engine.rank(query, 10)),
            );
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
