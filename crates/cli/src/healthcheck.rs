//! `symbolon healthcheck`: asks a server on this machine whether it is
//! ready (`/readyz`) or alive (`/healthz`), for container health checks and
//! scripts; exits 0 when it is, 1 when not.

use anyhow::Context;
use clap::Args;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// How long the whole check may take.
pub const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Args, Debug)]
pub struct HealthcheckArgs {
    /// The server's base URL. [default: the `listen` setting (config file from
    /// `SYMBOLON_CONFIG`, `SYMBOLON_LISTEN`), with an unspecified address as loopback]
    #[arg(long)]
    pub url: Option<String>,
    /// Check liveness (`/healthz`) instead of readiness (`/readyz`).
    #[arg(long)]
    pub live: bool,
}

/// Where a server listening on `listen` is reached from this machine.
pub fn local_url(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, listen.port()))
}

pub async fn run(args: HealthcheckArgs, listen: SocketAddr, json: bool) -> anyhow::Result<()> {
    let base = args.url.unwrap_or_else(|| local_url(listen));
    let path = if args.live { "/healthz" } else { "/readyz" };
    let url = format!("{}{path}", base.trim_end_matches('/'));
    // Straight to the local server, whatever HTTP(S)_PROXY says.
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(HEALTHCHECK_TIMEOUT)
        .build()?;
    let resp = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("{url}: no answer"))?;
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    if json {
        let v: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|_| serde_json::json!({ "body": body }));
        crate::output::print_json(&serde_json::json!({
            "url": url, "status": status.as_u16(), "ok": status.is_success(), "answer": v,
        }));
    } else {
        println!("{url}: {status} {}", body.trim());
    }
    if status.is_success() {
        Ok(())
    } else {
        anyhow::bail!("{url} answered {status}")
    }
}
