//! The servers a client-side benchmark drives (`bench delivery`, `bench load`):
//! embedded ones on SQLite in a temp dir, or N replicas sharing a fresh
//! PostgreSQL scratch database (dropped afterwards), with a shared master key
//! and distinct id seeds.

use crate::embedded::Embedded;
use anyhow::Result;
use symbolon_bench::scratch::ScratchDb;
use symbolon_server::ServerConfig;

/// The configuration of a benchmark's embedded server: open registration,
/// seeded ids, webhooks to 127.0.0.1 allowed, and a rate limit no
/// benchmark reaches.
pub(crate) fn config(seed: u64, database_url: Option<String>) -> ServerConfig {
    ServerConfig {
        registration_open: true,
        seed: Some(seed),
        database_url,
        // Receivers and load generators are on 127.0.0.1.
        allow_private_webhooks: true,
        // One provider key builds the whole market (thousands of calls, 16 at
        // once), far above the default 100/s per key. The limiter stays on,
        // so its cost is measured, at a rate no benchmark reaches.
        rate_limit_per_second: BENCH_RATE_LIMIT,
        rate_limit_burst: BENCH_RATE_LIMIT,
        // No load balancer to tell: stop at once.
        drain_delay: std::time::Duration::ZERO,
        ..Default::default()
    }
}

/// The per-key rate and burst of a benchmark's servers.
pub(crate) const BENCH_RATE_LIMIT: u32 = symbolon_core::limits::MAX_RATE_LIMIT;

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
    start_replicas_with_key(prefix, base, url, seed, n, &random_master_key()).await
}

/// A random master key (hex), for replicas that must share one.
pub(crate) fn random_master_key() -> String {
    (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// [`start_replicas`] with a given master key (to start them again on the same data).
pub(crate) async fn start_replicas_with_key(
    prefix: &str,
    base: &ServerConfig,
    url: &str,
    seed: u64,
    n: usize,
    key: &str,
) -> Result<Vec<Embedded>> {
    let mut started: Vec<Embedded> = Vec::with_capacity(n);
    for i in 0..n {
        let mut c = base.clone();
        c.seed = Some(seed.wrapping_add(i as u64));
        c.database_url = Some(url.to_string());
        c.master_key = Some(key.to_string());
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

/// The servers of one benchmark run, which can be stopped for direct writes
/// to their database and started again on the same data.
pub(crate) struct Fleet {
    servers: Vec<Embedded>,
    kind: FleetKind,
    base: ServerConfig,
    seed: u64,
}

enum FleetKind {
    /// One embedded server on SQLite; its data dir while it is stopped.
    Sqlite(Option<tempfile::TempDir>),
    /// Replicas on one PostgreSQL database, sharing a master key.
    Postgres { url: String, key: String, n: usize },
}

const FLEET_PREFIX: &str = "symbolon-bench-load-";

impl Fleet {
    /// One embedded server on SQLite in a temp dir.
    pub(crate) async fn sqlite(base: ServerConfig, seed: u64) -> Result<Self> {
        let mut c = base.clone();
        c.seed = Some(seed);
        let s = Embedded::start(FLEET_PREFIX, c).await?;
        Ok(Self {
            servers: vec![s],
            kind: FleetKind::Sqlite(None),
            base,
            seed,
        })
    }

    /// `n` replicas on the PostgreSQL database at `url`.
    pub(crate) async fn postgres(
        base: ServerConfig,
        seed: u64,
        url: &str,
        n: usize,
    ) -> Result<Self> {
        let key = random_master_key();
        let servers = start_replicas_with_key(FLEET_PREFIX, &base, url, seed, n, &key).await?;
        Ok(Self {
            servers,
            kind: FleetKind::Postgres {
                url: url.to_string(),
                key,
                n,
            },
            base,
            seed,
        })
    }

    pub(crate) fn urls(&self) -> Vec<String> {
        self.servers.iter().map(|s| s.url.clone()).collect()
    }

    /// The database, as a URL `symbolon_server::open_store` takes.
    pub(crate) fn store_url(&self) -> String {
        match &self.kind {
            FleetKind::Sqlite(_) => self.servers.first().map_or(String::new(), |s| {
                format!("sqlite://{}", s.data_dir().join("symbolon.db").display())
            }),
            FleetKind::Postgres { url, .. } => url.clone(),
        }
    }

    /// Stops every server, runs `write` (the database is then the caller's
    /// alone: no sweeper expires what it writes), and starts them again on
    /// the same data (new ports: see [`Fleet::urls`]).
    pub(crate) async fn paused<F, Fut, T>(&mut self, write: F) -> Result<T>
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let store_url = self.store_url();
        let servers = std::mem::take(&mut self.servers);
        if let FleetKind::Sqlite(dir) = &mut self.kind {
            for s in servers {
                *dir = Some(s.stop_keep_dir().await?);
            }
        } else {
            stop_all(servers).await?;
        }
        let out = write(store_url).await;
        // Ids come from the seed: new seeds, so the restarted servers make new ids.
        self.seed = self.seed.wrapping_add(0x1000);
        match &mut self.kind {
            FleetKind::Sqlite(dir) => {
                if let Some(d) = dir.take() {
                    let mut c = self.base.clone();
                    c.seed = Some(self.seed);
                    self.servers.push(Embedded::start_in(d, c).await?);
                }
            }
            FleetKind::Postgres { url, key, n } => {
                self.servers =
                    start_replicas_with_key(FLEET_PREFIX, &self.base, url, self.seed, *n, key)
                        .await?;
            }
        }
        out
    }

    /// Stops every server (removing SQLite's temp dir).
    pub(crate) async fn stop(self) -> Result<()> {
        stop_all(self.servers).await
    }
}
