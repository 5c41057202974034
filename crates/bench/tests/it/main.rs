//! symbolon-bench: the generator, the relevance loader and recall, and a tiny
//! end-to-end `bench match` run. No timing is asserted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use symbolon_bench::market::{generate, Demand};
use symbolon_bench::matching::{self, MatchOptions};
use symbolon_bench::progress::Progress;
use symbolon_bench::relevance::{self, recall_at, Dataset};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/walmart-amazon-tiny")
}

/// Everything a generated market says, in a stable order.
fn digest(seed: u64) -> String {
    let (m, d) = generate(seed, 3_000, 300, 800, 100);
    let mut holders: Vec<_> = m.holders.values().map(|h| format!("{h:?}")).collect();
    holders.sort();
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}",
        m.passes,
        m.listings,
        holders,
        d.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>()
    )
}

#[test]
fn generator_is_deterministic_for_a_seed() {
    assert_eq!(digest(7), digest(7));
    assert_ne!(digest(7), digest(8));
}

#[test]
fn generated_market_has_the_asked_shape_and_skew() {
    let (m, demands) = generate(3, 20_000, 2_000, 4_000, 500);
    assert_eq!(m.passes.len(), 4_000);
    assert_eq!(m.listings.len(), 20_000);
    assert_eq!(m.holders.len(), 2_000);
    assert_eq!(demands.len(), 500);

    // Every listing names a known pass and holder, once.
    let pass_ids: HashMap<&str, usize> = m
        .passes
        .iter()
        .enumerate()
        .map(|(i, p)| (p.pass_id.as_str(), i))
        .collect();
    let mut pairs = std::collections::HashSet::new();
    let mut per_pass = vec![0usize; m.passes.len()];
    for l in &m.listings {
        per_pass[pass_ids[l.pass_id.as_str()]] += 1;
        assert!(m.holders.contains_key(&l.holder_id));
        assert!(pairs.insert((&l.holder_id, &l.pass_id)));
    }
    // Few passes held by many, most by few.
    per_pass.sort_unstable();
    let median = per_pass[per_pass.len() / 2];
    let max = *per_pass.last().unwrap();
    assert!(median <= 3, "median holders per pass {median}");
    assert!(max >= 50 * median.max(1), "max {max}, median {median}");

    // About 10% Chinese titles; categories are three-level paths.
    let zh = m
        .passes
        .iter()
        .filter(|p| {
            p.title
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        })
        .count();
    assert!((200..=600).contains(&zh), "{zh} Chinese titles of 4000");
    assert!(m.passes.iter().all(|p| p.category.segments().count() == 3));
    assert!(m.passes.iter().all(|p| p.price.minor > 0));

    // Demands: varied criteria, some with none at all.
    let none = demands
        .iter()
        .filter(|d| {
            let c = &d.query.criteria;
            c.min_positive_rate.is_none()
                && c.min_success_rate.is_none()
                && c.min_ratings.is_none()
                && c.fields.is_empty()
        })
        .count();
    assert!(
        (100..=350).contains(&none),
        "{none} demands without criteria"
    );
    assert!(demands
        .iter()
        .all(|d: &Demand| d.min_holders >= 2 && d.max_holders >= d.min_holders));
    assert!(demands.iter().any(|d| d.query.item.category.is_some()));
    assert!(demands.iter().any(|d| d.query.item.max_price.is_some()));
}

#[test]
fn relevance_loader_parses_the_fixture() {
    let ds = Dataset::load(&fixture()).unwrap();
    assert_eq!(ds.queries.len(), 4);
    assert_eq!(ds.corpus.len(), 5);
    assert_eq!(ds.pairs.len(), 4);
    let sony = &ds.corpus[0];
    assert_eq!(sony.id, "10");
    assert_eq!(
        sony.title,
        "Sony WH-1000XM5 Wireless Noise Cancelling Headphones"
    );
    assert_eq!(sony.attr("modelno"), Some("WH1000XM5"));
    assert_eq!(sony.attr("dimensions"), Some("8 x 3 x 10 inches"));
    // Empty columns are left out; unparsable prices are no price.
    assert_eq!(ds.corpus[1].attr("dimensions"), None);
    assert_eq!(
        relevance::query_text(&ds.queries[2]),
        "Kodak 10B Black Ink Kodak"
    );

    let m = ds.market();
    assert_eq!(m.passes.len(), 5);
    assert_eq!(m.listings.len(), 5);
    assert_eq!(m.holders.len(), 5);
    let kodak = m.passes.iter().find(|p| p.pass_id == "a13").unwrap();
    assert_eq!(kodak.price.minor, 0);
    assert!(kodak.specs.iter().all(|(k, _)| k != "price"));
    assert!(kodak
        .specs
        .contains(&("brand".to_string(), "Kodak".to_string())));
}

