//! Group commit: the one writer connection commits concurrent write
//! transactions together, one fsync per group.
//!
//! SQLite has one writer, and under `synchronous=FULL` every `COMMIT` waits
//! for an fsync of the WAL; committing each request's transaction on its own
//! bounds the store at one request per fsync. Here the writer connection keeps
//! an outer transaction (the *group*) open. Each write transaction ([`WriteTx`])
//! runs inside it as a `SAVEPOINT`: [`WriteTx::commit`] releases the savepoint,
//! and a [`WriteTx`] dropped without a commit (an error, a cancelled request) is
//! rolled back to its savepoint before the connection is used again, so a
//! failed transaction leaves nothing behind, as before.
//!
//! **Nobody is told a write succeeded before its group's `COMMIT` returned**
//! (the fsync): [`WriteTx::commit`] waits for it. The writer that finds the
//! group still uncommitted when it gets the connection back commits it for
//! everyone in it (leader and followers, no background task); writers that
//! queued meanwhile (the lock is fair, first come first served) have joined the
//! group by then, so under load one fsync serves many requests, and a lone
//! request pays one fsync as before.
//!
//! [`WriteTx::commit_unacked`] releases the savepoint without waiting: for a
//! write that no caller is told about by itself, whose durability a later
//! durable write of the same request orders (commits are sequential, so a
//! durable group makes every earlier group durable). A flush is started so it
//! is committed soon even if no write follows.
//!
//! Readers (the read-only pool) see a group's writes once it committed.

use sqlx::{Connection, Executor, SqliteConnection};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::{oneshot, Mutex, OwnedMutexGuard};

/// The savepoint each write transaction runs in (they never nest).
const SAVEPOINT: &str = "SAVEPOINT w";
const RELEASE: &str = "RELEASE w";
const ROLLBACK_TO: &str = "ROLLBACK TO w; RELEASE w";

/// Metric: seconds one group's `COMMIT` (its fsync) took.
pub const COMMIT_SECONDS: &str = "symbolon_store_commit_duration_seconds";
/// Metric: acknowledged write transactions one group commit made durable.
pub const BATCH_SIZE: &str = "symbolon_store_write_batch_size";

type Waiter = oneshot::Sender<Result<(), String>>;

/// The writer connection with its open group.
#[derive(Clone)]
pub(crate) struct GroupWriter {
    state: Arc<Mutex<State>>,
    /// A flush task is queued (at most one is).
    flush_queued: Arc<AtomicBool>,
}

impl std::fmt::Debug for GroupWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupWriter").finish_non_exhaustive()
    }
}

struct State {
    /// `None` once closed.
    conn: Option<SqliteConnection>,
    /// A group is open: `BEGIN` was sent, `COMMIT` not yet.
    open: bool,
    /// A write transaction was dropped inside its savepoint: roll it back
    /// before anything else runs on the connection.
    dirty: bool,
    /// Writers whose savepoints are in the open group, waiting for its commit.
    waiting: Vec<Waiter>,
    /// Groups committed and write transactions in them (for tests and logs).
    groups: u64,
    writes: u64,
}

fn closed() -> sqlx::Error {
    sqlx::Error::PoolClosed
}

impl State {
    fn conn(&mut self) -> Result<&mut SqliteConnection, sqlx::Error> {
        self.conn.as_mut().ok_or_else(closed)
    }

    /// Rolls back a savepoint left by a dropped write transaction. If that
    /// fails, the whole group is rolled back and its waiters told so.
    async fn clean(&mut self) -> Result<(), sqlx::Error> {
        if !self.dirty {
            return Ok(());
        }
        self.dirty = false;
        let r = self.conn()?.execute(ROLLBACK_TO).await;
        if let Err(e) = r {
            tracing::error!(error = %e, "rolling back a write transaction failed; rolling back its group");
            self.abort(&format!("the write group was rolled back: {e}"))
                .await;
        }
        Ok(())
    }

    async fn abort(&mut self, why: &str) {
        if let Ok(conn) = self.conn() {
            let _ = conn.execute("ROLLBACK").await;
        }
        self.open = false;
        for w in self.waiting.drain(..) {
            let _ = w.send(Err(why.to_string()));
        }
    }

    /// Commits the open group (if any) and tells its writers.
    async fn commit_group(&mut self) -> Result<(), sqlx::Error> {
        self.clean().await?;
        if !self.open {
            return Ok(());
        }
        let started = std::time::Instant::now();
        match self.conn()?.execute("COMMIT").await {
            Ok(_) => {
                metrics::histogram!(COMMIT_SECONDS, "backend" => "sqlite")
                    .record(started.elapsed().as_secs_f64());
                metrics::histogram!(BATCH_SIZE, "backend" => "sqlite")
                    .record(self.waiting.len() as f64);
                self.open = false;
                self.groups += 1;
                self.writes += self.waiting.len() as u64;
                for w in self.waiting.drain(..) {
                    let _ = w.send(Ok(()));
                }
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, writers = self.waiting.len(), "committing a write group failed");
                self.abort(&format!("committing the write group failed: {e}"))
                    .await;
                Err(e)
            }
        }
    }
}

