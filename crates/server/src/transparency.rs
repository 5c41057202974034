//! The selection log over HTTP: a demand's entry with its inclusion proof
//! (its requester, or a holder it names), a holder's entries, consistency
//! proofs, and — public, at well-known URLs — the newest signed checkpoint
//! and the log's public key (both `text/plain`, as C2SP notes are).

use crate::error::ApiResult;
use crate::extract::{Caller, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use symbolon_api::tlog::{ConsistencyProof, SelectionList, SelectionProof};
use symbolon_api::ErrorBody;

/// The routes under `/v1`.
pub(crate) fn v1_routes() -> Router<AppState> {
    Router::new()
        .route("/demands/{id}/proof", get(demand_proof))
        .route("/holder/selections", get(holder_selections))
        .route("/log/consistency", get(consistency))
}

/// The public routes at the root.
pub(crate) fn public_routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/symbolon/checkpoint", get(checkpoint))
        .route("/.well-known/symbolon/log-key", get(log_key))
}

/// The holder's page of entries.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SelectionParams {
    /// The `next_before` of the previous page: entries with a smaller index.
    pub before: Option<u64>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// Two sizes of the log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyParams {
    /// The earlier size (a checkpoint you hold).
    pub from: u64,
    /// The later size, at most the log's.
    pub to: u64,
}

#[utoipa::path(get, path = "/v1/demands/{id}/proof", tag = "transparency", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "The demand's selection entry (holders contacted with their score parts, or the refusal with the holders each criterion eliminated), its inclusion proof and the signed checkpoint it leads to. For the demand's requester and for the holders the entry names.", body = SelectionProof),
        (status = 403, description = "forbidden: the demand is another requester's and its entry does not name you", body = ErrorBody),
        (status = 404, description = "not_found: no such demand, or a standing demand whose holders are not selected yet", body = ErrorBody)))]
pub async fn demand_proof(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<SelectionProof>> {
    Ok(axum::Json(s.exchange.selection_proof(&me, &id).await?))
}

#[utoipa::path(get, path = "/v1/holder/selections", tag = "transparency", security(("bearer" = [])), params(SelectionParams),
    responses((status = 200, description = "The selection entries naming you (demands you were contacted for), newest first; fetch each one's proof at `/v1/demands/{id}/proof`.", body = SelectionList),
        (status = 403, description = "forbidden: the account is not a holder", body = ErrorBody),
        (status = 400, description = "invalid_field: `limit` out of 1–200", body = ErrorBody)))]
pub async fn holder_selections(
    State(s): State<AppState>,
    Caller(me): Caller,
    Query(p): Query<SelectionParams>,
) -> ApiResult<axum::Json<SelectionList>> {
    Ok(axum::Json(
        s.exchange.holder_selections(&me, p.before, p.limit).await?,
    ))
}

#[utoipa::path(get, path = "/v1/log/consistency", tag = "transparency", params(ConsistencyParams),
    responses((status = 200, description = "The RFC 9162 consistency proof from the log at size `from` to size `to`.", body = ConsistencyProof),
        (status = 422, description = "invalid_value: `from` after `to`, or `to` beyond the log (`details.field`)", body = ErrorBody)))]
pub async fn consistency(
    State(s): State<AppState>,
    Query(p): Query<ConsistencyParams>,
) -> ApiResult<axum::Json<ConsistencyProof>> {
    Ok(axum::Json(s.exchange.log_consistency(p.from, p.to).await?))
}

type Text = ([(header::HeaderName, &'static str); 2], String);

#[utoipa::path(get, path = "/.well-known/symbolon/checkpoint", tag = "transparency",
    responses((status = 200, description = "The selection log's newest checkpoint: a C2SP signed note (`origin\\nsize\\nbase64(root)\\n`, a blank line, `— origin base64(keyID‖Ed25519 signature)`).", body = String, content_type = "text/plain")))]
pub async fn checkpoint(State(s): State<AppState>) -> ApiResult<Text> {
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        s.exchange.log_checkpoint().await?,
    ))
}

#[utoipa::path(get, path = "/.well-known/symbolon/log-key", tag = "transparency",
    responses((status = 200, description = "The selection log's public key as a signed-note verifier key: `origin+hex(keyID)+base64(0x01‖Ed25519 public key)`.", body = String, content_type = "text/plain")))]
pub async fn log_key(State(s): State<AppState>) -> ApiResult<Text> {
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        s.exchange.log_verifier_key().await?,
    ))
}
