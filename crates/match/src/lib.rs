//! Matching: which holders qualify for a demand, best first.
//!
//! A holder **qualifies** when (a) it holds a usable listing (valid pass, units
//! left if unique, product in stock — the caller passes only those) whose product
//! matches the item: it *really* matches the query (its relevance clears the
//! floor, see [`score`]), its category is equal to or under the demand's, its
//! price ≤ `max_price` in the same currency; and (b) it meets every holder
//! criterion given (see [`HolderCriteria`]).
//!
//! Qualified holders are ranked by the **score**
//!
//! ```text
//! score = 0.60 · relevance + 0.25 · wilson(positive, ratings) + 0.15 · wilson(offered, interactions)
//! ```
//!
//! where `relevance` ∈ [0, 1) is the best BM25F relevance among the holder's
//! matching listings ([`score::QueryModel::relevance`]) and `wilson` is the
//! Wilson lower bound at 95% (0 without evidence). Ties break by holder id,
//! ascending.
//!
//! [`ExactMatcher`] evaluates every listing: it is the reference the indexed
//! engine is tested against.

pub mod engine;
pub mod explain;
pub mod score;
pub mod text;

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
pub use symbolon_core::demand::{Criterion, HolderCriteria, ItemSpec};
use symbolon_core::reputation::ReputationCounts;
use symbolon_core::{Money, TaxonomyPath};

/// Weight of relevance in the score.
pub const W_RELEVANCE: f64 = 0.60;
/// Weight of the positive-rating Wilson bound in the score.
pub const W_POSITIVE: f64 = 0.25;
/// Weight of the success-rate Wilson bound in the score.
pub const W_SUCCESS: f64 = 0.15;

/// A pass as the matcher sees it: the product text and the item facts.
///
/// Pass documents are immutable once issued, so an index can keep them while
/// the volatile state (who holds what, reputations) changes around them.
#[derive(Debug, Clone)]
pub struct PassDoc {
    pub pass_id: String,
    pub title: String,
    pub description: String,
    pub specs: Vec<(String, String)>,
    pub category: TaxonomyPath,
    pub price: Money,
}

/// One usable pass in one holder's wallet (valid, units left if unique, product in stock).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Listing {
    pub holder_id: String,
    pub pass_id: String,
}

/// A holder's matching-relevant state.
#[derive(Debug, Clone)]
pub struct HolderProfile {
    pub id: String,
    pub fields: Vec<TaxonomyPath>,
    pub reputation: ReputationCounts,
}

/// The supply at one moment. Every listing's pass is in `passes`.
#[derive(Debug, Clone, Default)]
pub struct Market {
    pub passes: Vec<PassDoc>,
    pub listings: Vec<Listing>,
    pub holders: HashMap<String, HolderProfile>,
}

/// What a demand asks the matcher.
#[derive(Debug, Clone)]
pub struct MatchQuery {
    pub item: ItemSpec,
    pub criteria: HolderCriteria,
    /// A holder never matched (the requester itself, when it is also a holder).
    pub exclude_holder: Option<String>,
    /// The relevance floor: the least coverage of a pass that really matches
    /// ([`score::DEFAULT_FLOOR`] unless a benchmark sweeps it).
    pub floor: f64,
}

impl MatchQuery {
    pub fn new(item: ItemSpec, criteria: HolderCriteria) -> Self {
        Self {
            item,
            criteria,
            exclude_holder: None,
            floor: score::DEFAULT_FLOOR,
        }
    }

    fn excludes(&self, holder_id: &str) -> bool {
        self.exclude_holder.as_deref() == Some(holder_id)
    }
}

/// A qualifying holder, with the reasons it was chosen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankedHolder {
    pub holder_id: String,
    pub score: f64,
    pub relevance: f64,
    pub positive_lower_bound: f64,
    pub success_lower_bound: f64,
    /// The holder's listings that match the item, best first (ties: lower price, then pass id).
    pub matched_pass_ids: Vec<String>,
    /// The holder's fields on the branch of a requested field.
    pub matched_fields: Vec<String>,
}

/// How many holders each criterion eliminated.
///
/// Item criteria form a funnel over each holder's listings, in the order
/// `query` (no listing shares a term with the query) → `relevance` (none
/// really matches: coverage below the floor) → `category` → `max_price`: a
/// holder is counted under the first stage that leaves it with no listing, so
/// `holders_with_supply − holders_matching_item` is the sum of the four. Holder criteria are then
/// checked independently among the holders with a matching listing: a holder
/// failing several counts under each.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Eliminations {
    pub holders_with_supply: u64,
    pub holders_matching_item: u64,
    pub qualified: u64,
    /// Criterion name → holders eliminated by it (only criteria given in the demand).
    pub eliminated: BTreeMap<String, u64>,
    /// The passes in the market closest to the item among those that share a
    /// term with the query but fall below the floor: best coverage first
    /// (ties: pass id), at most [`CLOSEST_PASSES`].
    pub closest: Vec<ClosePass>,
}

