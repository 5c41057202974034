//! The indexed engine: the same answers as [`ExactMatcher`](crate::ExactMatcher),
//! without evaluating every listing.
//!
//! - **Pass registry.** A tantivy index keeps one document per pass (its key,
//!   id, category and price) and survives restarts with [`Engine::open`];
//!   pass documents never change once issued.
//! - **Text tables** ([`lexicon`]) live in memory: postings (token → passes)
//!   and a forward table (pass → token counts per field), counted by the same
//!   code as the exact matcher's, from the pass documents the market brings.
//! - **Volatile state** — who holds which pass, reputations, fields, and the
//!   statistics over held passes — lives beside them ([`Engine::sync`]
//!   replaces it wholesale; grants and ratings change it in place).
//! - **Retrieval.** Only passes holding an *essential* term can clear the
//!   relevance floor (MaxScore: the lightest terms together weigh less than
//!   the floor), so the candidates are the union of those terms' postings.
//!   Each is checked for price, currency and category, then scored by
//!   [`crate::score`] from the forward table — the exact matcher's figures.
//! - **Expansion.** Passes that clear the floor are visited best first; each
//!   pass's holders are kept best reputation first, so a pass stops at the
//!   first holder that cannot beat the `limit`-th score found, and the walk
//!   stops at the first pass whose best possible holder (`0.60 · relevance +
//!   the best reputation score`) cannot either. Scores are compared exactly
//!   (the bound is the score formula itself), so ties are never cut.

mod index;
mod lexicon;
mod state;

use crate::score::{self, QueryModel, Relevance};
use crate::text::Terms;
use crate::{
    closest, count_eliminations, item_filters, ranked_holder, sort_ranked, ClosePass, Eliminations,
    Funnel, HolderProfile, ItemCheck, Market, MarketFacts, MatchQuery, Matcher, PassDoc,
    RankedHolder, W_RELEVANCE,
};
use index::{schema, Docs, Fields};
use lexicon::{Lexicon, TermIds};
use state::State;
use std::borrow::Cow;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy};

/// Passes whose text is counted together before joining the lexicon.
pub const COUNT_CHUNK: usize = 4096;
/// Memory budget of the index writer, in bytes.
pub const WRITER_MEMORY: usize = 64 * 1024 * 1024;
/// Slack below the floor when pruning by accumulated weight, so
/// floating-point reassociation can only widen the candidates.
const FLOOR_SLACK: f64 = 1e-9;
/// Relative slack above a group's relevance bound, for the same reason.
const BOUND_SLACK: f64 = 1e-9;

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

