//! A typed client of the Symbolon HTTP API v1.
//!
//! ```no_run
//! # async fn f() -> Result<(), symbolon_client::ClientError> {
//! use symbolon_client::Client;
//! use symbolon_api::{CreateAccount, Role};
//! let anon = Client::new("http://127.0.0.1:7878")?;
//! let me = anon
//!     .create_account(&CreateAccount { name: "Ada".into(), roles: vec![Role::Requester], login: None })
//!     .await?;
//! let client = anon.with_key(&me.api_key);
//! println!("{:?}", client.balance().await?);
//! # Ok(()) }
//! ```

mod tlog;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
pub use symbolon_api as api;
use symbolon_api::*;

/// What a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error from its error table.
    #[error("{status} {code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        details: Option<serde_json::Value>,
    },
    /// The server could not be reached or the connection failed.
    #[error("cannot reach the server: {0}")]
    Transport(#[from] reqwest::Error),
    /// The server's answer was not what the API promises.
    #[error("unexpected response ({status}): {message}")]
    Decode { status: u16, message: String },
    #[error("invalid server URL `{0}`")]
    BadUrl(String),
}

impl ClientError {
    /// The stable error code, when the server answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;

/// Attempts of one request on network errors (idempotent requests only).
pub const MAX_ATTEMPTS: u32 = 4;
/// The first retry's delay; each next one doubles (100, 200, 400 ms).
pub const RETRY_BASE_MS: u64 = 100;

/// A fresh idempotency key: 128 random bits, hex.
pub fn new_idempotency_key() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

async fn tokio_sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// A client bound to one server and, optionally, one API key.
#[derive(Clone)]
pub struct Client {
    base: String,
    key: Option<String>,
    http: reqwest::Client,
    /// A pinned Idempotency-Key (see [`Client::with_idempotency_key`]).
    idempotency_key: Option<String>,
    /// Seeded keys (see [`Client::with_seeded_idempotency_keys`]): the seed
    /// and how many POSTs this client has sent.
    seeded_keys: Option<Arc<(u64, AtomicU64)>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl Client {
    /// A client without an API key (enough for registration and public reads).
    pub fn new(base: &str) -> Result<Self> {
        let base = base.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::BadUrl(base));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("symbolon-client/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            base,
            key: None,
            http,
            idempotency_key: None,
            seeded_keys: None,
        })
    }

    /// The same server, with an API key (seeded keys, if any, start again
    /// from the seed: each account's POSTs count on their own).
    pub fn with_key(&self, key: &str) -> Self {
        Self {
            base: self.base.clone(),
            key: Some(key.to_string()),
            http: self.http.clone(),
            idempotency_key: None,
            seeded_keys: self
                .seeded_keys
                .as_ref()
                .map(|s| Arc::new((s.0, AtomicU64::new(0)))),
        }
    }

    /// The same client, its POSTs' Idempotency-Keys drawn from `seed` and
    /// their count instead of at random. The server derives the ids a POST
    /// creates from its key, so a script that sends the same requests in
    /// the same order (the demo) gets the same ids on every run. Never for
    /// two different runs against one server: a repeated key answers what
    /// the first request did.
    pub fn with_seeded_idempotency_keys(&self, seed: u64) -> Self {
        Self {
            seeded_keys: Some(Arc::new((seed, AtomicU64::new(0)))),
            ..self.clone()
        }
    }

    /// The same client, sending `key` as the `Idempotency-Key` of its POSTs:
    /// for callers that retry a request beyond the client's own retries (a
    /// server restarting, a process resuming work) and must not repeat it.
    pub fn with_idempotency_key(&self, key: &str) -> Self {
        Self {
            idempotency_key: Some(key.to_string()),
            ..self.clone()
        }
    }

