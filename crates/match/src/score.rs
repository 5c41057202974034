//! Relevance: how well one pass answers a query — BM25F over title, specs and
//! description, the relevance floor, and brand agreement. Both matchers feed
//! the same functions the same integers (term counts, field lengths, document
//! frequencies), so their figures agree to the last bit.
//!
//! **Statistics** are over the passes in the market (held by someone): `n`
//! passes, each term's document frequency `df` (passes holding it in any
//! field), each field's average length in tokens.
//!
//! **BM25F.** For each query term, the field-weighted, length-normalised count
//! `tf̃ = Σ_f w_f · tf_f / (1 − b + b · len_f / avglen_f)` (weights title 3,
//! specs 2, description 1; `b` = 0.75) is saturated as `tf̃ / (k1 + tf̃)`
//! (`k1` = 1.2) and weighted by `idf = ln(1 + (n − df + 0.5) / (df + 0.5))`.
//! An occurrence as a piece of a longer model number (`pjd7383` in
//! `PJD7383i`) counts [`DERIVED_CREDIT`]. Model numbers weigh
//! [`MODEL_WEIGHT`] times their idf. `relevance` = Σ weight · idf ·
//! saturation ÷ Σ weight · idf, in [0, 1).
//!
//! **Terms that count.** A term no pass holds is left out of both sums when
//! it is not a model number (a typo or a filler word cannot tell passes apart);
//! a model number no pass holds stays in and says the product is absent.
//!
//! **The floor.** `coverage` = the idf-weighted share of the query's terms the
//! pass holds somewhere, model numbers weighing [`COVER_MODEL_WEIGHT`] times more. A
//! pass matches the item only when `coverage ≥ floor` ([`DEFAULT_FLOOR`] unless
//! the query sets another), so a pass sharing one word with the query (a Sony
//! TV for "Sony WH-1000XM5 headphones") does not make its holder a candidate.
//!
//! **Brand agreement.** A query *names* a brand when one to three of its
//! consecutive terms spell a brand of the market (the `brand` or
//! `manufacturer` spec of a pass in it). A pass *contradicts* the query when
//! its brand — its brand spec, else its title's first one or two words when
//! they are a market brand — agrees with none the query names (neither key
//! starts with the other). A contradicting pass's relevance and
//! coverage are multiplied by [`BRAND_PENALTY`].

use crate::text::{self, Terms};
use std::collections::HashMap;

/// Field weights: title, specs, description.
pub const FIELD_WEIGHTS: [f64; 3] = [3.0, 2.0, 1.0];
/// BM25 term-frequency saturation.
pub const K1: f64 = 1.2;
/// BM25 length normalisation.
pub const B: f64 = 0.75;
/// How much more a model number weighs in the relevance.
pub const MODEL_WEIGHT: f64 = 3.0;
/// How much more a model number weighs in the coverage (what the floor reads):
/// a pass holding the query's model numbers is most of the way there.
pub const COVER_MODEL_WEIGHT: f64 = 4.0;
/// What an occurrence counts for when the term is only a piece of a longer
/// model number (`pjd7383` in `PJD7383i`).
pub const DERIVED_CREDIT: f64 = 0.3;
/// Relevance and coverage of a pass whose brand contradicts the query.
pub const BRAND_PENALTY: f64 = 0.5;
/// The relevance floor matchers apply unless a query sets another (chosen
/// from the absent-product curve of `symbolon bench relevance`).
pub const DEFAULT_FLOOR: f64 = 0.3;

/// Fields of a pass, in [`FIELD_WEIGHTS`] order.
pub const FIELDS: usize = 3;

/// The BM25 idf of a term held by `df` of `n` passes.
pub fn idf(df: u64, n: u64) -> f64 {
    let (df, n) = (df as f64, n as f64);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// What the scorer knows of one pass: per query term its count in each
/// field, the field lengths, and its brand.
#[derive(Debug, Clone)]
pub struct PassTerms {
    pub tf: Vec<[u32; FIELDS]>,
    /// Per query term, its count in each field as a piece of a longer model number.
    pub derived: Vec<[u32; FIELDS]>,
    pub len: [u32; FIELDS],
    /// Whether the pass has a brand (its spec brand, else a title head that
    /// is a market brand), and if so whether the query names it.
    pub brand: Option<bool>,
}

/// A query with the market's statistics applied.
#[derive(Debug, Clone)]
pub struct QueryModel {
    pub terms: Terms,
    /// Per term: idf (0 for a term left out).
    pub idf: Vec<f64>,
    pub counted: Vec<bool>,
    pub avg_len: [f64; FIELDS],
    idf_total: f64,
    cover_total: f64,
    /// Brands the query names: key and the terms that spell it.
    pub brands: Vec<(String, Vec<usize>)>,
    pub floor: f64,
}

/// The market figures a query model needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Corpus {
    /// Passes in the market.
    pub n: u64,
    /// Sum of each field's length over those passes.
    pub len_sum: [u64; FIELDS],
}

