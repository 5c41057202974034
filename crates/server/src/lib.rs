//! Symbolon's HTTP server.
//!
//! The only crate that knows HTTP (axum). Handlers ([`routes`]) are thin: they
//! extract the caller and the body, call the [`Exchange`], and render its
//! result or its error through the one error table.
//!
//! [`serve`] runs the server on a listener the caller bound (tests bind port 0)
//! until `shutdown` resolves.

pub mod after_sale;
pub mod client_ip;
pub mod config;
pub mod delivery;
pub mod error;
pub mod events;
pub mod extract;
pub mod headers;
pub mod idempotency;
pub mod mailer;
pub mod metrics;
pub mod net;
pub mod openapi;
pub mod probes;
pub mod rate_limit;
pub mod registration;
pub mod routes;
pub mod transparency;
pub mod web;

pub use config::{ConfigLayer, ServerConfig};

use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::Router;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use symbolon_core::ids::IdGen;
use symbolon_core::{Clock, ErrorCode, SystemClock};
use symbolon_exchange::{Exchange, ExchangeConfig, MasterKey, SandboxGateway};
use symbolon_match::engine::Engine;
use symbolon_store::{Store, StoreError};
use symbolon_store_sqlite::SqliteStore;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    pub exchange: Arc<Exchange>,
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot create data directory {path}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the store")]
    Store(#[from] StoreError),
    #[error("server I/O error")]
    Io(#[from] std::io::Error),
    #[error("cannot open the search index")]
    Index(#[from] symbolon_match::engine::EngineError),
    #[error("cannot build the search index")]
    IndexSync(#[source] symbolon_exchange::ExchangeError),
    #[error("cannot load the master key")]
    MasterKey(#[from] symbolon_exchange::KeyringError),
    #[error("cannot build the webhook HTTP client")]
    WebhookClient(#[source] reqwest::Error),
    #[error("cannot seal signing keys under the master key")]
    SealKeys(#[source] symbolon_exchange::ExchangeError),
    #[error("cannot start the mailer")]
    Mailer(#[from] mailer::MailerError),
    /// An admin command the exchange refused (e.g. a bad name).
    #[error("{0}")]
    Admin(#[source] symbolon_exchange::ExchangeError),
}

/// The router over an exchange, with no rate limit and no limit on
/// registrations per address.
pub fn router(exchange: Arc<Exchange>) -> Router {
    let unlimited = ServerConfig {
        rate_limit_per_second: 0,
        ..Default::default()
    };
    router_with(exchange, &unlimited)
}

/// The router over an exchange with the limits of `config`:
/// `registrations_per_ip_per_hour` on `POST /v1/accounts` ([`registration`]),
/// the rate limits ([`rate_limit`]), the client's address from
/// `trusted_proxies` ([`client_ip`]); and the security headers of every
/// response ([`headers`]). It never drains.
pub fn router_with(exchange: Arc<Exchange>, config: &ServerConfig) -> Router {
    app(exchange, config, probes::Draining::default())
}

/// [`router_with`], whose `/readyz` fails once `draining` is set; with
/// `/metrics` unless `metrics_listen` serves it elsewhere; every request
/// counted by route ([`metrics::track`]).
pub fn app(exchange: Arc<Exchange>, config: &ServerConfig, draining: probes::Draining) -> Router {
    use routes::*;
    let registrations = Arc::new(registration::RegistrationLimiter::new(
        config.registrations_per_ip_per_hour,
    ));
    let rate_limits = Arc::new(rate_limit::RateLimits::new(
        exchange.clone(),
        config.credential_rate(),
        config.address_rate(),
    ));
    let trusted: Arc<[client_ip::IpNet]> = config.trusted_proxies.clone().into();
    let security = headers::SecurityHeaders::for_public_url(&exchange.config().public_url);
    let v1 = Router::new()
        .route(
            "/accounts",
            post(create_account)
                .layer(axum::middleware::from_fn_with_state(
                    registrations.clone(),
                    registration::limit,
                ))
                // Its answer carries the new API key.
                .layer(axum::middleware::map_response(no_store)),
        )
        .route("/account", get(whoami))
        .route("/products", post(create_product).get(list_products))
        .route("/products/{id}", get(get_product).patch(update_product))
        .route("/products/{id}/archive", post(archive_product))
        .route("/passes", post(create_pass))
        .route("/passes/{id}", get(get_pass))
        .route("/passes/{id}/grants", post(grant))
        .route("/passes/{id}/revoke", post(revoke_pass))
        .route("/passes/{id}/orders", post(pass_order))
        .route("/passes/{id}/units", get(pass_units))
        .route("/passes/{id}/units/{unit}/history", get(unit_history))
        .route("/passes/{id}/units/{unit}/transfer", post(transfer_unit))
        .route("/providers/{id}/status/revocation", get(status_list))
        .route("/provider/keys", get(signing_keys).post(register_key))
        .route("/passes/upload", post(upload_pass))
        .route("/provider/keys/rotate", post(rotate_key))
        .route("/providers/{id}/jwks.json", get(jwks))
        .route("/holder/profile", put(holder_profile))
        .route("/holders/{id}", get(get_holder))
        .route("/wallet", get(wallet))
        .route("/inbox", get(inbox))
        .route("/interactions/{id}/offer", post(offer))
        .route("/interactions/{id}/decline", post(decline))
        .route("/demands", post(create_demand).get(list_demands))
        .route("/demands/{id}", get(get_demand))
        .route("/demands/{id}/cancel", post(cancel_demand))
        .route("/offers/{id}/accept", post(accept))
        .route("/offers/{id}/rating", post(rate))
        .route(
            "/requester/profile",
            put(set_requester_profile).get(get_requester_profile),
        )
        .route("/orders", post(create_order).get(list_orders))
        .route("/orders/{id}", get(get_order))
        .route("/orders/{id}/pay", post(pay_order))
        .route("/orders/{id}/ship", post(ship_order))
        .route("/balance", get(balance))
        .route("/orders/{id}/cancel", post(after_sale::cancel_order))
        .route("/orders/{id}/refunds", post(after_sale::refund_order))
        .route("/orders/{id}/delivered", post(after_sale::confirm_delivery))
        .route("/orders/{id}/return", post(after_sale::request_return))
        .route(
            "/orders/{id}/return/accept",
            post(after_sale::accept_return),
        )
        .route(
            "/orders/{id}/return/refuse",
            post(after_sale::refuse_return),
        )
        .route("/orders/{id}/disputes", post(after_sale::open_dispute))
        .route("/disputes", get(after_sale::list_disputes))
        .route("/disputes/{id}", get(after_sale::get_dispute))
        .route("/disputes/{id}/messages", post(after_sale::dispute_message))
        .route("/disputes/{id}/resolve", post(after_sale::resolve_dispute))
        .route("/payouts", post(after_sale::payout))
        .route("/events", get(events::events))
        .route("/account/keys", put(events::set_party_keys))
        .route("/accounts/{id}/keys", get(events::party_keys))
        .route(
            "/passes/{id}/seal",
            put(events::put_seal).get(events::get_seal),
        )
        .route(
            "/passes/{id}/shares",
            post(events::share_to_holder).get(events::my_shares),
        )
        .route("/offers/{id}/shares", post(events::share_with_offer))
        .route(
            "/offers/{id}/requester/keys",
            get(events::offer_requester_keys),
        )
        .route("/orders/{id}/shares", post(events::release_shares))
        .route(
            "/webhooks",
            post(events::create_webhook).get(events::list_webhooks),
        )
        .route(
            "/webhooks/{id}",
            get(events::get_webhook).delete(events::delete_webhook),
        )
        .route("/webhooks/{id}/rotate", post(events::rotate_webhook))
        .route("/webhooks/{id}/enable", post(events::enable_webhook))
        .route("/webhooks/{id}/disable", post(events::disable_webhook))
        .route("/webhooks/{id}/replay", post(events::replay_webhook))
        .route("/webhooks/{id}/attempts", get(events::webhook_attempts))
        .merge(transparency::v1_routes())
        .layer(axum::middleware::from_fn_with_state(
            AppState {
                exchange: exchange.clone(),
            },
            idempotency::layer,
        ))
        .layer(axum::middleware::from_fn(no_store_if_authorized));
    let ops = probes::routes(exchange.clone(), draining);
    let ops = if config.metrics_listen.is_none() {
        ops.merge(metrics::route())
    } else {
        ops
    };
    Router::new()
        .route("/healthz", get(healthz))
        .merge(ops)
        .route(
            "/.well-known/jwt-vc-issuer/v1/providers/{id}",
            get(issuer_metadata),
        )
        .merge(web::router(registrations))
        .merge(transparency::public_routes())
        .nest("/v1", v1)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            AppState {
                exchange: exchange.clone(),
            },
            kick_after_writes,
        ))
        .layer(DefaultBodyLimit::max(symbolon_core::limits::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            rate_limits,
            rate_limit::limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            trusted,
            client_ip::resolve,
        ))
        .layer(axum::middleware::from_fn_with_state(security, headers::set))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(metrics::track))
        .with_state(AppState { exchange })
}

/// Answers that may hold personal data or secrets must not be kept by caches.
async fn no_store(mut resp: axum::response::Response) -> axum::response::Response {
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    resp
}

/// Every `/v1` answer to a request that carries credentials is `no-store`
/// (public reads such as key sets and status lists keep their own caching).
async fn no_store_if_authorized(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let authorized = req.headers().contains_key(header::AUTHORIZATION);
    let resp = next.run(req).await;
    if authorized {
        no_store(resp).await
    } else {
        resp
    }
}

/// A write has committed by the time it is answered, and may have written
/// events (a web form's answer is a redirect, a refusal writes none, but a
/// spare poll costs one indexed read): the poller reads them now, so this
/// replica's streams and webhooks need not wait for its next tick.
async fn kick_after_writes(
    axum::extract::State(s): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let write = !req.method().is_safe();
    let resp = next.run(req).await;
    if write {
        s.exchange.hub().kick();
    }
    resp
}

/// `GET /openapi.json` (routed with the web pages: [`web::routes`]).
pub(crate) async fn openapi_doc() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        openapi::openapi_json(),
    )
}

/// No route: the 404 page for a browser, else the JSON error.
async fn not_found(
    axum::extract::State(s): axum::extract::State<AppState>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html && !uri.path().starts_with("/v1/") {
        return web::not_found_page(s.exchange, &headers);
    }
    error::ApiError::new(
        ErrorCode::RouteNotFound,
        "no such endpoint; see /openapi.json",
    )
    .into_response()
}

async fn method_not_allowed() -> error::ApiError {
    error::ApiError::new(
        ErrorCode::MethodNotAllowed,
        "the endpoint does not accept this method",
    )
}

/// Opens the store the configuration names: `database_url` (`sqlite:…` or
/// `postgres://…`), or else SQLite in `data_dir`. Migrations run here.
pub async fn open_store(config: &ServerConfig) -> Result<Arc<dyn Store>, ServeError> {
    match config.database_url.as_deref() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Ok(
            Arc::new(symbolon_store_postgres::PostgresStore::connect(url).await?),
        ),
        Some(url) => Ok(Arc::new(SqliteStore::connect(url).await?)),
        None => {
            if !config.data_dir.is_dir() {
                ensure_data_dir(&config.data_dir)?;
            }
            let db = config.data_dir.join("symbolon.db");
            secure_db_files(&db)?;
            Ok(Arc::new(SqliteStore::open(&db).await?))
        }
    }
}

/// Creates the data directory, mode 0700 (and any missing parents, 0700 too).
/// A directory that exists already is the operator's: its mode is kept, with a
/// warning when group or others may enter it.
pub fn ensure_data_dir(dir: &std::path::Path) -> Result<(), ServeError> {
    let err = |source| ServeError::DataDir {
        path: dir.display().to_string(),
        source,
    };
    if dir.is_dir() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir).map_err(err)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    dir = %dir.display(),
                    mode = format!("{:o}", mode & 0o777),
                    "the data directory is open to group or others; consider chmod 700"
                );
            }
        }
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(err)
}