    /// The API key this client sends, if any.
    pub fn api_key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Sends one request and returns the status and body bytes.
    async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<(StatusCode, Vec<u8>)> {
        // Every authenticated POST carries an Idempotency-Key, the same on
        // each retry, so retrying after a network error never repeats its effect.
        let idempotency_key = (method == Method::POST && self.key.is_some()).then(|| {
            match (&self.idempotency_key, &self.seeded_keys) {
                (Some(k), _) => k.clone(),
                (None, Some(s)) => {
                    format!(
                        "seeded-{:016x}-{}",
                        s.0,
                        s.1.fetch_add(1, Ordering::Relaxed)
                    )
                }
                (None, None) => new_idempotency_key(),
            }
        });
        let retryable = idempotency_key.is_some() || method == Method::GET;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.base));
            if let Some(key) = &self.key {
                req = req.bearer_auth(key);
            }
            if let Some(k) = &idempotency_key {
                req = req.header("Idempotency-Key", k);
            }
            if let Some(body) = body {
                req = req.json(body);
            }
            let sent = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    resp.bytes().await.map(|b| (status, b.to_vec()))
                }
                Err(e) => Err(e),
            };
            match sent {
                Ok(r) => return Ok(r),
                Err(e)
                    if retryable
                        && attempt < MAX_ATTEMPTS
                        && (e.is_connect() || e.is_timeout() || e.is_request() || e.is_body()) =>
                {
                    tokio_sleep_ms(RETRY_BASE_MS << (attempt - 1)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let (status, bytes) = self.send(method, path, body).await?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
                status: status.as_u16(),
                message: e.to_string(),
            });
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(e) => Err(ClientError::Api {
                status: status.as_u16(),
                code: e.error.code,
                message: e.error.message,
                details: e.error.details,
            }),
            Err(_) => Err(ClientError::Decode {
                status: status.as_u16(),
                message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            }),
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call::<(), T>(Method::GET, path, None).await
    }
    async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.call(Method::POST, path, Some(body)).await
    }
    async fn post_empty<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call::<(), T>(Method::POST, path, None).await
    }
    async fn patch<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.call(Method::PATCH, path, Some(body)).await
    }
    async fn put<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.call(Method::PUT, path, Some(body)).await
    }

    /// Sends any request and returns the status and JSON body as they are (for tools and tests).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(StatusCode, serde_json::Value)> {
        let (status, bytes) = self.send(method, path, body).await?;
        let v = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(&bytes).into())
            })
        };
        Ok((status, v))
    }

    // --- meta and accounts
    pub async fn health(&self) -> Result<Health> {
        self.get("/healthz").await
    }
    pub async fn create_account(&self, req: &CreateAccount) -> Result<AccountCreated> {
        self.post("/v1/accounts", req).await
    }
    pub async fn whoami(&self) -> Result<Account> {
        self.get("/v1/account").await
    }
    pub async fn balance(&self) -> Result<Balances> {
        self.get("/v1/balance").await
    }

    // --- provider
    pub async fn create_product(&self, req: &CreateProduct) -> Result<Product> {
        self.post("/v1/products", req).await
    }
    pub async fn product(&self, id: &str) -> Result<Product> {
        self.get(&format!("/v1/products/{}", enc(id))).await
    }
    /// Your own products, oldest first.
    pub async fn products(&self, after: Option<&str>, limit: Option<u32>) -> Result<ProductList> {
        self.get(&format!("/v1/products{}", page_query(after, limit)))
            .await
    }
    /// Changes the fields given (only `stock` once the product has a pass).
    pub async fn update_product(&self, id: &str, req: &UpdateProduct) -> Result<Product> {
        self.patch(&format!("/v1/products/{}", enc(id)), req).await
    }
    /// Stops selling the product (its passes leave the market; nothing is revoked).
    pub async fn archive_product(&self, id: &str) -> Result<Product> {
        self.post_empty(&format!("/v1/products/{}/archive", enc(id)))
            .await
    }
    pub async fn create_pass(&self, req: &CreatePass) -> Result<Pass> {
        self.post("/v1/passes", req).await
    }
    pub async fn grant(&self, pass_id: &str, req: &CreateGrant) -> Result<Holding> {
        self.post(&format!("/v1/passes/{}/grants", enc(pass_id)), req)
            .await
    }
    pub async fn ship_order(&self, id: &str) -> Result<Order> {
        self.post_empty(&format!("/v1/orders/{}/ship", enc(id)))
            .await
    }
    /// Ships with the carrier's tracking, which the requester sees on the order.
    pub async fn ship_order_tracked(&self, id: &str, tracking: &str) -> Result<Order> {
        let req = ShipOrder {
            tracking: Some(tracking.into()),
        };
        self.post(&format!("/v1/orders/{}/ship", enc(id)), &req)
            .await
    }

    // --- public
    pub async fn pass(&self, id: &str) -> Result<Pass> {
        self.get(&format!("/v1/passes/{}", enc(id))).await
    }
    pub async fn holder(&self, id: &str) -> Result<HolderPublic> {
        self.get(&format!("/v1/holders/{}", enc(id))).await
    }
    /// The provider's JWK Set, as JSON.
    pub async fn jwks(&self, provider_id: &str) -> Result<serde_json::Value> {
        self.get(&format!("/v1/providers/{}/jwks.json", enc(provider_id)))
            .await
    }
    /// The provider's revocation list: a signed status list credential (compact JWS).
    pub async fn status_list(&self, provider_id: &str) -> Result<String> {
        let path = format!("/v1/providers/{}/status/revocation", enc(provider_id));
        let (status, bytes) = self.send::<()>(Method::GET, &path, None).await?;
        if status.is_success() {
            return Ok(String::from_utf8_lossy(&bytes).into_owned());
        }
        self.call::<(), String>(Method::GET, &path, None).await
    }
    /// A pass's units that have changed hands, and how many are left to buy.
    pub async fn pass_units(
        &self,
        pass_id: &str,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<PassUnits> {
        self.get(&format!(
            "/v1/passes/{}/units{}",
            enc(pass_id),
            query(&[
                ("after", after.map(str::to_string)),
                ("limit", limit.map(|l| l.to_string()))
            ])
        ))
        .await
    }
    pub async fn unit_history(&self, pass_id: &str, unit: i64) -> Result<UnitHistory> {
        self.get(&format!("/v1/passes/{}/units/{unit}/history", enc(pass_id)))
            .await
    }

    // --- verifiable passes
    pub async fn revoke_pass(&self, pass_id: &str) -> Result<Pass> {
        self.post_empty(&format!("/v1/passes/{}/revoke", enc(pass_id)))
            .await
    }
    pub async fn signing_keys(&self) -> Result<SigningKeys> {
        self.get("/v1/provider/keys").await
    }
    pub async fn register_key(&self, req: &RegisterSigningKey) -> Result<SigningKeys> {
        self.post("/v1/provider/keys", req).await
    }
    /// Issues a pass the provider signed itself.
    pub async fn upload_pass(&self, req: &UploadPass) -> Result<Pass> {
        self.post("/v1/passes/upload", req).await
    }
    pub async fn issuer_metadata(&self, provider_id: &str) -> Result<serde_json::Value> {
        self.get(&format!(
            "/.well-known/jwt-vc-issuer/v1/providers/{}",
            enc(provider_id)
        ))
        .await
    }
    pub async fn rotate_key(&self) -> Result<SigningKeys> {
        self.post_empty("/v1/provider/keys/rotate").await
    }
    pub async fn transfer_unit(
        &self,
        pass_id: &str,
        unit: i64,
        req: &TransferUnit,
    ) -> Result<UnitHistory> {
        self.post(
            &format!("/v1/passes/{}/units/{unit}/transfer", enc(pass_id)),
            req,
        )
        .await
    }
    /// Orders on a pass directly (its `order` / `order_and_pay` actions).
    pub async fn pass_order(&self, pass_id: &str, req: &CreatePassOrder) -> Result<Order> {
        self.post(&format!("/v1/passes/{}/orders", enc(pass_id)), req)
            .await
    }

    // --- holder
    pub async fn set_holder_profile(&self, req: &HolderProfileUpdate) -> Result<HolderPublic> {
        self.put("/v1/holder/profile", req).await
    }
    pub async fn wallet(&self) -> Result<Wallet> {
        self.get("/v1/wallet").await
    }
    pub async fn inbox(&self, after: Option<&str>, limit: Option<u32>) -> Result<Inbox> {
        self.get(&format!("/v1/inbox{}", page_query(after, limit)))
            .await
    }
    /// Only the interaction requests still awaiting an answer.
    pub async fn inbox_pending(&self, after: Option<&str>, limit: Option<u32>) -> Result<Inbox> {
        self.get(&format!(
            "/v1/inbox{}",
            query(&[
                ("pending", Some("true".into())),
                ("after", after.map(str::to_string)),
                ("limit", limit.map(|l| l.to_string()))
            ])
        ))
        .await
    }
    pub async fn offer(&self, interaction_id: &str, req: &CreateOffer) -> Result<Offer> {
        self.post(
            &format!("/v1/interactions/{}/offer", enc(interaction_id)),
            req,
        )
        .await
    }
    pub async fn decline(&self, interaction_id: &str) -> Result<InteractionState> {
        self.post_empty(&format!("/v1/interactions/{}/decline", enc(interaction_id)))
            .await
    }
    /// Declines with a reason the requester sees with the demand.
    pub async fn decline_with_reason(
        &self,
        interaction_id: &str,
        reason: &str,
    ) -> Result<InteractionState> {
        let req = DeclineInteraction {
            reason: Some(reason.into()),
        };
        self.post(
            &format!("/v1/interactions/{}/decline", enc(interaction_id)),
            &req,
        )
        .await
    }

    // --- requester
    pub async fn create_demand(&self, req: &CreateDemand) -> Result<DemandCreated> {
        self.post("/v1/demands", req).await
    }
    pub async fn demand(&self, id: &str) -> Result<Demand> {
        self.get(&format!("/v1/demands/{}", enc(id))).await
    }
    /// Your own demands, newest first.
    pub async fn demands(&self, after: Option<&str>, limit: Option<u32>) -> Result<DemandList> {
        self.get(&format!("/v1/demands{}", page_query(after, limit)))
            .await
    }
    /// Cancels your demand: pending requests are withdrawn, no offer of it can be accepted.
    pub async fn cancel_demand(&self, id: &str) -> Result<Demand> {
        self.post_empty(&format!("/v1/demands/{}/cancel", enc(id)))
            .await
    }
    pub async fn accept(&self, offer_id: &str) -> Result<Offer> {
        self.post_empty(&format!("/v1/offers/{}/accept", enc(offer_id)))
            .await
    }
    pub async fn rate(&self, offer_id: &str, req: &CreateRating) -> Result<Rating> {
        self.post(&format!("/v1/offers/{}/rating", enc(offer_id)), req)
            .await
    }
    pub async fn set_requester_profile(
        &self,
        req: &RequesterProfileUpdate,
    ) -> Result<RequesterProfile> {
        self.put("/v1/requester/profile", req).await
    }
    pub async fn requester_profile(&self) -> Result<RequesterProfile> {
        self.get("/v1/requester/profile").await
    }
    pub async fn create_order(&self, req: &CreateOrder) -> Result<Order> {
        self.post("/v1/orders", req).await
    }
    pub async fn pay_order(&self, id: &str) -> Result<Order> {
        self.post_empty(&format!("/v1/orders/{}/pay", enc(id)))
            .await
    }

    // --- orders
    pub async fn order(&self, id: &str) -> Result<Order> {
        self.get(&format!("/v1/orders/{}", enc(id))).await
    }
    pub async fn orders(
        &self,
        role: Option<&str>,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<OrderList> {
        self.get(&format!(
            "/v1/orders{}",
            query(&[
                ("role", role.map(str::to_string)),
                ("after", after.map(str::to_string)),
                ("limit", limit.map(|l| l.to_string()))
            ])
        ))
        .await
    }

    // --- after the sale
    pub async fn cancel_order(&self, id: &str, reason: &str) -> Result<Order> {
        let req = Reason {
            reason: reason.into(),
        };
        self.post(&format!("/v1/orders/{}/cancel", enc(id)), &req)
            .await
    }
    /// Refunds `amount` (a decimal string; all that is left when `None`).
    pub async fn refund_order(
        &self,
        id: &str,
        amount: Option<&str>,
        reason: &str,
    ) -> Result<Refund> {
        let req = CreateRefund {
            amount: amount.map(str::to_string),
            reason: reason.into(),
        };
        self.post(&format!("/v1/orders/{}/refunds", enc(id)), &req)
            .await
    }
    pub async fn confirm_delivery(&self, id: &str) -> Result<Order> {
        self.post_empty(&format!("/v1/orders/{}/delivered", enc(id)))
            .await
    }
    pub async fn request_return(&self, id: &str, reason: &str) -> Result<Order> {
        let req = Reason {
            reason: reason.into(),
        };
        self.post(&format!("/v1/orders/{}/return", enc(id)), &req)
            .await
    }
    pub async fn accept_return(&self, id: &str) -> Result<Order> {
        self.post_empty(&format!("/v1/orders/{}/return/accept", enc(id)))
            .await
    }
    pub async fn refuse_return(&self, id: &str) -> Result<Order> {
        self.post_empty(&format!("/v1/orders/{}/return/refuse", enc(id)))
            .await
    }
    /// Opens the order's dispute; `kind` is `not_received` or `not_as_described`.
    pub async fn open_dispute(&self, order_id: &str, kind: &str, reason: &str) -> Result<Dispute> {
        let req = OpenDispute {
            kind: kind.into(),
            reason: reason.into(),
        };
        self.post(&format!("/v1/orders/{}/disputes", enc(order_id)), &req)
            .await
    }
    pub async fn dispute(&self, id: &str) -> Result<Dispute> {
        self.get(&format!("/v1/disputes/{}", enc(id))).await
    }
    pub async fn disputes(
        &self,
        status: Option<&str>,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<DisputeList> {
        self.get(&format!(
            "/v1/disputes{}",
            query(&[
                ("status", status.map(str::to_string)),
                ("after", after.map(str::to_string)),
                ("limit", limit.map(|l| l.to_string()))
            ])
        ))
        .await
    }
    pub async fn dispute_message(&self, id: &str, body: &str) -> Result<DisputeMessage> {
        let req = CreateDisputeMessage { body: body.into() };
        self.post(&format!("/v1/disputes/{}/messages", enc(id)), &req)
            .await
    }
    /// Operators: refund `refund` and resolve, or (`None`) reject.
    pub async fn resolve_dispute(
        &self,
        id: &str,
        refund: Option<&str>,
        reason: &str,
    ) -> Result<Dispute> {
        let req = ResolveDispute {
            refund: refund.map(str::to_string),
            reason: reason.into(),
        };
        self.post(&format!("/v1/disputes/{}/resolve", enc(id)), &req)
            .await
    }
    /// Pays `amount` (all that is available when `None`) out of the exchange.
    pub async fn payout(&self, currency: &str, amount: Option<&str>) -> Result<Payout> {
        let req = CreatePayout {
            currency: currency.into(),
            amount: amount.map(str::to_string),
        };
        self.post("/v1/payouts", &req).await
    }

    // --- sealed secrets
    pub async fn set_party_keys(&self, req: &SetPartyKeys) -> Result<PartyKeys> {
        self.put("/v1/account/keys", req).await
    }
    pub async fn party_keys(&self, account_id: &str) -> Result<PartyKeys> {
        self.get(&format!("/v1/accounts/{}/keys", enc(account_id)))
            .await
    }
    pub async fn put_seal(&self, pass_id: &str, req: &PassSeal) -> Result<PassSeal> {
        self.put(&format!("/v1/passes/{}/seal", enc(pass_id)), req)
            .await
    }
    pub async fn pass_seal(&self, pass_id: &str) -> Result<PassSeal> {
        self.get(&format!("/v1/passes/{}/seal", enc(pass_id))).await
    }
    pub async fn share_to_holder(&self, pass_id: &str, req: &ShareToHolder) -> Result<SealedShare> {
        self.post(&format!("/v1/passes/{}/shares", enc(pass_id)), req)
            .await
    }
    pub async fn my_shares(&self, pass_id: &str) -> Result<SealedShares> {
        self.get(&format!("/v1/passes/{}/shares", enc(pass_id)))
            .await
    }
    pub async fn share_with_offer(
        &self,
        offer_id: &str,
        req: &WrappedShares,
    ) -> Result<SealedShares> {
        self.post(&format!("/v1/offers/{}/shares", enc(offer_id)), req)
            .await
    }
    pub async fn offer_requester_keys(&self, offer_id: &str) -> Result<PartyKeys> {
        self.get(&format!("/v1/offers/{}/requester/keys", enc(offer_id)))
            .await
    }
    pub async fn release_shares(
        &self,
        order_id: &str,
        req: &WrappedShares,
    ) -> Result<SealedShares> {
        self.post(&format!("/v1/orders/{}/shares", enc(order_id)), req)
            .await
    }

    // --- events and webhooks
    /// A page of my events after `after` (`evt_…`).
    pub async fn events(&self, after: Option<&str>, limit: Option<u32>) -> Result<EventPage> {
        self.get(&format!(
            "/v1/events{}",
            query(&[
                ("after", after.map(str::to_string)),
                ("limit", limit.map(|l| l.to_string()))
            ])
        ))
        .await
    }
    /// Opens a live stream of my events after `last_event_id` (all kept events when `None`).
    pub async fn event_stream(&self, last_event_id: Option<&str>) -> Result<EventStream> {
        let mut req = self
            .http
            .get(format!("{}/v1/events", self.base))
            .header(reqwest::header::ACCEPT, "text/event-stream")
            // A stream lives as long as the connection; keep-alives arrive every 15 s.
            .timeout(Duration::from_secs(365 * 24 * 3600));
        if let Some(key) = &self.key {
            req = req.bearer_auth(key);
        }
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        let resp = req.send().await?;
        let status = resp.status();
        if !status.is_success() {
            let bytes = resp.bytes().await?;
            return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(e) => ClientError::Api {
                    status: status.as_u16(),
                    code: e.error.code,
                    message: e.error.message,
                    details: e.error.details,
                },
                Err(_) => ClientError::Decode {
                    status: status.as_u16(),
                    message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                },
            });
        }
        Ok(EventStream {
            resp,
            buf: Vec::new(),
            last_id: last_event_id.map(str::to_string),
        })
    }
    pub async fn create_webhook(&self, url: &str) -> Result<Webhook> {
        self.post("/v1/webhooks", &CreateWebhook { url: url.into() })
            .await
    }
    pub async fn webhooks(&self) -> Result<WebhookList> {
        self.get("/v1/webhooks").await
    }
    pub async fn webhook(&self, id: &str) -> Result<Webhook> {
        self.get(&format!("/v1/webhooks/{}", enc(id))).await
    }
    pub async fn delete_webhook(&self, id: &str) -> Result<()> {
        let (status, _) = self
            .raw(Method::DELETE, &format!("/v1/webhooks/{}", enc(id)), None)
            .await?;
        if status.is_success() {
            Ok(())
        } else {
            self.get::<serde_json::Value>(&format!("/v1/webhooks/{}", enc(id)))
                .await
                .map(|_| ())
        }
    }
    pub async fn rotate_webhook(&self, id: &str) -> Result<Webhook> {
        self.post_empty(&format!("/v1/webhooks/{}/rotate", enc(id)))
            .await
    }
    pub async fn enable_webhook(&self, id: &str) -> Result<Webhook> {
        self.post_empty(&format!("/v1/webhooks/{}/enable", enc(id)))
            .await
    }
    pub async fn disable_webhook(&self, id: &str) -> Result<Webhook> {
        self.post_empty(&format!("/v1/webhooks/{}/disable", enc(id)))
            .await
    }
    pub async fn replay_webhook(&self, id: &str, after: Option<&str>) -> Result<Replay> {
        self.post(
            &format!("/v1/webhooks/{}/replay", enc(id)),
            &ReplayWebhook {
                after: after.map(str::to_string),
            },
        )
        .await
    }
    pub async fn webhook_attempts(&self, id: &str) -> Result<WebhookAttempts> {
        self.get(&format!("/v1/webhooks/{}/attempts", enc(id)))
            .await
    }
}

