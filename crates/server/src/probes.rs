//! Probes: liveness (`/healthz`, `/livez`) and readiness (`/readyz`).
//!
//! Liveness says only that the process answers HTTP. Readiness says this
//! node should get traffic: it is not draining, the store answers a cheap
//! read (the applied schema version, bounded by `PROBE_STORE_TIMEOUT_MILLIS`),
//! the migrations this binary knows are applied, and the matching engine has
//! synced. On shutdown the server first sets [`Draining`], so `/readyz`
//! answers 503 while it keeps serving for `drain_delay`; only then does it
//! stop accepting (`Prepared::run`). Probes need no credentials and are never
//! rate limited.

use crate::error::ApiError;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use symbolon_api::{Health, Readiness, ReadinessCheck};
use symbolon_core::limits::PROBE_STORE_TIMEOUT_MILLIS;
use symbolon_core::ErrorCode;
use symbolon_exchange::{Exchange, ExchangeError};

/// Set once shutdown has begun: readiness fails from then on.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn start(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What the probes read.
#[derive(Clone)]
pub struct ProbeState {
    exchange: Arc<Exchange>,
    draining: Draining,
}

/// `/livez` and `/readyz` (`/healthz` stays with the API routes).
pub fn routes<S>(exchange: Arc<Exchange>, draining: Draining) -> Router<S> {
    Router::new()
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .with_state(ProbeState { exchange, draining })
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/livez", tag = "meta",
    description = "Liveness, as `/healthz`: the process answers HTTP. Never rate limited.",
    responses((status = 200, body = Health)))]
pub async fn livez() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Readiness: this node should get traffic.
#[utoipa::path(get, path = "/readyz", tag = "meta",
    description = "Readiness: the node is not draining (shutdown has not begun), the store answers, its schema is the one this binary migrates to, and the matching engine has synced. 503 `not_ready` names the first failing check in `details.failing`, with every check in `details.checks`. Never rate limited.",
    responses(
        (status = 200, body = Readiness),
        (status = 503, description = "`not_ready`: a check failed.", body = symbolon_api::ErrorBody)
    ))]
pub async fn readyz(State(p): State<ProbeState>) -> Response {
    let checks = readiness(&p.exchange, &p.draining).await;
    match checks.iter().find(|c| !c.ok) {
        None => Json(Readiness {
            status: "ready".into(),
            checks,
        })
        .into_response(),
        Some(failing) => {
            let message = format!("not ready: {} ({})", failing.name, failing.detail);
            let details = serde_json::json!({
                "failing": failing.name,
                "checks": checks,
            });
            ApiError(ExchangeError::new(ErrorCode::NotReady, message).with_details(details))
                .into_response()
        }
    }
}

/// Every readiness check, in order: `draining`, `store`, `migrations`, `engine`.
pub async fn readiness(exchange: &Exchange, draining: &Draining) -> Vec<ReadinessCheck> {
    let check = |name: &str, ok: bool, detail: String| ReadinessCheck {
        name: name.into(),
        ok,
        detail,
    };
    let mut out = Vec::with_capacity(4);
    out.push(if draining.is_draining() {
        check("draining", false, "shutting down".into())
    } else {
        check("draining", true, "serving".into())
    });
    let store = exchange.store();
    let known = store.known_schema_version();
    let bound = Duration::from_millis(PROBE_STORE_TIMEOUT_MILLIS);
    match tokio::time::timeout(bound, store.schema_version()).await {
        Ok(Ok(applied)) => {
            out.push(check("store", true, format!("{} answers", store.backend())));
            out.push(check(
                "migrations",
                applied == known,
                format!("schema {applied} of {known}"),
            ));
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the store did not answer");
            out.push(check("store", false, format!("{} error", store.backend())));
            out.push(check("migrations", false, "unknown: no store".into()));
        }
        Err(_) => {
            out.push(check(
                "store",
                false,
                format!("no answer within {PROBE_STORE_TIMEOUT_MILLIS} ms"),
            ));
            out.push(check("migrations", false, "unknown: no store".into()));
        }
    }
    out.push(match exchange.engine_status().version {
        Some(v) => check("engine", true, format!("market version {v}")),
        None => check("engine", false, "not synced yet".into()),
    });
    out
}
