//! The exchange's use cases, independent of HTTP.
//!
//! [`Exchange`] holds the [`Store`], the matching [`Engine`], the [`PaymentGateway`],
//! the [`Clock`] and the id generator, and exposes one method per API
//! operation. Each method authorizes the caller, validates its input (limits in
//! [`symbolon_core::limits`]), and calls the store's atomic operations. The HTTP
//! server is a thin adapter over these methods.

mod console;
mod convert;
mod demands;
mod disputes;
mod error;
pub mod events;
mod holders;
mod hub;
pub mod idempotency;
pub mod keyring;
mod lifecycle;
mod manage;
mod market;
pub mod metrics;
pub mod notify;
mod orders;
mod passes;
pub mod passkeys;
pub mod payment;
pub mod people;
mod seals;
mod service;
pub mod tlog;

pub use console::{CurrencySales, PassAdmin, SalesBucket, SalesReport, SalesTop};
pub use demands::{validate_demand, ValidDemand};
pub use error::{ExchangeError, ExchangeResult};
pub use events::{AttemptOutcome, EventHub, OutboundWebhook, WebhookPolicy};
pub use holders::{InboxRequest, ReputationHistory, CONSOLE_SCAN_LIMIT};
pub use keyring::{KeyringError, MasterKey};
pub use passes::PassPage;
pub use payment::{PaymentError, PaymentGateway, SandboxGateway};

use std::collections::HashMap;
use std::sync::Arc;
use symbolon_core::ids::IdGen;
use symbolon_core::{Clock, Timestamp};
use symbolon_match::engine::Engine;
use symbolon_store::Store;

/// Settings the services need.
#[derive(Debug, Clone)]
pub struct ExchangeConfig {
    /// The public base URL (no trailing slash), used in pass ids, issuer ids and links.
    pub public_url: String,
    /// Whether anyone may create an account.
    pub registration_open: bool,
    /// Seals provider signing keys and webhook secrets at rest and signs web sessions.
    pub master_key: MasterKey,
    /// Webhook delivery: private endpoints, retry schedule, failure period.
    pub webhooks: WebhookPolicy,
    /// How often the server looks for events committed by any replica
    /// (default [`symbolon_core::limits::EVENT_POLL_MILLIS`]).
    pub event_poll: std::time::Duration,
    /// How long an unpaid order may be paid in before it expires
    /// (default [`symbolon_core::limits::DEFAULT_UNPAID_ORDER_TTL_SECONDS`]).
    pub unpaid_order_ttl: std::time::Duration,
    /// A shipped order counts as delivered this long after shipping unless
    /// its requester confirmed earlier
    /// (default [`symbolon_core::limits::DEFAULT_AUTO_DELIVER_DAYS`]).
    pub auto_deliver_after: std::time::Duration,
    /// How long after delivery a return may be requested; the provider's and
    /// holder's money stays pending until it has passed
    /// (default [`symbolon_core::limits::DEFAULT_RETURN_WINDOW_DAYS`]).
    pub return_window: std::time::Duration,
}

/// The exchange.
pub struct Exchange {
    store: Arc<dyn Store>,
    engine: Arc<Engine>,
    sync: tokio::sync::Mutex<SyncMark>,
    gateway: Arc<dyn PaymentGateway>,
    clock: Arc<dyn Clock>,
    ids: IdGen,
    config: ExchangeConfig,
    hub: Arc<events::EventHub>,
    /// The WebAuthn relying party of `public_url` (none if it cannot be one).
    webauthn: Option<webauthn_rs::Webauthn>,
    /// This replica's view of the selection log.
    tlog: tlog::SelectionLog,
    /// What the engine was last synced to, readable without waiting for a sync.
    engine_status: std::sync::Mutex<EngineStatus>,
}

/// The matching engine's state as of its last sync, for readiness and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EngineStatus {
    /// The store's market version the engine reflects (`None`: never synced).
    pub version: Option<i64>,
    /// How many times the engine re-read the whole market.
    pub full_syncs: u64,
    /// How long the last full re-read (rebuild) took.
    pub last_rebuild: Option<std::time::Duration>,
}

/// What the engine was last synced to.
#[derive(Debug, Default)]
struct SyncMark {
    /// The store's market version at the last sync.
    version: Option<i64>,
    synced_at: Option<Timestamp>,
    /// The first moment a synced holding stops being valid.
    stale_at: Option<Timestamp>,
    /// Holder names, for the contacted list.
    names: Arc<HashMap<String, String>>,
    /// The market version each standing demand was last re-matched at.
    rematched: HashMap<String, i64>,
    /// How many times the engine re-read the whole market.
    full_syncs: u64,
}

impl Exchange {
    pub fn new(
        store: Arc<dyn Store>,
        engine: Arc<Engine>,
        gateway: Arc<dyn PaymentGateway>,
        clock: Arc<dyn Clock>,
        ids: IdGen,
        config: ExchangeConfig,
    ) -> Self {
        let mut config = config;
        config.public_url = config.public_url.trim_end_matches('/').to_string();
        let webauthn = passkeys::relying_party(&config.public_url);
        Self {
            webauthn,
            store,
            engine,
            sync: Default::default(),
            gateway,
            clock,
            ids,
            config,
            hub: Arc::default(),
            tlog: Default::default(),
            engine_status: Default::default(),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn config(&self) -> &ExchangeConfig {
        &self.config
    }

    /// Marks interaction requests past their deadline as expired. Reputation
    /// already counts them as expired from the deadline on; this keeps stored
    /// statuses tidy. Safe to run concurrently and repeatedly.
    pub async fn expire_due(&self) -> ExchangeResult<u64> {
        let n = self.store.expire_due(self.clock.now()).await?;
        if n > 0 {
            // Expiries are events: streams and webhooks need not wait for a tick.
            self.hub.kick();
        }
        Ok(n)
    }
}

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange")
            .field("backend", &self.store.backend())
            .field("config", &self.config)
            .finish()
    }
}
