//! Integration tests of the SQLite store: the store conformance suite, then what is
//! specific to SQLite (the file on disk, schema versions, pragmas).

use std::path::Path;
use std::sync::Arc;
use symbolon_core::state::Role;
use symbolon_store::conformance::{self as fx, GuardedStore, World};
use symbolon_store::{Conflict, LifecycleStore, ManageStore, OrderParty, Page, Store, StoreError};
use symbolon_store_sqlite::{known_schema_version, SqliteStore};
use tempfile::TempDir;

/// A fresh database in its own temporary directory, removed after the store is dropped.
async fn fresh_store() -> Arc<dyn Store> {
    let dir = TempDir::new().expect("temp dir");
    let store = SqliteStore::open(&db_path(&dir))
        .await
        .expect("open a fresh database");
    Arc::new(GuardedStore::new(Arc::new(store), dir))
}

fn db_path(dir: &TempDir) -> std::path::PathBuf {
    dir.path().join("symbolon.db")
}

mod conformance {
    symbolon_store::store_conformance_suite!(super::fresh_store);
}

/// The same cases through `run_all`, each against its own fresh database.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn run_all_runs_every_case() {
    let names: Vec<&str> = symbolon_store::conformance::cases()
        .iter()
        .map(|(n, _)| *n)
        .collect();
    let unique: std::collections::BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), names.len(), "case names are unique");
    assert!(names.len() >= 40, "{} cases", names.len());
    symbolon_store::conformance::run_all(fresh_store).await;
}

async fn raw_pool(path: &Path) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("raw connection")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_close_and_reopen() {
    let dir = TempDir::new().expect("temp dir");
    let path = db_path(&dir);
    let store = SqliteStore::open(&path).await.expect("open");
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
    store.close().await;
    drop(w);

    let reopened = SqliteStore::open(&path).await.expect("reopen");
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
    // The reopened store still writes, and ids stay unique across the reopen.
    let dup = fx::new_account(&account.id, &[Role::Provider]);
    assert!(matches!(
        reopened.create_account(&dup).await,
        Err(StoreError::Conflict(Conflict::Duplicate))
    ));
    reopened.close().await;
}

#[tokio::test]
async fn known_schema_version_is_the_newest_migration() {
    let known = known_schema_version();
    assert_eq!(
        known, 17,
        "migrations/0017_selection_log.sql is the newest migration"
    );
    let dir = TempDir::new().expect("temp dir");
    let store = SqliteStore::open(&db_path(&dir)).await.expect("open");
    store.close().await;
    let pool = raw_pool(&db_path(&dir)).await;
    let applied: i64 =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1")
            .fetch_one(&pool)
            .await
            .expect("applied version");
    assert_eq!(
        applied, known,
        "a fresh database is migrated to the known version"
    );
    pool.close().await;
    // Opening an up-to-date database again is fine.
    SqliteStore::open(&db_path(&dir))
        .await
        .expect("reopen")
        .close()
        .await;
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = TempDir::new().expect("temp dir");
    SqliteStore::open(&db_path(&dir))
        .await
        .expect("open")
        .close()
        .await;
    let known = known_schema_version();
    let pool = raw_pool(&db_path(&dir)).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (?, 'from a newer Symbolon', 1, X'00', 0)",
    )
    .bind(known + 1)
    .execute(&pool)
    .await
    .expect("record a newer migration");
    pool.close().await;

    match SqliteStore::open(&db_path(&dir)).await {
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

#[tokio::test]
async fn pragmas_are_wal_full_foreign_keys() {
    let dir = TempDir::new().expect("temp dir");
    let store = SqliteStore::open(&db_path(&dir)).await.expect("open");
    assert_eq!(
        store.pragma("journal_mode").await.expect("journal_mode"),
        "wal"
    );
    assert_eq!(
        store.pragma("synchronous").await.expect("synchronous"),
        "2",
        "FULL"
    );
    assert_eq!(
        store.pragma("foreign_keys").await.expect("foreign_keys"),
        "1"
    );
    assert!(
        store
            .pragma("foreign_keys; DROP TABLE accounts")
            .await
            .is_err(),
        "only bare names"
    );

    // Foreign keys are enforced: a product of an unknown provider is refused.
    let p = fx::product("prd_orphan", "acc_nobody", 1, 100);
    assert!(matches!(
        store.create_product(&p).await,
        Err(StoreError::Backend(_))
    ));
    assert!(matches!(
        store.product("prd_orphan").await,
        Err(StoreError::NotFound)
    ));
    store.close().await;
}

#[tokio::test]
async fn closing_through_the_trait_closes_the_database() {
    let dir = TempDir::new().expect("temp dir");
    let path = db_path(&dir);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.expect("open"));
    fx::create_account(&*store, "acc_a", &[Role::Holder]).await;
    store.close().await;
    assert!(
        matches!(store.account("acc_a").await, Err(StoreError::Backend(_))),
        "a closed store serves no more requests"
    );
    let wal = path.with_file_name("symbolon.db-wal");
    assert!(
        std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
        "the WAL was checkpointed on close"
    );
    let reopened = SqliteStore::open(&path).await.expect("reopen");
    assert_eq!(
        reopened.account("acc_a").await.expect("account").id,
        "acc_a"
    );
    reopened.close().await;
}

