//! The matching engine kept up to the store: full syncs, in-place holder
//! updates, and the re-matching of standing demands.

use crate::error::{ExchangeError, ExchangeResult};
use crate::{Exchange, SyncMark};
use std::collections::HashMap;
use std::sync::Arc;
use symbolon_core::demand::{HolderCriteria, ItemSpec};
use symbolon_core::limits::*;
use symbolon_core::{Money, TaxonomyPath, Timestamp};
use symbolon_match::engine::SyncStats;
use symbolon_match::{HolderProfile, Listing, Market, MatchQuery, Matcher, PassDoc};
use symbolon_store::{self as store, Holding};

impl Exchange {
    /// Brings the matching engine up to the store's market version (a cheap
    /// read when nothing changed) and returns holder names. Every replica
    /// checks the shared version before matching, so a committed change is
    /// seen by the next demand anywhere.
    pub async fn fresh_market(&self) -> ExchangeResult<Arc<HashMap<String, String>>> {
        self.sync_engine(false).await.map(|(names, _)| names)
    }

    /// How many times this replica's engine re-read the whole market (at
    /// start-up, periodically, and when a change could not be applied in
    /// place): what the incremental path saves.
    pub async fn full_syncs(&self) -> u64 {
        self.sync.lock().await.full_syncs
    }