/// The SQLite database file and its `-wal` and `-shm` are readable by the
/// owner only (0600). SQLite gives `-wal` and `-shm` the mode of the database
/// file, so the file is created 0600 before SQLite opens it; files left more
/// open by an earlier version are tightened.
pub fn secure_db_files(db: &std::path::Path) -> Result<(), ServeError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let err = |path: &std::path::Path| {
            let path = path.display().to_string();
            move |source| ServeError::DataDir { path, source }
        };
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(db)
            .map_err(err(db))?;
        for suffix in ["", "-wal", "-shm"] {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            let path = std::path::PathBuf::from(name);
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                    .map_err(err(&path))?;
                tracing::info!(file = %path.display(), "made readable by the owner only (0600)");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = db;
    Ok(())
}

/// The matching engine, its index in `<data_dir>/index`. When that directory
/// is in use by another process (replicas sharing a data dir), this one keeps
/// its index in memory and says so.
pub fn open_engine(config: &ServerConfig) -> Result<Arc<Engine>, ServeError> {
    let dir = config.data_dir.join("index");
    match Engine::open(&dir) {
        Ok(engine) => Ok(Arc::new(engine)),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "search index directory unusable; indexing in memory");
            Ok(Arc::new(Engine::in_memory()?))
        }
    }
}

