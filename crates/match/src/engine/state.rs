//! The engine's volatile state: who holds which pass, and the holders'
//! reputations and fields. Built from a market by a full sync, or derived
//! from the previous state by an in-place change (new profiles, a holder's
//! supply replaced); either way the result is what a full sync of the same
//! market builds (proptests in `crate::tests` hold it to that).

use super::lexicon::Lexicon;
use crate::score::{Corpus, FIELDS};
use crate::{reputation_score, HolderProfile, Market};
use std::collections::HashMap;
use std::sync::Arc;
use symbolon_core::reputation::ReputationCounts;

/// The volatile state: replaced wholesale by a sync, or — for in-place
/// changes — rebuilt from the previous one, sharing the listings (`Arc`s)
/// when they did not change.
#[derive(Default, Clone)]
pub(super) struct State {
    /// Holders by dense index (with supply, or left without it by an
    /// in-place change: such a holder is not matched, counted or reported).
    pub holders: Vec<HolderProfile>,
    /// Reputation part of each holder's score.
    pub rep_scores: Vec<f64>,
    /// The best reputation score among each pass's holders, by pass key.
    pub pass_max_rep: Vec<f64>,
    /// The best reputation score of any holder with supply.
    pub max_rep: f64,
    /// Holders of each pass, by pass key, best reputation score first (ties:
    /// holder index), so expanding a pass can stop at the first holder that
    /// cannot make the cut.
    pub pass_holders: Arc<Vec<Arc<Vec<u32>>>>,
    /// Passes with at least one holder (the `n` of the idf weights).
    pub held_passes: u64,
    /// Sum of each field's length over the held passes.
    pub len_sum: [u64; FIELDS],
    /// Spec brand → how many held passes have it (the market's brands).
    pub brand_counts: Arc<HashMap<u32, u32>>,
    /// Passes of each holder, by holder index.
    pub holder_passes: Arc<Vec<Vec<u32>>>,
    pub holder_index: Arc<HashMap<String, u32>>,
}

impl State {
    /// The state of `market`, with pass keys from `keys` (listings of
    /// passes not in `keys` are left out).
    pub fn build(market: &Market, keys: &HashMap<String, u32>, lex: &Lexicon) -> State {
        let mut pass_holders = vec![Vec::new(); keys.len()];
        let mut holder_passes: Vec<Vec<u32>> = Vec::new();
        let mut holders = Vec::new();
        let mut holder_index = HashMap::new();
        for l in &market.listings {
            let Some(&key) = keys.get(&l.pass_id) else {
                continue;
            };
            let h = *holder_index.entry(l.holder_id.clone()).or_insert_with(|| {
                holders.push(
                    market
                        .holders
                        .get(&l.holder_id)
                        .cloned()
                        .unwrap_or_else(|| HolderProfile {
                            id: l.holder_id.clone(),
                            fields: vec![],
                            reputation: ReputationCounts::default(),
                        }),
                );
                holder_passes.push(Vec::new());
                holders.len() as u32 - 1
            });
            holder_passes[h as usize].push(key);
            pass_holders[key as usize].push(h);
        }
        for list in holder_passes.iter_mut().chain(pass_holders.iter_mut()) {
            list.sort_unstable();
            list.dedup();
            list.shrink_to_fit();
        }
        let held: Vec<u32> = (0..pass_holders.len() as u32)
            .filter(|k| !pass_holders[*k as usize].is_empty())
            .collect();
        let mut s = State {
            rep_scores: holders
                .iter()
                .map(|h| reputation_score(&h.reputation))
                .collect(),
            holders,
            pass_max_rep: vec![f64::NEG_INFINITY; pass_holders.len()],
            max_rep: 0.0,
            pass_holders: Arc::new(pass_holders.into_iter().map(Arc::new).collect()),
            held_passes: 0,
            len_sum: [0; FIELDS],
            brand_counts: Arc::new(HashMap::new()),
            holder_passes: Arc::new(holder_passes),
            holder_index: Arc::new(holder_index),
        };
        for k in held {
            s.count_pass(lex, k, true);
        }
        let all: Vec<u32> = (0..s.pass_holders.len() as u32).collect();
        s.refresh(all);
        s.held_passes = s.count_held();
        s
    }

    /// The statistics the scorer needs.
    pub fn corpus(&self) -> Corpus {
        Corpus {
            n: self.held_passes,
            len_sum: self.len_sum,
        }
    }

    /// Whether a token id is a market brand.
    pub fn is_brand(&self, id: u32) -> bool {
        self.brand_counts.contains_key(&id)
    }

    /// Adds (or removes) a pass that became (or stopped being) held to the statistics.
    fn count_pass(&mut self, lex: &Lexicon, key: u32, add: bool) {
        let Some(e) = lex.entry(key) else {
            return;
        };
        for f in 0..FIELDS {
            if add {
                self.len_sum[f] += e.len[f] as u64;
            } else {
                self.len_sum[f] -= e.len[f] as u64;
            }
        }
        if let Some(b) = e.spec_brand {
            let counts = Arc::make_mut(&mut self.brand_counts);
            if add {
                *counts.entry(b).or_insert(0) += 1;
            } else if let Some(c) = counts.get_mut(&b) {
                *c -= 1;
                if *c == 0 {
                    counts.remove(&b);
                }
            }
        }
    }

