//! The crash test: the real `symbolon serve` binary under scripted load from
//! several clients (demands, offers, accepts, one-click orders, shipping,
//! confirmed deliveries, ratings, each
//! retried with its own `Idempotency-Key` until it gets an answer), killed
//! with SIGKILL at seeded random moments and restarted, at least 20 times.
//! Then an audit against the database itself:
//!
//! * every request that got a 2xx is in the store, and exactly once (no
//!   demand, offer, order, payment or rating more than the clients made);
//! * no offer ordered twice, no order paid twice, the ledger sums to zero;
//! * every unit of the unique pass has one owner, the end of its transfer chain;
//! * every event in the outbox reached its account's stream (resumed with
//!   `Last-Event-ID` across the restarts) and its webhook, at least once.
//!
//! `SYMBOLON_CRASH_SEED` replays a run (the seed is printed);
//! `SYMBOLON_CRASH_KILLS` sets the number of kills (default 20).

use super::command;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use symbolon_client::api::*;
use symbolon_client::{Client, ClientError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DEFAULT_SEED: u64 = 20_261_129;
const DEFAULT_KILLS: usize = 20;
/// One logical operation gives up (and fails the test) after this long.
const OP_DEADLINE: Duration = Duration::from_secs(90);

struct Server {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    database_url: Option<String>,
}

impl Server {
    fn args(&self) -> Vec<String> {
        let mut a = vec![
            "serve".to_string(),
            "--listen".into(),
            format!("127.0.0.1:{}", self.port),
            "--data-dir".into(),
            self.dir.display().to_string(),
            "--allow-private-webhooks".into(),
            "--webhook-retry-schedule".into(),
            "100ms,300ms,1s".into(),
            // Every requester ships through the one provider key and holders
            // poll their inboxes: the load may pass the default 100
            // requests/s per key, and a 429 is not what this test is about.
            "--rate-limit-per-second".into(),
            "100000".into(),
            "--rate-limit-burst".into(),
            "100000".into(),
        ];
        if let Some(db) = &self.database_url {
            a.push("--database-url".into());
            a.push(db.clone());
        }
        a
    }

    /// Starts the binary and waits for its `listening on` line.
    fn spawn(&mut self) {
        for _ in 0..50 {
            let mut child = command()
                .args(self.args())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("start the server");
            let mut line = String::new();
            let _ = BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
            if line.starts_with("listening on ") {
                self.child = Some(child);
                return;
            }
            // The port may not be free yet: try again.
            let _ = child.kill();
            let _ = child.wait();
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the server did not start");
    }

    /// SIGKILL: no shutdown, no flush, whatever was in flight is cut off.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Default)]
struct Stats {
    http_attempts: AtomicU64,
    retries: AtomicU64,
    ops: AtomicU64,
}

/// What the clients were told succeeded (2xx), by kind.
#[derive(Default)]
struct Ledger {
    demands: BTreeSet<String>,
    offers: BTreeSet<String>,
    accepted: BTreeSet<String>,
    orders: BTreeMap<String, String>,
    rated: BTreeSet<String>,
    /// Operations a retry found already done (a 409 naming that state).
    already: u64,
}

fn retryable(e: &ClientError) -> bool {
    match e {
        ClientError::Transport(_) => true,
        ClientError::Api { status, code, .. } => *status >= 500 || code == "idempotency_error",
        ClientError::Decode { status, .. } => *status >= 500,
        ClientError::BadUrl(_) => false,
    }
}

/// Runs one logical operation with one idempotency key until it gets an
/// answer that is not "try again".
async fn op<T, F, Fut>(c: &Client, rng_key: String, stats: &Stats, f: F) -> Result<T, ClientError>
where
    F: Fn(Client) -> Fut,
    Fut: std::future::Future<Output = Result<T, ClientError>>,
{
    let pinned = c.with_idempotency_key(&rng_key);
    let started = Instant::now();
    stats.ops.fetch_add(1, Ordering::Relaxed);
    loop {
        stats.http_attempts.fetch_add(1, Ordering::Relaxed);
        match f(pinned.clone()).await {
            Err(e) if retryable(&e) => {
                assert!(
                    started.elapsed() < OP_DEADLINE,
                    "an operation never got an answer: {e}"
                );
                stats.retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
}

/// A GET retried across restarts.
async fn get<T, F, Fut>(f: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, ClientError>>,
{
    let started = Instant::now();
    loop {
        match f().await {
            Ok(v) => return v,
            Err(e) if retryable(&e) && started.elapsed() < OP_DEADLINE => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("GET failed: {e}"),
        }
    }
}

fn key(rng: &Mutex<StdRng>) -> String {
    let n: u128 = rng.lock().unwrap().random();
    format!("{n:032x}")
}

// ---------------------------------------------------------------- webhook receiver

/// A minimal HTTP receiver (one request per connection): records each
/// webhook's id per account after checking its signature; answers 500 to a
/// seeded tenth of the requests so that retries happen too.
async fn receiver(
    secrets: Arc<Mutex<HashMap<String, String>>>,
    got: Arc<Mutex<HashMap<String, BTreeSet<String>>>>,
    seed: u64,
) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let rng = Arc::new(Mutex::new(StdRng::seed_from_u64(seed ^ 0x5eed)));
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                continue;
            };
            let (secrets, got, rng) = (secrets.clone(), got.clone(), rng.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                let (head_end, length) = loop {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_string();
                        let len = head
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        break (i + 4, len);
                    }
                };
                while buf.len() < head_end + length {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let body = &buf[head_end..head_end + length];
                let path = head.split(' ').nth(1).unwrap_or("").to_string();
                let header = |name: &str| {
                    head.lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                        })
                        .unwrap_or_default()
                };
                let account = path.trim_start_matches("/hook/").to_string();
                let secret = secrets.lock().unwrap().get(&account).cloned();
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64;
                let valid = secret.is_some_and(|s| {
                    symbolon_core::webhook::verify(
                        &s,
                        &header("webhook-id"),
                        &header("webhook-timestamp"),
                        &header("webhook-signature"),
                        body,
                        now,
                        300,
                    )
                    .is_ok()
                });
                let fail = rng.lock().unwrap().random_ratio(1, 10);
                let status = if !valid {
                    "401 Unauthorized"
                } else if fail {
                    "500 Internal Server Error"
                } else {
                    got.lock()
                        .unwrap()
                        .entry(account)
                        .or_default()
                        .insert(header("webhook-id"));
                    "200 OK"
                };
                let resp =
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    port
}

// ---------------------------------------------------------------- the run

struct Party {
    id: String,
    client: Client,
}

async fn account(anon: &Client, name: &str, role: Role) -> Party {
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
        client: anon.with_key(&a.api_key),
    }
}

fn address() -> Address {
    Address {
        name: "R".into(),
        line1: "1 Main St".into(),
        line2: None,
        city: "Springfield".into(),
        postal_code: "12345".into(),
        country: "US".into(),
    }
}

async fn crash_and_audit(database_url: Option<String>, backend: &str) {
    let seed = std::env::var("SYMBOLON_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let kills = std::env::var("SYMBOLON_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_KILLS)
        .max(1);
    eprintln!("crash test ({backend}): seed {seed} (replay with SYMBOLON_CRASH_SEED={seed}), {kills} kills");
    let rng = Arc::new(Mutex::new(StdRng::seed_from_u64(seed)));
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Server {
        child: None,
        port,
        dir: dir.path().to_path_buf(),
        database_url: database_url.clone(),
    };
    server.spawn();
    let anon = Client::new(&format!("http://127.0.0.1:{port}")).unwrap();

    // The market, made while the server is steady.
    let provider = account(&anon, "Maker", Role::Provider).await;
    let mut holders = Vec::new();
    for i in 0..3 {
        holders.push(account(&anon, &format!("Holder {i}"), Role::Holder).await);
    }
    let mut requesters = Vec::new();
    for i in 0..3 {
        requesters.push(account(&anon, &format!("Requester {i}"), Role::Requester).await);
    }
    let p = &provider.client;
    let grinder = p
        .create_product(&CreateProduct {
            title: "Burr coffee grinder".into(),
            description: "Conical burrs, 40 settings".into(),
            category: "home/kitchen".into(),
            specs: Default::default(),
            price: Money::new("89.00", "USD"),
            stock: 100_000,
            gtin: None,
        })
        .await
        .unwrap();
    let camera = p
        .create_product(&CreateProduct {
            title: "Instant film camera".into(),
            description: "Prints in 90 seconds".into(),
            category: "electronics/cameras".into(),
            specs: Default::default(),
            price: Money::new("119.00", "USD"),
            stock: 100_000,
            gtin: None,
        })
        .await
        .unwrap();
    let shareable = p
        .create_pass(&CreatePass {
            product_id: grinder.id.clone(),
            mode: PassMode::Shareable,
            units: None,
            commission_bps: 500,
            valid_until: None,
        })
        .await
        .unwrap();
    let unique = p
        .create_pass(&CreatePass {
            product_id: camera.id.clone(),
            mode: PassMode::Unique,
            units: Some(600),
            commission_bps: 800,
            valid_until: None,
        })
        .await
        .unwrap();
    for h in &holders {
        p.grant(
            &shareable.id,
            &CreateGrant {
                holder_id: h.id.clone(),
                units: None,
            },
        )
        .await
        .unwrap();
        p.grant(
            &unique.id,
            &CreateGrant {
                holder_id: h.id.clone(),
                units: Some(200),
            },
        )
        .await
        .unwrap();
        h.client
            .set_holder_profile(&HolderProfileUpdate {
                fields: vec!["home".into(), "electronics".into()],
            })
            .await
            .unwrap();
    }
    for r in &requesters {
        r.client
            .set_requester_profile(&RequesterProfileUpdate {
                ship_to: Some(address()),
                payment_method: Some(PaymentMethodInput {
                    kind: "sandbox_card".into(),
                    number: "4242424242424242".into(),
                }),
            })
            .await
            .unwrap();
    }

    // Every party has a webhook and a stream.
    let secrets: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let hooked: Arc<Mutex<HashMap<String, BTreeSet<String>>>> = Arc::default();
    let rport = receiver(secrets.clone(), hooked.clone(), seed).await;
    let parties: Vec<(String, Client)> = std::iter::once(&provider)
        .chain(&holders)
        .chain(&requesters)
        .map(|p| (p.id.clone(), p.client.clone()))
        .collect();
    for (id, c) in &parties {
        let w = c
            .create_webhook(&format!("http://127.0.0.1:{rport}/hook/{id}"))
            .await
            .unwrap();
        secrets
            .lock()
            .unwrap()
            .insert(id.clone(), w.secret.unwrap());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let followers_stop = Arc::new(AtomicBool::new(false));
    let streamed: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
    let reconnects = Arc::new(AtomicU64::new(0));
    let mut followers = Vec::new();
    for (id, c) in &parties {
        let (id, c, stop, streamed, reconnects) = (
            id.clone(),
            c.clone(),
            followers_stop.clone(),
            streamed.clone(),
            reconnects.clone(),
        );
        followers.push(tokio::spawn(async move {
            let mut last: Option<String> = None;
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut s) = c.event_stream(last.as_deref()).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                loop {
                    let next = tokio::time::timeout(Duration::from_millis(500), s.next()).await;
                    match next {
                        Ok(Ok(Some(e))) => {
                            last = Some(e.id.clone());
                            streamed
                                .lock()
                                .unwrap()
                                .entry(id.clone())
                                .or_default()
                                .push(e.id);
                        }
                        Ok(_) => break, // the server went away: resume after `last`
                        Err(_) if stop.load(Ordering::Relaxed) => return,
                        Err(_) => {}
                    }
                }
                reconnects.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    // The load.
    let stats = Arc::new(Stats::default());
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut load = Vec::new();
    for h in &holders {
        let (c, stop, stats, ledger, rng) = (
            h.client.clone(),
            stop.clone(),
            stats.clone(),
            ledger.clone(),
            rng.clone(),
        );
        load.push(tokio::spawn(async move {
            let mut answered = BTreeSet::new();
            while !stop.load(Ordering::Relaxed) {
                let inbox = get(|| c.inbox(None, Some(200))).await;
                for item in inbox.items {
                    if item.status != "pending" || !answered.insert(item.id.clone()) {
                        continue;
                    }
                    let pass_id = item.matched_pass_ids[0].clone();
                    let r = op(&c, key(&rng), &stats, |c| {
                        let (id, pass_id) = (item.id.clone(), pass_id.clone());
                        async move {
                            c.offer(
                                &id,
                                &CreateOffer {
                                    pass_id,
                                    note: None,
                                },
                            )
                            .await
                        }
                    })
                    .await;
                    match r {
                        Ok(o) => {
                            ledger.lock().unwrap().offers.insert(o.id);
                        }
                        Err(e) if e.code() == Some("interaction_closed") => {}
                        Err(e) => panic!("offer: {e}"),
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }
    for (n, r) in requesters.iter().enumerate() {
        let (c, pc, stop, stats, ledger, rng) = (
            r.client.clone(),
            provider.client.clone(),
            stop.clone(),
            stats.clone(),
            ledger.clone(),
            rng.clone(),
        );
        load.push(tokio::spawn(async move {
            let mut round = n;
            while !stop.load(Ordering::Relaxed) {
                round += 1;
                let query = if round % 2 == 0 {
                    "coffee grinder"
                } else {
                    "instant camera"
                };
                let d = op(&c, key(&rng), &stats, |c| async move {
                    c.create_demand(&CreateDemand {
                        query: query.into(),
                        category: None,
                        max_price: None,
                        holder: HolderCriteria::default(),
                        min_holders: Some(2),
                        max_holders: Some(3),
                        ttl_seconds: Some(120),
                        wait: None,
                    })
                    .await
                })
                .await
                .expect("demand");
                ledger.lock().unwrap().demands.insert(d.id.clone());
                // The first offer to arrive.
                let started = Instant::now();
                let offer = loop {
                    let view = get(|| c.demand(&d.id)).await;
                    if let Some(o) = view.offers.first() {
                        break Some(o.clone());
                    }
                    if started.elapsed() > Duration::from_secs(60) {
                        break None;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                };
                let Some(offer) = offer else { continue };
                match op(&c, key(&rng), &stats, |c| {
                    let id = offer.id.clone();
                    async move { c.accept(&id).await }
                })
                .await
                {
                    Ok(_) => {}
                    Err(e) if e.code() == Some("offer_already_accepted") => {
                        ledger.lock().unwrap().already += 1
                    }
                    Err(e) => panic!("accept: {e}"),
                }
                ledger.lock().unwrap().accepted.insert(offer.id.clone());
                let order = op(&c, key(&rng), &stats, |c| {
                    let id = offer.id.clone();
                    async move {
                        c.create_order(&CreateOrder {
                            offer_id: id,
                            quantity: 1,
                            pay: true,
                            ship_to: None,
                        })
                        .await
                    }
                })
                .await
                .expect("one-click order");
                assert_eq!(order.status, "paid");
                ledger
                    .lock()
                    .unwrap()
                    .orders
                    .insert(order.id.clone(), offer.id.clone());
                // A buyer rates once the order arrived: the provider ships, the
                // requester confirms delivery (a retry may find either done).
                for (who, step) in [(&pc, "ship"), (&c, "deliver")] {
                    match op(who, key(&rng), &stats, |c| {
                        let id = order.id.clone();
                        async move {
                            if step == "ship" {
                                c.ship_order(&id).await
                            } else {
                                c.confirm_delivery(&id).await
                            }
                        }
                    })
                    .await
                    {
                        Ok(_) => {}
                        Err(e) if e.code() == Some("invalid_transition") => {
                            ledger.lock().unwrap().already += 1
                        }
                        Err(e) => panic!("{step}: {e}"),
                    }
                }
                let positive = round % 5 != 0;
                match op(&c, key(&rng), &stats, |c| {
                    let id = offer.id.clone();
                    async move {
                        c.rate(
                            &id,
                            &CreateRating {
                                positive,
                                comment: None,
                            },
                        )
                        .await
                    }
                })
                .await
                {
                    Ok(_) => {}
                    Err(e) if e.code() == Some("already_rated") => {
                        ledger.lock().unwrap().already += 1
                    }
                    Err(e) => panic!("rate: {e}"),
                }
                ledger.lock().unwrap().rated.insert(offer.id.clone());
            }
        }));
    }

    // The killer.
    let started = Instant::now();
    for _ in 0..kills {
        let wait = rng.lock().unwrap().random_range(250..900);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        server.kill();
        let pause = rng.lock().unwrap().random_range(0..300);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        server = tokio::task::spawn_blocking(move || {
            server.spawn();
            server
        })
        .await
        .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.await.expect("a client task failed");
    }
    let load_secs = started.elapsed().as_secs_f64();

    // Quiescence: every endpoint has delivered everything, every stream caught
    // up. A delivery in flight at a kill waits out its lease (20 s) first.
    let deadline = Instant::now() + Duration::from_secs(120);
    let outbox = loop {
        let outbox = events_in_store(&dir, database_url.as_deref()).await;
        let mut pending = 0;
        for (_, c) in &parties {
            for w in get(|| c.webhooks()).await.items {
                pending += w.pending;
            }
        }
        let hooked_all = outbox.iter().all(|(acc, ids)| {
            let got = hooked.lock().unwrap();
            ids.iter()
                .all(|i| got.get(acc).is_some_and(|s| s.contains(i)))
        });
        let streamed_all = outbox.iter().all(|(acc, ids)| {
            let got = streamed.lock().unwrap();
            ids.iter()
                .all(|i| got.get(acc).is_some_and(|s| s.contains(i)))
        });
        if pending == 0 && hooked_all && streamed_all {
            break outbox;
        }
        assert!(
            Instant::now() < deadline,
            "not delivered after 120 s: {pending} webhook deliveries pending, streams complete: {streamed_all}, webhooks complete: {hooked_all}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    followers_stop.store(true, Ordering::Relaxed);
    for f in followers {
        f.await.unwrap();
    }

    // The audit, in the database itself.
    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    let db = Audit::open(&dir, database_url.as_deref()).await;
    let demands = db.ids("SELECT id FROM demands").await;
    let offers = db.ids("SELECT id FROM offers").await;
    let orders = db.ids("SELECT id FROM orders").await;
    let ratings = db.count("SELECT COUNT(*) FROM ratings").await;
    let lost = ledger.demands.difference(&demands).count()
        + ledger.offers.difference(&offers).count()
        + ledger
            .orders
            .keys()
            .filter(|o| !orders.contains(*o))
            .count();
    let duplicates = demands.difference(&ledger.demands).count()
        + offers.difference(&ledger.offers).count()
        + orders
            .iter()
            .filter(|o| !ledger.orders.contains_key(*o))
            .count()
        + (ratings as usize).saturating_sub(ledger.rated.len())
        + db
            .count("SELECT COUNT(*) FROM (SELECT offer_id FROM orders GROUP BY offer_id HAVING COUNT(*) > 1) x")
            .await as usize
        + db
            .count("SELECT COUNT(*) FROM (SELECT order_id FROM ledger_transactions GROUP BY order_id HAVING COUNT(*) > 1) x")
            .await as usize;
    assert_eq!(
        ratings as usize,
        ledger.rated.len(),
        "one rating per rated offer"
    );
    let unpaid = db
        .count("SELECT COUNT(*) FROM orders WHERE status NOT IN ('paid', 'shipped', 'delivered') OR id NOT IN (SELECT order_id FROM ledger_transactions)")
        .await;
    let ledger_sums = db
        .pairs("SELECT currency, CAST(SUM(amount_minor) AS BIGINT) FROM ledger_entries GROUP BY currency")
        .await;
    let bad_owners = db
        .count(
            "SELECT COUNT(*) FROM pass_units u WHERE u.owner_id IS NOT NULL AND u.owner_id <> (
               SELECT t.to_id FROM unit_transfers t WHERE t.pass_id = u.pass_id AND t.unit_no = u.unit_no
               ORDER BY t.seq DESC LIMIT 1)",
        )
        .await;
    let broken_chains = db
        .count("SELECT COUNT(*) FROM (SELECT pass_id, unit_no FROM unit_transfers GROUP BY pass_id, unit_no HAVING COUNT(*) <> MAX(seq)) x")
        .await;
    let units_sold = db
        .count("SELECT COUNT(*) FROM pass_units WHERE owner_id IS NOT NULL")
        .await;
    let unique_accepts = db
        .count("SELECT COUNT(*) FROM offers WHERE status = 'accepted' AND unit_no IS NOT NULL")
        .await;
    let events: usize = outbox.values().map(BTreeSet::len).sum();
    let stream_deliveries: usize = streamed.lock().unwrap().values().map(Vec::len).sum();
    let webhook_ids: usize = hooked.lock().unwrap().values().map(BTreeSet::len).sum();
    let figures = format!(
        "crash test ({backend}): {kills} kills in {load_secs:.1} s; {} operations in {} HTTP requests ({} retried); \
         {} demands, {} offers, {} orders paid, {} ratings, {units_sold} units sold; \
         {events} events, {stream_deliveries} streamed over {} reconnects, {webhook_ids} delivered by webhook; \
         {} retries found their work done; lost = {lost}, duplicates = {duplicates}",
        stats.ops.load(Ordering::Relaxed),
        stats.http_attempts.load(Ordering::Relaxed),
        stats.retries.load(Ordering::Relaxed),
        demands.len(),
        offers.len(),
        orders.len(),
        ratings,
        reconnects.load(Ordering::Relaxed),
        ledger.already,
    );
    eprintln!("{figures}");
    // Tests' output is captured; `.ci/run` prints this file.
    let artefacts =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artefacts");
    let _ = std::fs::create_dir_all(&artefacts);
    let _ = std::fs::write(
        artefacts.join(format!("crash-{backend}.txt")),
        format!("{figures}; seed {seed}\n"),
    );
    assert_eq!(lost, 0, "requests answered 2xx missing from the store");
    assert_eq!(
        duplicates, 0,
        "duplicated demands, offers, orders, payments or ratings"
    );
    assert_eq!(unpaid, 0, "every one-click order is paid exactly once");
    assert!(
        ledger_sums.iter().all(|(_, s)| *s == 0),
        "the ledger sums to zero: {ledger_sums:?}"
    );
    assert_eq!(
        (bad_owners, broken_chains),
        (0, 0),
        "each unit has one owner, the end of its chain"
    );
    assert_eq!(
        units_sold, unique_accepts,
        "one unit per accepted unique offer"
    );
    assert!(orders.len() >= 3 && events > 0, "the load did something");
    let stream_dups = stream_deliveries
        - streamed
            .lock()
            .unwrap()
            .values()
            .map(|v| v.iter().collect::<BTreeSet<_>>().len())
            .sum::<usize>();
    assert_eq!(stream_dups, 0, "a resumed stream never repeats an event");
    db.close().await;
    server.kill();
}

/// Every event in the outbox, by account.
async fn events_in_store(
    dir: &tempfile::TempDir,
    database_url: Option<&str>,
) -> BTreeMap<String, BTreeSet<String>> {
    let db = Audit::open(dir, database_url).await;
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (account, seq) in db.pairs("SELECT account_id, seq FROM events").await {
        out.entry(account).or_default().insert(format!("evt_{seq}"));
    }
    db.close().await;
    out
}

struct Audit {
    pool: sqlx::AnyPool,
}

impl Audit {
    async fn open(dir: &tempfile::TempDir, database_url: Option<&str>) -> Self {
        sqlx::any::install_default_drivers();
        let url = match database_url {
            Some(u) => u.to_string(),
            None => sqlite_url(dir.path()),
        };
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .expect("open the database for the audit");
        Self { pool }
    }
    async fn ids(&self, sql: &str) -> BTreeSet<String> {
        sqlx::query_scalar::<_, String>(sql)
            .fetch_all(&self.pool)
            .await
            .expect(sql)
            .into_iter()
            .collect()
    }
    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&self.pool)
            .await
            .expect(sql)
    }
    async fn pairs(&self, sql: &str) -> Vec<(String, i64)> {
        sqlx::query_as::<_, (String, i64)>(sql)
            .fetch_all(&self.pool)
            .await
            .expect(sql)
    }
    async fn close(self) {
        self.pool.close().await;
    }
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=ro", dir.join("symbolon.db").display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_load_loses_and_duplicates_nothing_sqlite() {
    crash_and_audit(None, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_load_loses_and_duplicates_nothing_postgres() {
    let Some(admin) = std::env::var("SYMBOLON_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
    else {
        eprintln!("PostgreSQL crash test skipped: SYMBOLON_TEST_POSTGRES_URL is unset");
        return;
    };
    let name = format!("symbolon_test_crash_{}", std::process::id());
    super::replicas::admin_exec(
        &admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
    super::replicas::admin_exec(&admin, &format!("CREATE DATABASE {name}")).await;
    let url = super::replicas::with_database(&admin, &name);
    crash_and_audit(Some(url), "postgres").await;
    super::replicas::admin_exec(
        &admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
}
