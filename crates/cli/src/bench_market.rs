//! The market of `bench load`, built over the API: the seeded synthetic market
//! of `bench match` ([`symbolon_bench::market`]); one provider makes a product
//! and a shareable pass per pass and grants it to its holders (Zipf-like
//! holdings); holders register on replica `h % n` and set their fields.

use crate::bench_load::{LoadArgs, SETUP_CONCURRENCY};
use crate::bench_servers::lock;
use crate::demo::register;
use anyhow::{bail, Context, Result};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use symbolon_api as api;
use symbolon_bench::market::generate;
use symbolon_bench::progress::Progress;
use symbolon_client::Client;

/// The market as the API knows it.
pub(crate) struct Built {
    /// Titles to ask for, one per listing of a pass held by at least 2 holders
    /// (so popular passes are asked for as often as they are held).
    pub(crate) demandable: Vec<String>,
    /// Each holder's account id and client.
    pub(crate) holders: Vec<(String, Client)>,
    /// Store id of each market pass (`p{i}` → index i).
    pub(crate) pass_ids: Vec<String>,
    /// The passes each holder holds (indices into `pass_ids`).
    pub(crate) holder_passes: Vec<Vec<usize>>,
}

/// One result of a parallel setup step, filled in by its task.
pub(crate) type Slot<T> = Mutex<Option<T>>;

/// Runs `f(i)` for every `i < n`, `conc` at a time; the first error wins.
pub(crate) async fn par_for<F, Fut>(
    n: usize,
    conc: usize,
    pb: &indicatif::ProgressBar,
    f: F,
) -> Result<()>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let f = Arc::new(f);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..conc.min(n.max(1)) {
        let (next, f, pb) = (next.clone(), f.clone(), pb.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(());
                }
                f(i).await?;
                pb.inc(1);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.context("a setup task panicked")??;
    }
    Ok(())
}

pub(crate) async fn build_market(
    urls: &[String],
    args: &LoadArgs,
    progress: Progress,
) -> Result<(Built, usize)> {
    let passes = args.passes.unwrap_or(args.listings / 4).max(1);
    let (market, _) = generate(args.seed, args.listings, args.holders, passes, 0);
    let anon = Client::new(&urls[0])?;
    let provider = register(&anon, "Load Maker", api::Role::Provider)
        .await?
        .client;
    let pass_ids: Arc<Vec<Mutex<String>>> =
        Arc::new((0..market.passes.len()).map(|_| Mutex::default()).collect());
    let docs = Arc::new(market.passes.clone());
    let pb = progress.bar(docs.len() as u64, "products and passes");
    {
        let (docs, pass_ids, provider) = (docs.clone(), pass_ids.clone(), provider.clone());
        par_for(docs.len(), SETUP_CONCURRENCY, &pb, move |i| {
            let (docs, pass_ids, provider) = (docs.clone(), pass_ids.clone(), provider.clone());
            async move {
                let d = &docs[i];
                let product = provider
                    .create_product(&api::CreateProduct {
                        title: d.title.clone(),
                        description: d.description.clone(),
                        category: d.category.to_string(),
                        specs: d.specs.iter().cloned().collect(),
                        price: api::Money::new(
                            format!("{}.{:02}", d.price.minor / 100, d.price.minor % 100),
                            "USD",
                        ),
                        stock: symbolon_core::limits::MAX_STOCK,
                        gtin: None,
                    })
                    .await
                    .with_context(|| format!("creating product {i}"))?;
                let pass = provider
                    .create_pass(&api::CreatePass {
                        product_id: product.id,
                        mode: api::PassMode::Shareable,
                        units: None,
                        commission_bps: 500,
                        valid_until: None,
                    })
                    .await
                    .with_context(|| format!("creating pass {i}"))?;
                *lock(&pass_ids[i]) = pass.id;
                Ok(())
            }
        })
        .await?;
    }
    pb.finish_and_clear();
    let pass_ids: Vec<String> = pass_ids.iter().map(|m| lock(m).clone()).collect();

    // Holders: every market holder, on replica h % n.
    let mut profiles: Vec<_> = market.holders.values().cloned().collect();
    profiles.sort_by_key(|p| p.id[1..].parse::<usize>().unwrap_or(usize::MAX));
    let holders: Arc<Vec<Slot<(String, Client)>>> =
        Arc::new((0..profiles.len()).map(|_| Mutex::default()).collect());
    let profiles = Arc::new(profiles);
    let pb = progress.bar(profiles.len() as u64, "holders");
    {
        let (profiles, holders) = (profiles.clone(), holders.clone());
        let urls = urls.to_vec();
        par_for(profiles.len(), SETUP_CONCURRENCY, &pb, move |h| {
            let (profiles, holders) = (profiles.clone(), holders.clone());
            let url = urls[h % urls.len()].clone();
            async move {
                let anon = Client::new(&url)?;
                let acct = register(&anon, &format!("Load Holder {h}"), api::Role::Holder).await?;
                acct.client
                    .set_holder_profile(&api::HolderProfileUpdate {
                        fields: profiles[h].fields.iter().map(|f| f.to_string()).collect(),
                    })
                    .await?;
                *lock(&holders[h]) = Some((acct.id, acct.client));
                Ok(())
            }
        })
        .await?;
    }
    pb.finish_and_clear();
    let holders: Vec<(String, Client)> = holders
        .iter()
        .map(|m| lock(m).clone().context("a holder was not registered"))
        .collect::<Result<_>>()?;

    let index = |id: &str| id[1..].parse::<usize>().unwrap_or(0);
    let pairs: Arc<Vec<(usize, usize)>> = Arc::new(
        market
            .listings
            .iter()
            .map(|l| (index(&l.holder_id), index(&l.pass_id)))
            .collect(),
    );
    let mut holder_passes = vec![Vec::new(); holders.len()];
    let mut held_by = vec![0usize; pass_ids.len()];
    for &(h, p) in pairs.iter() {
        holder_passes[h].push(p);
        held_by[p] += 1;
    }
    let pb = progress.bar(pairs.len() as u64, "listings (grants)");
    {
        let (pairs, ids) = (pairs.clone(), Arc::new(pass_ids.clone()));
        let holder_ids: Arc<Vec<String>> = Arc::new(holders.iter().map(|h| h.0.clone()).collect());
        par_for(pairs.len(), SETUP_CONCURRENCY, &pb, move |i| {
            let (pairs, ids, holder_ids, provider) = (
                pairs.clone(),
                ids.clone(),
                holder_ids.clone(),
                provider.clone(),
            );
            async move {
                let (h, p) = pairs[i];
                provider
                    .grant(
                        &ids[p],
                        &api::CreateGrant {
                            holder_id: holder_ids[h].clone(),
                            units: None,
                        },
                    )
                    .await
                    .with_context(|| format!("granting listing {i}"))?;
                Ok(())
            }
        })
        .await?;
    }
    pb.finish_and_clear();
    // Demands ask for popular passes as often as they are held (a listing drawn
    // at random), among passes held by at least 2 holders.
    let demandable: Vec<String> = pairs
        .iter()
        .filter(|(_, p)| held_by[*p] >= 2)
        .map(|(_, p)| docs[*p].title.clone())
        .collect();
    if demandable.is_empty() {
        bail!("no pass is held by 2 holders: raise --listings or lower --passes");
    }
    Ok((
        Built {
            demandable,
            holders,
            pass_ids,
            holder_passes,
        },
        docs.len(),
    ))
}
