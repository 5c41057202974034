//! `symbolon backup` and `symbolon restore`: an online backup under write load restores every
//! write acknowledged before it began, with a balanced ledger; and a restore checks the file
//! (header, size, integrity, schema version, master key) before it writes anything.

use super::{command, spawn_serve};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use symbolon_client::api::*;
use symbolon_client::Client;

/// A `symbolon serve` child, killed when dropped.
struct Serve(Child, String);

impl Serve {
    fn start(dir: &Path) -> Self {
        // No per-key rate limit: the writers go as fast as the server answers.
        let (child, url) = spawn_serve(dir, &["--rate-limit-per-second", "0"]);
        Self(child, url)
    }
    fn client(&self) -> Client {
        Client::new(&self.1).expect("client")
    }
    /// SIGTERM (graceful: the WAL is checkpointed), then wait.
    fn stop(mut self) {
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

use std::process::Command;

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Where a backup's master key goes: `FILE.master.key`.
fn key_of(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".master.key");
    PathBuf::from(name)
}

fn symbolon(args: Vec<std::ffi::OsString>) -> Output {
    command()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the CLI")
}

fn os(parts: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<std::ffi::OsString> {
    parts.iter().map(|p| p.as_ref().to_os_string()).collect()
}

#[track_caller]
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[track_caller]
fn refused(out: &Output, says: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "expected a refusal, got success: {err}"
    );
    for s in says {
        assert!(err.contains(s), "the error should say {s:?}: {err}");
    }
    err
}

fn backup(data_dir: &Path, to: &Path, extra: &[&str]) -> Output {
    let mut a = os(&[&"--json", &"backup", &"--data-dir", &data_dir, &"--to", &to]);
    a.extend(extra.iter().map(Into::into));
    symbolon(a)
}

fn restore(from: &Path, data_dir: &Path, extra: &[&str]) -> Output {
    let mut a = os(&[
        &"--json",
        &"restore",
        &"--from",
        &from,
        &"--data-dir",
        &data_dir,
    ]);
    a.extend(extra.iter().map(Into::into));
    symbolon(a)
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

/// Every file under `dir` with its bytes: to show a refused restore changed nothing.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

/// Creates an account: (id, API key, its client).
async fn account(anon: &Client, name: &str, role: Role) -> (String, String, Client) {
    let a = anon
        .create_account(&CreateAccount {
            name: name.into(),
            roles: vec![role],
            login: None,
        })
        .await
        .expect("create account");
    let c = anon.with_key(&a.api_key);
    (a.id, a.api_key, c)
}

/// A market where a demand for "backup widget" reaches two holders.
struct Market {
    pass_id: String,
    holders: Vec<(String, Client)>,
    /// The API keys of the provider and the holders.
    keys: Vec<String>,
}

async fn market(anon: &Client) -> Market {
    let (_, provider_key, provider) = account(anon, "Provider", Role::Provider).await;
    let mut keys = vec![provider_key];
    let product = provider
        .create_product(&CreateProduct {
            title: "Backup widget".into(),
            description: "A widget sold while backups run".into(),
            category: "tools/widgets".into(),
            specs: Default::default(),
            price: Money::new("10.00", "USD"),
            stock: 100_000,
            gtin: None,
        })
        .await
        .expect("product");
    let pass = provider
        .create_pass(&CreatePass {
            product_id: product.id.clone(),
            mode: PassMode::Shareable,
            units: None,
            commission_bps: 1000,
            valid_until: None,
        })
        .await
        .expect("pass");
    let mut holders = Vec::new();
    for name in ["Holder A", "Holder B"] {
        let (id, key, h) = account(anon, name, Role::Holder).await;
        keys.push(key);
        provider
            .grant(
                &pass.id,
                &CreateGrant {
                    holder_id: id.clone(),
                    units: None,
                },
            )
            .await
            .expect("grant");
        holders.push((id, h));
    }
    Market {
        pass_id: pass.id,
        holders,
        keys,
    }
}

async fn requester(anon: &Client, name: &str) -> (String, Client) {
    let (_, key, r) = account(anon, name, Role::Requester).await;
    r.set_requester_profile(&RequesterProfileUpdate {
        ship_to: Some(Address {
            name: "Rita R".into(),
            line1: "1 Main St".into(),
            line2: None,
            city: "Springfield".into(),
            postal_code: "12345".into(),
            country: "US".into(),
        }),
        payment_method: Some(PaymentMethodInput {
            kind: "sandbox_card".into(),
            number: "4242424242424242".into(),
        }),
    })
    .await
    .expect("profile");
    (key, r)
}

/// One purchase: a demand, the first holder's offer, accepted, ordered and paid in one click.
/// Returns the paid order's id once the server has acknowledged it.
async fn purchase(r: &Client, m: &Market, acks: &Mutex<Vec<Instant>>) -> String {
    let ack = || acks.lock().unwrap().push(Instant::now());
    let d = r
        .create_demand(&CreateDemand {
            query: "backup widget".into(),
            category: None,
            max_price: None,
            holder: Default::default(),
            min_holders: None,
            max_holders: None,
            ttl_seconds: None,
            wait: None,
        })
        .await
        .expect("demand");
    ack();
    let (holder_id, holder) = &m.holders[0];
    let interaction = d
        .contacted
        .iter()
        .find(|c| &c.holder_id == holder_id)
        .expect("the holder was contacted");
    let offer = holder
        .offer(
            &interaction.interaction_id,
            &CreateOffer {
                pass_id: m.pass_id.clone(),
                note: None,
            },
        )
        .await
        .expect("offer");
    ack();
    r.accept(&offer.id).await.expect("accept");
    ack();
    let o = r
        .create_order(&CreateOrder {
            offer_id: offer.id,
            quantity: 1,
            pay: true,
            ship_to: None,
        })
        .await
        .expect("order");
    ack();
    assert_eq!(o.status, "paid");
    o.id
}

/// The sum of every account's USD balance (zero when the ledger balances), in minor units.
async fn balance_sum(anon: &Client, keys: &[String]) -> i64 {
    let mut sum = 0;
    for k in keys {
        let b = anon.with_key(k).balance().await.expect("balance");
        if let Some(v) = b.balances.get("USD") {
            sum += symbolon_core::money::Money::parse(v, "USD")
                .expect("amount")
                .minor;
        }
    }
    sum
}

/// Ledger transactions whose entries do not sum to zero, in the database file `db`.
async fn unbalanced_transactions(db: &Path) -> i64 {
    use sqlx::{ConnectOptions, Connection};
    let mut c = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
        .expect("open");
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT transaction_id, currency FROM ledger_entries
         GROUP BY transaction_id, currency HAVING SUM(amount_minor) <> 0)",
    )
    .fetch_one(&mut c)
    .await
    .expect("ledger");
    c.close().await.expect("close");
    n
}

