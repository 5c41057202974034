//! The indexed engine: the same answers as [`ExactMatcher`](crate::ExactMatcher),
//! without evaluating every listing.
//!
//! - **Text** (title, specs, description) lives in a tantivy index, one
//!   document per pass, tokenized by [`crate::text`]; the category is a facet
//!   (a query for `a/b` finds `a/b/c`), the price a fast field with its
//!   currency. Pass documents never change once issued.
//! - **Volatile state** — who holds which pass, reputations, fields — lives in
//!   memory beside the index ([`Engine::sync`] replaces it wholesale), so a
//!   rating never rewrites a text document.
//! - **Retrieval, then re-ranking.** The query scores each pass with the
//!   relevance of [`crate::text::relevance`] exactly: per term, the best field
//!   weight (a disjunction-max of constant-score term queries weighted 3/2/1),
//!   summed over terms — small integers, exact in `f32`. Passes come back best
//!   first (by coverage) in a window; each is expanded to the holders that
//!   hold it, a holder is filtered by the holder criteria once and keeps its
//!   best relevance (coverage × title-length factor) over the window. The
//!   window widens (×4) until the `limit`-th holder's score is above anything
//!   a holder could still reach through an unseen pass (`0.60 · coverage of the
//!   window's last pass + the best reputation score of any holder`) or the
//!   passes run out — so a strict criterion never produces a false
//!   "insufficient holders".
//! - **Persistence.** With [`Engine::open`] the index lives in a directory and
//!   survives restarts; documents already there are not re-indexed.

mod index;
mod state;

use crate::text::{self, Terms, W_DESCRIPTION, W_SPECS, W_TITLE};
use crate::{
    count_eliminations, item_filters, ranked_holder, sort_ranked, Eliminations, Funnel,
    HolderProfile, Market, MarketFacts, MatchQuery, Matcher, PassDoc, RankedHolder, W_RELEVANCE,
};
use index::{schema, Docs, Fields, TextTokenizer};
use state::State;
use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, EnableScoring, Occur, Query,
    RangeQuery, TermQuery,
};
use tantivy::schema::{Facet, Field, IndexRecordOption};
use tantivy::{DocAddress, DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, Term};

/// Passes in the first retrieval window (at least; `8 × limit` when larger).
pub const FIRST_WINDOW: usize = 64;
/// Each widening multiplies the window by this.
pub const WIDEN_FACTOR: usize = 4;
/// Memory budget of the index writer, in bytes.
pub const WRITER_MEMORY: usize = 64 * 1024 * 1024;
/// Name of the tokenizer registered on the index.
const TOKENIZER: &str = "symbolon";
/// Light query terms (see [`Engine`]'s MaxScore step) carry at most this share of the weight.
pub const COMMON_SHARE: f64 = 0.2;
/// Slack for floating-point reassociation in the stopping bound.
const EPSILON: f64 = 1e-9;

/// An engine failure (index IO or corruption).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("search index: {0}")]
    Corrupt(String),
    #[error("search index: {0}")]
    Io(#[from] std::io::Error),
}

/// What a sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Pass documents added to the index.
    pub indexed: u64,
    /// Passes in the index after the sync.
    pub passes: u64,
    pub listings: u64,
    pub holders: u64,
}

/// The indexed matcher. Cheap to share (`Arc`); [`Matcher::rank`] runs
/// concurrently with itself and with [`Engine::sync`].
pub struct Engine {
    index: Index,
    fields: Fields,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    docs: RwLock<Arc<Docs>>,
    state: RwLock<Arc<State>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine whose index lives in memory.
    pub fn in_memory() -> Result<Self, EngineError> {
        let (schema, _) = schema();
        Self::with_index(Index::create_in_ram(schema))
    }

    /// An engine whose index lives in `dir` (created when missing). An index
    /// with another schema is discarded and rebuilt by the next sync.
    pub fn open(dir: &Path) -> Result<Self, EngineError> {
        let (schema, _) = schema();
        std::fs::create_dir_all(dir).map_err(|e| EngineError::Corrupt(e.to_string()))?;
        let existing = dir.join("meta.json").exists();
        if existing {
            match Index::open_in_dir(dir) {
                Ok(index) if index.schema() == schema => return Self::with_index(index),
                Ok(_) | Err(_) => {
                    tracing::warn!(dir = %dir.display(), "search index unreadable or of another schema; rebuilding");
                    std::fs::remove_dir_all(dir)
                        .and_then(|_| std::fs::create_dir_all(dir))
                        .map_err(|e| EngineError::Corrupt(e.to_string()))?;
                }
            }
        }
        let mmap = tantivy::directory::MmapDirectory::open(dir)?;
        Self::with_index(Index::create(mmap, schema, Default::default())?)
    }

