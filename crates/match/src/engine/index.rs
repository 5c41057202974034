//! The index side of the engine: the tantivy schema and tokenizer, pass
//! documents written once (a commit only when documents were added), and the
//! pass table and document addresses read back from the committed index.

use super::{Engine, EngineError, TOKENIZER};
use crate::text;
use crate::PassDoc;
use std::collections::HashMap;
use std::sync::Arc;
use symbolon_core::{Currency, Money, TaxonomyPath};
use tantivy::schema::{
    Facet, FacetOptions, Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing,
    TextOptions, Value, STORED, STRING,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{DocAddress, Searcher, TantivyDocument};

/// The tokenizer of [`crate::text`], for tantivy.
#[derive(Clone, Default)]
pub(super) struct TextTokenizer {
    pub(super) tokens: Vec<Token>,
}

pub(super) struct TextTokenStream<'a> {
    pub(super) tokens: &'a [Token],
    pub(super) next: usize,
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
pub(super) struct Fields {
    pub(super) key: Field,
    pub(super) pass_id: Field,
    pub(super) title: Field,
    pub(super) specs: Field,
    pub(super) description: Field,
    pub(super) category: Field,
    pub(super) price: Field,
    pub(super) currency: Field,
    pub(super) title_len: Field,
}

pub(super) fn schema() -> (Schema, Fields) {
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
pub(super) struct PassMeta {
    pub(super) id: String,
    pub(super) category: TaxonomyPath,
    pub(super) price: Money,
    /// [`text::length_factor`] of the title.
    pub(super) length_factor: f64,
}

/// The index side: pass facts and doc addresses, changed when passes are added.
pub(super) struct Docs {
    pub(super) passes: Vec<PassMeta>,
    pub(super) keys: HashMap<String, u32>,
    /// Per segment: doc id → pass key.
    pub(super) doc_keys: Vec<Arc<Vec<u32>>>,
    /// Segment id → its position in `doc_keys`.
    pub(super) segment_ords: HashMap<tantivy::index::SegmentId, usize>,
    /// Pass key → its document.
    pub(super) key_docs: Vec<Option<DocAddress>>,
    pub(super) searcher: Searcher,
}

impl Engine {
    /// Re-reads the pass table and doc addresses from the committed index.
    pub(super) fn load_docs(&self) -> Result<(), EngineError> {
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

    pub(super) fn pass_meta(&self, doc: &TantivyDocument) -> Result<PassMeta, EngineError> {
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

    /// Indexes the passes of `passes` the index does not have yet (pass
    /// documents are immutable, so known ones are kept). A commit (an fsync)
    /// happens only when documents were added: `version` rides along as the
    /// commit's payload, never a commit of its own.
    pub(super) fn index_new(
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
}
