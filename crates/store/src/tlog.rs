//! The selection log (schema v17), written once for both SQL backends (see
//! `outbox.rs` for the dialect trick) and expanded per backend by
//! [`sql_tlog_methods!`] into its impl of [`crate::LogStore`]:
//!
//! * `selection_log`: one entry per demand whose selection was made — the
//!   holders contacted, or the refusal — as the canonical bytes the
//!   exchange hashed into the Merkle tree, at a gapless index;
//! * `selection_log_head`: the one row counting entries. An append takes
//!   its index with `UPDATE … RETURNING` inside the transaction that records
//!   the selection (the demand and its interaction requests, or a refusal
//!   alone), so the row's lock orders appends by commit on every replica:
//!   index `n` is visible whenever `n + 1` is, and a rolled-back append
//!   leaves no gap;
//! * `selection_log_holders`: which holders an entry names, for their lists;
//! * `log_checkpoints`: every checkpoint the log signed (size, root, the
//!   signed note), so consistency proofs start from any published one;
//! * `log_key`: the log's Ed25519 seed sealed under the master key, made
//!   once and shared by every replica.

use crate::StoreResult;
use symbolon_core::Timestamp;

/// An entry to append: the exchange's canonical serialisation of one selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLogEntry {
    pub demand_id: String,
    pub requester_id: String,
    /// The holders the entry names (contacted), for their lists.
    pub holder_ids: Vec<String>,
    /// The canonical bytes (UTF-8 JSON) the leaf hash is taken over.
    pub body: String,
    pub created_at: Timestamp,
}

/// An appended entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The leaf index: 0, 1, 2, … in commit order.
    pub index: i64,
    pub demand_id: String,
    pub requester_id: String,
    pub body: String,
    pub created_at: Timestamp,
}

/// A checkpoint the log signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: i64,
    pub root: Vec<u8>,
    /// The signed note.
    pub note: String,
    pub created_at: Timestamp,
}