/// A database at schema v2 with an order, its ledger and an unsealed signing
/// key migrates to v3: the rebuilt `orders` keeps every row, every foreign key
/// still holds, and the key is found for sealing.
#[tokio::test]
async fn a_v2_database_with_orders_migrates_to_v3() {
    let dir = TempDir::new().expect("temp dir");
    let path = db_path(&dir);
    {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .foreign_keys(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.expect("pool");
        let mut v2 =
            sqlx::migrate::Migrator::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"))
                .await
                .expect("migrations");
        v2.migrations = v2
            .migrations
            .iter()
            .filter(|m| m.version <= 2)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        v2.run(&pool).await.expect("migrate to v2");
        for sql in [
            "INSERT INTO accounts VALUES ('acc_p','P','provider','h1',1), ('acc_h','H','holder','h2',1), ('acc_r','R','requester','h3',1)",
            "INSERT INTO provider_keys VALUES ('kid_p','acc_p',zeroblob(32),randomblob(32),1)",
            "INSERT INTO products VALUES ('prd_1','acc_p','T','D','a/b','[]',1000,'EUR',5,1)",
            "INSERT INTO passes VALUES ('pas_1','prd_1','acc_p','shareable',NULL,500,1,NULL,'jws',1)",
            "INSERT INTO passes VALUES ('pas_u','prd_1','acc_p','unique',1,500,1,NULL,'jws-u',1)",
            "INSERT INTO pass_units (pass_id, unit_no, holder_id, owner_id) VALUES ('pas_u',1,'acc_h','acc_r')",
            "INSERT INTO demands (id, requester_id, query, fields, min_holders, max_holders, ttl_seconds, deadline, created_at) VALUES ('dem_1','acc_r','q','[]',2,5,60,999999,1)",
            "INSERT INTO interactions (id, demand_id, holder_id, rank, status, deadline, matched_pass_ids, why, created_at) VALUES ('int_1','dem_1','acc_h',1,'offered',999999,'[]','{}',1)",
            "INSERT INTO offers (id, interaction_id, demand_id, holder_id, requester_id, pass_id, status, created_at) VALUES ('ofr_1','int_1','dem_1','acc_h','acc_r','pas_1','accepted',2)",
            "INSERT INTO orders (id, offer_id, requester_id, provider_id, holder_id, product_id, pass_id, quantity, unit_price_minor, total_minor, commission_minor, currency, status, ship_to, created_at) VALUES ('ord_1','ofr_1','acc_r','acc_p','acc_h','prd_1','pas_1',2,1000,2000,100,'EUR','paid','{\"name\":\"R\",\"line1\":\"1 St\",\"city\":\"C\",\"postal_code\":\"1\",\"country\":\"FR\"}',3)",
            "INSERT INTO ledger_transactions VALUES ('led_1','ord_1','pay_1',3)",
            "INSERT INTO ledger_entries (transaction_id, account_id, currency, amount_minor, memo) VALUES ('led_1','acc_r','EUR',-2000,'m'), ('led_1','acc_p','EUR',1900,'m'), ('led_1','acc_h','EUR',100,'m')",
        ] {
            sqlx::query(sql).execute(&pool).await.expect(sql);
        }
        pool.close().await;
    }
    let store = SqliteStore::open(&path).await.expect("open migrates to v3");
    let order = store.order("ord_1").await.expect("the order survived");
    assert_eq!(order.offer_id.as_deref(), Some("ofr_1"));
    assert_eq!(order.holder_id.as_deref(), Some("acc_h"));
    assert_eq!((order.quantity, order.total_minor), (2, 2000));
    assert_eq!(
        store.ledger_totals().await.expect("totals"),
        vec![("EUR".to_string(), 0)]
    );
    // v12: the sellers' money of an order paid before it is pending (no
    // order was delivered before v12); the buyer's payment is gone.
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
    assert_eq!(order.after_sale, Default::default());
    let keys = store.unsealed_provider_keys().await.expect("keys");
    assert_eq!(keys.len(), 1, "the v2 key is found for sealing");
    // v13: products and demands from before are listed, on sale, not
    // cancelled, and new ones come after them.
    let page = symbolon_store::Page {
        after: None,
        limit: 10,
    };
    let products = store.products_of("acc_p", &page).await.expect("products");
    assert_eq!(products.len(), 1);
    assert!(products[0].1.on_sale() && products[0].1.revision == 0);
    let mut newer = fx::product("prd_2", "acc_p", 1, 500);
    newer.created_at = fx::t(1);
    store.create_product(&newer).await.expect("a new product");
    let ids: Vec<String> = store
        .products_of("acc_p", &page)
        .await
        .expect("products")
        .into_iter()
        .map(|(_, p)| p.id)
        .collect();
    assert_eq!(ids, ["prd_1", "prd_2"]);
    let demands = store.demands_of("acc_r", &page).await.expect("demands");
    assert_eq!(demands.len(), 1);
    assert_eq!(demands[0].demand.cancelled_at, None);
    assert_eq!((demands[0].contacted, demands[0].offers), (1, 1));
    // A unit sold before v3 has no statements; its owner can still hand it on.
    store
        .transfer_unit(&fx::unit_transfer(
            "pas_u",
            1,
            1,
            "acc_r",
            "acc_p",
            fx::t(10),
        ))
        .await
        .expect("the first statement of a unit sold before v3");
    assert_eq!(
        store
            .unit("pas_u", 1)
            .await
            .expect("unit")
            .owner_id
            .as_deref(),
        Some("acc_p")
    );
    assert!(
        store
            .transfer_unit(&fx::unit_transfer(
                "pas_u",
                1,
                1,
                "acc_r",
                "acc_h",
                fx::t(11)
            ))
            .await
            .is_err(),
        "and only once"
    );
    store.close().await;
    let pool = raw_pool(&path).await;
    let broken: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(&pool)
        .await
        .expect("foreign_key_check");
    assert!(
        broken.is_empty(),
        "foreign keys broken by the rebuild: {broken:?}"
    );
    let refs: String =
        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = 'ledger_transactions'")
            .fetch_one(&pool)
            .await
            .expect("schema");
    assert!(refs.contains("REFERENCES orders(id)"), "{refs}");
    // New orders continue the sequence after the migrated ones.
    let seq: i64 = sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = 'orders'")
        .fetch_one(&pool)
        .await
        .expect("sequence");
    assert!(seq >= 1);
}
