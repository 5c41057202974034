//! Prometheus metrics: `GET /metrics` in the text exposition format.
//!
//! **One recorder per process.** The `metrics` facade sends what the
//! exchange and the stores record (demands, webhook attempts, group
//! commits, …) to the one *global* recorder; a recorder local to a server
//! would see none of it, since that work runs on tasks of its own. So the
//! first server of a process installs a `metrics-exporter-prometheus`
//! recorder once (`installed`, behind a `OnceLock`) and every server of the
//! process renders it. In production a process runs one server; a test
//! process runs many, whose counters add up: tests read the change of a
//! counter around what they do, never its absolute value.
//!
//! Two kinds of series:
//! * **recorded as things happen** — counters and histograms: HTTP requests
//!   ([`track`], by route template, never the raw path), demands, matching
//!   latency, holders contacted, webhook attempts, shares released, commits
//!   (SQLite's group commits, PostgreSQL's transactions);
//! * **read at scrape time** ([`render_text`]) from this server's own state:
//!   engine counts and lag, pool use, open event streams, the outbox's
//!   newest event and oldest undelivered one. The scrape writes these
//!   families itself after the recorder's output instead of recording
//!   them, so a scrape shows its own server's values even when several
//!   servers share the process. It costs three indexed reads of the store,
//!   each bounded by `PROBE_STORE_TIMEOUT_MILLIS`. The process figures
//!   (`metrics-process`) are collected into the recorder at scrape time.
//!
//! `/metrics` is on the main listener unless `metrics_listen` names an
//! address of its own ([`router`]); it is never rate limited.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use symbolon_core::limits::PROBE_STORE_TIMEOUT_MILLIS;
use symbolon_exchange::Exchange;

/// Counter: HTTP requests by `method`, `route` (the route template, e.g.
/// `/v1/demands/{id}`; `unmatched` for no route) and `status`.
pub const HTTP_REQUESTS: &str = "symbolon_http_requests_total";
/// Histogram: seconds from a request's arrival to its response's head, by
/// `method` and `route` (an event stream counts until its head is sent).
pub const HTTP_SECONDS: &str = "symbolon_http_request_duration_seconds";
/// Gauges read from the matching engine at scrape time.
pub const ENGINE_PASSES: &str = "symbolon_engine_passes";
pub const ENGINE_LISTINGS: &str = "symbolon_engine_listings";
pub const ENGINE_HOLDERS: &str = "symbolon_engine_holders";
pub const ENGINE_LAG: &str = "symbolon_engine_change_log_lag_versions";
pub const ENGINE_REBUILD_SECONDS: &str = "symbolon_engine_last_rebuild_duration_seconds";
pub const ENGINE_FULL_SYNCS: &str = "symbolon_engine_full_syncs_total";
/// Gauges of the store's connection pools, by `pool`.
pub const POOL_CONNECTIONS: &str = "symbolon_store_pool_connections";
pub const POOL_IDLE: &str = "symbolon_store_pool_idle_connections";
pub const POOL_MAX: &str = "symbolon_store_pool_max_connections";
/// 1 when the store answered the scrape's reads, else 0.
pub const STORE_UP: &str = "symbolon_store_up";
/// Counter (read from the store): events written, i.e. the outbox's newest `seq`.
pub const EVENTS: &str = "symbolon_outbox_events_total";
/// Gauge: age of the oldest event still waiting for a webhook delivery (0: none).
pub const OLDEST_UNDELIVERED: &str = "symbolon_outbox_oldest_undelivered_age_seconds";
/// Gauge: event streams (SSE) open on this server.
pub const STREAMS: &str = "symbolon_event_streams_open";

/// Buckets of the latency histograms (seconds).
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Buckets of holders contacted per demand (`MAX_HOLDERS_CAP` is the top).
const HOLDER_BUCKETS: &[f64] = &[1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0];
/// Buckets of write transactions per group commit.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// The process's recorder, installed by the first caller.
struct Installed {
    handle: PrometheusHandle,
    process: metrics_process::Collector,
}

static INSTALLED: OnceLock<Option<Installed>> = OnceLock::new();