#[test]
fn recall_on_the_fixture_is_the_known_value() {
    // Three of the four queries name their product; the fourth shares no word with it.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let r = rt
        .block_on(relevance::run(&fixture(), Progress::hidden()))
        .unwrap();
    for s in [r.engine, r.fts5, r.bm25] {
        assert_eq!(s.recall_at_1, 0.75, "{r:?}");
        assert_eq!(s.recall_at_5, 0.75);
        assert_eq!(s.recall_at_10, 0.75);
        assert!(s.p50_ms >= 0.0 && s.p99_ms >= s.p50_ms);
    }
    // The curve: one point per floor; a higher floor never finds more nor refuses less.
    assert_eq!(r.curve.len(), relevance::FLOORS.len());
    for w in r.curve.windows(2) {
        assert!(w[0].floor < w[1].floor);
        assert!(w[0].recall_at_10 >= w[1].recall_at_10, "{:?}", r.curve);
        assert!(w[0].refusal_rate <= w[1].refusal_rate, "{:?}", r.curve);
    }
    assert_eq!(r.absent.demands, 4);
    assert_eq!(r.absent.refusal_rate + r.absent.false_contact_rate, 1.0);
    // Absent products: with its headphones gone, the Sony query finds only the
    // other Sony headphones (one holder, fewer than two): nobody is contacted.
    assert!(r.absent.refusal_rate >= 0.25, "{:?}", r.absent);
    let json = serde_json::to_value(&r).unwrap();
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&json), ["absent", "bm25", "curve", "engine", "fts5"]);
    assert_eq!(
        keys(&json["engine"]),
        [
            "p50_ms",
            "p99_ms",
            "recall_at_1",
            "recall_at_10",
            "recall_at_5"
        ]
    );
    assert_eq!(
        recall_at(&[vec!["a".into(), "b".into()]], &["b".into()], 1),
        0.0
    );
}

fn copy_fixture_without(skip: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["walmart.csv", "amazon.csv", "gt.csv"] {
        if f != skip {
            std::fs::copy(fixture().join(f), dir.path().join(f)).unwrap();
        }
    }
    dir
}

#[test]
fn a_bad_folder_gives_an_error_naming_the_file() {
    let dir = copy_fixture_without("amazon.csv");
    let e = format!("{:#}", Dataset::load(dir.path()).unwrap_err());
    assert!(e.contains("amazon.csv"), "{e}");

    let dir = copy_fixture_without("");
    std::fs::write(dir.path().join("gt.csv"), "walmart,amazon\n1,10\n").unwrap();
    let e = format!("{:#}", Dataset::load(dir.path()).unwrap_err());
    assert!(e.contains("gt.csv") && e.contains("header"), "{e}");

    let dir = copy_fixture_without("");
    std::fs::write(dir.path().join("walmart.csv"), "title|id\nx|1\n").unwrap();
    let e = format!("{:#}", Dataset::load(dir.path()).unwrap_err());
    assert!(e.contains("walmart.csv") && e.contains("header"), "{e}");

    let dir = copy_fixture_without("");
    std::fs::write(dir.path().join("gt.csv"), "D1|D2\n1|999\n").unwrap();
    let e = format!("{:#}", Dataset::load(dir.path()).unwrap_err());
    assert!(e.contains("gt.csv") && e.contains("999"), "{e}");

    let e = format!(
        "{:#}",
        Dataset::load(Path::new("/nonexistent/walmart-amazon")).unwrap_err()
    );
    assert!(e.contains("/nonexistent/walmart-amazon"), "{e}");
}

#[test]
fn a_tiny_match_run_gives_sane_numbers() {
    let postgres_url = std::env::var("SYMBOLON_TEST_POSTGRES_URL").ok();
    let opts = MatchOptions {
        listings: 2_000,
        holders: 200,
        passes: 500,
        demands: 100,
        seed: 5,
        postgres_url: postgres_url.clone(),
        sqlite: true,
        baseline_demands: Some(40),
        sanity_demands: 30,
        sanity_budget: Duration::from_secs(60),
        threads: Some(2),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let r = rt
        .block_on(matching::run(&opts, Progress::hidden()))
        .unwrap();

    assert_eq!(r.market.listings, 2_000);
    let e = &r.engine;
    assert_eq!(e.latency.count, 100);
    assert!(e.latency.p50_ms > 0.0);
    assert!(e.latency.p50_ms <= e.latency.p99_ms && e.latency.p99_ms <= e.latency.p999_ms);
    assert!(e.throughput_per_sec > 0.0 && e.listings_per_sec > 0.0);
    assert!(e.satisfied_share > 0.2, "{e:?}");
    assert!(e.mean_returned > 0.0);

    let s = r.sanity.as_ref().expect("sanity sample");
    assert_eq!(s.demands, 30);
    assert!(s.top_holder_agreement >= 0.95, "{s:?}");

    let names: Vec<&str> = r.baselines.iter().map(|b| b.name.as_str()).collect();
    let expected: &[&str] = if postgres_url.is_some() {
        &["SQLite FTS5", "PostgreSQL FTS"]
    } else {
        &["SQLite FTS5"]
    };
    assert_eq!(names, expected);
    for b in &r.baselines {
        assert_eq!(b.latency.count, 40);
        assert_eq!(b.engine_latency.count, 40);
        assert!(b.ratio_p50 > 0.0);
        // Same qualification rule, different ranking: the top holder often agrees.
        assert!(b.top_holder_agreement > 0.1, "{b:?}");
    }
    assert_eq!(r.goals.len(), 5);
    // The report renders and serializes.
    assert!(symbolon_bench::render::match_report(&r).contains("SQLite FTS5"));
    assert!(serde_json::to_string(&r)
        .unwrap()
        .contains("throughput_per_sec"));
}

#[test]
fn the_floor_curve_is_plotted_as_svg() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let r = rt
        .block_on(relevance::run(&fixture(), Progress::hidden()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curve.svg");
    symbolon_bench::plot::relevance_svg(&path, &r).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
    assert!(svg.contains("absent products: nobody contacted"));
    assert!(svg.contains(&format!("default floor {}", r.absent.floor)));
}