impl QueryModel {
    /// `df[i]` is term `i`'s document frequency; `is_brand` tells market brands.
    pub fn new(
        terms: Terms,
        df: &[u64],
        corpus: Corpus,
        is_brand: impl Fn(&str) -> bool,
        floor: f64,
    ) -> Self {
        let counted: Vec<bool> = terms
            .0
            .iter()
            .zip(df)
            .map(|(t, d)| *d > 0 || t.model)
            .collect();
        let idf: Vec<f64> = df
            .iter()
            .zip(&counted)
            .map(|(d, c)| if *c { idf(*d, corpus.n) } else { 0.0 })
            .collect();
        let idf_total: f64 = idf
            .iter()
            .zip(&terms.0)
            .map(|(i, t)| i * term_weight(t))
            .sum();
        let cover_total: f64 = idf
            .iter()
            .zip(&terms.0)
            .map(|(i, t)| i * cover_weight(t))
            .sum();
        let avg_len = std::array::from_fn(|f| {
            if corpus.n == 0 {
                0.0
            } else {
                corpus.len_sum[f] as f64 / corpus.n as f64
            }
        });
        let brands = text::query_brand_candidates(&terms)
            .into_iter()
            .filter(|(k, _)| is_brand(k))
            .collect();
        Self {
            terms,
            idf,
            counted,
            avg_len,
            idf_total,
            cover_total,
            brands,
            floor,
        }
    }

    /// Whether the query can match anything (some term counts).
    pub fn is_empty(&self) -> bool {
        self.idf_total <= 0.0
    }

    /// Each counted term's share of the coverage (0 for terms left out).
    pub fn cover_weights(&self) -> Vec<f64> {
        self.idf
            .iter()
            .zip(&self.terms.0)
            .map(|(i, t)| i * cover_weight(t))
            .collect()
    }

    /// Each term's most possible share of the relevance (its weighted idf ÷
    /// the total): a pass's relevance is below the sum over the terms it holds.
    pub fn rank_bounds(&self) -> Vec<f64> {
        self.idf
            .iter()
            .zip(&self.terms.0)
            .map(|(i, t)| i * term_weight(t) / self.idf_total)
            .collect()
    }

    /// Sum of [`QueryModel::cover_weights`].
    pub fn cover_total(&self) -> f64 {
        self.cover_total
    }

    /// The relevance of a pass.
    pub fn relevance(&self, p: &PassTerms) -> Relevance {
        if self.is_empty() {
            return Relevance::default();
        }
        let (mut bm25, mut cover) = (0.0f64, 0.0f64);
        let mut models = (0usize, 0usize); // (model terms, held)
        for (i, (tf, derived)) in p.tf.iter().zip(&p.derived).enumerate() {
            let model = self.terms.0[i].model;
            models.0 += model as usize;
            if !self.counted[i] || tf.iter().chain(derived).all(|c| *c == 0) {
                continue;
            }
            models.1 += model as usize;
            let mut weighted = 0.0f64;
            for f in 0..FIELDS {
                if tf[f] == 0 && derived[f] == 0 {
                    continue;
                }
                let count = tf[f] as f64 + DERIVED_CREDIT * derived[f] as f64;
                let norm = if self.avg_len[f] > 0.0 {
                    1.0 - B + B * p.len[f] as f64 / self.avg_len[f]
                } else {
                    1.0
                };
                weighted += FIELD_WEIGHTS[f] * count / norm;
            }
            bm25 += self.idf[i] * term_weight(&self.terms.0[i]) * weighted / (K1 + weighted);
            cover += self.idf[i] * cover_weight(&self.terms.0[i]);
        }
        let factor = if self.contradicts(p) {
            BRAND_PENALTY
        } else {
            1.0
        };
        Relevance {
            score: factor * bm25 / self.idf_total,
            coverage: factor * cover / self.cover_total,
            models: models.0 > 0 && models.0 == models.1 && factor == 1.0,
        }
    }

