//! `symbolon bench match`: the indexed engine on a synthetic market — build
//! rate, single-thread latency, all-core throughput, memory per listing, a
//! sanity check against the exact matcher — and the same demands through the
//! SQL full-text baselines.

use crate::api::{Engine, ExactMatcher, Market, Matcher};
use crate::baseline::{Baseline, PgFts, SqliteFts};
use crate::market::{self, Demand};
use crate::progress::Progress;
use crate::stats::{Latency, Rss};
use anyhow::Context;
use serde::Serialize;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

/// Demands answered once before timing starts.
pub const WARM_UP: usize = 20;

/// What to run.
#[derive(Debug, Clone)]
pub struct MatchOptions {
    pub listings: usize,
    pub holders: usize,
    pub passes: usize,
    pub demands: usize,
    pub seed: u64,
    /// Run the PostgreSQL baseline through this server (a fresh database is created and dropped).
    pub postgres_url: Option<String>,
    /// Run the SQLite FTS5 baseline.
    pub sqlite: bool,
    /// Ask the baselines only this many demands (evenly spread); all when `None`.
    pub baseline_demands: Option<usize>,
    /// Demands compared with the exact matcher (fewer if the time budget runs out).
    pub sanity_demands: usize,
    /// Time allowed for the exact matcher.
    pub sanity_budget: Duration,
    /// Threads for the throughput run (all cores when `None`).
    pub threads: Option<usize>,
}

impl Default for MatchOptions {
    fn default() -> Self {
        Self {
            listings: 1_000_000,
            holders: 100_000,
            passes: 200_000,
            demands: 10_000,
            seed: 42,
            postgres_url: None,
            sqlite: true,
            baseline_demands: None,
            sanity_demands: 200,
            sanity_budget: Duration::from_secs(120),
            threads: None,
        }
    }
}

/// The market and machine a report was measured on.
#[derive(Debug, Clone, Serialize)]
pub struct MarketShape {
    pub seed: u64,
    pub passes: usize,
    pub listings: usize,
    pub holders: usize,
    pub demands: usize,
    pub generate_secs: f64,
    pub cores: usize,
    pub cpu: String,
}

