//! `symbolon bench delivery`: how soon an event reaches the party it is for,
//! by Server-Sent Events and by webhook, measured from the client's side
//! against an embedded server (SQLite in a temp dir) and, with
//! `--postgres-url`, against two replicas sharing a fresh PostgreSQL database.
//!
//! Latency: demands are sent one at a time, after a seeded random pause
//! within one poll period (so they fall anywhere between the other replica's
//! poll ticks); each contacts every holder, and
//! the clock runs from just before `POST /v1/demands` is sent until its
//! `interaction.requested` event arrives on each holder's stream (on the
//! replica that took the write, and on the other replica) and at each
//! holder's webhook receiver (a local hyper server answering 204). The POST's
//! own round trip is reported beside them, and so is a client without SSE
//! that pages `GET /v1/events?after=` every poll period (one holder).
//!
//! Throughput: `--burst` demands sent by `--concurrency` requesters at once;
//! the time until every holder has every event on its stream and at its
//! webhook, and events per second. Every event id is counted, so duplicates
//! and losses show.

use crate::bench_servers::{config, lock, start_replicas, stop_all};
use crate::demo::{register, Acct};
use crate::embedded::Embedded;
use anyhow::{bail, Context, Result};
use clap::Args;
use comfy_table::{presets, Table};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use symbolon_api as api;
use symbolon_bench::progress::Progress;
use symbolon_bench::scratch::ScratchDb;
use symbolon_bench::stats::{fmt_ms, fmt_rate, Latency};
use symbolon_client::Client;
use symbolon_server::ServerConfig;
use tokio::sync::Notify;

/// Holders every demand contacts, at most.
const MAX_BENCH_HOLDERS: usize = symbolon_core::limits::MAX_MAX_HOLDERS as usize;
/// Demands of one run (latency and burst), at most.
const MAX_BENCH_DEMANDS: usize = 100_000;
/// Requesters sending the burst at once, at most.
const MAX_BENCH_CONCURRENCY: usize = 64;
/// How long one demand's events may take before the run fails.
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(30);
/// Unmeasured demands first (connections, caches).
const WARMUP_DEMANDS: usize = 5;

