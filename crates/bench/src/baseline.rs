//! Full-text baselines: the same market and the same demands answered by
//! SQL — SQLite FTS5 (bm25) and PostgreSQL (`tsvector` + GIN + `ts_rank`).
//!
//! Both get the engine's tokenization: documents are stored as the engine's
//! own tokens ([`segment`]) and queries are the engine's own terms
//! ([`Terms::of_query`]) joined by OR, so a pass matches in SQL exactly when
//! the engine finds it relevant. Each demand is one SQL
//! statement: text match, category prefix and price filters, joins to the
//! listings and holders with every criterion, a score of the same shape
//! (`0.60 · text rank + 0.25 · wilson(positive) + 0.15 · wilson(success)`),
//! one row per holder, `LIMIT max_holders`.

use crate::api::Market;
use crate::market::Demand;
use crate::progress::Progress;
use crate::scratch::ScratchDb;
use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Executor, QueryBuilder, Row, Sqlite};
use std::collections::HashMap;
use std::str::FromStr;
use symbolon_match::text::{self, Terms};

/// A SQL baseline: loaded once, then asked each demand.
pub(crate) trait Baseline {
    /// The best `max_holders` holder ids for a demand, best first.
    async fn rank(&mut self, d: &Demand) -> anyhow::Result<Vec<String>>;
}

/// Text as the engine's document tokens ([`text::for_each_token`]: words,
/// joined forms of model numbers, CJK characters and adjacent pairs)
/// separated by spaces, so a word-splitting SQL tokenizer sees exactly them
/// (derived pieces of model numbers left out: a SQL tokenizer would count
/// them as whole words).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    text::for_each_token(s, |t| {
        if t.starts_with(text::DERIVED) {
            return;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(t);
    });
    out
}

/// Spec names and values as one text.
pub fn specs_text(specs: &[(String, String)]) -> String {
    let mut s = String::new();
    for (k, v) in specs {
        s.push_str(k);
        s.push(' ');
        s.push_str(v);
        s.push(' ');
    }
    segment(&s)
}

