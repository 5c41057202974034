//! Integration tests of the PostgreSQL store: the store conformance suite, then what is
//! specific to PostgreSQL (reconnecting, schema versions, the pool, several stores on one
//! database as several server processes would have).
//!
//! They need a server: `SYMBOLON_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres`
//! names a database the tests connect to as an administrator (`CREATE DATABASE` is needed).
//! Without the variable every test passes without doing anything, and the run says once that
//! the PostgreSQL suite was skipped.
//!
//! Every test gets its own scratch database `symbolon_test_<unix seconds>_<random>`, created
//! from the admin connection and dropped (`WITH (FORCE)`) when the test's store is dropped,
//! pass or fail. A process that dies before that (killed, aborted) leaves its databases
//! behind: each run first drops the scratch databases whose name says they are more than an
//! hour old, so leftovers never pile up and concurrent runs never lose a live database.

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::Connection;
use std::io::Write;
use std::str::FromStr;
use std::sync::{Arc, Once};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use symbolon_core::state::{PassMode, Role};
use symbolon_store::conformance::{self as fx, GuardedStore, World};
use symbolon_store::{Conflict, OrderParty, Page, Store, StoreError};
use symbolon_store_postgres::{known_schema_version, PostgresStore, MAX_CONNECTIONS};
use tokio::sync::{Barrier, OnceCell};
use tokio::task::JoinSet;

const URL_VAR: &str = "SYMBOLON_TEST_POSTGRES_URL";
const PREFIX: &str = "symbolon_test_";
/// Scratch databases older than this are dropped at the start of a run.
const STALE_AFTER_SECS: u64 = 3600;

/// The admin connection options, or `None` (saying so once) when no server is configured.
fn admin_options() -> Option<PgConnectOptions> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(
            PgConnectOptions::from_str(url.trim())
                .unwrap_or_else(|e| panic!("{URL_VAR} is not a PostgreSQL URL: {e}")),
        ),
        _ => {
            static SKIPPED: Once = Once::new();
            SKIPPED.call_once(|| {
                // Straight to the process's stderr: libtest captures `eprintln!` of passing tests.
                let _ = writeln!(
                    std::io::stderr(),
                    "symbolon-store-postgres: PostgreSQL suite skipped because {URL_VAR} is unset \
                     (e.g. {URL_VAR}=postgres://postgres@127.0.0.1:5432/postgres)"
                );
            });
            None
        }
    }
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn admin_connection(admin: &PgConnectOptions) -> PgConnection {
    PgConnection::connect_with(admin)
        .await
        .unwrap_or_else(|e| panic!("connecting to {URL_VAR}: {e}"))
}

async fn drop_database(admin: &PgConnectOptions, name: &str) -> Result<(), sqlx::Error> {
    let mut conn = PgConnection::connect_with(admin).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    conn.close().await
}

/// Drops the scratch databases of runs that ended more than an hour ago without cleaning up.
async fn sweep_stale_databases(admin: &PgConnectOptions) {
    static SWEPT: OnceCell<()> = OnceCell::const_new();
    SWEPT
        .get_or_init(|| async {
            let mut conn = admin_connection(admin).await;
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT datname FROM pg_database WHERE datname LIKE 'symbolon\\_test\\_%'",
            )
            .fetch_all(&mut conn)
            .await
            .expect("list scratch databases");
            let _ = conn.close().await;
            let now = unix_secs();
            for name in names {
                let created = name
                    .strip_prefix(PREFIX)
                    .and_then(|rest| rest.split('_').next())
                    .and_then(|secs| secs.parse::<u64>().ok());
                if created.is_some_and(|c| c + STALE_AFTER_SECS < now) {
                    if let Err(e) = drop_database(admin, &name).await {
                        let _ = writeln!(std::io::stderr(), "dropping stale {name}: {e}");
                    }
                }
            }
        })
        .await;
}

/// A scratch database, dropped with this guard.
struct ScratchDb {
    admin: PgConnectOptions,
    name: String,
}

