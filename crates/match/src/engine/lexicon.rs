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
    /// Its tokens, ascending, and beside each its count per field (at most
    /// [`crate::text::MAX_TF`], so a byte).
    tokens: Box<[u32]>,
    counts: Box<[[u8; FIELDS]]>,
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
    /// Its shorter variants' tokens (known ones only).
    variants: Vec<u32>,
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

    /// Counts the text of passes (by key; [`Lexicon::count`]) not counted yet.
    pub fn add(&mut self, passes: Vec<(u32, PassText)>) {
        let (mut touched, mut unsorted): (Vec<u32>, Vec<u32>) = (Vec::new(), Vec::new());
        for (key, text) in passes {
            let key = &key;
            if self.has(*key) {
                continue;
            }
            let mut terms: HashMap<u32, [u8; FIELDS]> = HashMap::new();
            for (f, field) in text.fields.iter().enumerate() {
                for (tok, n) in field {
                    let id = self.intern(tok);
                    terms.entry(id).or_default()[f] = (*n).min(u8::MAX as u32) as u8;
                }
            }
            let mut terms: Vec<(u32, [u8; FIELDS])> = terms.into_iter().collect();
            terms.sort_unstable_by_key(|t| t.0);
            for (id, _) in &terms {
                let list = &mut self.postings[*id as usize];
                if list.last().is_some_and(|last| *last > *key) {
                    unsorted.push(*id);
                }
                list.push(*key);
                touched.push(*id);
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
                tokens: terms.iter().map(|t| t.0).collect(),
                counts: terms.iter().map(|t| t.1).collect(),
                len: text.len,
                spec_brand,
                heads,
            });
        }
        unsorted.sort_unstable();
        unsorted.dedup();
        for id in unsorted {
            let list = &mut self.postings[id as usize];
            list.sort_unstable();
            list.dedup();
        }
        // Growth leaves up to half of a list unused: give it back.
        touched.sort_unstable();
        touched.dedup();
        for id in touched {
            self.postings[id as usize].shrink_to_fit();
        }
    }

    /// The counted text of passes, done before taking the lexicon's lock, on
    /// every core.
    pub fn count(passes: &[(u32, &PassDoc)]) -> Vec<(u32, PassText)> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = passes.len().div_ceil(threads).max(1);
        std::thread::scope(|s| {
            let handles: Vec<_> = passes
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|(k, p)| (*k, PassText::of(&p.title, &p.specs, &p.description)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("counting thread"))
                .collect()
        })
    }

    /// The ids of a query's terms.
    pub fn term_ids(&self, terms: &Terms) -> Vec<TermIds> {
        terms
            .0
            .iter()
            .map(|t: &Term| TermIds {
                own: self.id(&t.text),
                derived: self.id(&format!("{}{}", crate::text::DERIVED, t.text)),
                variants: t.variants.iter().filter_map(|v| self.id(v)).collect(),
                parts: if t.parts.is_empty() {
                    None
                } else {
                    t.parts.iter().map(|p| self.id(p)).collect()
                },
            })
            .collect()
    }

    /// A token's counts in a pass.
    fn counts(e: &Entry, id: u32) -> [u8; FIELDS] {
        match e.tokens.binary_search(&id) {
            Ok(i) => e.counts[i],
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
        let mut out = ids
            .derived
            .map(|id| Self::counts(e, id).map(u32::from))
            .unwrap_or([0; FIELDS]);
        for v in &ids.variants {
            let c = Self::counts(e, *v);
            for f in 0..FIELDS {
                out[f] = out[f].max(c[f] as u32);
            }
        }
        out
    }

    /// The passes holding a term in some field (whole or as a piece of a
    /// model number), ascending.
    pub fn presence(&self, ids: &TermIds) -> Cow<'_, [u32]> {
        let own = self.presence_whole(ids);
        let others: Vec<&[u32]> = ids
            .derived
            .iter()
            .chain(&ids.variants)
            .map(|id| self.postings[*id as usize].as_slice())
            .filter(|p| !p.is_empty())
            .collect();
        match (own.is_empty(), others.len()) {
            (_, 0) => own,
            (true, 1) => Cow::Borrowed(others[0]),
            _ => {
                let mut out: Vec<u32> = own.iter().copied().collect();
                others.iter().for_each(|p| out.extend_from_slice(p));
                out.sort_unstable();
                out.dedup();
                Cow::Owned(out)
            }
        }
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
