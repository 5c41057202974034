//! API commands (being written).
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum ApiCommand {
    /// Show the balance of the account.
    Balance,
}

pub struct Context {
    pub server: String,
    pub key: Option<String>,
    pub json: bool,
}

pub async fn run(cmd: ApiCommand, ctx: &Context) -> anyhow::Result<()> {
    let client = symbolon_client::Client::new(&ctx.server)?;
    let client = match &ctx.key { Some(k) => client.with_key(k), None => client };
    match cmd {
        ApiCommand::Balance => {
            let b = client.balance().await?;
            crate::output::print_json(&b);
        }
    }
    Ok(())
}