/// What the engine holds, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineCounts {
    /// Pass documents in the index (held or not).
    pub passes: u64,
    /// Passes with at least one holder.
    pub held_passes: u64,
    /// (holder, pass) pairs that can be matched.
    pub listings: u64,
    /// Holders with at least one matchable pass.
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
    lexicon: RwLock<Arc<Lexicon>>,
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

    /// Whether another process has the index in `dir` open for writing (a
    /// server running on that data directory holds its writer lock). False when
    /// `dir` holds no index. Changes nothing in `dir` but the lock file.
    pub fn in_use(dir: &Path) -> bool {
        use tantivy::directory::{error::LockError, Directory, INDEX_WRITER_LOCK};
        if !dir.join("meta.json").exists() {
            return false;
        }
        let Ok(d) = tantivy::directory::MmapDirectory::open(dir) else {
            return false;
        };
        matches!(d.acquire_lock(&INDEX_WRITER_LOCK), Err(LockError::LockBusy))
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
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let writer = index.writer(WRITER_MEMORY)?;
        let engine = Self {
            docs: RwLock::new(Arc::new(Docs {
                passes: vec![],
                keys: HashMap::new(),
            })),
            index,
            fields,
            reader,
            writer: Mutex::new(writer),
            lexicon: RwLock::new(Arc::new(Lexicon::default())),
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

    /// Passes, listings and holders as of the last change (one pass over
    /// the holders: cheap enough for every scrape).
    pub fn counts(&self) -> EngineCounts {
        let state = self.state();
        let (listings, holders) = state
            .holder_passes
            .iter()
            .filter(|p| !p.is_empty())
            .fold((0u64, 0u64), |(l, h), p| (l + p.len() as u64, h + 1));
        EngineCounts {
            passes: self.docs().passes.len() as u64,
            held_passes: state.held_passes,
            listings,
            holders,
        }
    }

    fn docs(&self) -> Arc<Docs> {
        self.docs.read().expect("docs lock").clone()
    }

    fn state(&self) -> Arc<State> {
        self.state.read().expect("state lock").clone()
    }

    fn lexicon(&self) -> Arc<Lexicon> {
        self.lexicon.read().expect("lexicon lock").clone()
    }

    /// Counts the text of the given passes that the lexicon lacks.
    fn count_texts(&self, docs: &Docs, passes: &[PassDoc]) {
        let missing: Vec<(u32, &PassDoc)> = {
            let lex = self.lexicon();
            passes
                .iter()
                .filter_map(|p| docs.keys.get(&p.pass_id).map(|k| (*k, p)))
                .filter(|(k, _)| !lex.has(*k))
                .collect()
        };
        if missing.is_empty() {
            return;
        }
        // Tokenize outside the lock (readers keep their snapshot meanwhile),
        // a chunk at a time so the counted text never piles up.
        for part in missing.chunks(COUNT_CHUNK) {
            let counted = Lexicon::count(part);
            let mut guard = self.lexicon.write().expect("lexicon lock");
            Arc::make_mut(&mut guard).add(counted);
        }
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
        self.count_texts(&docs, &market.passes);
        let state = State::build(market, &docs.keys, &self.lexicon());
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
        self.count_texts(&docs, &all);
        let lex = self.lexicon();
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
        *guard = Arc::new(guard.with_holdings(&keyed, docs.passes.len(), &lex));
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

    /// The query with the market's statistics, and each term's token ids and
    /// the held passes holding it.
    fn model<'a>(
        &self,
        lex: &'a Lexicon,
        state: &State,
        docs: &Docs,
        query: &MatchQuery,
    ) -> (QueryModel, Vec<TermIds>, Vec<Cow<'a, [u32]>>) {
        let terms = Terms::of_query(&query.item.query);
        let ids = lex.term_ids(&terms);
        let all_held = state.held_passes == docs.passes.len() as u64;
        let presence: Vec<Cow<'a, [u32]>> = ids
            .iter()
            .map(|t| {
                let p = lex.presence(t);
                if all_held {
                    p
                } else {
                    Cow::Owned(p.iter().copied().filter(|k| state.holds(*k)).collect())
                }
            })
            .collect();
        let df: Vec<u64> = presence.iter().map(|p| p.len() as u64).collect();
        let model = QueryModel::new(
            terms,
            &df,
            state.corpus(),
            |b| lex.id(b).is_some_and(|id| state.is_brand(id)),
            query.floor,
        );
        (model, ids, presence)
    }

    /// A pass's relevance (the pass is counted in `lex`).
    fn relevance_of(
        lex: &Lexicon,
        state: &State,
        model: &QueryModel,
        ids: &[TermIds],
        key: u32,
    ) -> Relevance {
        match lex.entry(key) {
            Some(e) => {
                model.relevance(&lex.pass_terms(e, ids, |b| state.is_brand(b), |b| model.names(b)))
            }
            None => Relevance::default(),
        }
    }

    /// The passes that may clear the floor (see [`Scratch`]), grouped by the
    /// essential terms they hold, best possible relevance first.
    fn candidate_groups(
        scratch: &mut Scratch,
        docs: &Docs,
        query: &MatchQuery,
        model: &QueryModel,
        presence: &[Cow<'_, [u32]>],
    ) -> (Vec<(f64, Vec<u32>)>, Need) {
        // MaxScore on the coverage: the lightest terms whose weights add up
        // to less than the floor cannot clear it alone.
        let weights = model.cover_weights();
        let bounds = model.rank_bounds();
        let mut order: Vec<usize> = (0..weights.len()).collect();
        order.sort_by(|a, b| weights[*a].total_cmp(&weights[*b]));
        let budget = (query.floor - FLOOR_SLACK) * model.cover_total();
        let (mut light, mut light_bound) = (0.0, 0.0);
        let mut essential = vec![true; weights.len()];
        for i in order {
            // A pass holding every model number clears the floor whatever
            // its coverage: model numbers are always essential.
            if light + weights[i] >= budget || model.terms.0[i].model {
                break;
            }
            light += weights[i];
            light_bound += bounds[i];
            essential[i] = false;
        }
        // Accumulate the essential terms' weights per pass: a pass can clear
        // the floor only if they and all the light ones reach it, or if it
        // holds every model number (model numbers are essential, counted).
        let need = Need {
            weight: budget - light,
            models: model.terms.0.iter().filter(|t| t.model).count(),
        };
        scratch.start(docs.passes.len());
        for (i, p) in presence.iter().enumerate() {
            if essential[i] && (weights[i] > 0.0 || model.terms.0[i].model) {
                scratch.add(p, weights[i], model.terms.0[i].model, i);
            }
        }
        let mut groups: FastMap<u64, Vec<u32>> = FastMap::default();
        for k in scratch.passing(&need) {
            groups.entry(scratch.mask[k as usize]).or_default().push(k);
        }
        let mut groups: Vec<(f64, Vec<u32>)> = groups
            .into_iter()
            .map(|(mask, keys)| {
                let held: f64 = (0..bounds.len())
                    .filter(|i| *i < 64 && mask & (1u64 << i) != 0)
                    .map(|i| bounds[i])
                    .sum();
                ((held + light_bound) * (1.0 + BOUND_SLACK), keys)
            })
            .collect();
        groups.sort_by(|a, b| b.0.total_cmp(&a.0));
        (groups, need)
    }

    fn try_rank(&self, query: &MatchQuery, limit: usize) -> Result<Vec<RankedHolder>, EngineError> {
        if limit == 0 {
            return Ok(vec![]);
        }
        // Newest last: writers publish docs, then the lexicon, then the state, so
        // reading in the reverse order never sees a state ahead of its tables.
        let state = self.state();
        let (lex, docs) = (self.lexicon(), self.docs());
        let (model, ids, presence) = self.model(&lex, &state, &docs, query);
        if model.is_empty() {
            return Ok(vec![]);
        }
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let (groups, need) =
                Self::candidate_groups(&mut scratch, &docs, query, &model, &presence);
            let mut stream = Stream {
                lex: &lex,
                state: &state,
                docs: &docs,
                query,
                model: &model,
                ids: &ids,
                scratch: &mut scratch,
                need,
                groups,
                next_group: 0,
                ready: BinaryHeap::new(),
            };
            Ok(Self::expand(&mut stream, limit))
        })
    }

    /// The best `limit` qualified holders, from passes streamed best first.
    fn expand(stream: &mut Stream<'_>, limit: usize) -> Vec<RankedHolder> {
        let (state, query, docs) = (stream.state, stream.query, stream.docs);
        let excluded = query
            .exclude_holder
            .as_deref()
            .and_then(|h| state.holder_index.get(h).copied());
        // The `limit` best scores so far (a min-heap), and every qualified
        // holder with its score and relevance.
        let mut best: BinaryHeap<std::cmp::Reverse<Score>> = BinaryHeap::new();
        let mut chosen: Vec<(f64, u32, f64)> = Vec::new();
        let mut seen: FastSet<u32> = FastSet::default();
        let cut = |best: &BinaryHeap<std::cmp::Reverse<Score>>| {
            (best.len() >= limit)
                .then(|| best.peek().map(|s| s.0 .0))
                .flatten()
        };
        while let Some((rel, key)) = stream.next() {
            let rel = &rel;
            if let Some(kth) = cut(&best) {
                if W_RELEVANCE * rel + state.max_rep < kth {
                    break;
                }
            }
            for &h in state.pass_holders[key as usize].iter() {
                let s = W_RELEVANCE * rel + state.rep_scores[h as usize];
                if cut(&best).is_some_and(|kth| s < kth) {
                    break; // the rest of this pass's holders score less
                }
                if Some(h) == excluded || !seen.insert(h) {
                    continue;
                }
                let p = &state.holders[h as usize];
                if !query.criteria.qualifies(&p.reputation, &p.fields) {
                    continue;
                }
                chosen.push((s, h, *rel));
                best.push(std::cmp::Reverse(Score(s)));
                if best.len() > limit {
                    best.pop();
                }
            }
        }
        chosen.sort_by(|a, b| {
            b.0.total_cmp(&a.0).then_with(|| {
                state.holders[a.1 as usize]
                    .id
                    .cmp(&state.holders[b.1 as usize].id)
            })
        });
        chosen.truncate(limit);
        // Each chosen holder's matching listings, for the reasons and the offer.
        let mut ranked: Vec<RankedHolder> = chosen
            .iter()
            .map(|(_, h, _)| {
                let matching = state.holder_passes[*h as usize]
                    .iter()
                    .filter_map(|k| {
                        let r = stream.matching(*k)?;
                        let p = &docs.passes[*k as usize];
                        Some((r, p.price.minor, p.id.clone()))
                    })
                    .collect();
                ranked_holder(&state.holders[*h as usize], &query.criteria, matching)
            })
            .collect();
        sort_ranked(&mut ranked);
        ranked
    }

    fn try_eliminations(&self, query: &MatchQuery) -> Result<Eliminations, EngineError> {
        // Newest last: writers publish docs, then the lexicon, then the state, so
        // reading in the reverse order never sees a state ahead of its tables.
        let state = self.state();
        let (lex, docs) = (self.lexicon(), self.docs());
        let (model, ids, presence) = self.model(&lex, &state, &docs, query);
        // Every held pass with a term of the query, whatever its category and price.
        let mut relevant: HashMap<u32, Relevance> = HashMap::new();
        if !model.is_empty() {
            for key in presence.iter().flat_map(|p| p.iter()) {
                if !relevant.contains_key(key) && state.holds(*key) {
                    let r = Self::relevance_of(&lex, &state, &model, &ids, *key);
                    relevant.insert(*key, r);
                }
            }
        }
        let near: Vec<ClosePass> = relevant
            .iter()
            .filter(|(_, r)| r.any() && !r.passes(query.floor))
            .map(|(k, r)| ClosePass {
                pass_id: docs.passes[*k as usize].id.clone(),
                relevance: r.score,
                coverage: r.coverage,
            })
            .collect();
        let holders = state.holders.iter().enumerate().filter_map(|(h, profile)| {
            if query.exclude_holder.as_deref() == Some(profile.id.as_str())
                || state.holder_passes[h].is_empty()
            {
                return None;
            }
            let mut f = Funnel::default();
            for &k in &state.holder_passes[h] {
                let Some(r) = relevant.get(&k) else {
                    continue;
                };
                let p = &docs.passes[k as usize];
                let (cat, price) = item_filters(&query.item, &p.category, p.price);
                f.add(r, query.floor, cat, price);
            }
            Some((f, profile))
        });
        let mut e = count_eliminations(query, holders);
        e.closest = closest(near);
        Ok(e)
    }
}

