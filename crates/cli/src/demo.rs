//! The demo (being written).
use clap::Args;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Leave the server running and print its URL and keys.
    #[arg(long)]
    pub keep: bool,
}

pub async fn run(_args: DemoArgs) -> anyhow::Result<()> {
    anyhow::bail!("the demo is being written")
}