impl ScratchDb {
    /// A new empty database, or `None` when no server is configured.
    async fn create() -> Option<Self> {
        let admin = admin_options()?;
        sweep_stale_databases(&admin).await;
        let name = format!("{PREFIX}{}_{:016x}", unix_secs(), rand::random::<u64>());
        let mut conn = admin_connection(&admin).await;
        // CREATE DATABASE copies template1, and fails while another session is connected to
        // it: retry a few times.
        let mut attempt = 0;
        loop {
            match sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut conn)
                .await
            {
                Ok(_) => break,
                Err(e) if attempt < 5 => {
                    attempt += 1;
                    let _ = writeln!(std::io::stderr(), "CREATE DATABASE {name}: {e}; retrying");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(e) => panic!("CREATE DATABASE {name}: {e}"),
            }
        }
        let _ = conn.close().await;
        Some(Self { admin, name })
    }

    fn options(&self) -> PgConnectOptions {
        self.admin.clone().database(&self.name)
    }

    async fn connect(&self) -> PostgresStore {
        PostgresStore::connect_with(self.options())
            .await
            .expect("connect the store to the scratch database")
    }

    async fn raw(&self) -> PgConnection {
        PgConnection::connect_with(&self.options())
            .await
            .expect("raw connection")
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        // Drop cannot await, and may run inside the test's runtime: drop the database from a
        // thread of its own with its own runtime, and wait for it so the database is gone
        // before the test ends. FORCE ends the store's connections still open.
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(drop_database(&admin, &name))
                .map_err(|e| format!("DROP DATABASE {name}: {e}"))
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = writeln!(std::io::stderr(), "{e} (a later run drops it)");
            }
            Err(_) => {
                let _ = writeln!(std::io::stderr(), "dropping {} panicked", self.name);
            }
        }
    }
}

/// A fresh store on its own scratch database, or `None` when no server is configured.
async fn fresh_store() -> Option<Arc<dyn Store>> {
    let db = ScratchDb::create().await?;
    let store = db.connect().await;
    Some(Arc::new(GuardedStore::new(Arc::new(store), db)))
}

mod conformance {
    symbolon_store::store_conformance_suite!(optional super::fresh_store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_close_and_reconnect() {
    let Some(db) = ScratchDb::create().await else {
        return;
    };
    let store = db.connect().await;
    let w = World::new(Arc::new(store.clone())).await;
    let offer = w.accepted_offer(&w.holder1, &w.shareable).await;
    let input = fx::order_for("ord_1", &offer, &w.product, 2);
    let order = store
        .place_order(
            &input,
            None,
            Some(&fx::settlement_for("led_1", &input, fx::t(181))),
        )
        .await
        .expect("place_order");
    let holding = store
        .holding(&w.holder1, &w.unique.id)
        .await
        .expect("holding");
    let account = store.account(&w.provider).await.expect("account");
    let keys = store.provider_keys(&w.provider).await.expect("keys");
    let fields = vec!["electronics/audio".to_string()];
    store
        .set_holder_fields(&w.holder1, &fields)
        .await
        .expect("fields");
    let holder = store.holder(&w.holder1, fx::t(500)).await.expect("holder");
    store.close().await;
    drop(w);

    let reopened = db.connect().await;
    assert_eq!(
        reopened.account(&account.id).await.expect("account"),
        account
    );
    assert_eq!(
        reopened.provider_keys(&account.id).await.expect("keys"),
        keys
    );
    assert_eq!(
        reopened
            .holding("acc_holder1", "pas_unique")
            .await
            .expect("holding"),
        holding
    );
    assert_eq!(holding.units_left, Some(2), "accepting moves no unit");
    assert_eq!(
        reopened
            .holder("acc_holder1", fx::t(500))
            .await
            .expect("holder"),
        holder
    );
    assert_eq!(reopened.offer(&offer.id).await.expect("offer"), offer);
    assert_eq!(reopened.order("ord_1").await.expect("order"), order);
    assert_eq!(
        reopened.product("prd_main").await.expect("product").stock,
        8
    );
    let orders = reopened
        .orders(
            OrderParty::Requester("acc_requester"),
            &Page {
                after: None,
                limit: 10,
            },
        )
        .await
        .expect("orders");
    assert_eq!(orders, vec![order]);
    assert_eq!(
        reopened.ledger_totals().await.expect("totals"),
        vec![("EUR".to_string(), 0)]
    );
    // The reopened store still writes, and ids stay unique across the reconnect.
    let dup = fx::new_account(&account.id, &[Role::Provider]);
    assert!(matches!(
        reopened.create_account(&dup).await,
        Err(StoreError::Conflict(Conflict::Duplicate))
    ));
    reopened.close().await;
}

#[tokio::test]
async fn known_schema_version_is_the_newest_migration() {
    let Some(db) = ScratchDb::create().await else {
        return;
    };
    let known = known_schema_version();
    assert_eq!(
        known, 17,
        "migrations/0017_selection_log.sql is the newest migration"
    );
    db.connect().await.close().await;
    let mut conn = db.raw().await;
    let applied: i64 =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut conn)
            .await
            .expect("applied version");
    assert_eq!(
        applied, known,
        "a fresh database is migrated to the known version"
    );
    conn.close().await.expect("close");
    // Connecting to an up-to-date database again is fine.
    db.connect().await.close().await;
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let Some(db) = ScratchDb::create().await else {
        return;
    };
    db.connect().await.close().await;
    let known = known_schema_version();
    let mut conn = db.raw().await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES ($1, 'from a newer Symbolon', TRUE, '\\x00'::BYTEA, 0)",
    )
    .bind(known + 1)
    .execute(&mut conn)
    .await
    .expect("record a newer migration");
    conn.close().await.expect("close");

