//! The engine's volatile state: who holds which pass, and the holders'
//! reputations and fields. Built from a market by a full sync, or derived
//! from the previous state by an in-place change (new profiles, a holder's
//! supply replaced); either way the result is what a full sync of the same
//! market builds (proptests in `crate::tests` hold it to that).

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
    /// Holders of each pass, by pass key.
    pub pass_holders: Arc<Vec<Vec<u32>>>,
    /// Passes with at least one holder (the `n` of the idf weights).
    pub held_passes: u64,
    /// Passes of each holder, by holder index.
    pub holder_passes: Arc<Vec<Vec<u32>>>,
    pub holder_index: Arc<HashMap<String, u32>>,
}

impl State {
    /// The state of `market`, with pass keys from `keys` (listings of
    /// passes not in `keys` are left out).
    pub fn build(market: &Market, keys: &HashMap<String, u32>) -> State {
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
        let mut s = State {
            rep_scores: holders
                .iter()
                .map(|h| reputation_score(&h.reputation))
                .collect(),
            holders,
            pass_max_rep: vec![f64::NEG_INFINITY; pass_holders.len()],
            max_rep: 0.0,
            pass_holders: Arc::new(pass_holders),
            held_passes: 0,
            holder_passes: Arc::new(holder_passes),
            holder_index: Arc::new(holder_index),
        };
        let all: Vec<u32> = (0..s.pass_holders.len() as u32).collect();
        s.refresh(all);
        s.held_passes = s.count_held();
        s
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
    pub fn with_holdings(&self, holdings: &[(&HolderProfile, Vec<u32>)], passes: usize) -> State {
        let mut s = self.clone();
        let pass_holders = Arc::make_mut(&mut s.pass_holders);
        let holder_passes = Arc::make_mut(&mut s.holder_passes);
        let holder_index = Arc::make_mut(&mut s.holder_index);
        pass_holders.resize(passes, Vec::new());
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
        s.refresh(touched);
        s.held_passes = s.count_held();
        s
    }

    /// How many passes have a holder.
    fn count_held(&self) -> u64 {
        self.pass_holders.iter().filter(|h| !h.is_empty()).count() as u64
    }

    /// Recomputes the best reputation of each pass in `touched` (the passes
    /// whose holders or holders' reputations changed) and of any holder with
    /// supply.
    fn refresh(&mut self, mut touched: Vec<u32>) {
        touched.sort_unstable();
        touched.dedup();
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