/// Purchases made before the backup begins (so that it has something to copy for a while).
const PURCHASES_BEFORE: usize = 150;

/// Writers buy continuously through a real server; `symbolon backup` runs beside it; the
/// backup, restored into a fresh directory and served, holds every purchase acknowledged before
/// the backup began, and its ledger balances.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_write_load_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let srv = Serve::start(&data);
    let anon = srv.client();
    let m = Arc::new(market(&anon).await);
    let mut keys = m.keys.clone();
    let mut requester_keys = Vec::new();
    let mut writers = Vec::new();
    // (order id, acknowledged at)
    let acked: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    // Every acknowledged write (demand, offer, accept, order): when.
    let writes: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    for i in 0..4 {
        let (key, r) = requester(&anon, &format!("Requester {i}")).await;
        keys.push(key.clone());
        requester_keys.push(key);
        let (m, acked, writes, stop) = (m.clone(), acked.clone(), writes.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let id = purchase(&r, &m, &writes).await;
                acked.lock().unwrap().push((id, Instant::now()));
            }
        }));
    }
    // Let the writers get going, then back up while they go on.
    let wait_for = |n: usize, writers: &[tokio::task::JoinHandle<()>]| {
        let acked = acked.clone();
        let stopped = writers.iter().any(|w| w.is_finished());
        async move {
            assert!(!stopped, "a writer failed");
            acked.lock().unwrap().len() >= n
        }
    };
    while !wait_for(PURCHASES_BEFORE, &writers).await {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let file = dir.path().join("backup.db");
    let begun = Instant::now();
    let before: Vec<String> = acked
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, t)| *t < begun)
        .map(|(id, _)| id.clone())
        .collect();
    let out = {
        let (data, file) = (data.clone(), file.clone());
        tokio::task::spawn_blocking(move || backup(&data, &file, &["--include-master-key"]))
            .await
            .expect("backup task")
    };
    let ended = Instant::now();
    let report: serde_json::Value = serde_json::from_str(&ok(&out)).expect("json");
    // Writes go on after the backup too.
    let after_backup = acked.lock().unwrap().len();
    while !wait_for(after_backup + 10, &writers).await {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.expect("writer");
    }
    let all = acked.lock().unwrap().clone();
    let during = all
        .iter()
        .filter(|(_, t)| *t >= begun && *t < ended)
        .count();
    let writes = writes.lock().unwrap().clone();
    let writes_before = writes.iter().filter(|t| **t < begun).count();
    let writes_during = writes
        .iter()
        .filter(|t| **t >= begun && **t < ended)
        .count();
    assert_eq!(
        balance_sum(&anon, &keys).await,
        0,
        "the live ledger balances"
    );
    srv.stop();

    // Restore into a fresh directory and serve it.
    let restored = dir.path().join("restored");
    let r = ok(&restore(&file, &restored, &[]));
    let r: serde_json::Value = serde_json::from_str(&r).expect("json");
    assert_eq!(r["master_key_restored"], true);
    let db = restored.join("symbolon.db");
    assert_eq!(unbalanced_transactions(&db).await, 0);
    let srv2 = Serve::start(&restored);
    let anon2 = srv2.client();
    // The requesters' orders, as the restored server has them.
    let mut present = std::collections::BTreeSet::new();
    for k in &requester_keys {
        let r = anon2.with_key(k);
        let mut after = None;
        loop {
            let page = r
                .orders(None, after.as_deref(), Some(100))
                .await
                .expect("orders");
            present.extend(page.items.iter().map(|o| o.id.clone()));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
    }
    let missing: Vec<&String> = before.iter().filter(|id| !present.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup, missing after restore: {missing:?}"
    );
    assert!(present.len() <= all.len(), "nothing invented");
    assert_eq!(
        balance_sum(&anon2, &keys).await,
        0,
        "the restored ledger balances"
    );
    eprintln!(
        "backup under load: before it began {} purchases ({} writes) acknowledged; while it ran \
         ({} ms) {} purchases ({} writes) acknowledged; {} purchases in all; {} in the restored \
         store; backup file {} bytes",
        before.len(),
        writes_before,
        ended.duration_since(begun).as_millis(),
        during,
        writes_during,
        all.len(),
        present.len(),
        report["bytes"]
    );
    drop(srv2);
}