    fn with_index(index: Index) -> Result<Self, EngineError> {
        let (_, fields) = schema();
        index
            .tokenizers()
            .register(TOKENIZER, TextTokenizer::default());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let writer = index.writer(WRITER_MEMORY)?;
        let engine = Self {
            docs: RwLock::new(Arc::new(Docs {
                passes: vec![],
                keys: HashMap::new(),
                doc_keys: vec![],
                segment_ords: HashMap::new(),
                key_docs: vec![],
                searcher: reader.searcher(),
            })),
            index,
            fields,
            reader,
            writer: Mutex::new(writer),
            state: RwLock::new(Arc::new(State::default())),
        };
        engine.load_docs()?;
        Ok(engine)
    }

    /// The market version recorded by the last [`Engine::sync_versioned`] commit, if any.
    pub fn indexed_version(&self) -> Option<i64> {
        let meta = self.index.load_metas().ok()?;
        meta.payload?.parse().ok()
    }

    /// Passes in the index.
    pub fn indexed_passes(&self) -> usize {
        self.docs().passes.len()
    }

    fn docs(&self) -> Arc<Docs> {
        self.docs.read().expect("docs lock").clone()
    }

    fn state(&self) -> Arc<State> {
        self.state.read().expect("state lock").clone()
    }

    /// Brings the engine to `market`: indexes passes it has not seen (pass
    /// documents are immutable, so known ones are kept) and replaces the
    /// volatile state. `progress(done, total)` is called while indexing.
    pub fn sync(&self, market: &Market) -> Result<SyncStats, EngineError> {
        self.sync_with(market, None, &|_, _| {})
    }

    /// [`Engine::sync`], recording `version` (the store's market version) in the index commit.
    pub fn sync_versioned(
        &self,
        market: &Market,
        version: i64,
        progress: &dyn Fn(u64, u64),
    ) -> Result<SyncStats, EngineError> {
        self.sync_with(market, Some(version), progress)
    }

    fn sync_with(
        &self,
        market: &Market,
        version: Option<i64>,
        progress: &dyn Fn(u64, u64),
    ) -> Result<SyncStats, EngineError> {
        let indexed = self.index_new(&market.passes, version, progress)?;
        let docs = self.docs();
        let state = State::build(market, &docs.keys);
        let stats = SyncStats {
            indexed,
            passes: docs.passes.len() as u64,
            listings: state.holder_passes.iter().map(|p| p.len() as u64).sum(),
            holders: state.holders.len() as u64,
        };
        *self.state.write().expect("state lock") = Arc::new(state);
        Ok(stats)
    }

    /// Sets each given holder's supply to exactly the listed passes (and its
    /// profile), indexing passes the index does not have yet: what a grant or
    /// a revocation changes, applied without re-reading the market. The
    /// resulting state ranks, explains and reports facts exactly as a full
    /// [`Engine::sync`] of the updated market (a proptest holds it to that).
    /// A holder left without passes stays in the state but is not matched,
    /// counted or reported. Returns how many documents were indexed.
    pub fn replace_holdings(
        &self,
        holdings: &[(HolderProfile, Vec<PassDoc>)],
        version: Option<i64>,
    ) -> Result<u64, EngineError> {
        let all: Vec<PassDoc> = holdings
            .iter()
            .flat_map(|(_, p)| p.iter().cloned())
            .collect();
        let indexed = self.index_new(&all, version, &|_, _| {})?;
        let docs = self.docs();
        let keyed: Vec<(&HolderProfile, Vec<u32>)> = holdings
            .iter()
            .map(|(profile, passes)| {
                let keys = passes
                    .iter()
                    .filter_map(|p| docs.keys.get(&p.pass_id).copied())
                    .collect();
                (profile, keys)
            })
            .collect();
        let mut guard = self.state.write().expect("state lock");
        *guard = Arc::new(guard.with_holdings(&keyed, docs.passes.len()));
        Ok(indexed)
    }