/// Resident memory of the engine's in-memory state.
#[derive(Debug, Clone, Serialize)]
pub struct Memory {
    /// Growth of anonymous resident memory (heap) across `Engine::open` + `sync`,
    /// with the text index in a directory (its mmapped pages are file-backed).
    pub anon_delta_bytes: i64,
    /// Growth of all resident memory (heap + mapped index pages) across the same.
    pub rss_delta_bytes: i64,
    /// `anon_delta_bytes / listings`.
    pub bytes_per_listing: f64,
    /// The text index on disk.
    pub index_bytes_on_disk: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EngineReport {
    pub build_secs: f64,
    pub listings_per_sec: f64,
    pub passes_per_sec: f64,
    /// One thread, every demand.
    pub latency: Latency,
    pub threads: usize,
    pub throughput_per_sec: f64,
    pub memory: Option<Memory>,
    /// Share of demands with at least `min_holders` qualified holders.
    pub satisfied_share: f64,
    /// Mean number of holders returned.
    pub mean_returned: f64,
}

/// The engine against the exact matcher on a sample of demands.
#[derive(Debug, Clone, Serialize)]
pub struct Sanity {
    pub demands: usize,
    /// Share of demands where both give the same top holder (or both none).
    pub top_holder_agreement: f64,
    /// Share of demands where both give the same ranked list.
    pub full_list_agreement: f64,
    pub exact_latency: Latency,
    /// Why fewer demands than asked were compared, if so.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BaselineReport {
    pub name: String,
    pub load_secs: f64,
    pub latency: Latency,
    /// The engine on exactly the same demands.
    pub engine_latency: Latency,
    /// Baseline ÷ engine.
    pub ratio_p50: f64,
    pub ratio_p99: f64,
    pub ratio_p999: f64,
    /// Share of demands where the baseline's top holder is the engine's.
    pub top_holder_agreement: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Goal {
    pub goal: String,
    pub measured: String,
    /// `None` when this run cannot tell (e.g. the market is smaller than the goal's).
    pub met: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MatchReport {
    pub market: MarketShape,
    pub engine: EngineReport,
    pub sanity: Option<Sanity>,
    pub baselines: Vec<BaselineReport>,
    pub goals: Vec<Goal>,
}

/// The engine under test, built from `market` with its index in `dir`.
/// Returns the engine and the seconds the build took.
pub fn build_engine(
    market: &Market,
    dir: &Path,
    progress: Progress,
) -> anyhow::Result<(Engine, f64)> {
    let pb = progress.bar(market.passes.len() as u64, "engine: indexing passes");
    let t = Instant::now();
    let engine = Engine::open(dir).context("opening the engine")?;
    engine
        .sync_versioned(market, 0, &|done, _| pb.set_position(done))
        .context("building the engine")?;
    let secs = t.elapsed().as_secs_f64();
    pb.finish_and_clear();
    Ok((engine, secs))
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn ids(r: &[crate::api::RankedHolder]) -> Vec<String> {
    r.iter().map(|h| h.holder_id.clone()).collect()
}

/// Evenly spread indices of `k` of `n` items.
fn spread(n: usize, k: usize) -> Vec<usize> {
    let k = k.min(n);
    (0..k).map(|i| i * n / k).collect()
}

/// What the engine answered each demand, and how long it took.
struct EngineRun {
    times: Vec<Duration>,
    top: Vec<Option<String>>,
}

async fn run_baseline<B: Baseline>(
    name: &str,
    b: &mut B,
    load_secs: f64,
    demands: &[Demand],
    picked: &[usize],
    engine: &EngineRun,
    progress: Progress,
) -> anyhow::Result<BaselineReport> {
    let pb = progress.bar(picked.len() as u64, &format!("{name}: demands"));
    let mut times = Vec::with_capacity(picked.len());
    let mut agree = 0usize;
    for &i in picked {
        let t = Instant::now();
        let got = b.rank(&demands[i]).await?;
        times.push(t.elapsed());
        if got.first() == engine.top[i].as_ref() {
            agree += 1;
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    let latency = Latency::of(&times);
    let engine_latency = Latency::of(&picked.iter().map(|&i| engine.times[i]).collect::<Vec<_>>());
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    Ok(BaselineReport {
        name: name.to_string(),
        load_secs,
        ratio_p50: ratio(latency.p50_ms, engine_latency.p50_ms),
        ratio_p99: ratio(latency.p99_ms, engine_latency.p99_ms),
        ratio_p999: ratio(latency.p999_ms, engine_latency.p999_ms),
        latency,
        engine_latency,
        top_holder_agreement: agree as f64 / picked.len().max(1) as f64,
    })
}

/// Runs the whole match benchmark.
pub async fn run(opts: &MatchOptions, progress: Progress) -> anyhow::Result<MatchReport> {
    let sp = progress.spinner("generating the market");
    let t = Instant::now();
    let (market, demands) = market::generate(
        opts.seed,
        opts.listings,
        opts.holders,
        opts.passes,
        opts.demands,
    );
    let generate_secs = t.elapsed().as_secs_f64();
    sp.finish_and_clear();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let shape = MarketShape {
        seed: opts.seed,
        passes: market.passes.len(),
        listings: market.listings.len(),
        holders: market.holders.len(),
        demands: demands.len(),
        generate_secs,
        cores,
        cpu: cpu_model(),
    };

    // Build, measuring resident memory around it.
    let index_dir = tempfile::tempdir().context("creating a temp dir for the index")?;
    let before = Rss::now();
    let (engine, build_secs) = build_engine(&market, index_dir.path(), progress)?;
    let after = Rss::now();
    let memory = before.zip(after).map(|(b, a)| {
        let anon = a.anon as i64 - b.anon as i64;
        Memory {
            anon_delta_bytes: anon,
            rss_delta_bytes: a.total as i64 - b.total as i64,
            bytes_per_listing: anon as f64 / shape.listings.max(1) as f64,
            index_bytes_on_disk: dir_size(index_dir.path()),
        }
    });

    // Warm-up: one-time costs (e.g. loading the CJK dictionary) are not latency.
    for d in demands.iter().take(WARM_UP) {
        black_box(engine.rank(&d.query, d.max_holders as usize));
    }

    // Latency: one thread, every demand.
    let pb = progress.bar(demands.len() as u64, "engine: demands, one thread");
    let mut times = Vec::with_capacity(demands.len());
    let mut engine_top: Vec<Option<String>> = Vec::with_capacity(demands.len());
    let mut engine_lists: Vec<Vec<String>> = Vec::with_capacity(demands.len());
    let (mut satisfied, mut returned) = (0usize, 0usize);
    for d in &demands {
        let t = Instant::now();
        let r = engine.rank(&d.query, d.max_holders as usize);
        times.push(t.elapsed());
        satisfied += usize::from(r.len() >= d.min_holders as usize);
        returned += r.len();
        engine_top.push(r.first().map(|h| h.holder_id.clone()));
        engine_lists.push(ids(&r));
        pb.inc(1);
    }
    pb.finish_and_clear();
    let latency = Latency::of(&times);

    // Throughput: every core, the demands split between threads.
    let threads = opts.threads.unwrap_or(cores).max(1);
    let sp = progress.spinner(&format!("engine: throughput on {threads} threads"));
    let t = Instant::now();
    std::thread::scope(|s| {
        for k in 0..threads {
            let (engine, demands) = (&engine, &demands);
            s.spawn(move || {
                for d in demands.iter().skip(k).step_by(threads) {
                    black_box(engine.rank(&d.query, d.max_holders as usize));
                }
            });
        }
    });
    let throughput = demands.len() as f64 / t.elapsed().as_secs_f64();
    sp.finish_and_clear();

    let n = demands.len().max(1) as f64;
    let engine_report = EngineReport {
        build_secs,
        listings_per_sec: shape.listings as f64 / build_secs,
        passes_per_sec: shape.passes as f64 / build_secs,
        latency,
        threads,
        throughput_per_sec: throughput,
        memory,
        satisfied_share: satisfied as f64 / n,
        mean_returned: returned as f64 / n,
    };
    drop(engine);
    drop(index_dir);

    let sanity = sanity_check(opts, &market, &demands, &engine_lists, progress);

    let run = EngineRun {
        times,
        top: engine_top,
    };
    let picked = spread(
        demands.len(),
        opts.baseline_demands.unwrap_or(demands.len()),
    );
    let mut baselines = Vec::new();
    if opts.sqlite {
        let t = Instant::now();
        let mut b = SqliteFts::load(&market, progress).await?;
        let load = t.elapsed().as_secs_f64();
        baselines.push(
            run_baseline(
                "SQLite FTS5",
                &mut b,
                load,
                &demands,
                &picked,
                &run,
                progress,
            )
            .await?,
        );
    }
    if let Some(url) = &opts.postgres_url {
        let t = Instant::now();
        let mut b = PgFts::load(url, &market, progress).await?;
        let load = t.elapsed().as_secs_f64();
        let r = run_baseline(
            "PostgreSQL FTS",
            &mut b,
            load,
            &demands,
            &picked,
            &run,
            progress,
        )
        .await;
        let dropped = b.drop_database().await;
        baselines.push(r?);
        dropped?;
    }

    let goals = goals(&shape, &engine_report, &baselines);
    Ok(MatchReport {
        market: shape,
        engine: engine_report,
        sanity,
        baselines,
        goals,
    })
}

fn sanity_check(
    opts: &MatchOptions,
    market: &Market,
    demands: &[Demand],
    engine_lists: &[Vec<String>],
    progress: Progress,
) -> Option<Sanity> {
    if opts.sanity_demands == 0 || demands.is_empty() {
        return None;
    }
    let sp = progress.spinner("exact matcher: building");
    let exact = ExactMatcher::new(market.clone());
    sp.finish_and_clear();
    let picked = spread(demands.len(), opts.sanity_demands);
    let pb = progress.bar(picked.len() as u64, "exact matcher: sanity sample");
    let start = Instant::now();
    let (mut times, mut top, mut full) = (Vec::new(), 0usize, 0usize);
    let mut note = None;
    for (k, &i) in picked.iter().enumerate() {
        let d = &demands[i];
        let t = Instant::now();
        let r = ids(&exact.rank(&d.query, d.max_holders as usize));
        times.push(t.elapsed());
        top += usize::from(r.first() == engine_lists[i].first());
        full += usize::from(r == engine_lists[i]);
        pb.inc(1);
        // Stop when the rest would not fit in the budget.
        let spent = start.elapsed();
        let per = spent / (k as u32 + 1);
        if k + 1 < picked.len() && spent + per > opts.sanity_budget {
            note = Some(format!(
                "stopped after {} of {} demands: the exact matcher takes {:.0} ms per demand here \
                 and the budget is {} s",
                k + 1,
                picked.len(),
                per.as_secs_f64() * 1e3,
                opts.sanity_budget.as_secs()
            ));
            break;
        }
    }
    pb.finish_and_clear();
    let n = times.len().max(1) as f64;
    Some(Sanity {
        demands: times.len(),
        top_holder_agreement: top as f64 / n,
        full_list_agreement: full as f64 / n,
        exact_latency: Latency::of(&times),
        note,
    })
}

fn goals(shape: &MarketShape, e: &EngineReport, baselines: &[BaselineReport]) -> Vec<Goal> {
    let at_1m = shape.listings >= 1_000_000;
    let mut g = vec![Goal {
        goal: "p99 ≤ 2 ms at 1M listings, one thread".into(),
        measured: format!(
            "p99 {:.3} ms at {} listings",
            e.latency.p99_ms,
            crate::stats::fmt_rate(shape.listings as f64)
        ),
        met: at_1m.then_some(e.latency.p99_ms <= 2.0),
    }];
    for (name, target) in [("SQLite FTS5", 10.0), ("PostgreSQL FTS", 20.0)] {
        let b = baselines.iter().find(|b| b.name == name);
        g.push(Goal {
            goal: format!("≥ {target}× faster than {name} at p99"),
            measured: b.map_or("not run".into(), |b| format!("{:.1}×", b.ratio_p99)),
            met: b.map(|b| b.ratio_p99 >= target),
        });
    }
    g.push(Goal {
        goal: "≤ 600 B per listing beyond the text index".into(),
        measured: e.memory.as_ref().map_or("unavailable".into(), |m| {
            format!("{:.0} B", m.bytes_per_listing)
        }),
        met: e.memory.as_ref().map(|m| m.bytes_per_listing <= 600.0),
    });
    g.push(Goal {
        goal: "build ≥ 100 000 listings/s".into(),
        measured: format!("{} listings/s", crate::stats::fmt_rate(e.listings_per_sec)),
        met: Some(e.listings_per_sec >= 100_000.0),
    });
    g
}
