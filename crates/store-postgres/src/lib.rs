//! The Symbolon [`Store`] on PostgreSQL.
//!
//! Several server processes may share one database, so every guarantee of the [`Store`]
//! trait holds across connections and processes, not only inside one pool.
//!
//! # Isolation and locking
//!
//! Transactions run at PostgreSQL's default `READ COMMITTED` level. Every state-changing
//! method is one transaction that first takes row locks on the rows its checks depend on, and
//! then re-reads them: in `READ COMMITTED` each statement sees everything committed before it
//! started, so a check made after acquiring the lock sees the final state of any transaction
//! that held it. Concretely:
//!
//! * **grant**: locks the pass row (`FOR NO KEY UPDATE`), so grants of one pass are serialized
//!   and two grants never hand out the same free unit of a unique pass.
//! * **create_offer / decline**: lock the interaction row, then check it is still pending.
//! * **accept_offer**: locks the demand row (one accepted offer per demand: concurrent accepts
//!   of offers of one demand queue here and the losers see `accepted_offer_id`), then the offer
//!   row; for a unique pass it takes a share lock on the product row (a unit moves only while
//!   the product is in stock, and no order can take the last stock meanwhile) and locks the
//!   holder's grant row, so concurrent transfers of one holder's units are serialized and each
//!   takes the lowest unit still free. The demand's other pending requests are withdrawn with
//!   their rows locked in `seq` order.
//! * **place_order**: locks the offer row (one order per offer), then decrements stock with a
//!   conditional `UPDATE products SET stock = stock - q WHERE id = … AND stock >= q` (PostgreSQL
//!   re-evaluates the condition on the newest row version after waiting for a concurrent writer,
//!   so stock is never oversold).
//! * **pay_order / ship_order / expire_due**: conditional `UPDATE`s on the status
//!   (`expire_due` locks the due rows in `seq` order first, as accept does).
//! * **create_pass / update_product / archive_product**: lock the product row (a no-op
//!   `UPDATE`), so a pass is issued only against the product's current revision, and a
//!   signed field changes only while no pass exists; `place_order`/`pay_order` take stock
//!   only from a product not archived (the conditional `UPDATE` re-checks it).
//! * **cancel_demand**: locks the demand row (as accept does), then withdraws its pending
//!   requests in `seq` order; an accept and a cancel of one demand take turns.
//! * **rate**: the unique constraint `ratings_one_per_offer` decides between concurrent ratings
//!   of one offer; its violation is reported as [`Conflict::AlreadyRated`].
//! * **set_requester_profile**: one `INSERT … ON CONFLICT DO UPDATE` merging with `COALESCE`.
//! * **create_webhook**: locks the account row, then counts its endpoints against the limit.
//! * **claim_deliveries**: takes a transaction-scoped advisory lock, so each claim counts the
//!   live leases every earlier one committed (the per-endpoint and per-account bounds).
//!
//! Locks are `FOR NO KEY UPDATE` rather than `FOR UPDATE` so they do not block the `KEY SHARE`
//! locks foreign-key checks take on parent rows. Locks are taken in one order (demand → offer →
//! product → grant → units; interactions in `seq` order) so that transactions do not deadlock;
//! should PostgreSQL still report a deadlock (`40P01`) or a serialization failure (`40001`), the
//! whole transaction is retried (up to 4 attempts, short backoff) before the error is returned.
//!
//! `market` reads holdings and reputations in one `REPEATABLE READ, READ ONLY` transaction,
//! so both come from the same snapshot.
//!
//! # Connections
//!
//! One pool of at most [`MAX_CONNECTIONS`] connections (acquire timeout 30 s, idle connections
//! closed after 10 min, every connection replaced after 30 min). Each session runs with
//! `statement_timeout = 30s` (which also bounds lock waits) and
//! `idle_in_transaction_session_timeout = 60s`, unless the URL's `options` set them.
//! Queries are prepared and cached per connection, so a pooler in front of PostgreSQL must run
//! in session mode.
//!
//! # Schema
//!
//! Migrations are embedded from `migrations/` and run at connect (sqlx takes an advisory lock,
//! so processes starting together migrate once). A database migrated by a newer binary is
//! refused with [`StoreError::SchemaTooNew`] before anything is migrated. Queries are checked at
//! run time (no database is needed to build).

mod rows;

use rows::*;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};
use std::future::Future;
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

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The most connections one store opens.
pub const MAX_CONNECTIONS: u32 = 10;
/// How long a request waits for a free connection.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// Session settings applied to every connection unless the URL's `options` set them.
const SESSION_SETTINGS: [(&str, &str); 2] = [
    ("statement_timeout", "30s"),
    ("idle_in_transaction_session_timeout", "60s"),
];
/// Attempts of a transaction that failed with a deadlock or a serialization failure.
const MAX_ATTEMPTS: u32 = 4;

/// The PostgreSQL store. Cloning shares the pool.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
    /// The same pool, beginning write transactions whose commit is timed.
    writer: TimedPool,
}

/// Metric: seconds one transaction's `COMMIT` took.
const COMMIT_SECONDS: &str = "symbolon_store_commit_duration_seconds";
/// Metric: write transactions one commit made durable (always 1 here:
/// PostgreSQL groups concurrent commits' WAL flushes by itself).
const BATCH_SIZE: &str = "symbolon_store_write_batch_size";

/// The pool, beginning transactions whose `commit` records its latency.
#[derive(Clone, Debug)]
struct TimedPool(PgPool);

impl TimedPool {
    async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(Tx(self.0.begin().await?))
    }
}

