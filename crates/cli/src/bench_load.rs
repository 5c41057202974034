//! `symbolon bench load`: a real server under open-loop load over HTTP.
//!
//! * **Servers**: an embedded one on SQLite (a temp dir), `--replicas N`
//!   embedded ones sharing a fresh PostgreSQL scratch database made through
//!   `--database-url` (dropped afterwards), or a running one at `--server`.
//! * **Market**: the seeded synthetic market of `bench match`
//!   ([`symbolon_bench::market`], Zipf-like holdings), built over the API: one
//!   provider makes a product and a shareable pass per pass of the market and
//!   grants it to its holders; holders set their fields of focus.
//! * **History** (`--history N`): N past interactions (closed demands, each
//!   holder's request answered with an offer) written through the `Store`
//!   trait into the server's database before the load starts.
//! * **Holders** follow their event stream and answer every
//!   `interaction.requested` with an offer after `--think-ms`.
//! * **Requesters** (many accounts, each within
//!   `MAX_OPEN_DEMANDS_PER_REQUESTER` open demands, TTL `MIN_TTL_SECONDS`)
//!   follow their streams for `offer.created`. Demands are sent **open-loop**:
//!   demand i of a step is scheduled at `t0 + i / rate` on its own task and
//!   its latency runs from that intended time, so a slow server cannot slow
//!   the generator down (no coordinated omission). More than
//!   `--max-in-flight` unanswered demands are dropped and counted.
//! * **Report** per rate: achieved rate, ok / refused (`insufficient_holders`)
//!   / errors / dropped, p50/p99/p99.9 of `POST /v1/demands` and of demand sent
//!   → 2nd offer on the requester's stream; the maximum sustainable rate
//!   (p99 of the POST ≤ [`SUSTAINABLE_P99_MS`], no errors, none dropped); a
//!   table or `--json`, and an SVG plot ([`crate::bench_plot`]).

use crate::bench_market::{build_market, par_for, Built};
use crate::bench_servers::{config, lock, scratch, Fleet};
use crate::demo::register;
use crate::open_loop::schedule;
use anyhow::{bail, Context, Result};
use clap::Args;
use comfy_table::{presets, Table};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use symbolon_api as api;
use symbolon_bench::progress::Progress;
use symbolon_bench::stats::{fmt_ms, fmt_rate, Latency};
use symbolon_client::Client;
use symbolon_core::clock::Timestamp;
use symbolon_core::limits::{MAX_OPEN_DEMANDS_PER_REQUESTER, MIN_TTL_SECONDS};

/// A rate is sustainable when the POST's p99 is at most this (and nothing failed).
pub const SUSTAINABLE_P99_MS: f64 = 100.0;
/// Demands one requester has open at once, at most (half the per-account limit,
/// so a late expiry sweep never pushes a requester over it).
const DEMANDS_PER_REQUESTER: u64 = MAX_OPEN_DEMANDS_PER_REQUESTER / 2;
/// Requesters, at most.
const MAX_REQUESTERS: usize = 20_000;
/// Rates, at most (demands per second).
const MAX_RATE: u32 = 100_000;
/// Market setup calls in flight at once.
pub(crate) const SETUP_CONCURRENCY: usize = 16;
/// Demands sent one at a time before the first step, not measured.
const WARMUP_DEMANDS: usize = 20;
/// How long after a step's last send its 2nd offers may still arrive.
const DRAIN: Duration = Duration::from_secs(15);

