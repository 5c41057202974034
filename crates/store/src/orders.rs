//! The order and unit queries both SQL backends share, written once in
//! PostgreSQL's dialect (`$n` placeholders; SQLite's `sql` turns them into
//! `?n`) and expanded per backend by [`sql_order_helpers!`]: each is a step
//! inside a caller's transaction.

/// Expands to `impl $store { market_changes_sql, holdings_of_sql,
/// prune_market_changes_sql }`, which the backend's `Store::market_changes`,
/// `holdings_of` and `prune_market_changes` call (reading `$r` and writing
/// `$w`).
#[macro_export]
macro_rules! sql_market_change_methods {
    ($store:ty, write = $w:ident, read = $r:ident, sql = $sql:path) => {
        impl $store {
            async fn market_changes_sql(
                &self,
                after: i64,
                upto: i64,
            ) -> StoreResult<Vec<$crate::MarketChange>> {
                let rows: Vec<(i64, String, bool)> = sqlx::query_as(&$sql(
                    "SELECT version, holder_id, supply FROM market_changes
                 WHERE version > $1 AND version <= $2 ORDER BY version",
                ))
                .bind(after)
                .bind(upto)
                .fetch_all(&self.$r)
                .await
                .map_err(db)?;
                Ok(rows
                    .into_iter()
                    .map(|(version, holder_id, supply)| $crate::MarketChange {
                        version,
                        holder_id,
                        supply,
                    })
                    .collect())
            }

            /// `Store::holdings_of`: the backend's `HOLDING_SELECT` and
            /// `holding_from`, one holder at a time, each holder's passes in
            /// byte order of their ids (as `Store::market` lists them).
            async fn holdings_of_sql(
                &self,
                holder_ids: &[String],
                now: symbolon_core::Timestamp,
            ) -> StoreResult<Vec<$crate::Holding>> {
                let q = format!(
                    "{HOLDING_SELECT} WHERE {}",
                    $sql(&format!("g.holder_id = $2 AND {}", $crate::orders::USABLE_AT_1))
                );
                let mut ids = holder_ids.to_vec();
                ids.sort_unstable();
                ids.dedup();
                let mut holdings = Vec::new();
                for id in &ids {
                    let rows = sqlx::query(&q)
                        .bind(now.millis())
                        .bind(id)
                        .fetch_all(&self.$r)
                        .await
                        .map_err(db)?;
                    let mut mine = Vec::with_capacity(rows.len());
                    for row in &rows {
                        let h: $crate::Holding = holding_from(row)?;
                        if h.pass.mode == symbolon_core::state::PassMode::Shareable
                            || h.units_left.unwrap_or(0) > 0
                        {
                            mine.push(h);
                        }
                    }
                    mine.sort_unstable_by(|a, b| a.pass.id.cmp(&b.pass.id));
                    holdings.extend(mine);
                }
                Ok(holdings)
            }

            async fn prune_market_changes_sql(&self, version: i64, limit: u32) -> StoreResult<u64> {
                let mut tx = self.$w.begin().await.map_err(db)?;
                let n = sqlx::query(&$sql(
                    "DELETE FROM market_changes WHERE version IN
                       (SELECT version FROM market_changes WHERE version <= $1 ORDER BY version LIMIT $2)",
                ))
                .bind(version)
                .bind(i64::from(limit))
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?
                    .rows_affected();
                tx.commit().await.map_err(db)?;
                Ok(n)
            }
        }
    };
}

/// The condition on a holding (`g` grants, `p` passes, `pr` products) that
/// it is usable at `$1`: the pass valid and not revoked, its product in stock
/// and not archived — on the market. (Units left are checked on the rows.)
pub const USABLE_AT_1: &str = "p.valid_from <= $1 AND (p.valid_until IS NULL OR p.valid_until > $1) AND p.revoked_at IS NULL AND pr.stock > 0 AND pr.archived_at IS NULL";