/// Flips the bytes of the rows (the cell content area) of the table leaf page with rows nearest
/// the middle of `file`.
fn corrupt_middle_page(file: &Path) {
    let mut bytes = std::fs::read(file).expect("read");
    let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    let pages = bytes.len() / page;
    let at =
        |p: usize, i: usize| u16::from_be_bytes([bytes[p * page + i], bytes[p * page + i + 1]]);
    // 0x0D: a table b-tree leaf page; bytes 3–4: its cell count; 5–6: where its cells start.
    // (Page 1 starts with the file header: skipped.)
    let leaf = (pages / 2..pages)
        .chain(1..pages / 2)
        .find(|p| bytes[p * page] == 0x0D && at(*p, 3) > 0)
        .expect("a table leaf page with rows");
    let start = leaf * page + at(leaf, 5) as usize;
    for b in &mut bytes[start..(leaf + 1) * page] {
        *b ^= 0x5A;
    }
    std::fs::write(file, bytes).expect("write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_bad_backup_and_leaves_the_directory_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let srv = Serve::start(&data);
    let m = market(&srv.client()).await;
    let (_, r) = requester(&srv.client(), "Requester").await;
    purchase(&r, &m, &Mutex::default()).await;
    let good = dir.path().join("good.db");
    // Backups are online: the server is still running.
    let out = ok(&backup(&data, &good, &[]));
    assert!(out.contains("\"schema_version\""), "{out}");
    srv.stop();
    #[cfg(unix)]
    assert_eq!(mode(&good), 0o600);
    assert!(!key_of(&good).exists(), "no key unless asked");

    // An existing backup file is replaced only with --force.
    refused(&backup(&data, &good, &[]), &["exists", "--force"]);
    ok(&backup(&data, &good, &["--force", "--include-master-key"]));
    let key = key_of(&good);
    #[cfg(unix)]
    assert_eq!(mode(&key), 0o600);
    assert_eq!(
        std::fs::read_to_string(&key).expect("key"),
        std::fs::read_to_string(data.join("master.key")).expect("data dir key")
    );
    // PostgreSQL stores are pg_dump's job.
    refused(
        &symbolon(os(&[
            &"backup",
            &"--database-url",
            &"postgres://nobody@127.0.0.1:1/none",
            &"--to",
            &dir.path().join("pg.db"),
        ])),
        &["pg_dump"],
    );
    refused(
        &backup(&dir.path().join("nothing"), &dir.path().join("n.db"), &[]),
        &["no database"],
    );

    // A directory with a database: the target every bad file must leave as it is.
    let target = dir.path().join("target");
    ok(&restore(&good, &target, &[]));
    let before = snapshot(&target);
    refused(
        &restore(&good, &target, &[]),
        &["already holds a database", "--force"],
    );

    let bad = |name: &str, make: &dyn Fn(&Path)| {
        let p = dir.path().join(name);
        std::fs::copy(&good, &p).expect("copy");
        std::fs::copy(key_of(&good), key_of(&p)).expect("copy key");
        make(&p);
        p
    };
    let corrupt = bad("corrupt.db", &corrupt_middle_page);
    let truncated = bad("truncated.db", &|p| {
        let len = std::fs::metadata(p).expect("len").len();
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(p)
            .expect("open");
        f.set_len(len / 2 + 100).expect("truncate");
    });
    let not_sqlite = bad("text.db", &|p| std::fs::write(p, "hello, world\n").unwrap());
    let newer = bad("newer.db", &|_| {});
    {
        use sqlx::{ConnectOptions, Connection};
        let mut c = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&newer)
            .connect()
            .await
            .expect("open");
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
             execution_time) VALUES (9999, 'from the future', 1, X'00', 0)",
        )
        .execute(&mut c)
        .await
        .expect("a migration from the future");
        c.close().await.expect("close");
    }
    let wrong_key = bad("wrong-key.db", &|p| {
        std::fs::write(key_of(p), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap()
    });
    let cases: [(&Path, &[&str]); 5] = [
        (&corrupt, &["corrupt"]),
        (&truncated, &["truncated"]),
        (&not_sqlite, &["not a SQLite database"]),
        (&newer, &["9999", "newer", "downgrade is refused"]),
        (&wrong_key, &["master key", "does not open"]),
    ];
    for (file, says) in cases {
        let err = refused(&restore(file, &target, &["--force"]), says);
        assert!(
            err.contains(&file.display().to_string()) || says[0] == "master key",
            "{err}"
        );
        assert_eq!(
            snapshot(&target),
            before,
            "{} changed the directory",
            file.display()
        );
        let fresh = dir.path().join("fresh");
        refused(&restore(file, &fresh, &[]), says);
        assert!(!fresh.exists(), "{} created the directory", file.display());
    }

    // --force replaces the database and keeps the old files aside.
    let out = ok(&restore(&good, &target, &["--force"]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let aside = PathBuf::from(v["replaced"].as_str().expect("old files kept"));
    assert!(aside.join("symbolon.db").is_file());
    assert!(aside.join("master.key").is_file());
    #[cfg(unix)]
    {
        assert_eq!(mode(&target.join("symbolon.db")), 0o600);
        assert_eq!(mode(&target.join("master.key")), 0o600);
    }
    // And the restored directory serves.
    let srv = Serve::start(&target);
    assert!(srv.client().health().await.is_ok());
    // Not under a running server, even with --force.
    let db = std::fs::read(target.join("symbolon.db")).expect("db");
    refused(
        &restore(&good, &target, &["--force"]),
        &["a server is running on", "stop it first"],
    );
    assert_eq!(std::fs::read(target.join("symbolon.db")).expect("db"), db);
    srv.stop();
}