#[derive(Args, Debug)]
pub struct DeliveryArgs {
    /// Demands sent one at a time for the latency figures.
    #[arg(long, default_value_t = 200)]
    pub demands: usize,
    /// Demands sent at once for the throughput figure.
    #[arg(long, default_value_t = 400)]
    pub burst: usize,
    /// Requesters sending the burst in parallel.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Holders of the pass; every demand contacts all of them (2–20).
    #[arg(long, default_value_t = 2)]
    pub holders: usize,
    /// Also run on PostgreSQL (a fresh database through this URL, dropped after) with two
    /// replicas, so the figures include a stream on the replica that did not take the write.
    #[arg(long)]
    pub postgres_url: Option<String>,
    /// Skip the SQLite run (with --postgres-url).
    #[arg(long)]
    pub no_sqlite: bool,
    /// Seed of the servers' ids.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// Everything one `bench delivery` run measured.
#[derive(Debug, Serialize)]
pub struct DeliveryReport {
    pub demands: usize,
    pub holders: usize,
    pub burst: usize,
    pub concurrency: usize,
    pub event_poll_ms: u64,
    pub runs: Vec<BackendRun>,
}

/// One backend's figures.
#[derive(Debug, Serialize)]
pub struct BackendRun {
    pub backend: &'static str,
    /// `POST /v1/demands`, sent to answered (the write has committed).
    pub post: Latency,
    /// POST sent → the event on the holder's stream, same replica.
    pub stream: Latency,
    /// POST sent → the event on the holder's stream on the other replica (PostgreSQL).
    pub stream_other_replica: Option<Latency>,
    /// POST sent → the webhook request at the holder's receiver.
    pub webhook: Latency,
    /// POST sent → the event in a page, for one holder paging every poll period
    /// (a client without SSE; the comparison for the stream).
    pub page_poll: Latency,
    pub burst: Burst,
}

/// The burst: everything sent at once.
#[derive(Debug, Serialize)]
pub struct Burst {
    /// Events expected on each channel (demands × holders).
    pub events: usize,
    /// From the first POST sent to the last one answered (the writes themselves).
    pub posted_seconds: f64,
    /// From the first POST sent to the last event on a stream.
    pub stream_seconds: f64,
    pub stream_events_per_second: f64,
    /// From the first POST sent to the last webhook received.
    pub webhook_seconds: f64,
    pub webhook_events_per_second: f64,
    /// Webhook requests received beyond one per event (at-least-once redeliveries).
    pub webhook_duplicates: usize,
    /// Events seen twice on one stream (must be 0).
    pub stream_duplicates: usize,
}

/// Runs the benchmark and returns the report.
pub async fn run(args: &DeliveryArgs, progress: Progress) -> Result<DeliveryReport> {
    if !(2..=MAX_BENCH_HOLDERS).contains(&args.holders) {
        bail!("--holders must be between 2 and {MAX_BENCH_HOLDERS}");
    }
    if args.demands == 0 || args.demands > MAX_BENCH_DEMANDS || args.burst > MAX_BENCH_DEMANDS {
        bail!("--demands must be 1–{MAX_BENCH_DEMANDS} and --burst at most {MAX_BENCH_DEMANDS}");
    }
    if !(1..=MAX_BENCH_CONCURRENCY).contains(&args.concurrency) {
        bail!("--concurrency must be between 1 and {MAX_BENCH_CONCURRENCY}");
    }
    if args.no_sqlite && args.postgres_url.is_none() {
        bail!("--no-sqlite needs --postgres-url");
    }
    let mut runs = Vec::new();
    if !args.no_sqlite {
        let _step = progress.spinner("SQLite, one replica");
        let a = Embedded::start("symbolon-bench-", config(args.seed, None)).await?;
        let r = measure("sqlite", args, progress, &a, None).await;
        a.stop().await?;
        runs.push(r?);
    }
    if let Some(admin) = &args.postgres_url {
        let _step = progress.spinner("PostgreSQL, two replicas");
        let db = ScratchDb::create(admin, "symbolon_bench_delivery").await?;
        let r = on_postgres(args, progress, &db).await;
        db.drop_database().await?;
        runs.push(r?);
    }
    Ok(DeliveryReport {
        demands: args.demands,
        holders: args.holders,
        burst: args.burst,
        concurrency: args.concurrency,
        event_poll_ms: ServerConfig::default().event_poll.as_millis() as u64,
        runs,
    })
}

async fn on_postgres(
    args: &DeliveryArgs,
    progress: Progress,
    db: &ScratchDb,
) -> Result<BackendRun> {
    let url = db.url()?;
    // Replicas share the master key; their id seeds differ so ids never collide.
    let servers = start_replicas(
        "symbolon-bench-",
        &config(args.seed, None),
        &url,
        args.seed,
        2,
    )
    .await?;
    let r = measure("postgres", args, progress, &servers[0], Some(&servers[1])).await;
    stop_all(servers).await?;
    r
}

// ---------------------------------------------------------------- arrivals

/// Where an event was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Channel {
    Stream,
    OtherReplica,
    Webhook,
    /// `GET /v1/events?after=` every poll period, as a client without SSE does.
    PagePoll,
}

/// First arrival of each (channel, holder, demand), and every event id seen.
#[derive(Default)]
struct Arrivals {
    first: Mutex<HashMap<(Channel, usize, String), Instant>>,
    seen: Mutex<HashMap<(Channel, usize), HashSet<String>>>,
    duplicates: Mutex<HashMap<Channel, usize>>,
    changed: Notify,
}

impl Arrivals {
    fn record(&self, ch: Channel, holder: usize, event_id: &str, demand: &str, at: Instant) {
        let fresh = lock(&self.seen)
            .entry((ch, holder))
            .or_default()
            .insert(event_id.to_string());
        if !fresh {
            *lock(&self.duplicates).entry(ch).or_default() += 1;
            return;
        }
        lock(&self.first)
            .entry((ch, holder, demand.to_string()))
            .or_insert(at);
        self.changed.notify_waiters();
    }

