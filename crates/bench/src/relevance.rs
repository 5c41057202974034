//! `symbolon bench relevance`: recall@k of the engine and of SQLite FTS5 on a
//! product-matching dataset laid out like Walmart-Amazon.
//!
//! A folder holds three `|`-separated files with a header: `walmart.csv` (the
//! queries) and `amazon.csv` (the corpus), each `id|title|…more columns`, and
//! `gt.csv` (`D1|D2`: a walmart id and the amazon id of the same product).
//! Every corpus row becomes a pass (the columns after the title are its specs,
//! by header name; `price` is its USD price) held by one holder `h<id>` of
//! neutral reputation, so the ranking of holders is the ranking of passes. Each
//! ground-truth pair asks the walmart row's title plus its `modelno` and
//! `brand` (as a buyer who knows them would type) for the top 10.

use crate::api::{Engine, HolderProfile, Listing, Market, MatchQuery, Matcher, PassDoc};
use crate::baseline::{fts5_query, segment, specs_text};
use crate::progress::Progress;
use crate::stats::Latency;
use anyhow::{bail, Context};
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Executor, QueryBuilder, Row, Sqlite};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use symbolon_core::demand::{HolderCriteria, ItemSpec};
use symbolon_core::reputation::ReputationCounts;
use symbolon_core::{Currency, Money, TaxonomyPath};
use symbolon_match::score::DEFAULT_FLOOR;

/// Results asked per query.
pub const TOP_K: usize = 10;
/// Holders a demand needs before anyone is contacted (the exchange's default `min_holders`).
pub const MIN_HOLDERS: usize = 2;
/// The relevance floors the curve is measured at.
pub const FLOORS: &[f64] = &[0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.8];

/// One row of `walmart.csv` or `amazon.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: String,
    pub title: String,
    /// The other columns, by header name (empty values omitted).
    pub attrs: Vec<(String, String)>,
}

impl Record {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The three files of a dataset folder.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub queries: Vec<Record>,
    pub corpus: Vec<Record>,
    /// (query id, corpus id).
    pub pairs: Vec<(String, String)>,
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Lines without the header's line ending quirks (`\r\n`), blank lines skipped,
/// with their 1-based line numbers.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty())
}

/// Parses `id|title|…` rows.
pub fn parse_records(path: &Path, text: &str) -> anyhow::Result<Vec<Record>> {
    let mut it = lines(text);
    let Some((_, header)) = it.next() else {
        bail!(
            "{}: the file is empty (expected a header `id|title|…`)",
            path.display()
        );
    };
    let cols: Vec<String> = header
        .trim_start_matches('\u{feff}')
        .split('|')
        .map(|c| c.trim().to_lowercase())
        .collect();
    if cols.len() < 2 || cols[0] != "id" || cols[1] != "title" {
        bail!(
            "{}: bad header `{header}` (expected `id|title|…`, separated by `|`)",
            path.display()
        );
    }
    let mut out = Vec::new();
    for (n, line) in it {
        let vals: Vec<&str> = line.split('|').collect();
        if vals.len() < 2 {
            bail!(
                "{}: line {n} has {} column(s), expected {}",
                path.display(),
                vals.len(),
                cols.len()
            );
        }
        let attrs = cols
            .iter()
            .zip(vals.iter())
            .skip(2)
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k.clone(), v.trim().to_string()))
            .collect();
        out.push(Record {
            id: vals[0].trim().to_string(),
            title: vals[1].trim().to_string(),
            attrs,
        });
    }
    Ok(out)
}

/// Parses `D1|D2` pairs.
pub fn parse_pairs(path: &Path, text: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut it = lines(text);
    let Some((_, header)) = it.next() else {
        bail!(
            "{}: the file is empty (expected a header `D1|D2`)",
            path.display()
        );
    };
    let cols: Vec<String> = header
        .trim_start_matches('\u{feff}')
        .split('|')
        .map(|c| c.trim().to_lowercase())
        .collect();
    if cols != ["d1", "d2"] {
        bail!(
            "{}: bad header `{header}` (expected `D1|D2`)",
            path.display()
        );
    }
    it.map(|(n, line)| match line.split('|').collect::<Vec<_>>()[..] {
        [a, b] => Ok((a.trim().to_string(), b.trim().to_string())),
        _ => bail!("{}: line {n} is not `D1|D2`", path.display()),
    })
    .collect()
}

