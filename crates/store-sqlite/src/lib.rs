//! The Symbolon [`Store`] on SQLite.
//!
//! * WAL journal, `synchronous=FULL` (a committed transaction survives power loss), `foreign_keys=ON`.
//! * One writer connection serializes every write transaction (SQLite allows one writer at a time;
//!   queueing for it instead of retrying on `SQLITE_BUSY`) and commits concurrent ones in groups, one
//!   fsync per group, answering none before its group's commit (group commit, [`writer`]); a small
//!   pool of readers serves reads.
//! * Migrations are embedded from `migrations/` and run at open. A database migrated by a newer
//!   binary is refused.
//! * Queries are checked at run time (no database is needed to build).
//! * [`backup`]: online copies (`VACUUM INTO`) and the checks a copy passes before a restore.

pub mod backup;
mod rows;
mod writer;

use rows::*;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Row, SqlitePool};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use symbolon_core::limits::{
    EXPIRY_COUNT_WINDOW_MS, MAX_OPEN_DEMANDS_PER_REQUESTER, MAX_SIGNING_KEYS,
    MAX_UNPAID_ORDERS_PER_REQUESTER, MAX_UNPAID_QUANTITY_PER_REQUESTER,
    MAX_WAITING_DEMANDS_PER_REQUESTER,
};
use symbolon_core::state::{InteractionStatus, OfferStatus, OrderStatus, PassMode};
use symbolon_core::Timestamp;
use symbolon_store::manage::{DEMAND_READ_COLS, PRODUCT_COLS};
use symbolon_store::orders::USABLE_AT_1;
use symbolon_store::*;
use writer::{GroupWriter, WriteTx};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connections of the read-only pool.
const READERS: u32 = 4;

/// The SQLite store.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    writer: GroupWriter,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let url = format!("sqlite://{}", path.display());
        Self::connect(&url).await
    }

    /// Opens a `sqlite://…` URL.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::backend)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // Migrate on a pool of one, closed before the writer connection opens.
        let migrate = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await
            .map_err(StoreError::backend)?;
        check_schema_version(&migrate).await?;
        MIGRATOR.run(&migrate).await.map_err(StoreError::backend)?;
        migrate.close().await;
        let writer = GroupWriter::new(opts.connect().await.map_err(StoreError::backend)?);
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.read_only(true))
            .await
            .map_err(StoreError::backend)?;
        Ok(Self { writer, reader })
    }

    /// Closes the store: commits the open write group, checkpoints the WAL and closes every
    /// connection.
    pub async fn close(&self) {
        if self.writer.is_closed().await {
            return;
        }
        self.reader.close().await;
        self.writer.close(true).await;
    }

    /// (write groups committed, write transactions in them) since open: what group commit saved.
    pub async fn group_commit_stats(&self) -> (u64, u64) {
        self.writer.stats().await
    }

    /// The value of `PRAGMA <name>` on the writer connection, as text (`wal`, `2`, …): for tests
    /// and diagnostics. `name` must be a bare pragma name.
    pub async fn pragma(&self, name: &str) -> StoreResult<String> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::Backend(
                format!("not a pragma name: {name:?}").into(),
            ));
        }
        let mut tx = self.writer.begin().await.map_err(db)?;
        let row = sqlx::query(&format!("PRAGMA {name}"))
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        match row.try_get::<String, _>(0) {
            Ok(v) => Ok(v),
            Err(_) => row.try_get::<i64, _>(0).map(|v| v.to_string()).map_err(db),
        }
    }
}

/// The newest migration this binary knows.
pub fn known_schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

async fn check_schema_version(pool: &SqlitePool) -> StoreResult<()> {
    let exists: Option<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(pool)
    .await
    .map_err(StoreError::backend)?;
    if exists.is_none() {
        return Ok(());
    }
    let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(pool)
        .await
        .map_err(StoreError::backend)?;
    let known = known_schema_version();
    match found {
        Some(found) if found > known => Err(StoreError::SchemaTooNew { found, known }),
        _ => Ok(()),
    }
}

fn db(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => Conflict::Duplicate.into(),
        _ => StoreError::backend(e),
    }
}

type Tx = WriteTx;

const HOLDING_SELECT: &str = "SELECT g.id AS g_id, g.holder_id AS g_holder, g.created_at AS g_at,
    p.id AS p_id, p.product_id, p.provider_id, p.mode, p.units, p.commission_bps, p.valid_from,
    p.valid_until, p.jws, p.created_at AS p_at, p.kid, p.status_index, p.revoked_at,
    pr.title, pr.description, pr.category, pr.specs, pr.price_minor, pr.currency, pr.stock, pr.created_at AS pr_at, pr.gtin, pr.archived_at, pr.revision,
    (SELECT COUNT(*) FROM pass_units u WHERE u.pass_id = p.id AND u.holder_id = g.holder_id) AS granted,
    (SELECT COUNT(*) FROM pass_units u WHERE u.pass_id = p.id AND u.holder_id = g.holder_id AND u.owner_id IS NULL) AS units_left
  FROM grants g JOIN passes p ON p.id = g.pass_id JOIN products pr ON pr.id = p.product_id";

const INTERACTION_COLS: &str = "seq, id, demand_id, holder_id, rank, status, deadline, matched_pass_ids, why, created_at, decided_at, decline_reason";
const OFFER_COLS: &str = "id, interaction_id, demand_id, holder_id, requester_id, pass_id, note, status, created_at, accepted_at, licence_jws, unit_no";
/// The columns an order is inserted with (the rest have defaults).
const ORDER_INSERT_COLS: &str = "id, offer_id, requester_id, provider_id, holder_id, product_id, pass_id, quantity, unit_price_minor, total_minor, commission_minor, currency, status, ship_to, payment_ref, created_at, paid_at, shipped_at, unit_no, pay_by";
const ORDER_COLS: &str = "seq, id, offer_id, requester_id, provider_id, holder_id, product_id, pass_id, quantity, unit_price_minor, total_minor, commission_minor, currency, status, ship_to, payment_ref, created_at, paid_at, shipped_at, unit_no, pay_by, refunded_minor, refund_claimed_minor, commission_reversed_minor, delivered_at, cancelled_at, cancel_reason, cancelled_by, return_status, return_reason, return_requested_at, dispute_id, settled_at, tracking";
const PASS_COLS: &str = "id AS p_id, product_id, provider_id, mode, units, commission_bps, valid_from, valid_until, jws, created_at AS p_at, kid, status_index, revoked_at";
const KEY_COLS: &str = "kid, provider_id, public_key, secret, created_at, retired_at";
const TRANSFER_COLS: &str = "id, pass_id, unit_no, seq, from_id, to_id, jws, created_at";
/// The columns a demand is inserted with (it is read with `DEMAND_READ_COLS`).
const DEMAND_COLS: &str = "id, requester_id, query, category, max_price_minor, currency, min_positive_rate, min_success_rate, min_ratings, fields, min_holders, max_holders, ttl_seconds, deadline, created_at, accepted_offer_id, waiting";

