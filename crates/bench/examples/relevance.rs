//! `symbolon bench relevance` without the CLI: prints the report for a dataset folder.
use std::path::Path;
use symbolon_bench::{progress::Progress, relevance, render};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let dir = std::env::args().nth(1).expect("data dir");
    let r = relevance::run(Path::new(&dir), Progress { show: false }).await?;
    println!("{}", render::relevance_report(&r));
    Ok(())
}
