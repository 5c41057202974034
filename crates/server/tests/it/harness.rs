//! Starts real servers on port 0 in temp dirs and builds fixtures through the API.

use std::path::Path;
use std::sync::Arc;
use symbolon_client::api::*;
use symbolon_client::Client;
use symbolon_core::{Clock, ManualClock, SystemClock, Timestamp};
use symbolon_server::ServerConfig;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Which store a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server the tests may use (`SYMBOLON_TEST_POSTGRES_URL`), if any.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("SYMBOLON_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// `url` with its database name replaced.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let host_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[host_start..].find('/') {
        Some(i) => &base[..host_start + i],
        None => base,
    };
    format!("{base}/{db}{query}")
}

/// A fresh PostgreSQL database for one test, dropped by [`TestServer::stop`].
pub struct PgDb {
    admin: String,
    name: String,
    pub url: String,
}

impl PgDb {
    pub async fn create() -> Self {
        use sqlx::Connection;
        let admin = postgres_admin_url().expect("SYMBOLON_TEST_POSTGRES_URL");
        // `symbolon_test_<unix seconds>_<random>`: the scheme whose stale leftovers the store tests sweep.
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let name = format!("symbolon_test_{secs}_{:016x}", rand_u64());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("connect to PostgreSQL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create database");
        let _ = conn.close().await;
        Self {
            url: with_database(&admin, &name),
            admin,
            name,
        }
    }

    pub async fn drop_db(&self) {
        use sqlx::Connection;
        if let Ok(mut conn) = sqlx::PgConnection::connect(&self.admin).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn)
            .await;
            let _ = conn.close().await;
        }
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// Test servers stop at once unless a test asks for a drain.
pub const NO_DRAIN: std::time::Duration = std::time::Duration::ZERO;

/// A `public_url` that makes a test server call itself
/// `http://localhost:<its port>` (and its `url` use that name).
pub const LOCALHOST: &str = "http://localhost";

pub struct TestServer {
    pub url: String,
    pub backend: Backend,
    _tmp: Option<tempfile::TempDir>,
    pg: Option<PgDb>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), symbolon_server::ServeError>>>,
    config: ServerConfig,
    clock: Arc<dyn Clock>,
}

impl TestServer {
    /// A server on a fresh temp-dir SQLite database with the wall clock.
    pub async fn start() -> Self {
        Self::start_on(Backend::Sqlite, Arc::new(SystemClock)).await
    }

    /// A server on a fresh database of `backend` with the wall clock.
    pub async fn on(backend: Backend) -> Self {
        Self::start_on(backend, Arc::new(SystemClock)).await
    }

    /// A server on a fresh database of `backend` (PostgreSQL: a new database on
    /// `SYMBOLON_TEST_POSTGRES_URL`, so parallel tests never share state).
    pub async fn start_on(backend: Backend, clock: Arc<dyn Clock>) -> Self {
        Self::configured(backend, clock, |_| {}).await
    }