/// A multiplicative hasher for the engine's own integer keys (pass keys,
/// holder indexes, term masks — never text a user chose), much cheaper than
/// SipHash on the query path.
#[derive(Default, Clone, Copy)]
struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(*b as u64);
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FastHasher>>;
type FastSet<K> = HashSet<K, std::hash::BuildHasherDefault<FastHasher>>;

thread_local! {
    /// Per-pass accumulators of one query, reused across queries on a thread.
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Per-pass accumulators stamped with the query they belong to, so nothing
/// is cleared between queries.
#[derive(Default)]
struct Scratch {
    generation: u32,
    stamp: Vec<u32>,
    weight: Vec<f64>,
    models: Vec<u16>,
    /// Which essential terms (by index, the first 64) each pass holds.
    mask: Vec<u64>,
    touched: Vec<u32>,
    /// A pass's relevance once evaluated in this query (stamped like the
    /// rest); negative when it does not match the item.
    cache_stamp: Vec<u32>,
    cache: Vec<f64>,
}

/// What a pass's accumulated essential weight must reach to be a candidate
/// (or all `models` model numbers held, when there are some).
#[derive(Debug, Clone, Copy)]
struct Need {
    weight: f64,
    models: usize,
}

impl Scratch {
    fn start(&mut self, passes: usize) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.cache_stamp.iter_mut().for_each(|s| *s = 0);
            self.generation = 1;
        }
        if self.stamp.len() < passes {
            self.stamp.resize(passes, 0);
            self.weight.resize(passes, 0.0);
            self.models.resize(passes, 0);
            self.mask.resize(passes, 0);
            self.cache_stamp.resize(passes, 0);
            self.cache.resize(passes, 0.0);
        }
        self.touched.clear();
    }

    fn add(&mut self, keys: &[u32], weight: f64, model: bool, term: usize) {
        let bit = if term < 64 { 1u64 << term } else { 0 };
        for &k in keys {
            let k = k as usize;
            if k >= self.stamp.len() {
                continue;
            }
            if self.stamp[k] != self.generation {
                self.stamp[k] = self.generation;
                self.weight[k] = 0.0;
                self.models[k] = 0;
                self.mask[k] = 0;
                self.touched.push(k as u32);
            }
            self.weight[k] += weight;
            self.models[k] += model as u16;
            self.mask[k] |= bit;
        }
    }

    /// The cached evaluation of a pass in this query, if any.
    fn cached(&self, k: usize) -> Option<Option<f64>> {
        (k < self.cache_stamp.len() && self.cache_stamp[k] == self.generation)
            .then(|| (self.cache[k] >= 0.0).then_some(self.cache[k]))
    }

    fn cache(&mut self, k: usize, r: Option<f64>) {
        if k < self.cache_stamp.len() {
            self.cache_stamp[k] = self.generation;
            self.cache[k] = r.unwrap_or(-1.0);
        }
    }

    /// Whether a pass touched by this query meets `need`.
    fn meets(&self, k: u32, need: &Need) -> bool {
        let k = k as usize;
        k < self.stamp.len()
            && self.stamp[k] == self.generation
            && (self.weight[k] >= need.weight
                || (need.models > 0 && self.models[k] as usize == need.models))
    }

    /// The passes touched by this query that meet `need`.
    fn passing<'s>(&'s self, need: &'s Need) -> impl Iterator<Item = u32> + 's {
        self.touched
            .iter()
            .copied()
            .filter(|k| self.meets(*k, need))
    }
}