/// A write transaction: derefs to its connection; dropped without
/// [`Tx::commit`], it rolls back.
struct Tx(sqlx::Transaction<'static, sqlx::Postgres>);

impl Tx {
    async fn commit(self) -> Result<(), sqlx::Error> {
        let started = std::time::Instant::now();
        self.0.commit().await?;
        metrics::histogram!(COMMIT_SECONDS, "backend" => "postgres")
            .record(started.elapsed().as_secs_f64());
        metrics::histogram!(BATCH_SIZE, "backend" => "postgres").record(1.0);
        Ok(())
    }
}

impl std::ops::Deref for Tx {
    type Target = sqlx::PgConnection;
    fn deref(&self) -> &sqlx::PgConnection {
        &self.0
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut sqlx::PgConnection {
        &mut self.0
    }
}

impl PostgresStore {
    /// Connects to a `postgres://…` URL and migrates the database. A server that cannot be
    /// reached is retried until [`ACQUIRE_TIMEOUT`] has passed (so a server still starting is
    /// waited for).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url).map_err(StoreError::backend)?;
        Self::connect_with(options).await
    }

    /// Connects with explicit options and migrates the database (as [`PostgresStore::connect`]).
    pub async fn connect_with(options: PgConnectOptions) -> StoreResult<Self> {
        let options = with_session_defaults(options);
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .idle_timeout(Some(Duration::from_secs(600)))
            .max_lifetime(Some(Duration::from_secs(1800)))
            .connect_with(options)
            .await
            .map_err(StoreError::backend)?;
        let migrated = async {
            check_schema_version(&pool).await?;
            MIGRATOR.run(&pool).await.map_err(StoreError::backend)
        }
        .await;
        if let Err(e) = migrated {
            pool.close().await;
            return Err(e);
        }
        Ok(Self {
            writer: TimedPool(pool.clone()),
            pool,
        })
    }

    /// Closes the pool: waits for connections in use to be returned, then closes them all.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The connection pool, for diagnostics and tests.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn with_session_defaults(options: PgConnectOptions) -> PgConnectOptions {
    let given = options.get_options().unwrap_or_default().to_string();
    let missing: Vec<(&str, &str)> = SESSION_SETTINGS
        .into_iter()
        .filter(|(k, _)| !given.contains(&format!("{k}=")))
        .collect();
    let options = if options.get_application_name().is_none() {
        options.application_name("symbolon")
    } else {
        options
    };
    if missing.is_empty() {
        options
    } else {
        options.options(missing)
    }
}

/// The channel the `events` trigger notifies at commit (migration 0007).
pub const EVENTS_CHANNEL: &str = "symbolon_events";

/// `LISTEN symbolon_events` on a connection of its own (taken from the pool
/// for as long as the listener lives).
struct PgWakeups(sqlx::postgres::PgListener);

#[async_trait::async_trait]
impl EventWakeups for PgWakeups {
    async fn next(&mut self) -> StoreResult<()> {
        // `Ok(None)`: the connection was lost and is back; notifications sent
        // meanwhile are gone, so this is a wake-up too (the caller polls).
        self.0.try_recv().await.map(|_| ()).map_err(db)
    }
}

/// The newest migration this binary knows.
pub fn known_schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

async fn check_schema_version(pool: &PgPool) -> StoreResult<()> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await
        .map_err(StoreError::backend)?;
    if !exists {
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

/// Begins a transaction whose commit does not wait for the WAL flush (one
/// round trip): for writes whose durability a later durable commit of the
/// same request orders (see `idempotency_begin`).
const ASYNC_COMMIT: &str = "BEGIN; SET LOCAL synchronous_commit = off";

fn db(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => Conflict::Duplicate.into(),
        _ => StoreError::backend(e),
    }
}

/// A deadlock or a serialization failure: the transaction was rolled back and may be retried.
fn is_retryable(e: &StoreError) -> bool {
    let StoreError::Backend(b) = e else {
        return false;
    };
    match b.downcast_ref::<sqlx::Error>() {
        Some(sqlx::Error::Database(d)) => {
            matches!(d.code().as_deref(), Some("40001") | Some("40P01"))
        }
        _ => false,
    }
}

/// Runs the transaction `run` makes, again if it failed with a deadlock or serialization failure.
async fn retrying<T, F, Fut>(op: &'static str, mut run: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    let mut attempt = 1;
    loop {
        match run().await {
            Err(e) if attempt < MAX_ATTEMPTS && is_retryable(&e) => {
                tracing::debug!(op, attempt, error = %e, "retrying a transaction");
                tokio::time::sleep(Duration::from_millis(10 << attempt)).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

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

/// Reputation counts of one holder at `$1`, from its maintained counters (`holder_stats`,
/// schema v9): decided = offered or declined, plus the expired ones counted once per
/// requester and window `$3` of their deadline — those the sweeper recorded (`expiry_marks`)
/// and those still pending past their deadline; withdrawn requests never count.
const HOLDER_SELECT: &str = "SELECT a.id, a.name, hp.fields,
   COALESCE(s.positive, 0) AS positive, COALESCE(s.ratings, 0) AS ratings, COALESCE(s.offered, 0) AS offered,
   COALESCE(s.answered, 0) + COALESCE(s.expired, 0)
   + (SELECT COUNT(DISTINCT d.requester_id || '/' || (i.deadline / $3)) FROM interactions i JOIN demands d ON d.id = i.demand_id
      WHERE i.holder_id = a.id AND i.status = 'pending' AND i.deadline <= $1
        AND NOT EXISTS (SELECT 1 FROM expiry_marks m WHERE m.holder_id = i.holder_id
                          AND m.requester_id = d.requester_id AND m.day = i.deadline / $3)) AS decided
 FROM accounts a LEFT JOIN holder_profiles hp ON hp.account_id = a.id
 LEFT JOIN holder_stats s ON s.holder_id = a.id WHERE a.id = $2";

/// The same counts for every holder with a grant, at `$1`.
const MARKET_HOLDERS_SELECT: &str = "SELECT a.id, a.name, hp.fields,
   COALESCE(s.positive, 0) AS positive, COALESCE(s.ratings, 0) AS ratings,
   COALESCE(s.offered, 0) AS offered,
   COALESCE(s.answered, 0) + COALESCE(s.expired, 0) + COALESCE(x.due, 0) AS decided
 FROM accounts a
 LEFT JOIN holder_profiles hp ON hp.account_id = a.id
 LEFT JOIN holder_stats s ON s.holder_id = a.id
 LEFT JOIN (SELECT i.holder_id, COUNT(DISTINCT d.requester_id || '/' || (i.deadline / $2)) AS due
            FROM interactions i JOIN demands d ON d.id = i.demand_id
            WHERE i.status = 'pending' AND i.deadline <= $1
              AND NOT EXISTS (SELECT 1 FROM expiry_marks m WHERE m.holder_id = i.holder_id
                                AND m.requester_id = d.requester_id AND m.day = i.deadline / $2)
            GROUP BY i.holder_id) x ON x.holder_id = a.id
 WHERE a.id IN (SELECT holder_id FROM grants)
 ORDER BY a.id COLLATE \"C\"";

impl PostgresStore {
    async fn interaction_in<'e, E>(ex: E, id: &str, lock: bool) -> StoreResult<Interaction>
    where
        E: sqlx::Executor<'e, Database = sqlx::Postgres>,
    {
        let q = format!(
            "SELECT {INTERACTION_COLS} FROM interactions WHERE id = $1{}",
            if lock { " FOR NO KEY UPDATE" } else { "" }
        );
        let row = sqlx::query(&q).bind(id).fetch_one(ex).await.map_err(db)?;
        interaction_from(&row)
    }

    async fn offer_in<'e, E>(ex: E, id: &str, lock: bool) -> StoreResult<Offer>
    where
        E: sqlx::Executor<'e, Database = sqlx::Postgres>,
    {
        let q = format!(
            "SELECT {OFFER_COLS} FROM offers WHERE id = $1{}",
            if lock { " FOR NO KEY UPDATE" } else { "" }
        );
        let row = sqlx::query(&q).bind(id).fetch_one(ex).await.map_err(db)?;
        offer_from(&row)
    }

    async fn order_in<'e, E>(ex: E, id: &str) -> StoreResult<Order>
    where
        E: sqlx::Executor<'e, Database = sqlx::Postgres>,
    {
        let q = format!("SELECT {ORDER_COLS} FROM orders WHERE id = $1");
        let row = sqlx::query(&q).bind(id).fetch_one(ex).await.map_err(db)?;
        order_from(&row)
    }

    async fn holding_in<'e, E>(ex: E, holder_id: &str, pass_id: &str) -> StoreResult<Holding>
    where
        E: sqlx::Executor<'e, Database = sqlx::Postgres>,
    {
        let q = format!("{HOLDING_SELECT} WHERE g.holder_id = $1 AND g.pass_id = $2");
        let row = sqlx::query(&q)
            .bind(holder_id)
            .bind(pass_id)
            .fetch_one(ex)
            .await
            .map_err(db)?;
        holding_from(&row)
    }

    async fn insert_key(tx: &mut Tx, k: &ProviderKeyRecord) -> StoreResult<()> {
        sqlx::query("INSERT INTO provider_keys (kid, provider_id, public_key, secret, created_at, retired_at) VALUES ($1, $2, $3, $4, $5, $6)")
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

    /// Records a transfer and moves the unit (see the SQLite store); the unit
    /// row lock makes transfers of one unit take turns.
    async fn apply_transfer(tx: &mut Tx, t: &UnitTransfer) -> StoreResult<()> {
        let unit = sqlx::query("SELECT holder_id, owner_id FROM pass_units WHERE pass_id = $1 AND unit_no = $2 FOR NO KEY UPDATE")
            .bind(&t.pass_id)
            .bind(t.unit_no)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db)?;
        let Some(unit) = unit else {
            return Err(Conflict::UnitAlreadySold.into());
        };
        let holder: Option<String> = unit.try_get("holder_id").map_err(db)?;
        let owner: Option<String> = unit.try_get("owner_id").map_err(db)?;
        let last = last_transfer_seq(tx, &t.pass_id, t.unit_no).await?;
        // From the holder it was granted to while unsold (a first sale, or a
        // resale after a cancelled order handed it back), or from its owner.
        let from_ok = (owner.is_none() && holder.as_deref() == Some(t.from_id.as_str()))
            || owner.as_deref() == Some(t.from_id.as_str());
        if last.unwrap_or(0) != t.seq - 1 || !from_ok {
            return Err(Conflict::UnitAlreadySold.into());
        }
        sqlx::query("UPDATE pass_units SET owner_id = $1 WHERE pass_id = $2 AND unit_no = $3")
            .bind(&t.to_id)
            .bind(&t.pass_id)
            .bind(t.unit_no)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
        insert_transfer(tx, t).await.map_err(|e| match e {
            StoreError::Conflict(Conflict::Duplicate) => Conflict::UnitAlreadySold.into(),
            other => other,
        })?;
        Ok(())
    }

    async fn settle(tx: &mut Tx, order_id: &str, s: &Settlement) -> StoreResult<()> {
        sqlx::query("INSERT INTO ledger_transactions (id, order_id, payment_ref, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&s.ledger_id)
            .bind(order_id)
            .bind(&s.payment_ref)
            .bind(s.at.millis())
            .execute(&mut **tx)
            .await
            .map_err(db)?;
        for p in &s.postings {
            sqlx::query("INSERT INTO ledger_entries (transaction_id, account_id, currency, amount_minor, memo, bucket) VALUES ($1, $2, $3, $4, $5, $6)")
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

    async fn totals(&self, account_id: Option<&str>) -> StoreResult<Vec<(String, i64)>> {
        // SUM of BIGINT is NUMERIC in PostgreSQL: cast back (a sum past i64 fails loudly).
        let q = format!(
            "SELECT currency, SUM(amount_minor)::BIGINT AS total FROM ledger_entries {}
             GROUP BY currency ORDER BY currency COLLATE \"C\"",
            if account_id.is_some() {
                "WHERE account_id = $1"
            } else {
                ""
            }
        );
        let mut query = sqlx::query(&q);
        if let Some(id) = account_id {
            query = query.bind(id);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("currency").map_err(db)?,
                    r.try_get("total").map_err(db)?,
                ))
            })
            .collect()
    }

    // --- the transactions of the state-changing methods (run through `retrying`) ---

    async fn create_account_tx(&self, new: &NewAccount) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let a = &new.account;
        sqlx::query("INSERT INTO accounts (id, name, roles, api_key_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
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

    async fn create_pass_tx(&self, p: &Pass, product_revision: i64) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        // The product row lock orders this pass with a change of the product.
        lock_product_revision(&mut tx, &p.product_id, product_revision).await?;
        sqlx::query("INSERT INTO passes (id, product_id, provider_id, mode, units, commission_bps, valid_from, valid_until, jws, created_at, kid, status_index, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
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
            sqlx::query("INSERT INTO pass_units (pass_id, unit_no) SELECT $1, n FROM generate_series(1::BIGINT, $2::BIGINT) AS n")
                .bind(&p.id)
                .bind(p.units.unwrap_or(0))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn grant_tx(&self, g: &NewGrant) -> StoreResult<Holding> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        // The pass row lock serializes the grants of one pass: free units are picked by one
        // grant at a time.
        let mode: String =
            sqlx::query_scalar("SELECT mode FROM passes WHERE id = $1 FOR NO KEY UPDATE")
                .bind(&g.pass_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
        sqlx::query("INSERT INTO grants (id, pass_id, holder_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (holder_id, pass_id) DO NOTHING")
            .bind(&g.id)
            .bind(&g.pass_id)
            .bind(&g.holder_id)
            .bind(g.created_at.millis())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if mode == PassMode::Unique.as_str() {
            let want = g.units.unwrap_or(0).max(0);
            let done = sqlx::query(
                "UPDATE pass_units SET holder_id = $1 WHERE pass_id = $2 AND unit_no IN
                   (SELECT unit_no FROM pass_units WHERE pass_id = $2 AND holder_id IS NULL ORDER BY unit_no LIMIT $3)",
            )
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
        let h = Self::holding_in(&mut *tx, &g.holder_id, &g.pass_id).await?;
        tx.commit().await.map_err(db)?;
        Ok(h)
    }

    async fn market_tx(&self, now: Timestamp) -> StoreResult<MarketSnapshot> {
        // One snapshot for holdings and reputations.
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .map_err(db)?;
        let q = format!(
            "{HOLDING_SELECT} WHERE {USABLE_AT_1}
             ORDER BY g.holder_id COLLATE \"C\", p.id COLLATE \"C\""
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
        let rows = sqlx::query(MARKET_HOLDERS_SELECT)
            .bind(now.millis())
            .bind(EXPIRY_COUNT_WINDOW_MS)
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

    async fn create_demand_tx(
        &self,
        d: &DemandRecord,
        requests: &[Interaction],
        entry: Option<&symbolon_store::tlog::NewLogEntry>,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        // The requester's row lock makes its demands take turns through the
        // counts below, on every replica (NO KEY UPDATE: foreign-key checks
        // of other inserts naming the account are not blocked).
        lock_account(&mut tx, &d.requester_id).await?;
        let row = sqlx::query(
            "SELECT COUNT(*) AS open, COUNT(*) FILTER (WHERE waiting = 1) AS waiting FROM demands
             WHERE requester_id = $1 AND deadline > $2 AND accepted_offer_id IS NULL AND cancelled_at IS NULL",
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
        let q = format!("INSERT INTO demands ({DEMAND_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)");
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
            // Last: the head row's lock is held only until the commit.
            tlog_sql::append_log_entry_in(&mut tx, e).await?;
        }
        tx.commit().await.map_err(db)
    }

    async fn create_offer_tx(&self, o: &NewOffer) -> StoreResult<Offer> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let i = Self::interaction_in(&mut *tx, &o.interaction_id, true).await?;
        if i.status != InteractionStatus::Pending
            || pending_expired(i.status, i.deadline, o.created_at)
        {
            return Err(Conflict::InteractionClosed.into());
        }
        pass_on_sale(&mut tx, &o.pass_id).await?;
        sqlx::query("UPDATE interactions SET status = 'offered', decided_at = $1 WHERE id = $2")
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

    async fn decline_tx(
        &self,
        interaction_id: &str,
        reason: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Interaction> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let i = Self::interaction_in(&mut *tx, interaction_id, true).await?;
        if i.status != InteractionStatus::Pending || pending_expired(i.status, i.deadline, now) {
            return Err(Conflict::InteractionClosed.into());
        }
        sqlx::query("UPDATE interactions SET status = 'declined', decided_at = $1, decline_reason = $2 WHERE id = $3")
            .bind(now.millis())
            .bind(reason)
            .bind(interaction_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let i = Self::interaction_in(&mut *tx, interaction_id, false).await?;
        tx.commit().await.map_err(db)?;
        Ok(i)
    }

    async fn expire_due_tx(&self, now: Timestamp) -> StoreResult<u64> {
        let r = sqlx::query(
            "WITH due AS (SELECT seq FROM interactions WHERE status = 'pending' AND deadline <= $1
                          ORDER BY seq FOR NO KEY UPDATE)
             UPDATE interactions i SET status = 'expired', decided_at = i.deadline
             FROM due WHERE i.seq = due.seq AND i.status = 'pending'",
        )
        .bind(now.millis())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(r.rows_affected())
    }

    async fn accept_offer_tx(&self, a: &Acceptance) -> StoreResult<Offer> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        // Who may accept and which demand it is never change: read them before locking.
        let row = sqlx::query("SELECT demand_id, requester_id FROM offers WHERE id = $1")
            .bind(&a.offer_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let demand_id: String = row.try_get("demand_id").map_err(db)?;
        let requester_id: String = row.try_get("requester_id").map_err(db)?;
        if requester_id != a.requester_id {
            return Err(StoreError::NotFound);
        }
        // The demand row lock makes the accepts of one demand's offers take
        // turns, and orders them with its cancellation.
        let row = sqlx::query(
            "SELECT accepted_offer_id, cancelled_at FROM demands WHERE id = $1 FOR NO KEY UPDATE",
        )
        .bind(&demand_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let accepted: Option<String> = row.try_get("accepted_offer_id").map_err(db)?;
        let cancelled: Option<i64> = row.try_get("cancelled_at").map_err(db)?;
        let offer = Self::offer_in(&mut *tx, &a.offer_id, true).await?;
        if offer.status == OfferStatus::Accepted || accepted.is_some() {
            return Err(Conflict::OfferAlreadyAccepted.into());
        }
        if cancelled.is_some() {
            return Err(Conflict::DemandCancelled.into());
        }
        let row = sqlx::query("SELECT mode, product_id FROM passes WHERE id = $1")
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
            let stock: i64 = sqlx::query_scalar("SELECT stock FROM products WHERE id = $1")
                .bind(&product_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
            if stock <= 0 {
                return Err(Conflict::InsufficientStock.into());
            }
            if free_units(&mut tx, &offer.pass_id, Some(&offer.holder_id)).await? == 0 {
                return Err(Conflict::UnitsExhausted.into());
            }
        }
        // The other holders' pending requests are withdrawn: they no longer need answering
        // and do not count against their success rate. Lock order: interactions in seq
        // order; `market_version` (events, versions) is taken only at commit, by deferred
        // triggers (migration v11), after every other lock, so no cycle forms.
        sqlx::query(
            "WITH open AS (SELECT seq FROM interactions WHERE demand_id = $1 AND status = 'pending' AND deadline > $2
                           ORDER BY seq FOR NO KEY UPDATE)
             UPDATE interactions i SET status = 'withdrawn', decided_at = $2
             FROM open WHERE i.seq = open.seq AND i.status = 'pending' AND i.id <> $3",
        )
        .bind(&offer.demand_id)
        .bind(a.at.millis())
        .bind(&offer.interaction_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "UPDATE offers SET status = 'accepted', accepted_at = $1, licence_jws = $2 WHERE id = $3",
        )
        .bind(a.at.millis())
        .bind(&a.licence_jws)
        .bind(&offer.id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("UPDATE demands SET accepted_offer_id = $1 WHERE id = $2")
            .bind(&offer.id)
            .bind(&offer.demand_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let offer = Self::offer_in(&mut *tx, &a.offer_id, false).await?;
        tx.commit().await.map_err(db)?;
        Ok(offer)
    }

    async fn place_order_tx(
        &self,
        o: &Order,
        transfer: Option<&UnitTransfer>,
        settlement: Option<&Settlement>,
    ) -> StoreResult<Order> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        if settlement.is_none() {
            // The requester's row lock makes its unpaid orders take turns
            // through the limit below, on every replica. It is the first lock.
            lock_account(&mut tx, &o.requester_id).await?;
        }
        on_sale(&mut tx, &o.product_id).await?;
        if let Some(offer_id) = &o.offer_id {
            // The offer row lock makes the orders of one offer take turns.
            let offer = Self::offer_in(&mut *tx, offer_id, true).await?;
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
                let stock: i64 = sqlx::query_scalar("SELECT stock FROM products WHERE id = $1")
                    .bind(&o.product_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                if stock < o.quantity {
                    return Err(Conflict::InsufficientStock.into());
                }
                if unique
                    && unit_no.is_none()
                    && free_units(&mut tx, &o.pass_id, o.holder_id.as_deref()).await? == 0
                {
                    return Err(Conflict::UnitsExhausted.into());
                }
            }
        }
        let q = format!(
            "INSERT INTO orders ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
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
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.constraint() == Some("orders_one_live_per_offer") => {
                    Conflict::AlreadyOrdered.into()
                }
                _ => db(e),
            })?;
        if let Some(s) = settlement {
            if let Some(t) = transfer {
                unit_sold_with(&mut tx, o.offer_id.as_deref(), t).await?;
            }
            Self::settle(&mut tx, &o.id, s).await?;
        }
        let order = Self::order_in(&mut *tx, &o.id).await?;
        tx.commit().await.map_err(db)?;
        Ok(order)
    }

    async fn pay_order_tx(
        &self,
        order_id: &str,
        s: &Settlement,
        transfer: Option<&UnitTransfer>,
    ) -> StoreResult<Order> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        // The order row lock makes payments of one order take turns.
        sqlx::query("SELECT id FROM orders WHERE id = $1 FOR NO KEY UPDATE")
            .bind(order_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let o = Self::order_in(&mut *tx, order_id).await?;
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
            sqlx::query("UPDATE orders SET unit_no = $1 WHERE id = $2")
                .bind(t.unit_no)
                .bind(order_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        take_stock(&mut tx, &o.product_id, o.quantity).await?;
        sqlx::query("UPDATE orders SET status = 'paid', paid_at = $1, payment_ref = $2, pay_by = NULL WHERE id = $3 AND status = 'placed'")
            .bind(s.at.millis())
            .bind(&s.payment_ref)
            .bind(order_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        Self::settle(&mut tx, order_id, s).await?;
        let order = Self::order_in(&mut *tx, order_id).await?;
        tx.commit().await.map_err(db)?;
        Ok(order)
    }

    async fn ship_order_tx(
        &self,
        order_id: &str,
        tracking: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Order> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let done = sqlx::query("UPDATE orders SET status = 'shipped', shipped_at = $1, tracking = $2 WHERE id = $3 AND status = 'paid'")
            .bind(now.millis())
            .bind(tracking)
            .bind(order_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        if done != 1 {
            Self::order_in(&mut *tx, order_id).await?;
            return Err(Conflict::InvalidState.into());
        }
        let order = Self::order_in(&mut *tx, order_id).await?;
        tx.commit().await.map_err(db)?;
        Ok(order)
    }

    async fn rate_tx(&self, r: &Rating) -> StoreResult<()> {
        // Both the offer and the rating id are unique: tell a second rating of the offer
        // (AlreadyRated) from a rating id that exists (Duplicate). A concurrent rating of the
        // same offer that commits between the check and the insert trips the named constraint.
        let mut tx = self.writer.begin().await.map_err(db)?;
        let offer = Self::offer_in(&mut *tx, &r.offer_id, false).await?;
        if offer.requester_id != r.requester_id || offer.holder_id != r.holder_id {
            return Err(StoreError::NotFound);
        }
        // Only a buyer rates, once its order was delivered or its dispute closed.
        let paid: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM orders o WHERE o.offer_id = $1 AND (o.delivered_at IS NOT NULL OR EXISTS (SELECT 1 FROM disputes d WHERE d.order_id = o.id AND d.status <> 'open'))",
        )
        .bind(&r.offer_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        if offer.status != OfferStatus::Accepted || paid == 0 {
            return Err(Conflict::RatingNotAllowed.into());
        }
        let rated: Option<String> =
            sqlx::query_scalar("SELECT id FROM ratings WHERE offer_id = $1")
                .bind(&r.offer_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        if rated.is_some() {
            return Err(Conflict::AlreadyRated.into());
        }
        sqlx::query("INSERT INTO ratings (id, offer_id, holder_id, requester_id, positive, comment, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&r.id)
            .bind(&r.offer_id)
            .bind(&r.holder_id)
            .bind(&r.requester_id)
            .bind(r.positive)
            .bind(&r.comment)
            .bind(r.created_at.millis())
            .execute(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.constraint() == Some("ratings_one_per_offer") => {
                    Conflict::AlreadyRated.into()
                }
                _ => db(e),
            })?;
        tx.commit().await.map_err(db)
    }
}

fn pending_expired(status: InteractionStatus, deadline: Timestamp, now: Timestamp) -> bool {
    status == InteractionStatus::Pending && now >= deadline
}

/// The shared outbox SQL (already PostgreSQL's dialect).
fn sql(q: &str) -> String {
    q.to_string()
}

/// Serializes webhook claims across replicas, so the per-endpoint and
/// per-account bounds of in-flight deliveries count every live lease: a
/// transaction-scoped advisory lock (key 0x7379_6d62_6f6c_0001, `"symbol"` in
/// ASCII then 1), released at commit.
const CLAIM_LOCK: &str = "SELECT pg_advisory_xact_lock(8320802056087273473)";

// Registering an endpoint locks its account row first (`FOR NO KEY UPDATE`,
// which does not block foreign-key checks), so concurrent registrations of
// one account count one after the other. A claim takes `CLAIM_LOCK` first:
// claims are short, and each counts the leases every earlier one committed.
symbolon_store::sql_outbox_methods!(
    PostgresStore,
    write = writer,
    read = pool,
    sql = sql,
    account_lock = Some("SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE"),
    claim_lock = Some(CLAIM_LOCK)
);

symbolon_store::sql_market_change_methods!(PostgresStore, write = writer, read = pool, sql = sql);

symbolon_store::sql_order_helpers!(conn = sqlx::PgConnection, sql = sql);

symbolon_store::sql_seal_methods!(PostgresStore, write = writer, read = pool, sql = sql);

symbolon_store::sql_lifecycle_methods!(
    PostgresStore,
    write = writer,
    read = pool,
    conn = sqlx::PgConnection,
    sql = sql,
    emit = "SELECT emit_event($1, $2, $3, $4)"
);

symbolon_store::sql_people_methods!(
    PostgresStore,
    write = writer,
    read = pool,
    conn = sqlx::PgConnection,
    sql = sql
);

/// Serializes mail claims (a key of its own: `MAIL` in ASCII), released at commit.
const MAIL_CLAIM_LOCK: &str = "SELECT pg_advisory_xact_lock(1296124236)";

symbolon_store::sql_mail_methods!(
    PostgresStore,
    write = writer,
    read = pool,
    sql = sql,
    claim_lock = Some(MAIL_CLAIM_LOCK)
);

symbolon_store::sql_unit_methods!(PostgresStore, read = pool, sql = sql);
symbolon_store::sql_tlog_methods!(
    PostgresStore,
    write = writer,
    read = pool,
    sql = sql,
    conn = sqlx::PgConnection
);
symbolon_store::sql_manage_methods!(
    PostgresStore,
    write = writer,
    read = pool,
    conn = sqlx::PgConnection,
    sql = sql
);

symbolon_store::sql_dispute_methods!(
    PostgresStore,
    write = writer,
    read = pool,
    conn = sqlx::PgConnection,
    sql = sql
);

#[async_trait::async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn close(&self) {
        PostgresStore::close(self).await
    }

    async fn schema_version(&self) -> StoreResult<i64> {
        sqlx::query_scalar(symbolon_store::APPLIED_SCHEMA_VERSION)
            .fetch_one(&self.pool)
            .await
            .map_err(db)
    }

    fn known_schema_version(&self) -> i64 {
        known_schema_version()
    }

    fn pool_stats(&self) -> Vec<PoolStats> {
        vec![PoolStats {
            name: "main",
            size: self.pool.size(),
            idle: self.pool.num_idle() as u32,
            max: MAX_CONNECTIONS,
        }]
    }

    async fn event_wakeups(&self) -> StoreResult<Option<Box<dyn EventWakeups>>> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool)
            .await
            .map_err(db)?;
        listener.listen(EVENTS_CHANNEL).await.map_err(db)?;
        Ok(Some(Box::new(PgWakeups(listener))))
    }

    async fn create_account(&self, new: &NewAccount) -> StoreResult<()> {
        retrying("create_account", || self.create_account_tx(new)).await
    }

    async fn account(&self, id: &str) -> StoreResult<Account> {
        let row = sqlx::query("SELECT id, name, roles, created_at FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        account_from(&row)
    }

    async fn account_by_key_hash(&self, hash: &str) -> StoreResult<Account> {
        people_sql::account_by_key_hash(self, hash).await
    }

    async fn provider_keys(&self, provider_id: &str) -> StoreResult<Vec<ProviderKeyRecord>> {
        let q = format!("SELECT {KEY_COLS} FROM provider_keys WHERE provider_id = $1 ORDER BY created_at, retired_at IS NULL, kid COLLATE \"C\"");
        let rows = sqlx::query(&q)
            .bind(provider_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(provider_key_from).collect()
    }

    async fn create_product(&self, p: &Product) -> StoreResult<()> {
        sqlx::query("INSERT INTO products (id, provider_id, title, description, category, specs, price_minor, currency, stock, created_at, gtin) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
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
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn product(&self, id: &str) -> StoreResult<Product> {
        let q = format!("SELECT {PRODUCT_COLS} FROM products WHERE id = $1");
        let row = sqlx::query(&q)
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        product_from(&row, "")
    }

    async fn create_pass(&self, p: &Pass, product_revision: i64) -> StoreResult<()> {
        retrying("create_pass", || self.create_pass_tx(p, product_revision)).await
    }

    async fn pass(&self, id: &str) -> StoreResult<Pass> {
        let q = format!("SELECT {PASS_COLS} FROM passes WHERE id = $1");
        let row = sqlx::query(&q)
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        pass_from(&row)
    }

    async fn grant(&self, g: &NewGrant) -> StoreResult<Holding> {
        retrying("grant", || self.grant_tx(g)).await
    }

    async fn set_holder_fields(&self, holder_id: &str, fields: &[String]) -> StoreResult<()> {
        sqlx::query("INSERT INTO holder_profiles (account_id, fields) VALUES ($1, $2) ON CONFLICT (account_id) DO UPDATE SET fields = EXCLUDED.fields")
            .bind(holder_id)
            .bind(strings_to_json(fields))
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn holder(&self, holder_id: &str, now: Timestamp) -> StoreResult<HolderState> {
        let row = sqlx::query(HOLDER_SELECT)
            .bind(now.millis())
            .bind(holder_id)
            .bind(EXPIRY_COUNT_WINDOW_MS)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        holder_from(&row)
    }

    async fn wallet(&self, holder_id: &str) -> StoreResult<Vec<Holding>> {
        let q = format!(
            "{HOLDING_SELECT} WHERE g.holder_id = $1 ORDER BY g.created_at, g.id COLLATE \"C\""
        );
        let rows = sqlx::query(&q)
            .bind(holder_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(holding_from).collect()
    }

    async fn holding(&self, holder_id: &str, pass_id: &str) -> StoreResult<Holding> {
        Self::holding_in(&self.pool, holder_id, pass_id).await
    }

    async fn market(&self, now: Timestamp) -> StoreResult<MarketSnapshot> {
        retrying("market", || self.market_tx(now)).await
    }

    async fn create_demand_logged(
        &self,
        d: &DemandRecord,
        requests: &[Interaction],
        entry: Option<&symbolon_store::tlog::NewLogEntry>,
    ) -> StoreResult<()> {
        retrying("create_demand", || {
            self.create_demand_tx(d, requests, entry)
        })
        .await
    }

    async fn waiting_demands(&self, now: Timestamp) -> StoreResult<Vec<DemandRecord>> {
        let q = format!("SELECT {DEMAND_READ_COLS} FROM demands WHERE waiting = 1 AND deadline > $1 ORDER BY created_at, id");
        let rows = sqlx::query(&q)
            .bind(now.millis())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(demand_from).collect()
    }

    async fn count_waiting(&self, requester_id: &str, now: Timestamp) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM demands WHERE requester_id = $1 AND waiting = 1 AND deadline > $2",
        )
        .bind(requester_id)
        .bind(now.millis())
        .fetch_one(&self.pool)
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
        retrying("activate_demand", || async {
            let mut tx = self.writer.begin().await.map_err(db)?;
            let requester: Option<String> = sqlx::query_scalar(
                "UPDATE demands SET waiting = 0 WHERE id = $1 AND waiting = 1 AND deadline > $2 RETURNING requester_id",
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
            sqlx::query("SELECT emit_event($1, 'demand.opened', $2, $3)")
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
        })
        .await
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
            .fetch_one(&self.pool)
            .await
            .map_err(db)
    }

    async fn demand(&self, id: &str) -> StoreResult<DemandRecord> {
        let q = format!("SELECT {DEMAND_READ_COLS} FROM demands WHERE id = $1");
        let row = sqlx::query(&q)
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        demand_from(&row)
    }

    async fn demand_interactions(&self, demand_id: &str) -> StoreResult<Vec<Interaction>> {
        let q = format!(
            "SELECT {INTERACTION_COLS} FROM interactions WHERE demand_id = $1 ORDER BY rank, seq"
        );
        let rows = sqlx::query(&q)
            .bind(demand_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(interaction_from).collect()
    }

    async fn demand_offers(&self, demand_id: &str) -> StoreResult<Vec<Offer>> {
        let q = format!(
            "SELECT {OFFER_COLS} FROM offers WHERE demand_id = $1 ORDER BY created_at, id COLLATE \"C\""
        );
        let rows = sqlx::query(&q)
            .bind(demand_id)
            .fetch_all(&self.pool)
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
        let q = format!("SELECT {INTERACTION_COLS} FROM interactions WHERE holder_id = $1 AND seq > $2 AND ($4::BIGINT IS NULL OR (status = 'pending' AND deadline > $4)) ORDER BY seq LIMIT $3");
        let rows = sqlx::query(&q)
            .bind(holder_id)
            .bind(page.after.unwrap_or(0))
            .bind(i64::from(page.limit))
            .bind(pending_at.map(|t| t.millis()))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(interaction_from).collect()
    }

    async fn inbox_newest(&self, holder_id: &str, limit: u32) -> StoreResult<Vec<Interaction>> {
        let q = format!("SELECT {INTERACTION_COLS} FROM interactions WHERE holder_id = $1 ORDER BY seq DESC LIMIT $2");
        let rows = sqlx::query(&q)
            .bind(holder_id)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(interaction_from).collect()
    }

    async fn interaction(&self, id: &str) -> StoreResult<Interaction> {
        Self::interaction_in(&self.pool, id, false).await
    }

    async fn create_offer(&self, o: &NewOffer) -> StoreResult<Offer> {
        retrying("create_offer", || self.create_offer_tx(o)).await
    }

    async fn decline(
        &self,
        interaction_id: &str,
        reason: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Interaction> {
        retrying("decline", || self.decline_tx(interaction_id, reason, now)).await
    }

    async fn expire_due(&self, now: Timestamp) -> StoreResult<u64> {
        retrying("expire_due", || self.expire_due_tx(now)).await
    }

    async fn offer(&self, id: &str) -> StoreResult<Offer> {
        Self::offer_in(&self.pool, id, false).await
    }

    async fn accept_offer(&self, a: &Acceptance) -> StoreResult<Offer> {
        retrying("accept_offer", || self.accept_offer_tx(a)).await
    }

    async fn set_requester_profile(&self, p: &RequesterProfile) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO requester_profiles AS rp (account_id, ship_to, payment_method, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (account_id) DO UPDATE SET
               ship_to = COALESCE(EXCLUDED.ship_to, rp.ship_to),
               payment_method = COALESCE(EXCLUDED.payment_method, rp.payment_method),
               updated_at = EXCLUDED.updated_at",
        )
        .bind(&p.account_id)
        .bind(p.ship_to.as_ref().map(to_json))
        .bind(p.payment_method.as_ref().map(to_json))
        .bind(p.updated_at.millis())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn requester_profile(&self, account_id: &str) -> StoreResult<RequesterProfile> {
        let row = sqlx::query("SELECT account_id, ship_to, payment_method, updated_at FROM requester_profiles WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(&self.pool)
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
        retrying("place_order", || {
            self.place_order_tx(o, transfer, settlement)
        })
        .await
    }

    async fn pay_order(
        &self,
        order_id: &str,
        s: &Settlement,
        transfer: Option<&UnitTransfer>,
    ) -> StoreResult<Order> {
        retrying("pay_order", || self.pay_order_tx(order_id, s, transfer)).await
    }

    async fn expire_unpaid_orders(&self, now: Timestamp) -> StoreResult<u64> {
        retrying("expire_unpaid_orders", || async {
            let r = sqlx::query(
                "UPDATE orders SET status = 'expired' WHERE status = 'placed' AND pay_by <= $1",
            )
            .bind(now.millis())
            .execute(&self.pool)
            .await
            .map_err(db)?;
            Ok(r.rows_affected())
        })
        .await
    }

    async fn ship_order(
        &self,
        order_id: &str,
        tracking: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Order> {
        retrying("ship_order", || self.ship_order_tx(order_id, tracking, now)).await
    }

    async fn order(&self, id: &str) -> StoreResult<Order> {
        Self::order_in(&self.pool, id).await
    }

    async fn orders(&self, party: OrderParty<'_>, page: &Page) -> StoreResult<Vec<Order>> {
        let (col, id) = match party {
            OrderParty::Provider(id) => ("provider_id", id),
            OrderParty::Requester(id) => ("requester_id", id),
            OrderParty::Holder(id) => ("holder_id", id),
        };
        let q = format!(
            "SELECT {ORDER_COLS} FROM orders WHERE {col} = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        let rows = sqlx::query(&q)
            .bind(id)
            .bind(page.after.unwrap_or(0))
            .bind(i64::from(page.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(order_from).collect()
    }

    async fn balances(&self, account_id: &str) -> StoreResult<Vec<(String, i64)>> {
        self.totals(Some(account_id)).await
    }

    async fn ledger_totals(&self) -> StoreResult<Vec<(String, i64)>> {
        self.totals(None).await
    }

    async fn add_provider_key(
        &self,
        key: &ProviderKeyRecord,
        retire_others: bool,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        lock_account(&mut tx, &key.provider_id).await?;
        let keys: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM provider_keys WHERE provider_id = $1")
                .bind(&key.provider_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
        if keys as usize >= MAX_SIGNING_KEYS {
            return Err(Conflict::TooManySigningKeys.into());
        }
        if retire_others {
            sqlx::query("UPDATE provider_keys SET retired_at = $1 WHERE provider_id = $2 AND retired_at IS NULL AND secret IS NOT NULL")
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
        let q = format!("SELECT {KEY_COLS} FROM provider_keys WHERE octet_length(secret) = 32 ORDER BY kid COLLATE \"C\"");
        let rows = sqlx::query(&q).fetch_all(&self.pool).await.map_err(db)?;
        rows.iter().map(provider_key_from).collect()
    }

    async fn set_provider_key_secret(
        &self,
        kid: &str,
        plain: &[u8],
        sealed: &[u8],
    ) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE provider_keys SET secret = $1 WHERE kid = $2 AND secret = $3")
                .bind(sealed)
                .bind(kid)
                .bind(plain)
                .execute(&self.pool)
                .await
                .map_err(db)?
                .rows_affected();
        Ok(done == 1)
    }

    async fn oldest_unexpired_pass(
        &self,
        provider_id: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        // Walks `passes_by_provider_age` and stops at the first unexpired pass.
        let at: Option<i64> = sqlx::query_scalar("SELECT created_at FROM passes WHERE provider_id = $1 AND (valid_until IS NULL OR valid_until > $2) ORDER BY created_at LIMIT 1")
            .bind(provider_id)
            .bind(now.millis())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        Ok(at.map(Timestamp::from_millis))
    }

    async fn any_sealed_provider_key(&self) -> StoreResult<Option<ProviderKeyRecord>> {
        let q = format!("SELECT {KEY_COLS} FROM provider_keys WHERE octet_length(secret) > 32 ORDER BY created_at LIMIT 1");
        let row = sqlx::query(&q)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(provider_key_from).transpose()
    }

    async fn revoke_pass(&self, pass_id: &str, at: Timestamp) -> StoreResult<Pass> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        sqlx::query("UPDATE passes SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(at.millis())
            .bind(pass_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let q = format!("SELECT {PASS_COLS} FROM passes WHERE id = $1");
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
        sqlx::query_scalar("SELECT status_index FROM passes WHERE provider_id = $1 AND revoked_at IS NOT NULL AND status_index IS NOT NULL ORDER BY status_index")
            .bind(provider_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db)
    }

    async fn unit(&self, pass_id: &str, unit_no: i64) -> StoreResult<Unit> {
        let row = sqlx::query("SELECT pass_id, unit_no, holder_id, owner_id FROM pass_units WHERE pass_id = $1 AND unit_no = $2")
            .bind(pass_id)
            .bind(unit_no)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(Unit {
            pass_id: row.try_get("pass_id").map_err(db)?,
            unit_no: row.try_get("unit_no").map_err(db)?,
            holder_id: row.try_get("holder_id").map_err(db)?,
            owner_id: row.try_get("owner_id").map_err(db)?,
        })
    }

    async fn free_unit(&self, pass_id: &str, holder_id: &str) -> StoreResult<Option<i64>> {
        sqlx::query_scalar("SELECT unit_no FROM pass_units WHERE pass_id = $1 AND holder_id = $2 AND owner_id IS NULL ORDER BY unit_no LIMIT 1")
            .bind(pass_id)
            .bind(holder_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)
    }

    async fn unit_history(&self, pass_id: &str, unit_no: i64) -> StoreResult<Vec<UnitTransfer>> {
        let q = format!("SELECT {TRANSFER_COLS} FROM unit_transfers WHERE pass_id = $1 AND unit_no = $2 ORDER BY seq");
        let rows = sqlx::query(&q)
            .bind(pass_id)
            .bind(unit_no)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(unit_transfer_from).collect()
    }

    async fn transfer_unit(&self, t: &UnitTransfer) -> StoreResult<()> {
        retrying("transfer_unit", || async {
            let mut tx = self.writer.begin().await.map_err(db)?;
            Self::apply_transfer(&mut tx, t).await?;
            tx.commit().await.map_err(db)
        })
        .await
    }

    async fn pass_activity(&self, pass_id: &str, recent: u32) -> StoreResult<PassActivity> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let (orders, quantity): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(quantity), 0)::BIGINT FROM orders WHERE pass_id = $1 AND status IN ('paid', 'shipped', 'delivered')",
        )
        .bind(pass_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT paid_at, quantity FROM orders WHERE pass_id = $1 AND status IN ('paid', 'shipped', 'delivered') ORDER BY paid_at DESC, seq DESC LIMIT $2",
        )
        .bind(pass_id)
        .bind(i64::from(recent))
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let (positive, ratings): (i64, i64) = sqlx::query_as("SELECT COUNT(*) FILTER (WHERE r.positive), COUNT(*) FROM ratings r JOIN offers o ON o.id = r.offer_id WHERE o.pass_id = $1")
            .bind(pass_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let reviews: Vec<(bool, Option<String>, i64)> = sqlx::query_as("SELECT r.positive, r.comment, r.created_at FROM ratings r JOIN offers o ON o.id = r.offer_id WHERE o.pass_id = $1 ORDER BY r.created_at DESC, r.id COLLATE \"C\" LIMIT $2")
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
                .map(|(positive, comment, at)| Review {
                    positive,
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
        // The claim and the stored answer commit without waiting for the WAL
        // flush: neither is told to anyone by itself, the request's own work
        // commits durably after the claim (WAL order makes the claim durable
        // with it), and a lost answer is rebuilt by the retry (ids derive from
        // the key).
        let mut tx = self.pool.begin_with(ASYNC_COMMIT).await.map_err(db)?;
        // ON CONFLICT waits for a concurrent inserter to finish, so exactly one runs.
        let inserted = sqlx::query("INSERT INTO idempotency_keys (account_id, key, fingerprint, state, created_at, locked_at) VALUES ($1, $2, $3, 'running', $4, $4) ON CONFLICT (account_id, key) DO NOTHING")
            .bind(account_id)
            .bind(key)
            .bind(fingerprint)
            .bind(now.millis())
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        let start = if inserted == 1 {
            IdempotencyStart::Run
        } else {
            let (fp, state, status, content_type, body, locked_at): (String, String, Option<i32>, Option<String>, Option<Vec<u8>>, i64) = sqlx::query_as(
                "SELECT fingerprint, state, status, content_type, body, locked_at FROM idempotency_keys WHERE account_id = $1 AND key = $2 FOR UPDATE",
            )
            .bind(account_id)
            .bind(key)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            if fp != fingerprint {
                IdempotencyStart::Mismatch
            } else if state == "done" {
                IdempotencyStart::Replay(StoredResponse {
                    status: status.and_then(|s| u16::try_from(s).ok()).unwrap_or(500),
                    content_type,
                    body: body.unwrap_or_default(),
                })
            } else if locked_at < stale_before.millis() {
                sqlx::query(
                    "UPDATE idempotency_keys SET locked_at = $1 WHERE account_id = $2 AND key = $3",
                )
                .bind(now.millis())
                .bind(account_id)
                .bind(key)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                IdempotencyStart::Run
            } else {
                IdempotencyStart::InProgress
            }
        };
        tx.commit().await.map_err(db)?;
        Ok(start)
    }

    async fn idempotency_finish(
        &self,
        account_id: &str,
        key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin_with(ASYNC_COMMIT).await.map_err(db)?;
        sqlx::query("UPDATE idempotency_keys SET state = 'done', status = $1, content_type = $2, body = $3 WHERE account_id = $4 AND key = $5 AND state = 'running'")
            .bind(i32::from(response.status))
            .bind(&response.content_type)
            .bind(&response.body)
            .bind(account_id)
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(())
    }

    async fn idempotency_release(&self, account_id: &str, key: &str) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE account_id = $1 AND key = $2 AND state = 'running'",
        )
        .bind(account_id)
        .bind(key)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn idempotency_prune(&self, before: Timestamp) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                .bind(before.millis())
                .execute(&self.pool)
                .await
                .map_err(db)?
                .rows_affected(),
        )
    }

    async fn rate(&self, r: &Rating) -> StoreResult<()> {
        retrying("rate", || self.rate_tx(r)).await
    }
}

/// Locks an account's row for the rest of the transaction, so that
/// transactions checking a per-account limit take turns (`NO KEY UPDATE`:
/// inserts whose foreign keys name the account still go ahead).
async fn lock_account(conn: &mut sqlx::PgConnection, account_id: &str) -> StoreResult<()> {
    sqlx::query("SELECT id FROM accounts WHERE id = $1 FOR NO KEY UPDATE")
        .bind(account_id)
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// Inserts interaction requests (one statement each, in the caller's transaction).
async fn insert_interactions(
    conn: &mut sqlx::PgConnection,
    requests: &[Interaction],
) -> StoreResult<()> {
    for i in requests {
        sqlx::query("INSERT INTO interactions (id, demand_id, holder_id, rank, status, deadline, matched_pass_ids, why, created_at, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
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
