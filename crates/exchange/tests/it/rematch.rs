//! Standing demands cost bounded work per market change.

use crate::Fixture;
use std::collections::BTreeMap;
use symbolon_api as api;
use symbolon_core::limits::{MAX_REMATCH_PER_SWEEP, MAX_WAITING_DEMANDS_PER_REQUESTER};

/// 120 standing demands wait; one grant makes them all matchable. Each sweep
/// re-matches at most `MAX_REMATCH_PER_SWEEP` of them (the rest wait their
/// turn), every demand is activated exactly once within a few sweeps, and a
/// sweep with no market change does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_market_change_rematches_standing_demands_in_bounded_batches() {
    let f = Fixture::new(7).await;
    let x = &f.exchange;
    let provider = f.account("Maker", &[api::Role::Provider]).await;
    let h1 = f.account("Hana", &[api::Role::Holder]).await;
    let h2 = f.account("Hugo", &[api::Role::Holder]).await;
    let product = x
        .create_product(
            &provider,
            &api::CreateProduct {
                title: "Burr coffee grinder".into(),
                description: "Conical burrs".into(),
                category: "home/kitchen".into(),
                specs: Default::default(),
                price: api::Money {
                    amount: "80.00".into(),
                    currency: "USD".into(),
                },
                stock: 1_000,
                gtin: None,
            },
        )
        .await
        .expect("product");
    let pass = x
        .create_pass(
            &provider,
            &api::CreatePass {
                product_id: product.id.clone(),
                mode: api::PassMode::Shareable,
                units: None,
                commission_bps: 500,
                valid_until: None,
            },
        )
        .await
        .expect("pass");
    let grant = |h: &str| api::CreateGrant {
        holder_id: h.into(),
        units: None,
    };
    x.grant(&provider, &pass.id, &grant(&h1.id))
        .await
        .expect("grant");
    const REQUESTERS: usize = 6;
    let mut ids = Vec::new();
    for r in 0..REQUESTERS {
        let requester = f.account(&format!("R{r}"), &[api::Role::Requester]).await;
        for _ in 0..MAX_WAITING_DEMANDS_PER_REQUESTER {
            let d = x
                .create_demand(
                    &requester,
                    &api::CreateDemand {
                        query: "coffee grinder".into(),
                        category: None,
                        max_price: None,
                        holder: Default::default(),
                        min_holders: None,
                        max_holders: None,
                        ttl_seconds: Some(3600),
                        wait: Some(true),
                    },
                )
                .await
                .expect("a standing demand");
            assert_eq!(d.status, "waiting");
            ids.push(d.id);
        }
    }
    let total = ids.len() as u64;
    // Nothing to do while the market is as it was.
    assert_eq!(x.rematch_waiting().await.expect("sweep"), 0);
    // The second holder arrives: every demand can now be matched.
    x.grant(&provider, &pass.id, &grant(&h2.id))
        .await
        .expect("grant");
    let mut per_sweep = Vec::new();
    let mut done = 0;
    while done < total {
        let n = x.rematch_waiting().await.expect("sweep");
        assert!(
            n as usize <= MAX_REMATCH_PER_SWEEP,
            "a sweep re-matched {n} demands"
        );
        assert!(n > 0, "every sweep makes progress: {per_sweep:?}");
        per_sweep.push(n);
        done += n;
    }
    assert_eq!(done, total, "{per_sweep:?}");
    assert_eq!(
        per_sweep.len(),
        (total as usize).div_ceil(MAX_REMATCH_PER_SWEEP),
        "{per_sweep:?}"
    );
    assert_eq!(x.rematch_waiting().await.expect("sweep"), 0, "all done");
    // Each demand contacted both holders exactly once.
    let requests_per_demand: BTreeMap<String, usize> = {
        let mut m = BTreeMap::new();
        for h in [&h1, &h2] {
            let mut after = None;
            loop {
                let page = x
                    .inbox(h, after.as_deref(), Some(200))
                    .await
                    .expect("inbox");
                for i in &page.items {
                    *m.entry(i.demand_id.clone()).or_insert(0) += 1;
                }
                match page.next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
        }
        m
    };
    assert_eq!(requests_per_demand.len(), ids.len());
    assert!(requests_per_demand.values().all(|n| *n == 2));
}