impl Dataset {
    /// Loads `DIR/walmart.csv`, `DIR/amazon.csv` and `DIR/gt.csv`; every error names its file.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        if !dir.is_dir() {
            bail!("{} is not a folder", dir.display());
        }
        let p = |f: &str| -> PathBuf { dir.join(f) };
        let (wp, ap, gp) = (p("walmart.csv"), p("amazon.csv"), p("gt.csv"));
        let queries = parse_records(&wp, &read(&wp)?)?;
        let corpus = parse_records(&ap, &read(&ap)?)?;
        let pairs = parse_pairs(&gp, &read(&gp)?)?;
        let qs: HashMap<&str, ()> = queries.iter().map(|r| (r.id.as_str(), ())).collect();
        let cs: HashMap<&str, ()> = corpus.iter().map(|r| (r.id.as_str(), ())).collect();
        for (a, b) in &pairs {
            if !qs.contains_key(a.as_str()) {
                bail!("{}: D1 id {a} is not in {}", gp.display(), wp.display());
            }
            if !cs.contains_key(b.as_str()) {
                bail!("{}: D2 id {b} is not in {}", gp.display(), ap.display());
            }
        }
        Ok(Self {
            queries,
            corpus,
            pairs,
        })
    }

    /// The market: one pass per corpus row, each held by its own neutral holder.
    pub fn market(&self) -> Market {
        let usd = Currency::parse("USD").expect("USD");
        let category = TaxonomyPath::parse("products", "category").expect("valid path");
        let mut m = Market::default();
        for r in &self.corpus {
            let price = r
                .attr("price")
                .and_then(|s| parse_price(s, usd))
                .unwrap_or(Money::new(0, usd));
            m.passes.push(PassDoc {
                pass_id: format!("a{}", r.id),
                title: r.title.clone(),
                description: String::new(),
                specs: r
                    .attrs
                    .iter()
                    .filter(|(k, _)| k != "price")
                    .cloned()
                    .collect(),
                category: category.clone(),
                price,
            });
            let holder = holder_of(&r.id);
            m.listings.push(Listing {
                holder_id: holder.clone(),
                pass_id: format!("a{}", r.id),
            });
            m.holders.insert(
                holder.clone(),
                HolderProfile {
                    id: holder,
                    fields: vec![],
                    reputation: ReputationCounts::default(),
                },
            );
        }
        m
    }
}

fn holder_of(corpus_id: &str) -> String {
    format!("h{corpus_id}")
}

/// `12.65` → 1265 cents; anything unparsable → `None`.
fn parse_price(s: &str, usd: Currency) -> Option<Money> {
    let s = s.trim().trim_start_matches('$').replace(',', "");
    Money::parse(&s, usd.as_str()).ok().or_else(|| {
        let v: f64 = s.parse().ok()?;
        (v.is_finite() && v >= 0.0).then(|| Money::new((v * 100.0).round() as i64, usd))
    })
}

/// What a buyer who knows the product would type: its title, model number and brand.
pub fn query_text(r: &Record) -> String {
    let mut q = r.title.clone();
    for k in ["modelno", "brand"] {
        if let Some(v) = r.attr(k) {
            q.push(' ');
            q.push_str(v);
        }
    }
    q
}

/// Share of queries whose expected id is among the first `k` results.
pub fn recall_at(results: &[Vec<String>], expected: &[String], k: usize) -> f64 {
    if expected.is_empty() {
        return 0.0;
    }
    let hits = results
        .iter()
        .zip(expected)
        .filter(|(r, e)| r.iter().take(k).any(|x| x == *e))
        .count();
    hits as f64 / expected.len() as f64
}