    /// Waits until every (channel, holder) has `demand`, and returns the arrivals.
    async fn wait(
        &self,
        keys: &[(Channel, usize)],
        demand: &str,
    ) -> Result<Vec<(Channel, Instant)>> {
        let deadline = Instant::now() + ARRIVAL_TIMEOUT;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let first = lock(&self.first);
                let got: Vec<_> = keys
                    .iter()
                    .filter_map(|(ch, h)| {
                        first.get(&(*ch, *h, demand.to_string())).map(|t| (*ch, *t))
                    })
                    .collect();
                if got.len() == keys.len() {
                    return Ok(got);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, notified).await.is_err() {
                bail!("demand {demand}: not every event arrived within {ARRIVAL_TIMEOUT:?}");
            }
        }
    }

    /// Records `e` if it is an interaction request (the only events measured).
    fn record_event(&self, ch: Channel, holder: usize, e: &api::Event, at: Instant) {
        if e.kind == "interaction.requested" {
            let demand = e.data["demand_id"].as_str().unwrap_or_default();
            self.record(ch, holder, &e.id, demand, at);
        }
    }

    fn duplicates(&self, ch: Channel) -> usize {
        lock(&self.duplicates).get(&ch).copied().unwrap_or(0)
    }
}

/// Follows `client`'s events, recording each `interaction.requested`.
fn follow(
    client: Client,
    ch: Channel,
    holder: usize,
    arrivals: Arc<Arrivals>,
) -> tokio::task::JoinHandle<Result<()>> {
    tokio::spawn(async move {
        let mut stream = client.event_stream(None).await?;
        while let Some(e) = stream.next().await? {
            arrivals.record_event(ch, holder, &e, Instant::now());
        }
        Ok(())
    })
}

/// Pages through `client`'s events every `period` (a client that polls),
/// recording each `interaction.requested`.
fn poll_pages(
    client: Client,
    holder: usize,
    period: Duration,
    arrivals: Arc<Arrivals>,
) -> tokio::task::JoinHandle<Result<()>> {
    tokio::spawn(async move {
        let mut after: Option<String> = None;
        loop {
            let page = client.events(after.as_deref(), Some(500)).await?;
            let at = Instant::now();
            for e in &page.events {
                arrivals.record_event(Channel::PagePoll, holder, e, at);
            }
            after = Some(page.next_after);
            tokio::time::sleep(period).await;
        }
    })
}

/// A webhook receiver on 127.0.0.1: `POST /h/<holder>` records the event and answers 204.
async fn receiver(arrivals: Arc<Arrivals>) -> Result<(String, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let arrivals = arrivals.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                    let arrivals = arrivals.clone();
                    async move {
                        let holder = req
                            .uri()
                            .path()
                            .strip_prefix("/h/")
                            .and_then(|h| h.parse::<usize>().ok());
                        let body = req.into_body().collect().await?.to_bytes();
                        let at = Instant::now();
                        let event = serde_json::from_slice::<api::Event>(&body);
                        let status = match (holder, event) {
                            (Some(h), Ok(e)) => {
                                arrivals.record_event(Channel::Webhook, h, &e, at);
                                204
                            }
                            _ => 400,
                        };
                        Ok::<_, hyper::Error>(
                            hyper::Response::builder()
                                .status(status)
                                .body(Empty::<Bytes>::new())
                                .unwrap_or_default(),
                        )
                    }
                });
                let io = hyper_util::rt::TokioIo::new(tcp);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, svc)
                    .await;
            });
        }
    });
    Ok((format!("http://{addr}"), task))
}

// ---------------------------------------------------------------- the run

fn demand(holders: usize) -> api::CreateDemand {
    api::CreateDemand {
        query: "espresso grinder".into(),
        category: None,
        max_price: None,
        holder: api::HolderCriteria::default(),
        min_holders: Some(2),
        max_holders: Some(holders as u32),
        ttl_seconds: Some(3600),
        wait: None,
    }
}

