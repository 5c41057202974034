//! Rate limits over real HTTP: per API key and per web session (on by
//! default), per client address (off unless configured), 0 turning a limit
//! off, probes never limited; and the client's address, which only a
//! trusted proxy's `X-Forwarded-For` may name (the per-address limit and the
//! registration limit both count by it). Small bursts keep the tests fast;
//! with a rate of one request a second, no test depends on timing: each
//! sends its burst, then at most 50 more requests, and expects a refusal
//! among them.

use crate::harness::*;
use crate::web_journey::web_sign_in;
use std::sync::Arc;
use symbolon_client::api::*;
use symbolon_core::SystemClock;
use symbolon_server::ServerConfig;

/// A server with its limits set by `tweak`.
async fn server(tweak: impl FnOnce(&mut ServerConfig)) -> TestServer {
    TestServer::configured(Backend::Sqlite, Arc::new(SystemClock), tweak).await
}

/// One request a second per key or session, in bursts of 5.
fn tight_per_key(c: &mut ServerConfig) {
    c.rate_limit_per_second = 1;
    c.rate_limit_burst = 5;
}

/// One request a second per client address, in bursts of 3.
fn tight_per_address(c: &mut ServerConfig) {
    c.ip_rate_limit_per_second = 1;
    c.ip_rate_limit_burst = 3;
}

/// A fresh account's API key, made without spending any of it.
async fn key_of(srv: &TestServer, name: &str) -> String {
    srv.anon()
        .create_account(&CreateAccount {
            name: name.into(),
            roles: vec![Role::Requester],
            login: None,
        })
        .await
        .expect("create account")
        .api_key
}

/// `GET {path}` with the given headers: status, `Retry-After`, body.
async fn get(
    srv: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Option<String>, String) {
    let mut r = web_client().get(format!("{}{path}", srv.url));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry, r.text().await.unwrap())
}

/// Sends `burst` requests that must pass, then up to 50 more until one is
/// refused: that refusal (status, `Retry-After`, body).
async fn exhaust(
    srv: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
    burst: usize,
) -> (u16, Option<String>, String) {
    for i in 0..burst {
        let (status, _, body) = get(srv, path, headers).await;
        assert_eq!(status, 200, "request {i} of the burst: {body}");
    }
    for _ in 0..50 {
        let r = get(srv, path, headers).await;
        if r.0 != 200 {
            return r;
        }
    }
    panic!("no request refused past the burst of {burst} on {path}");
}

/// The first 429 among at most 50 requests: a limit already reached may
/// have refilled a token meanwhile (one a second), never 50.
async fn refused_again(
    srv: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Option<String>, String) {
    for _ in 0..50 {
        let r = get(srv, path, headers).await;
        if r.0 == 429 {
            return r;
        }
    }
    panic!("no request refused on {path}");
}

/// The answer is 429 `rate_limited` with a `Retry-After` of whole seconds ≥ 1.
fn assert_limited((status, retry, body): &(u16, Option<String>, String)) -> u64 {
    assert_eq!(*status, 429, "{body}");
    let secs: u64 = retry.as_deref().expect("Retry-After").parse().unwrap();
    assert!(secs >= 1, "{secs}");
    secs
}

#[tokio::test]
async fn past_its_burst_a_key_is_refused_and_other_keys_are_not() {
    let srv = server(tight_per_key).await;
    let (a, b) = (key_of(&srv, "Ada").await, key_of(&srv, "Bo").await);
    let bearer = |k: &str| format!("Bearer {k}");
    let (ha, hb) = (bearer(&a), bearer(&b));
    let refused = exhaust(&srv, "/v1/account", &[("authorization", &ha)], 5).await;
    let secs = assert_limited(&refused);
    let body: serde_json::Value = serde_json::from_str(&refused.2).unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert_eq!(body["error"]["details"]["retry_after_seconds"], secs);
    // Through the client: the same code.
    let c = srv.anon().with_key(&a);
    let mut through_client = None;
    for _ in 0..50 {
        if let Err(e) = c.whoami().await {
            through_client = Some(Err::<(), _>(e));
            break;
        }
    }
    assert_api_err(through_client.expect("a refusal"), 429, "rate_limited");
    // Another key has its own budget.
    assert_eq!(
        get(&srv, "/v1/account", &[("authorization", &hb)]).await.0,
        200
    );
    // Probes and the API description are never limited.
    for path in ["/healthz", "/openapi.json"] {
        assert_eq!(
            get(&srv, path, &[("authorization", &ha)]).await.0,
            200,
            "{path}"
        );
    }
    // Unknown keys are not counted (nothing to key them on): 401, never 429.
    for i in 0..20 {
        let h = format!("Bearer sk_unknown_{i}");
        assert_eq!(
            get(&srv, "/v1/account", &[("authorization", &h)]).await.0,
            401
        );
    }
    srv.stop().await;
}