/// Installs the process's Prometheus recorder (once) and returns it; `None`
/// if another recorder was installed first (then `/metrics` is empty).
fn installed() -> Option<&'static Installed> {
    INSTALLED
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets(LATENCY_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(symbolon_exchange::metrics::HOLDERS_CONTACTED.into()),
                        HOLDER_BUCKETS,
                    )
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("symbolon_store_write_batch_size".into()),
                        BATCH_BUCKETS,
                    )
                });
            let builder = match builder {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics: bad buckets; metrics are off");
                    return None;
                }
            };
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if let Err(e) = ::metrics::set_global_recorder(recorder) {
                tracing::warn!(error = %e, "another metrics recorder is installed; /metrics stays empty");
                return None;
            }
            describe();
            let process = metrics_process::Collector::default();
            process.describe();
            Some(Installed {
                handle,
                process,
            })
        })
        .as_ref()
}

/// Installs the recorder if no server of this process has yet. Call before
/// serving, so that the first requests are counted.
pub fn install() {
    let _ = installed();
}

/// Drains recorded histogram samples into their buckets; the sweeper calls
/// it every few seconds so memory stays bounded between scrapes.
pub fn upkeep() {
    if let Some(i) = installed() {
        i.handle.run_upkeep();
    }
}

fn describe() {
    use ::metrics::{describe_counter, describe_histogram, Unit};
    symbolon_exchange::metrics::describe();
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests by method, route template and status."
    );
    describe_histogram!(
        HTTP_SECONDS,
        Unit::Seconds,
        "Time from a request's arrival to its response's head, by method and route template."
    );
    describe_histogram!(
        "symbolon_store_commit_duration_seconds",
        Unit::Seconds,
        "Time one commit took: a SQLite group commit (COMMIT and its fsync), a PostgreSQL transaction's COMMIT."
    );
    describe_histogram!(
        "symbolon_store_write_batch_size",
        Unit::Count,
        "Acknowledged write transactions made durable by one commit (SQLite groups them; PostgreSQL: always 1)."
    );
}

/// Middleware: counts and times every request by route template.
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    ::metrics::histogram!(HTTP_SECONDS, "method" => method, "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    ::metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route, "status" => status)
        .increment(1);
    resp
}

/// A method as a label: the standard ones, else `other` (no unbounded labels).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// What a scrape reads from the store, each read bounded.
struct StoreFigures {
    market_version: Option<i64>,
    last_event_seq: Option<i64>,
    oldest_undelivered: Option<Option<symbolon_core::Timestamp>>,
}

/// A store read, bounded; `None` if it failed or did not answer in time.
async fn bounded<T>(
    read: impl std::future::Future<Output = symbolon_store::StoreResult<T>>,
) -> Option<T> {
    let bound = Duration::from_millis(PROBE_STORE_TIMEOUT_MILLIS);
    match tokio::time::timeout(bound, read).await {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "metrics: a store read failed");
            None
        }
        Err(_) => None,
    }
}

async fn store_figures(exchange: &Exchange) -> StoreFigures {
    let store = exchange.store();
    let (market_version, last_event_seq, oldest_undelivered) = tokio::join!(
        bounded(store.market_version()),
        bounded(store.last_event_seq()),
        bounded(store.oldest_undelivered_event()),
    );
    StoreFigures {
        market_version,
        last_event_seq,
        oldest_undelivered,
    }
}