    match PostgresStore::connect_with(db.options()).await {
        Err(StoreError::SchemaTooNew { found, known: k }) => {
            assert_eq!((found, k), (known + 1, known));
        }
        Err(e) => panic!("expected SchemaTooNew, got {e:?}"),
        Ok(_) => panic!("expected SchemaTooNew, the database opened"),
    }
    let msg = StoreError::SchemaTooNew {
        found: known + 1,
        known,
    }
    .to_string();
    assert!(msg.contains("upgrade the binary"), "{msg}");
}

/// Needs no server. (An unreachable server is retried until the acquire timeout, 30 s: too
/// slow for a test.)
#[tokio::test]
async fn a_bad_url_is_a_backend_error() {
    for url in ["not a url", "postgres://[::1/db"] {
        assert!(
            matches!(
                PostgresStore::connect(url).await,
                Err(StoreError::Backend(_))
            ),
            "{url}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_pool_is_bounded_and_sessions_have_timeouts() {
    let Some(db) = ScratchDb::create().await else {
        return;
    };
    let store = db.connect().await;
    assert_eq!(store.backend(), "postgres");
    let pool = store.pool();
    assert_eq!(pool.options().get_max_connections(), MAX_CONNECTIONS);
    assert_eq!(MAX_CONNECTIONS, 10);
    assert_eq!(
        pool.options().get_acquire_timeout(),
        Duration::from_secs(30)
    );

    let show = |setting: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(&format!("SHOW {setting}"))
                .fetch_one(&pool)
                .await
                .expect("SHOW")
        }
    };
    assert_eq!(show("statement_timeout").await, "30s");
    assert_eq!(show("idle_in_transaction_session_timeout").await, "1min");
    assert_eq!(show("application_name").await, "symbolon");
    assert_eq!(show("transaction_isolation").await, "read committed");

    // 50 concurrent requests share at most MAX_CONNECTIONS connections, and all succeed.
    let w = World::new(Arc::new(store.clone())).await;
    let barrier = Arc::new(Barrier::new(50));
    let mut set = JoinSet::new();
    for i in 0..50 {
        let (store, barrier) = (store.clone(), barrier.clone());
        let holder = if i % 2 == 0 {
            w.holder1.clone()
        } else {
            w.holder2.clone()
        };
        set.spawn(async move {
            barrier.wait().await;
            let m = store.market(fx::t(10)).await.expect("market");
            let h = store.holder(&holder, fx::t(10)).await.expect("holder");
            (m.holdings.len(), h.id, store.pool().size())
        });
    }
    while let Some(r) = set.join_next().await {
        let (holdings, _, size) = r.expect("task");
        assert_eq!(holdings, 4, "two passes for two holders");
        assert!(size <= MAX_CONNECTIONS, "pool size {size}");
    }
    assert!(pool.size() <= MAX_CONNECTIONS);

    // A statement past the timeout fails as a backend error, and the pool carries on.
    let slow = PostgresStore::connect_with(
        db.options()
            .options([("statement_timeout", "100ms")])
            .application_name("symbolon-test"),
    )
    .await
    .expect("connect with options");
    let timed_out = sqlx::query("SELECT pg_sleep(2)")
        .execute(slow.pool())
        .await
        .expect_err("the statement times out");
    assert!(
        timed_out.to_string().contains("statement timeout"),
        "{timed_out}"
    );
    let own: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(slow.pool())
        .await
        .expect("SHOW");
    assert_eq!(own, "100ms", "settings given in the URL win");
    let name: String = sqlx::query_scalar("SHOW application_name")
        .fetch_one(slow.pool())
        .await
        .expect("SHOW");
    assert_eq!(name, "symbolon-test");
    assert!(slow.account(&w.provider).await.is_ok());
    slow.close().await;
    store.close().await;
}

