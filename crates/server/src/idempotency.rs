//! `Idempotency-Key` on every POST (Stripe semantics), for authenticated callers.
//!
//! The first request with a key runs and its response (status, content type,
//! body) is stored with a fingerprint of the request (method, path and query,
//! body). The same key with the same request replays the stored response,
//! marked `Idempotent-Replayed: true`; with another request → 409
//! `idempotency_error`; while the first still runs → 409 `idempotency_error`
//! (retry). A 5xx answer is not stored, so a retry runs again. Keys are per
//! account, kept 24 h (`IDEMPOTENCY_KEY_TTL_SECONDS`); a request cut off by a
//! crash frees its key after `IDEMPOTENCY_LOCK_SECONDS`.
//!
//! Anonymous POSTs (registration) are not stored: their answers carry API keys.

use crate::error::ApiError;
use crate::extract::{bearer_key, MAX_API_KEY_CHARS};
use crate::AppState;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sha2::{Digest, Sha256};
use symbolon_core::limits::{
    IDEMPOTENT_REQUEST_TIMEOUT_SECONDS, MAX_BODY_BYTES, MAX_IDEMPOTENCY_KEY_CHARS,
    MAX_IDEMPOTENT_RESPONSE_BYTES,
};
use symbolon_core::ErrorCode;
use symbolon_exchange::ExchangeError;
use symbolon_store::{IdempotencyStart, StoredResponse};

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= MAX_IDEMPOTENCY_KEY_CHARS
        && k.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

fn fingerprint(method: &Method, uri: &axum::http::Uri, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_str().as_bytes());
    h.update([0]);
    h.update(
        uri.path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("")
            .as_bytes(),
    );
    h.update([0]);
    h.update(body);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn layer(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(raw) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    let key = match raw.to_str() {
        Ok(k) if valid_key(k) => k.to_string(),
        _ => {
            return ApiError(
                ExchangeError::new(
                    ErrorCode::InvalidField,
                    format!(
                        "Idempotency-Key: 1–{MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters"
                    ),
                )
                .with_details(json!({"field": "Idempotency-Key"})),
            )
            .into_response()
        }
    };
    let bearer = bearer_key(req.headers())
        .filter(|k| k.len() <= MAX_API_KEY_CHARS)
        .map(str::to_string);
    let Some(bearer) = bearer else {
        return next.run(req).await;
    };
    // The rate limit may have read the account already.
    let known = req
        .extensions()
        .get::<crate::extract::Authenticated>()
        .filter(|a| a.bearer == bearer)
        .map(|a| a.account.clone());
    let account = match known {
        Some(a) => a,
        None => match s.exchange.authenticate(&bearer).await {
            Ok(a) => a,
            // The handler answers 401 as usual.
            Err(_) => return next.run(req).await,
        },
    };
    let (mut parts, body) = req.into_parts();
    let bytes = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("the body exceeds {MAX_BODY_BYTES} bytes"),
            )
            .into_response()
        }
    };
    let fp = fingerprint(&parts.method, &parts.uri, &bytes);
    match s.exchange.idempotency_begin(&account.id, &key, &fp).await {
        Err(e) => ApiError(e).into_response(),
        Ok(IdempotencyStart::Mismatch) => ApiError::new(
            ErrorCode::IdempotencyError,
            "this Idempotency-Key was used with other parameters; use a new key for a new request",
        )
        .into_response(),
        Ok(IdempotencyStart::InProgress) => ApiError::new(
            ErrorCode::IdempotencyError,
            "a request with this Idempotency-Key is still running; retry shortly",
        )
        .into_response(),
        Ok(IdempotencyStart::Replay(r)) => {
            if let Some(gone) = deleted_since(&s, &account, &parts, &r).await {
                return gone;
            }
            let mut resp = (
                StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                r.body,
            )
                .into_response();
            if let Some(ct) = r.content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
                resp.headers_mut().insert(CONTENT_TYPE, ct);
            }
            resp.headers_mut()
                .insert(REPLAYED, HeaderValue::from_static("true"));
            resp
        }
        Ok(IdempotencyStart::Run) => {
            // A request that overruns is stopped before its key's lock lapses,
            // so a retry never runs beside it (a retry after the stop finds,
            // through the derived ids, whatever it had committed).
            // The handler's `Caller` takes the account read here instead of
            // reading it again.
            parts.extensions.insert(crate::extract::Authenticated {
                bearer: bearer.clone(),
                account: account.clone(),
            });
            let run = symbolon_exchange::idempotency::with_request_ids(
                &account.id,
                &key,
                &fp,
                next.run(Request::from_parts(parts, Body::from(bytes))),
            );
            let Ok(resp) = tokio::time::timeout(
                std::time::Duration::from_secs(IDEMPOTENT_REQUEST_TIMEOUT_SECONDS),
                run,
            )
            .await
            else {
                let _ = s.exchange.idempotency_release(&account.id, &key).await;
                tracing::warn!(account = %account.id, "an idempotent request overran its time and was stopped");
                return ApiError::new(
                    ErrorCode::Unavailable,
                    "the request took too long and was stopped; retry it with the same Idempotency-Key",
                )
                .into_response();
            };
            let (rparts, rbody) = resp.into_parts();
            let rbytes = match to_bytes(rbody, MAX_IDEMPOTENT_RESPONSE_BYTES).await {
                Ok(b) => b,
                Err(e) => {
                    let _ = s.exchange.idempotency_release(&account.id, &key).await;
                    return ApiError(ExchangeError::internal(e)).into_response();
                }
            };
            let outcome = if rparts.status.is_server_error() {
                s.exchange.idempotency_release(&account.id, &key).await
            } else {
                let stored = StoredResponse {
                    status: rparts.status.as_u16(),
                    content_type: rparts
                        .headers
                        .get(CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string),
                    body: rbytes.to_vec(),
                };
                s.exchange
                    .idempotency_finish(&account.id, &key, &stored)
                    .await
            };
            if let Err(e) = outcome {
                tracing::error!(error = %e, key = %key, "cannot record the idempotent response");
            }
            Response::from_parts(rparts, Body::from(rbytes))
        }
    }
}

