//! `Idempotency-Key` over HTTP (Stripe semantics): a retried POST replays the
//! first answer instead of ordering twice; other parameters under the same
//! key are refused; concurrent duplicates run once; keys are per account.

use crate::harness::*;
use crate::on_both_backends;
use symbolon_client::api::*;
use symbolon_client::Client;

async fn post(
    http: &reqwest::Client,
    url: &str,
    api_key: &str,
    idem: Option<&str>,
    body: &serde_json::Value,
) -> (u16, Option<String>, serde_json::Value) {
    let mut r = http.post(url).bearer_auth(api_key).json(body);
    if let Some(k) = idem {
        r = r.header("Idempotency-Key", k);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let replayed = resp
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap().to_string());
    (status, replayed, resp.json().await.unwrap())
}

async fn a_retried_post_replays_and_never_orders_twice(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (_, buyer) = srv.account("Ada", &[Role::Requester]).await;
    let (_, other) = srv.account("Bea", &[Role::Requester]).await;
    let prod = provider
        .create_product(&product("Kettle", "home/kitchen", "30.00", 50))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 100))
        .await
        .unwrap();
    buyer
        .set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    other
        .set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/v1/passes/{}/orders", srv.url, pass.id);
    let bk = buyer.api_key().unwrap();
    let body = serde_json::json!({"quantity": 2, "pay": true});

    let (s1, r1, o1) = post(&http, &url, bk, Some("order-0001"), &body).await;
    assert_eq!((s1, r1.as_deref()), (201, None));
    let (s2, r2, o2) = post(&http, &url, bk, Some("order-0001"), &body).await;
    assert_eq!(
        (s2, r2.as_deref()),
        (201, Some("true")),
        "the retry replays"
    );
    assert_eq!(o1, o2, "the same order, byte for byte");
    assert_eq!(
        buyer.orders(None, None, None).await.unwrap().items.len(),
        1,
        "ordered once"
    );
    assert_eq!(
        provider.product(&prod.id).await.unwrap().stock,
        48,
        "stock taken once"
    );
    assert_eq!(
        balance_of(&buyer).await.as_deref(),
        Some("-60.00"),
        "paid once"
    );
    // Other parameters under the same key: refused, nothing done.
    let (s3, _, e3) = post(
        &http,
        &url,
        bk,
        Some("order-0001"),
        &serde_json::json!({"quantity": 3, "pay": true}),
    )
    .await;
    assert_eq!(
        (s3, e3["error"]["code"].as_str()),
        (409, Some("idempotency_error"))
    );
    assert_eq!(buyer.orders(None, None, None).await.unwrap().items.len(), 1);
    // Keys are per account: another buyer's identical key is its own request.
    let (s4, r4, o4) = post(
        &http,
        &url,
        other.api_key().unwrap(),
        Some("order-0001"),
        &body,
    )
    .await;
    assert_eq!((s4, r4), (201, None));
    assert_ne!(o4["id"], o1["id"]);
    // Client errors are answered the same way again.
    let bad = serde_json::json!({"quantity": 0});
    let (s5, r5, e5) = post(&http, &url, bk, Some("order-0002"), &bad).await;
    let (s6, r6, e6) = post(&http, &url, bk, Some("order-0002"), &bad).await;
    assert_eq!((s5, s6, r5, r6.as_deref()), (400, 400, None, Some("true")));
    assert_eq!(e5, e6);
    // A malformed key.
    let (s7, _, e7) = post(&http, &url, bk, Some("has space"), &body).await;
    assert_eq!(
        (s7, e7["error"]["details"]["field"].as_str()),
        (400, Some("Idempotency-Key"))
    );
    // Without a key, every POST is a new request.
    post(&http, &url, bk, None, &body).await;
    post(&http, &url, bk, None, &body).await;
    assert_eq!(buyer.orders(None, None, None).await.unwrap().items.len(), 3);

    // Ten identical requests at once: one runs; the others replay it or are told it is running.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (http, url, bk, body) = (http.clone(), url.clone(), bk.to_string(), body.clone());
        tasks.push(tokio::spawn(async move {
            post(&http, &url, &bk, Some("order-burst"), &body).await
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let (status, _, v) = t.await.unwrap();
        match status {
            201 => {
                ids.insert(v["id"].as_str().unwrap().to_string());
            }
            409 => assert_eq!(v["error"]["code"], "idempotency_error"),
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert_eq!(ids.len(), 1, "one order for the burst");
    assert_eq!(buyer.orders(None, None, None).await.unwrap().items.len(), 4);
    assert_eq!(
        provider.product(&prod.id).await.unwrap().stock,
        50 - 2 - 2 - 4 - 2
    );
}

/// A crash after a request's transaction committed but before its answer was
/// stored leaves the key unanswered (simulated by deleting the stored
/// answers): the retry runs again, makes the same ids, finds what the first
/// run created and answers it. Nothing is done twice.
async fn a_request_cut_off_after_its_commit_is_not_done_twice(backend: Backend) {
    let srv = TestServer::configured(
        backend,
        std::sync::Arc::new(symbolon_core::SystemClock),
        |c| c.allow_private_webhooks = true,
    )
    .await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (h1_id, h1) = srv.account("Hana", &[Role::Holder]).await;
    let (h2_id, _h2) = srv.account("Hugo", &[Role::Holder]).await;
    let (_, buyer) = srv.account("Ada", &[Role::Requester]).await;
    let prod = provider
        .create_product(&product("Kettle", "home/kitchen", "30.00", 50))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 100))
        .await
        .unwrap();
    for h in [&h1_id, &h2_id] {
        provider.grant(&pass.id, &grant(h)).await.unwrap();
    }
    buyer
        .set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let forget = || srv.exec_sql("DELETE FROM idempotency_keys");
    let twice = |path: &str, who: &Client, key: &'static str, body: serde_json::Value| {
        let (http, url, api_key) = (
            http.clone(),
            format!("{}{path}", srv.url),
            who.api_key().unwrap().to_string(),
        );
        async move {
            let (s1, _, b1) = post(&http, &url, &api_key, Some(key), &body).await;
            forget().await;
            let (s2, replayed, b2) = post(&http, &url, &api_key, Some(key), &body).await;
            assert_eq!((s1, s2, replayed), (201, 201, None), "{b1} / {b2}");
            (b1, b2)
        }
    };

    let (d1, d2) = twice(
        "/v1/demands",
        &buyer,
        "demand-1",
        serde_json::json!({"query": "kettle"}),
    )
    .await;
    assert_eq!(d1["id"], d2["id"], "the same demand");
    assert_eq!(srv.count_sql("SELECT COUNT(*) FROM demands").await, 1);
    assert_eq!(srv.count_sql("SELECT COUNT(*) FROM interactions").await, 2);

    let inbox = h1.inbox(None, None).await.unwrap();
    let path = format!("/v1/interactions/{}/offer", inbox.items[0].id);
    let (o1, o2) = twice(
        &path,
        &h1,
        "offer-1",
        serde_json::json!({"pass_id": pass.id}),
    )
    .await;
    assert_eq!(o1["id"], o2["id"], "the same offer");
    assert_eq!(srv.count_sql("SELECT COUNT(*) FROM offers").await, 1);

    let offer_id = o1["id"].as_str().unwrap().to_string();
    buyer.accept(&offer_id).await.unwrap();
    let (r1, r2) = twice(
        "/v1/orders",
        &buyer,
        "order-1",
        serde_json::json!({"offer_id": offer_id, "pay": true}),
    )
    .await;
    assert_eq!(r1, r2, "the same order, paid once");
    assert_eq!(srv.count_sql("SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(
        srv.count_sql("SELECT COUNT(*) FROM ledger_transactions")
            .await,
        1
    );
    assert_eq!(
        balance_of(&buyer).await.as_deref(),
        Some("-30.00"),
        "paid once"
    );

    let (w1, w2) = twice(
        "/v1/webhooks",
        &h1,
        "hook-1",
        serde_json::json!({"url": "http://127.0.0.1:9/hook"}),
    )
    .await;
    assert_eq!(
        (&w1["id"], &w1["secret"]),
        (&w2["id"], &w2["secret"]),
        "the same endpoint and secret"
    );
    assert_eq!(h1.webhooks().await.unwrap().items.len(), 1);
    // Without a key, nothing is derived: two requests are two demands.
    buyer.create_demand(&demand("kettle")).await.unwrap();
    buyer.create_demand(&demand("kettle")).await.unwrap();
    assert_eq!(srv.count_sql("SELECT COUNT(*) FROM demands").await, 3);
    srv.stop().await;
}

on_both_backends!(
    a_retried_post_replays_and_never_orders_twice,
    a_request_cut_off_after_its_commit_is_not_done_twice,
);

#[test]
fn client_keys_are_fresh_128_bit_hex() {
    let a = symbolon_client::new_idempotency_key();
    let b = symbolon_client::new_idempotency_key();
    assert_eq!(a.len(), 32);
    assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a, b);
}