#[tokio::test]
async fn closing_through_the_trait_closes_the_pool() {
    let Some(db) = ScratchDb::create().await else {
        return;
    };
    let store: Arc<dyn Store> = Arc::new(db.connect().await);
    fx::create_account(&*store, "acc_a", &[Role::Holder]).await;
    store.close().await;
    assert!(
        matches!(store.account("acc_a").await, Err(StoreError::Backend(_))),
        "a closed store serves no more requests"
    );
    let reopened = db.connect().await;
    assert_eq!(
        reopened.account("acc_a").await.expect("account").id,
        "acc_a"
    );
    reopened.close().await;
}

#[tokio::test]
async fn foreign_keys_and_checks_are_enforced() {
    let Some(db) = ScratchDb::create().await else {
        return;
    };
    let store = db.connect().await;
    let orphan = fx::product("prd_orphan", "acc_nobody", 1, 100);
    assert!(matches!(
        store.create_product(&orphan).await,
        Err(StoreError::Backend(_))
    ));
    assert!(matches!(
        store.product("prd_orphan").await,
        Err(StoreError::NotFound)
    ));
    fx::create_account(&store, "acc_p", &[Role::Provider]).await;
    let negative = fx::product("prd_neg", "acc_p", -1, 100);
    assert!(matches!(
        store.create_product(&negative).await,
        Err(StoreError::Backend(_))
    ));
    store.close().await;
}