    /// Applies new reputations and fields of holders already in the market
    /// (a holder with no supply is not matched, so it is skipped): the same
    /// state a full [`Engine::sync`] of the updated market builds, without
    /// re-reading listings. Returns how many holders it updated.
    pub fn update_holders(&self, profiles: &[HolderProfile]) -> usize {
        let mut guard = self.state.write().expect("state lock");
        let (state, updated) = guard.with_profiles(profiles);
        *guard = Arc::new(state);
        updated
    }

    /// Each term's idf weight, from title document frequencies over the
    /// passes in the market (held by someone), as the exact scorer counts
    /// them: the index also keeps the documents of passes that left the
    /// market (revoked, sold out, no longer granted), and a replica's index
    /// remembers more of those than a fresh one's, so they must not count.
    fn weights(&self, docs: &Docs, state: &State, terms: &Terms) -> Vec<u32> {
        let n = state.held_passes;
        // Every indexed pass held (the usual case): the index's own document
        // frequencies are the answer, without walking postings.
        let all_held = n == docs.passes.len() as u64;
        terms
            .0
            .iter()
            .map(|t| {
                let term = Term::from_field_text(self.fields.title, t);
                if all_held {
                    return text::idf_weight(docs.searcher.doc_freq(&term).unwrap_or(0), n);
                }
                let mut df = 0u64;
                for (ord, segment) in docs.searcher.segment_readers().iter().enumerate() {
                    let Ok(inverted) = segment.inverted_index(self.fields.title) else {
                        continue;
                    };
                    let Ok(Some(mut postings)) =
                        inverted.read_postings(&term, IndexRecordOption::Basic)
                    else {
                        continue;
                    };
                    let keys = &docs.doc_keys[ord];
                    let mut doc = postings.doc();
                    while doc != tantivy::TERMINATED {
                        let key = keys[doc as usize];
                        if key != u32::MAX && state.holds(key) {
                            df += 1;
                        }
                        doc = postings.advance();
                    }
                }
                text::idf_weight(df, n)
            })
            .collect()
    }