/// The exposition of this process's metrics, with `exchange`'s gauges.
pub async fn render_text(exchange: &Exchange) -> String {
    let figures = store_figures(exchange).await;
    let engine = exchange.engine_status();
    let counts = exchange.engine_counts();
    let pools = exchange.store().pool_stats();
    let streams = exchange.hub().open_streams();
    let now = exchange.now();
    let mut out = match installed() {
        Some(i) => {
            i.process.collect();
            i.handle.render()
        }
        None => String::new(),
    };
    let mut w = Families(&mut out);
    w.one(
        ENGINE_PASSES,
        "gauge",
        "Pass documents in this server's matching engine.",
        counts.passes as f64,
    );
    w.one(
        ENGINE_LISTINGS,
        "gauge",
        "Holder-pass pairs the matching engine can match.",
        counts.listings as f64,
    );
    w.one(
        ENGINE_HOLDERS,
        "gauge",
        "Holders with at least one matchable pass.",
        counts.holders as f64,
    );
    if let (Some(store), Some(engine)) = (figures.market_version, engine.version) {
        w.one(
            ENGINE_LAG,
            "gauge",
            "Market versions committed to the store that the engine has not applied yet (it catches up before the next match).",
            (store - engine).max(0) as f64,
        );
    }
    if let Some(d) = engine.last_rebuild {
        w.one(
            ENGINE_REBUILD_SECONDS,
            "gauge",
            "Duration of the engine's last full re-read of the market.",
            d.as_secs_f64(),
        );
    }
    w.one(
        ENGINE_FULL_SYNCS,
        "counter",
        "Full re-reads of the market by this server's engine.",
        engine.full_syncs as f64,
    );
    type PoolFigure = fn(&symbolon_store::PoolStats) -> u32;
    let pool_families: [(&str, &str, PoolFigure); 3] = [
        (
            POOL_CONNECTIONS,
            "Open connections of a store pool (idle or in use).",
            |p| p.size,
        ),
        (POOL_IDLE, "Idle connections of a store pool.", |p| p.idle),
        (POOL_MAX, "The most connections a store pool opens.", |p| {
            p.max
        }),
    ];
    for (name, help, figure) in pool_families {
        let samples: Vec<(Option<(&str, &str)>, f64)> = pools
            .iter()
            .map(|p| (Some(("pool", p.name)), f64::from(figure(p))))
            .collect();
        w.family(name, "gauge", help, &samples);
    }
    let up = figures.market_version.is_some()
        && figures.last_event_seq.is_some()
        && figures.oldest_undelivered.is_some();
    w.one(
        STORE_UP,
        "gauge",
        "1 when the store answered the scrape's reads.",
        if up { 1.0 } else { 0.0 },
    );
    if let Some(seq) = figures.last_event_seq {
        w.one(
            EVENTS,
            "counter",
            "Events written to the outbox (its newest seq; the same on every replica).",
            seq.max(0) as f64,
        );
    }
    if let Some(oldest) = figures.oldest_undelivered {
        let age = oldest
            .map(|t| (now.millis() - t.millis()).max(0) as f64 / 1000.0)
            .unwrap_or(0.0);
        w.one(
            OLDEST_UNDELIVERED,
            "gauge",
            "Age of the oldest event waiting for a webhook delivery to an enabled endpoint (0: none).",
            age,
        );
    }
    w.one(
        STREAMS,
        "gauge",
        "Event streams (SSE) open on this server.",
        streams as f64,
    );
    out
}

/// Writes metric families of this server's own state in the text format.
/// They are not recorded in the process's recorder, so that two servers of
/// one process (tests) never show each other's values.
struct Families<'a>(&'a mut String);

impl Families<'_> {
    fn one(&mut self, name: &str, kind: &str, help: &str, value: f64) {
        self.family(name, kind, help, &[(None, value)]);
    }

    fn family(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        samples: &[(Option<(&str, &str)>, f64)],
    ) {
        use std::fmt::Write;
        if !self.0.is_empty() && !self.0.ends_with('\n') {
            self.0.push('\n');
        }
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
        for (label, value) in samples {
            // Label values here are the code's own (pool names): nothing to escape.
            match label {
                Some((k, v)) => {
                    let _ = writeln!(self.0, "{name}{{{k}=\"{v}\"}} {value}");
                }
                None => {
                    let _ = writeln!(self.0, "{name} {value}");
                }
            }
        }
        self.0.push('\n');
    }
}

/// `GET /metrics`.
#[utoipa::path(get, path = "/metrics", tag = "meta",
    description = "Prometheus metrics in the text exposition format (version 0.0.4): HTTP requests by route template and status with a latency histogram, demands by outcome with matching latency and holders contacted, the matching engine, the store's group commits and pools, the outbox and webhooks, event streams, sealed shares released, and the process. Served here unless the server's `metrics_listen` setting moves it to a listener of its own (then this path answers 404 here). Never rate limited.",
    responses((status = 200, description = "The exposition.", content_type = "text/plain; version=0.0.4", body = String)))]
pub async fn scrape(State(s): State<AppState>) -> Response {
    let body = render_text(&s.exchange).await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `/metrics` as a route of the main router.
pub fn route() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

/// The router of a listener of its own (`metrics_listen`): `/metrics` only.
pub fn router(exchange: Arc<Exchange>) -> Router {
    route()
        .fallback(|| async {
            crate::error::ApiError::new(
                symbolon_core::ErrorCode::RouteNotFound,
                "this listener serves /metrics only",
            )
        })
        .with_state(AppState { exchange })
}
