//! Upgrades and PostgreSQL backups.
//!
//! * `crates/server/tests/fixtures/upgrade/v<N>/` holds databases made by the release whose
//!   newest migration is `N` (one directory per released schema version, kept for good): a
//!   SQLite file, a plain `pg_dump`, the test-only master key they were sealed with, and a
//!   manifest of what the story put in them (ids and API keys). Each is opened with this
//!   binary (migrations run), checked, and a new purchase is made on top, on both backends.
//!   `generate_upgrade_fixtures` (ignored; run it by hand, see the fixtures' README) makes the
//!   directory for this binary's schema version.
//! * A fixture with a migration this binary does not know is refused (downgrade).
//! * A PostgreSQL store survives `pg_dump -Fc` and `pg_restore` into a fresh database.

use crate::harness::*;
use crate::on_both_backends;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use symbolon_client::api::*;
use symbolon_client::Client;
use symbolon_core::SystemClock;
use symbolon_server::ServerConfig;

/// The master key the fixtures are sealed with. TEST ONLY: it is public, in this repository.
const FIXTURE_MASTER_KEY: &str = "c3ltYm9sb24tdGVzdC1maXh0dXJlLW1hc3Rlci1rZXk";

/// The seed of the fixture servers' ids.
const FIXTURE_SEED: u64 = 2317;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade")
}

/// `v<N>` directories, oldest first.
fn fixture_versions() -> Vec<(i64, PathBuf)> {
    let mut out: Vec<(i64, PathBuf)> = std::fs::read_dir(fixtures_dir())
        .expect("the upgrade fixtures directory")
        .filter_map(|e| {
            let p = e.ok()?.path();
            let v = p.file_name()?.to_str()?.strip_prefix('v')?.parse().ok()?;
            Some((v, p))
        })
        .collect();
    out.sort();
    out
}

/// An account the story made.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Party {
    id: String,
    api_key: String,
}

/// What the story put in one database.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Made {
    /// provider, holder_a, holder_b, requester.
    accounts: BTreeMap<String, Party>,
    product_id: String,
    pass_id: String,
    unique_pass_id: String,
    /// Delivered and rated.
    delivered_order_id: String,
    /// Paid, not shipped: a unique pass's unit went with it.
    paid_order_id: String,
    /// Each account's USD ledger balance after the story.
    balances: BTreeMap<String, Option<String>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    schema_version: i64,
    made_by: String,
    note: String,
    sqlite: Made,
    postgres: Made,
}

fn read_manifest(dir: &Path) -> Manifest {
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("a manifest")
}

fn client(srv: &TestServer, p: &Party) -> Client {
    srv.anon().with_key(&p.api_key)
}

