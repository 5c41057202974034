//! The index side of the engine: the tantivy schema, pass documents written
//! once (a commit only when documents were added), and the pass table and
//! document addresses read back from the committed index.

use super::{Engine, EngineError};
use crate::PassDoc;
use std::collections::HashMap;
use std::sync::Arc;
use symbolon_core::{Currency, Money, TaxonomyPath};
use tantivy::schema::{Facet, FacetOptions, Field, NumericOptions, Schema, Value, STORED, STRING};
use tantivy::TantivyDocument;

#[derive(Clone, Copy)]
pub(super) struct Fields {
    pub(super) key: Field,
    pub(super) pass_id: Field,
    pub(super) category: Field,
    pub(super) price: Field,
    pub(super) currency: Field,
}

pub(super) fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        key: b.add_u64_field(
            "key",
            NumericOptions::default()
                .set_indexed()
                .set_fast()
                .set_stored(),
        ),
        pass_id: b.add_text_field("pass_id", STRING | STORED),
        category: b.add_facet_field("category", FacetOptions::default().set_stored()),
        price: b.add_i64_field(
            "price",
            NumericOptions::default()
                .set_indexed()
                .set_fast()
                .set_stored(),
        ),
        currency: b.add_text_field("currency", STRING | STORED),
    };
    (b.build(), fields)
}

/// A pass's item facts, by key.
#[derive(Debug, Clone)]
pub(super) struct PassMeta {
    pub(super) id: String,
    pub(super) category: TaxonomyPath,
    pub(super) price: Money,
}

/// The index side: pass facts by key, changed when passes are added.
pub(super) struct Docs {
    pub(super) passes: Vec<PassMeta>,
    pub(super) keys: HashMap<String, u32>,
}

impl Engine {
    /// Re-reads the pass table from the committed index.
    pub(super) fn load_docs(&self) -> Result<(), EngineError> {
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        let mut passes: Vec<Option<PassMeta>> = Vec::new();
        let known = self.docs();
        for segment in searcher.segment_readers() {
            let column = segment.fast_fields().u64("key")?;
            let store = segment.get_store_reader(64)?;
            for doc in segment.doc_ids_alive() {
                let key = column
                    .first(doc)
                    .ok_or_else(|| EngineError::Corrupt("a document without a key".into()))?
                    as usize;
                if passes.len() <= key {
                    passes.resize(key + 1, None);
                }
                passes[key] = match known.passes.get(key) {
                    Some(p) => Some(p.clone()),
                    None => Some(self.pass_meta(&store.get(doc)?)?),
                };
            }
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
        *self.docs.write().expect("docs lock") = Arc::new(Docs { passes, keys });
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
        Ok(PassMeta {
            id,
            category,
            price: Money::new(minor, currency),
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
            doc.add_facet(f.category, Facet::from_path(p.category.segments()));
            doc.add_i64(f.price, p.price.minor);
            doc.add_text(f.currency, p.price.currency.as_str());
            writer.add_document(doc)?;
            indexed += 1;
            if indexed.is_multiple_of(10_000) {
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