#[tokio::test]
async fn a_web_session_is_limited_with_the_error_page() {
    let srv = server(tight_per_key).await;
    let key = key_of(&srv, "Ada").await;
    let me = web_sign_in(&srv, &key).await;
    let cookie = me.cookie.clone();
    let refused = exhaust(&srv, "/demands", &[("cookie", &cookie)], 5).await;
    assert_limited(&refused);
    assert!(
        refused.2.contains("<html") && refused.2.contains("Too many requests at once"),
        "{}",
        refused.2
    );
    // A visitor (no session) is not limited by key.
    for _ in 0..10 {
        assert_eq!(get(&srv, "/login", &[]).await.0, 200);
    }
    srv.stop().await;
}

/// A page counts against its session whatever else the request carries: a
/// bad bearer key (pages ignore it) or a junk session cookie before the real
/// one (pages read the last) does not lift the limit.
#[tokio::test]
async fn extra_credentials_do_not_lift_a_sessions_limit() {
    let srv = server(tight_per_key).await;
    let key = key_of(&srv, "Ada").await;
    let me = web_sign_in(&srv, &key).await;
    let with_bearer = [
        ("cookie", me.cookie.as_str()),
        ("authorization", "Bearer sk_nothing"),
    ];
    assert_limited(&exhaust(&srv, "/demands", &with_bearer, 5).await);
    let me = web_sign_in(&srv, &key).await;
    let doubled = format!("sym_session=junk; {}", me.cookie);
    assert_limited(&exhaust(&srv, "/demands", &[("cookie", &doubled)], 5).await);
    srv.stop().await;
}

#[tokio::test]
async fn a_limit_of_zero_is_off() {
    for (per_second, burst) in [(0, 1), (1, 0)] {
        let srv = server(|c| {
            c.rate_limit_per_second = per_second;
            c.rate_limit_burst = burst;
            c.ip_rate_limit_per_second = per_second;
            c.ip_rate_limit_burst = burst;
        })
        .await;
        let h = format!("Bearer {}", key_of(&srv, "Ada").await);
        for _ in 0..30 {
            assert_eq!(
                get(&srv, "/v1/account", &[("authorization", &h)]).await.0,
                200
            );
        }
        srv.stop().await;
    }
}

#[tokio::test]
async fn the_address_limit_is_off_by_default_and_on_when_configured() {
    let d = ServerConfig::default();
    assert_eq!(
        (d.rate_limit_per_second, d.rate_limit_burst),
        (100, 200),
        "per key: on by default"
    );
    assert_eq!(d.ip_rate_limit_per_second, 0, "per address: off by default");
    // A small burst alone does not turn it on.
    let srv = server(|c| c.ip_rate_limit_burst = 2).await;
    for _ in 0..30 {
        assert_eq!(get(&srv, "/login", &[]).await.0, 200);
    }
    srv.stop().await;
    let srv = server(tight_per_address).await;
    assert_limited(&exhaust(&srv, "/login", &[], 3).await);
    // The API answers in JSON, and probes still pass.
    let (_, _, body) = refused_again(&srv, "/v1/passes/pas_x", &[]).await;
    assert!(body.contains("\"rate_limited\""), "{body}");
    assert_eq!(get(&srv, "/healthz", &[]).await.0, 200);
    srv.stop().await;
}

#[tokio::test]
async fn a_spoofed_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    // No trusted proxy: the header names nobody; every request is 127.0.0.1's.
    let srv = server(tight_per_address).await;
    for i in 0..3 {
        let xff = format!("198.51.100.{i}");
        assert_eq!(
            get(&srv, "/login", &[("x-forwarded-for", &xff)]).await.0,
            200
        );
    }
    let fresh = get(&srv, "/login", &[("x-forwarded-for", "203.0.113.77")]).await;
    assert_limited(&fresh);
    srv.stop().await;

    // 127.0.0.1 trusted: the rightmost address it was not told by a proxy.
    let srv = server(|c| {
        tight_per_address(c);
        c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let a = [("x-forwarded-for", "198.51.100.1")];
    assert_limited(&exhaust(&srv, "/login", &a, 3).await);
    // Another client behind the proxy has its own budget…
    let b = [("x-forwarded-for", "198.51.100.2")];
    assert_eq!(get(&srv, "/login", &b).await.0, 200);
    // …and a client cannot pass as another by prepending it.
    let spoof = [("x-forwarded-for", "198.51.100.2, 198.51.100.1")];
    assert_limited(&refused_again(&srv, "/login", &spoof).await);
    srv.stop().await;
}

#[tokio::test]
async fn registrations_count_by_the_address_a_trusted_proxy_forwards() {
    let register = |srv: &TestServer, xff: &'static str| {
        let url = format!("{}/v1/accounts", srv.url);
        async move {
            web_client()
                .post(url)
                .header("x-forwarded-for", xff)
                .json(&serde_json::json!({"name": "Ada", "roles": ["requester"]}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let srv = server(|c| {
        c.registrations_per_ip_per_hour = 1;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    assert_eq!(register(&srv, "198.51.100.1").await, 201);
    assert_eq!(register(&srv, "198.51.100.1").await, 429);
    assert_eq!(register(&srv, "198.51.100.2").await, 201);
    srv.stop().await;
    // Untrusted: the header is ignored, the peer already registered once.
    let srv = server(|c| c.registrations_per_ip_per_hour = 1).await;
    assert_eq!(register(&srv, "198.51.100.1").await, 201);
    assert_eq!(register(&srv, "198.51.100.2").await, 429);
    srv.stop().await;
}