/// Builds the exchange on the configured store.
pub async fn open_exchange(
    config: &ServerConfig,
    public_url: &str,
    clock: Arc<dyn Clock>,
) -> Result<Arc<Exchange>, ServeError> {
    // The data dir holds the search index whatever the backend.
    ensure_data_dir(&config.data_dir)?;
    let engine = open_engine(config)?;
    exchange_with_engine(config, public_url, clock, engine).await
}

/// The server's admin commands, run beside (or without) a running server on
/// the same store: they reach the database directly, never the HTTP API.
pub mod admin {
    use super::*;

    /// Creates an operator account (dispute resolution) and returns its API
    /// key, shown once. Registration never grants the role.
    pub async fn create_operator(
        config: &ServerConfig,
        name: &str,
    ) -> Result<symbolon_api::AccountCreated, ServeError> {
        ensure_data_dir(&config.data_dir)?;
        // An index of its own: a running server may hold the data dir's.
        let engine = Arc::new(Engine::in_memory()?);
        let url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", config.listen));
        let exchange = exchange_with_engine(config, &url, Arc::new(SystemClock), engine).await?;
        let created = exchange
            .create_operator(name)
            .await
            .map_err(ServeError::Admin)?;
        tracing::info!(account_id = %created.id, "operator created");
        Ok(created)
    }
}