/// The selection log: entries, checkpoints and the log's sealed key.
#[async_trait::async_trait]
pub trait LogStore: Send + Sync {
    /// Appends an entry in a transaction of its own (a refusal: a selection
    /// that writes nothing else). At most one entry per demand: when the
    /// demand already has one (a retried request), its index is returned and
    /// nothing is written.
    async fn append_log_entry(&self, entry: &NewLogEntry) -> StoreResult<i64>;
    /// How many entries the log has (committed).
    async fn log_size(&self) -> StoreResult<i64>;
    /// Up to `limit` entries from index `from` on, in index order.
    async fn log_entries(&self, from: i64, limit: u32) -> StoreResult<Vec<LogEntry>>;
    /// The entry of a demand, if its selection was made.
    async fn log_entry_of_demand(&self, demand_id: &str) -> StoreResult<Option<LogEntry>>;
    /// Up to `limit` entries naming `holder_id`, newest first, with an index
    /// below `before` when given.
    async fn log_entries_naming(
        &self,
        holder_id: &str,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<LogEntry>>;
    /// The log's sealed signing seed, if made.
    async fn log_key(&self) -> StoreResult<Option<Vec<u8>>>;
    /// Stores `sealed` as the log's key unless one is stored already (by
    /// another replica); returns the one stored.
    async fn init_log_key(&self, sealed: &[u8], at: Timestamp) -> StoreResult<Vec<u8>>;
    /// Keeps a signed checkpoint (the first one kept for a size stays).
    async fn save_checkpoint(&self, checkpoint: &StoredCheckpoint) -> StoreResult<()>;
    /// The checkpoint signed at `size`.
    async fn checkpoint_at(&self, size: i64) -> StoreResult<Option<StoredCheckpoint>>;
    /// The largest checkpoint signed.
    async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>>;
}

#[doc(hidden)]
pub type LogRow = (i64, String, String, String, i64);

/// The columns an entry is read with, in [`LogRow`] order.
pub const LOG_COLS: &str = "idx, demand_id, requester_id, body, created_at";

#[doc(hidden)]
pub fn log_from(r: LogRow) -> LogEntry {
    LogEntry {
        index: r.0,
        demand_id: r.1,
        requester_id: r.2,
        body: r.3,
        created_at: Timestamp::from_millis(r.4),
    }
}

#[doc(hidden)]
pub type CheckpointRow = (i64, Vec<u8>, String, i64);

#[doc(hidden)]
pub fn checkpoint_from(r: CheckpointRow) -> StoredCheckpoint {
    StoredCheckpoint {
        size: r.0,
        root: r.1,
        note: r.2,
        created_at: Timestamp::from_millis(r.3),
    }
}

/// Expands to `impl LogStore for $store` and to
/// `tlog_sql::append_log_entry_in(conn, entry)`, which the backend's own
/// transactions (creating or activating a demand) call last, just before
/// their commit, so the head row is held only for the commit.
#[macro_export]
macro_rules! sql_tlog_methods {
    ($store:ty, write = $w:ident, read = $r:ident, sql = $sql:path, conn = $conn:ty) => {
        pub(crate) mod tlog_sql {
            use super::*;
            use symbolon_store::tlog::{checkpoint_from, log_from, CheckpointRow, LogRow, LOG_COLS};
            use symbolon_store::tlog::{LogEntry, NewLogEntry, StoredCheckpoint};
            use symbolon_store::StoreResult;

            /// Takes the next index and writes the entry, inside the caller's transaction.
            pub(crate) async fn append_log_entry_in(
                conn: &mut $conn,
                e: &NewLogEntry,
            ) -> StoreResult<i64> {
                let index: i64 = sqlx::query_scalar(&$sql(
                    "UPDATE selection_log_head SET size = size + 1 WHERE id = 1 RETURNING size - 1",
                ))
                .fetch_one(&mut *conn)
                .await
                .map_err(db)?;
                sqlx::query(&$sql(
                    "INSERT INTO selection_log (idx, demand_id, requester_id, body, created_at)
                     VALUES ($1, $2, $3, $4, $5)",
                ))
                .bind(index)
                .bind(&e.demand_id)
                .bind(&e.requester_id)
                .bind(&e.body)
                .bind(e.created_at.millis())
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                for h in &e.holder_ids {
                    sqlx::query(&$sql(
                        "INSERT INTO selection_log_holders (holder_id, idx) VALUES ($1, $2)
                         ON CONFLICT DO NOTHING",
                    ))
                    .bind(h)
                    .bind(index)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                }
                Ok(index)
            }

            #[async_trait::async_trait]
            impl symbolon_store::LogStore for $store {
                async fn append_log_entry(&self, e: &NewLogEntry) -> StoreResult<i64> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    // Take the head row first: appends queue here, so the
                    // check below sees a concurrent append of the same demand
                    // (which would otherwise break the unique demand id).
                    sqlx::query(&$sql("UPDATE selection_log_head SET size = size WHERE id = 1"))
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    let had: Option<i64> = sqlx::query_scalar(&$sql(
                        "SELECT idx FROM selection_log WHERE demand_id = $1",
                    ))
                    .bind(&e.demand_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?;
                    if let Some(index) = had {
                        return Ok(index);
                    }
                    let index = append_log_entry_in(&mut tx, e).await?;
                    tx.commit().await.map_err(db)?;
                    Ok(index)
                }

                async fn log_size(&self) -> StoreResult<i64> {
                    sqlx::query_scalar(&$sql("SELECT size FROM selection_log_head WHERE id = 1"))
                        .fetch_one(&self.$r)
                        .await
                        .map_err(db)
                }

                async fn log_entries(&self, from: i64, limit: u32) -> StoreResult<Vec<LogEntry>> {
                    let q = format!(
                        "SELECT {LOG_COLS} FROM selection_log WHERE idx >= $1 ORDER BY idx LIMIT $2"
                    );
                    let rows: Vec<LogRow> = sqlx::query_as(&$sql(&q))
                        .bind(from)
                        .bind(i64::from(limit))
                        .fetch_all(&self.$r)
                        .await
                        .map_err(db)?;
                    Ok(rows.into_iter().map(log_from).collect())
                }

                async fn log_entry_of_demand(&self, demand_id: &str) -> StoreResult<Option<LogEntry>> {
                    let q = format!("SELECT {LOG_COLS} FROM selection_log WHERE demand_id = $1");
                    let row: Option<LogRow> = sqlx::query_as(&$sql(&q))
                        .bind(demand_id)
                        .fetch_optional(&self.$r)
                        .await
                        .map_err(db)?;
                    Ok(row.map(log_from))
                }

                async fn log_entries_naming(
                    &self,
                    holder_id: &str,
                    before: Option<i64>,
                    limit: u32,
                ) -> StoreResult<Vec<LogEntry>> {
                    let q = format!(
                        "SELECT {LOG_COLS} FROM selection_log WHERE idx IN (
                           SELECT idx FROM selection_log_holders WHERE holder_id = $1 AND idx < $2
                           ORDER BY idx DESC LIMIT $3)
                         ORDER BY idx DESC"
                    );
                    let rows: Vec<LogRow> = sqlx::query_as(&$sql(&q))
                        .bind(holder_id)
                        .bind(before.unwrap_or(i64::MAX))
                        .bind(i64::from(limit))
                        .fetch_all(&self.$r)
                        .await
                        .map_err(db)?;
                    Ok(rows.into_iter().map(log_from).collect())
                }

                async fn log_key(&self) -> StoreResult<Option<Vec<u8>>> {
                    sqlx::query_scalar(&$sql("SELECT sealed FROM log_key WHERE id = 1"))
                        .fetch_optional(&self.$r)
                        .await
                        .map_err(db)
                }

                async fn init_log_key(&self, sealed: &[u8], at: Timestamp) -> StoreResult<Vec<u8>> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    sqlx::query(&$sql(
                        "INSERT INTO log_key (id, sealed, created_at) VALUES (1, $1, $2)
                         ON CONFLICT (id) DO NOTHING",
                    ))
                    .bind(sealed)
                    .bind(at.millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    let stored: Vec<u8> =
                        sqlx::query_scalar(&$sql("SELECT sealed FROM log_key WHERE id = 1"))
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(db)?;
                    tx.commit().await.map_err(db)?;
                    Ok(stored)
                }

                async fn save_checkpoint(&self, c: &StoredCheckpoint) -> StoreResult<()> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    sqlx::query(&$sql(
                        "INSERT INTO log_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (size) DO NOTHING",
                    ))
                    .bind(c.size)
                    .bind(&c.root)
                    .bind(&c.note)
                    .bind(c.created_at.millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    tx.commit().await.map_err(db)
                }

                async fn checkpoint_at(&self, size: i64) -> StoreResult<Option<StoredCheckpoint>> {
                    let row: Option<CheckpointRow> = sqlx::query_as(&$sql(
                        "SELECT size, root, note, created_at FROM log_checkpoints WHERE size = $1",
                    ))
                    .bind(size)
                    .fetch_optional(&self.$r)
                    .await
                    .map_err(db)?;
                    Ok(row.map(checkpoint_from))
                }

                async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>> {
                    let row: Option<CheckpointRow> = sqlx::query_as(&$sql(
                        "SELECT size, root, note, created_at FROM log_checkpoints ORDER BY size DESC LIMIT 1",
                    ))
                    .fetch_optional(&self.$r)
                    .await
                    .map_err(db)?;
                    Ok(row.map(checkpoint_from))
                }
            }
        }
    };
}