    /// Whether the pass's brand contradicts the brands the query names.
    pub fn contradicts(&self, p: &PassTerms) -> bool {
        matches!(p.brand, Some(false)) && !self.brands.is_empty()
    }

    /// Whether a pass brand agrees with a brand the query names (one key
    /// starts with the other: `dalite` and `dalitescreen`).
    pub fn names(&self, brand: &str) -> bool {
        self.brands
            .iter()
            .any(|(k, _)| brand.starts_with(k.as_str()) || k.starts_with(brand))
    }
}

fn cover_weight(t: &text::Term) -> f64 {
    if t.model {
        COVER_MODEL_WEIGHT
    } else {
        1.0
    }
}

fn term_weight(t: &text::Term) -> f64 {
    if t.model {
        MODEL_WEIGHT
    } else {
        1.0
    }
}

/// A pass's relevance to a query.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Relevance {
    /// Normalised BM25F (× the brand penalty), in [0, 1): what ranks.
    pub score: f64,
    /// The weighted share of query terms held (× the brand penalty), in [0, 1]: what the floor reads.
    pub coverage: f64,
    /// The query has model numbers, the pass holds every one of them, and its brand agrees.
    pub models: bool,
}

impl Relevance {
    /// Whether the pass really matches: some term held, and every model
    /// number of the query held or `coverage ≥ floor`.
    pub fn passes(&self, floor: f64) -> bool {
        self.score > 0.0 && (self.models || self.coverage >= floor)
    }

    /// Whether the pass holds any term of the query.
    pub fn any(&self) -> bool {
        self.score > 0.0
    }
}

/// A pass's text, counted once: per field each token's count and the length.
#[derive(Debug, Clone, Default)]
pub struct PassText {
    pub fields: [HashMap<String, u32>; FIELDS],
    pub len: [u32; FIELDS],
    pub spec_brand: Option<String>,
    pub heads: [Option<String>; 2],
}

impl PassText {
    /// Counts the tokens of a pass (specs: every name and value).
    pub fn of(title: &str, specs: &[(String, String)], description: &str) -> Self {
        let (t, tl) = text::token_counts(title);
        let (mut s, mut sl) = (HashMap::new(), 0u32);
        for (k, v) in specs {
            for part in [k, v] {
                let (c, l) = text::token_counts(part);
                sl = sl.saturating_add(l);
                for (tok, n) in c {
                    let e = s.entry(tok).or_insert(0u32);
                    *e = (*e + n).min(text::MAX_TF);
                }
            }
        }
        let (d, dl) = text::token_counts(description);
        Self {
            fields: [t, s, d],
            len: [tl, sl, dl],
            spec_brand: text::spec_brand(specs),
            heads: text::title_heads(title),
        }
    }

    /// Whether the pass holds term `i` in some field (whole or as a piece of a model number).
    pub fn holds(&self, terms: &Terms, i: usize) -> bool {
        self.fields.iter().any(|f| {
            let get = |t: &str| f.get(t).copied().unwrap_or(0);
            terms.tf(i, get) > 0 || terms.tf_derived(i, get) > 0
        })
    }

    /// The scorer's view of this pass for a query; `is_brand` tells market brands.
    pub fn terms(&self, model: &QueryModel, is_brand: impl Fn(&str) -> bool) -> PassTerms {
        let terms = &model.terms;
        let brand = pass_brand(self.spec_brand.as_deref(), &self.heads, is_brand);
        PassTerms {
            tf: (0..terms.len())
                .map(|i| {
                    std::array::from_fn(|f| {
                        terms.tf(i, |t| self.fields[f].get(t).copied().unwrap_or(0))
                    })
                })
                .collect(),
            derived: (0..terms.len())
                .map(|i| {
                    std::array::from_fn(|f| {
                        terms.tf_derived(i, |t| self.fields[f].get(t).copied().unwrap_or(0))
                    })
                })
                .collect(),
            len: self.len,
            brand: brand.map(|b| model.names(&b)),
        }
    }
}

/// A pass's brand: its spec brand, else the first title head that is a market brand.
pub fn pass_brand(
    spec: Option<&str>,
    heads: &[Option<String>; 2],
    is_brand: impl Fn(&str) -> bool,
) -> Option<String> {
    if let Some(b) = spec {
        return Some(b.to_string());
    }
    heads.iter().flatten().find(|h| is_brand(h)).cloned()
}