/// How many of the closest passes [`Eliminations`] reports.
pub const CLOSEST_PASSES: usize = 3;

/// A pass that almost matched the item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClosePass {
    pub pass_id: String,
    pub relevance: f64,
    pub coverage: f64,
}

/// Keeps the best [`CLOSEST_PASSES`] of `all`: coverage first, then pass id.
pub(crate) fn closest(mut all: Vec<ClosePass>) -> Vec<ClosePass> {
    all.sort_by(|a, b| {
        b.coverage
            .total_cmp(&a.coverage)
            .then_with(|| a.pass_id.cmp(&b.pass_id))
    });
    all.truncate(CLOSEST_PASSES);
    all
}

/// The values present in a market, from which [`explain`] draws candidate relaxations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MarketFacts {
    pub reputations: Vec<ReputationCounts>,
    pub prices: Vec<Money>,
}

/// A matcher: [`ExactMatcher`] (the reference) or [`engine::Engine`] (indexed).
/// Both answer the same for the same market; a proptest holds them to it.
pub trait Matcher: Send + Sync {
    /// The best `limit` qualifying holders, best first (all of them when fewer qualify).
    fn rank(&self, query: &MatchQuery, limit: usize) -> Vec<RankedHolder>;
    /// Which criterion eliminated how many holders (evaluates every listing).
    fn eliminations(&self, query: &MatchQuery) -> Eliminations;
    /// The reputations and prices present, for explanations.
    fn facts(&self) -> MarketFacts;
    /// Checks one pass against the item of `query` with the market's statistics
    /// (the pass need not be in the market).
    fn check(&self, query: &MatchQuery, pass: &PassDoc) -> ItemCheck;
}

/// Evaluates every listing of a market it owns.
#[derive(Debug, Default, Clone)]
pub struct ExactMatcher {
    market: Market,
}

/// The item checks of one listing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ItemCheck {
    pub relevance: score::Relevance,
    pub floor: f64,
    pub category_ok: bool,
    pub price_ok: bool,
}

impl ItemCheck {
    /// Whether the pass matches the item: it really matches the query, in category and price.
    pub fn passes(&self) -> bool {
        self.relevance.passes(self.floor) && self.category_ok && self.price_ok
    }
}

/// The category and price checks of an item (relevance aside).
pub fn item_filters(item: &ItemSpec, category: &TaxonomyPath, price: Money) -> (bool, bool) {
    let category_ok = item.category.as_ref().is_none_or(|c| category.is_under(c));
    let price_ok = item
        .max_price
        .is_none_or(|max| max.currency == price.currency && price.minor <= max.minor);
    (category_ok, price_ok)
}

/// The score of a holder with this relevance and reputation.
pub fn score(relevance: f64, rep: &ReputationCounts) -> f64 {
    W_RELEVANCE * relevance + reputation_score(rep)
}

/// The reputation part of the score: `0.25 · wilson(positive) + 0.15 · wilson(success)`.
pub fn reputation_score(rep: &ReputationCounts) -> f64 {
    W_POSITIVE * rep.positive_lower_bound() + W_SUCCESS * rep.success_lower_bound()
}

/// Per holder with supply its funnel and matching listings; and the closest passes.
type Evaluated<'a> = (
    BTreeMap<&'a str, (Funnel, Vec<MatchingListing>)>,
    Vec<ClosePass>,
);

/// A matching listing: (relevance, price in minor units, pass id).
pub(crate) type MatchingListing = (f64, i64, String);

/// A holder's entry in the ranking, from its matching listings
/// `(relevance, price, pass id)` in any order.
pub(crate) fn ranked_holder(
    profile: &HolderProfile,
    criteria: &HolderCriteria,
    mut matching: Vec<MatchingListing>,
) -> RankedHolder {
    matching.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let relevance = matching[0].0;
    let rep = profile.reputation;
    RankedHolder {
        holder_id: profile.id.clone(),
        score: score(relevance, &rep),
        relevance,
        positive_lower_bound: rep.positive_lower_bound(),
        success_lower_bound: rep.success_lower_bound(),
        matched_pass_ids: matching.into_iter().map(|m| m.2).collect(),
        matched_fields: matched_fields(criteria, &profile.fields),
    }
}

/// Per holder: whether some listing shares a term with the query, really
/// matches it, really matches in the category, and matches fully.
#[derive(Default)]
pub(crate) struct Funnel {
    pub any_relevant: bool,
    pub any_real: bool,
    pub any_real_in_category: bool,
    pub any_matching: bool,
}

