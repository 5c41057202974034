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
    let pass = f.grinder_pass(&provider).await;
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
                    .inbox(h, false, after.as_deref(), Some(200))
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
    // Each activation is in the selection log, naming both holders; waiting logged nothing.
    assert_eq!(x.store().log_size().await.expect("log size"), total as i64);
    for id in &ids {
        let e = x
            .store()
            .log_entry_of_demand(id)
            .await
            .expect("entry")
            .expect("logged");
        assert!(
            e.body.contains(&h1.id) && e.body.contains(&h2.id),
            "{}",
            e.body
        );
        assert!(e.body.contains("\"standing\":true"), "{}", e.body);
    }
}

/// Holders answering and being rated update the engine in place (no re-read
/// of the market); what it ranks then is exactly what a full re-sync of the
/// same store ranks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_place_updates_rank_as_a_full_resync_does() {
    let f = Fixture::new(11).await;
    let x = &f.exchange;
    let provider = f.account("Maker", &[api::Role::Provider]).await;
    let pass = f.grinder_pass(&provider).await;
    let mut holders = Vec::new();
    for i in 0..6 {
        let h = f.account(&format!("H{i}"), &[api::Role::Holder]).await;
        x.grant(
            &provider,
            &pass.id,
            &api::CreateGrant {
                holder_id: h.id.clone(),
                units: None,
            },
        )
        .await
        .expect("grant");
        holders.push(h);
    }
    let buyer = f.account("Buyer", &[api::Role::Requester]).await;
    x.set_requester_profile(
        &buyer,
        &api::RequesterProfileUpdate {
            ship_to: Some(api::Address {
                name: "B".into(),
                line1: "1 Road".into(),
                line2: None,
                city: "Lyon".into(),
                postal_code: "69001".into(),
                country: "FR".into(),
            }),
            payment_method: Some(api::PaymentMethodInput {
                kind: "sandbox_card".into(),
                number: "4242424242424242".into(),
            }),
        },
    )
    .await
    .expect("profile");
    let ask = |max: u32| api::CreateDemand {
        query: "coffee grinder".into(),
        category: None,
        max_price: None,
        holder: Default::default(),
        min_holders: None,
        max_holders: Some(max),
        ttl_seconds: Some(600),
        wait: None,
    };
    // Rounds of demands: some holders answer (and the buyer buys and rates),
    // some decline; each round changes only holders' reputations.
    for round in 0..4 {
        let d = x.create_demand(&buyer, &ask(6)).await.expect("demand");
        let mut answered = None;
        for (k, c) in d.contacted.iter().enumerate() {
            let h = holders
                .iter()
                .find(|h| h.id == c.holder_id)
                .expect("holder");
            if (k + round) % 3 == 0 {
                x.decline(h, &c.interaction_id, None)
                    .await
                    .expect("decline");
            } else if answered.is_none() {
                let o = x
                    .offer(
                        h,
                        &c.interaction_id,
                        &api::CreateOffer {
                            pass_id: pass.id.clone(),
                            note: None,
                        },
                    )
                    .await
                    .expect("offer");
                answered = Some(o.id);
            }
        }
        let offer = answered.expect("an answer");
        x.accept_offer(&buyer, &offer).await.expect("accept");
        let order = x
            .create_order(
                &buyer,
                &api::CreateOrder {
                    offer_id: offer.clone(),
                    quantity: 1,
                    pay: true,
                    ship_to: None,
                },
            )
            .await
            .expect("order");
        // A buyer rates once the order is delivered.
        x.ship_order(&provider, &order.id, None)
            .await
            .expect("ship");
        x.confirm_delivery(&buyer, &order.id)
            .await
            .expect("deliver");
        x.rate(
            &buyer,
            &offer,
            &api::CreateRating {
                positive: round % 2 == 0,
                comment: None,
            },
        )
        .await
        .expect("rate");
    }
    // The engine followed in place; a forced full re-sync must agree.
    let order_of = |d: &api::DemandCreated| {
        d.contacted
            .iter()
            .map(|c| (c.holder_id.clone(), c.why.score.to_bits()))
            .collect::<Vec<_>>()
    };
    // A demand syncs the engine after the purchases (stock moved: a full
    // read); its holders' answers and declines change only reputations, so
    // the next demand updates them in place.
    let other = f.account("Other", &[api::Role::Requester]).await;
    let d = x.create_demand(&other, &ask(6)).await.expect("demand");
    for (k, c) in d.contacted.iter().enumerate() {
        let h = holders
            .iter()
            .find(|h| h.id == c.holder_id)
            .expect("holder");
        if k % 2 == 0 {
            x.decline(h, &c.interaction_id, None)
                .await
                .expect("decline");
        } else {
            x.offer(
                h,
                &c.interaction_id,
                &api::CreateOffer {
                    pass_id: pass.id.clone(),
                    note: None,
                },
            )
            .await
            .expect("offer");
        }
    }
    // Fewer holders than qualify: which ones make the cut depends on the
    // engine's per-holder scores, not only on the final sort.
    let incremental = x.create_demand(&other, &ask(2)).await.expect("demand");
    x.sync_index().await.expect("full re-sync");
    let full = x.create_demand(&other, &ask(2)).await.expect("demand");
    assert_eq!(order_of(&incremental), order_of(&full));
    assert_eq!(incremental.contacted.len(), 2);
}