    /// The query: per term its weight times the best field weight, summed;
    /// item filters as zero-score musts.
    /// With `rare`, a document must have at least one of the terms marked
    /// true (the others still add to its score).
    fn query(
        &self,
        item: &crate::ItemSpec,
        terms: &Terms,
        weights: &[u32],
        filtered: bool,
        rare: Option<&[bool]>,
    ) -> Box<dyn Query> {
        let f = self.fields;
        let term_query = |field: Field, t: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, t),
                IndexRecordOption::Basic,
            ))
        };
        // Term `i` in `field` (the joined form, or all its parts), scoring `w`.
        let weighted = |field: Field, i: usize, w: u32| -> Box<dyn Query> {
            let parts = terms.parts(i);
            let present = if parts.is_empty() {
                term_query(field, &terms.0[i])
            } else {
                let all_parts = BooleanQuery::new(
                    parts
                        .iter()
                        .map(|p| (Occur::Must, term_query(field, p)))
                        .collect(),
                );
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, term_query(field, &terms.0[i])),
                    (Occur::Should, Box::new(all_parts)),
                ]))
            };
            Box::new(BoostQuery::new(
                Box::new(ConstScoreQuery::new(present, 1.0)),
                w as f32,
            ))
        };
        let per_term: Vec<Box<dyn Query>> = weights
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let q: Box<dyn Query> = Box::new(DisjunctionMaxQuery::new(vec![
                    weighted(f.title, i, W_TITLE * w),
                    weighted(f.specs, i, W_SPECS * w),
                    weighted(f.description, i, W_DESCRIPTION * w),
                ]));
                q
            })
            .collect();
        let text: Box<dyn Query> = match rare {
            Some(rare) => {
                let (mut required, mut optional) = (Vec::new(), Vec::new());
                for (q, r) in per_term.into_iter().zip(rare) {
                    if *r {
                        required.push((Occur::Should, q));
                    } else {
                        optional.push((Occur::Should, q));
                    }
                }
                let mut clauses: Vec<(Occur, Box<dyn Query>)> =
                    vec![(Occur::Must, Box::new(BooleanQuery::new(required)))];
                clauses.extend(optional);
                Box::new(BooleanQuery::new(clauses))
            }
            None => Box::new(BooleanQuery::new(
                per_term.into_iter().map(|q| (Occur::Should, q)).collect(),
            )),
        };
        if !filtered {
            return text;
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text)];
        let zero = |q: Box<dyn Query>| -> Box<dyn Query> { Box::new(ConstScoreQuery::new(q, 0.0)) };
        if let Some(c) = &item.category {
            clauses.push((
                Occur::Must,
                zero(Box::new(TermQuery::new(
                    Term::from_facet(f.category, &Facet::from_path(c.segments())),
                    IndexRecordOption::Basic,
                ))),
            ));
        }
        if let Some(max) = item.max_price {
            clauses.push((
                Occur::Must,
                zero(Box::new(TermQuery::new(
                    Term::from_field_text(f.currency, max.currency.as_str()),
                    IndexRecordOption::Basic,
                ))),
            ));
            clauses.push((
                Occur::Must,
                zero(Box::new(RangeQuery::new(
                    Bound::Unbounded,
                    Bound::Included(Term::from_field_i64(f.price, max.minor)),
                ))),
            ));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// Relevance of each of `keys` (0 when the pass does not match the item),
    /// scored by seeking the query's scorer to each document.
    fn relevances(
        &self,
        docs: &Docs,
        query: &dyn Query,
        weights: &[u32],
        keys: &[u32],
    ) -> Result<HashMap<u32, f64>, EngineError> {
        let mut targets: Vec<(DocAddress, u32)> = keys
            .iter()
            .filter_map(|k| {
                docs.key_docs
                    .get(*k as usize)
                    .copied()
                    .flatten()
                    .map(|d| (d, *k))
            })
            .collect();
        targets.sort();
        targets.dedup();
        let weight = query.weight(EnableScoring::enabled_from_searcher(&docs.searcher))?;
        let mut out = HashMap::new();
        let mut i = 0;
        while i < targets.len() {
            let ord = targets[i].0.segment_ord;
            let segment = docs.searcher.segment_reader(ord);
            let mut scorer = weight.scorer(segment, 1.0)?;
            while i < targets.len() && targets[i].0.segment_ord == ord {
                let (addr, key) = targets[i];
                let mut at = scorer.doc();
                if at < addr.doc_id {
                    at = scorer.seek(addr.doc_id);
                }
                if at == addr.doc_id {
                    let factor = docs.passes[key as usize].length_factor;
                    out.insert(key, relevance_of(scorer.score(), weights) * factor);
                }
                i += 1;
            }
        }
        Ok(out)
    }

    /// Qualified holders `(score, holder, relevance)` from passes matching
    /// `q`, best first, widening the window until the `limit`-th is final.
    fn collect(
        &self,
        docs: &Arc<Docs>,
        state: &Arc<State>,
        q: &dyn Query,
        weights: &[u32],
        query: &MatchQuery,
        limit: usize,
    ) -> Result<Vec<(f64, u32, f64)>, EngineError> {
        let excluded = query
            .exclude_holder
            .as_deref()
            .and_then(|h| state.holder_index.get(h).copied());
        // Holder → its index in `qualified`, or None when it fails the criteria.
        let mut seen: HashMap<u32, Option<usize>> = HashMap::new();
        // (score, holder index, best relevance so far) of qualified holders.
        let mut qualified: Vec<(f64, u32, f64)> = Vec::new();
        let all = (docs.searcher.num_docs() as usize).max(1);
        let mut window = FIRST_WINDOW.max(limit.saturating_mul(8)).min(all);
        let mut processed = 0usize;
        loop {
            let top = docs
                .searcher
                .search(q, &self.best_reach(docs, state, weights, window))?;
            for ((_, s), addr) in &top[processed.min(top.len())..] {
                let key = docs.doc_keys[addr.segment_ord as usize][addr.doc_id as usize];
                let rel = relevance_of(*s, weights) * docs.passes[key as usize].length_factor;
                let Some(holders) = state.pass_holders.get(key as usize) else {
                    continue;
                };
                for &h in holders {
                    if Some(h) == excluded {
                        continue;
                    }
                    let slot = *seen.entry(h).or_insert_with(|| {
                        let p = &state.holders[h as usize];
                        query.criteria.qualifies(&p.reputation, &p.fields).then(|| {
                            qualified.push((f64::NEG_INFINITY, h, 0.0));
                            qualified.len() - 1
                        })
                    });
                    // A holder's relevance is its best pass's (the title-length
                    // factor can put a later pass of the window above an earlier one).
                    if let Some(i) = slot {
                        if rel > qualified[i].2 {
                            qualified[i] =
                                (W_RELEVANCE * rel + state.rep_scores[h as usize], h, rel);
                        }
                    }
                }
            }
            processed = top.len();
            if top.len() < window || window >= all {
                break; // every matching pass has been seen
            }
            if qualified.len() >= limit {
                // Passes come best reach first: no holder can score more
                // through an unseen pass than the window's last pass allows,
                // so neither an unseen holder nor a seen one improving could
                // pass the limit-th.
                let mut scores: Vec<f64> = qualified.iter().map(|q| q.0).collect();
                scores.sort_by(|a, b| b.total_cmp(a));
                let reach = top[top.len() - 1].0 .0;
                if scores[limit - 1] > reach + EPSILON {
                    break;
                }
            }
            window = window.saturating_mul(WIDEN_FACTOR).min(all);
        }
        qualified.sort_by(|a, b| {
            b.0.total_cmp(&a.0).then_with(|| {
                state.holders[a.1 as usize]
                    .id
                    .cmp(&state.holders[b.1 as usize].id)
            })
        });
        Ok(qualified)
    }

    /// Top passes by *reach*: the best score any holder could get through
    /// the pass — `0.60 · relevance + the best reputation score among its
    /// holders` — with the index score alongside.
    fn best_reach(
        &self,
        docs: &Arc<Docs>,
        state: &Arc<State>,
        weights: &[u32],
        window: usize,
    ) -> impl tantivy::collector::Collector<Fruit = Vec<((f64, f32), DocAddress)>> {
        let (docs, state, weights) = (docs.clone(), state.clone(), Arc::new(weights.to_vec()));
        TopDocs::with_limit(window).tweak_score(move |segment: &tantivy::SegmentReader| {
            let keys = docs
                .segment_ords
                .get(&segment.segment_id())
                .map(|ord| docs.doc_keys[*ord].clone())
                .unwrap_or_default();
            let (docs, state, weights) = (docs.clone(), state.clone(), weights.clone());
            move |doc: tantivy::DocId, score: f32| {
                let key = keys.get(doc as usize).copied().unwrap_or(u32::MAX) as usize;
                let reach = match (docs.passes.get(key), state.pass_max_rep.get(key)) {
                    (Some(p), Some(rep)) if rep.is_finite() => {
                        W_RELEVANCE * (relevance_of(score, &weights) * p.length_factor) + rep
                    }
                    _ => f64::NEG_INFINITY, // nobody holds it
                };
                (reach, score)
            }
        })
    }

    fn try_rank(&self, query: &MatchQuery, limit: usize) -> Result<Vec<RankedHolder>, EngineError> {
        let terms = Terms::of_query(&query.item.query);
        if terms.is_empty() || limit == 0 {
            return Ok(vec![]);
        }
        let docs = self.docs();
        let state = self.state();
        let weights = self.weights(&docs, &state, &terms);
        let q = self.query(&query.item, &terms, &weights, true, None);
        // MaxScore: the lightest terms whose weights add up to at most
        // COMMON_SHARE of the total cannot, alone, give a pass much relevance.
        // First look only at passes with some other term; that is the answer
        // when its limit-th holder beats what a pass with only light terms
        // could reach.
        let mut order: Vec<usize> = (0..weights.len()).collect();
        order.sort_by_key(|i| weights[*i]);
        let total: u64 = weights.iter().map(|w| *w as u64).sum();
        let mut light = 0u64;
        let mut rare = vec![true; weights.len()];
        for i in order {
            if (light + weights[i] as u64) as f64 > COMMON_SHARE * total as f64 {
                break;
            }
            light += weights[i] as u64;
            rare[i] = false;
        }
        let mut qualified = None;
        if rare.iter().any(|r| !r) {
            let q_rare = self.query(&query.item, &terms, &weights, true, Some(&rare));
            let found = self.collect(&docs, &state, &*q_rare, &weights, query, limit)?;
            let light_reach = W_RELEVANCE * (light as f64 / total as f64) + state.max_rep;
            if found.len() >= limit && found[limit - 1].0 > light_reach + EPSILON {
                qualified = Some(found);
            }
        }
        // Best first already (`collect` sorts).
        let mut qualified = match qualified {
            Some(q) => q,
            None => self.collect(&docs, &state, &*q, &weights, query, limit)?,
        };
        qualified.truncate(limit);
        // Each chosen holder's matching listings, for the reasons and the offer.
        let keys: Vec<u32> = qualified
            .iter()
            .flat_map(|(_, h, _)| state.holder_passes[*h as usize].iter().copied())
            .collect();
        let rel = self.relevances(&docs, &*q, &weights, &keys)?;
        let mut ranked: Vec<RankedHolder> = qualified
            .iter()
            .map(|(_, h, _)| {
                let matching = state.holder_passes[*h as usize]
                    .iter()
                    .filter_map(|k| {
                        let r = *rel.get(k)?;
                        let p = &docs.passes[*k as usize];
                        Some((r, p.price.minor, p.id.clone()))
                    })
                    .collect();
                ranked_holder(&state.holders[*h as usize], &query.criteria, matching)
            })
            .collect();
        sort_ranked(&mut ranked);
        Ok(ranked)
    }

    fn try_eliminations(&self, query: &MatchQuery) -> Result<Eliminations, EngineError> {
        let terms = Terms::of_query(&query.item.query);
        let docs = self.docs();
        let state = self.state();
        // Every pass with a term of the query, whatever its category and price.
        let mut relevant = vec![false; docs.passes.len()];
        if !terms.is_empty() {
            let q = self.query(&query.item, &terms, &vec![1; terms.0.len()], false, None);
            for addr in docs.searcher.search(&*q, &DocSetCollector)? {
                let key = docs.doc_keys[addr.segment_ord as usize][addr.doc_id as usize];
                relevant[key as usize] = true;
            }
        }
        let filters: Vec<(bool, bool)> = docs
            .passes
            .iter()
            .map(|p| item_filters(&query.item, &p.category, p.price))
            .collect();
        let holders = state.holders.iter().enumerate().filter_map(|(h, profile)| {
            if query.exclude_holder.as_deref() == Some(profile.id.as_str())
                || state.holder_passes[h].is_empty()
            {
                return None;
            }
            let mut f = Funnel::default();
            for &k in &state.holder_passes[h] {
                let (cat, price) = filters[k as usize];
                let r = relevant[k as usize];
                f.any_relevant |= r;
                f.any_relevant_in_category |= r && cat;
                f.any_matching |= r && cat && price;
            }
            Some((f, profile))
        });
        Ok(count_eliminations(query, holders))
    }
}