/// The story a fixture holds: a market, a delivered and rated purchase through a shareable
/// pass, and a paid purchase of a unique pass's unit.
async fn fixture_story(srv: &TestServer) -> Made {
    let mut accounts = BTreeMap::new();
    let make = |name: &'static str, role: Role| {
        let anon = srv.anon();
        async move {
            let a = anon
                .create_account(&CreateAccount {
                    name: name.into(),
                    roles: vec![role],
                    login: None,
                })
                .await
                .expect("account");
            Party {
                id: a.id,
                api_key: a.api_key,
            }
        }
    };
    for (k, name, role) in [
        ("provider", "Fixture Audio", Role::Provider),
        ("holder_a", "Fixture Holder A", Role::Holder),
        ("holder_b", "Fixture Holder B", Role::Holder),
        ("requester", "Fixture Requester", Role::Requester),
    ] {
        accounts.insert(k.to_string(), make(name, role).await);
    }
    let provider = client(srv, &accounts["provider"]);
    let requester = client(srv, &accounts["requester"]);
    let holders = [
        client(srv, &accounts["holder_a"]),
        client(srv, &accounts["holder_b"]),
    ];
    let hp = provider
        .create_product(&product(
            "Studio headphones",
            "electronics/audio/headphones",
            "150.00",
            20,
        ))
        .await
        .expect("product");
    let pass = provider
        .create_pass(&shareable(&hp.id, 1000))
        .await
        .expect("pass");
    let amp = provider
        .create_product(&product(
            "Valve headphone amplifier",
            "electronics/audio/amplifiers",
            "300.00",
            3,
        ))
        .await
        .expect("product");
    let unique_pass = provider
        .create_pass(&unique(&amp.id, 2, 500))
        .await
        .expect("unique pass");
    for k in ["holder_a", "holder_b"] {
        let id = &accounts[k].id;
        provider.grant(&pass.id, &grant(id)).await.expect("grant");
        provider
            .grant(
                &unique_pass.id,
                &CreateGrant {
                    holder_id: id.clone(),
                    units: Some(1),
                },
            )
            .await
            .expect("grant a unit");
    }
    for h in &holders {
        h.set_holder_profile(&fields(&["electronics/audio"]))
            .await
            .expect("fields");
    }
    let buy_from_a = |query: &'static str, pass_id: String| {
        let (requester, holder, holder_id) = (
            requester.clone(),
            holders[0].clone(),
            accounts["holder_a"].id.clone(),
        );
        async move {
            let d = requester
                .create_demand(&demand(query))
                .await
                .expect("demand");
            assert_eq!(d.contacted.len(), 2, "both holders qualify");
            let i = d
                .contacted
                .iter()
                .find(|c| c.holder_id == holder_id)
                .expect("holder A contacted");
            let offer = holder
                .offer(
                    &i.interaction_id,
                    &CreateOffer {
                        pass_id,
                        note: Some("in stock".into()),
                    },
                )
                .await
                .expect("offer");
            let order = buy(&requester, &offer.id).await;
            (offer.id, order.id)
        }
    };
    let (offer_id, delivered) = buy_from_a("studio headphones", pass.id.clone()).await;
    deliver(&provider, &requester, &delivered).await;
    requester
        .rate(
            &offer_id,
            &CreateRating {
                positive: true,
                comment: Some("as described".into()),
            },
        )
        .await
        .expect("rate");
    let (_, paid) = buy_from_a("valve headphone amplifier", unique_pass.id.clone()).await;
    let mut balances = BTreeMap::new();
    for (k, p) in &accounts {
        balances.insert(k.clone(), balance_of(&client(srv, p)).await);
    }
    Made {
        accounts,
        product_id: hp.id,
        pass_id: pass.id,
        unique_pass_id: unique_pass.id,
        delivered_order_id: delivered,
        paid_order_id: paid,
        balances,
    }
}

/// Ledger transactions whose entries do not sum to zero per currency.
const UNBALANCED: &str = "SELECT COUNT(*) FROM (SELECT transaction_id, currency FROM ledger_entries
     GROUP BY transaction_id, currency HAVING SUM(amount_minor) <> 0) AS t";

/// The USD balances of `made`'s accounts summed, in minor units (zero when the ledger balances).
async fn balance_sum(srv: &TestServer, made: &Made) -> i64 {
    let mut sum = 0;
    for p in made.accounts.values() {
        if let Some(v) = balance_of(&client(srv, p)).await {
            sum += symbolon_core::money::Money::parse(&v, "USD")
                .expect("amount")
                .minor;
        }
    }
    sum
}

/// What the story left is there, and a new purchase on top works end to end.
async fn check_and_continue(srv: &TestServer, made: &Made) {
    let provider = client(srv, &made.accounts["provider"]);
    let requester = client(srv, &made.accounts["requester"]);
    for (k, p) in &made.accounts {
        let me = client(srv, p)
            .whoami()
            .await
            .expect("the API key still works");
        assert_eq!(&me.id, &p.id, "{k}");
        assert_eq!(
            balance_of(&client(srv, p)).await,
            made.balances[k],
            "{k}'s balance"
        );
    }
    assert_eq!(
        requester
            .order(&made.delivered_order_id)
            .await
            .expect("order")
            .status,
        "delivered"
    );
    let paid = requester.order(&made.paid_order_id).await.expect("order");
    assert_eq!(paid.status, "paid");
    assert!(paid.unit_no.is_some(), "a unit went with it");
    assert_eq!(srv.count_sql(UNBALANCED).await, 0);
    assert_eq!(balance_sum(srv, made).await, 0);
    assert_eq!(
        provider
            .product(&made.product_id)
            .await
            .expect("product")
            .stock,
        19
    );

    // On top: a new demand, an offer, a one-click order, shipped and delivered.
    let d = requester
        .create_demand(&demand("studio headphones"))
        .await
        .expect("demand");
    assert_eq!(d.contacted.len(), 2, "both holders still qualify");
    let holder_b = client(srv, &made.accounts["holder_b"]);
    let i = d
        .contacted
        .iter()
        .find(|c| c.holder_id == made.accounts["holder_b"].id)
        .expect("holder B contacted");
    let offer = holder_b
        .offer(
            &i.interaction_id,
            &CreateOffer {
                pass_id: made.pass_id.clone(),
                note: None,
            },
        )
        .await
        .expect("offer");
    let o = buy(&requester, &offer.id).await;
    deliver(&provider, &requester, &o.id).await;
    // The provider's sealed signing key opens with the fixture's master key: a new pass signs.
    let p = provider
        .create_pass(&shareable(&made.product_id, 800))
        .await
        .expect("a new pass is signed");
    assert_eq!(p.jws.split('.').count(), 3);
    assert_eq!(srv.count_sql(UNBALANCED).await, 0);
    assert_eq!(balance_sum(srv, made).await, 0);
    assert_ne!(
        balance_of(&holder_b).await,
        made.balances["holder_b"],
        "holder B earned a commission"
    );
}

