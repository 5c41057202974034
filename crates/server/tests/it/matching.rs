//! Matching over HTTP: Chinese and model-number queries, freshness of the
//! engine after a rating, standing demands (`wait: true`) and their limits.

use crate::harness::*;
use crate::on_both_backends;
use std::time::{Duration, Instant};
use symbolon_client::api::*;
use symbolon_client::Client;
use symbolon_core::limits::MAX_WAITING_DEMANDS_PER_REQUESTER;

/// Polls `demand_id` until `done` holds (the sweeper re-matches every second); panics after 10 s.
async fn wait_for(c: &Client, demand_id: &str, done: impl Fn(&Demand) -> bool) -> Demand {
    let started = Instant::now();
    loop {
        let d = c.demand(demand_id).await.unwrap();
        if done(&d) {
            return d;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "demand {demand_id} never reached the expected state: {d:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn offer_of(pass_id: &str) -> CreateOffer {
    CreateOffer {
        pass_id: pass_id.to_string(),
        note: None,
    }
}

async fn standing_demand_waits_then_contacts_when_supply_arrives(backend: Backend) {
    let clock = manual_clock();
    let srv = TestServer::start_on(backend, clock.clone()).await;
    let (_, provider) = srv.account("索尼中国", &[Role::Provider]).await;
    let (h1_id, h1) = srv.account("Hana", &[Role::Holder]).await;
    let (h2_id, h2) = srv.account("Hugo", &[Role::Holder]).await;
    let (h3_id, h3) = srv.account("Hilde", &[Role::Holder]).await;
    let (_, requester) = srv.account("Ada", &[Role::Requester]).await;
    let headphones = provider
        .create_product(&product(
            "索尼 WH-1000XM5 无线降噪耳机",
            "electronics/audio/headphones",
            "2999.00",
            10,
        ))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&headphones.id, 800))
        .await
        .unwrap();
    provider.grant(&pass.id, &grant(&h1_id)).await.unwrap();

    // One holder qualifies, two are needed: without `wait` the demand is refused…
    assert_api_err(
        requester.create_demand(&demand("降噪耳机")).await,
        422,
        "insufficient_holders",
    );
    // …with it, the demand waits and nobody is contacted.
    let mut standing = demand("降噪耳机");
    standing.wait = Some(true);
    let created = requester.create_demand(&standing).await.unwrap();
    assert_eq!(created.status, "waiting");
    assert!(created.contacted.is_empty());
    let d = requester.demand(&created.id).await.unwrap();
    assert_eq!(d.status, "waiting");
    assert!(h1.inbox(None, None).await.unwrap().items.is_empty());

    // New supply: a second holder gets the pass; the demand is matched again
    // and both holders are asked, best first.
    provider.grant(&pass.id, &grant(&h2_id)).await.unwrap();
    let d = wait_for(&requester, &created.id, |d| d.status == "open").await;
    let mut contacted: Vec<&str> = d.contacted.iter().map(|c| c.holder_id.as_str()).collect();
    contacted.sort();
    let mut expected = vec![h1_id.as_str(), h2_id.as_str()];
    expected.sort();
    assert_eq!(contacted, expected);
    // The buyer is told (`demand.opened`, with how many holders were asked).
    let opened: Vec<Event> = schema_checked_events(&requester)
        .await
        .into_iter()
        .filter(|e| e.kind == "demand.opened")
        .collect();
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0].data["demand_id"], created.id.as_str());
    assert_eq!(opened[0].data["contacted"], 2);
    // Every query term in the title: a strong BM25F relevance (saturated, so below 1).
    assert!(d
        .contacted
        .iter()
        .all(|c| c.why.relevance > 0.5 && c.why.relevance < 1.0));

    // The holders answer; the offers reach the requester.
    for h in [&h1, &h2] {
        let inbox = h.inbox(None, None).await.unwrap();
        assert_eq!(inbox.items.len(), 1);
        h.offer(&inbox.items[0].id, &offer_of(&pass.id))
            .await
            .unwrap();
    }
    let d = requester.demand(&created.id).await.unwrap();
    assert_eq!(d.offers.len(), 2);

    // A model number written without its hyphen finds the pass.
    let by_model = requester.create_demand(&demand("WH1000XM5")).await.unwrap();
    assert_eq!(by_model.contacted.len(), 2);

    // A standing demand that never gets enough holders expires at its TTL,
    // and later supply no longer contacts anyone for it.
    let mut three = demand("降噪耳机");
    three.wait = Some(true);
    three.min_holders = Some(3);
    three.ttl_seconds = Some(60);
    let late = requester.create_demand(&three).await.unwrap();
    assert_eq!(late.status, "waiting");
    clock.advance_seconds(61);
    assert_eq!(requester.demand(&late.id).await.unwrap().status, "expired");
    provider.grant(&pass.id, &grant(&h3_id)).await.unwrap();
    // Let the sweeper run at least twice over the new market version.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let d = requester.demand(&late.id).await.unwrap();
    assert_eq!(d.status, "expired");
    assert!(d.contacted.is_empty());
    assert!(h3.inbox(None, None).await.unwrap().items.is_empty());
}

