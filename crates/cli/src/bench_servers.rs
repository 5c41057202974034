//! The servers a client-side benchmark drives (`bench delivery`, `bench load`):
//! embedded ones on SQLite in a temp dir, or N replicas sharing a fresh
//! PostgreSQL scratch database (dropped afterwards), with a shared master key
//! and distinct id seeds.

use crate::embedded::Embedded;
use anyhow::Result;
use symbolon_bench::scratch::ScratchDb;
use symbolon_server::ServerConfig;

/// The configuration of a benchmark's embedded server: open registration,
/// seeded ids, webhooks to 127.0.0.1 allowed.
pub(crate) fn config(seed: u64, database_url: Option<String>) -> ServerConfig {
    ServerConfig {
        registration_open: true,
        seed: Some(seed),
        database_url,
        // Receivers and load generators are on 127.0.0.1.
        allow_private_webhooks: true,
        ..Default::default()
    }
}

/// Starts `n` replicas on the PostgreSQL database at `url`, each from
/// `base` (with seed `seed + i` and one shared random master key).
/// On an error the replicas already started are stopped.
pub(crate) async fn start_replicas(
    prefix: &str,
    base: &ServerConfig,
    url: &str,
    seed: u64,
    n: usize,
) -> Result<Vec<Embedded>> {
    let key: String = (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    let mut started: Vec<Embedded> = Vec::with_capacity(n);
    for i in 0..n {
        let mut c = base.clone();
        c.seed = Some(seed.wrapping_add(i as u64));
        c.database_url = Some(url.to_string());
        c.master_key = Some(key.clone());
        match Embedded::start(&format!("{prefix}{i}-"), c).await {
            Ok(s) => started.push(s),
            Err(e) => {
                stop_all(started).await.ok();
                return Err(e);
            }
        }
    }
    Ok(started)
}

/// Stops every server, keeping the first error.
pub(crate) async fn stop_all(servers: Vec<Embedded>) -> Result<()> {
    let mut first = Ok(());
    for s in servers.into_iter().rev() {
        if let Err(e) = s.stop().await {
            if first.is_ok() {
                first = Err(e);
            }
        }
    }
    first
}

/// A fresh scratch database through `admin_url`, with its URL.
pub(crate) async fn scratch(admin_url: &str, prefix: &str) -> Result<(ScratchDb, String)> {
    let db = ScratchDb::create(admin_url, prefix).await?;
    match db.url() {
        Ok(url) => Ok((db, url)),
        Err(e) => {
            db.drop_database().await.ok();
            Err(e)
        }
    }
}

/// Locks `m`, ignoring poisoning (a panicked task's data is still counted).
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