impl Funnel {
    /// Adds one listing's checks.
    pub(crate) fn add(&mut self, r: &score::Relevance, floor: f64, category: bool, price: bool) {
        let real = r.passes(floor);
        self.any_relevant |= r.any();
        self.any_real |= real;
        self.any_real_in_category |= real && category;
        self.any_matching |= real && category && price;
    }
}

/// Counts eliminations from each holder's funnel and profile; `qualified` is
/// counted here too. `holders` yields (funnel, profile) for every holder with supply.
pub(crate) fn count_eliminations<'a>(
    query: &MatchQuery,
    holders: impl Iterator<Item = (Funnel, &'a HolderProfile)>,
) -> Eliminations {
    let mut e = Eliminations::default();
    let mut bump = |name: &str| *e.eliminated.entry(name.to_string()).or_insert(0) += 1;
    let (mut supply, mut matching_item, mut qualified) = (0u64, 0u64, 0u64);
    for (f, profile) in holders {
        supply += 1;
        if !f.any_relevant {
            bump("query");
        } else if !f.any_real {
            bump("relevance");
        } else if !f.any_real_in_category {
            bump("category");
        } else if !f.any_matching {
            bump("max_price");
        }
        if !f.any_matching {
            continue;
        }
        matching_item += 1;
        let failures = query
            .criteria
            .failures(&profile.reputation, &profile.fields);
        for c in &failures {
            bump(c.as_str());
        }
        if failures.is_empty() {
            qualified += 1;
        }
    }
    // Only criteria the demand sets appear, with zero when nobody failed them.
    for c in Criterion::ALL {
        let set = match c {
            Criterion::MinPositiveRate => query.criteria.min_positive_rate.is_some(),
            Criterion::MinSuccessRate => query.criteria.min_success_rate.is_some(),
            Criterion::MinRatings => query.criteria.min_ratings.is_some(),
            Criterion::Fields => !query.criteria.fields.is_empty(),
        };
        if set {
            e.eliminated.entry(c.as_str().to_string()).or_insert(0);
        }
    }
    e.eliminated.entry("query".into()).or_insert(0);
    e.eliminated.entry("relevance".into()).or_insert(0);
    if query.item.category.is_some() {
        e.eliminated.entry("category".into()).or_insert(0);
    }
    if query.item.max_price.is_some() {
        e.eliminated.entry("max_price".into()).or_insert(0);
    }
    e.holders_with_supply = supply;
    e.holders_matching_item = matching_item;
    e.qualified = qualified;
    e
}

/// A holder with no profile in the market: no fields, no reputation.
fn bare_profile(id: &str) -> HolderProfile {
    HolderProfile {
        id: id.to_string(),
        fields: vec![],
        reputation: ReputationCounts::default(),
    }
}

impl ExactMatcher {
    /// Duplicate listings count once; of passes with the same id, the first counts.
    pub fn new(mut market: Market) -> Self {
        let mut seen = std::collections::HashSet::new();
        market.passes.retain(|p| seen.insert(p.pass_id.clone()));
        market.listings.sort_by(|a, b| {
            (a.holder_id.as_str(), a.pass_id.as_str())
                .cmp(&(b.holder_id.as_str(), b.pass_id.as_str()))
        });
        market.listings.dedup();
        Self { market }
    }

    pub fn market(&self) -> &Market {
        &self.market
    }

    /// The passes someone holds (the passes in the market).
    fn held_pass_ids(&self) -> std::collections::HashSet<&str> {
        self.market
            .listings
            .iter()
            .map(|l| l.pass_id.as_str())
            .collect()
    }

    /// The query with this market's statistics, every pass's text, and the
    /// market brands (spec brands of passes someone holds).
    fn model(
        &self,
        query: &MatchQuery,
    ) -> (
        score::QueryModel,
        HashMap<&str, score::PassText>,
        std::collections::HashSet<String>,
    ) {
        let terms = text::Terms::of_query(&query.item.query);
        let held = self.held_pass_ids();
        let texts: HashMap<&str, score::PassText> = self
            .market
            .passes
            .iter()
            .map(|p| {
                (
                    p.pass_id.as_str(),
                    score::PassText::of(&p.title, &p.specs, &p.description),
                )
            })
            .collect();
        // Statistics over the passes in the market (held by someone; a pass
        // nobody holds is not offered).
        let mut df = vec![0u64; terms.len()];
        let mut corpus = score::Corpus::default();
        let mut brands = std::collections::HashSet::new();
        for (id, t) in &texts {
            if !held.contains(id) {
                continue;
            }
            corpus.n += 1;
            for f in 0..score::FIELDS {
                corpus.len_sum[f] += t.len[f] as u64;
            }
            for (i, d) in df.iter_mut().enumerate() {
                *d += t.holds(&terms, i) as u64;
            }
            brands.extend(t.spec_brand.clone());
        }
        let model = score::QueryModel::new(terms, &df, corpus, |b| brands.contains(b), query.floor);
        (model, texts, brands)
    }

