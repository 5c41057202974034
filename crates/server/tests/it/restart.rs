//! Restarting on the same data dir loses nothing.

use crate::harness::*;
use std::sync::Arc;
use symbolon_client::api::*;
use symbolon_core::SystemClock;

#[tokio::test]
async fn restart_on_the_same_data_dir_keeps_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = TestServer::start_at(tmp.path(), Arc::new(SystemClock)).await;
    let (provider_id, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (a_id, a) = srv.account("A", &[Role::Holder]).await;
    let (b_id, _b) = srv.account("B", &[Role::Holder]).await;
    let (_, r) = srv.account("R", &[Role::Requester]).await;
    let prod = provider
        .create_product(&product(
            "E-reader 电子书阅读器",
            "electronics/readers",
            "129.00",
            4,
        ))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 700))
        .await
        .unwrap();
    provider.grant(&pass.id, &grant(&a_id)).await.unwrap();
    provider.grant(&pass.id, &grant(&b_id)).await.unwrap();
    a.set_holder_profile(&fields(&["electronics"]))
        .await
        .unwrap();
    r.set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    let d = r.create_demand(&demand("电子书")).await.unwrap();
    let i = a.inbox(None, None).await.unwrap().items.remove(0);
    let o = a
        .offer(
            &i.id,
            &CreateOffer {
                pass_id: pass.id.clone(),
                note: None,
            },
        )
        .await
        .unwrap();
    r.accept(&o.id).await.unwrap();
    let ord = r.create_order(&order(&o.id, 1, true)).await.unwrap();
    deliver(&provider, &r, &ord.id).await;
    r.rate(
        &o.id,
        &CreateRating {
            positive: true,
            comment: None,
        },
    )
    .await
    .unwrap();

    let before_demand = r.demand(&d.id).await.unwrap();
    let before_wallet = a.wallet().await.unwrap();
    let before_holder = srv.anon().holder(&a_id).await.unwrap();
    let before_jwks = srv.anon().jwks(&provider_id).await.unwrap();
    let before_pass = srv.anon().pass(&pass.id).await.unwrap();
    srv.stop().await;

    let srv = TestServer::start_at(tmp.path(), Arc::new(SystemClock)).await;
    // Old keys still work against the new process.
    let rebind = |c: &symbolon_client::Client| srv.anon().with_key(c.api_key().expect("key"));
    let (provider, a, r) = (rebind(&provider), rebind(&a), rebind(&r));
    let after_demand = r.demand(&d.id).await.unwrap();
    // Status may move from open only by time; the record is the same.
    assert_eq!(
        after_demand.offers,
        before_demand
            .offers
            .iter()
            .map(|o| {
                let mut o = o.clone();
                o.pass.url = o.pass.url.replace(before_url(&before_pass.url), &srv.url);
                o
            })
            .collect::<Vec<_>>()
    );
    assert_eq!(after_demand.contacted, before_demand.contacted);
    assert_eq!(
        a.wallet().await.unwrap().items.len(),
        before_wallet.items.len()
    );
    assert_eq!(srv.anon().holder(&a_id).await.unwrap(), before_holder);
    assert_eq!(srv.anon().jwks(&provider_id).await.unwrap(), before_jwks);
    assert_eq!(
        srv.anon().pass(&pass.id).await.unwrap().jws,
        before_pass.jws
    );
    assert_eq!(r.order(&ord.id).await.unwrap().status, "delivered");
    assert_eq!(balance_of(&provider).await.as_deref(), Some("119.97"));
    assert_eq!(balance_of(&a).await.as_deref(), Some("9.03"));
    assert_eq!(balance_of(&r).await.as_deref(), Some("-129.00"));
    assert_eq!(provider.product(&prod.id).await.unwrap().stock, 3);
    srv.stop().await;
}

fn before_url(pass_url: &str) -> &str {
    // "http://127.0.0.1:PORT/v1/passes/…" → "http://127.0.0.1:PORT"
    pass_url.split("/v1/").next().unwrap_or(pass_url)
}

/// The search index lives in the data dir: kept across a restart, and rebuilt
/// from the store when it is missing or unreadable — matching answers the same.
#[tokio::test]
async fn a_missing_or_broken_index_is_rebuilt_at_start_up() {
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("index");
    let srv = TestServer::start_at(tmp.path(), Arc::new(SystemClock)).await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (_, r) = srv.account("R", &[Role::Requester]).await;
    let mut holders = Vec::new();
    for name in ["A", "B", "C"] {
        holders.push(srv.account(name, &[Role::Holder]).await.0);
    }
    let prod = provider
        .create_product(&product(
            "Sony WH-1000XM5 无线降噪耳机",
            "electronics/audio",
            "299.00",
            9,
        ))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 700))
        .await
        .unwrap();
    for h in &holders {
        provider.grant(&pass.id, &grant(h)).await.unwrap();
    }
    let contacted = |d: DemandCreated| {
        let mut ids: Vec<String> = d.contacted.into_iter().map(|c| c.holder_id).collect();
        ids.sort();
        ids
    };
    let before = contacted(r.create_demand(&demand("降噪耳机")).await.unwrap());
    assert_eq!(before.len(), 3);
    assert!(
        index.join("meta.json").exists(),
        "the index is in the data dir"
    );
    srv.stop().await;

    for damage in ["kept", "deleted", "garbage"] {
        match damage {
            "deleted" => std::fs::remove_dir_all(&index).unwrap(),
            "garbage" => std::fs::write(index.join("meta.json"), b"not json").unwrap(),
            _ => {}
        }
        let srv = TestServer::start_at(tmp.path(), Arc::new(SystemClock)).await;
        let r = srv.anon().with_key(r.api_key().expect("key"));
        let after = contacted(r.create_demand(&demand("WH1000XM5")).await.unwrap());
        assert_eq!(after, before, "index {damage}: the same holders match");
        assert!(index.join("meta.json").exists());
        srv.stop().await;
    }
}
