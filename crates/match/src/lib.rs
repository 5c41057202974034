//! Matching: which holders qualify for a demand, best first.
//!
//! A holder **qualifies** when (a) it holds a usable listing (valid pass, units
//! left if unique, product in stock — the caller passes only those) whose product
//! matches the item: relevance above zero, category equal to or under the
//! demand's, price ≤ `max_price` in the same currency; and (b) it meets every
//! holder criterion given (see [`HolderCriteria`]).
//!
//! Qualified holders are ranked by the **score**
//!
//! ```text
//! score = 0.60 · relevance + 0.25 · wilson(positive, ratings) + 0.15 · wilson(offered, interactions)
//! ```
//!
//! where `relevance` ∈ [0, 1] is the best relevance among the holder's matching
//! listings ([`text::relevance`]) and `wilson` is the Wilson lower bound at 95%
//! (0 without evidence). Ties break by holder id, ascending.
//!
//! [`ExactMatcher`] evaluates every listing: it is the reference the indexed
//! engine is tested against.

pub mod explain;
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

/// One pass in one holder's wallet, as the matcher sees it.
#[derive(Debug, Clone)]
pub struct Listing {
    pub holder_id: String,
    pub pass_id: String,
    pub title: String,
    pub description: String,
    pub specs: Vec<(String, String)>,
    pub category: TaxonomyPath,
    pub price: Money,
}

/// A holder's matching-relevant state.
#[derive(Debug, Clone)]
pub struct HolderProfile {
    pub id: String,
    pub fields: Vec<TaxonomyPath>,
    pub reputation: ReputationCounts,
}

/// The supply at one moment.
#[derive(Debug, Clone, Default)]
pub struct Market {
    pub listings: Vec<Listing>,
    pub holders: HashMap<String, HolderProfile>,
}

/// What a demand asks the matcher.
#[derive(Debug, Clone)]
pub struct MatchQuery {
    pub item: ItemSpec,
    pub criteria: HolderCriteria,
}

/// A qualifying holder, with the reasons it was chosen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankedHolder {
    pub holder_id: String,
    pub score: f64,
    pub relevance: f64,
    pub positive_lower_bound: f64,
    pub success_lower_bound: f64,
    /// The holder's listings that match the item, best first.
    pub matched_pass_ids: Vec<String>,
    /// The holder's fields on the branch of a requested field.
    pub matched_fields: Vec<String>,
}

/// How many holders each criterion eliminated.
///
/// Item criteria form a funnel over each holder's listings, in the order
/// `query` → `category` → `max_price`: a holder is counted under the first
/// stage that leaves it with no listing, so `holders_with_supply −
/// holders_matching_item` is the sum of the three. Holder criteria are then
/// checked independently among the holders with a matching listing: a holder
/// failing several counts under each.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Eliminations {
    pub holders_with_supply: u64,
    pub holders_matching_item: u64,
    pub qualified: u64,
    /// Criterion name → holders eliminated by it (only criteria given in the demand).
    pub eliminated: BTreeMap<String, u64>,
}

/// The matcher's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchOutcome {
    /// Every qualifying holder, best first.
    pub ranked: Vec<RankedHolder>,
    pub eliminations: Eliminations,
}

/// A matcher: the exact scorer here, an indexed engine later.
pub trait Matcher: Send + Sync {
    fn rank(&self, market: &Market, query: &MatchQuery) -> MatchOutcome;
}

/// Evaluates every listing exhaustively.
#[derive(Debug, Default, Clone, Copy)]
pub struct ExactMatcher;

/// The item checks of one listing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ItemCheck {
    pub relevance: f64,
    pub category_ok: bool,
    pub price_ok: bool,
}

impl ItemCheck {
    pub fn passes(&self) -> bool {
        self.relevance > 0.0 && self.category_ok && self.price_ok
    }
}

/// Checks one listing against the item part of a demand.
pub fn check_item(item: &ItemSpec, query_terms: &text::Terms, l: &Listing) -> ItemCheck {
    let relevance = text::relevance(query_terms, &l.title, &l.description, &l.specs);
    let category_ok = item
        .category
        .as_ref()
        .is_none_or(|c| l.category.is_under(c));
    let price_ok = item
        .max_price
        .is_none_or(|max| max.currency == l.price.currency && l.price.minor <= max.minor);
    ItemCheck {
        relevance,
        category_ok,
        price_ok,
    }
}

/// The score of a holder with this relevance and reputation.
pub fn score(relevance: f64, rep: &ReputationCounts) -> f64 {
    W_RELEVANCE * relevance
        + W_POSITIVE * rep.positive_lower_bound()
        + W_SUCCESS * rep.success_lower_bound()
}

impl Matcher for ExactMatcher {
    fn rank(&self, market: &Market, query: &MatchQuery) -> MatchOutcome {
        let terms = text::Terms::of_query(&query.item.query);
        #[derive(Default)]
        struct Acc {
            any_relevant: bool,
            any_relevant_in_category: bool,
            matching: Vec<(f64, i64, String)>,
        }
        let mut per_holder: BTreeMap<&str, Acc> = BTreeMap::new();
        for l in &market.listings {
            let c = check_item(&query.item, &terms, l);
            let acc = per_holder.entry(l.holder_id.as_str()).or_default();
            acc.any_relevant |= c.relevance > 0.0;
            acc.any_relevant_in_category |= c.relevance > 0.0 && c.category_ok;
            if c.passes() {
                acc.matching
                    .push((c.relevance, l.price.minor, l.pass_id.clone()));
            }
        }

        let mut e = Eliminations {
            holders_with_supply: per_holder.len() as u64,
            ..Default::default()
        };
        let mut bump = |name: &str| *e.eliminated.entry(name.to_string()).or_insert(0) += 1;
        let mut ranked = Vec::new();
        let mut matching_item = 0u64;
        let empty = HolderProfile {
            id: String::new(),
            fields: vec![],
            reputation: ReputationCounts::default(),
        };
        for (holder_id, mut acc) in per_holder {
            if !acc.any_relevant {
                bump("query");
            } else if !acc.any_relevant_in_category {
                bump("category");
            } else if acc.matching.is_empty() {
                bump("max_price");
            }
            if acc.matching.is_empty() {
                continue;
            }
            matching_item += 1;
            let profile = market.holders.get(holder_id).unwrap_or(&empty);
            let failures = query
                .criteria
                .failures(&profile.reputation, &profile.fields);
            for c in &failures {
                bump(c.as_str());
            }
            if !failures.is_empty() {
                continue;
            }
            acc.matching
                .sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
            let relevance = acc.matching[0].0;
            let rep = profile.reputation;
            ranked.push(RankedHolder {
                holder_id: holder_id.to_string(),
                score: score(relevance, &rep),
                relevance,
                positive_lower_bound: rep.positive_lower_bound(),
                success_lower_bound: rep.success_lower_bound(),
                matched_pass_ids: acc.matching.into_iter().map(|m| m.2).collect(),
                matched_fields: matched_fields(&query.criteria, &profile.fields),
            });
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
        if query.item.category.is_some() {
            e.eliminated.entry("category".into()).or_insert(0);
        }
        if query.item.max_price.is_some() {
            e.eliminated.entry("max_price".into()).or_insert(0);
        }
        e.holders_matching_item = matching_item;
        e.qualified = ranked.len() as u64;
        sort_ranked(&mut ranked);
        MatchOutcome {
            ranked,
            eliminations: e,
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
