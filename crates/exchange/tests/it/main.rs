//! Integration tests of the services, without HTTP: an [`Exchange`] over a
//! temp-dir SQLite store, an in-memory engine and a manual clock.

mod incremental;
mod lifecycle;
mod people;
mod rematch;

use std::sync::Arc;
use symbolon_api as api;
use symbolon_core::ids::IdGen;
use symbolon_core::{ManualClock, Timestamp};
use symbolon_exchange::{Exchange, ExchangeConfig, MasterKey, SandboxGateway, WebhookPolicy};
use symbolon_match::engine::Engine;
use symbolon_store::Store;
use symbolon_store_sqlite::SqliteStore;

/// The exchange configuration of these tests.
pub fn config() -> ExchangeConfig {
    ExchangeConfig {
        public_url: "http://exchange.test".into(),
        registration_open: true,
        master_key: MasterKey::generate(),
        webhooks: WebhookPolicy::default(),
        event_poll: std::time::Duration::from_millis(200),
        unpaid_order_ttl: std::time::Duration::from_secs(1800),
        auto_deliver_after: std::time::Duration::from_secs(14 * 86_400),
        return_window: std::time::Duration::from_secs(14 * 86_400),
    }
}

/// An exchange over a fresh SQLite database; the temp dir lives as long as it.
pub struct Fixture {
    pub exchange: Arc<Exchange>,
    pub clock: Arc<ManualClock>,
    pub store: Arc<dyn Store>,
    pub engine: Arc<Engine>,
    _dir: tempfile::TempDir,
}

impl Fixture {
    pub async fn new(seed: u64) -> Self {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("symbolon.db"))
                .await
                .expect("store"),
        );
        Self::with(store, seed, dir)
    }

    /// An exchange over `store` (e.g. a fresh PostgreSQL database).
    pub async fn on(store: Arc<dyn Store>, seed: u64) -> Self {
        Self::with(store, seed, tempfile::TempDir::new().expect("temp dir"))
    }

    fn with(store: Arc<dyn Store>, seed: u64, dir: tempfile::TempDir) -> Self {
        let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_800_000_000_000)));
        let engine = Arc::new(Engine::in_memory().expect("engine"));
        let exchange = Exchange::new(
            store.clone(),
            engine.clone(),
            Arc::new(SandboxGateway::new()),
            clock.clone(),
            IdGen::from_seed(seed),
            config(),
        );
        Self {
            exchange: Arc::new(exchange),
            clock,
            store,
            engine,
            _dir: dir,
        }
    }

    /// A shareable pass (5 % commission) of a new product, a coffee grinder
    /// with 1 000 in stock, issued by `provider`.
    pub async fn grinder_pass(&self, provider: &symbolon_store::Account) -> api::Pass {
        self.pass_of(provider, "Burr coffee grinder", "home/kitchen")
            .await
    }

    /// `provider` grants `pass` to `holder`.
    pub async fn grant(
        &self,
        provider: &symbolon_store::Account,
        pass: &api::Pass,
        holder: &symbolon_store::Account,
    ) {
        self.exchange
            .grant(
                provider,
                &pass.id,
                &api::CreateGrant {
                    holder_id: holder.id.clone(),
                    units: None,
                },
            )
            .await
            .expect("grant");
    }

    /// A shareable pass (5 % commission) of a new product titled `title`
    /// with 1 000 in stock, issued by `provider`.
    pub async fn pass_of(
        &self,
        provider: &symbolon_store::Account,
        title: &str,
        category: &str,
    ) -> api::Pass {
        let product = self
            .exchange
            .create_product(
                provider,
                &api::CreateProduct {
                    title: title.into(),
                    description: "Conical burrs".into(),
                    category: category.into(),
                    specs: Default::default(),
                    price: api::Money {
                        amount: "80.00".into(),
                        currency: "USD".into(),
                    },
                    stock: 1_000,
                    gtin: None,
                },
            )
            .await
            .expect("product");
        self.exchange
            .create_pass(
                provider,
                &api::CreatePass {
                    product_id: product.id.clone(),
                    mode: api::PassMode::Shareable,
                    units: None,
                    commission_bps: 500,
                    valid_until: None,
                },
            )
            .await
            .expect("pass")
    }

    /// A new account with `roles`.
    pub async fn account(&self, name: &str, roles: &[api::Role]) -> symbolon_store::Account {
        let made = self
            .exchange
            .create_account(&api::CreateAccount {
                name: name.into(),
                roles: roles.to_vec(),
                login: None,
            })
            .await
            .expect("account");
        self.exchange
            .authenticate(&made.api_key)
            .await
            .expect("authenticate")
    }
}