async fn a_rating_changes_the_ranking_at_once(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, provider) = srv.account("Acme", &[Role::Provider]).await;
    let (ha_id, ha) = srv.account("Holder A", &[Role::Holder]).await;
    let (hb_id, hb) = srv.account("Holder B", &[Role::Holder]).await;
    let (_, r1) = srv.account("First buyer", &[Role::Requester]).await;
    let (_, r2) = srv.account("Second buyer", &[Role::Requester]).await;
    let p = provider
        .create_product(&product("Espresso machine", "home/kitchen", "300.00", 10))
        .await
        .unwrap();
    let pass = provider.create_pass(&shareable(&p.id, 500)).await.unwrap();
    for h in [&ha_id, &hb_id] {
        provider.grant(&pass.id, &grant(h)).await.unwrap();
    }
    // Equal relevance, no reputation: ties go by holder id.
    let first = r1.create_demand(&demand("espresso")).await.unwrap();
    let order: Vec<String> = first
        .contacted
        .iter()
        .map(|c| c.holder_id.clone())
        .collect();
    let (leader, trailer) = (order[0].clone(), order[1].clone());
    assert_eq!(leader, ha_id.clone().min(hb_id.clone()));
    // The trailing holder answers and is rated positive…
    let trailing = if trailer == ha_id { &ha } else { &hb };
    let inbox = trailing.inbox(None, None).await.unwrap();
    let offer = trailing
        .offer(&inbox.items[0].id, &offer_of(&pass.id))
        .await
        .unwrap();
    let o = buy(&r1, &offer.id).await;
    deliver(&provider, &r1, &o.id).await;
    r1.rate(
        &offer.id,
        &CreateRating {
            positive: true,
            comment: None,
        },
    )
    .await
    .unwrap();
    // …and the very next demand ranks it first: no sleep, no restart (the
    // engine checks the store's market version before every match).
    let next = r2.create_demand(&demand("espresso")).await.unwrap();
    assert_eq!(next.contacted[0].holder_id, trailer);
    assert!(next.contacted[0].why.positive_lower_bound > 0.0);
}

on_both_backends!(
    standing_demand_waits_then_contacts_when_supply_arrives,
    a_rating_changes_the_ranking_at_once,
);

#[tokio::test]
async fn waiting_demands_are_limited_per_requester() {
    let srv = TestServer::start().await;
    let (_, requester) = srv.account("Ada", &[Role::Requester]).await;
    let (_, other) = srv.account("Bob", &[Role::Requester]).await;
    let mut d = demand("unobtainium");
    d.wait = Some(true);
    for _ in 0..MAX_WAITING_DEMANDS_PER_REQUESTER {
        let created = requester.create_demand(&d).await.unwrap();
        assert_eq!(created.status, "waiting");
    }
    assert_api_err(
        requester.create_demand(&d).await,
        429,
        "too_many_waiting_demands",
    );
    // The limit is per requester.
    assert_eq!(other.create_demand(&d).await.unwrap().status, "waiting");
}
