//! The engine's text tables, in memory: every token interned once, per token
//! the passes holding it (postings, ascending), per pass its tokens with their
//! counts per field (the forward table the scorer reads). Built from the pass
//! documents the market brings ([`crate::score::PassText`], the very counts
//! the exact matcher computes), so both score from the same integers.

use crate::score::{PassTerms, PassText, FIELDS};
use crate::text::{Term, Terms};
use crate::PassDoc;
use std::borrow::Cow;
use std::collections::HashMap;

/// One pass's counted text.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// (token, count per field), by token.
    terms: Box<[(u32, [u16; FIELDS])]>,
    pub len: [u32; FIELDS],
    pub spec_brand: Option<u32>,
    heads: [Option<u32>; 2],
}

/// The token ids of one query term (`None`: no pass has the token).
#[derive(Debug, Clone)]
pub(super) struct TermIds {
    own: Option<u32>,
    /// Its derived token (a piece of a longer model number).
    derived: Option<u32>,
    /// The parts' ids when the term has parts and every part is known.
    parts: Option<Vec<u32>>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Lexicon {
    vocab: HashMap<Box<str>, u32>,
    postings: Vec<Vec<u32>>,
    /// By pass key; `None` until the pass's text has been counted.
    entries: Vec<Option<Entry>>,
    /// The text of brand keys and title heads, by id.
    brand_names: HashMap<u32, Box<str>>,
}

impl Lexicon {
    fn intern(&mut self, token: &str) -> u32 {
        if let Some(id) = self.vocab.get(token) {
            return *id;
        }
        let id = self.postings.len() as u32;
        self.vocab.insert(token.into(), id);
        self.postings.push(Vec::new());
        id
    }

    /// A token's id, if some pass (or brand) has it.
    pub fn id(&self, token: &str) -> Option<u32> {
        self.vocab.get(token).copied()
    }

    /// Whether the pass with this key has been counted.
    pub fn has(&self, key: u32) -> bool {
        self.entries.get(key as usize).is_some_and(Option::is_some)
    }

    pub fn entry(&self, key: u32) -> Option<&Entry> {
        self.entries.get(key as usize)?.as_ref()
    }

    /// Counts the text of passes (by key) not counted yet.
    pub fn add(&mut self, passes: &[(u32, &PassDoc)]) {
        let mut touched: Vec<u32> = Vec::new();
        for (key, p) in passes {
            if self.has(*key) {
                continue;
            }
            let text = PassText::of(&p.title, &p.specs, &p.description);
            let mut terms: HashMap<u32, [u16; FIELDS]> = HashMap::new();
            for (f, field) in text.fields.iter().enumerate() {
                for (tok, n) in field {
                    let id = self.intern(tok);
                    terms.entry(id).or_default()[f] = (*n).min(u16::MAX as u32) as u16;
                }
            }
            let mut terms: Vec<(u32, [u16; FIELDS])> = terms.into_iter().collect();
            terms.sort_unstable_by_key(|t| t.0);
            for (id, _) in &terms {
                let list = &mut self.postings[*id as usize];
                if list.last().is_some_and(|last| *last > *key) {
                    touched.push(*id);
                }
                list.push(*key);
            }
            let mut name = |b: &str| {
                let id = self.intern(b);
                self.brand_names.entry(id).or_insert_with(|| b.into());
                id
            };
            let spec_brand = text.spec_brand.as_deref().map(&mut name);
            let heads = [0, 1].map(|i| text.heads[i].as_deref().map(&mut name));
            let k = *key as usize;
            if self.entries.len() <= k {
                self.entries.resize(k + 1, None);
            }
            self.entries[k] = Some(Entry {
                terms: terms.into_boxed_slice(),
                len: text.len,
                spec_brand,
                heads,
            });
        }
        touched.sort_unstable();
        touched.dedup();
        for id in touched {
            let list = &mut self.postings[id as usize];
            list.sort_unstable();
            list.dedup();
        }
    }

    /// The ids of a query's terms.
    pub fn term_ids(&self, terms: &Terms) -> Vec<TermIds> {
        terms
            .0
            .iter()
            .map(|t: &Term| TermIds {
                own: self.id(&t.text),
                derived: self.id(&format!("{}{}", crate::text::DERIVED, t.text)),
                parts: if t.parts.is_empty() {
                    None
                } else {
                    t.parts.iter().map(|p| self.id(p)).collect()
                },
            })
            .collect()
    }