/// Relevance from the index score (an exact integer in `f32`: weights are
/// integers and their weighted sum stays far below 2^24).
fn relevance_of(score: f32, weights: &[u32]) -> f64 {
    text::relevance_of_sum(score.round() as u64, weights)
}

impl Matcher for Engine {
    fn rank(&self, query: &MatchQuery, limit: usize) -> Vec<RankedHolder> {
        self.try_rank(query, limit).unwrap_or_else(|e| {
            tracing::error!(error = %e, "search index failed; no holders ranked");
            vec![]
        })
    }

    fn eliminations(&self, query: &MatchQuery) -> Eliminations {
        self.try_eliminations(query).unwrap_or_else(|e| {
            tracing::error!(error = %e, "search index failed; eliminations unknown");
            Eliminations::default()
        })
    }

    fn facts(&self) -> MarketFacts {
        let state = self.state();
        let docs = self.docs();
        MarketFacts {
            reputations: state
                .holders
                .iter()
                .zip(state.holder_passes.iter())
                .filter(|(_, p)| !p.is_empty())
                .map(|(h, _)| h.reputation)
                .collect(),
            prices: (0..docs.passes.len() as u32)
                .filter(|k| state.holds(*k))
                .map(|k| docs.passes[k as usize].price)
                .collect(),
        }
    }
}