impl SqliteStore {
    async fn interaction_in<'e, E>(&self, ex: E, id: &str) -> StoreResult<Interaction>
    where
        E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
    {
        let q = format!("SELECT {INTERACTION_COLS} FROM interactions WHERE id = ?");
        let row = sqlx::query(&q).bind(id).fetch_one(ex).await.map_err(db)?;
        interaction_from(&row)
    }

    async fn offer_in<'e, E>(&self, ex: E, id: &str) -> StoreResult<Offer>
    where
        E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
    {
        let q = format!("SELECT {OFFER_COLS} FROM offers WHERE id = ?");
        let row = sqlx::query(&q).bind(id).fetch_one(ex).await.map_err(db)?;
        offer_from(&row)
    }

    async fn order_in<'e, E>(&self, ex: E, id: &str) -> StoreResult<Order>
    where
        E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
    {
        let q = format!("SELECT {ORDER_COLS} FROM orders WHERE id = ?");
        let row = sqlx::query(&q).bind(id).fetch_one(ex).await.map_err(db)?;
        order_from(&row)
    }

    async fn holding_in<'e, E>(&self, ex: E, holder_id: &str, pass_id: &str) -> StoreResult<Holding>
    where
        E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
    {
        let q = format!("{HOLDING_SELECT} WHERE g.holder_id = ? AND g.pass_id = ?");
        let row = sqlx::query(&q)
            .bind(holder_id)
            .bind(pass_id)
            .fetch_one(ex)
            .await
            .map_err(db)?;
        holding_from(&row)
    }

    async fn insert_key(tx: &mut Tx, k: &ProviderKeyRecord) -> StoreResult<()> {
        sqlx::query("INSERT INTO provider_keys (kid, provider_id, public_key, secret, created_at, retired_at) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(&k.kid)
            .bind(&k.provider_id)
            .bind(&k.public_key[..])
            .bind(k.secret.as_deref())
            .bind(k.created_at.millis())
            .bind(k.retired_at.map(|t| t.millis()))
            .execute(&mut **tx)
            .await
            .map_err(db)?;
        Ok(())
    }

    /// Records a transfer and moves the unit: the first (`seq` 1) from the
    /// holder it was granted to while unsold, later ones from its owner, each
    /// right after the one before. Anything else: the unit was already sold.
    async fn apply_transfer(tx: &mut Tx, t: &UnitTransfer) -> StoreResult<()> {
        let last = last_transfer_seq(tx, &t.pass_id, t.unit_no).await?;
        if last.unwrap_or(0) != t.seq - 1 {
            return Err(Conflict::UnitAlreadySold.into());
        }
        // From the holder it was granted to while unsold (a first sale, or a
        // resale after a cancelled order handed it back), or from its owner.
        let moved = sqlx::query("UPDATE pass_units SET owner_id = ?1 WHERE pass_id = ?2 AND unit_no = ?3 AND ((holder_id = ?4 AND owner_id IS NULL) OR owner_id = ?4)")
        .bind(&t.to_id)
        .bind(&t.pass_id)
        .bind(t.unit_no)
        .bind(&t.from_id)
        .execute(&mut **tx)
        .await
        .map_err(db)?
        .rows_affected();
        if moved != 1 {
            return Err(Conflict::UnitAlreadySold.into());
        }
        insert_transfer(tx, t).await.map_err(|e| match e {
            StoreError::Conflict(Conflict::Duplicate) => Conflict::UnitAlreadySold.into(),
            other => other,
        })?;
        Ok(())
    }

    async fn settle(tx: &mut Tx, order_id: &str, s: &Settlement) -> StoreResult<()> {
        sqlx::query("INSERT INTO ledger_transactions (id, order_id, payment_ref, created_at) VALUES (?, ?, ?, ?)")
            .bind(&s.ledger_id)
            .bind(order_id)
            .bind(&s.payment_ref)
            .bind(s.at.millis())
            .execute(&mut **tx)
            .await
            .map_err(db)?;
        for p in &s.postings {
            sqlx::query("INSERT INTO ledger_entries (transaction_id, account_id, currency, amount_minor, memo, bucket) VALUES (?, ?, ?, ?, ?, ?)")
                .bind(&s.ledger_id)
                .bind(&p.account_id)
                .bind(&p.currency)
                .bind(p.amount_minor)
                .bind(&p.memo)
                .bind(p.bucket.as_str())
                .execute(&mut **tx)
                .await
                .map_err(db)?;
        }
        Ok(())
    }
}

fn pending_expired(status: InteractionStatus, deadline: Timestamp, now: Timestamp) -> bool {
    status == InteractionStatus::Pending && now >= deadline
}

/// The shared outbox SQL in SQLite's dialect (`$n` → `?n`; any other `$` is kept).
fn sql(q: &str) -> String {
    let mut out = String::with_capacity(q.len());
    let mut chars = q.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

// One writer connection serializes both the count before an endpoint is
// inserted and every claim: no locks needed.
symbolon_store::sql_outbox_methods!(
    SqliteStore,
    write = writer,
    read = reader,
    sql = sql,
    account_lock = None,
    claim_lock = None
);

symbolon_store::sql_market_change_methods!(SqliteStore, write = writer, read = reader, sql = sql);

symbolon_store::sql_order_helpers!(conn = sqlx::SqliteConnection, sql = sql);

symbolon_store::sql_seal_methods!(SqliteStore, write = writer, read = reader, sql = sql);

symbolon_store::sql_lifecycle_methods!(
    SqliteStore,
    write = writer,
    read = reader,
    conn = sqlx::SqliteConnection,
    sql = sql,
    emit = "INSERT INTO events (account_id, type, data, created_at) VALUES ($1, $2, $3, $4)"
);

symbolon_store::sql_people_methods!(
    SqliteStore,
    write = writer,
    read = reader,
    conn = sqlx::SqliteConnection,
    sql = sql
);

symbolon_store::sql_mail_methods!(
    SqliteStore,
    write = writer,
    read = reader,
    sql = sql,
    claim_lock = None
);

symbolon_store::sql_unit_methods!(SqliteStore, read = reader, sql = sql);
symbolon_store::sql_tlog_methods!(
    SqliteStore,
    write = writer,
    read = reader,
    sql = sql,
    conn = sqlx::SqliteConnection
);
symbolon_store::sql_manage_methods!(
    SqliteStore,
    write = writer,
    read = reader,
    conn = sqlx::SqliteConnection,
    sql = sql
);

symbolon_store::sql_dispute_methods!(
    SqliteStore,
    write = writer,
    read = reader,
    conn = sqlx::SqliteConnection,
    sql = sql
);

#[async_trait::async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn close(&self) {
        SqliteStore::close(self).await
    }

    async fn schema_version(&self) -> StoreResult<i64> {
        sqlx::query_scalar(symbolon_store::APPLIED_SCHEMA_VERSION)
            .fetch_one(&self.reader)
            .await
            .map_err(db)
    }

    fn known_schema_version(&self) -> i64 {
        known_schema_version()
    }

    fn pool_stats(&self) -> Vec<PoolStats> {
        vec![PoolStats {
            name: "reader",
            size: self.reader.size(),
            idle: self.reader.num_idle() as u32,
            max: READERS,
        }]
    }