/// One system's figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    pub recall_at_1: f64,
    pub recall_at_5: f64,
    pub recall_at_10: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl Scores {
    fn of(results: &[Vec<String>], expected: &[String], times: &[Duration]) -> Self {
        let l = Latency::of(times);
        Self {
            recall_at_1: recall_at(results, expected, 1),
            recall_at_5: recall_at(results, expected, 5),
            recall_at_10: recall_at(results, expected, 10),
            p50_ms: l.p50_ms,
            p99_ms: l.p99_ms,
        }
    }
}

/// Recall on present products and refusals on absent ones at one floor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FloorPoint {
    pub floor: f64,
    pub recall_at_1: f64,
    pub recall_at_5: f64,
    pub recall_at_10: f64,
    /// Share of absent-product demands that contact nobody (fewer than `MIN_HOLDERS` qualify).
    pub refusal_rate: f64,
}

/// The absent-product figures at the engine's default floor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Absent {
    pub floor: f64,
    pub demands: usize,
    /// Share that contact nobody.
    pub refusal_rate: f64,
    /// Share that still reach `MIN_HOLDERS` holders (false contacts).
    pub false_contact_rate: f64,
    /// recall@1 at this floor minus recall@1 with no floor.
    pub recall_at_1_change: f64,
}

/// The report. `engine` (at the default floor), `fts5` and `bm25` keep the
/// shape `{recall_at_1, recall_at_5, recall_at_10, p50_ms, p99_ms}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelevanceReport {
    pub engine: Scores,
    pub fts5: Scores,
    /// Plain BM25 with model-number normalisation ([`crate::bm25`]).
    pub bm25: Scores,
    pub absent: Absent,
    /// One point per floor of [`FLOORS`].
    pub curve: Vec<FloorPoint>,
}

/// Ids of the queries asked, in `pairs` order, and the expected corpus ids.
fn asked(ds: &Dataset) -> (Vec<String>, Vec<String>) {
    let by_id: HashMap<&str, &Record> = ds.queries.iter().map(|r| (r.id.as_str(), r)).collect();
    ds.pairs
        .iter()
        .map(|(q, c)| (query_text(by_id[q.as_str()]), c.clone()))
        .unzip()
}

/// The engine over a dataset's market.
pub fn engine_of(ds: &Dataset, progress: Progress) -> anyhow::Result<Engine> {
    let market = ds.market();
    let sp = progress.spinner("engine: indexing the corpus");
    let engine = Engine::in_memory().context("creating the engine")?;
    engine.sync(&market).context("indexing the corpus")?;
    sp.finish_and_clear();
    Ok(engine)
}

fn match_query(q: &str, floor: f64) -> MatchQuery {
    MatchQuery {
        item: ItemSpec {
            query: q.to_string(),
            category: None,
            max_price: None,
        },
        criteria: HolderCriteria::default(),
        exclude_holder: None,
        floor,
    }
}

fn corpus_ids(r: &[crate::api::RankedHolder]) -> Vec<String> {
    r.iter()
        .map(|h| {
            h.holder_id
                .strip_prefix('h')
                .unwrap_or(&h.holder_id)
                .to_string()
        })
        .collect()
}

/// The engine's top-10 corpus ids for each query at `floor`, and the time of each.
pub fn run_engine(
    engine: &Engine,
    queries: &[String],
    floor: f64,
    progress: Progress,
) -> (Vec<Vec<String>>, Vec<Duration>) {
    let pb = progress.bar(
        queries.len() as u64,
        &format!("engine: queries, floor {floor}"),
    );
    let (mut results, mut times) = (Vec::new(), Vec::new());
    for q in queries {
        let mq = match_query(q, floor);
        let t = Instant::now();
        let r = engine.rank(&mq, TOP_K);
        times.push(t.elapsed());
        results.push(corpus_ids(&r));
        pb.inc(1);
    }
    pb.finish_and_clear();
    (results, times)
}

