//! Operations: `/metrics` read with a real Prometheus text parser while a
//! story runs, `metrics_listen`, and the probes (`/livez`, `/readyz`),
//! including readiness during a drain and with a store that cannot answer.
//!
//! Every server of this test process shares one metrics recorder (see
//! `symbolon_server::metrics`), and tests run in parallel: counters and
//! histograms are checked by how much they grew around what a test did
//! (at least its own share), gauges read at scrape time from the scraped
//! server's own state are checked exactly.

use crate::harness::*;
use crate::on_both_backends;
use prom_text_format_parser::{Metric, Sample, Scrape, Type, ValueType};
use std::time::{Duration, Instant};
use symbolon_client::api::*;

/// Scrapes `GET {base}/metrics` and parses it.
async fn scrape(base: &str) -> Scrape {
    let resp = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("scrape");
    assert_eq!(resp.status(), 200);
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let text = resp.text().await.expect("body");
    Scrape::parse(&text).unwrap_or_else(|e| panic!("not a valid exposition: {e:?}\n{text}"))
}

fn family<'a>(s: &'a Scrape, metric: &str) -> Option<&'a Metric> {
    s.metrics.iter().find(|m| m.name == metric)
}

fn label<'a>(x: &'a Sample, key: &str) -> Option<&'a str> {
    x.labels
        .iter()
        .find(|l| l.key == key)
        .map(|l| l.value.as_str())
}