    /// [`start_on`](Self::start_on) with settings changed by `tweak`.
    pub async fn configured(
        backend: Backend,
        clock: Arc<dyn Clock>,
        tweak: impl FnOnce(&mut ServerConfig),
    ) -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let mut config = ServerConfig {
            data_dir: tmp.path().to_path_buf(),
            drain_delay: NO_DRAIN,
            ..Default::default()
        };
        tweak(&mut config);
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let db = PgDb::create().await;
                config.database_url = Some(db.url.clone());
                Some(db)
            }
        };
        let mut s = Self::launch(config, clock).await;
        s.backend = backend;
        s._tmp = Some(tmp);
        s.pg = pg;
        s
    }

    /// A server on a fresh temp dir with registration closed.
    pub async fn start_closed() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let config = ServerConfig {
            data_dir: tmp.path().to_path_buf(),
            drain_delay: NO_DRAIN,
            registration_open: false,
            ..Default::default()
        };
        let mut s = Self::launch(config, Arc::new(SystemClock)).await;
        s._tmp = Some(tmp);
        s
    }

    /// A server on a fresh temp dir announcing `public_url` (e.g. https behind a proxy).
    pub async fn start_with_public_url(public_url: &str) -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let config = ServerConfig {
            data_dir: tmp.path().to_path_buf(),
            drain_delay: NO_DRAIN,
            public_url: Some(public_url.to_string()),
            ..Default::default()
        };
        let mut s = Self::launch(config, Arc::new(SystemClock)).await;
        s._tmp = Some(tmp);
        s
    }

    /// A server on an existing data dir (the caller keeps it alive).
    pub async fn start_at(dir: &Path, clock: Arc<dyn Clock>) -> Self {
        Self::launch(
            ServerConfig {
                data_dir: dir.to_path_buf(),
                drain_delay: NO_DRAIN,
                ..Default::default()
            },
            clock,
        )
        .await
    }

    /// A server on `config` as given: the caller keeps its data dir and database alive (and
    /// drops a PostgreSQL database itself).
    pub async fn start_with(config: ServerConfig, clock: Arc<dyn Clock>) -> Self {
        let pg = config
            .database_url
            .as_deref()
            .is_some_and(|u| u.starts_with("postgres"));
        let mut s = Self::launch(config, clock).await;
        s.backend = if pg {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        s
    }

    /// Another server (a replica) on the same PostgreSQL database and settings, with its own data dir.
    pub async fn replica(&self) -> (Self, tempfile::TempDir) {
        let tmp = tempfile::tempdir().expect("temp dir");
        // Replicas share a PostgreSQL database; one process owns a SQLite file.
        assert_eq!(self.backend, Backend::Postgres, "replicas need PostgreSQL");
        let mut config = self.config.clone();
        config.data_dir = tmp.path().to_path_buf();
        let mut s = Self::launch(config, self.clock.clone()).await;
        s.backend = self.backend;
        (s, tmp)
    }

    /// Stops gracefully and starts again on the same database (SQLite file
    /// or PostgreSQL database), at the same address.
    pub async fn restart(mut self) -> Self {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server result");
        }
        let mut next =
            Self::launch_at(self.config.clone(), self.clock.clone(), self.config.listen).await;
        next.backend = self.backend;
        next._tmp = self._tmp.take();
        next.pg = self.pg.take();
        next
    }

    /// [`restart`](Self::restart) with settings changed by `tweak` (kept by
    /// later restarts).
    pub async fn restart_with(mut self, tweak: impl FnOnce(&mut ServerConfig)) -> Self {
        tweak(&mut self.config);
        self.restart().await
    }

    async fn launch(config: ServerConfig, clock: Arc<dyn Clock>) -> Self {
        let any = "127.0.0.1:0".parse().expect("address");
        Self::launch_at(config, clock, any).await
    }

    async fn launch_at(
        mut config: ServerConfig,
        clock: Arc<dyn Clock>,
        at: std::net::SocketAddr,
    ) -> Self {
        let mut listener = None;
        for _ in 0..100 {
            match tokio::net::TcpListener::bind(at).await {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                // The old listener's port may linger for a moment after a restart.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
        let listener = listener.expect("bind");
        let addr = listener.local_addr().expect("addr");
        config.listen = addr;
        // `public_url = LOCALHOST`: the server calls itself `localhost` on the
        // port it got (passkeys need a host name, not an IP).
        if config.public_url.as_deref() == Some(LOCALHOST) {
            config.public_url = Some(format!("{LOCALHOST}:{}", addr.port()));
        }
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(symbolon_server::serve_with_clock(
            listener,
            config.clone(),
            clock.clone(),
            async move {
                let _ = rx.await;
            },
        ));
        let url = match &config.public_url {
            Some(u) if u.starts_with(LOCALHOST) => u.clone(),
            _ => format!("http://{addr}"),
        };
        let client = Client::new(&url).expect("client");
        for _ in 0..250 {
            if client.health().await.is_ok() {
                break;
            }
            if task.is_finished() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Self {
            url,
            backend: Backend::Sqlite,
            _tmp: None,
            pg: None,
            stop: Some(tx),
            task: Some(task),
            config,
            clock,
        }
    }

    /// Runs one SQL statement on the server's database (tests simulate what
    /// only a crash could do); returns the rows affected.
    pub async fn exec_sql(&self, sql: &str) -> u64 {
        use sqlx::Connection;
        match &self.config.database_url {
            Some(url) if url.starts_with("postgres") => {
                let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::query(sql)
                    .execute(&mut c)
                    .await
                    .expect(sql)
                    .rows_affected()
            }
            other => {
                let url = other.clone().unwrap_or_else(|| {
                    format!(
                        "sqlite://{}",
                        self.config.data_dir.join("symbolon.db").display()
                    )
                });
                let mut c = sqlx::SqliteConnection::connect(&url)
                    .await
                    .expect("connect");
                sqlx::query(sql)
                    .execute(&mut c)
                    .await
                    .expect(sql)
                    .rows_affected()
            }
        }
    }

    /// `SELECT COUNT(*) …` on the server's database.
    pub async fn count_sql(&self, sql: &str) -> i64 {
        use sqlx::Connection;
        match &self.config.database_url {
            Some(url) if url.starts_with("postgres") => {
                let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::query_scalar(sql).fetch_one(&mut c).await.expect(sql)
            }
            other => {
                let url = other.clone().unwrap_or_else(|| {
                    format!(
                        "sqlite://{}",
                        self.config.data_dir.join("symbolon.db").display()
                    )
                });
                let mut c = sqlx::SqliteConnection::connect(&url)
                    .await
                    .expect("connect");
                sqlx::query_scalar(sql).fetch_one(&mut c).await.expect(sql)
            }
        }
    }

    /// The address the server listens on (for raw sockets).
    pub fn addr(&self) -> std::net::SocketAddr {
        self.config.listen
    }

    /// The settings the server runs with.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The first column (bytes) of every row `sql` selects on the server's database.
    pub async fn blobs_sql(&self, sql: &str) -> Vec<Vec<u8>> {
        use sqlx::Connection;
        match &self.config.database_url {
            Some(url) if url.starts_with("postgres") => {
                let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::query_scalar(sql).fetch_all(&mut c).await.expect(sql)
            }
            other => {
                let url = other.clone().unwrap_or_else(|| {
                    format!(
                        "sqlite://{}",
                        self.config.data_dir.join("symbolon.db").display()
                    )
                });
                let mut c = sqlx::SqliteConnection::connect(&url)
                    .await
                    .expect("connect");
                sqlx::query_scalar(sql).fetch_all(&mut c).await.expect(sql)
            }
        }
    }

    pub fn anon(&self) -> Client {
        Client::new(&self.url).expect("client")
    }

    /// Resolves the server's shutdown future without waiting for it to
    /// finish: a test then watches it drain.
    pub fn begin_stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    /// Ends the server task at once (after [`begin_stop`](Self::begin_stop),
    /// a long drain need not run out).
    pub async fn abort(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
        if let Some(pg) = self.pg.take() {
            pg.drop_db().await;
        }
    }

    /// Stops gracefully, waits for the server to finish, and drops a PostgreSQL test database.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server result");
        }
        if let Some(pg) = self.pg.take() {
            pg.drop_db().await;
        }
        self._tmp.take()
    }

    pub async fn account(&self, name: &str, roles: &[Role]) -> (String, Client) {
        let created = self
            .anon()
            .create_account(&CreateAccount {
                name: name.into(),
                roles: roles.to_vec(),
                login: None,
            })
            .await
            .expect("create account");
        (created.id, self.anon().with_key(&created.api_key))
    }
}