async fn measure(
    backend: &'static str,
    args: &DeliveryArgs,
    progress: Progress,
    a: &Embedded,
    b: Option<&Embedded>,
) -> Result<BackendRun> {
    let anon = Client::new(&a.url)?;
    let provider = register(&anon, "Bench Maker", api::Role::Provider)
        .await?
        .client;
    let product = provider
        .create_product(&api::CreateProduct {
            title: "Espresso grinder".into(),
            description: "Conical burrs, 40 settings".into(),
            category: "home/kitchen".into(),
            specs: Default::default(),
            price: api::Money::new("120.00", "USD"),
            stock: symbolon_core::limits::MAX_STOCK,
            gtin: None,
        })
        .await?;
    let pass = provider
        .create_pass(&api::CreatePass {
            product_id: product.id,
            mode: api::PassMode::Shareable,
            units: None,
            commission_bps: 500,
            valid_until: None,
        })
        .await?;
    let arrivals = Arc::new(Arrivals::default());
    let (hook_base, hook_task) = receiver(arrivals.clone()).await?;
    let mut followers = Vec::new();
    let mut keys = Vec::new();
    for h in 0..args.holders {
        let Acct {
            id, client: holder, ..
        } = register(&anon, &format!("Bench Holder {h}"), api::Role::Holder).await?;
        holder
            .set_holder_profile(&api::HolderProfileUpdate {
                fields: vec!["home".into()],
            })
            .await?;
        provider
            .grant(
                &pass.id,
                &api::CreateGrant {
                    holder_id: id,
                    units: None,
                },
            )
            .await?;
        holder.create_webhook(&format!("{hook_base}/h/{h}")).await?;
        followers.push(follow(holder.clone(), Channel::Stream, h, arrivals.clone()));
        keys.push((Channel::Stream, h));
        if h == 0 {
            let period = ServerConfig::default().event_poll;
            followers.push(poll_pages(holder.clone(), 0, period, arrivals.clone()));
            keys.push((Channel::PagePoll, 0));
        }
        keys.push((Channel::Webhook, h));
        if let Some(b) = b {
            let on_b = Client::new(&b.url)?.with_key(holder.api_key().unwrap_or_default());
            followers.push(follow(on_b, Channel::OtherReplica, h, arrivals.clone()));
            keys.push((Channel::OtherReplica, h));
        }
    }
    let mut requesters = Vec::new();
    for r in 0..args.concurrency {
        requesters.push(
            register(&anon, &format!("Bench Requester {r}"), api::Role::Requester)
                .await?
                .client,
        );
    }
    let result = timed(args, progress, &requesters, &arrivals, &keys).await;
    for f in followers {
        f.abort();
    }
    hook_task.abort();
    let (post, mut lat, burst) = result?;
    Ok(BackendRun {
        backend,
        post: Latency::of(&post),
        stream: Latency::of(lat.get(&Channel::Stream).map_or(&[][..], |v| v)),
        stream_other_replica: lat.remove(&Channel::OtherReplica).map(|v| Latency::of(&v)),
        webhook: Latency::of(lat.get(&Channel::Webhook).map_or(&[][..], |v| v)),
        page_poll: Latency::of(lat.get(&Channel::PagePoll).map_or(&[][..], |v| v)),
        burst,
    })
}

type Timings = (Vec<Duration>, HashMap<Channel, Vec<Duration>>, Burst);

