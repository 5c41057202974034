//! Benchmarks of Symbolon's matching, driven by `symbolon bench`.
//!
//! * [`market`]: a seeded synthetic market with realistic skew, and demands on it.
//! * [`matching`]: `bench match` — the indexed engine's build rate, latency,
//!   throughput and memory, a sanity check against the exact matcher, and the
//!   same demands through SQL full-text baselines ([`baseline`]).
//! * [`relevance`]: `bench relevance` — recall@k on a product-matching dataset
//!   (Walmart-Amazon) for the engine, plain BM25 ([`bm25`]) and SQLite FTS5,
//!   and the relevance floor's curve over absent products ([`plot`] draws it).
//!
//! Results go to stdout as tables, or JSON with `--json`; progress bars go to
//! stderr and are hidden with `--json`.

pub mod api;
pub mod baseline;
pub mod bm25;
pub mod market;
pub mod matching;
pub mod plot;
pub mod progress;
pub mod relevance;
pub mod render;
pub mod scratch;
pub mod stats;
pub mod vocab;

use clap::{Args, Subcommand};
use progress::Progress;
use std::path::PathBuf;
use std::time::Duration;

/// `symbolon bench …`
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// The matching engine on a synthetic market: build rate, latency, throughput, memory,
    /// and the same demands through SQLite FTS5 (and PostgreSQL with --postgres-url).
    Match(MatchArgs),
    /// Recall@1/5/10 and latency of the engine, plain BM25 and SQLite FTS5 on a product-matching
    /// dataset folder (walmart.csv, amazon.csv, gt.csv), and the relevance floor's curve with
    /// absent products (table, and an SVG plot).
    Relevance(RelevanceArgs),
}

#[derive(Args, Debug)]
pub struct MatchArgs {
    /// Listings (a pass in a holder's wallet).
    #[arg(long, default_value_t = 1_000_000)]
    pub listings: usize,
    /// Holders (distributors, agents, affiliates).
    #[arg(long, default_value_t = 100_000)]
    pub holders: usize,
    /// Passes (products with their text).
    #[arg(long, default_value_t = 200_000)]
    pub passes: usize,
    /// Demands, each asked of the engine (and of the baselines, see --baseline-demands).
    #[arg(long, default_value_t = 10_000)]
    pub demands: usize,
    /// Seed of the synthetic market and demands.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Also run the PostgreSQL full-text baseline (a fresh database is created, then dropped).
    #[arg(long)]
    pub postgres_url: Option<String>,
    /// Skip the SQLite FTS5 baseline.
    #[arg(long)]
    pub no_sqlite: bool,
    /// Ask the baselines only this many of the demands (evenly spread). [default: all]
    #[arg(long)]
    pub baseline_demands: Option<usize>,
    /// Demands compared with the exact matcher (0 to skip).
    #[arg(long, default_value_t = 200)]
    pub sanity_demands: usize,
    /// Seconds allowed for the exact-matcher comparison.
    #[arg(long, default_value_t = 120)]
    pub sanity_budget_secs: u64,
    /// Threads for the throughput run. [default: all cores]
    #[arg(long)]
    pub threads: Option<usize>,
}

impl MatchArgs {
    pub fn options(&self) -> matching::MatchOptions {
        matching::MatchOptions {
            listings: self.listings,
            holders: self.holders,
            passes: self.passes,
            demands: self.demands,
            seed: self.seed,
            postgres_url: self.postgres_url.clone(),
            sqlite: !self.no_sqlite,
            baseline_demands: self.baseline_demands,
            sanity_demands: self.sanity_demands,
            sanity_budget: Duration::from_secs(self.sanity_budget_secs),
            threads: self.threads,
        }
    }
}

#[derive(Args, Debug)]
pub struct RelevanceArgs {
    /// Folder with walmart.csv (queries), amazon.csv (corpus) and gt.csv (D1|D2 pairs).
    #[arg(long)]
    pub data: PathBuf,
    /// Where to write the SVG plot of the floor curve.
    #[arg(long, default_value = "bench-relevance.svg")]
    pub plot: PathBuf,
}

/// Runs a bench command; `json` prints JSON instead of tables and hides progress.
pub async fn run(cmd: BenchCommand, json: bool) -> anyhow::Result<()> {
    let progress = Progress { show: !json };
    match cmd {
        BenchCommand::Match(args) => {
            let report = matching::run(&args.options(), progress).await?;
            if json {
                render::print_json(&report);
            } else {
                println!("{}", render::match_report(&report));
            }
        }
        BenchCommand::Relevance(args) => {
            let report = relevance::run(&args.data, progress).await?;
            plot::relevance_svg(&args.plot, &report)?;
            if !json {
                eprintln!("floor curve plotted to {}", args.plot.display());
            }
            if json {
                render::print_json(&report);
            } else {
                println!("{}", render::relevance_report(&report));
            }
        }
    }
    Ok(())
}