pub fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Timestamp::parse_rfc3339("2026-11-28T12:00:00Z").expect("time"),
    ))
}

pub fn usd(amount: &str) -> Money {
    Money::new(amount, "USD")
}

pub fn product(title: &str, category: &str, price: &str, stock: i64) -> CreateProduct {
    CreateProduct {
        title: title.into(),
        description: format!("{title}, sold by the test provider"),
        category: category.into(),
        specs: Default::default(),
        price: usd(price),
        stock,
        gtin: None,
    }
}

pub fn shareable(product_id: &str, commission_bps: i64) -> CreatePass {
    CreatePass {
        product_id: product_id.into(),
        mode: PassMode::Shareable,
        units: None,
        commission_bps,
        valid_until: None,
    }
}

pub fn unique(product_id: &str, units: i64, commission_bps: i64) -> CreatePass {
    CreatePass {
        product_id: product_id.into(),
        mode: PassMode::Unique,
        units: Some(units),
        commission_bps,
        valid_until: None,
    }
}

pub fn grant(holder_id: &str) -> CreateGrant {
    CreateGrant {
        holder_id: holder_id.into(),
        units: None,
    }
}

pub fn fields(fs: &[&str]) -> HolderProfileUpdate {
    HolderProfileUpdate {
        fields: fs.iter().map(|s| s.to_string()).collect(),
    }
}