    async fn create_account(&self, new: &NewAccount) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let a = &new.account;
        sqlx::query("INSERT INTO accounts (id, name, roles, api_key_hash, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(&a.id)
            .bind(&a.name)
            .bind(roles_to_str(&a.roles))
            .bind(&new.api_key_hash)
            .bind(a.created_at.millis())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if let Some(k) = &new.provider_key {
            Self::insert_key(&mut tx, k).await?;
        }
        if let Some(login) = &new.login {
            people_sql::insert_login(&mut tx, a, login).await?;
        }
        tx.commit().await.map_err(db)
    }

    async fn account(&self, id: &str) -> StoreResult<Account> {
        let row = sqlx::query("SELECT id, name, roles, created_at FROM accounts WHERE id = ?")
            .bind(id)
            .fetch_one(&self.reader)
            .await
            .map_err(db)?;
        account_from(&row)
    }

    async fn account_by_key_hash(&self, hash: &str) -> StoreResult<Account> {
        people_sql::account_by_key_hash(self, hash).await
    }

    async fn provider_keys(&self, provider_id: &str) -> StoreResult<Vec<ProviderKeyRecord>> {
        let q = format!(
            "SELECT {KEY_COLS} FROM provider_keys WHERE provider_id = ? ORDER BY created_at, retired_at IS NULL, kid"
        );
        let rows = sqlx::query(&q)
            .bind(provider_id)
            .fetch_all(&self.reader)
            .await
            .map_err(db)?;
        rows.iter().map(provider_key_from).collect()
    }