    /// The engine's state as of its last sync (never waits for one running).
    pub fn engine_status(&self) -> crate::EngineStatus {
        *self.engine_status.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the engine holds now: passes indexed, listings, holders.
    pub fn engine_counts(&self) -> symbolon_match::engine::EngineCounts {
        self.engine.counts()
    }

    fn set_engine_status(&self, f: impl FnOnce(&mut crate::EngineStatus)) {
        f(&mut self.engine_status.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Checks the engine's index against the store at start-up and brings it
    /// up to date (a missing index is rebuilt), logging the rate.
    pub async fn sync_index(&self) -> ExchangeResult<SyncStats> {
        let store_version = self.store.market_version().await?;
        let index_version = self.engine.indexed_version();
        let started = std::time::Instant::now();
        let (_, stats) = self.sync_engine(true).await?;
        let stats = stats.unwrap_or_default();
        let secs = started.elapsed().as_secs_f64().max(1e-6);
        tracing::info!(
            store_version,
            index_version = ?index_version,
            indexed = stats.indexed,
            passes = stats.passes,
            listings = stats.listings,
            holders = stats.holders,
            passes_per_second = (stats.indexed as f64 / secs) as u64,
            ms = (secs * 1000.0) as u64,
            "search index ready"
        );
        Ok(stats)
    }

    /// Syncs the engine (always when `force`), logging progress and rate.
    pub(crate) async fn sync_engine(
        &self,
        force: bool,
    ) -> ExchangeResult<(Arc<HashMap<String, String>>, Option<SyncStats>)> {
        let mut mark = self.sync.lock().await;
        let now = self.now();
        let version = self.store.market_version().await?;
        // A holding's validity ran out, or the last full read is old.
        let periodic = mark.stale_at.is_some_and(|t| now >= t)
            || mark
                .synced_at
                .is_none_or(|t| now.millis() - t.millis() >= MAX_MARKET_SYNC_AGE_MS);
        if !force && !periodic && mark.version == Some(version) {
            return Ok((mark.names.clone(), None));
        }
        // Only single holders changed since the last sync — reputations,
        // fields, or their grants: update those holders in place, without
        // re-reading the market.
        if let (false, false, Some(from)) = (force, periodic, mark.version) {
            if version > from && version - from <= MAX_INCREMENTAL_SYNC_VERSIONS {
                let changes = self.store.market_changes(from, version).await?;
                if changes.len() as i64 == version - from {
                    self.apply_changes(&mut mark, &changes, version, now)
                        .await?;
                    tracing::debug!(
                        from,
                        version,
                        changes = changes.len(),
                        "matching engine updated in place"
                    );
                    mark.version = Some(version);
                    self.set_engine_status(|s| s.version = Some(version));
                    return Ok((mark.names.clone(), None));
                }
            }
        }
        let started = std::time::Instant::now();
        let snapshot = self.store.market(now).await?;
        let market = market_of(&snapshot)?;
        let progress = |done: u64, total: u64| {
            if total >= 10_000 {
                let secs = started.elapsed().as_secs_f64().max(1e-9);
                tracing::info!(
                    done,
                    total,
                    per_second = (done as f64 / secs) as u64,
                    "indexing passes"
                );
            }
        };
        let stats = self
            .engine
            .sync_versioned(&market, version, &progress)
            .map_err(ExchangeError::internal)?;
        mark.version = Some(version);
        mark.synced_at = Some(now);
        mark.full_syncs += 1;
        let (full_syncs, took) = (mark.full_syncs, started.elapsed());
        self.set_engine_status(|s| {
            s.version = Some(version);
            s.full_syncs = full_syncs;
            s.last_rebuild = Some(took);
        });
        mark.stale_at = snapshot
            .holdings
            .iter()
            .filter_map(|h| h.pass.valid_until)
            .filter(|u| *u > now)
            .min();
        mark.names = Arc::new(
            snapshot
                .holders
                .iter()
                .map(|h| (h.id.clone(), h.name.clone()))
                .collect(),
        );
        tracing::debug!(
            version,
            indexed = stats.indexed,
            passes = stats.passes,
            listings = stats.listings,
            holders = stats.holders,
            ms = started.elapsed().as_millis() as u64,
            "matching engine synced"
        );
        Ok((mark.names.clone(), Some(stats)))
    }

    /// Applies logged holder changes to the engine: holders whose supply
    /// changed (a grant or its removal) get their usable holdings re-read and
    /// replaced (new pass documents are indexed); the others get their
    /// reputation and fields updated.
    async fn apply_changes(
        &self,
        mark: &mut SyncMark,
        changes: &[store::MarketChange],
        version: i64,
        now: Timestamp,
    ) -> ExchangeResult<()> {
        let mut ids: Vec<String> = changes.iter().map(|c| c.holder_id.clone()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut supply: Vec<String> = changes
            .iter()
            .filter(|c| c.supply)
            .map(|c| c.holder_id.clone())
            .collect();
        supply.sort_unstable();
        supply.dedup();
        let states = self.store.holders(&ids, now).await?;
        let (moved, kept): (Vec<_>, Vec<_>) = states
            .iter()
            .partition(|h| supply.binary_search(&h.id).is_ok());
        let profiles: Vec<HolderProfile> = kept.iter().map(|h| holder_profile_of(h)).collect();
        self.engine.update_holders(&profiles);
        if moved.is_empty() {
            return Ok(());
        }
        let holdings = self.store.holdings_of(&supply, now).await?;
        let mut docs: HashMap<&str, Vec<PassDoc>> = HashMap::new();
        for h in &holdings {
            docs.entry(h.holder_id.as_str())
                .or_default()
                .push(pass_doc_of(h)?);
        }
        let replaced: Vec<(HolderProfile, Vec<PassDoc>)> = moved
            .iter()
            .map(|h| {
                let passes = docs.remove(h.id.as_str()).unwrap_or_default();
                (holder_profile_of(h), passes)
            })
            .collect();
        self.engine
            .replace_holdings(&replaced, Some(version))
            .map_err(ExchangeError::internal)?;
        let mut names = (*mark.names).clone();
        for h in &moved {
            names.insert(h.id.clone(), h.name.clone());
        }
        mark.names = Arc::new(names);
        let soonest = holdings
            .iter()
            .filter_map(|h| h.pass.valid_until)
            .filter(|u| *u > now)
            .min();
        mark.stale_at = match (mark.stale_at, soonest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(())
    }

    /// Re-matches standing demands the market changed under since they were
    /// last looked at: each whose query now qualifies `min_holders` gets its
    /// interaction requests (once, even with several replicas). The work is
    /// bounded: at most [`MAX_REMATCH_PER_SWEEP`] demands per call, those
    /// checked longest ago first, so however many demands wait, a market
    /// change costs a bounded amount per sweep and every demand gets its turn
    /// within `waiting / MAX_REMATCH_PER_SWEEP` sweeps. Returns how many
    /// demands were activated.
    pub async fn rematch_waiting(&self) -> ExchangeResult<u64> {
        let now = self.now();
        let waiting = self.store.waiting_demands(now).await?;
        if waiting.is_empty() {
            self.sync.lock().await.rematched.clear();
            return Ok(0);
        }
        self.fresh_market().await?;
        let (version, due) = {
            let mut mark = self.sync.lock().await;
            let Some(version) = mark.version else {
                return Ok(0);
            };
            let live: std::collections::HashSet<&str> =
                waiting.iter().map(|d| d.id.as_str()).collect();
            mark.rematched.retain(|id, _| live.contains(id.as_str()));
            // Not yet checked at this version; never checked first, then the
            // longest ago, then the oldest demand (`waiting` is oldest first).
            let mut due: Vec<(Option<i64>, usize)> = waiting
                .iter()
                .enumerate()
                .filter_map(|(i, d)| match mark.rematched.get(&d.id) {
                    Some(v) if *v == version => None,
                    seen => Some((seen.copied(), i)),
                })
                .collect();
            due.sort();
            due.truncate(MAX_REMATCH_PER_SWEEP);
            for (_, i) in &due {
                mark.rematched.insert(waiting[*i].id.clone(), version);
            }
            (version, due)
        };
        let mut activated = 0;
        for (_, i) in due {
            let d = &waiting[i];
            let query = MatchQuery {
                item: item_of(d)?,
                criteria: criteria_of(d)?,
                exclude_holder: Some(d.requester_id.clone()),
                floor: symbolon_match::score::DEFAULT_FLOOR,
            };
            let ranked = self.engine.rank(&query, d.max_holders as usize);
            if (ranked.len() as i64) < d.min_holders {
                continue;
            }
            let deadline = Timestamp::from_millis(d.deadline);
            let requests = self.requests_for(&d.id, &ranked, deadline, now);
            let entry =
                crate::tlog::entry_of(d, true, crate::tlog::Outcome::Contacted(&ranked), now)?;
            if self
                .store
                .activate_demand_logged(&d.id, &requests, now, Some(&entry))
                .await?
            {
                activated += 1;
                metrics::counter!(crate::metrics::STANDING_MATCHED).increment(1);
                metrics::histogram!(crate::metrics::HOLDERS_CONTACTED)
                    .record(requests.len() as f64);
                tracing::info!(demand_id = %d.id, contacted = requests.len(), version, "standing demand matched");
            }
        }
        if activated > 0 {
            // Activated demands wrote interaction requests, which are events.
            self.hub.kick();
        }
        Ok(activated)
    }
}

pub(crate) fn criteria_of(d: &store::DemandRecord) -> ExchangeResult<HolderCriteria> {
    Ok(HolderCriteria {
        min_positive_rate: d.min_positive_rate,
        min_success_rate: d.min_success_rate,
        min_ratings: d.min_ratings.map(|r| r as u64),
        fields: d
            .fields
            .iter()
            .map(|f| TaxonomyPath::parse(f, "fields"))
            .collect::<Result<_, _>>()
            .map_err(ExchangeError::internal)?,
    })
}

pub(crate) fn item_of(d: &store::DemandRecord) -> ExchangeResult<ItemSpec> {
    let category = d
        .category
        .as_deref()
        .map(|c| TaxonomyPath::parse(c, "category"))
        .transpose()
        .map_err(ExchangeError::internal)?;
    let max_price = match (d.max_price_minor, &d.currency) {
        (Some(m), Some(c)) => Some(Money::new(
            m,
            symbolon_core::Currency::parse(c).map_err(ExchangeError::internal)?,
        )),
        _ => None,
    };
    Ok(ItemSpec {
        query: d.query.clone(),
        category,
        max_price,
    })
}

pub(crate) fn pass_doc_of(h: &Holding) -> ExchangeResult<PassDoc> {
    Ok(PassDoc {
        pass_id: h.pass.id.clone(),
        title: h.product.title.clone(),
        description: h.product.description.clone(),
        specs: h.product.specs.clone(),
        category: TaxonomyPath::parse(&h.product.category, "category")
            .map_err(ExchangeError::internal)?,
        price: Money::new(
            h.product.price_minor,
            symbolon_core::Currency::parse(&h.product.currency).map_err(ExchangeError::internal)?,
        ),
    })
}

/// A holder as the matcher sees it (fields that no longer parse are dropped).
pub(crate) fn holder_profile_of(h: &store::HolderState) -> HolderProfile {
    HolderProfile {
        id: h.id.clone(),
        fields: h
            .fields
            .iter()
            .filter_map(|f| TaxonomyPath::parse(f, "fields").ok())
            .collect(),
        reputation: h.reputation,
    }
}

pub(crate) fn market_of(s: &store::MarketSnapshot) -> ExchangeResult<Market> {
    let mut passes = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for h in &s.holdings {
        if seen.insert(h.pass.id.as_str()) {
            passes.push(pass_doc_of(h)?);
        }
    }
    let listings = s
        .holdings
        .iter()
        .map(|h| Listing {
            holder_id: h.holder_id.clone(),
            pass_id: h.pass.id.clone(),
        })
        .collect();
    let holders = s
        .holders
        .iter()
        .map(|h| (h.id.clone(), holder_profile_of(h)))
        .collect();
    Ok(Market {
        passes,
        listings,
        holders,
    })
}