pub fn demand(query: &str) -> CreateDemand {
    CreateDemand {
        query: query.into(),
        category: None,
        max_price: None,
        holder: HolderCriteria::default(),
        min_holders: None,
        max_holders: None,
        ttl_seconds: None,
        wait: None,
    }
}

pub fn address() -> Address {
    Address {
        name: "Ada Lovelace".into(),
        line1: "12 St James's Square".into(),
        line2: None,
        city: "London".into(),
        postal_code: "SW1Y 4JH".into(),
        country: "GB".into(),
    }
}

pub fn profile(card: &str) -> RequesterProfileUpdate {
    RequesterProfileUpdate {
        ship_to: Some(address()),
        payment_method: Some(PaymentMethodInput {
            kind: "sandbox_card".into(),
            number: card.into(),
        }),
    }
}

pub fn order(offer_id: &str, quantity: i64, pay: bool) -> CreateOrder {
    CreateOrder {
        offer_id: offer_id.into(),
        quantity,
        pay,
        ship_to: None,
    }
}

/// `r` buys through `offer_id`: accepts the offer, saves a card and orders one,
/// paid in one click. Returns the paid order (a unique pass's unit went with it).
pub async fn buy(r: &Client, offer_id: &str) -> Order {
    r.accept(offer_id).await.expect("accept");
    r.set_requester_profile(&profile("4242424242424242"))
        .await
        .expect("profile");
    let o = r
        .create_order(&order(offer_id, 1, true))
        .await
        .expect("order");
    assert_eq!(o.status, "paid");
    o
}

/// Ships a paid order (as its provider) and confirms its delivery (as its
/// requester): from then on the requester may rate the holder.
pub async fn deliver(provider: &Client, requester: &Client, order_id: &str) -> Order {
    provider.ship_order(order_id).await.expect("ship");
    let o = requester
        .confirm_delivery(order_id)
        .await
        .expect("confirm delivery");
    assert_eq!(o.status, "delivered");
    o
}

/// Says, past the test harness's output capture, that a PostgreSQL test was skipped.
pub fn say_skipped(test: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "PostgreSQL suite skipped ({test}): SYMBOLON_TEST_POSTGRES_URL is unset"
    );
}

/// Runs each named `async fn(Backend)` as two tests: `name::sqlite` and
/// `name::postgres` (which passes, saying so, when `SYMBOLON_TEST_POSTGRES_URL` is unset).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use $crate::harness::Backend;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::harness::postgres_admin_url().is_none() {
                    $crate::harness::say_skipped(concat!(module_path!(), "::postgres"));
                    return;
                }
                super::$name(Backend::Postgres).await
            }
        }
    )*};
}

/// Asserts a client error's status and code.
#[track_caller]
pub fn assert_api_err<T: std::fmt::Debug>(
    r: Result<T, symbolon_client::ClientError>,
    status: u16,
    code: &str,
) -> Option<serde_json::Value> {
    match r {
        Err(symbolon_client::ClientError::Api {
            status: s,
            code: c,
            details,
            message,
        }) => {
            assert_eq!((s, c.as_str()), (status, code), "message: {message}");
            details
        }
        other => panic!("expected {status} {code}, got {other:?}"),
    }
}

/// Sum of every account's balances must be zero: checked by summing what the API reports.
pub async fn balance_of(c: &Client) -> Option<String> {
    c.balance()
        .await
        .expect("balance")
        .balances
        .get("USD")
        .cloned()
}