impl GroupWriter {
    pub(crate) fn new(conn: SqliteConnection) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                conn: Some(conn),
                open: false,
                dirty: false,
                waiting: Vec::new(),
                groups: 0,
                writes: 0,
            })),
            flush_queued: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Starts a write transaction (a savepoint in the open group), waiting
    /// for the connection.
    pub(crate) async fn begin(&self) -> Result<WriteTx, sqlx::Error> {
        let mut g = self.state.clone().lock_owned().await;
        g.clean().await?;
        if !g.open {
            g.conn()?.execute("BEGIN IMMEDIATE").await?;
            g.open = true;
        }
        g.conn()?.execute(SAVEPOINT).await?;
        Ok(WriteTx {
            guard: Some(g),
            writer: self.clone(),
        })
    }

    /// Commits the open group now.
    #[cfg(test)]
    pub(crate) async fn flush(&self) -> Result<(), sqlx::Error> {
        self.state.lock().await.commit_group().await
    }

    /// Commits the open group and closes the connection; later writes fail.
    pub(crate) async fn close(&self, checkpoint: bool) {
        let mut g = self.state.lock().await;
        if let Err(e) = g.commit_group().await {
            tracing::warn!(error = %e, "committing the last write group at close failed");
        }
        if let Some(mut conn) = g.conn.take() {
            if checkpoint {
                if let Err(e) = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").await {
                    tracing::warn!(error = %e, "checkpointing the WAL at close failed");
                }
            }
            if let Err(e) = conn.close().await {
                tracing::warn!(error = %e, "closing the writer connection failed");
            }
        }
    }

    pub(crate) async fn is_closed(&self) -> bool {
        self.state.lock().await.conn.is_none()
    }

    /// (groups committed, write transactions in them) so far.
    pub(crate) async fn stats(&self) -> (u64, u64) {
        let g = self.state.lock().await;
        (g.groups, g.writes)
    }

    /// Makes sure the open group gets committed even if no writer follows:
    /// queues one flush task unless one is queued already. The task commits
    /// only a group nobody waits for (a waiting writer leads its own commit),
    /// so under load flushes neither pile up nor split groups.
    fn spawn_flush(&self) {
        if self.flush_queued.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let mut g = this.state.lock().await;
            this.flush_queued.store(false, Ordering::Release);
            if g.open && g.waiting.is_empty() {
                if let Err(e) = g.commit_group().await {
                    tracing::warn!(error = %e, "flushing a write group failed");
                }
            }
        });
    }
}

/// A write transaction: a savepoint in the writer's open group, holding the
/// writer connection (it derefs to it) until committed or dropped.
pub(crate) struct WriteTx {
    guard: Option<OwnedMutexGuard<State>>,
    writer: GroupWriter,
}

impl Deref for WriteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.guard
            .as_ref()
            .and_then(|g| g.conn.as_ref())
            .expect("a write transaction holds an open connection")
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.guard
            .as_mut()
            .and_then(|g| g.conn.as_mut())
            .expect("a write transaction holds an open connection")
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        // Dropped inside its savepoint: the next user of the connection rolls
        // it back first (it cannot be awaited here).
        if let Some(g) = self.guard.as_mut() {
            g.dirty = true;
        }
    }
}

enum Turn {
    Done(Result<Result<(), String>, oneshot::error::RecvError>),
    Lock(OwnedMutexGuard<State>),
}

impl WriteTx {
    /// Releases the savepoint and returns the connection, without waiting.
    async fn release(&mut self) -> Result<(), sqlx::Error> {
        let mut g = self.guard.take().expect("committed once");
        match g.conn()?.execute(RELEASE).await {
            Ok(_) => {
                self.guard = Some(g);
                Ok(())
            }
            Err(e) => {
                g.dirty = true;
                Err(e)
            }
        }
    }