async fn exchange_with_engine(
    config: &ServerConfig,
    public_url: &str,
    clock: Arc<dyn Clock>,
    engine: Arc<Engine>,
) -> Result<Arc<Exchange>, ServeError> {
    let store = open_store(config).await?;
    let master_key = match &config.master_key {
        Some(k) => MasterKey::parse(k)?,
        None => MasterKey::load_or_create(&config.data_dir.join("master.key"))?,
    };
    let ids = match config.seed {
        Some(seed) => IdGen::from_seed(seed),
        None => IdGen::from_entropy(),
    };
    Ok(Arc::new(Exchange::new(
        store,
        engine,
        Arc::new(SandboxGateway::new()),
        clock,
        ids,
        ExchangeConfig {
            public_url: public_url.to_string(),
            registration_open: config.registration_open,
            master_key,
            webhooks: config.webhook_policy(),
            event_poll: config.event_poll,
            unpaid_order_ttl: config.unpaid_order_ttl,
            auto_deliver_after: config.auto_deliver_after,
            return_window: config.return_window,
        },
    )))
}

/// Serves the API on `listener` until `shutdown` resolves, then drains
/// in-flight requests and closes the store.
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    serve_with_clock(listener, config, Arc::new(SystemClock), shutdown).await
}

/// [`serve`] with an injected clock (tests move time by hand).
pub async fn serve_with_clock(
    listener: TcpListener,
    config: ServerConfig,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    prepare(listener, config, clock).await?.run(shutdown).await
}