/// Expands to the free functions `pass_is_unique`, `free_units`,
/// `take_stock`, `lock_row`, `on_sale`, `pass_on_sale`,
/// `lock_product_revision`, `unit_sold_with`, `unpaid_open`,
/// `last_transfer_seq` and `insert_transfer`, taking a
/// `&mut $conn` (the backend's connection) in a running transaction.
#[macro_export]
macro_rules! sql_order_helpers {
    (conn = $conn:ty, sql = $sql:path) => {
        /// The `seq` of a unit's last transfer statement (`None`: none yet).
        async fn last_transfer_seq(
            conn: &mut $conn,
            pass_id: &str,
            unit_no: i64,
        ) -> StoreResult<Option<i64>> {
            sqlx::query_scalar(&$sql(
                "SELECT MAX(seq) FROM unit_transfers WHERE pass_id = $1 AND unit_no = $2",
            ))
            .bind(pass_id)
            .bind(unit_no)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)
        }

        /// Appends a transfer statement to its unit's history.
        async fn insert_transfer(conn: &mut $conn, t: &UnitTransfer) -> StoreResult<()> {
            sqlx::query(&$sql(
                "INSERT INTO unit_transfers (id, pass_id, unit_no, seq, from_id, to_id, jws, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            ))
            .bind(&t.id)
            .bind(&t.pass_id)
            .bind(t.unit_no)
            .bind(t.seq)
            .bind(&t.from_id)
            .bind(&t.to_id)
            .bind(&t.jws)
            .bind(t.created_at.millis())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            Ok(())
        }

        /// Whether the pass is a unique one.
        async fn pass_is_unique(conn: &mut $conn, pass_id: &str) -> StoreResult<bool> {
            let mode: String = sqlx::query_scalar(&$sql("SELECT mode FROM passes WHERE id = $1"))
                .bind(pass_id)
                .fetch_one(&mut *conn)
                .await
                .map_err(db)?;
            Ok(mode == symbolon_core::state::PassMode::Unique.as_str())
        }

        /// Unsold units of a pass the holder holds (none without a holder).
        async fn free_units(
            conn: &mut $conn,
            pass_id: &str,
            holder_id: Option<&str>,
        ) -> StoreResult<i64> {
            sqlx::query_scalar(&$sql(
                "SELECT COUNT(*) FROM pass_units WHERE pass_id = $1 AND holder_id = $2 AND owner_id IS NULL",
            ))
            .bind(pass_id)
            .bind(holder_id)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)
        }

        /// Takes `quantity` from the product's stock, or refuses: an archived
        /// product is no longer sold, and stock is never oversold.
        async fn take_stock(conn: &mut $conn, product_id: &str, quantity: i64) -> StoreResult<()> {
            let done = sqlx::query(&$sql(
                "UPDATE products SET stock = stock - $1 WHERE id = $2 AND stock >= $1 AND archived_at IS NULL",
            ))
            .bind(quantity)
            .bind(product_id)
            .execute(&mut *conn)
            .await
            .map_err(db)?
            .rows_affected();
            if done != 1 {
                on_sale(conn, product_id).await?;
                return Err(Conflict::InsufficientStock.into());
            }
            Ok(())
        }

        /// Locks one row for the rest of its transaction by a no-op update of
        /// its column `touch` (PostgreSQL takes the row lock; SQLite's one
        /// writer serializes anyway): the row of `table` whose `id` is `id`
        /// and, with `owner`, whose column `owner.0` is `owner.1`. `NotFound`
        /// when there is none.
        async fn lock_row(
            conn: &mut $conn,
            table: &'static str,
            touch: &'static str,
            id: &str,
            owner: Option<(&'static str, &str)>,
        ) -> StoreResult<()> {
            let cond = owner.map_or(String::new(), |(col, _)| format!(" AND {col} = $2"));
            let q = $sql(&format!(
                "UPDATE {table} SET {touch} = {touch} WHERE id = $1{cond}"
            ));
            let mut query = sqlx::query(&q).bind(id);
            if let Some((_, who)) = owner {
                query = query.bind(who);
            }
            let n = query.execute(&mut *conn).await.map_err(db)?.rows_affected();
            if n != 1 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }

        /// Refuses an offer of a pass whose product its provider archived.
        async fn pass_on_sale(conn: &mut $conn, pass_id: &str) -> StoreResult<()> {
            let product_id: String =
                sqlx::query_scalar(&$sql("SELECT product_id FROM passes WHERE id = $1"))
                    .bind(pass_id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db)?;
            on_sale(conn, &product_id).await
        }

        /// Refuses a product its provider archived (`Conflict::ProductArchived`).
        async fn on_sale(conn: &mut $conn, product_id: &str) -> StoreResult<()> {
            let archived: Option<i64> = sqlx::query_scalar(&$sql(
                "SELECT archived_at FROM products WHERE id = $1",
            ))
            .bind(product_id)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
            if archived.is_some() {
                return Err(Conflict::ProductArchived.into());
            }
            Ok(())
        }

        /// Locks the product's row (a no-op update) for a pass being issued
        /// from its `revision`, and refuses an archived product or one whose
        /// signed fields changed since (`ManageStore::update_product` locks
        /// the same row, and refuses to change them once a pass exists).
        async fn lock_product_revision(
            conn: &mut $conn,
            product_id: &str,
            revision: i64,
        ) -> StoreResult<()> {
            lock_row(conn, "products", "revision", product_id, None).await?;
            on_sale(conn, product_id).await?;
            let now: i64 = sqlx::query_scalar(&$sql("SELECT revision FROM products WHERE id = $1"))
                .bind(product_id)
                .fetch_one(&mut *conn)
                .await
                .map_err(db)?;
            if now != revision {
                return Err(Conflict::ProductChanged.into());
            }
            Ok(())
        }

        /// Records which offer a sold unit went with (the offer shows its unit).
        async fn unit_sold_with(
            conn: &mut $conn,
            offer_id: Option<&str>,
            t: &UnitTransfer,
        ) -> StoreResult<()> {
            let Some(offer_id) = offer_id else {
                return Ok(());
            };
            sqlx::query(&$sql(
                "UPDATE pass_units SET offer_id = $1 WHERE pass_id = $2 AND unit_no = $3",
            ))
            .bind(offer_id)
            .bind(&t.pass_id)
            .bind(t.unit_no)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            sqlx::query(&$sql("UPDATE offers SET unit_no = $1 WHERE id = $2"))
                .bind(t.unit_no)
                .bind(offer_id)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            Ok(())
        }

        /// The requester's open unpaid orders at `now`: how many, and their
        /// total quantity.
        async fn unpaid_open(
            conn: &mut $conn,
            requester_id: &str,
            now: Timestamp,
        ) -> StoreResult<(i64, i64)> {
            let row = sqlx::query(&$sql(
                "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(quantity), 0) AS BIGINT) AS q FROM orders
                 WHERE requester_id = $1 AND status = 'placed' AND pay_by > $2",
            ))
            .bind(requester_id)
            .bind(now.millis())
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
            Ok((
                row.try_get("n").map_err(db)?,
                row.try_get("q").map_err(db)?,
            ))
        }
    };
}

/// Records an offer for an interaction request, with the demand's requester
/// read in the same statement, and returns the offer's row (both backends;
/// `$1` id, `$2` interaction, `$3` demand, `$4` holder, `$5` pass, `$6` note,
/// `$7` created at).
pub const INSERT_OFFER: &str = "INSERT INTO offers (id, interaction_id, demand_id, holder_id, requester_id, pass_id, note, status, created_at)
     SELECT $1, $2, $3, $4, d.requester_id, $5, $6, 'offered', $7 FROM demands d WHERE d.id = $3
     RETURNING id, interaction_id, demand_id, holder_id, requester_id, pass_id, note, status, created_at, accepted_at, licence_jws, unit_no";