/// For each floor, the share of queries that contact nobody once their true
/// match (`expected`, a corpus id) has left the market. `passes` holds the
/// market's pass documents by corpus id (to restore each withdrawn listing).
pub fn refusals(
    engine: &Engine,
    passes: &HashMap<String, PassDoc>,
    queries: &[String],
    expected: &[String],
    floors: &[f64],
    progress: Progress,
) -> anyhow::Result<Vec<f64>> {
    let pb = progress.bar(queries.len() as u64, "engine: absent products");
    let mut refused = vec![0usize; floors.len()];
    for (q, id) in queries.iter().zip(expected) {
        let holder = HolderProfile {
            id: holder_of(id),
            fields: vec![],
            reputation: ReputationCounts::default(),
        };
        let pass = passes.get(id).cloned();
        engine
            .replace_holdings(&[(holder.clone(), vec![])], None)
            .context("withdrawing a listing")?;
        for (i, floor) in floors.iter().enumerate() {
            if engine.rank(&match_query(q, *floor), MIN_HOLDERS).len() < MIN_HOLDERS {
                refused[i] += 1;
            }
        }
        engine
            .replace_holdings(&[(holder, pass.into_iter().collect())], None)
            .context("restoring a listing")?;
        pb.inc(1);
    }
    pb.finish_and_clear();
    let n = queries.len().max(1) as f64;
    Ok(refused.into_iter().map(|r| r as f64 / n).collect())
}

/// BM25's top-10 corpus ids for each query, and the time of each.
pub fn run_bm25(
    ds: &Dataset,
    queries: &[String],
    progress: Progress,
) -> (Vec<Vec<String>>, Vec<Duration>) {
    let sp = progress.spinner("BM25: indexing the corpus");
    let index = crate::bm25::Bm25::new(ds.corpus.iter().map(|r| {
        let mut text = r.title.clone();
        for (k, v) in &r.attrs {
            if k != "price" {
                text.push(' ');
                text.push_str(v);
            }
        }
        (r.id.as_str(), text)
    }));
    sp.finish_and_clear();
    let (mut results, mut times) = (Vec::new(), Vec::new());
    for q in queries {
        let t = Instant::now();
        results.push(index.top(q, TOP_K));
        times.push(t.elapsed());
    }
    (results, times)
}