    /// Every holder with supply: its funnel and matching listings; and each
    /// held pass's relevance.
    fn evaluate(&self, query: &MatchQuery) -> Evaluated<'_> {
        let (model, texts, brands) = self.model(query);
        let checks: HashMap<&str, (ItemCheck, &PassDoc)> = self
            .market
            .passes
            .iter()
            .map(|p| {
                let t = &texts[p.pass_id.as_str()];
                let relevance = model.relevance(&t.terms(&model, |b| brands.contains(b)));
                let (category_ok, price_ok) = item_filters(&query.item, &p.category, p.price);
                let c = ItemCheck {
                    relevance,
                    floor: query.floor,
                    category_ok,
                    price_ok,
                };
                (p.pass_id.as_str(), (c, p))
            })
            .collect();
        let held = self.held_pass_ids();
        let near = checks
            .iter()
            .filter(|(id, (c, _))| {
                held.contains(*id) && c.relevance.any() && !c.relevance.passes(query.floor)
            })
            .map(|(id, (c, _))| ClosePass {
                pass_id: id.to_string(),
                relevance: c.relevance.score,
                coverage: c.relevance.coverage,
            })
            .collect();
        let mut per_holder: BTreeMap<&str, (Funnel, Vec<MatchingListing>)> = BTreeMap::new();
        for l in &self.market.listings {
            if query.excludes(&l.holder_id) {
                continue;
            }
            let Some((c, p)) = checks.get(l.pass_id.as_str()) else {
                continue;
            };
            let (f, matching) = per_holder.entry(l.holder_id.as_str()).or_default();
            f.add(&c.relevance, query.floor, c.category_ok, c.price_ok);
            if c.passes() {
                matching.push((c.relevance.score, p.price.minor, p.pass_id.clone()));
            }
        }
        (per_holder, closest(near))
    }
}

impl Matcher for ExactMatcher {
    fn rank(&self, query: &MatchQuery, limit: usize) -> Vec<RankedHolder> {
        let mut ranked = Vec::new();
        for (holder_id, (_, matching)) in self.evaluate(query).0 {
            if matching.is_empty() {
                continue;
            }
            let bare;
            let profile = match self.market.holders.get(holder_id) {
                Some(p) => p,
                None => {
                    bare = bare_profile(holder_id);
                    &bare
                }
            };
            if query
                .criteria
                .qualifies(&profile.reputation, &profile.fields)
            {
                ranked.push(ranked_holder(profile, &query.criteria, matching));
            }
        }
        sort_ranked(&mut ranked);
        ranked.truncate(limit);
        ranked
    }

    fn eliminations(&self, query: &MatchQuery) -> Eliminations {
        let (evaluated, near) = self.evaluate(query);
        let bare: Vec<HolderProfile> = evaluated
            .keys()
            .filter(|h| !self.market.holders.contains_key(**h))
            .map(|h| bare_profile(h))
            .collect();
        let profile = |h: &str| {
            self.market
                .holders
                .get(h)
                .or_else(|| bare.iter().find(|b| b.id == h))
                .expect("every evaluated holder has a profile")
        };
        let mut e = count_eliminations(
            query,
            evaluated.into_iter().map(|(h, (f, _))| (f, profile(h))),
        );
        e.closest = near;
        e
    }

    fn check(&self, query: &MatchQuery, pass: &PassDoc) -> ItemCheck {
        let (model, _, brands) = self.model(query);
        let t = score::PassText::of(&pass.title, &pass.specs, &pass.description);
        let (category_ok, price_ok) = item_filters(&query.item, &pass.category, pass.price);
        ItemCheck {
            relevance: model.relevance(&t.terms(&model, |b| brands.contains(b))),
            floor: query.floor,
            category_ok,
            price_ok,
        }
    }

    fn facts(&self) -> MarketFacts {
        MarketFacts {
            reputations: self.market.holders.values().map(|h| h.reputation).collect(),
            prices: {
                let held = self.held_pass_ids();
                self.market
                    .passes
                    .iter()
                    .filter(|p| held.contains(p.pass_id.as_str()))
                    .map(|p| p.price)
                    .collect()
            },
        }
    }
}

/// Best score first; ties by holder id.
pub fn sort_ranked(ranked: &mut [RankedHolder]) {
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.holder_id.cmp(&b.holder_id))
    });
}

fn matched_fields(criteria: &HolderCriteria, fields: &[TaxonomyPath]) -> Vec<String> {
    fields
        .iter()
        .filter(|f| criteria.fields.iter().any(|w| w.same_branch(f)))
        .map(|f| f.as_str().to_string())
        .collect()
}

#[cfg(test)]
mod tests;