async fn timed(
    args: &DeliveryArgs,
    progress: Progress,
    requesters: &[Client],
    arrivals: &Arrivals,
    keys: &[(Channel, usize)],
) -> Result<Timings> {
    let ask = demand(args.holders);
    let first = &requesters[0];
    let pb = progress.bar(
        (WARMUP_DEMANDS + args.demands) as u64,
        "demands, one at a time",
    );
    let mut post = Vec::new();
    let mut lat: HashMap<Channel, Vec<Duration>> = HashMap::new();
    // A demand sent right after the previous one's last arrival would be in
    // step with the other replica's poll ticks (and always wait a whole
    // period): a seeded random pause within one period breaks the step.
    let period = ServerConfig::default().event_poll;
    let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed);
    for i in 0..WARMUP_DEMANDS + args.demands {
        tokio::time::sleep(period.mul_f64(rng.random::<f64>())).await;
        let sent = Instant::now();
        let d = first
            .create_demand(&ask)
            .await
            .context("sending a demand")?;
        let answered = sent.elapsed();
        if d.contacted.len() != args.holders {
            bail!(
                "demand {} contacted {} holders, not {}",
                d.id,
                d.contacted.len(),
                args.holders
            );
        }
        let got = arrivals.wait(keys, &d.id).await?;
        if i >= WARMUP_DEMANDS {
            post.push(answered);
            for (ch, at) in got {
                lat.entry(ch).or_default().push(at.duration_since(sent));
            }
        }
        pb.inc(1);
    }
    pb.finish_and_clear();

    // The burst: every requester sends its share at once.
    let pb = progress.bar(args.burst as u64, "demands, all at once");
    let started = Instant::now();
    let per = args.burst.div_ceil(requesters.len());
    let mut tasks = tokio::task::JoinSet::new();
    for (r, client) in requesters.iter().enumerate() {
        let n = per.min(args.burst.saturating_sub(r * per));
        let (client, ask, pb) = (client.clone(), ask.clone(), pb.clone());
        tasks.spawn(async move {
            let mut ids = Vec::with_capacity(n);
            for _ in 0..n {
                ids.push(client.create_demand(&ask).await?.id);
                pb.inc(1);
            }
            Ok::<_, symbolon_client::ClientError>(ids)
        });
    }
    let mut ids = Vec::with_capacity(args.burst);
    while let Some(done) = tasks.join_next().await {
        ids.extend(
            done.context("a requester task panicked")?
                .context("sending a demand")?,
        );
    }
    let posted_seconds = started.elapsed().as_secs_f64();
    pb.finish_and_clear();
    let mut last: HashMap<Channel, Instant> = HashMap::new();
    for id in &ids {
        for (ch, at) in arrivals.wait(keys, id).await? {
            let l = last.entry(ch).or_insert(at);
            *l = (*l).max(at);
        }
    }
    let events = ids.len() * args.holders;
    let secs = |ch| {
        last.get(&ch)
            .map_or(0.0, |t: &Instant| t.duration_since(started).as_secs_f64())
    };
    let rate = |s: f64| if s > 0.0 { events as f64 / s } else { 0.0 };
    let (stream_seconds, webhook_seconds) = (secs(Channel::Stream), secs(Channel::Webhook));
    let burst = Burst {
        events,
        posted_seconds,
        stream_seconds,
        stream_events_per_second: rate(stream_seconds),
        webhook_seconds,
        webhook_events_per_second: rate(webhook_seconds),
        webhook_duplicates: arrivals.duplicates(Channel::Webhook),
        stream_duplicates: arrivals.duplicates(Channel::Stream)
            + arrivals.duplicates(Channel::OtherReplica),
    };
    Ok((post, lat, burst))
}

// ---------------------------------------------------------------- report

/// The report as tables.
pub fn render(r: &DeliveryReport) -> String {
    let mut out = format!(
        "Delivery: {} demands one at a time, each contacting {} holders; then {} at once from {} requesters.\n\
         Latency runs from sending POST /v1/demands to the event's arrival. Replicas poll every {} ms; a write wakes its own replica at once.\n",
        r.demands, r.holders, r.burst, r.concurrency, r.event_poll_ms
    );
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(["backend", "path", "n", "p50", "p90", "p99", "max"]);
    for run in &r.runs {
        let mut row = |name: &str, l: &Latency| {
            t.add_row(vec![
                run.backend.to_string(),
                name.to_string(),
                l.count.to_string(),
                fmt_ms(l.p50_ms),
                fmt_ms(l.p90_ms),
                fmt_ms(l.p99_ms),
                fmt_ms(l.max_ms),
            ]);
        };
        row("POST answered", &run.post);
        row("SSE, same replica", &run.stream);
        if let Some(o) = &run.stream_other_replica {
            row("SSE, other replica", o);
        }
        row("webhook", &run.webhook);
        row("page poll every period (1 holder)", &run.page_poll);
    }
    out.push_str(&t.to_string());
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header([
        "backend",
        "events",
        "POSTs: all answered",
        "SSE: all in",
        "SSE events/s",
        "webhooks: all in",
        "webhook events/s",
        "dup. webhooks",
        "dup. on streams",
    ]);
    for run in &r.runs {
        let b = &run.burst;
        t.add_row(vec![
            run.backend.to_string(),
            b.events.to_string(),
            format!("{:.2} s", b.posted_seconds),
            format!("{:.2} s", b.stream_seconds),
            fmt_rate(b.stream_events_per_second),
            format!("{:.2} s", b.webhook_seconds),
            fmt_rate(b.webhook_events_per_second),
            b.webhook_duplicates.to_string(),
            b.stream_duplicates.to_string(),
        ]);
    }
    out.push('\n');
    out.push_str(&t.to_string());
    out
}