/// A server whose store is open and migrated, ready to accept connections.
pub struct Prepared {
    listener: TcpListener,
    exchange: Arc<Exchange>,
    net: net::NetSettings,
    /// The settings the router takes its limits from.
    config: ServerConfig,
    /// The e-mail sender, when `smtp_url` is set, and how often it looks.
    mailer: Option<(mailer::Mailer, Duration)>,
    /// `/metrics`'s own listener, when `metrics_listen` is set.
    metrics_listener: Option<TcpListener>,
    /// Set when shutdown begins: `/readyz` fails from then on.
    draining: probes::Draining,
}

/// Opens the store (running migrations) so that a caller can announce
/// readiness only once the server can really answer.
pub async fn prepare(
    listener: TcpListener,
    config: ServerConfig,
    clock: Arc<dyn Clock>,
) -> Result<Prepared, ServeError> {
    let addr = listener.local_addr()?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let exchange = open_exchange(&config, &public_url, clock).await?;
    exchange
        .seal_legacy_keys()
        .await
        .map_err(ServeError::SealKeys)?;
    exchange.sync_index().await.map_err(ServeError::IndexSync)?;
    let mailer = match &config.smtp_url {
        Some(url) => Some((
            mailer::Mailer::new(
                url,
                config.mail_from.as_deref(),
                &public_url,
                config.mail_retry(),
            )?,
            config.event_poll,
        )),
        None => None,
    };
    tracing::info!(mail = mailer.is_some(), "e-mail notifications");
    metrics::install();
    let metrics_listener = match config.metrics_listen {
        Some(at) => {
            let l = TcpListener::bind(at).await?;
            tracing::info!(addr = %l.local_addr()?, "metrics listening (only /metrics)");
            Some(l)
        }
        None => None,
    };
    tracing::info!(%addr, %public_url, data_dir = %config.data_dir.display(), backend = exchange.store().backend(), "ready");
    Ok(Prepared {
        listener,
        exchange,
        net: net::NetSettings::from(&config),
        mailer,
        metrics_listener,
        draining: probes::Draining::default(),
        config,
    })
}