/// An FTS5 query: the engine's terms, each quoted, joined by OR. `None` when
/// the query has no terms (nothing can match).
pub fn fts5_query(q: &str) -> Option<String> {
    let terms = Terms::of_query(q);
    if terms.is_empty() {
        return None;
    }
    Some(
        terms
            .0
            .iter()
            .map(|t| format!("\"{}\"", t.text.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" OR "),
    )
}

/// A tsquery: the engine's terms, each a quoted lexeme, joined by `|`.
pub fn tsquery(q: &str) -> Option<String> {
    let terms = Terms::of_query(q);
    if terms.is_empty() {
        return None;
    }
    Some(
        terms
            .0
            .iter()
            .map(|t| format!("'{}'", t.text.replace('\\', "\\\\").replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(" | "),
    )
}

/// Dense numbering of pass and holder ids.
struct Ids<'a> {
    passes: HashMap<&'a str, i32>,
    holders: Vec<&'a crate::api::HolderProfile>,
    holder_ix: HashMap<&'a str, i32>,
}

impl<'a> Ids<'a> {
    fn of(market: &'a Market) -> Self {
        let passes = market
            .passes
            .iter()
            .enumerate()
            .map(|(i, p)| (p.pass_id.as_str(), i as i32))
            .collect();
        let mut holders: Vec<_> = market.holders.values().collect();
        holders.sort_by(|a, b| a.id.cmp(&b.id));
        let holder_ix = holders
            .iter()
            .enumerate()
            .map(|(i, h)| (h.id.as_str(), i as i32))
            .collect();
        Self {
            passes,
            holders,
            holder_ix,
        }
    }

    /// Listings as (holder, pass) numbers; listings naming unknown ids are dropped.
    fn listings(&self, market: &Market) -> Vec<(i32, i32)> {
        let mut v: Vec<(i32, i32)> = market
            .listings
            .iter()
            .filter_map(|l| {
                Some((
                    *self.holder_ix.get(l.holder_id.as_str())?,
                    *self.passes.get(l.pass_id.as_str())?,
                ))
            })
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

fn fields_json(d: &Demand) -> Option<String> {
    let f = &d.query.criteria.fields;
    (!f.is_empty()).then(|| {
        serde_json::to_string(&f.iter().map(|p| p.as_str()).collect::<Vec<_>>())
            .unwrap_or_else(|_| "[]".into())
    })
}

// ---------------------------------------------------------------- SQLite FTS5

/// SQLite with FTS5, in a file in a temp dir.
pub struct SqliteFts {
    conn: SqliteConnection,
    _dir: tempfile::TempDir,
}

const SQLITE_SCHEMA: &[&str] = &[
    "CREATE VIRTUAL TABLE pass_fts USING fts5(title, specs, description, tokenize = 'unicode61')",
    "CREATE TABLE passes (id INTEGER PRIMARY KEY, pass_id TEXT NOT NULL, category TEXT NOT NULL, \
     price_minor INTEGER NOT NULL, currency TEXT NOT NULL)",
    "CREATE TABLE holders (id INTEGER PRIMARY KEY, holder_id TEXT NOT NULL, positive INTEGER NOT NULL, \
     ratings INTEGER NOT NULL, offered INTEGER NOT NULL, interactions INTEGER NOT NULL, \
     pos_lb REAL NOT NULL, succ_lb REAL NOT NULL)",
    "CREATE TABLE holder_fields (holder INTEGER NOT NULL, field TEXT NOT NULL, PRIMARY KEY (holder, field)) WITHOUT ROWID",
    "CREATE TABLE listings (pass INTEGER NOT NULL, holder INTEGER NOT NULL, PRIMARY KEY (pass, holder)) WITHOUT ROWID",
];

const SQLITE_RANK: &str = "
WITH m AS MATERIALIZED (
  SELECT rowid AS pass, -bm25(pass_fts, 3.0, 2.0, 1.0) AS r
  FROM pass_fts WHERE pass_fts MATCH ?1
)
SELECT h.holder_id,
       MAX(0.60 * (m.r / (1.0 + m.r)) + 0.25 * h.pos_lb + 0.15 * h.succ_lb) AS score
FROM m
JOIN passes p ON p.id = m.pass
JOIN listings l ON l.pass = m.pass
JOIN holders h ON h.id = l.holder
WHERE (?2 IS NULL OR p.category = ?2 OR substr(p.category, 1, length(?2) + 1) = ?2 || '/')
  AND (?3 IS NULL OR (p.currency = ?4 AND p.price_minor <= ?3))
  AND (?5 IS NULL OR (h.ratings > 0 AND CAST(h.positive AS REAL) / h.ratings >= ?5))
  AND (?6 IS NULL OR (h.interactions > 0 AND CAST(h.offered AS REAL) / h.interactions >= ?6))
  AND (?7 IS NULL OR h.ratings >= ?7)
  AND (?8 IS NULL OR h.holder_id <> ?8)
  AND (?9 IS NULL OR EXISTS (
        SELECT 1 FROM holder_fields f, json_each(?9) w
        WHERE f.holder = h.id
          AND (f.field = w.value
               OR substr(f.field, 1, length(w.value) + 1) = w.value || '/'
               OR substr(w.value, 1, length(f.field) + 1) = f.field || '/')))
GROUP BY h.id
ORDER BY score DESC, h.holder_id
LIMIT ?10";

/// Rows per multi-row INSERT (SQLite allows 32 766 bound values per statement).
const SQLITE_ROWS: usize = 2_000;
/// Rows per transaction.
const SQLITE_TX_ROWS: usize = 100_000;

impl SqliteFts {
    /// Creates the database in a temp dir and loads `market` in batched transactions.
    pub async fn load(market: &Market, progress: Progress) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().context("creating a temp dir for SQLite")?;
        let opts = SqliteConnectOptions::new()
            .filename(dir.path().join("bench.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Off)
            .synchronous(SqliteSynchronous::Off)
            .pragma("cache_size", "-262144")
            .pragma("temp_store", "memory")
            .disable_statement_logging();
        let mut conn = SqliteConnection::connect_with(&opts)
            .await
            .context("opening SQLite")?;
        for s in SQLITE_SCHEMA {
            conn.execute(*s)
                .await
                .context("creating the SQLite schema")?;
        }
        let ids = Ids::of(market);
        let listings = ids.listings(market);
        let total = (market.passes.len() + ids.holders.len() + listings.len()) as u64;
        let pb = progress.bar(total, "SQLite FTS5: loading");

        for tx_chunk in market.passes.chunks(SQLITE_TX_ROWS / 4) {
            let mut tx = conn.begin().await?;
            for chunk in tx_chunk.chunks(SQLITE_ROWS / 4) {
                let mut qb: QueryBuilder<Sqlite> =
                    QueryBuilder::new("INSERT INTO pass_fts (rowid, title, specs, description) ");
                qb.push_values(chunk, |mut b, p| {
                    b.push_bind(ids.passes[p.pass_id.as_str()])
                        .push_bind(segment(&p.title))
                        .push_bind(specs_text(&p.specs))
                        .push_bind(segment(&p.description));
                });
                qb.build().execute(&mut *tx).await?;
                let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                    "INSERT INTO passes (id, pass_id, category, price_minor, currency) ",
                );
                qb.push_values(chunk, |mut b, p| {
                    b.push_bind(ids.passes[p.pass_id.as_str()])
                        .push_bind(p.pass_id.as_str())
                        .push_bind(p.category.as_str())
                        .push_bind(p.price.minor)
                        .push_bind(p.price.currency.as_str());
                });
                qb.build().execute(&mut *tx).await?;
                pb.inc(chunk.len() as u64);
            }
            tx.commit().await?;
        }

        let holders: Vec<(i32, &crate::api::HolderProfile)> = ids
            .holders
            .iter()
            .enumerate()
            .map(|(i, h)| (i as i32, *h))
            .collect();
        for tx_chunk in holders.chunks(SQLITE_TX_ROWS) {
            let mut tx = conn.begin().await?;
            for chunk in tx_chunk.chunks(SQLITE_ROWS / 4) {
                let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                    "INSERT INTO holders (id, holder_id, positive, ratings, offered, interactions, pos_lb, succ_lb) ",
                );
                qb.push_values(chunk, |mut b, (i, h)| {
                    let r = h.reputation;
                    b.push_bind(*i)
                        .push_bind(h.id.as_str())
                        .push_bind(r.positive as i64)
                        .push_bind(r.ratings as i64)
                        .push_bind(r.offered as i64)
                        .push_bind(r.interactions as i64)
                        .push_bind(r.positive_lower_bound())
                        .push_bind(r.success_lower_bound());
                });
                qb.build().execute(&mut *tx).await?;
                let fields: Vec<(i32, &str)> = chunk
                    .iter()
                    .flat_map(|(i, h)| h.fields.iter().map(move |f| (*i, f.as_str())))
                    .collect();
                if !fields.is_empty() {
                    let mut qb: QueryBuilder<Sqlite> =
                        QueryBuilder::new("INSERT OR IGNORE INTO holder_fields (holder, field) ");
                    qb.push_values(&fields, |mut b, (i, f)| {
                        b.push_bind(*i).push_bind(*f);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                pb.inc(chunk.len() as u64);
            }
            tx.commit().await?;
        }

        for tx_chunk in listings.chunks(SQLITE_TX_ROWS * 2) {
            let mut tx = conn.begin().await?;
            for chunk in tx_chunk.chunks(SQLITE_ROWS * 4) {
                let mut qb: QueryBuilder<Sqlite> =
                    QueryBuilder::new("INSERT INTO listings (holder, pass) ");
                qb.push_values(chunk, |mut b, (h, p)| {
                    b.push_bind(*h).push_bind(*p);
                });
                qb.build().execute(&mut *tx).await?;
                pb.inc(chunk.len() as u64);
            }
            tx.commit().await?;
        }
        pb.set_message("SQLite FTS5: optimize + analyze");
        conn.execute("INSERT INTO pass_fts (pass_fts) VALUES ('optimize')")
            .await?;
        conn.execute("ANALYZE").await?;
        pb.finish_and_clear();
        Ok(Self { conn, _dir: dir })
    }
}

impl Baseline for SqliteFts {
    async fn rank(&mut self, d: &Demand) -> anyhow::Result<Vec<String>> {
        let Some(q) = fts5_query(&d.query.item.query) else {
            return Ok(vec![]);
        };
        let item = &d.query.item;
        let c = &d.query.criteria;
        let rows = sqlx::query(SQLITE_RANK)
            .bind(q)
            .bind(item.category.as_ref().map(|c| c.as_str().to_string()))
            .bind(item.max_price.map(|m| m.minor))
            .bind(item.max_price.map(|m| m.currency.as_str().to_string()))
            .bind(c.min_positive_rate)
            .bind(c.min_success_rate)
            .bind(c.min_ratings.map(|n| n as i64))
            .bind(d.query.exclude_holder.clone())
            .bind(fields_json(d))
            .bind(d.max_holders as i64)
            .fetch_all(&mut self.conn)
            .await
            .context("SQLite FTS5 query")?;
        Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
    }
}

// ------------------------------------------------------------ PostgreSQL FTS

/// A fresh PostgreSQL database `symbolon_bench_<random>`, dropped by [`PgFts::drop_database`].
pub struct PgFts {
    conn: Option<PgConnection>,
    pub scratch: ScratchDb,
}

const PG_SCHEMA: &[&str] = &[
    "CREATE TABLE passes (id int4 NOT NULL, pass_id text NOT NULL, category text NOT NULL, \
     price_minor int8 NOT NULL, currency text NOT NULL, tsv tsvector NOT NULL)",
    "CREATE TABLE holders (id int4 NOT NULL, holder_id text NOT NULL, positive int8 NOT NULL, \
     ratings int8 NOT NULL, offered int8 NOT NULL, interactions int8 NOT NULL, \
     pos_lb float8 NOT NULL, succ_lb float8 NOT NULL, fields text[] NOT NULL)",
    "CREATE TABLE listings (pass int4 NOT NULL, holder int4 NOT NULL)",
];

const PG_INDEXES: &[&str] = &[
    "ALTER TABLE passes ADD PRIMARY KEY (id)",
    "ALTER TABLE holders ADD PRIMARY KEY (id)",
    "ALTER TABLE listings ADD PRIMARY KEY (pass, holder)",
    "CREATE INDEX passes_tsv ON passes USING gin (tsv)",
    "ANALYZE",
];

const PG_RANK: &str = "
WITH m AS (
  SELECT p.id, ts_rank('{0.1, 0.33, 0.67, 1.0}', p.tsv, q) AS r
  FROM passes p, to_tsquery('simple', $1) q
  WHERE p.tsv @@ q
    AND ($2::text IS NULL OR p.category = $2 OR left(p.category, length($2) + 1) = $2 || '/')
    AND ($3::int8 IS NULL OR (p.currency = $4 AND p.price_minor <= $3))
)
SELECT h.holder_id,
       MAX(0.60 * m.r + 0.25 * h.pos_lb + 0.15 * h.succ_lb) AS score
FROM m
JOIN listings l ON l.pass = m.id
JOIN holders h ON h.id = l.holder
WHERE ($5::float8 IS NULL OR (h.ratings > 0 AND h.positive::float8 / h.ratings >= $5))
  AND ($6::float8 IS NULL OR (h.interactions > 0 AND h.offered::float8 / h.interactions >= $6))
  AND ($7::int8 IS NULL OR h.ratings >= $7)
  AND ($8::text IS NULL OR h.holder_id <> $8)
  AND ($9::text[] IS NULL OR EXISTS (
        SELECT 1 FROM unnest(h.fields) f, unnest($9::text[]) w
        WHERE f = w OR left(f, length(w) + 1) = w || '/' OR left(w, length(f) + 1) = f || '/'))
GROUP BY h.id, h.holder_id
ORDER BY score DESC, h.holder_id
LIMIT $10";

/// Rows per `INSERT … SELECT FROM UNNEST(arrays)` statement.
const PG_ROWS: usize = 20_000;

impl PgFts {
    /// Creates `symbolon_bench_<random>` through `url` and loads `market` with
    /// array inserts (one statement per 20 000 rows). On failure the database is dropped.
    pub async fn load(url: &str, market: &Market, progress: Progress) -> anyhow::Result<Self> {
        let scratch = ScratchDb::create(url, "symbolon_bench").await?;
        let mut me = Self {
            conn: None,
            scratch,
        };
        match me.fill(market, progress).await {
            Ok(()) => Ok(me),
            Err(e) => {
                me.drop_database().await.ok();
                Err(e)
            }
        }
    }

    async fn fill(&mut self, market: &Market, progress: Progress) -> anyhow::Result<()> {
        let opts = PgConnectOptions::from_str(&self.scratch.url()?)?.disable_statement_logging();
        let mut conn = PgConnection::connect_with(&opts)
            .await
            .with_context(|| format!("connecting to database {}", self.scratch.database))?;
        conn.execute("SET synchronous_commit = off").await?;
        conn.execute("SET maintenance_work_mem = '512MB'").await?;
        for s in PG_SCHEMA {
            conn.execute(*s)
                .await
                .context("creating the PostgreSQL schema")?;
        }
        let ids = Ids::of(market);
        let listings = ids.listings(market);
        let total = (market.passes.len() + ids.holders.len() + listings.len()) as u64;
        let pb = progress.bar(total, "PostgreSQL FTS: loading");

        for chunk in market.passes.chunks(PG_ROWS / 2) {
            let mut id = Vec::with_capacity(chunk.len());
            let (mut pid, mut cat, mut cur) = (vec![], vec![], vec![]);
            let (mut price, mut t, mut s, mut d) = (vec![], vec![], vec![], vec![]);
            for p in chunk {
                id.push(ids.passes[p.pass_id.as_str()]);
                pid.push(p.pass_id.clone());
                cat.push(p.category.as_str().to_string());
                price.push(p.price.minor);
                cur.push(p.price.currency.as_str().to_string());
                t.push(segment(&p.title));
                s.push(specs_text(&p.specs));
                d.push(segment(&p.description));
            }
            sqlx::query(
                "INSERT INTO passes (id, pass_id, category, price_minor, currency, tsv)
                 SELECT id, pid, cat, price, cur,
                        setweight(to_tsvector('simple', t), 'A')
                        || setweight(to_tsvector('simple', s), 'B')
                        || setweight(to_tsvector('simple', d), 'C')
                 FROM UNNEST($1::int4[], $2::text[], $3::text[], $4::int8[], $5::text[],
                             $6::text[], $7::text[], $8::text[])
                      AS x(id, pid, cat, price, cur, t, s, d)",
            )
            .bind(id)
            .bind(pid)
            .bind(cat)
            .bind(price)
            .bind(cur)
            .bind(t)
            .bind(s)
            .bind(d)
            .execute(&mut conn)
            .await
            .context("loading passes into PostgreSQL")?;
            pb.inc(chunk.len() as u64);
        }

        let numbered: Vec<(i32, &crate::api::HolderProfile)> = ids
            .holders
            .iter()
            .enumerate()
            .map(|(i, h)| (i as i32, *h))
            .collect();
        for chunk in numbered.chunks(PG_ROWS) {
            #[derive(Default)]
            struct Cols {
                id: Vec<i32>,
                hid: Vec<String>,
                pos: Vec<i64>,
                rat: Vec<i64>,
                off: Vec<i64>,
                inter: Vec<i64>,
                plb: Vec<f64>,
                slb: Vec<f64>,
                fields: Vec<String>,
            }
            let mut c = Cols::default();
            for (i, h) in chunk {
                let r = h.reputation;
                c.id.push(*i);
                c.hid.push(h.id.clone());
                c.pos.push(r.positive as i64);
                c.rat.push(r.ratings as i64);
                c.off.push(r.offered as i64);
                c.inter.push(r.interactions as i64);
                c.plb.push(r.positive_lower_bound());
                c.slb.push(r.success_lower_bound());
                c.fields.push(
                    h.fields
                        .iter()
                        .map(|f| f.as_str())
                        .collect::<Vec<_>>()
                        .join("|"),
                );
            }
            sqlx::query(
                "INSERT INTO holders
                 SELECT id, hid, pos, rat, off, inter, plb, slb,
                        CASE WHEN f = '' THEN '{}'::text[] ELSE string_to_array(f, '|') END
                 FROM UNNEST($1::int4[], $2::text[], $3::int8[], $4::int8[], $5::int8[],
                             $6::int8[], $7::float8[], $8::float8[], $9::text[])
                      AS x(id, hid, pos, rat, off, inter, plb, slb, f)",
            )
            .bind(c.id)
            .bind(c.hid)
            .bind(c.pos)
            .bind(c.rat)
            .bind(c.off)
            .bind(c.inter)
            .bind(c.plb)
            .bind(c.slb)
            .bind(c.fields)
            .execute(&mut conn)
            .await
            .context("loading holders into PostgreSQL")?;
            pb.inc(chunk.len() as u64);
        }

        for chunk in listings.chunks(PG_ROWS * 5) {
            let (h, p): (Vec<i32>, Vec<i32>) = chunk.iter().copied().unzip();
            sqlx::query(
                "INSERT INTO listings (holder, pass) SELECT * FROM UNNEST($1::int4[], $2::int4[])",
            )
            .bind(h)
            .bind(p)
            .execute(&mut conn)
            .await
            .context("loading listings into PostgreSQL")?;
            pb.inc(chunk.len() as u64);
        }
        pb.set_message("PostgreSQL FTS: indexes + analyze");
        for s in PG_INDEXES {
            conn.execute(*s)
                .await
                .with_context(|| format!("PostgreSQL: {s}"))?;
        }
        pb.finish_and_clear();
        self.conn = Some(conn);
        Ok(())
    }

    /// Closes the connection and drops the database.
    pub async fn drop_database(&mut self) -> anyhow::Result<()> {
        if let Some(c) = self.conn.take() {
            c.close().await.ok();
        }
        self.scratch.drop_database().await
    }
}

impl Baseline for PgFts {
    async fn rank(&mut self, d: &Demand) -> anyhow::Result<Vec<String>> {
        let Some(q) = tsquery(&d.query.item.query) else {
            return Ok(vec![]);
        };
        let conn = self
            .conn
            .as_mut()
            .context("PostgreSQL baseline not loaded")?;
        let item = &d.query.item;
        let c = &d.query.criteria;
        let fields: Option<Vec<String>> = (!c.fields.is_empty())
            .then(|| c.fields.iter().map(|f| f.as_str().to_string()).collect());
        let rows = sqlx::query(PG_RANK)
            .bind(q)
            .bind(item.category.as_ref().map(|c| c.as_str().to_string()))
            .bind(item.max_price.map(|m| m.minor))
            .bind(item.max_price.map(|m| m.currency.as_str().to_string()))
            .bind(c.min_positive_rate)
            .bind(c.min_success_rate)
            .bind(c.min_ratings.map(|n| n as i64))
            .bind(d.query.exclude_holder.clone())
            .bind(fields)
            .bind(d.max_holders as i64)
            .fetch_all(conn)
            .await
            .context("PostgreSQL FTS query")?;
        Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_the_engine_tokens() {
        assert_eq!(segment("Sony WH-1000XM5"), "sony wh 1000xm5 wh1000xm5");
        let s = segment("索尼 耳机");
        let words: Vec<&str> = s.split_whitespace().collect();
        assert_eq!(words, vec!["索", "索尼", "尼", "耳", "耳机", "机"]);
    }

    #[test]
    fn queries_are_quoted_terms() {
        assert_eq!(
            fts5_query("Sony WH-1000XM5 for kids").as_deref(),
            Some("\"sony\" OR \"wh1000xm5\" OR \"kids\"")
        );
        assert_eq!(fts5_query(" -- ").as_deref(), None);
        assert_eq!(tsquery("降噪耳机").as_deref(), Some("'降噪' | '耳机'"));
    }
}