#[derive(Args, Debug, Clone)]
pub struct LoadArgs {
    /// Listings (a pass in a holder's wallet), built over the API.
    #[arg(long, default_value_t = 10_000)]
    pub listings: usize,
    /// Holders (each follows its stream and answers with offers).
    #[arg(long, default_value_t = 200)]
    pub holders: usize,
    /// Passes (a product and a pass each). [default: listings / 4]
    #[arg(long)]
    pub passes: Option<usize>,
    /// Offered rates, demands per second, one step each.
    #[arg(long, value_delimiter = ',', default_value = "100,250,500,1000,2000")]
    pub rates: Vec<u32>,
    /// Seconds each rate is held.
    #[arg(long, default_value_t = 10.0)]
    pub step_secs: f64,
    /// A holder's think time before it offers.
    #[arg(long, default_value_t = 50)]
    pub think_ms: u64,
    /// Requester accounts. [default: enough for every demand of the run to stay
    /// within the per-account open-demand limit]
    #[arg(long)]
    pub requesters: Option<usize>,
    /// Past interactions (with offers) written through the store before the load.
    #[arg(long, default_value_t = 0)]
    pub history: usize,
    /// PostgreSQL admin URL: the servers share a fresh scratch database made
    /// through it (dropped afterwards). Without it: one embedded server on SQLite.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Embedded replicas on the PostgreSQL database (needs --database-url).
    #[arg(long, default_value_t = 1)]
    pub replicas: usize,
    /// Set from the global `--server URL` when it is on the command line: drive
    /// that running server instead (registration must be open; no --history).
    #[arg(skip)]
    pub server: Option<String>,
    /// Unanswered demands at once, at most; more are dropped and counted.
    #[arg(long, default_value_t = 20_000)]
    pub max_in_flight: usize,
    /// Where the SVG plot of latency against offered rate is written.
    #[arg(long, default_value = "bench-load.svg")]
    pub svg: PathBuf,
    /// Seed of the market and the demands.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// Everything one `bench load` run measured.
#[derive(Debug, Serialize)]
pub struct LoadReport {
    pub backend: String,
    pub replicas: usize,
    pub listings: usize,
    pub holders: usize,
    pub passes: usize,
    pub requesters: usize,
    pub history: usize,
    pub think_ms: u64,
    pub step_secs: f64,
    pub steps: Vec<Step>,
    /// The highest offered rate whose POST p99 ≤ 100 ms with no errors and none dropped.
    pub max_sustainable_rate: Option<u32>,
    /// Offers the holders failed to make (the server refused or did not answer).
    pub offer_errors: u64,
    pub svg: String,
}

/// One rate's figures.
#[derive(Debug, Serialize, Clone)]
pub struct Step {
    pub offered_rate: u32,
    /// Demands answered 201 per second, from the step's start to its last answer
    /// (a server that falls behind stretches the step, and this falls below the offered rate).
    pub achieved_rate: f64,
    /// Demands whose POST was sent (`ok + refused + errors`).
    pub sent: u64,
    pub ok: u64,
    /// 422 `insufficient_holders` (fewer than 2 holders qualified).
    pub refused: u64,
    /// Any other answer, or none.
    pub errors: u64,
    /// The errors by stable code (or HTTP status, or `no_answer`).
    pub errors_by_code: std::collections::BTreeMap<String, u64>,
    /// Not sent: `--max-in-flight` demands were unanswered.
    pub dropped: u64,
    /// Demands answered 201 that contacted at least 2 holders.
    pub expect_second_offer: u64,
    /// `POST /v1/demands`, intended send time → answer.
    pub post: Latency,
    /// Intended send time → the 2nd `offer.created` on the requester's stream.
    pub second_offer: Latency,
}

/// Runs the benchmark and returns the report.
pub async fn run(args: &LoadArgs, progress: Progress) -> Result<LoadReport> {
    check(args)?;
    if let Some(url) = &args.server {
        return measure("remote", None, std::slice::from_ref(url), args, progress).await;
    }
    match &args.database_url {
        None => {
            let mut fleet = Fleet::sqlite(server_config(), args.seed).await?;
            let urls = fleet.urls();
            let r = measure("sqlite", Some(&mut fleet), &urls, args, progress).await;
            fleet.stop().await?;
            r
        }
        Some(admin) => {
            let (db, url) = scratch(admin, "symbolon_bench_load").await?;
            let r = async {
                let mut fleet =
                    Fleet::postgres(server_config(), args.seed, &url, args.replicas).await?;
                let urls = fleet.urls();
                let r = measure("postgres", Some(&mut fleet), &urls, args, progress).await;
                fleet.stop().await?;
                r
            }
            .await;
            db.drop_database().await?;
            r
        }
    }
}

fn server_config() -> symbolon_server::ServerConfig {
    let mut c = config(0, None);
    // Thousands of streams and in-flight requests from one machine.
    c.max_connections = 200_000;
    c
}

fn check(args: &LoadArgs) -> Result<()> {
    if args.holders < 2 || args.listings < 2 {
        bail!("--holders and --listings must be at least 2");
    }
    if args.rates.is_empty() || args.rates.iter().any(|r| !(1..=MAX_RATE).contains(r)) {
        bail!("--rates must be 1–{MAX_RATE} demands per second each");
    }
    if !(args.step_secs > 0.0 && args.step_secs <= 3600.0) {
        bail!("--step-secs must be above 0 and at most 3600");
    }
    if args.replicas == 0 || (args.replicas > 1 && args.database_url.is_none()) {
        bail!("--replicas must be at least 1, and above 1 only with --database-url");
    }
    if args.server.is_some() && (args.database_url.is_some() || args.history > 0) {
        bail!("--server drives a running server: no --database-url or --history");
    }
    if args.max_in_flight == 0 {
        bail!("--max-in-flight must be at least 1");
    }
    if let Some(r) = args.requesters {
        if !(1..=MAX_REQUESTERS).contains(&r) {
            bail!("--requesters must be 1–{MAX_REQUESTERS}");
        }
    }
    Ok(())
}

/// Requesters enough that none has more than [`DEMANDS_PER_REQUESTER`] open:
/// demands live `MIN_TTL_SECONDS`, so count the most sent in any TTL window
/// (bounded above by all of them).
fn requesters_needed(args: &LoadArgs) -> usize {
    let total: f64 = args
        .rates
        .iter()
        .map(|r| f64::from(*r) * args.step_secs)
        .sum();
    let window: f64 = {
        let ttl = f64::from(MIN_TTL_SECONDS) + DRAIN.as_secs_f64();
        let mut best = 0.0f64;
        for i in 0..args.rates.len() {
            let (mut left, mut n) = (ttl, 0.0);
            for r in &args.rates[i..] {
                let t = left.min(args.step_secs);
                n += f64::from(*r) * t;
                left -= t;
                if left <= 0.0 {
                    break;
                }
            }
            best = best.max(n);
        }
        best.min(total)
    };
    ((window / DEMANDS_PER_REQUESTER as f64).ceil() as usize).clamp(2, MAX_REQUESTERS)
}

// ---------------------------------------------------------------- streams

/// What is known of one demand: when it was meant to be sent, and its offers' arrivals.
#[derive(Default)]
struct Track {
    intended: Option<(usize, Instant)>,
    offers: Vec<Instant>,
}

#[derive(Default)]
struct Tracks {
    by_demand: Mutex<HashMap<String, Track>>,
    offer_errors: AtomicU64,
}

/// Follows `client`'s stream for ever (reconnecting from the last id), calling `on` per event.
fn follow<F>(client: Client, on: F) -> tokio::task::JoinHandle<()>
where
    F: Fn(api::Event) + Send + 'static,
{
    tokio::spawn(async move {
        let mut last: Option<String> = None;
        loop {
            if let Ok(mut s) = client.event_stream(last.as_deref()).await {
                while let Ok(Some(e)) = s.next().await {
                    last = Some(e.id.clone());
                    on(e);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

/// A holder: every `interaction.requested` is answered with an offer of the
/// first matched pass after `think`.
fn holder_loop(
    client: Client,
    think: Duration,
    tracks: Arc<Tracks>,
) -> tokio::task::JoinHandle<()> {
    let c = client.clone();
    follow(c, move |e| {
        if e.kind != "interaction.requested" {
            return;
        }
        // Past requests (the history's, replayed on a new stream) are not answered.
        let deadline = match &e.data["deadline"] {
            serde_json::Value::Number(n) => n.as_i64().map(Timestamp::from_millis),
            serde_json::Value::String(s) => Timestamp::parse_rfc3339(s),
            _ => None,
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        if deadline.is_some_and(|d| d.millis() <= now) {
            return;
        }
        let interaction = e.data["interaction_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let pass = e.data["matched_pass_ids"][0]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let (client, tracks) = (client.clone(), tracks.clone());
        tokio::spawn(async move {
            tokio::time::sleep(think).await;
            let offer = api::CreateOffer {
                pass_id: pass,
                note: None,
            };
            if client.offer(&interaction, &offer).await.is_err() {
                tracks.offer_errors.fetch_add(1, Ordering::Relaxed);
            }
        });
    })
}

/// A requester: records when each `offer.created` arrives.
fn requester_loop(client: Client, tracks: Arc<Tracks>) -> tokio::task::JoinHandle<()> {
    follow(client, move |e| {
        if e.kind == "offer.created" {
            let at = Instant::now();
            let demand = e.data["demand_id"].as_str().unwrap_or_default().to_string();
            lock(&tracks.by_demand)
                .entry(demand)
                .or_default()
                .offers
                .push(at);
        }
    })
}

// ---------------------------------------------------------------- the run

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    refused: AtomicU64,
    errors: AtomicU64,
    expect_second: AtomicU64,
    post: Mutex<Vec<Duration>>,
    by_code: Mutex<std::collections::BTreeMap<String, u64>>,
}

async fn measure(
    backend: &str,
    fleet: Option<&mut Fleet>,
    urls: &[String],
    args: &LoadArgs,
    progress: Progress,
) -> Result<LoadReport> {
    let (mut built, passes) = build_market(urls, args, progress).await?;
    let mut history = 0;
    let mut urls = urls.to_vec();
    if args.history > 0 {
        let fleet = fleet.context("--history needs an embedded server")?;
        let past = crate::bench_history::register_requesters(&urls[0]).await?;
        let b = &built;
        history = fleet
            .paused(|store_url| async move {
                crate::bench_history::preload(
                    &store_url,
                    b,
                    &past,
                    args.history,
                    args.seed,
                    progress,
                )
                .await
            })
            .await?;
        // The servers came back on new ports: the holders' keys, on the new URLs.
        urls = fleet.urls();
        for (h, (_, client)) in built.holders.iter_mut().enumerate() {
            let key = client.api_key().unwrap_or_default().to_string();
            *client = Client::new(&urls[h % urls.len()])?.with_key(&key);
        }
    }
    let urls = &urls[..];
    let tracks = Arc::new(Tracks::default());
    let mut followers = Vec::new();
    for (_, client) in &built.holders {
        followers.push(holder_loop(
            client.clone(),
            Duration::from_millis(args.think_ms),
            tracks.clone(),
        ));
    }
    let n_requesters = args.requesters.unwrap_or_else(|| requesters_needed(args));
    let pb = progress.bar(n_requesters as u64, "requesters");
    let requesters: Arc<Vec<Mutex<Option<Client>>>> =
        Arc::new((0..n_requesters).map(|_| Mutex::default()).collect());
    {
        let (requesters, urls) = (requesters.clone(), urls.to_vec());
        par_for(n_requesters, SETUP_CONCURRENCY, &pb, move |r| {
            let (requesters, url) = (requesters.clone(), urls[r % urls.len()].clone());
            async move {
                let anon = Client::new(&url)?;
                let acct =
                    register(&anon, &format!("Load Requester {r}"), api::Role::Requester).await?;
                *lock(&requesters[r]) = Some(acct.client);
                Ok(())
            }
        })
        .await?;
    }
    pb.finish_and_clear();
    let requesters: Vec<Client> = requesters
        .iter()
        .map(|m| lock(m).clone().context("a requester was not registered"))
        .collect::<Result<_>>()?;
    for c in &requesters {
        followers.push(requester_loop(c.clone(), tracks.clone()));
    }
    // Streams open before the first demand.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let result = steps(args, &built, &requesters, &tracks, progress).await;
    for f in followers {
        f.abort();
    }
    let steps = result?;
    let max_sustainable_rate = steps
        .iter()
        .filter(|s| s.errors == 0 && s.dropped == 0 && s.post.p99_ms <= SUSTAINABLE_P99_MS)
        .map(|s| s.offered_rate)
        .max();
    crate::bench_plot::write_svg(&args.svg, &steps)
        .with_context(|| format!("writing {}", args.svg.display()))?;
    Ok(LoadReport {
        backend: backend.to_string(),
        replicas: urls.len(),
        listings: built.holder_passes.iter().map(Vec::len).sum(),
        holders: built.holders.len(),
        passes,
        requesters: requesters.len(),
        history,
        think_ms: args.think_ms,
        step_secs: args.step_secs,
        steps,
        max_sustainable_rate,
        offer_errors: tracks.offer_errors.load(Ordering::Relaxed),
        svg: args.svg.display().to_string(),
    })
}

async fn steps(
    args: &LoadArgs,
    built: &Built,
    requesters: &[Client],
    tracks: &Arc<Tracks>,
    progress: Progress,
) -> Result<Vec<Step>> {
    let mut rng = StdRng::seed_from_u64(args.seed ^ 0x10ad);
    let total: u64 = args
        .rates
        .iter()
        .map(|r| (f64::from(*r) * args.step_secs).round() as u64)
        .sum();
    let mut next_requester = 0usize;
    // Warm-up, not measured: the first demand after the market was built
    // brings the engine up to it (a full read and index commit, once), and
    // connections open. Measured steps then see the steady state.
    for i in 0..WARMUP_DEMANDS {
        let client = &requesters[next_requester % requesters.len()];
        next_requester += 1;
        let ask = demand_ask(&built.demandable[i % built.demandable.len()]);
        // A refusal or an error here shows again, measured, in the steps.
        let _ = client.create_demand(&ask).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pb = progress.bar(total, "demands");
    let mut out = Vec::new();
    for (step, &rate) in args.rates.iter().enumerate() {
        pb.set_message(format!("demands at {rate}/s"));
        let n = (f64::from(rate) * args.step_secs).round() as u64;
        let counts = Arc::new(Counts::default());
        let began = Instant::now();
        let (done, mut tasks) = schedule(f64::from(rate), n, args.max_in_flight, |_, intended| {
            pb.inc(1);
            let client = requesters[next_requester % requesters.len()].clone();
            next_requester += 1;
            let ask = demand_ask(&built.demandable[rng.random_range(0..built.demandable.len())]);
            let (counts, tracks) = (counts.clone(), tracks.clone());
            async move {
                let res = client.create_demand(&ask).await;
                let took = intended.elapsed();
                match res {
                    Ok(d) => {
                        counts.ok.fetch_add(1, Ordering::Relaxed);
                        lock(&counts.post).push(took);
                        if d.contacted.len() >= 2 {
                            counts.expect_second.fetch_add(1, Ordering::Relaxed);
                            lock(&tracks.by_demand).entry(d.id).or_default().intended =
                                Some((step, intended));
                        }
                    }
                    Err(e) if e.code() == Some("insufficient_holders") => {
                        counts.refused.fetch_add(1, Ordering::Relaxed);
                        lock(&counts.post).push(took);
                    }
                    Err(e) => {
                        counts.errors.fetch_add(1, Ordering::Relaxed);
                        let code = match (e.code(), e.status()) {
                            (Some(c), _) => c.to_string(),
                            (None, Some(s)) => format!("http_{s}"),
                            (None, None) => "no_answer".to_string(),
                        };
                        *lock(&counts.by_code).entry(code).or_default() += 1;
                    }
                }
            }
        })
        .await;
        pb.inc(done.dropped);
        while tasks.join_next().await.is_some() {}
        let span = began.elapsed().as_secs_f64().max(args.step_secs);
        // Wait (bounded) for every 2nd offer of this step.
        let expect = counts.expect_second.load(Ordering::Relaxed) as usize;
        let deadline = Instant::now() + DRAIN;
        let seconds = loop {
            let got = second_offers(tracks, step);
            if got.len() >= expect || Instant::now() >= deadline {
                break got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let ok = counts.ok.load(Ordering::Relaxed);
        out.push(Step {
            offered_rate: rate,
            achieved_rate: ok as f64 / span,
            sent: done.started,
            ok,
            refused: counts.refused.load(Ordering::Relaxed),
            errors: counts.errors.load(Ordering::Relaxed),
            errors_by_code: lock(&counts.by_code).clone(),
            dropped: done.dropped,
            expect_second_offer: expect as u64,
            post: Latency::of(&lock(&counts.post)),
            second_offer: Latency::of(&seconds),
        });
    }
    pb.finish_and_clear();
    Ok(out)
}

/// The demand every step sends (and the warm-up): `query`, 2–5 holders, the
/// shortest TTL.
fn demand_ask(query: &str) -> api::CreateDemand {
    api::CreateDemand {
        query: query.to_string(),
        category: None,
        max_price: None,
        holder: api::HolderCriteria::default(),
        min_holders: Some(2),
        max_holders: Some(5),
        ttl_seconds: Some(MIN_TTL_SECONDS),
        wait: None,
    }
}

/// Intended send → 2nd offer, for the demands of `step` that have two offers.
fn second_offers(tracks: &Tracks, step: usize) -> Vec<Duration> {
    lock(&tracks.by_demand)
        .values()
        .filter_map(|t| match (t.intended, t.offers.len() >= 2) {
            (Some((s, at)), true) if s == step => {
                let mut o = t.offers.clone();
                o.sort();
                Some(o[1].saturating_duration_since(at))
            }
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------- report

/// The report as a table.
pub fn render(r: &LoadReport) -> String {
    let mut out = format!(
        "Load on {} ({} replica(s)): {} listings of {} passes, {} holders (think {} ms), {} requesters, {} past interactions; {} s per rate.\n\
         Latency runs from each demand's intended send time (open loop). refused = 422 insufficient_holders.\n",
        r.backend, r.replicas, r.listings, r.passes, r.holders, r.think_ms, r.requesters, r.history, r.step_secs
    );
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header([
        "offered/s",
        "achieved/s",
        "sent",
        "refused",
        "errors",
        "dropped",
        "POST p50",
        "POST p99",
        "POST p99.9",
        "2nd offer p50",
        "2nd offer p99",
        "2nd offer p99.9",
        "2nd offers",
    ]);
    for s in &r.steps {
        t.add_row(vec![
            fmt_rate(f64::from(s.offered_rate)),
            fmt_rate(s.achieved_rate),
            s.sent.to_string(),
            s.refused.to_string(),
            s.errors.to_string(),
            s.dropped.to_string(),
            fmt_ms(s.post.p50_ms),
            fmt_ms(s.post.p99_ms),
            fmt_ms(s.post.p999_ms),
            fmt_ms(s.second_offer.p50_ms),
            fmt_ms(s.second_offer.p99_ms),
            fmt_ms(s.second_offer.p999_ms),
            format!("{}/{}", s.second_offer.count, s.expect_second_offer),
        ]);
    }
    out.push_str(&t.to_string());
    out.push_str(&match r.max_sustainable_rate {
        Some(m) => format!(
            "\nMaximum sustainable rate (POST p99 ≤ {SUSTAINABLE_P99_MS} ms, no errors): {m} demands/s"
        ),
        None => format!("\nNo rate was sustainable (POST p99 ≤ {SUSTAINABLE_P99_MS} ms, no errors)"),
    });
    for s in r.steps.iter().filter(|s| s.errors > 0) {
        let codes: Vec<String> = s
            .errors_by_code
            .iter()
            .map(|(c, n)| format!("{c} × {n}"))
            .collect();
        out.push_str(&format!(
            "\nErrors at {}/s: {}",
            s.offered_rate,
            codes.join(", ")
        ));
    }
    out.push_str(&format!(
        "\nOffer errors: {}. Plot: {}",
        r.offer_errors, r.svg
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: LoadArgs,
    }

    #[test]
    fn enough_requesters_for_the_open_demand_limit() {
        let a = T::parse_from(["t", "--rates", "100,2000", "--step-secs", "10"]).a;
        // The busiest 75 s window: 10 s at 100/s and 10 s at 2000/s.
        assert_eq!(requesters_needed(&a), 21_000usize.div_ceil(50));
        let a = T::parse_from(["t", "--rates", "1", "--step-secs", "1"]).a;
        assert_eq!(requesters_needed(&a), 2);
        assert!(check(&T::parse_from(["t", "--rates", "0"]).a).is_err());
        assert!(check(&T::parse_from(["t", "--replicas", "2"]).a).is_err());
        assert!(check(&T::parse_from(["t"]).a).is_ok());
    }
}
