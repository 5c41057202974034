//! Who gets in and what may be kept: the `Bearer` scheme in any case (also
//! for `Idempotency-Key`), `Cache-Control: no-store` on answers that hold
//! personal data or keys, and the per-address limit on registration.

use crate::harness::*;
use std::net::IpAddr;
use std::sync::Arc;
use symbolon_client::api::*;
use symbolon_core::SystemClock;

/// `bearer`, `BEARER` and `bEaReR` authenticate like `Bearer`, and the
/// idempotency middleware (which parses the header itself) recognises the
/// caller too: a retried POST replays instead of creating a second product.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_scheme_is_case_insensitive_everywhere() {
    let srv = TestServer::start().await;
    let (id, provider) = srv.account("Maker", &[Role::Provider]).await;
    let key = provider.api_key().unwrap().to_string();
    let http = reqwest::Client::new();
    for scheme in ["bearer", "BEARER", "bEaReR"] {
        let r = http
            .get(format!("{}/v1/account", srv.url))
            .header("Authorization", format!("{scheme} {key}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{scheme}");
        let me: serde_json::Value = r.json().await.unwrap();
        assert_eq!(me["id"], id.as_str());
    }
    let body = serde_json::json!({
        "title": "Kettle", "description": "A kettle", "category": "home/kitchen",
        "specs": {}, "price": {"amount": "30.00", "currency": "USD"}, "stock": 5
    });
    let mut ids = Vec::new();
    for attempt in 0..2 {
        let r = http
            .post(format!("{}/v1/products", srv.url))
            .header("Authorization", format!("BEARER {key}"))
            .header("Idempotency-Key", "kettle-1")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        assert_eq!(
            r.headers()
                .get("idempotent-replayed")
                .map(|v| v.to_str().unwrap()),
            (attempt == 1).then_some("true")
        );
        let p: serde_json::Value = r.json().await.unwrap();
        ids.push(p["id"].clone());
    }
    assert_eq!(ids[0], ids[1], "one product");
    assert_eq!(srv.count_sql("SELECT COUNT(*) FROM products").await, 1);
    srv.stop().await;
}

fn cache_control(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_string())
}

/// Registration (it returns the API key), every answer to a request with
/// credentials — the account, an address in the requester profile, a replayed
/// idempotent answer, an error — is `no-store`; a public read is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_with_personal_data_are_no_store() {
    let srv = TestServer::start().await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/v1/accounts", srv.url))
        .json(&serde_json::json!({"name": "Rita", "roles": ["requester", "provider"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(cache_control(&r).as_deref(), Some("no-store"));
    let created: serde_json::Value = r.json().await.unwrap();
    let key = created["api_key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();

    let put = http
        .put(format!("{}/v1/requester/profile", srv.url))
        .bearer_auth(&key)
        .json(&serde_json::to_value(profile("4242424242424242")).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(cache_control(&put).as_deref(), Some("no-store"));
    for path in ["/v1/account", "/v1/requester/profile", "/v1/balance"] {
        let r = http
            .get(format!("{}{path}", srv.url))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(cache_control(&r).as_deref(), Some("no-store"), "{path}");
    }
    let bad = http
        .get(format!("{}/v1/account", srv.url))
        .bearer_auth("sk_not_a_key")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert_eq!(cache_control(&bad).as_deref(), Some("no-store"));
    let product = serde_json::json!({
        "title": "Kettle", "description": "A kettle", "category": "home/kitchen",
        "specs": {}, "price": {"amount": "30.00", "currency": "USD"}, "stock": 5
    });
    for _ in 0..2 {
        let r = http
            .post(format!("{}/v1/products", srv.url))
            .bearer_auth(&key)
            .header("Idempotency-Key", "p-1")
            .json(&product)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        assert_eq!(cache_control(&r).as_deref(), Some("no-store"));
    }
    let public = http
        .get(format!("{}/v1/providers/{id}/jwks.json", srv.url))
        .send()
        .await
        .unwrap();
    assert_ne!(cache_control(&public).as_deref(), Some("no-store"));
    srv.stop().await;
}

async fn register_from(srv: &TestServer, from: &str, name: &str) -> reqwest::Response {
    let ip: IpAddr = from.parse().unwrap();
    reqwest::Client::builder()
        .local_address(ip)
        .build()
        .unwrap()
        .post(format!("{}/v1/accounts", srv.url))
        .json(&serde_json::json!({"name": name, "roles": ["holder"]}))
        .send()
        .await
        .unwrap()
}

/// With `registrations_per_ip_per_hour = 2`: from 127.0.0.1 a refused attempt
/// (bad input) costs nothing, two registrations pass, the third gets 429
/// `too_many_registrations` with `Retry-After`; 127.0.0.2 still registers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_per_address_are_limited_at_the_edge() {
    let srv = TestServer::configured(Backend::Sqlite, Arc::new(SystemClock), |c| {
        c.registrations_per_ip_per_hour = 2;
    })
    .await;
    let bad = register_from(&srv, "127.0.0.1", "").await;
    assert_eq!(bad.status(), 400, "an empty name is refused");
    for n in 0..2 {
        let r = register_from(&srv, "127.0.0.1", &format!("Holder {n}")).await;
        assert_eq!(r.status(), 201, "registration {n}");
    }
    let over = register_from(&srv, "127.0.0.1", "One too many").await;
    assert_eq!(over.status(), 429);
    let retry: u64 = over
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    assert_eq!(cache_control(&over).as_deref(), Some("no-store"));
    let body: serde_json::Value = over.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_registrations");
    let other = register_from(&srv, "127.0.0.2", "Elsewhere").await;
    assert_eq!(other.status(), 201, "another address");
    assert_eq!(srv.count_sql("SELECT COUNT(*) FROM accounts").await, 3);
    srv.stop().await;
}

/// Off by default: many registrations from one address all pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_are_unlimited_by_default() {
    let srv = TestServer::start().await;
    for n in 0..5 {
        let r = register_from(&srv, "127.0.0.1", &format!("Holder {n}")).await;
        assert_eq!(r.status(), 201);
    }
    srv.stop().await;
}
