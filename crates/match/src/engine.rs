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

use crate::text::{self, Terms, W_DESCRIPTION, W_SPECS, W_TITLE};
use crate::{
    count_eliminations, item_filters, ranked_holder, reputation_score, sort_ranked, Eliminations,
    Funnel, HolderProfile, Market, MarketFacts, MatchQuery, Matcher, PassDoc, RankedHolder,
    W_RELEVANCE,
};
use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use symbolon_core::reputation::ReputationCounts;
use symbolon_core::{Currency, Money, TaxonomyPath};
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, EnableScoring, Occur, Query,
    RangeQuery, TermQuery,
};
use tantivy::schema::{
    Facet, FacetOptions, Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing,
    TextOptions, Value, STORED, STRING,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{
    DocAddress, DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument,
    Term,
};

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

/// The tokenizer of [`crate::text`], for tantivy.
#[derive(Clone, Default)]
struct TextTokenizer {
    tokens: Vec<Token>,
}

struct TextTokenStream<'a> {
    tokens: &'a [Token],
    next: usize,
}

impl TokenStream for TextTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        unreachable!("filters are not used on this tokenizer")
    }
}

impl Tokenizer for TextTokenizer {
    type TokenStream<'a> = TextTokenStream<'a>;
    fn token_stream<'a>(&'a mut self, s: &'a str) -> TextTokenStream<'a> {
        self.tokens.clear();
        let mut position = 0;
        text::for_each_token(s, |t| {
            self.tokens.push(Token {
                offset_from: 0,
                offset_to: 0,
                position,
                text: t.to_string(),
                position_length: 1,
            });
            position += 1;
        });
        TextTokenStream {
            tokens: &self.tokens,
            next: 0,
        }
    }
}

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    pass_id: Field,
    title: Field,
    specs: Field,
    description: Field,
    category: Field,
    price: Field,
    currency: Field,
    title_len: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    let fields = Fields {
        key: b.add_u64_field(
            "key",
            NumericOptions::default()
                .set_indexed()
                .set_fast()
                .set_stored(),
        ),
        pass_id: b.add_text_field("pass_id", STRING | STORED),
        title: b.add_text_field("title", text.clone()),
        specs: b.add_text_field("specs", text.clone()),
        description: b.add_text_field("description", text),
        category: b.add_facet_field("category", FacetOptions::default().set_stored()),
        price: b.add_i64_field(
            "price",
            NumericOptions::default()
                .set_indexed()
                .set_fast()
                .set_stored(),
        ),
        currency: b.add_text_field("currency", STRING | STORED),
        title_len: b.add_u64_field("title_len", NumericOptions::default().set_stored()),
    };
    (b.build(), fields)
}

/// A pass's item facts, by key.
#[derive(Debug, Clone)]
struct PassMeta {
    id: String,
    category: TaxonomyPath,
    price: Money,
    /// [`text::length_factor`] of the title.
    length_factor: f64,
}

/// The volatile state: replaced wholesale by a sync, or — for changes of
/// holders' reputations and fields — by [`Engine::update_holders`], which
/// shares the listings (`Arc`s) and copies only the per-holder parts.
#[derive(Default, Clone)]
struct State {
    /// Holders with supply, by dense index.
    holders: Vec<HolderProfile>,
    /// Reputation part of each holder's score.
    rep_scores: Vec<f64>,
    /// The best reputation score among each pass's holders, by pass key.
    pass_max_rep: Vec<f64>,
    /// The best reputation score of any holder.
    max_rep: f64,
    /// Holders of each pass, by pass key.
    pass_holders: Arc<Vec<Vec<u32>>>,
    /// Passes with at least one holder (the `n` of the idf weights).
    held_passes: u64,
    /// Passes of each holder, by holder index.
    holder_passes: Arc<Vec<Vec<u32>>>,
    holder_index: Arc<HashMap<String, u32>>,
}

/// The index side: pass facts and doc addresses, changed when passes are added.
struct Docs {
    passes: Vec<PassMeta>,
    keys: HashMap<String, u32>,
    /// Per segment: doc id → pass key.
    doc_keys: Vec<Arc<Vec<u32>>>,
    /// Segment id → its position in `doc_keys`.
    segment_ords: HashMap<tantivy::index::SegmentId, usize>,
    /// Pass key → its document.
    key_docs: Vec<Option<DocAddress>>,
    searcher: Searcher,
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