/// Every event of an account, each held to its type's schema
/// (`symbolon_api::events::EventData`, which refuses unknown fields) and to
/// the API's money shape: each deprecated `<name>_minor` has `<name>` beside
/// it as `{amount, currency}` (or null with it) agreeing with it.
pub async fn schema_checked_events(c: &Client) -> Vec<Event> {
    let events = c.events(None, Some(500)).await.expect("events").events;
    for e in &events {
        if let Err(err) = symbolon_client::api::events::EventData::parse(&e.kind, &e.data) {
            panic!("{} does not match its schema: {err}\n{}", e.kind, e.data);
        }
        let data = e.data.as_object().expect("data is an object");
        for (key, minor) in data {
            let Some(name) = key.strip_suffix("_minor") else {
                continue;
            };
            let money = &data[name];
            match minor.as_i64() {
                None => assert!(money.is_null(), "{}: {name} = {money}", e.kind),
                Some(minor) => {
                    let currency = money["currency"].as_str().expect("currency");
                    let amount = money["amount"].as_str().expect("amount is a string");
                    let parsed = symbolon_core::money::Money::parse(amount, currency)
                        .unwrap_or_else(|err| panic!("{}: {name} = {money}: {err}", e.kind));
                    assert_eq!(parsed.minor, minor, "{}: {name} = {money}", e.kind);
                }
            }
        }
    }
    events
}

/// The password every login the tests give an API account has.
pub const WEB_PASSWORD: &str = "correct horse battery staple";

/// The argon2id hash of [`WEB_PASSWORD`] (made once).
static WEB_PASSWORD_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    symbolon_exchange::people::hash_password_blocking(WEB_PASSWORD).expect("hash")
});

/// A client that follows no redirects (to see the 303s).
pub fn web_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The first `name=value` of a response's `Set-Cookie` named `name`.
pub fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

/// The value of the first `name="csrf"` field of a page.
pub fn csrf_of(html: &str) -> String {
    let tag = "name=\"csrf\" value=\"";
    let at = html.find(tag).expect("a csrf field") + tag.len();
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

/// Gives the account of `api_key` (made through the API) an email and
/// password to sign in on the web with — `<account id>@test.invalid` and
/// [`WEB_PASSWORD`] — written straight into its database (once).
pub async fn web_login(srv: &TestServer, api_key: &str) -> String {
    let me = srv.anon().with_key(api_key).whoami().await.expect("whoami");
    let email = format!("{}@test.invalid", me.id);
    srv.exec_sql(&format!(
        "INSERT INTO logins (account_id, email, email_lower, password_hash, created_at)
         VALUES ('{}', '{email}', '{email}', '{}', 0) ON CONFLICT DO NOTHING",
        me.id, *WEB_PASSWORD_HASH
    ))
    .await;
    email
}

/// Signs in through the sign-in form with `email` and `password`: the
/// answer to the POST.
pub async fn sign_in(
    srv: &TestServer,
    http: &reqwest::Client,
    email: &str,
    password: &str,
    next: &str,
) -> reqwest::Response {
    let login = http.get(format!("{}/login", srv.url)).send().await.unwrap();
    let pre = set_cookie(&login, "sym_pre").expect("a pre-session cookie");
    let csrf = csrf_of(&login.text().await.unwrap());
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("email", email)
        .append_pair("password", password)
        .append_pair("csrf", &csrf)
        .append_pair("next", next)
        .finish();
    http.post(format!("{}/login", srv.url))
        .header("cookie", pre)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Signs the account of `api_key` in on the web: its session cookie
/// (`sym_session=…`).
pub async fn web_session(srv: &TestServer, api_key: &str) -> String {
    let email = web_login(srv, api_key).await;
    let signed = sign_in(srv, &web_client(), &email, WEB_PASSWORD, "/account").await;
    assert_eq!(signed.status(), 303);
    set_cookie(&signed, "sym_session").expect("a session cookie")
}

/// Signs in on the web as the account of `api_key` and fetches `path`.
pub async fn web_page(srv: &TestServer, api_key: &str, path: &str) -> String {
    let session = web_session(srv, api_key).await;
    let page = web_client()
        .get(format!("{}{path}", srv.url))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}

/// Reads a web page's live stream (SSE) until it says `change` (within 10 s), then drops it.
pub async fn wait_for_change(mut stream: reqwest::Response) {
    let mut seen = String::new();
    while !seen.contains("event: change") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), stream.chunk())
            .await
            .expect("a change within 10 s")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}