/// A live event stream (`GET /v1/events` as Server-Sent Events).
///
/// [`next`](Self::next) yields events in order; when the connection drops,
/// open a new stream with the last id seen ([`last_id`](Self::last_id)): the
/// server resumes exactly after it.
pub struct EventStream {
    resp: reqwest::Response,
    /// Bytes received, decoded only as whole events (a character may be split across chunks).
    buf: Vec<u8>,
    last_id: Option<String>,
}

impl EventStream {
    /// The next event; `Ok(None)` when the server closed the stream.
    pub async fn next(&mut self) -> Result<Option<Event>> {
        loop {
            let end = self.buf.windows(2).position(|w| w == b"\n\n");
            if let Some(end) = end {
                let bytes: Vec<u8> = self.buf.drain(..end + 2).collect();
                let block = String::from_utf8_lossy(&bytes);
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(d) = line.strip_prefix("data:") {
                        if !data.is_empty() {
                            data.push('\n');
                        }
                        data.push_str(d.strip_prefix(' ').unwrap_or(d));
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                let event: Event =
                    serde_json::from_str(&data).map_err(|e| ClientError::Decode {
                        status: 200,
                        message: format!("event data: {e}"),
                    })?;
                self.last_id = Some(event.id.clone());
                return Ok(Some(event));
            }
            match self.resp.chunk().await? {
                Some(bytes) => {
                    // Our server ends lines with \n; tolerate \r\n from proxies.
                    self.buf.extend(bytes.iter().filter(|b| **b != b'\r'));
                    if self.buf.len() > 4 * 1024 * 1024 {
                        return Err(ClientError::Decode {
                            status: 200,
                            message: "an event larger than 4 MiB".into(),
                        });
                    }
                }
                None => return Ok(None),
            }
        }
    }

    /// The id of the last event returned.
    pub fn last_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }
}

/// Percent-encodes a path segment.
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `?after=…&limit=…` (what is given).
fn page_query(after: Option<&str>, limit: Option<u32>) -> String {
    query(&[
        ("after", after.map(str::to_string)),
        ("limit", limit.map(|l| l.to_string())),
    ])
}

fn query(params: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = params
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", enc(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}