impl Prepared {
    /// The address the server listens on.
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// The address `/metrics` is served on when `metrics_listen` is set.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// The exchange this server serves (tests reach its store).
    pub fn exchange(&self) -> &Arc<Exchange> {
        &self.exchange
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests and closes the store.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let Prepared {
            listener,
            exchange,
            net,
            config,
            mailer,
            metrics_listener,
            draining,
        } = self;
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let client = delivery::http_client(exchange.webhook_policy().allow_private)
            .map_err(ServeError::WebhookClient)?;
        let worker = tokio::spawn(delivery::run_worker(
            exchange.clone(),
            client,
            stop_rx.clone(),
        ));
        let mail_task = mailer.map(|(m, period)| {
            tokio::spawn(mailer::run(exchange.clone(), m, period, stop_rx.clone()))
        });
        let poller = tokio::spawn(delivery::run_poller(exchange.clone(), stop_rx.clone()));
        let listener_task = tokio::spawn(delivery::run_listener(exchange.clone(), stop_rx.clone()));
        let sweeper = {
            let exchange = exchange.clone();
            tokio::spawn(async move {
                let mut tick =
                    tokio::time::interval(Duration::from_secs(config::EXPIRY_SWEEP_SECONDS));
                let mut sweeps: u64 = 0;
                loop {
                    tokio::select! {
                        _ = tick.tick() => {
                            match exchange.expire_due().await {
                                Ok(0) => {}
                                Ok(n) => tracing::info!(expired = n, "interaction requests expired"),
                                Err(e) => tracing::warn!(error = %e, "expiry sweep failed"),
                            }
                            match exchange.expire_unpaid_orders().await {
                                Ok(0) => {}
                                Ok(n) => tracing::info!(expired = n, "unpaid orders expired"),
                                Err(e) => tracing::warn!(error = %e, "expiring unpaid orders failed"),
                            }
                            match exchange.advance_orders().await {
                                Ok((0, 0)) => {}
                                Ok((delivered, settled)) => tracing::info!(delivered, settled, "orders delivered past the deadline and settled past the return window"),
                                Err(e) => tracing::warn!(error = %e, "advancing orders failed"),
                            }
                            match exchange.retry_stale_refunds().await {
                                Ok(0) => {}
                                Ok(n) => tracing::info!(refunds = n, "pending refunds completed"),
                                Err(e) => tracing::warn!(error = %e, "retrying pending refunds failed"),
                            }
                            if let Err(e) = exchange.rematch_waiting().await {
                                tracing::warn!(error = %e, "re-matching standing demands failed");
                            }
                            match exchange.idempotency_prune().await {
                                Ok(0) => {}
                                Ok(n) => tracing::info!(keys = n, "idempotency keys older than 24 h forgotten"),
                                Err(e) => tracing::warn!(error = %e, "pruning idempotency keys failed"),
                            }
                            match exchange.prune_web_sessions().await {
                                Ok(0) => {}
                                Ok(n) => tracing::info!(sessions = n, "ended web sessions forgotten"),
                                Err(e) => tracing::warn!(error = %e, "pruning web sessions failed"),
                            }
                            sweeps += 1;
                            if sweeps.is_multiple_of(5) {
                                metrics::upkeep();
                            }
                            if sweeps % 60 == 1 {
                                match exchange.prune_events().await {
                                    Ok(0) => {}
                                    Ok(n) => tracing::info!(events = n, "old events pruned"),
                                    Err(e) => tracing::warn!(error = %e, "pruning events failed"),
                                }
                                match exchange.prune_mails().await {
                                    Ok(0) => {}
                                    Ok(n) => tracing::info!(mails = n, "finished mails forgotten"),
                                    Err(e) => tracing::warn!(error = %e, "pruning mails failed"),
                                }
                            }
                        }
                        _ = stop_rx.changed() => break,
                    }
                }
            })
        };
        let app = app(exchange.clone(), &config, draining.clone());
        let hub = exchange.hub().clone();
        let (closing_tx, closing_rx) = tokio::sync::watch::channel(false);
        let drain_delay = config.drain_delay;
        let shutdown = async move {
            shutdown.await;
            // Readiness fails first; the load balancer has `drain_delay` to
            // notice while this server still serves and accepts.
            draining.start();
            if !drain_delay.is_zero() {
                tracing::info!(
                    drain_ms = drain_delay.as_millis() as u64,
                    "draining: /readyz answers 503; still serving"
                );
                tokio::time::sleep(drain_delay).await;
            }
            let _ = closing_tx.send(true);
            // Open event streams would hold the graceful shutdown until its grace ran out.
            hub.close();
        };
        let metrics_server = metrics_listener.map(|l| {
            let mut closing = closing_rx.clone();
            tokio::spawn(net::serve(
                l,
                metrics::router(exchange.clone()),
                net,
                async move {
                    let _ = closing.wait_for(|c| *c).await;
                },
            ))
        });
        net::serve(listener, app, net, shutdown).await;
        if let Some(m) = metrics_server {
            let _ = m.await;
        }
        let _ = stop_tx.send(true);
        let _ = sweeper.await;
        let _ = poller.await;
        let _ = listener_task.await;
        // In-flight webhook attempts finish (bounded by their timeout); an
        // interrupted one is retried by whichever replica claims it next.
        let _ = worker.await;
        if let Some(t) = mail_task {
            let _ = t.await;
        }
        exchange.store().close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