/// A server on a copy of fixture `dir` for `backend`; for PostgreSQL, its database too.
async fn open_fixture(
    backend: Backend,
    dir: &Path,
    data: &Path,
    tweak: impl FnOnce(&Path),
) -> (TestServer, Option<PgDb>) {
    std::fs::copy(dir.join("master.key"), data.join("master.key")).expect("copy the key");
    let mut config = ServerConfig {
        data_dir: data.to_path_buf(),
        ..Default::default()
    };
    let pg = match backend {
        Backend::Sqlite => {
            std::fs::copy(dir.join("symbolon.db"), data.join("symbolon.db")).expect("copy");
            tweak(&data.join("symbolon.db"));
            None
        }
        Backend::Postgres => {
            let db = PgDb::create().await;
            psql_file(&db.url, &dir.join("postgres.sql"));
            tweak(Path::new(&db.url));
            config.database_url = Some(db.url.clone());
            Some(db)
        }
    };
    (
        TestServer::start_with(config, Arc::new(SystemClock)).await,
        pg,
    )
}

fn psql_file(url: &str, file: &Path) {
    let out = Command::new("psql")
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-X", "-d", url, "-f"])
        .arg(file)
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql -f {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn upgrade_fixtures_migrate_and_serve(backend: Backend) {
    let versions = fixture_versions();
    assert!(!versions.is_empty(), "no upgrade fixtures");
    let known = symbolon_store_sqlite::known_schema_version();
    assert!(
        versions.iter().any(|(v, _)| *v == known),
        "no fixture for this binary's schema version v{known}: run generate_upgrade_fixtures"
    );
    for (version, dir) in versions {
        let manifest = read_manifest(&dir);
        assert_eq!(manifest.schema_version, version);
        let made = match backend {
            Backend::Sqlite => &manifest.sqlite,
            Backend::Postgres => &manifest.postgres,
        };
        let data = tempfile::tempdir().expect("temp dir");
        let (srv, pg) = open_fixture(backend, &dir, data.path(), |_| {}).await;
        srv.anon()
            .health()
            .await
            .unwrap_or_else(|e| panic!("fixture v{version} does not serve: {e}"));
        // Migrated to this binary's schema.
        assert_eq!(
            srv.count_sql("SELECT MAX(version) FROM _sqlx_migrations")
                .await,
            known,
            "v{version} migrated"
        );
        check_and_continue(&srv, made).await;
        srv.stop().await;
        if let Some(pg) = pg {
            pg.drop_db().await;
        }
    }
}

async fn a_fixture_from_a_newer_schema_is_refused(backend: Backend) {
    let (_, dir) = fixture_versions().pop().expect("a fixture");
    let data = tempfile::tempdir().expect("temp dir");
    let newer =
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
                 VALUES (9999, 'from a newer Symbolon', true, '\\x00', 0)";
    let (url, pg) = match backend {
        Backend::Sqlite => {
            let db = data.path().join("symbolon.db");
            std::fs::copy(dir.join("symbolon.db"), &db).expect("copy");
            let url = format!("sqlite://{}", db.display());
            let newer = newer.replace("'\\x00'", "X'00'");
            run_sql(&url, &newer).await;
            (url, None)
        }
        Backend::Postgres => {
            let db = PgDb::create().await;
            psql_file(&db.url, &dir.join("postgres.sql"));
            run_sql(&db.url, newer).await;
            (db.url.clone(), Some(db))
        }
    };
    let config = ServerConfig {
        data_dir: data.path().to_path_buf(),
        database_url: Some(url),
        ..Default::default()
    };
    match symbolon_server::open_store(&config).await {
        Err(e) => {
            let mut msg = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                msg.push_str(&format!(": {s}"));
                source = s.source();
            }
            assert!(msg.contains("9999") && msg.contains("newer"), "{msg}");
        }
        Ok(_) => panic!("a database from a newer schema opened"),
    }
    if let Some(pg) = pg {
        pg.drop_db().await;
    }
}

async fn run_sql(url: &str, sql: &str) {
    use sqlx::Connection;
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query(sql).execute(&mut c).await.expect(sql);
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::query(sql).execute(&mut c).await.expect(sql);
    }
}