/// The samples of `metric` of `kind` whose labels include every pair of `labels`.
fn find<'a>(
    s: &'a Scrape,
    metric: &str,
    kind: ValueType,
    labels: &[(&str, &str)],
) -> Vec<&'a Sample> {
    family(s, metric)
        .map(|m| {
            m.samples
                .iter()
                .filter(|x| {
                    x.value.value_type == kind
                        && labels.iter().all(|(k, v)| label(x, k) == Some(*v))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A counter's or gauge's value summed over the matching series (0 when
/// none exists yet).
fn value(s: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    if let Some(m) = family(s, metric) {
        assert!(
            matches!(m.kind, Type::Counter | Type::Gauge),
            "{metric} is a {:?}",
            m.kind
        );
    }
    find(s, metric, ValueType::Sample, labels)
        .iter()
        .map(|x| x.value.value.as_f64())
        .sum()
}

/// How many observations a histogram's matching series hold (0 when absent).
fn observations(s: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    if let Some(m) = family(s, metric) {
        assert_eq!(m.kind, Type::Histogram, "{metric}");
        assert!(
            m.samples.iter().any(|x| label(x, "le") == Some("+Inf")),
            "{metric} has buckets"
        );
    }
    find(s, metric, ValueType::Count, labels)
        .iter()
        .map(|x| x.value.value.as_f64())
        .sum()
}

/// A gauge that must exist, once.
fn gauge(s: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let m = family(s, metric).unwrap_or_else(|| panic!("no {metric}"));
    assert_eq!(m.kind, Type::Gauge, "{metric}");
    let found = find(s, metric, ValueType::Sample, labels);
    assert_eq!(found.len(), 1, "{metric}{labels:?}: {found:?}");
    found[0].value.value.as_f64()
}

fn srv_backend(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// Polls `f` until it holds; panics after 10 s.
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !f().await {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what} never happened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

on_both_backends!(metrics_follow_a_story);

/// A small market, a demand contacted, one refused, one left waiting, an
/// event stream and a webhook that cannot be reached: every key series
/// exists and moves.
async fn metrics_follow_a_story(backend: Backend) {
    let clock = manual_clock();
    let srv = TestServer::configured(backend, clock.clone(), |c| {
        c.allow_private_webhooks = true;
    })
    .await;
    let before = scrape(&srv.url).await;

    let (_, provider) = srv.account("Sony", &[Role::Provider]).await;
    let (h1_id, h1) = srv.account("Hana", &[Role::Holder]).await;
    let (h2_id, _h2) = srv.account("Hugo", &[Role::Holder]).await;
    let (_, requester) = srv.account("Ada", &[Role::Requester]).await;
    // Hana's webhook points at a closed port: its deliveries wait.
    let hook = h1
        .create_webhook("http://127.0.0.1:9/unreachable")
        .await
        .unwrap();
    let p = provider
        .create_product(&product(
            "Sony WH-1000XM5 headphones",
            "electronics/audio/headphones",
            "299.00",
            10,
        ))
        .await
        .unwrap();
    let pass = provider.create_pass(&shareable(&p.id, 800)).await.unwrap();
    provider.grant(&pass.id, &grant(&h1_id)).await.unwrap();
    provider.grant(&pass.id, &grant(&h2_id)).await.unwrap();
    let stream = requester.event_stream(None).await.unwrap();

    let contacted = requester
        .create_demand(&demand("WH-1000XM5 headphones"))
        .await
        .unwrap();
    assert_eq!(contacted.contacted.len(), 2);
    let mut three = demand("WH-1000XM5 headphones");
    three.min_holders = Some(3);
    assert_api_err(
        requester.create_demand(&three).await,
        422,
        "insufficient_holders",
    );
    three.wait = Some(true);
    assert_eq!(
        requester.create_demand(&three).await.unwrap().status,
        "waiting"
    );
    requester.demand(&contacted.id).await.unwrap();
    let stray = reqwest::get(format!("{}/no/such/{}", srv.url, contacted.id))
        .await
        .unwrap();
    assert_eq!(stray.status(), 404);
    // The interaction requests went out as events; Hana's webhook fails once.
    eventually("a webhook attempt", || async {
        !h1.webhook_attempts(&hook.id)
            .await
            .unwrap()
            .items
            .is_empty()
    })
    .await;
    clock.advance_seconds(120);

    let after = scrape(&srv.url).await;
    let grew = |metric: &str, labels: &[(&str, &str)]| {
        value(&after, metric, labels) - value(&before, metric, labels)
    };
    let observed = |metric: &str, labels: &[(&str, &str)]| {
        observations(&after, metric, labels) - observations(&before, metric, labels)
    };

    // HTTP: by route template and status, never the raw path.
    let post = [("method", "POST"), ("route", "/v1/demands")];

    assert!(
        grew(
            "symbolon_http_requests_total",
            &[post[0], post[1], ("status", "201")]
        ) >= 2.0
    );
    assert!(
        grew(
            "symbolon_http_requests_total",
            &[post[0], post[1], ("status", "422")]
        ) >= 1.0
    );
    assert!(
        grew(
            "symbolon_http_requests_total",
            &[("route", "/v1/demands/{id}"), ("status", "200")]
        ) >= 1.0
    );
    assert!(
        grew(
            "symbolon_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ) >= 1.0
    );
    assert!(observed("symbolon_http_request_duration_seconds", &post) >= 3.0);
    for s in find(
        &after,
        "symbolon_http_requests_total",
        ValueType::Sample,
        &[],
    ) {
        let route = label(s, "route").unwrap_or_default();
        assert!(
            !route.contains(&contacted.id) && !route.contains("no/such"),
            "a raw path became a label: {route}"
        );
    }

    // Demands by outcome, matching latency, holders contacted.
    for outcome in ["contacted", "refused", "waiting"] {
        assert!(
            grew("symbolon_demands_total", &[("outcome", outcome)]) >= 1.0,
            "{outcome}"
        );
    }
    assert!(observed("symbolon_demand_match_duration_seconds", &[]) >= 3.0);
    assert!(observed("symbolon_demand_holders_contacted", &[]) >= 1.0);
    assert!(grew("symbolon_webhook_attempts_total", &[("outcome", "retry")]) >= 1.0);
    assert_eq!(
        find(
            &after,
            "symbolon_sealed_shares_released_total",
            ValueType::Sample,
            &[]
        )
        .len(),
        1
    );

    // This server's own state, read at scrape time.
    assert_eq!(gauge(&after, "symbolon_engine_passes", &[]), 1.0);
    assert_eq!(gauge(&after, "symbolon_engine_listings", &[]), 2.0);
    assert_eq!(gauge(&after, "symbolon_engine_holders", &[]), 2.0);
    assert!(gauge(&after, "symbolon_engine_change_log_lag_versions", &[]) >= 0.0);
    assert!(gauge(&after, "symbolon_engine_last_rebuild_duration_seconds", &[]) >= 0.0);
    assert_eq!(gauge(&after, "symbolon_store_up", &[]), 1.0);
    assert_eq!(gauge(&after, "symbolon_event_streams_open", &[]), 1.0);
    // The oldest waiting delivery is as old as the clock moved since.
    assert!(
        gauge(
            &after,
            "symbolon_outbox_oldest_undelivered_age_seconds",
            &[]
        ) >= 120.0
    );
    assert!(grew("symbolon_outbox_events_total", &[]) >= 1.0);
    let pool = match backend {
        Backend::Sqlite => ("reader", 4.0),
        Backend::Postgres => ("main", 10.0),
    };
    assert_eq!(
        gauge(
            &after,
            "symbolon_store_pool_max_connections",
            &[("pool", pool.0)]
        ),
        pool.1
    );
    assert!(
        gauge(
            &after,
            "symbolon_store_pool_connections",
            &[("pool", pool.0)]
        ) >= 1.0
    );
    let store = [("backend", srv_backend(backend))];
    assert!(observed("symbolon_store_commit_duration_seconds", &store) >= 1.0);
    assert!(observed("symbolon_store_write_batch_size", &store) >= 1.0);
    // The process collector (Linux).
    #[cfg(target_os = "linux")]
    assert!(value(&after, "process_resident_memory_bytes", &[]) > 0.0);
    // Help lines come with the series.
    assert!(family(&after, "symbolon_demands_total")
        .and_then(|m| m.help_desc.as_ref())
        .is_some());

    drop(stream);
    srv.stop().await;
}

/// With `metrics_listen`, `/metrics` is served there only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_listen_serves_metrics_on_its_own_listener_only() {
    let tmp = tempfile::tempdir().unwrap();
    let config = symbolon_server::ServerConfig {
        data_dir: tmp.path().to_path_buf(),
        drain_delay: NO_DRAIN,
        metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..Default::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = symbolon_server::prepare(listener, config, manual_clock())
        .await
        .unwrap();
    let main = format!("http://{}", server.local_addr().unwrap());
    let metrics = format!(
        "http://{}",
        server.metrics_addr().expect("a metrics address")
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));

    let s = scrape(&metrics).await;
    assert_eq!(gauge(&s, "symbolon_store_up", &[]), 1.0);
    let on_main = reqwest::get(format!("{main}/metrics")).await.unwrap();
    assert_eq!(on_main.status(), 404, "not on the main listener");
    assert_eq!(
        reqwest::get(format!("{main}/readyz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let other = reqwest::get(format!("{metrics}/v1/account")).await.unwrap();
    assert_eq!(
        other.status(),
        404,
        "the metrics listener serves /metrics only"
    );

    let _ = tx.send(());
    task.await.unwrap().unwrap();
}

on_both_backends!(probes_answer_when_up);

async fn probes_answer_when_up(backend: Backend) {
    let srv = TestServer::on(backend).await;
    for path in ["/healthz", "/livez"] {
        let r = reqwest::get(format!("{}{path}", srv.url)).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h: Health = r.json().await.unwrap();
        assert_eq!(h.status, "ok");
    }
    let r = reqwest::get(format!("{}/readyz", srv.url)).await.unwrap();
    assert_eq!(r.status(), 200);
    let ready: Readiness = r.json().await.unwrap();
    assert_eq!(ready.status, "ready");
    let names: Vec<&str> = ready.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["draining", "store", "migrations", "engine"]);
    assert!(ready.checks.iter().all(|c| c.ok), "{ready:?}");
    srv.stop().await;
}

/// On shutdown with a drain delay, `/readyz` answers 503 `draining` while
/// the listener still accepts new connections and serves them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_while_draining_and_the_listener_still_accepts() {
    let mut srv = TestServer::configured(Backend::Sqlite, manual_clock(), |c| {
        // Long enough that the test, not the delay, ends the drain.
        c.drain_delay = Duration::from_secs(600);
    })
    .await;
    let ready = reqwest::get(format!("{}/readyz", srv.url)).await.unwrap();
    assert_eq!(ready.status(), 200);
    srv.begin_stop();
    let url = srv.url.clone();
    eventually("readiness failing", || {
        let url = url.clone();
        async move {
            reqwest::get(format!("{url}/readyz"))
                .await
                .is_ok_and(|r| r.status() == 503)
        }
    })
    .await;
    // A new connection (a fresh client pools nothing) is accepted and served.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let r = fresh
        .get(format!("{}/readyz", srv.url))
        .send()
        .await
        .expect("the listener still accepts");
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_ready");
    assert_eq!(body["error"]["details"]["failing"], "draining");
    let live = fresh
        .get(format!("{}/livez", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200, "still alive while draining");
    let (_, requester) = srv.account("Late", &[Role::Requester]).await;
    requester.whoami().await.expect("the API still serves");
    srv.abort().await;
}

on_both_backends!(readiness_fails_when_the_store_cannot_answer);

/// SQLite: the store's connections are closed under the running server;
/// PostgreSQL: its database is dropped underneath it.
async fn readiness_fails_when_the_store_cannot_answer(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let pg = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(PgDb::create().await),
    };
    let config = symbolon_server::ServerConfig {
        data_dir: tmp.path().to_path_buf(),
        drain_delay: NO_DRAIN,
        database_url: pg.as_ref().map(|d| d.url.clone()),
        ..Default::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = symbolon_server::prepare(
        listener,
        config,
        std::sync::Arc::new(symbolon_core::SystemClock),
    )
    .await
    .unwrap();
    let url = format!("http://{}", server.local_addr().unwrap());
    let exchange = server.exchange().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    let r = reqwest::get(format!("{url}/readyz")).await.unwrap();
    assert_eq!(r.status(), 200);

    match &pg {
        None => exchange.store().close().await,
        Some(db) => db.drop_db().await,
    }
    let r = reqwest::get(format!("{url}/readyz")).await.unwrap();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_ready");
    assert_eq!(body["error"]["details"]["failing"], "store", "{body}");
    let live = reqwest::get(format!("{url}/livez")).await.unwrap();
    assert_eq!(live.status(), 200, "liveness does not depend on the store");
    let s = scrape(&url).await;
    assert_eq!(gauge(&s, "symbolon_store_up", &[]), 0.0);

    let _ = tx.send(());
    let _ = task.await;
}
