//! `bench load --history N`: N past interactions written through the
//! [`Store`] trait (so triggers and reputation counters stay right), into the
//! database the servers use, after the market is built over the API and
//! before the load starts.
//!
//! Each past demand asks for a pass held by at least 2 holders, contacts 2 of
//! its holders, and both answer with an offer; demands lie in the last 30
//! days, spread over [`HISTORY_REQUESTERS`] requesters so none has more than
//! a few open at its `created_at` (the store checks the per-requester limit),
//! and every deadline is in the past. Ratings are not written: a rating needs
//! an accepted offer with a paid order (orders, payments, ledger rows), which
//! the store checks; past interactions and offers are what matching counts as
//! a holder's responsiveness.

use crate::bench_market::Built;
use crate::demo::register;
use anyhow::{Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use symbolon_api as api;
use symbolon_bench::progress::Progress;
use symbolon_client::Client;
use symbolon_core::clock::Timestamp;
use symbolon_core::ids::{prefix, IdGen};
use symbolon_core::limits::MIN_TTL_SECONDS;
use symbolon_core::state::InteractionStatus;
use symbolon_store::{DemandRecord, Interaction, NewOffer, Store};

/// Requester accounts the past demands are spread over.
pub const HISTORY_REQUESTERS: usize = 100;
/// Writers at once (each write is one transaction of the store; on SQLite they
/// share group commits).
const HISTORY_WRITERS: usize = 8;
/// Attempts of one write that SQLite refuses as busy (the server holds the lock).
const BUSY_ATTEMPTS: u32 = 50;
/// How far back the history starts.
const HISTORY_DAYS: i64 = 30;

/// Registers the [`HISTORY_REQUESTERS`] requesters of the past demands; their ids.
pub(crate) async fn register_requesters(api_url: &str) -> Result<Vec<String>> {
    let anon = Client::new(api_url)?;
    let mut ids = Vec::with_capacity(HISTORY_REQUESTERS);
    for r in 0..HISTORY_REQUESTERS {
        ids.push(
            register(&anon, &format!("Past Requester {r}"), api::Role::Requester)
                .await?
                .id,
        );
    }
    Ok(ids)
}

/// Writes `interactions` past interactions (rounded up to whole demands of 2)
/// by `requesters`, while no server runs on the database (a server's sweeper
/// would expire a past request before its offer is written).
pub(crate) async fn preload(
    store_url: &str,
    built: &Built,
    requesters: &[String],
    interactions: usize,
    seed: u64,
    progress: Progress,
) -> Result<usize> {
    let cfg = symbolon_server::ServerConfig {
        database_url: Some(store_url.to_string()),
        ..Default::default()
    };
    let store: Arc<dyn Store> = symbolon_server::open_store(&cfg)
        .await
        .context("opening the store for the history")?;
    // Holders of each pass.
    let mut held_by: Vec<Vec<usize>> = vec![Vec::new(); built.pass_ids.len()];
    for (h, ps) in built.holder_passes.iter().enumerate() {
        for &p in ps {
            held_by[p].push(h);
        }
    }
    let listings: Vec<usize> = built
        .holder_passes
        .iter()
        .flatten()
        .copied()
        .filter(|p| held_by[*p].len() >= 2)
        .collect();
    let demands = interactions.div_ceil(2);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let start = now - HISTORY_DAYS * 24 * 3600 * 1000;
    // Past demands end an hour before now at the latest.
    let span = (HISTORY_DAYS * 24 - 1) * 3600 * 1000;
    let step = (span / demands.max(1) as i64).max(1);
    let ids = IdGen::from_seed(seed ^ 0x4157);
    let plan = Arc::new(
        (0..demands)
            .map(|i| {
                let mut rng = StdRng::seed_from_u64(seed.wrapping_add(i as u64));
                let p = listings[rng.random_range(0..listings.len())];
                let hs = &held_by[p];
                let a = rng.random_range(0..hs.len());
                let b = (a + 1 + rng.random_range(0..hs.len() - 1)) % hs.len();
                (p, [hs[a], hs[b]])
            })
            .collect::<Vec<_>>(),
    );
    let before = interactions_counted(store.as_ref(), &built.holders).await?;
    let pb = progress.bar(demands as u64, "history (past demands)");
    let next = Arc::new(AtomicUsize::new(0));
    let holder_ids: Arc<Vec<String>> =
        Arc::new(built.holders.iter().map(|h| h.0.clone()).collect());
    let pass_ids = Arc::new(built.pass_ids.clone());
    let requesters = Arc::new(requesters.to_vec());
    let ids = Arc::new(ids);
    let mut tasks = tokio::task::JoinSet::new();
    // On SQLite the one writer commits concurrent writers' transactions in
    // groups (one fsync each), so several writers help there too.
    let writers = HISTORY_WRITERS;
    for _ in 0..writers {
        let (next, plan, store, pb) = (next.clone(), plan.clone(), store.clone(), pb.clone());
        let (holder_ids, pass_ids, requesters, ids) = (
            holder_ids.clone(),
            pass_ids.clone(),
            requesters.clone(),
            ids.clone(),
        );
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= plan.len() {
                    return Ok::<_, anyhow::Error>(());
                }
                let (p, hs) = plan[i];
                let created = Timestamp::from_millis(start + i as i64 * step);
                let deadline = created.plus_seconds(i64::from(MIN_TTL_SECONDS));
                let demand = DemandRecord {
                    id: ids.next(prefix::DEMAND),
                    requester_id: requesters[i % requesters.len()].clone(),
                    query: format!("past demand {i}"),
                    category: None,
                    max_price_minor: None,
                    currency: None,
                    min_positive_rate: None,
                    min_success_rate: None,
                    min_ratings: None,
                    fields: vec![],
                    min_holders: 2,
                    max_holders: 2,
                    ttl_seconds: i64::from(MIN_TTL_SECONDS),
                    deadline: deadline.millis(),
                    created_at: created.millis(),
                    accepted_offer_id: None,
                    waiting: false,
                    cancelled_at: None,
                };
                let requests: Vec<Interaction> = hs
                    .iter()
                    .enumerate()
                    .map(|(rank, &h)| Interaction {
                        id: ids.next(prefix::INTERACTION),
                        demand_id: demand.id.clone(),
                        holder_id: holder_ids[h].clone(),
                        rank: rank as i64 + 1,
                        status: InteractionStatus::Pending,
                        deadline,
                        matched_pass_ids: vec![pass_ids[p].clone()],
                        why: serde_json::json!({
                            "score": 1.0, "relevance": 1.0, "positive_lower_bound": 0.0,
                            "success_lower_bound": 0.0, "matched_fields": [],
                            "matched_pass_ids": [pass_ids[p]],
                        }),
                        created_at: created,
                        decided_at: None,
                        seq: 0,
                        decline_reason: None,
                    })
                    .collect();
                busy_retry(|| store.create_demand(&demand, &requests))
                    .await
                    .with_context(|| format!("writing past demand {i}"))?;
                for (k, r) in requests.iter().enumerate() {
                    let offer = NewOffer {
                        id: ids.next(prefix::OFFER),
                        interaction_id: r.id.clone(),
                        pass_id: pass_ids[p].clone(),
                        note: None,
                        created_at: created.plus_millis(1000 + k as i64),
                    };
                    busy_retry(|| store.create_offer(&offer))
                        .await
                        .with_context(|| format!("writing an offer of past demand {i}"))?;
                }
                pb.inc(1);
            }
        });
    }
    let mut result = Ok(());
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done.context("a history writer panicked").and_then(|r| r) {
            if result.is_ok() {
                result = Err(e);
            }
            tasks.abort_all();
        }
    }
    pb.finish_and_clear();
    let counted = match result {
        Ok(()) => interactions_counted(store.as_ref(), &built.holders).await,
        Err(e) => Err(e),
    };
    store.close().await;
    let added = counted? - before;
    if added != demands as u64 * 2 {
        anyhow::bail!(
            "the holders' reputation counts {added} new interactions, not the {} written",
            demands * 2
        );
    }
    Ok(demands * 2)
}

/// Interactions the store counts in the holders' reputations, all together.
async fn interactions_counted(store: &dyn Store, holders: &[(String, Client)]) -> Result<u64> {
    let now = Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
    );
    let mut n = 0;
    for (id, _) in holders {
        n += store.holder(id, now).await?.reputation.interactions;
    }
    Ok(n)
}

/// Runs `write` again while SQLite answers "database is locked" (the
/// transaction was rolled back, so trying again writes it once).
async fn busy_retry<T, F, Fut>(mut write: F) -> symbolon_store::StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = symbolon_store::StoreResult<T>>,
{
    let mut attempt = 0;
    loop {
        match write().await {
            Err(e)
                if attempt + 1 < BUSY_ATTEMPTS && e.to_string().contains("database is locked") =>
            {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            r => return r,
        }
    }
}