on_both_backends!(
    upgrade_fixtures_migrate_and_serve,
    a_fixture_from_a_newer_schema_is_refused
);

/// `pg_dump -Fc` of a store with a story in it, `pg_restore` into a fresh database, a server on
/// that: every account, order and balance is there and a new purchase works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_dump_and_restore_round_trip() {
    if postgres_admin_url().is_none() {
        say_skipped("upgrade::postgres_dump_and_restore_round_trip");
        return;
    }
    let srv = TestServer::configured(Backend::Postgres, Arc::new(SystemClock), |c| {
        c.master_key = Some(FIXTURE_MASTER_KEY.into());
    })
    .await;
    let made = fixture_story(&srv).await;
    let dump = tempfile::tempdir().expect("temp dir");
    let file = dump.path().join("symbolon.dump");
    // Online: the server is still running.
    let url = srv.config().database_url.clone().expect("a PostgreSQL url");
    let out = Command::new("pg_dump")
        .args(["-Fc", "-d", &url, "-f"])
        .arg(&file)
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    srv.stop().await;

    let fresh = PgDb::create().await;
    let out = Command::new("pg_restore")
        .args([
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "-d",
            &fresh.url,
        ])
        .arg(&file)
        .output()
        .expect("run pg_restore");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = tempfile::tempdir().expect("temp dir");
    let srv = TestServer::start_with(
        ServerConfig {
            data_dir: data.path().to_path_buf(),
            database_url: Some(fresh.url.clone()),
            master_key: Some(FIXTURE_MASTER_KEY.into()),
            ..Default::default()
        },
        Arc::new(SystemClock),
    )
    .await;
    check_and_continue(&srv, &made).await;
    srv.stop().await;
    fresh.drop_db().await;
}

/// Writes `tests/fixtures/upgrade/v<this binary's schema version>/`: run by hand (with
/// PostgreSQL) when a release adds a migration, and commit the directory:
///
/// `SYMBOLON_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo test -p
/// symbolon-server --test it upgrade::generate_upgrade_fixtures -- --ignored`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes the upgrade fixtures into the source tree; run by hand"]
async fn generate_upgrade_fixtures() {
    assert!(
        postgres_admin_url().is_some(),
        "the PostgreSQL fixture needs SYMBOLON_TEST_POSTGRES_URL"
    );
    let version = symbolon_store_sqlite::known_schema_version();
    let dir = fixtures_dir().join(format!("v{version}"));
    std::fs::create_dir_all(&dir).expect("fixture dir");
    let configure = |c: &mut ServerConfig| {
        c.master_key = Some(FIXTURE_MASTER_KEY.into());
        c.seed = Some(FIXTURE_SEED);
    };

    let srv = TestServer::configured(Backend::Sqlite, manual_clock(), configure).await;
    let sqlite = fixture_story(&srv).await;
    let tmp = srv.stop().await.expect("its data dir");
    let db = dir.join("symbolon.db");
    let _ = std::fs::remove_file(&db);
    symbolon_store_sqlite::backup::backup_database(&tmp.path().join("symbolon.db"), &db)
        .await
        .expect("a compact copy");
    // Smaller pages: most of the file is the empty tables and indexes of a small story.
    run_sql(
        &format!("sqlite://{}", db.display()),
        "PRAGMA page_size = 1024; VACUUM",
    )
    .await;

    let srv = TestServer::configured(Backend::Postgres, manual_clock(), configure).await;
    let postgres = fixture_story(&srv).await;
    let url = srv.config().database_url.clone().expect("url");
    let out = Command::new("pg_dump")
        .args(["--no-owner", "--no-privileges", "-d", &url, "-f"])
        .arg(dir.join("postgres.sql"))
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    srv.stop().await;

    std::fs::write(dir.join("master.key"), FIXTURE_MASTER_KEY).expect("key");
    let manifest = Manifest {
        schema_version: version,
        made_by: format!("symbolon {}", env!("CARGO_PKG_VERSION")),
        note: "TEST FIXTURE: the master key and API keys here are public; never use them.".into(),
        sqlite,
        postgres,
    };
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest).expect("json") + "\n",
    )
    .expect("manifest");
}