    async fn create_product(&self, p: &Product) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        // One writer: the next `seq` is read and taken in one statement.
        sqlx::query("INSERT INTO products (id, provider_id, title, description, category, specs, price_minor, currency, stock, created_at, gtin, seq)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM products))")
            .bind(&p.id)
            .bind(&p.provider_id)
            .bind(&p.title)
            .bind(&p.description)
            .bind(&p.category)
            .bind(specs_to_json(&p.specs))
            .bind(p.price_minor)
            .bind(&p.currency)
            .bind(p.stock)
            .bind(p.created_at.millis())
            .bind(&p.gtin)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(())
    }

    async fn product(&self, id: &str) -> StoreResult<Product> {
        let q = format!("SELECT {PRODUCT_COLS} FROM products WHERE id = ?");
        let row = sqlx::query(&q)
            .bind(id)
            .fetch_one(&self.reader)
            .await
            .map_err(db)?;
        product_from(&row, "")
    }

    async fn create_pass(&self, p: &Pass, product_revision: i64) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        lock_product_revision(&mut tx, &p.product_id, product_revision).await?;
        sqlx::query("INSERT INTO passes (id, product_id, provider_id, mode, units, commission_bps, valid_from, valid_until, jws, created_at, kid, status_index, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(&p.id)
            .bind(&p.product_id)
            .bind(&p.provider_id)
            .bind(p.mode.as_str())
            .bind(p.units)
            .bind(p.commission_bps)
            .bind(p.valid_from.millis())
            .bind(p.valid_until.map(|t| t.millis()))
            .bind(&p.jws)
            .bind(p.created_at.millis())
            .bind(&p.kid)
            .bind(p.status_index)
            .bind(p.revoked_at.map(|t| t.millis()))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if p.mode == PassMode::Unique {
            let units = p.units.unwrap_or(0);
            // A recursive CTE numbers the units in one statement.
            sqlx::query("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) INSERT INTO pass_units (pass_id, unit_no) SELECT ?, i FROM n WHERE ? > 0")
                .bind(units)
                .bind(&p.id)
                .bind(units)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn pass(&self, id: &str) -> StoreResult<Pass> {
        let q = format!("SELECT {PASS_COLS} FROM passes WHERE id = ?");
        let row = sqlx::query(&q)
            .bind(id)
            .fetch_one(&self.reader)
            .await
            .map_err(db)?;
        pass_from(&row)
    }

    async fn grant(&self, g: &NewGrant) -> StoreResult<Holding> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let mode: String = sqlx::query_scalar("SELECT mode FROM passes WHERE id = ?")
            .bind(&g.pass_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("INSERT INTO grants (id, pass_id, holder_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (holder_id, pass_id) DO NOTHING")
            .bind(&g.id)
            .bind(&g.pass_id)
            .bind(&g.holder_id)
            .bind(g.created_at.millis())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if mode == PassMode::Unique.as_str() {
            let want = g.units.unwrap_or(0).max(0);
            let done = sqlx::query("UPDATE pass_units SET holder_id = ? WHERE rowid IN (SELECT rowid FROM pass_units WHERE pass_id = ? AND holder_id IS NULL ORDER BY unit_no LIMIT ?)")
                .bind(&g.holder_id)
                .bind(&g.pass_id)
                .bind(want)
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
            if (done as i64) < want {
                return Err(Conflict::UnitsExhausted.into());
            }
        }
        let h = self.holding_in(&mut *tx, &g.holder_id, &g.pass_id).await?;
        tx.commit().await.map_err(db)?;
        Ok(h)
    }

    async fn set_holder_fields(&self, holder_id: &str, fields: &[String]) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        sqlx::query("INSERT INTO holder_profiles (account_id, fields) VALUES (?, ?) ON CONFLICT (account_id) DO UPDATE SET fields = excluded.fields")
            .bind(holder_id)
            .bind(strings_to_json(fields))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(())
    }

    async fn holder(&self, holder_id: &str, now: Timestamp) -> StoreResult<HolderState> {
        let row = sqlx::query(
            "SELECT a.id, a.name, hp.fields,
               COALESCE(s.positive, 0) AS positive, COALESCE(s.ratings, 0) AS ratings,
               COALESCE(s.offered, 0) AS offered,
               COALESCE(s.answered, 0) + COALESCE(s.expired, 0)
               + (SELECT COUNT(DISTINCT d.requester_id || '/' || (i.deadline / ?1)) FROM interactions i JOIN demands d ON d.id = i.demand_id
                  WHERE i.holder_id = a.id AND i.status = 'pending' AND i.deadline <= ?2
                    AND NOT EXISTS (SELECT 1 FROM expiry_marks m WHERE m.holder_id = i.holder_id
                                      AND m.requester_id = d.requester_id AND m.day = i.deadline / ?1)) AS decided
             FROM accounts a LEFT JOIN holder_profiles hp ON hp.account_id = a.id
             LEFT JOIN holder_stats s ON s.holder_id = a.id WHERE a.id = ?3",
        )
        .bind(EXPIRY_COUNT_WINDOW_MS)
        .bind(now.millis())
        .bind(holder_id)
        .fetch_one(&self.reader)
        .await
        .map_err(db)?;
        holder_from(&row)
    }

    async fn wallet(&self, holder_id: &str) -> StoreResult<Vec<Holding>> {
        let q = format!("{HOLDING_SELECT} WHERE g.holder_id = ? ORDER BY g.created_at, g.id");
        let rows = sqlx::query(&q)
            .bind(holder_id)
            .fetch_all(&self.reader)
            .await
            .map_err(db)?;
        rows.iter().map(holding_from).collect()
    }

    async fn holding(&self, holder_id: &str, pass_id: &str) -> StoreResult<Holding> {
        self.holding_in(&self.reader, holder_id, pass_id).await
    }

    async fn market(&self, now: Timestamp) -> StoreResult<MarketSnapshot> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        // One read transaction: holdings and reputations from the same snapshot.
        let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(db)?;
        let q = format!(
            "{HOLDING_SELECT} WHERE {} ORDER BY g.holder_id, p.id",
            sql(USABLE_AT_1)
        );
        let rows = sqlx::query(&q)
            .bind(now.millis())
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        let mut holdings = Vec::with_capacity(rows.len());
        for row in &rows {
            let h = holding_from(row)?;
            if h.pass.mode == PassMode::Shareable || h.units_left.unwrap_or(0) > 0 {
                holdings.push(h);
            }
        }
        let rows = sqlx::query(
            "SELECT a.id, a.name, hp.fields,
               COALESCE(s.positive, 0) AS positive, COALESCE(s.ratings, 0) AS ratings,
               COALESCE(s.offered, 0) AS offered,
               COALESCE(s.answered, 0) + COALESCE(s.expired, 0) + COALESCE(x.due, 0) AS decided
             FROM accounts a
             LEFT JOIN holder_profiles hp ON hp.account_id = a.id
             LEFT JOIN holder_stats s ON s.holder_id = a.id
             LEFT JOIN (SELECT i.holder_id, COUNT(DISTINCT d.requester_id || '/' || (i.deadline / ?1)) AS due
                        FROM interactions i JOIN demands d ON d.id = i.demand_id
                        WHERE i.status = 'pending' AND i.deadline <= ?2
                          AND NOT EXISTS (SELECT 1 FROM expiry_marks m WHERE m.holder_id = i.holder_id
                                            AND m.requester_id = d.requester_id AND m.day = i.deadline / ?1)
                        GROUP BY i.holder_id) x ON x.holder_id = a.id
             WHERE a.id IN (SELECT DISTINCT holder_id FROM grants)
             ORDER BY a.id",
        )
        .bind(EXPIRY_COUNT_WINDOW_MS)
        .bind(now.millis())
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let holders = rows
            .iter()
            .map(holder_from)
            .collect::<StoreResult<Vec<_>>>()?;
        tx.commit().await.map_err(db)?;
        Ok(MarketSnapshot { holdings, holders })
    }

    async fn create_demand_logged(
        &self,
        d: &DemandRecord,
        requests: &[Interaction],
        entry: Option<&symbolon_store::tlog::NewLogEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        // The one writer serializes these counts with the insert below.
        let row = sqlx::query(
            "SELECT COUNT(*) AS open, COALESCE(SUM(waiting), 0) AS waiting FROM demands
             WHERE requester_id = ? AND deadline > ? AND accepted_offer_id IS NULL AND cancelled_at IS NULL",
        )
        .bind(&d.requester_id)
        .bind(d.created_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let open: i64 = row.try_get("open").map_err(db)?;
        let waiting: i64 = row.try_get("waiting").map_err(db)?;
        if d.waiting && waiting as u64 >= MAX_WAITING_DEMANDS_PER_REQUESTER {
            return Err(Conflict::TooManyWaitingDemands.into());
        }
        if open as u64 >= MAX_OPEN_DEMANDS_PER_REQUESTER {
            return Err(Conflict::TooManyOpenDemands.into());
        }
        let q = format!("INSERT INTO demands ({DEMAND_COLS}, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM demands))");
        sqlx::query(&q)
            .bind(&d.id)
            .bind(&d.requester_id)
            .bind(&d.query)
            .bind(&d.category)
            .bind(d.max_price_minor)
            .bind(&d.currency)
            .bind(d.min_positive_rate)
            .bind(d.min_success_rate)
            .bind(d.min_ratings)
            .bind(strings_to_json(&d.fields))
            .bind(d.min_holders)
            .bind(d.max_holders)
            .bind(d.ttl_seconds)
            .bind(d.deadline)
            .bind(d.created_at)
            .bind(&d.accepted_offer_id)
            .bind(d.waiting as i64)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        insert_interactions(&mut tx, requests).await?;
        if let Some(e) = entry {
            tlog_sql::append_log_entry_in(&mut tx, e).await?;
        }
        tx.commit().await.map_err(db)
    }

    async fn waiting_demands(&self, now: Timestamp) -> StoreResult<Vec<DemandRecord>> {
        let q = format!("SELECT {DEMAND_READ_COLS} FROM demands WHERE waiting = 1 AND deadline > ? ORDER BY created_at, id");
        let rows = sqlx::query(&q)
            .bind(now.millis())
            .fetch_all(&self.reader)
            .await
            .map_err(db)?;
        rows.iter().map(demand_from).collect()
    }

    async fn count_waiting(&self, requester_id: &str, now: Timestamp) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM demands WHERE requester_id = ? AND waiting = 1 AND deadline > ?",
        )
        .bind(requester_id)
        .bind(now.millis())
        .fetch_one(&self.reader)
        .await
        .map_err(db)?;
        Ok(n as u64)
    }

    async fn activate_demand_logged(
        &self,
        demand_id: &str,
        requests: &[Interaction],
        now: Timestamp,
        entry: Option<&symbolon_store::tlog::NewLogEntry>,
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let requester: Option<String> = sqlx::query_scalar(
            "UPDATE demands SET waiting = 0 WHERE id = ? AND waiting = 1 AND deadline > ? RETURNING requester_id",
        )
        .bind(demand_id)
        .bind(now.millis())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some(requester) = requester else {
            return Ok(false);
        };
        insert_interactions(&mut tx, requests).await?;
        sqlx::query("INSERT INTO events (account_id, type, data, created_at) VALUES (?, 'demand.opened', ?, ?)")
            .bind(requester)
            .bind(symbolon_store::demand_opened(demand_id, requests.len()))
            .bind(now.millis())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if let Some(e) = entry {
            tlog_sql::append_log_entry_in(&mut tx, e).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn market_changes(&self, after: i64, upto: i64) -> StoreResult<Vec<MarketChange>> {
        self.market_changes_sql(after, upto).await
    }

    async fn holdings_of(
        &self,
        holder_ids: &[String],
        now: Timestamp,
    ) -> StoreResult<Vec<Holding>> {
        self.holdings_of_sql(holder_ids, now).await
    }

    async fn prune_market_changes(&self, version: i64, limit: u32) -> StoreResult<u64> {
        self.prune_market_changes_sql(version, limit).await
    }

    async fn market_version(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT v FROM market_version WHERE id = 1")
            .fetch_one(&self.reader)
            .await
            .map_err(db)
    }

    async fn demand(&self, id: &str) -> StoreResult<DemandRecord> {
        let q = format!("SELECT {DEMAND_READ_COLS} FROM demands WHERE id = ?");
        let row = sqlx::query(&q)
            .bind(id)
            .fetch_one(&self.reader)
            .await
            .map_err(db)?;
        demand_from(&row)
    }

    async fn demand_interactions(&self, demand_id: &str) -> StoreResult<Vec<Interaction>> {
        let q = format!(
            "SELECT {INTERACTION_COLS} FROM interactions WHERE demand_id = ? ORDER BY rank, seq"
        );
        let rows = sqlx::query(&q)
            .bind(demand_id)
            .fetch_all(&self.reader)
            .await
            .map_err(db)?;
        rows.iter().map(interaction_from).collect()
    }

    async fn demand_offers(&self, demand_id: &str) -> StoreResult<Vec<Offer>> {
        let q =
            format!("SELECT {OFFER_COLS} FROM offers WHERE demand_id = ? ORDER BY created_at, id");
        let rows = sqlx::query(&q)
            .bind(demand_id)
            .fetch_all(&self.reader)
            .await
            .map_err(db)?;
        rows.iter().map(offer_from).collect()
    }

    async fn inbox(
        &self,
        holder_id: &str,
        pending_at: Option<Timestamp>,
        page: &Page,
    ) -> StoreResult<Vec<Interaction>> {
        let q = format!("SELECT {INTERACTION_COLS} FROM interactions WHERE holder_id = ?1 AND seq > ?2 AND (?4 IS NULL OR (status = 'pending' AND deadline > ?4)) ORDER BY seq LIMIT ?3");
        let rows = sqlx::query(&q)
            .bind(holder_id)
            .bind(page.after.unwrap_or(0))
            .bind(page.limit as i64)
            .bind(pending_at.map(|t| t.millis()))
            .fetch_all(&self.reader)
            .await
            .map_err(db)?;
        rows.iter().map(interaction_from).collect()
    }

    async fn inbox_newest(&self, holder_id: &str, limit: u32) -> StoreResult<Vec<Interaction>> {
        let q = format!("SELECT {INTERACTION_COLS} FROM interactions WHERE holder_id = $1 ORDER BY seq DESC LIMIT $2");
        let rows = sqlx::query(&q)
            .bind(holder_id)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(db)?;
        rows.iter().map(interaction_from).collect()
    }

    async fn interaction(&self, id: &str) -> StoreResult<Interaction> {
        self.interaction_in(&self.reader, id).await
    }

    async fn create_offer(&self, o: &NewOffer) -> StoreResult<Offer> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let i = self.interaction_in(&mut *tx, &o.interaction_id).await?;
        if i.status != InteractionStatus::Pending
            || pending_expired(i.status, i.deadline, o.created_at)
        {
            return Err(Conflict::InteractionClosed.into());
        }
        pass_on_sale(&mut tx, &o.pass_id).await?;
        sqlx::query("UPDATE interactions SET status = 'offered', decided_at = ? WHERE id = ?")
            .bind(o.created_at.millis())
            .bind(&i.id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let row = sqlx::query(&sql(symbolon_store::orders::INSERT_OFFER))
            .bind(&o.id)
            .bind(&i.id)
            .bind(&i.demand_id)
            .bind(&i.holder_id)
            .bind(&o.pass_id)
            .bind(&o.note)
            .bind(o.created_at.millis())
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let offer = offer_from(&row)?;
        tx.commit().await.map_err(db)?;
        Ok(offer)
    }

    async fn decline(
        &self,
        interaction_id: &str,
        reason: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Interaction> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let i = self.interaction_in(&mut *tx, interaction_id).await?;
        if i.status != InteractionStatus::Pending || pending_expired(i.status, i.deadline, now) {
            return Err(Conflict::InteractionClosed.into());
        }
        sqlx::query("UPDATE interactions SET status = 'declined', decided_at = ?, decline_reason = ? WHERE id = ?")
            .bind(now.millis())
            .bind(reason)
            .bind(interaction_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let i = self.interaction_in(&mut *tx, interaction_id).await?;
        tx.commit().await.map_err(db)?;
        Ok(i)
    }

    async fn expire_due(&self, now: Timestamp) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let r = sqlx::query("UPDATE interactions SET status = 'expired', decided_at = deadline WHERE status = 'pending' AND deadline <= ?")
            .bind(now.millis())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(r.rows_affected())
    }

    async fn offer(&self, id: &str) -> StoreResult<Offer> {
        self.offer_in(&self.reader, id).await
    }

    async fn accept_offer(&self, a: &Acceptance) -> StoreResult<Offer> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let offer = self.offer_in(&mut *tx, &a.offer_id).await?;
        if offer.requester_id != a.requester_id {
            return Err(StoreError::NotFound);
        }
        let row = sqlx::query("SELECT accepted_offer_id, cancelled_at FROM demands WHERE id = ?")
            .bind(&offer.demand_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let accepted: Option<String> = row.try_get("accepted_offer_id").map_err(db)?;
        let cancelled: Option<i64> = row.try_get("cancelled_at").map_err(db)?;
        if offer.status == OfferStatus::Accepted || accepted.is_some() {
            return Err(Conflict::OfferAlreadyAccepted.into());
        }
        if cancelled.is_some() {
            return Err(Conflict::DemandCancelled.into());
        }
        let row = sqlx::query("SELECT mode, product_id FROM passes WHERE id = ?")
            .bind(&offer.pass_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let mode: String = row.try_get("mode").map_err(db)?;
        let product_id: String = row.try_get("product_id").map_err(db)?;
        on_sale(&mut tx, &product_id).await?;
        if mode == PassMode::Unique.as_str() {
            // Nothing changes hands until the order is paid, but an offer the
            // holder could not honour now is refused.
            let row = sqlx::query(
                "SELECT pr.stock,
                   (SELECT COUNT(*) FROM pass_units u WHERE u.pass_id = p.id AND u.holder_id = ? AND u.owner_id IS NULL) AS free
                 FROM passes p JOIN products pr ON pr.id = p.product_id WHERE p.id = ?",
            )
            .bind(&offer.holder_id)
            .bind(&offer.pass_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            let stock: i64 = row.try_get("stock").map_err(db)?;
            let free: i64 = row.try_get("free").map_err(db)?;
            if stock <= 0 {
                return Err(Conflict::InsufficientStock.into());
            }
            if free <= 0 {
                return Err(Conflict::UnitsExhausted.into());
            }
        }
        sqlx::query(
            "UPDATE offers SET status = 'accepted', accepted_at = ?, licence_jws = ? WHERE id = ?",
        )
        .bind(a.at.millis())
        .bind(&a.licence_jws)
        .bind(&offer.id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        // The other holders' pending requests are withdrawn: they no longer
        // need answering and do not count against their success rate.
        sqlx::query("UPDATE interactions SET status = 'withdrawn', decided_at = ? WHERE demand_id = ? AND status = 'pending' AND deadline > ?")
            .bind(a.at.millis())
            .bind(&offer.demand_id)
            .bind(a.at.millis())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("UPDATE demands SET accepted_offer_id = ? WHERE id = ?")
            .bind(&offer.id)
            .bind(&offer.demand_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let offer = self.offer_in(&mut *tx, &a.offer_id).await?;
        tx.commit().await.map_err(db)?;
        Ok(offer)
    }

    async fn set_requester_profile(&self, p: &RequesterProfile) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        sqlx::query("INSERT INTO requester_profiles (account_id, ship_to, payment_method, updated_at) VALUES (?, ?, ?, ?)
                     ON CONFLICT (account_id) DO UPDATE SET ship_to = COALESCE(excluded.ship_to, ship_to), payment_method = COALESCE(excluded.payment_method, payment_method), updated_at = excluded.updated_at")
            .bind(&p.account_id)
            .bind(p.ship_to.as_ref().map(to_json))
            .bind(p.payment_method.as_ref().map(to_json))
            .bind(p.updated_at.millis())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(())
    }

    async fn requester_profile(&self, account_id: &str) -> StoreResult<RequesterProfile> {
        let row = sqlx::query("SELECT account_id, ship_to, payment_method, updated_at FROM requester_profiles WHERE account_id = ?")
            .bind(account_id)
            .fetch_one(&self.reader)
            .await
            .map_err(db)?;
        requester_profile_from(&row)
    }

    async fn place_order(
        &self,
        o: &Order,
        transfer: Option<&UnitTransfer>,
        settlement: Option<&Settlement>,
    ) -> StoreResult<Order> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        on_sale(&mut tx, &o.product_id).await?;
        if let Some(offer_id) = &o.offer_id {
            let offer = self.offer_in(&mut *tx, offer_id).await?;
            if offer.status != OfferStatus::Accepted {
                return Err(Conflict::OfferNotAccepted.into());
            }
            let existing: Option<String> =
                sqlx::query_scalar(&sql(symbolon_store::units::LIVE_ORDER_OF_OFFER))
                    .bind(offer_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?;
            if existing.is_some() {
                return Err(Conflict::AlreadyOrdered.into());
            }
        }
        let unique = pass_is_unique(&mut tx, &o.pass_id).await?;
        let unit_no = transfer.map(|t| t.unit_no).or(o.unit_no);
        match settlement {
            Some(_) => {
                // Paid as it is placed: the stock and the unit go now.
                if unique && unit_no.is_none() {
                    return Err(StoreError::corrupt(
                        "a paid unique order needs its unit's transfer",
                    ));
                }
                if let Some(t) = transfer {
                    Self::apply_transfer(&mut tx, t).await?;
                }
                take_stock(&mut tx, &o.product_id, o.quantity).await?;
            }
            None => {
                // Unpaid: nothing is taken, so nothing can be hoarded; the
                // requester's open unpaid orders are bounded instead.
                if transfer.is_some() || o.pay_by.is_none() {
                    return Err(StoreError::corrupt(
                        "an unpaid order moves no unit and has a pay_by",
                    ));
                }
                let (n, q) = unpaid_open(&mut tx, &o.requester_id, o.created_at).await?;
                if n as u64 >= MAX_UNPAID_ORDERS_PER_REQUESTER
                    || q + o.quantity > MAX_UNPAID_QUANTITY_PER_REQUESTER
                {
                    return Err(Conflict::TooManyUnpaidOrders.into());
                }
                let stock: i64 = sqlx::query_scalar("SELECT stock FROM products WHERE id = ?")
                    .bind(&o.product_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                if stock < o.quantity {
                    return Err(Conflict::InsufficientStock.into());
                }
                if unique && unit_no.is_none() {
                    let free = free_units(&mut tx, &o.pass_id, o.holder_id.as_deref()).await?;
                    if free == 0 {
                        return Err(Conflict::UnitsExhausted.into());
                    }
                }
            }
        }
        let q = format!(
            "INSERT INTO orders ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ORDER_INSERT_COLS
        );
        sqlx::query(&q)
            .bind(&o.id)
            .bind(&o.offer_id)
            .bind(&o.requester_id)
            .bind(&o.provider_id)
            .bind(&o.holder_id)
            .bind(&o.product_id)
            .bind(&o.pass_id)
            .bind(o.quantity)
            .bind(o.unit_price_minor)
            .bind(o.total_minor)
            .bind(o.commission_minor)
            .bind(&o.currency)
            .bind(if settlement.is_some() {
                OrderStatus::Paid.as_str()
            } else {
                OrderStatus::Placed.as_str()
            })
            .bind(to_json(&o.ship_to))
            .bind(settlement.map(|s| s.payment_ref.clone()))
            .bind(o.created_at.millis())
            .bind(settlement.map(|s| s.at.millis()))
            .bind(None::<i64>)
            .bind(unit_no)
            .bind(if settlement.is_some() {
                None
            } else {
                o.pay_by.map(|t| t.millis())
            })
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if let Some(s) = settlement {
            if let Some(t) = transfer {
                unit_sold_with(&mut tx, o.offer_id.as_deref(), t).await?;
            }
            Self::settle(&mut tx, &o.id, s).await?;
        }
        let order = self.order_in(&mut *tx, &o.id).await?;
        tx.commit().await.map_err(db)?;
        Ok(order)
    }

    async fn pay_order(
        &self,
        order_id: &str,
        s: &Settlement,
        transfer: Option<&UnitTransfer>,
    ) -> StoreResult<Order> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let o = self.order_in(&mut *tx, order_id).await?;
        match o.status {
            OrderStatus::Placed if o.pay_by.is_some_and(|t| t <= s.at) => {
                return Err(Conflict::OrderExpired.into())
            }
            OrderStatus::Placed => {}
            OrderStatus::Expired => return Err(Conflict::OrderExpired.into()),
            _ => return Err(Conflict::InvalidState.into()),
        }
        if pass_is_unique(&mut tx, &o.pass_id).await? && o.unit_no.is_none() {
            let Some(t) = transfer else {
                return Err(StoreError::corrupt(
                    "paying a unique order needs its unit's transfer",
                ));
            };
            if t.pass_id != o.pass_id
                || Some(t.from_id.as_str()) != o.holder_id.as_deref()
                || t.to_id != o.requester_id
            {
                return Err(StoreError::corrupt("the transfer does not match the order"));
            }
            Self::apply_transfer(&mut tx, t).await?;
            unit_sold_with(&mut tx, o.offer_id.as_deref(), t).await?;
            sqlx::query("UPDATE orders SET unit_no = ? WHERE id = ?")
                .bind(t.unit_no)
                .bind(order_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        take_stock(&mut tx, &o.product_id, o.quantity).await?;
        sqlx::query("UPDATE orders SET status = 'paid', paid_at = ?, payment_ref = ?, pay_by = NULL WHERE id = ? AND status = 'placed'")
            .bind(s.at.millis())
            .bind(&s.payment_ref)
            .bind(order_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        Self::settle(&mut tx, order_id, s).await?;
        let order = self.order_in(&mut *tx, order_id).await?;
        tx.commit().await.map_err(db)?;
        Ok(order)
    }

    async fn expire_unpaid_orders(&self, now: Timestamp) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let r = sqlx::query(
            "UPDATE orders SET status = 'expired' WHERE status = 'placed' AND pay_by <= ?",
        )
        .bind(now.millis())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(r.rows_affected())
    }

    async fn ship_order(
        &self,
        order_id: &str,
        tracking: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Order> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let done = sqlx::query(
            "UPDATE orders SET status = 'shipped', shipped_at = ?, tracking = ? WHERE id = ? AND status = 'paid'",
        )
        .bind(now.millis())
        .bind(tracking)
        .bind(order_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
        if done != 1 {
            self.order_in(&mut *tx, order_id).await?;
            return Err(Conflict::InvalidState.into());
        }
        let order = self.order_in(&mut *tx, order_id).await?;
        tx.commit().await.map_err(db)?;
        Ok(order)
    }

    async fn order(&self, id: &str) -> StoreResult<Order> {
        self.order_in(&self.reader, id).await
    }

    async fn orders(&self, party: OrderParty<'_>, page: &Page) -> StoreResult<Vec<Order>> {
        let (col, id) = match party {
            OrderParty::Provider(id) => ("provider_id", id),
            OrderParty::Requester(id) => ("requester_id", id),
            OrderParty::Holder(id) => ("holder_id", id),
        };
        let q = format!(
            "SELECT {ORDER_COLS} FROM orders WHERE {col} = ? AND seq > ? ORDER BY seq LIMIT ?"
        );
        let rows = sqlx::query(&q)
            .bind(id)
            .bind(page.after.unwrap_or(0))
            .bind(page.limit as i64)
            .fetch_all(&self.reader)
            .await
            .map_err(db)?;
        rows.iter().map(order_from).collect()
    }

    async fn balances(&self, account_id: &str) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT currency, SUM(amount_minor) AS total FROM ledger_entries WHERE account_id = ? GROUP BY currency ORDER BY currency")
            .bind(account_id)
            .fetch_all(&self.reader)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("currency").map_err(db)?,
                    r.try_get("total").map_err(db)?,
                ))
            })
            .collect()
    }

    async fn ledger_totals(&self) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT currency, SUM(amount_minor) AS total FROM ledger_entries GROUP BY currency ORDER BY currency")
            .fetch_all(&self.reader)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("currency").map_err(db)?,
                    r.try_get("total").map_err(db)?,
                ))
            })
            .collect()
    }

    async fn add_provider_key(
        &self,
        key: &ProviderKeyRecord,
        retire_others: bool,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let keys: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM provider_keys WHERE provider_id = ?")
                .bind(&key.provider_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
        if keys as usize >= MAX_SIGNING_KEYS {
            return Err(Conflict::TooManySigningKeys.into());
        }
        if retire_others {
            sqlx::query("UPDATE provider_keys SET retired_at = ? WHERE provider_id = ? AND retired_at IS NULL AND secret IS NOT NULL")
                .bind(key.created_at.millis())
                .bind(&key.provider_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        Self::insert_key(&mut tx, key).await?;
        tx.commit().await.map_err(db)
    }

    async fn unsealed_provider_keys(&self) -> StoreResult<Vec<ProviderKeyRecord>> {
        let q =
            format!("SELECT {KEY_COLS} FROM provider_keys WHERE length(secret) = 32 ORDER BY kid");
        let rows = sqlx::query(&q).fetch_all(&self.reader).await.map_err(db)?;
        rows.iter().map(provider_key_from).collect()
    }

    async fn set_provider_key_secret(
        &self,
        kid: &str,
        plain: &[u8],
        sealed: &[u8],
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let done = sqlx::query("UPDATE provider_keys SET secret = ? WHERE kid = ? AND secret = ?")
            .bind(sealed)
            .bind(kid)
            .bind(plain)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        tx.commit().await.map_err(db)?;
        Ok(done == 1)
    }

    async fn oldest_unexpired_pass(
        &self,
        provider_id: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        // Walks `passes_by_provider_age` and stops at the first unexpired pass.
        let at: Option<i64> = sqlx::query_scalar("SELECT created_at FROM passes WHERE provider_id = ? AND (valid_until IS NULL OR valid_until > ?) ORDER BY created_at LIMIT 1")
            .bind(provider_id)
            .bind(now.millis())
            .fetch_optional(&self.reader)
            .await
            .map_err(db)?;
        Ok(at.map(Timestamp::from_millis))
    }

    async fn any_sealed_provider_key(&self) -> StoreResult<Option<ProviderKeyRecord>> {
        let q = format!("SELECT {KEY_COLS} FROM provider_keys WHERE length(secret) > 32 ORDER BY created_at LIMIT 1");
        let row = sqlx::query(&q)
            .fetch_optional(&self.reader)
            .await
            .map_err(db)?;
        row.as_ref().map(provider_key_from).transpose()
    }

    async fn revoke_pass(&self, pass_id: &str, at: Timestamp) -> StoreResult<Pass> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        sqlx::query("UPDATE passes SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(at.millis())
            .bind(pass_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let q = format!("SELECT {PASS_COLS} FROM passes WHERE id = ?");
        let row = sqlx::query(&q)
            .bind(pass_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let pass = pass_from(&row)?;
        tx.commit().await.map_err(db)?;
        Ok(pass)
    }

    async fn revoked_status_indices(&self, provider_id: &str) -> StoreResult<Vec<i64>> {
        sqlx::query_scalar("SELECT status_index FROM passes WHERE provider_id = ? AND revoked_at IS NOT NULL AND status_index IS NOT NULL ORDER BY status_index")
            .bind(provider_id)
            .fetch_all(&self.reader)
            .await
            .map_err(db)
    }

    async fn unit(&self, pass_id: &str, unit_no: i64) -> StoreResult<Unit> {
        let row = sqlx::query("SELECT pass_id, unit_no, holder_id, owner_id FROM pass_units WHERE pass_id = ? AND unit_no = ?")
            .bind(pass_id)
            .bind(unit_no)
            .fetch_one(&self.reader)
            .await
            .map_err(db)?;
        Ok(Unit {
            pass_id: sqlx::Row::try_get(&row, "pass_id").map_err(db)?,
            unit_no: sqlx::Row::try_get(&row, "unit_no").map_err(db)?,
            holder_id: sqlx::Row::try_get(&row, "holder_id").map_err(db)?,
            owner_id: sqlx::Row::try_get(&row, "owner_id").map_err(db)?,
        })
    }

    async fn free_unit(&self, pass_id: &str, holder_id: &str) -> StoreResult<Option<i64>> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let r = sqlx::query_scalar("SELECT unit_no FROM pass_units WHERE pass_id = ? AND holder_id = ? AND owner_id IS NULL ORDER BY unit_no LIMIT 1")
            .bind(pass_id)
            .bind(holder_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db);
        tx.commit().await.map_err(db)?;
        r
    }

    async fn unit_history(&self, pass_id: &str, unit_no: i64) -> StoreResult<Vec<UnitTransfer>> {
        let q = format!("SELECT {TRANSFER_COLS} FROM unit_transfers WHERE pass_id = ? AND unit_no = ? ORDER BY seq");
        let rows = sqlx::query(&q)
            .bind(pass_id)
            .bind(unit_no)
            .fetch_all(&self.reader)
            .await
            .map_err(db)?;
        rows.iter().map(unit_transfer_from).collect()
    }

    async fn transfer_unit(&self, t: &UnitTransfer) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        Self::apply_transfer(&mut tx, t).await?;
        tx.commit().await.map_err(db)
    }

    async fn pass_activity(&self, pass_id: &str, recent: u32) -> StoreResult<PassActivity> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(db)?;
        let (orders, quantity): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(quantity), 0) FROM orders WHERE pass_id = ? AND status IN ('paid', 'shipped', 'delivered')",
        )
        .bind(pass_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT paid_at, quantity FROM orders WHERE pass_id = ? AND status IN ('paid', 'shipped', 'delivered') ORDER BY paid_at DESC, seq DESC LIMIT ?",
        )
        .bind(pass_id)
        .bind(i64::from(recent))
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let (positive, ratings): (i64, i64) = sqlx::query_as("SELECT COALESCE(SUM(r.positive), 0), COUNT(*) FROM ratings r JOIN offers o ON o.id = r.offer_id WHERE o.pass_id = ?")
            .bind(pass_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let reviews: Vec<(i64, Option<String>, i64)> = sqlx::query_as("SELECT r.positive, r.comment, r.created_at FROM ratings r JOIN offers o ON o.id = r.offer_id WHERE o.pass_id = ? ORDER BY r.created_at DESC, r.id LIMIT ?")
            .bind(pass_id)
            .bind(i64::from(recent))
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(PassActivity {
            orders,
            quantity,
            recent: rows
                .into_iter()
                .map(|(at, q)| (Timestamp::from_millis(at), q))
                .collect(),
            reviews: reviews
                .into_iter()
                .map(|(p, comment, at)| Review {
                    positive: p == 1,
                    comment,
                    created_at: Timestamp::from_millis(at),
                })
                .collect(),
            positive,
            ratings,
        })
    }

    async fn idempotency_begin(
        &self,
        account_id: &str,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        stale_before: Timestamp,
    ) -> StoreResult<IdempotencyStart> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        // The common case, a new key, is one statement.
        let inserted = sqlx::query("INSERT INTO idempotency_keys (account_id, key, fingerprint, state, created_at, locked_at) VALUES (?, ?, ?, 'running', ?, ?) ON CONFLICT (account_id, key) DO NOTHING")
            .bind(account_id)
            .bind(key)
            .bind(fingerprint)
            .bind(now.millis())
            .bind(now.millis())
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        let row: Option<(
            String,
            String,
            Option<i64>,
            Option<String>,
            Option<Vec<u8>>,
            i64,
        )> = if inserted == 1 {
            None
        } else {
            sqlx::query_as(
                "SELECT fingerprint, state, status, content_type, body, locked_at FROM idempotency_keys WHERE account_id = ? AND key = ?",
            )
            .bind(account_id)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?
        };
        let start = match row {
            None if inserted == 1 => IdempotencyStart::Run,
            // Gone between the two statements cannot happen (one writer).
            None => return Err(StoreError::NotFound),
            Some((fp, _, _, _, _, _)) if fp != fingerprint => IdempotencyStart::Mismatch,
            Some((_, state, status, content_type, body, _)) if state == "done" => {
                IdempotencyStart::Replay(StoredResponse {
                    status: status.and_then(|s| u16::try_from(s).ok()).unwrap_or(500),
                    content_type,
                    body: body.unwrap_or_default(),
                })
            }
            Some((_, _, _, _, _, locked_at)) if locked_at < stale_before.millis() => {
                sqlx::query(
                    "UPDATE idempotency_keys SET locked_at = ? WHERE account_id = ? AND key = ?",
                )
                .bind(now.millis())
                .bind(account_id)
                .bind(key)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                IdempotencyStart::Run
            }
            Some(_) => IdempotencyStart::InProgress,
        };
        // A claim is told to nobody by itself: the request's own durable
        // write orders it (and if that never comes, losing the claim in a
        // crash loses nothing). Other answers wait, as they may replay.
        if matches!(start, IdempotencyStart::Run) {
            tx.commit_unacked().await.map_err(db)?;
        } else {
            tx.commit().await.map_err(db)?;
        }
        Ok(start)
    }

    async fn idempotency_finish(
        &self,
        account_id: &str,
        key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        sqlx::query("UPDATE idempotency_keys SET state = 'done', status = ?, content_type = ?, body = ? WHERE account_id = ? AND key = ? AND state = 'running'")
            .bind(i64::from(response.status))
            .bind(&response.content_type)
            .bind(&response.body)
            .bind(account_id)
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit_unacked().await.map_err(db)?;
        Ok(())
    }

    async fn idempotency_release(&self, account_id: &str, key: &str) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE account_id = ? AND key = ? AND state = 'running'",
        )
        .bind(account_id)
        .bind(key)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(())
    }

    async fn idempotency_prune(&self, before: Timestamp) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let n = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < ?")
            .bind(before.millis())
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        tx.commit().await.map_err(db)?;
        Ok(n)
    }

    async fn rate(&self, r: &Rating) -> StoreResult<()> {
        // Both the offer and the rating id are unique: tell a second rating of the offer
        // (AlreadyRated) from a rating id that exists (Duplicate) inside the transaction.
        let mut tx = self.writer.begin().await.map_err(db)?;
        let offer = self.offer_in(&mut *tx, &r.offer_id).await?;
        if offer.requester_id != r.requester_id || offer.holder_id != r.holder_id {
            return Err(StoreError::NotFound);
        }
        // Only a buyer rates, once its order was delivered or its dispute closed.
        let paid: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM orders o WHERE o.offer_id = ? AND (o.delivered_at IS NOT NULL OR EXISTS (SELECT 1 FROM disputes d WHERE d.order_id = o.id AND d.status <> 'open'))",
        )
        .bind(&r.offer_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        if offer.status != OfferStatus::Accepted || paid == 0 {
            return Err(Conflict::RatingNotAllowed.into());
        }
        let rated: Option<String> = sqlx::query_scalar("SELECT id FROM ratings WHERE offer_id = ?")
            .bind(&r.offer_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        if rated.is_some() {
            return Err(Conflict::AlreadyRated.into());
        }
        sqlx::query("INSERT INTO ratings (id, offer_id, holder_id, requester_id, positive, comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(&r.id)
            .bind(&r.offer_id)
            .bind(&r.holder_id)
            .bind(&r.requester_id)
            .bind(r.positive as i64)
            .bind(&r.comment)
            .bind(r.created_at.millis())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
    }
}

/// Inserts interaction requests (one statement each, in the caller's transaction).
async fn insert_interactions(
    conn: &mut sqlx::SqliteConnection,
    requests: &[Interaction],
) -> StoreResult<()> {
    for i in requests {
        sqlx::query("INSERT INTO interactions (id, demand_id, holder_id, rank, status, deadline, matched_pass_ids, why, created_at, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(&i.id)
            .bind(&i.demand_id)
            .bind(&i.holder_id)
            .bind(i.rank)
            .bind(i.status.as_str())
            .bind(i.deadline.millis())
            .bind(strings_to_json(&i.matched_pass_ids))
            .bind(i.why.to_string())
            .bind(i.created_at.millis())
            .bind(i.decided_at.map(|t| t.millis()))
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    Ok(())
}