/// Two stores (two pools, as two server processes) on one database, connecting at once.
async fn two_stores(db: &ScratchDb) -> (PostgresStore, PostgresStore) {
    let (a, b) = tokio::join!(db.connect(), db.connect());
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_never_oversell_or_double_transfer() {
    let Some(db) = ScratchDb::create().await else {
        return;
    };
    let (a, b) = two_stores(&db).await;
    let stores: [Arc<dyn Store>; 2] = [Arc::new(a.clone()), Arc::new(b.clone())];
    let w = World::new(stores[0].clone()).await;

    // 12 orders of a product with stock 5, half through each store.
    let product = w.add_product(5).await;
    let p = w.add_pass(&product, PassMode::Shareable, None).await;
    w.grant(&p, &w.holder1, None).await;
    let mut inputs = Vec::new();
    for i in 0..12 {
        let offer = w.accepted_offer(&w.holder1, &p).await;
        inputs.push(fx::order_for(&format!("ord_{i}"), &offer, &product, 1));
    }
    let barrier = Arc::new(Barrier::new(inputs.len()));
    let mut set = JoinSet::new();
    for (i, input) in inputs.into_iter().enumerate() {
        let (store, barrier) = (stores[i % 2].clone(), barrier.clone());
        let settlement = fx::settlement_for(&format!("led_{i}"), &input, fx::t(181));
        set.spawn(async move {
            barrier.wait().await;
            store.place_order(&input, None, Some(&settlement)).await
        });
    }
    let mut ok = 0;
    while let Some(r) = set.join_next().await {
        match r.expect("task") {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict(Conflict::InsufficientStock)) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(ok, 5, "exactly the stock is sold");
    assert_eq!(w.stock(&product.id).await, 0);
    assert_eq!(
        b.ledger_totals().await.expect("totals"),
        vec![("EUR".to_string(), 0)]
    );

    // 8 unpaid orders of holder 2's 2 unique units paid at once through both
    // stores, and the same order paid 6 times.
    let mut orders = Vec::new();
    for i in 0..8 {
        let offer = w.accepted_offer(&w.holder2, &w.unique).await;
        let input = fx::order_for(&format!("ord_u{i}"), &offer, &w.product, 1);
        orders.push(
            a.place_order(&input, None, None)
                .await
                .expect("unpaid order"),
        );
    }
    let barrier = Arc::new(Barrier::new(orders.len() + 6));
    let mut set = JoinSet::new();
    for (i, o) in orders
        .iter()
        .chain(std::iter::repeat_n(&orders[0], 6))
        .enumerate()
    {
        // Each payment names one of the two units (the exchange picks the
        // first unsold one and retries on a lost race; here the races are kept).
        let transfer = fx::unit_transfer(
            &o.pass_id,
            3 + (i as i64 % 2),
            1,
            &w.holder2,
            &o.requester_id,
            fx::t(200),
        );
        let settlement = fx::settlement_for(&format!("led_u{i}"), o, fx::t(200));
        let (store, barrier, id) = (stores[i % 2].clone(), barrier.clone(), o.id.clone());
        set.spawn(async move {
            barrier.wait().await;
            store.pay_order(&id, &settlement, Some(&transfer)).await
        });
    }
    let mut units = Vec::new();
    while let Some(r) = set.join_next().await {
        match r.expect("task") {
            Ok(o) => units.push(o.unit_no.expect("a unit")),
            Err(StoreError::Conflict(
                Conflict::UnitAlreadySold | Conflict::InvalidState | Conflict::Duplicate,
            )) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    units.sort();
    assert_eq!(units, vec![3, 4], "holder 2's units, each once");
    let h = b.holding(&w.holder2, &w.unique.id).await.expect("holding");
    assert_eq!((h.units_granted, h.units_left), (Some(2), Some(0)));
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_expiry_accepts_and_offers_do_not_deadlock() {
    let Some(db) = ScratchDb::create().await else {
        return;
    };
    let (a, b) = two_stores(&db).await;
    let stores: [Arc<dyn Store>; 2] = [Arc::new(a.clone()), Arc::new(b.clone())];
    let w = World::new(stores[0].clone()).await;
    let mut holders = vec![w.holder1.clone(), w.holder2.clone()];
    for _ in 0..4 {
        holders.push(w.add_holder().await);
    }
    let refs: Vec<&str> = holders.iter().map(String::as_str).collect();
    // Demands whose requests are due at t(100): expire_due at t(100) races accepts at t(90)
    // that withdraw the same rows, and offers on them.
    let mut work = Vec::new();
    for _ in 0..6 {
        let requests = w.demand_by(&w.requester, &refs, fx::t(100)).await;
        let first = w.offer(&requests[0], &w.shareable.id).await;
        work.push((requests, first));
    }
    let barrier = Arc::new(Barrier::new(work.len() * 2 + 2));
    let mut set = JoinSet::new();
    for (i, (requests, first)) in work.iter().enumerate() {
        let mut acc = w.acceptance(first).await;
        acc.at = fx::t(90);
        let (store, gate) = (stores[i % 2].clone(), barrier.clone());
        set.spawn(async move {
            gate.wait().await;
            store.accept_offer(&acc).await.map(|_| 0)
        });
        let late = symbolon_store::NewOffer {
            id: w.id("ofr"),
            interaction_id: requests[requests.len() - 1].id.clone(),
            pass_id: w.shareable.id.clone(),
            note: None,
            created_at: fx::t(95),
        };
        let (store, gate) = (stores[(i + 1) % 2].clone(), barrier.clone());
        set.spawn(async move {
            gate.wait().await;
            store.create_offer(&late).await.map(|_| 0)
        });
    }
    for store in &stores {
        let (store, gate) = (store.clone(), barrier.clone());
        set.spawn(async move {
            gate.wait().await;
            store.expire_due(fx::t(100)).await
        });
    }
    while let Some(r) = set.join_next().await {
        match r.expect("task") {
            Ok(_) | Err(StoreError::Conflict(Conflict::InteractionClosed)) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    // Every request ended decided exactly once: none is left pending.
    for (requests, _) in &work {
        for r in requests {
            let got = b.interaction(&r.id).await.expect("interaction");
            assert_ne!(
                got.status,
                symbolon_core::state::InteractionStatus::Pending,
                "{}",
                r.id
            );
        }
        let offers = b
            .demand_offers(&requests[0].demand_id)
            .await
            .expect("offers");
        assert!(!offers.is_empty());
    }
    a.close().await;
    b.close().await;
}

/// Schema v11: a transaction takes its event numbers (and market versions)
/// at commit. One that emitted first but commits last does not hold up a
/// later one meanwhile, and its event is numbered after the later one's, so
/// numbers stay in commit order ("after seq N" never skips a late commit).
#[tokio::test]
async fn event_numbers_are_taken_at_commit_in_commit_order() {
    let Some(db) = ScratchDb::create().await else {
        return;
    };
    db.connect().await.close().await;
    let (mut first, mut second) = (db.raw().await, db.raw().await);
    let emit =
        |who: &'static str| format!("SELECT emit_event('{who}', 'test.event', '{{}}', 0)::text");
    let version = "SELECT v FROM market_version WHERE id = 1";
    let v0: i64 = sqlx::query_scalar(version)
        .fetch_one(&mut first)
        .await
        .expect("v0");

    sqlx::query("BEGIN")
        .execute(&mut first)
        .await
        .expect("begin");
    sqlx::query(&emit("acct_first"))
        .execute(&mut first)
        .await
        .expect("emit");
    // A holder's counter changes in the open transaction, too.
    sqlx::query("INSERT INTO accounts (id, name, roles, api_key_hash, created_at) VALUES ('acct_h', 'h', 'holder', 'x', 0)")
        .execute(&mut first)
        .await
        .expect("holder account");
    sqlx::query("INSERT INTO holder_stats (holder_id, ratings) VALUES ('acct_h', 1)")
        .execute(&mut first)
        .await
        .expect("counter change");

    // The second transaction emits and commits while the first is open: it
    // must not wait for the first (under v10 it blocked on the counter row).
    let committed = tokio::time::timeout(Duration::from_secs(10), async {
        sqlx::query("BEGIN").execute(&mut second).await?;
        sqlx::query(&emit("acct_second"))
            .execute(&mut second)
            .await?;
        sqlx::query("COMMIT").execute(&mut second).await
    })
    .await;
    assert!(
        matches!(committed, Ok(Ok(_))),
        "a writer waited for another open transaction: {committed:?}"
    );
    // Nothing of the open transaction is numbered yet.
    let staged: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, account_id FROM events ORDER BY seq")
            .fetch_all(&mut second)
            .await
            .expect("events");
    assert_eq!(staged.len(), 1, "{staged:?}");
    assert_eq!(staged[0].1, "acct_second");
    let v1: i64 = sqlx::query_scalar(version)
        .fetch_one(&mut second)
        .await
        .expect("v1");
    assert_eq!(v1, v0, "an open transaction's version bump is not visible");

    sqlx::query("COMMIT")
        .execute(&mut first)
        .await
        .expect("commit");
    let events: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, account_id FROM events ORDER BY seq")
            .fetch_all(&mut second)
            .await
            .expect("events");
    assert_eq!(
        events.iter().map(|(_, a)| a.as_str()).collect::<Vec<_>>(),
        ["acct_second", "acct_first"],
        "numbers follow commit order"
    );
    assert_eq!(events[1].0, events[0].0 + 1);
    let v2: i64 = sqlx::query_scalar(version)
        .fetch_one(&mut second)
        .await
        .expect("v2");
    assert_eq!(v2, v0 + 1, "the counter change moved the version once");
    let logged: Vec<String> =
        sqlx::query_scalar("SELECT holder_id FROM market_changes WHERE version > $1")
            .bind(v0)
            .fetch_all(&mut second)
            .await
            .expect("changes");
    assert_eq!(logged, ["acct_h"]);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events_staged")
        .fetch_one(&mut second)
        .await
        .expect("staged");
    assert_eq!(left, 0, "staged events are removed when numbered");
    first.close().await.expect("close");
    second.close().await.expect("close");
}

/// A database at schema v11 with a paid order and its ledger migrates to
/// v12: the order keeps its row and gains empty after-sale columns, the
/// sellers' money is pending (no order was delivered before v12), the
/// buyer's is gone, and the ledger still sums to zero.
#[tokio::test]
async fn a_v12_database_lists_its_products_and_demands_in_creation_order() {
    use symbolon_store::{ManageStore, Page};
    let Some(db) = ScratchDb::create().await else {
        return;
    };
    let mut conn = db.raw().await;
    let mut v12 = sqlx::migrate::Migrator::new(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"),
    )
    .await
    .expect("migrations");
    v12.migrations = v12
        .migrations
        .iter()
        .filter(|m| m.version <= 12)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    v12.run(&mut conn).await.expect("migrate to v12");
    // Ids in the opposite order of creation: the list follows creation.
    for sql in [
        "INSERT INTO accounts VALUES ('acc_p','P','provider','h1',1), ('acc_r','R','requester','h3',1)",
        "INSERT INTO products (id, provider_id, title, description, category, specs, price_minor, currency, stock, created_at) VALUES ('prd_b','acc_p','T','D','a/b','[]',1000,'EUR',5,1), ('prd_a','acc_p','U','D','a/b','[]',1000,'EUR',5,2)",
        "INSERT INTO demands (id, requester_id, query, fields, min_holders, max_holders, ttl_seconds, deadline, created_at) VALUES ('dem_b','acc_r','q','[]',2,5,60,999999,1), ('dem_a','acc_r','r','[]',2,5,60,999999,2)",
    ] {
        sqlx::query(sql).execute(&mut conn).await.expect(sql);
    }
    conn.close().await.expect("close");
    let store = db.connect().await;
    let page = Page {
        after: None,
        limit: 10,
    };
    let mut newer = symbolon_store::conformance::product("prd_0", "acc_p", 1, 500);
    newer.created_at = symbolon_store::conformance::t(0);
    store.create_product(&newer).await.expect("a new product");
    let products: Vec<String> = store
        .products_of("acc_p", &page)
        .await
        .expect("products")
        .into_iter()
        .map(|(_, p)| p.id)
        .collect();
    assert_eq!(products, ["prd_b", "prd_a", "prd_0"]);
    let demands: Vec<String> = store
        .demands_of("acc_r", &page)
        .await
        .expect("demands")
        .into_iter()
        .map(|l| l.demand.id)
        .collect();
    assert_eq!(demands, ["dem_a", "dem_b"], "newest first");
    store.close().await;
}

#[tokio::test]
async fn a_v11_database_with_a_paid_order_migrates_to_v12() {
    use symbolon_store::LifecycleStore;
    let Some(db) = ScratchDb::create().await else {
        return;
    };
    let mut conn = db.raw().await;
    let mut v11 = sqlx::migrate::Migrator::new(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"),
    )
    .await
    .expect("migrations");
    v11.migrations = v11
        .migrations
        .iter()
        .filter(|m| m.version <= 11)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    v11.run(&mut conn).await.expect("migrate to v11");
    for sql in [
        "INSERT INTO accounts VALUES ('acc_p','P','provider','h1',1), ('acc_h','H','holder','h2',1), ('acc_r','R','requester','h3',1)",
        "INSERT INTO products (id, provider_id, title, description, category, specs, price_minor, currency, stock, created_at) VALUES ('prd_1','acc_p','T','D','a/b','[]',1000,'EUR',5,1)",
        "INSERT INTO passes (id, product_id, provider_id, mode, units, commission_bps, valid_from, valid_until, jws, created_at) VALUES ('pas_1','prd_1','acc_p','shareable',NULL,500,1,NULL,'jws',1)",
        "INSERT INTO orders (id, offer_id, requester_id, provider_id, holder_id, product_id, pass_id, quantity, unit_price_minor, total_minor, commission_minor, currency, status, ship_to, created_at, paid_at) VALUES ('ord_1',NULL,'acc_r','acc_p','acc_h','prd_1','pas_1',2,1000,2000,100,'EUR','paid','{\"name\":\"R\",\"line1\":\"1 St\",\"city\":\"C\",\"postal_code\":\"1\",\"country\":\"FR\"}',3,3)",
        "INSERT INTO ledger_transactions VALUES ('led_1','ord_1','pay_1',3)",
        "INSERT INTO ledger_entries (transaction_id, account_id, currency, amount_minor, memo) VALUES ('led_1','acc_r','EUR',-2000,'m'), ('led_1','acc_p','EUR',1900,'m'), ('led_1','acc_h','EUR',100,'m')",
    ] {
        sqlx::query(sql).execute(&mut conn).await.expect(sql);
    }
    conn.close().await.expect("close");
    let store = db.connect().await;
    let order = store.order("ord_1").await.expect("the order survived");
    assert_eq!(order.status, symbolon_core::state::OrderStatus::Paid);
    assert_eq!(order.after_sale, Default::default());
    let buckets = |id: &'static str| {
        let store = &store;
        async move {
            let b = store.ledger_buckets(id).await.expect("buckets");
            (b[0].pending, b[0].available)
        }
    };
    assert_eq!(buckets("acc_h").await, (100, 0));
    assert_eq!(buckets("acc_p").await, (1900, 0));
    assert_eq!(buckets("acc_r").await, (0, -2000));
    assert_eq!(
        store.ledger_totals().await.expect("totals"),
        vec![("EUR".to_string(), 0)]
    );
    store.close().await;
}