/// Passes that clear the floor and the item filters, best first, evaluated
/// a group at a time: a group is scored only when its best possible
/// relevance beats every pass already scored, so a query whose top holders
/// come from its best passes never scores the long tail.
struct Stream<'a> {
    lex: &'a Lexicon,
    state: &'a State,
    docs: &'a Docs,
    query: &'a MatchQuery,
    model: &'a QueryModel,
    ids: &'a [TermIds],
    scratch: &'a mut Scratch,
    need: Need,
    /// (best possible relevance, passes), best first.
    groups: Vec<(f64, Vec<u32>)>,
    next_group: usize,
    ready: BinaryHeap<(Score, std::cmp::Reverse<u32>)>,
}

impl Stream<'_> {
    /// The next pass, best relevance first (ties: lower key).
    fn next(&mut self) -> Option<(f64, u32)> {
        while let Some((bound, _)) = self.groups.get(self.next_group) {
            if self.ready.peek().is_some_and(|(top, _)| top.0 >= *bound) {
                break;
            }
            let keys = std::mem::take(&mut self.groups[self.next_group].1);
            self.next_group += 1;
            for k in keys {
                if let Some(r) = self.matching(k) {
                    self.ready.push((Score(r), std::cmp::Reverse(k)));
                }
            }
        }
        self.ready.pop().map(|(s, k)| (s.0, k.0))
    }

    /// A pass's relevance when it matches the item (floor, category, price), else `None`.
    fn matching(&mut self, key: u32) -> Option<f64> {
        let k = key as usize;
        if let Some(r) = self.scratch.cached(k) {
            return r;
        }
        let r = self.evaluate(key);
        self.scratch.cache(k, r);
        r
    }

    fn evaluate(&self, key: u32) -> Option<f64> {
        if !self.scratch.meets(key, &self.need) || !self.state.holds(key) {
            return None;
        }
        let meta = self.docs.passes.get(key as usize)?;
        let (category_ok, price_ok) = item_filters(&self.query.item, &meta.category, meta.price);
        if !(category_ok && price_ok) {
            return None;
        }
        let r = Engine::relevance_of(self.lex, self.state, self.model, self.ids, key);
        r.passes(self.query.floor).then_some(r.score)
    }
}

/// A score ordered for the heap (scores are never NaN).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Score(f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
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

    fn check(&self, query: &MatchQuery, pass: &PassDoc) -> ItemCheck {
        // Newest last: writers publish docs, then the lexicon, then the state, so
        // reading in the reverse order never sees a state ahead of its tables.
        let state = self.state();
        let (lex, docs) = (self.lexicon(), self.docs());
        let (model, _, _) = self.model(&lex, &state, &docs, query);
        let is_brand = |b: &str| lex.id(b).is_some_and(|id| state.is_brand(id));
        let text = score::PassText::of(&pass.title, &pass.specs, &pass.description);
        let (category_ok, price_ok) = item_filters(&query.item, &pass.category, pass.price);
        ItemCheck {
            relevance: model.relevance(&text.terms(&model, is_brand)),
            floor: query.floor,
            category_ok,
            price_ok,
        }
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