    /// Re-reads the pass table and doc addresses from the committed index.
    fn load_docs(&self) -> Result<(), EngineError> {
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        let mut passes: Vec<Option<PassMeta>> = Vec::new();
        let mut doc_keys = Vec::new();
        let mut key_docs: Vec<Option<DocAddress>> = Vec::new();
        let known = self.docs();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let column = segment.fast_fields().u64("key")?;
            let mut keys = vec![u32::MAX; segment.max_doc() as usize];
            let store = segment.get_store_reader(64)?;
            for doc in segment.doc_ids_alive() {
                let key = column
                    .first(doc)
                    .ok_or_else(|| EngineError::Corrupt("a document without a key".into()))?
                    as u32;
                keys[doc as usize] = key;
                let k = key as usize;
                if key_docs.len() <= k {
                    key_docs.resize(k + 1, None);
                    passes.resize(k + 1, None);
                }
                key_docs[k] = Some(DocAddress::new(ord as u32, doc));
                passes[k] = match known.passes.get(k) {
                    Some(p) => Some(p.clone()),
                    None => Some(self.pass_meta(&store.get(doc)?)?),
                };
            }
            doc_keys.push(Arc::new(keys));
        }
        let passes: Vec<PassMeta> = passes
            .into_iter()
            .enumerate()
            .map(|(k, p)| p.ok_or_else(|| EngineError::Corrupt(format!("pass key {k} missing"))))
            .collect::<Result<_, _>>()?;
        let keys = passes
            .iter()
            .enumerate()
            .map(|(k, p)| (p.id.clone(), k as u32))
            .collect();
        let segment_ords = searcher
            .segment_readers()
            .iter()
            .enumerate()
            .map(|(ord, r)| (r.segment_id(), ord))
            .collect();
        *self.docs.write().expect("docs lock") = Arc::new(Docs {
            passes,
            keys,
            doc_keys,
            segment_ords,
            key_docs,
            searcher,
        });
        Ok(())
    }

    fn pass_meta(&self, doc: &TantivyDocument) -> Result<PassMeta, EngineError> {
        let f = &self.fields;
        let corrupt = |what: &str| EngineError::Corrupt(format!("stored {what} unreadable"));
        let id = doc
            .get_first(f.pass_id)
            .and_then(|v| v.as_str())
            .ok_or_else(|| corrupt("pass id"))?
            .to_string();
        let facet = doc
            .get_first(f.category)
            .and_then(|v| v.as_facet())
            .ok_or_else(|| corrupt("category"))?;
        let path = Facet::from_encoded(facet.as_bytes().to_vec())
            .map_err(|_| corrupt("category"))?
            .to_path()
            .join("/");
        let category = TaxonomyPath::parse(&path, "category").map_err(|_| corrupt("category"))?;
        let minor = doc
            .get_first(f.price)
            .and_then(|v| v.as_i64())
            .ok_or_else(|| corrupt("price"))?;
        let currency = doc
            .get_first(f.currency)
            .and_then(|v| v.as_str())
            .and_then(|c| Currency::parse(c).ok())
            .ok_or_else(|| corrupt("currency"))?;
        let title_len = doc
            .get_first(f.title_len)
            .and_then(|v| v.as_u64())
            .ok_or_else(|| corrupt("title length"))?;
        Ok(PassMeta {
            id,
            category,
            price: Money::new(minor, currency),
            length_factor: text::length_factor(title_len.min(u32::MAX as u64) as u32),
        })
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
        let state = build_state(market, &docs.keys);
        let stats = SyncStats {
            indexed,
            passes: docs.passes.len() as u64,
            listings: state.holder_passes.iter().map(|p| p.len() as u64).sum(),
            holders: state.holders.len() as u64,
        };
        *self.state.write().expect("state lock") = Arc::new(state);
        Ok(stats)
    }

    /// Indexes the passes of `passes` the index does not have yet (pass
    /// documents are immutable, so known ones are kept). A commit (an fsync)
    /// happens only when documents were added: `version` rides along as the
    /// commit's payload, never a commit of its own.
    fn index_new(
        &self,
        passes: &[PassDoc],
        version: Option<i64>,
        progress: &dyn Fn(u64, u64),
    ) -> Result<u64, EngineError> {
        let mut indexed = 0u64;
        let mut writer = self.writer.lock().expect("writer lock");
        let docs = self.docs();
        let new: Vec<_> = {
            let mut seen = std::collections::HashSet::new();
            passes
                .iter()
                .filter(|p| !docs.keys.contains_key(&p.pass_id) && seen.insert(&p.pass_id))
                .collect()
        };
        let total = new.len() as u64;
        let f = self.fields;
        for (key, p) in (docs.passes.len() as u64..).zip(new) {
            let mut doc = TantivyDocument::new();
            doc.add_u64(f.key, key);
            doc.add_text(f.pass_id, &p.pass_id);
            doc.add_text(f.title, &p.title);
            let mut specs = String::new();
            for (k, v) in &p.specs {
                specs.push_str(k);
                specs.push('\n');
                specs.push_str(v);
                specs.push('\n');
            }
            doc.add_text(f.specs, &specs);
            doc.add_text(f.description, &p.description);
            doc.add_facet(f.category, Facet::from_path(p.category.segments()));
            doc.add_i64(f.price, p.price.minor);
            doc.add_text(f.currency, p.price.currency.as_str());
            doc.add_u64(f.title_len, text::title_len(&p.title) as u64);
            writer.add_document(doc)?;
            indexed += 1;
            if indexed % 10_000 == 0 {
                progress(indexed, total);
            }
        }
        if indexed > 0 {
            let mut commit = writer.prepare_commit()?;
            if let Some(v) = version {
                commit.set_payload(&v.to_string());
            }
            commit.commit()?;
        }
        progress(indexed, total);
        if indexed > 0 {
            self.load_docs()?;
        }
        Ok(indexed)
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
        let mut guard = self.state.write().expect("state lock");
        let mut s: State = (**guard).clone();
        let pass_holders = Arc::make_mut(&mut s.pass_holders);
        let holder_passes = Arc::make_mut(&mut s.holder_passes);
        let holder_index = Arc::make_mut(&mut s.holder_index);
        pass_holders.resize(docs.passes.len(), Vec::new());
        s.pass_max_rep.resize(docs.passes.len(), f64::NEG_INFINITY);
        let mut touched: Vec<u32> = Vec::new();
        for (_, passes) in holdings {
            for p in passes {
                if let Some(k) = docs.keys.get(&p.pass_id) {
                    touched.push(*k);
                }
            }
        }
        for (profile, _) in holdings {
            if let Some(h) = holder_index.get(&profile.id) {
                touched.extend(holder_passes[*h as usize].iter().copied());
            }
        }
        touched.sort_unstable();
        touched.dedup();
        let held_before = held_now(pass_holders, &touched);
        for (profile, passes) in holdings {
            let h = match holder_index.get(&profile.id) {
                Some(h) => *h,
                None => {
                    let h = s.holders.len() as u32;
                    s.holders.push(profile.clone());
                    s.rep_scores.push(0.0);
                    holder_passes.push(Vec::new());
                    holder_index.insert(profile.id.clone(), h);
                    h
                }
            };
            s.holders[h as usize] = profile.clone();
            s.rep_scores[h as usize] = reputation_score(&profile.reputation);
            let mut keys: Vec<u32> = passes
                .iter()
                .filter_map(|p| docs.keys.get(&p.pass_id).copied())
                .collect();
            keys.sort_unstable();
            keys.dedup();
            for &k in &holder_passes[h as usize] {
                if keys.binary_search(&k).is_err() {
                    pass_holders[k as usize].retain(|x| *x != h);
                }
            }
            for &k in &keys {
                let list = &mut pass_holders[k as usize];
                if let Err(at) = list.binary_search(&h) {
                    list.insert(at, h);
                }
            }
            touched.extend(holder_passes[h as usize].iter().copied());
            touched.extend(keys.iter().copied());
            holder_passes[h as usize] = keys;
        }
        touched.sort_unstable();
        touched.dedup();
        s.held_passes =
            (s.held_passes as i64 + held_now(pass_holders, &touched) - held_before) as u64;
        for key in touched {
            s.pass_max_rep[key as usize] = pass_holders[key as usize]
                .iter()
                .map(|h| s.rep_scores[*h as usize])
                .fold(f64::NEG_INFINITY, f64::max);
        }
        s.max_rep = max_rep_of(&s.rep_scores, holder_passes);
        *guard = Arc::new(s);
        Ok(indexed)
    }

    /// Applies new reputations and fields of holders already in the market
    /// (a holder with no supply is not matched, so it is skipped): the same
    /// state a full [`Engine::sync`] of the updated market builds, without
    /// re-reading listings. Returns how many holders it updated.
    pub fn update_holders(&self, profiles: &[HolderProfile]) -> usize {
        let mut guard = self.state.write().expect("state lock");
        let mut s: State = (**guard).clone();
        let mut touched: Vec<u32> = Vec::new();
        let mut updated = 0;
        for p in profiles {
            let Some(&h) = s.holder_index.get(&p.id) else {
                continue;
            };
            s.rep_scores[h as usize] = reputation_score(&p.reputation);
            s.holders[h as usize] = p.clone();
            touched.extend(s.holder_passes[h as usize].iter().copied());
            updated += 1;
        }
        touched.sort_unstable();
        touched.dedup();
        for key in touched {
            s.pass_max_rep[key as usize] = s.pass_holders[key as usize]
                .iter()
                .map(|h| s.rep_scores[*h as usize])
                .fold(f64::NEG_INFINITY, f64::max);
        }
        s.max_rep = max_rep_of(&s.rep_scores, &s.holder_passes);
        *guard = Arc::new(s);
        updated
    }

    /// Each term's idf weight, from title document frequencies over the
    /// passes in the market (held by someone), as the exact scorer counts
    /// them: the index also keeps the documents of passes that left the
    /// market (revoked, sold out, no longer granted), and a replica's index
    /// remembers more of those than a fresh one's, so they must not count.
    fn weights(&self, docs: &Docs, state: &State, terms: &Terms) -> Vec<u32> {
        let held = |key: u32| {
            state
                .pass_holders
                .get(key as usize)
                .is_some_and(|h| !h.is_empty())
        };
        let n = state.held_passes;
        terms
            .0
            .iter()
            .map(|t| {
                let term = Term::from_field_text(self.fields.title, t);
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
                        if key != u32::MAX && held(key) {
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

/// How many of `keys` (distinct) have a holder.
fn held_now(pass_holders: &[Vec<u32>], keys: &[u32]) -> i64 {
    keys.iter()
        .filter(|k| !pass_holders[**k as usize].is_empty())
        .count() as i64
}

/// The best reputation score of any holder with supply.
fn max_rep_of(rep_scores: &[f64], holder_passes: &[Vec<u32>]) -> f64 {
    rep_scores
        .iter()
        .zip(holder_passes)
        .filter(|(_, p)| !p.is_empty())
        .map(|(r, _)| *r)
        .fold(0.0, f64::max)
}

fn build_state(market: &Market, keys: &HashMap<String, u32>) -> State {
    let mut s = Building {
        pass_holders: vec![Vec::new(); keys.len()],
        ..Default::default()
    };
    for l in &market.listings {
        let Some(&key) = keys.get(&l.pass_id) else {
            continue;
        };
        let h = match s.holder_index.get(&l.holder_id) {
            Some(h) => *h,
            None => {
                let h = s.holders.len() as u32;
                let profile = market
                    .holders
                    .get(&l.holder_id)
                    .cloned()
                    .unwrap_or_else(|| HolderProfile {
                        id: l.holder_id.clone(),
                        fields: vec![],
                        reputation: ReputationCounts::default(),
                    });
                s.rep_scores.push(reputation_score(&profile.reputation));
                s.holders.push(profile);
                s.holder_passes.push(Vec::new());
                s.holder_index.insert(l.holder_id.clone(), h);
                h
            }
        };
        s.holder_passes[h as usize].push(key);
        s.pass_holders[key as usize].push(h);
    }
    for list in s.holder_passes.iter_mut().chain(s.pass_holders.iter_mut()) {
        list.sort_unstable();
        list.dedup();
        list.shrink_to_fit();
    }
    s.pass_max_rep = s
        .pass_holders
        .iter()
        .map(|hs| {
            hs.iter()
                .map(|h| s.rep_scores[*h as usize])
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect();
    s.max_rep = s.rep_scores.iter().copied().fold(0.0, f64::max);
    State {
        holders: s.holders,
        rep_scores: s.rep_scores,
        pass_max_rep: s.pass_max_rep,
        max_rep: s.max_rep,
        held_passes: s.pass_holders.iter().filter(|h| !h.is_empty()).count() as u64,
        pass_holders: Arc::new(s.pass_holders),
        holder_passes: Arc::new(s.holder_passes),
        holder_index: Arc::new(s.holder_index),
    }
}

/// [`State`] while [`build_state`] makes it.
#[derive(Default)]
struct Building {
    holders: Vec<HolderProfile>,
    rep_scores: Vec<f64>,
    pass_max_rep: Vec<f64>,
    max_rep: f64,
    pass_holders: Vec<Vec<u32>>,
    holder_passes: Vec<Vec<u32>>,
    holder_index: HashMap<String, u32>,
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
        let mut held = vec![false; docs.passes.len()];
        state
            .holder_passes
            .iter()
            .flatten()
            .for_each(|k| held[*k as usize] = true);
        MarketFacts {
            reputations: state
                .holders
                .iter()
                .zip(state.holder_passes.iter())
                .filter(|(_, p)| !p.is_empty())
                .map(|(h, _)| h.reputation)
                .collect(),
            prices: docs
                .passes
                .iter()
                .zip(held)
                .filter(|(_, h)| *h)
                .map(|(p, _)| p.price)
                .collect(),
        }
    }
}