/// A replay answers what the first request answered, whatever happened
/// since (Stripe semantics) — except that it never answers a 201 naming an
/// object deleted since. Webhook endpoints are the only objects the API
/// deletes, so a replayed `POST /v1/webhooks` whose endpoint is gone answers
/// 409 `idempotency_error` (a new key creates another endpoint).
async fn deleted_since(
    s: &AppState,
    account: &symbolon_store::Account,
    parts: &axum::http::request::Parts,
    stored: &StoredResponse,
) -> Option<Response> {
    // The layer runs inside the `/v1` router, which sees paths without it.
    let path = parts.uri.path();
    if path.strip_prefix("/v1").unwrap_or(path) != "/webhooks"
        || stored.status != StatusCode::CREATED.as_u16()
    {
        return None;
    }
    let body: serde_json::Value = serde_json::from_slice(&stored.body).ok()?;
    let id = body.get("id")?.as_str()?;
    match s.exchange.get_webhook(account, id).await {
        Err(e) if e.code == ErrorCode::NotFound => Some(
            ApiError(
                ExchangeError::new(
                    ErrorCode::IdempotencyError,
                    format!("the webhook endpoint {id} this Idempotency-Key created was deleted since; use a new key to create another"),
                )
                .with_details(json!({"deleted": id})),
            )
            .into_response(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_fingerprints() {
        assert!(valid_key("order-2026-11-29-0001"));
        assert!(!valid_key(""));
        assert!(!valid_key("has space"));
        assert!(!valid_key(&"x".repeat(MAX_IDEMPOTENCY_KEY_CHARS + 1)));
        assert!(valid_key(&"x".repeat(MAX_IDEMPOTENCY_KEY_CHARS)));
        let u: axum::http::Uri = "/v1/orders?x=1".parse().unwrap();
        let v: axum::http::Uri = "/v1/orders?x=2".parse().unwrap();
        assert_ne!(
            fingerprint(&Method::POST, &u, b"{}"),
            fingerprint(&Method::POST, &v, b"{}")
        );
        assert_ne!(
            fingerprint(&Method::POST, &u, b"{}"),
            fingerprint(&Method::POST, &u, b"{ }")
        );
        assert_eq!(
            fingerprint(&Method::POST, &u, b"{}"),
            fingerprint(&Method::POST, &u, b"{}")
        );
    }
}