    /// A token's counts in a pass.
    fn counts(e: &Entry, id: u32) -> [u16; FIELDS] {
        match e.terms.binary_search_by_key(&id, |t| t.0) {
            Ok(i) => e.terms[i].1,
            Err(_) => [0; FIELDS],
        }
    }

    /// A term's count in each field of a pass, as [`Terms::tf`] counts it.
    pub fn tf(e: &Entry, ids: &TermIds) -> [u32; FIELDS] {
        let own = ids.own.map(|id| Self::counts(e, id)).unwrap_or([0; FIELDS]);
        let mut out = own.map(u32::from);
        if let Some(parts) = &ids.parts {
            let mut least = [u32::MAX; FIELDS];
            for p in parts {
                let c = Self::counts(e, *p);
                for f in 0..FIELDS {
                    least[f] = least[f].min(c[f] as u32);
                }
            }
            for f in 0..FIELDS {
                if !parts.is_empty() {
                    out[f] = out[f].max(least[f]);
                }
            }
        }
        out
    }

    /// A term's count in each field of a pass as a piece of a longer model number.
    pub fn tf_derived(e: &Entry, ids: &TermIds) -> [u32; FIELDS] {
        ids.derived
            .map(|id| Self::counts(e, id).map(u32::from))
            .unwrap_or([0; FIELDS])
    }

    /// The passes holding a term in some field (whole or as a piece of a
    /// model number), ascending.
    pub fn presence(&self, ids: &TermIds) -> Cow<'_, [u32]> {
        let own = self.presence_whole(ids);
        let Some(d) = ids.derived else {
            return own;
        };
        let derived = &self.postings[d as usize];
        if own.is_empty() {
            return Cow::Borrowed(derived);
        }
        let mut out: Vec<u32> = own.iter().chain(derived.iter()).copied().collect();
        out.sort_unstable();
        out.dedup();
        Cow::Owned(out)
    }

    /// The passes holding a term whole in some field, ascending.
    fn presence_whole(&self, ids: &TermIds) -> Cow<'_, [u32]> {
        let own: &[u32] = ids
            .own
            .map(|id| self.postings[id as usize].as_slice())
            .unwrap_or(&[]);
        let Some(parts) = ids.parts.as_ref().filter(|p| !p.is_empty()) else {
            return Cow::Borrowed(own);
        };
        // Passes with every part (the shortest list first), then checked
        // for all parts in one field.
        let mut lists: Vec<&[u32]> = parts
            .iter()
            .map(|p| self.postings[*p as usize].as_slice())
            .collect();
        lists.sort_by_key(|l| l.len());
        let mut out: Vec<u32> = lists[0]
            .iter()
            .copied()
            .filter(|k| lists[1..].iter().all(|l| l.binary_search(k).is_ok()))
            .filter(|k| {
                self.entry(*k)
                    .is_some_and(|e| Self::tf(e, ids).iter().any(|c| *c > 0))
            })
            .collect();
        if out.is_empty() {
            return Cow::Borrowed(own);
        }
        out.extend_from_slice(own);
        out.sort_unstable();
        out.dedup();
        Cow::Owned(out)
    }

    /// The scorer's view of a pass; `is_brand` tells market brands by id,
    /// `names` whether the query names a brand.
    pub fn pass_terms(
        &self,
        e: &Entry,
        ids: &[TermIds],
        is_brand: impl Fn(u32) -> bool,
        names: impl Fn(&str) -> bool,
    ) -> PassTerms {
        let brand = match e.spec_brand {
            Some(b) => Some(b),
            None => e.heads.iter().flatten().copied().find(|h| is_brand(*h)),
        };
        PassTerms {
            tf: ids.iter().map(|t| Self::tf(e, t)).collect(),
            derived: ids.iter().map(|t| Self::tf_derived(e, t)).collect(),
            len: e.len,
            brand: brand.map(|b| names(self.brand_names.get(&b).map(|n| &**n).unwrap_or(""))),
        }
    }
}