    /// Whether the pass with this key has a holder.
    pub fn holds(&self, key: u32) -> bool {
        self.pass_holders
            .get(key as usize)
            .is_some_and(|h| !h.is_empty())
    }

    /// This state with new reputations and fields of holders it has (others
    /// are skipped), sharing the listings; and how many it updated.
    pub fn with_profiles(&self, profiles: &[HolderProfile]) -> (State, usize) {
        let mut s = self.clone();
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
        s.refresh(touched);
        (s, updated)
    }

    /// This state with each given holder's profile set and its supply
    /// replaced by exactly the passes with these keys; `passes` is how many
    /// pass keys there now are (new documents may have been indexed).
    pub fn with_holdings(
        &self,
        holdings: &[(&HolderProfile, Vec<u32>)],
        passes: usize,
        lex: &Lexicon,
    ) -> State {
        let mut s = self.clone();
        // Passes whose held state may change, and whether each was held.
        let mut before: Vec<(u32, bool)> = holdings
            .iter()
            .flat_map(|(profile, keys)| {
                let old = s
                    .holder_index
                    .get(&profile.id)
                    .map(|h| s.holder_passes[*h as usize].clone())
                    .unwrap_or_default();
                old.into_iter().chain(keys.iter().copied())
            })
            .map(|k| (k, s.holds(k)))
            .collect();
        before.sort_unstable();
        before.dedup_by_key(|b| b.0);
        let pass_holders = Arc::make_mut(&mut s.pass_holders);
        let holder_passes = Arc::make_mut(&mut s.holder_passes);
        let holder_index = Arc::make_mut(&mut s.holder_index);
        // Never shrink (a concurrent sync may have seen more passes).
        let passes = passes.max(pass_holders.len());
        pass_holders.resize(passes, Arc::new(Vec::new()));
        s.pass_max_rep.resize(passes, f64::NEG_INFINITY);
        let mut touched: Vec<u32> = Vec::new();
        for (profile, keys) in holdings {
            let h = *holder_index.entry(profile.id.clone()).or_insert_with(|| {
                s.holders.push((*profile).clone());
                s.rep_scores.push(0.0);
                holder_passes.push(Vec::new());
                s.holders.len() as u32 - 1
            });
            s.holders[h as usize] = (*profile).clone();
            s.rep_scores[h as usize] = reputation_score(&profile.reputation);
            let mut keys = keys.clone();
            keys.sort_unstable();
            keys.dedup();
            for &k in &holder_passes[h as usize] {
                if keys.binary_search(&k).is_err() {
                    Arc::make_mut(&mut pass_holders[k as usize]).retain(|x| *x != h);
                }
            }
            for &k in &keys {
                let list = Arc::make_mut(&mut pass_holders[k as usize]);
                if !list.contains(&h) {
                    list.push(h);
                }
            }
            touched.extend(holder_passes[h as usize].iter().copied());
            touched.extend(keys.iter().copied());
            holder_passes[h as usize] = keys;
        }
        s.refresh(touched);
        s.held_passes = s.count_held();
        for (k, was) in before {
            let now = s.holds(k);
            if was != now {
                s.count_pass(lex, k, now);
            }
        }
        s
    }

    /// How many passes have a holder.
    fn count_held(&self) -> u64 {
        self.pass_holders.iter().filter(|h| !h.is_empty()).count() as u64
    }

    /// Re-sorts the holders of each pass in `touched` (the passes whose
    /// holders or holders' reputations changed) and recomputes their best
    /// reputation, and the best of any holder with supply.
    fn refresh(&mut self, mut touched: Vec<u32>) {
        touched.sort_unstable();
        touched.dedup();
        let rep = &self.rep_scores;
        let order = |a: &u32, b: &u32| rep[*b as usize].total_cmp(&rep[*a as usize]).then(a.cmp(b));
        let unsorted: Vec<u32> = touched
            .iter()
            .copied()
            .filter(|k| !self.pass_holders[*k as usize].is_sorted_by(|a, b| order(a, b).is_le()))
            .collect();
        if !unsorted.is_empty() {
            let pass_holders = Arc::make_mut(&mut self.pass_holders);
            for key in unsorted {
                Arc::make_mut(&mut pass_holders[key as usize]).sort_unstable_by(order);
            }
        }
        for key in touched {
            self.pass_max_rep[key as usize] = self.pass_holders[key as usize]
                .iter()
                .map(|h| self.rep_scores[*h as usize])
                .fold(f64::NEG_INFINITY, f64::max);
        }
        self.max_rep = self
            .rep_scores
            .iter()
            .zip(self.holder_passes.iter())
            .filter(|(_, p)| !p.is_empty())
            .map(|(r, _)| *r)
            .fold(0.0, f64::max);
    }
}