/// SQLite FTS5 (bm25 over title and specs, the query's terms OR-ed) on the corpus.
pub async fn run_fts5(
    ds: &Dataset,
    queries: &[String],
    progress: Progress,
) -> anyhow::Result<(Vec<Vec<String>>, Vec<Duration>)> {
    let dir = tempfile::tempdir().context("creating a temp dir for SQLite")?;
    let opts = SqliteConnectOptions::new()
        .filename(dir.path().join("relevance.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Off)
        .synchronous(SqliteSynchronous::Off)
        .disable_statement_logging();
    let mut conn = SqliteConnection::connect_with(&opts)
        .await
        .context("opening SQLite")?;
    conn.execute("CREATE VIRTUAL TABLE corpus USING fts5(id UNINDEXED, title, specs)")
        .await?;
    let sp = progress.spinner("SQLite FTS5: loading the corpus");
    let mut tx = conn.begin().await?;
    for chunk in ds.corpus.chunks(2_000) {
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO corpus (id, title, specs) ");
        qb.push_values(chunk, |mut b, r| {
            let specs: Vec<(String, String)> = r
                .attrs
                .iter()
                .filter(|(k, _)| k != "price")
                .cloned()
                .collect();
            b.push_bind(r.id.as_str())
                .push_bind(segment(&r.title))
                .push_bind(specs_text(&specs));
        });
        qb.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    conn.execute("INSERT INTO corpus (corpus) VALUES ('optimize')")
        .await?;
    sp.finish_and_clear();
    let pb = progress.bar(queries.len() as u64, "SQLite FTS5: queries");
    let (mut results, mut times) = (Vec::new(), Vec::new());
    for q in queries {
        let t = Instant::now();
        let ids: Vec<String> = match fts5_query(q) {
            None => vec![],
            Some(m) => sqlx::query(
                "SELECT id FROM corpus WHERE corpus MATCH ?1 ORDER BY bm25(corpus, 0.0, 3.0, 2.0) LIMIT ?2",
            )
            .bind(m)
            .bind(TOP_K as i64)
            .fetch_all(&mut conn)
            .await
            .context("SQLite FTS5 query")?
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect(),
        };
        times.push(t.elapsed());
        results.push(ids);
        pb.inc(1);
    }
    pb.finish_and_clear();
    conn.close().await.ok();
    Ok((results, times))
}

/// Loads the dataset and measures the engine (at every floor, with products
/// present and absent), plain BM25 and SQLite FTS5.
pub async fn run(dir: &Path, progress: Progress) -> anyhow::Result<RelevanceReport> {
    let ds = Dataset::load(dir)?;
    let (queries, expected) = asked(&ds);
    let passes: HashMap<String, PassDoc> = ds
        .market()
        .passes
        .into_iter()
        .map(|d| (d.pass_id.trim_start_matches('a').to_string(), d))
        .collect();
    let engine = engine_of(&ds, progress)?;
    let mut curve = Vec::new();
    let mut at_default = None;
    for floor in FLOORS {
        let (r, t) = run_engine(&engine, &queries, *floor, progress);
        let s = Scores::of(&r, &expected, &t);
        if *floor == DEFAULT_FLOOR {
            at_default = Some(s);
        }
        curve.push(FloorPoint {
            floor: *floor,
            recall_at_1: s.recall_at_1,
            recall_at_5: s.recall_at_5,
            recall_at_10: s.recall_at_10,
            refusal_rate: 0.0,
        });
    }
    let engine_scores = match at_default {
        Some(s) => s,
        None => {
            let (r, t) = run_engine(&engine, &queries, DEFAULT_FLOOR, progress);
            Scores::of(&r, &expected, &t)
        }
    };
    let mut floors: Vec<f64> = FLOORS.to_vec();
    floors.push(DEFAULT_FLOOR);
    let refused = refusals(&engine, &passes, &queries, &expected, &floors, progress)?;
    for (p, r) in curve.iter_mut().zip(&refused) {
        p.refusal_rate = *r;
    }
    let no_floor = curve.first().map(|p| p.recall_at_1).unwrap_or(0.0);
    let default_refusal = *refused.last().unwrap_or(&0.0);
    let (br, bt) = run_bm25(&ds, &queries, progress);
    let (fr, ft) = run_fts5(&ds, &queries, progress).await?;
    Ok(RelevanceReport {
        engine: engine_scores,
        fts5: Scores::of(&fr, &expected, &ft),
        bm25: Scores::of(&br, &expected, &bt),
        absent: Absent {
            floor: DEFAULT_FLOOR,
            demands: queries.len(),
            refusal_rate: default_refusal,
            false_contact_rate: 1.0 - default_refusal,
            recall_at_1_change: engine_scores.recall_at_1 - no_floor,
        },
        curve,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices() {
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(parse_price("12.65", usd), Some(Money::new(1265, usd)));
        assert_eq!(parse_price("$1,299.9", usd), Some(Money::new(129_990, usd)));
        assert_eq!(parse_price("12.345", usd), Some(Money::new(1235, usd)));
        assert_eq!(parse_price("n/a", usd), None);
    }

    #[test]
    fn recall() {
        let r = vec![
            vec!["1".to_string(), "2".into()],
            vec!["3".to_string(), "4".into()],
        ];
        let e = vec!["2".to_string(), "9".into()];
        assert_eq!(recall_at(&r, &e, 1), 0.0);
        assert_eq!(recall_at(&r, &e, 2), 0.5);
        assert_eq!(recall_at(&[], &[], 1), 0.0);
    }
}