    /// Commits: the savepoint is released into the group, and this returns
    /// once the group is committed (durable), committing it itself if no
    /// other writer did first.
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        self.release().await?;
        let mut g = self.guard.take().expect("released");
        let (tx, mut rx) = oneshot::channel();
        g.waiting.push(tx);
        drop(g);
        let lock = self.writer.state.clone().lock_owned();
        tokio::pin!(lock);
        let turn = tokio::select! {
            biased;
            r = &mut rx => Turn::Done(r),
            g = &mut lock => Turn::Lock(g),
        };
        let outcome = match turn {
            Turn::Done(r) => r,
            Turn::Lock(mut g) => match rx.try_recv() {
                Ok(r) => Ok(r),
                Err(_) => {
                    // Still uncommitted: lead, committing for the whole group.
                    let _ = g.commit_group().await;
                    drop(g);
                    rx.await
                }
            },
        };
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(why)) => Err(sqlx::Error::Protocol(why)),
            Err(_) => Err(sqlx::Error::Protocol(
                "the write group ended without an answer".into(),
            )),
        }
    }

    /// Releases the savepoint into the group without waiting for the commit
    /// (see the module docs for when this is right); a flush is started.
    pub(crate) async fn commit_unacked(mut self) -> Result<(), sqlx::Error> {
        self.release().await?;
        drop(self.guard.take());
        self.writer.spawn_flush();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    use sqlx::ConnectOptions;

    async fn open(dir: &tempfile::TempDir) -> (GroupWriter, SqliteConnectOptions) {
        let opts = SqliteConnectOptions::new()
            .filename(dir.path().join("w.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        let mut conn = opts.connect().await.unwrap();
        conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .await
            .unwrap();
        (GroupWriter::new(conn), opts)
    }

    async fn rows(opts: &SqliteConnectOptions) -> Vec<i64> {
        let mut c = opts.clone().read_only(true).connect().await.unwrap();
        sqlx::query_scalar("SELECT n FROM t ORDER BY n")
            .fetch_all(&mut c)
            .await
            .unwrap()
    }

    async fn insert(w: &GroupWriter, n: i64) -> Result<(), sqlx::Error> {
        let mut tx = w.begin().await?;
        sqlx::query("INSERT INTO t (n) VALUES (?)")
            .bind(n)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_queued_behind_one_commit_share_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let (w, opts) = open(&dir).await;
        // One writer holds the connection while ten more queue for it.
        let mut first = w.begin().await.unwrap();
        sqlx::query("INSERT INTO t (n) VALUES (0)")
            .execute(&mut *first)
            .await
            .unwrap();
        let tasks: Vec<_> = (1..=10)
            .map(|n| {
                let w = w.clone();
                tokio::spawn(async move { insert(&w, n).await })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        first.commit().await.unwrap();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(rows(&opts).await, (0..=10).collect::<Vec<_>>());
        let (groups, writes) = w.stats().await;
        assert_eq!(writes, 11);
        assert!(
            groups < 11,
            "one fsync served several writers: {groups} groups"
        );
        w.close(true).await;
        assert!(w.is_closed().await);
        assert!(insert(&w, 99).await.is_err(), "closed");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_transaction_leaves_nothing_and_spares_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let (w, opts) = open(&dir).await;
        insert(&w, 1).await.unwrap();
        {
            let mut tx = w.begin().await.unwrap();
            sqlx::query("INSERT INTO t (n) VALUES (2)")
                .execute(&mut *tx)
                .await
                .unwrap();
            // A failing statement, then the transaction is dropped (the `?` path).
            assert!(sqlx::query("INSERT INTO t (n) VALUES (1)")
                .execute(&mut *tx)
                .await
                .is_err());
        }
        insert(&w, 3).await.unwrap();
        // Committed and durable once `commit` returned: a new reader sees it.
        assert_eq!(rows(&opts).await, vec![1, 3]);
        let mut tx = w.begin().await.unwrap();
        sqlx::query("INSERT INTO t (n) VALUES (4)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit_unacked().await.unwrap();
        w.flush().await.unwrap();
        assert_eq!(rows(&opts).await, vec![1, 3, 4]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unacked_writes_are_committed_without_a_following_writer() {
        let dir = tempfile::tempdir().unwrap();
        let (w, opts) = open(&dir).await;
        let tasks: Vec<_> = (0..50)
            .map(|n| {
                let w = w.clone();
                tokio::spawn(async move {
                    let mut tx = w.begin().await?;
                    sqlx::query("INSERT INTO t (n) VALUES (?)")
                        .bind(n)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit_unacked().await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        // No writer follows: the queued flush alone commits them.
        let mut seen = Vec::new();
        for _ in 0..100 {
            seen = rows(&opts).await;
            if seen.len() == 50 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(seen, (0..50).collect::<Vec<_>>());
        assert!(
            !w.flush_queued.load(Ordering::Acquire),
            "no flush left queued"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_concurrent_writers_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let (w, opts) = open(&dir).await;
        let tasks: Vec<_> = (0..200)
            .map(|n| {
                let w = w.clone();
                tokio::spawn(async move { insert(&w, n).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(rows(&opts).await, (0..200).collect::<Vec<_>>());
        let (groups, writes) = w.stats().await;
        assert_eq!(writes, 200);
        assert!(groups <= 200);
    }
}
