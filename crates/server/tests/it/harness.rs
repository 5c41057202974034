//! Starts real servers on port 0 in temp dirs and builds fixtures through the API.

use std::path::Path;
use std::sync::Arc;
use symbolon_client::api::*;
use symbolon_client::Client;
use symbolon_core::{Clock, ManualClock, SystemClock, Timestamp};
use symbolon_server::ServerConfig;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestServer {
    pub url: String,
    _tmp: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), symbolon_server::ServeError>>>,
}

impl TestServer {
    /// A server on a fresh temp dir with the wall clock.
    pub async fn start() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().to_path_buf();
        let mut s = Self::start_at(&dir, Arc::new(SystemClock)).await;
        s._tmp = Some(tmp);
        s
    }

    /// A server on a fresh temp dir with a clock the test moves.
    pub async fn start_with_clock(clock: Arc<ManualClock>) -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().to_path_buf();
        let mut s = Self::start_at(&dir, clock).await;
        s._tmp = Some(tmp);
        s
    }

    /// A server on a fresh temp dir with registration closed.
    pub async fn start_closed() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().to_path_buf();
        let mut s = Self::start_with(&dir, Arc::new(SystemClock), false).await;
        s._tmp = Some(tmp);
        s
    }

    /// A server on an existing data dir (the caller keeps it alive).
    pub async fn start_at(dir: &Path, clock: Arc<dyn Clock>) -> Self {
        Self::start_with(dir, clock, true).await
    }

    async fn start_with(dir: &Path, clock: Arc<dyn Clock>, registration_open: bool) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let config = ServerConfig {
            listen: addr,
            data_dir: dir.to_path_buf(),
            registration_open,
            ..Default::default()
        };
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(symbolon_server::serve_with_clock(
            listener,
            config,
            clock,
            async move {
                let _ = rx.await;
            },
        ));
        let url = format!("http://{addr}");
        let client = Client::new(&url).expect("client");
        for _ in 0..200 {
            if client.health().await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Self {
            url,
            _tmp: None,
            stop: Some(tx),
            task: Some(task),
        }
    }

    pub fn anon(&self) -> Client {
        Client::new(&self.url).expect("client")
    }

    /// Stops gracefully and waits for the server to finish.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server result");
        }
        self._tmp.take()
    }

    pub async fn account(&self, name: &str, roles: &[Role]) -> (String, Client) {
        let created = self
            .anon()
            .create_account(&CreateAccount {
                name: name.into(),
                roles: roles.to_vec(),
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
