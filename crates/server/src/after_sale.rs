//! Thin handlers for the order lifecycle after the sale: cancel, refunds,
//! delivery, returns, disputes, payouts.

use crate::error::ApiResult;
use crate::extract::{Caller, Json, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use symbolon_api::*;

type Created<T> = (StatusCode, axum::Json<T>);

/// Dispute list parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DisputeParams {
    /// `open`, `resolved` or `rejected`; all when left out.
    pub status: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u32>,
}

#[utoipa::path(post, path = "/v1/orders/{id}/cancel", tag = "orders", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = Reason,
    description = "The requester (unpaid, or paid and not shipped) or the provider (before shipping) cancels. A paid order is refunded in full through the payment gateway; its stock and unique unit are restored.",
    responses((status = 200, body = Order), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`invalid_transition`: `details.status` is the order's state"),
              (status = 502, body = ErrorBody, description = "`refund_failed`: the gateway refused the refund; nothing changed"),
              (status = 503, body = ErrorBody, description = "the gateway did not answer; the refund is retried automatically")))]
pub async fn cancel_order(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    Json(req): Json<Reason>,
) -> ApiResult<axum::Json<Order>> {
    Ok(axum::Json(s.exchange.cancel_order(&me, &id, &req).await?))
}

#[utoipa::path(post, path = "/v1/orders/{id}/refunds", tag = "provider", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = CreateRefund,
    description = "The provider refunds part (`amount`) or all of what is left, any number of times (at most 100) up to the amount paid. The holder's commission is reversed in proportion in the same transaction.",
    responses((status = 201, body = Refund), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`invalid_transition`"),
              (status = 422, body = ErrorBody, description = "`refund_exceeds_paid`: `details.refundable` is what is left"),
              (status = 429, body = ErrorBody, description = "`too_many_refunds`"),
              (status = 502, body = ErrorBody, description = "`refund_failed`"),
              (status = 503, body = ErrorBody)))]
pub async fn refund_order(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    Json(req): Json<CreateRefund>,
) -> ApiResult<Created<Refund>> {
    Ok((
        StatusCode::CREATED,
        axum::Json(s.exchange.refund_order(&me, &id, &req).await?),
    ))
}

#[utoipa::path(post, path = "/v1/orders/{id}/delivered", tag = "requester", security(("bearer" = [])), params(("id" = String, Path)),
    description = "The requester confirms a shipped order arrived (otherwise the exchange does, `auto_deliver_after` after shipping).",
    responses((status = 200, body = Order), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`invalid_transition`")))]
pub async fn confirm_delivery(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Order>> {
    Ok(axum::Json(s.exchange.confirm_delivery(&me, &id).await?))
}

#[utoipa::path(post, path = "/v1/orders/{id}/return", tag = "requester", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = Reason,
    description = "The requester asks to return a delivered order, within `return_window` of delivery, once.",
    responses((status = 200, body = Order), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`invalid_transition`: not delivered, window closed, or already requested")))]
pub async fn request_return(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    Json(req): Json<Reason>,
) -> ApiResult<axum::Json<Order>> {
    Ok(axum::Json(s.exchange.request_return(&me, &id, &req).await?))
}

#[utoipa::path(post, path = "/v1/orders/{id}/return/accept", tag = "provider", security(("bearer" = [])), params(("id" = String, Path)),
    description = "The provider accepts the requested return; it refunds (`POST …/refunds`) when the goods arrive.",
    responses((status = 200, body = Order), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`invalid_transition`: no return waiting")))]
pub async fn accept_return(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Order>> {
    Ok(axum::Json(s.exchange.answer_return(&me, &id, true).await?))
}

#[utoipa::path(post, path = "/v1/orders/{id}/return/refuse", tag = "provider", security(("bearer" = [])), params(("id" = String, Path)),
    description = "The provider refuses the requested return (the requester may still open a dispute).",
    responses((status = 200, body = Order), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`invalid_transition`: no return waiting")))]
pub async fn refuse_return(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Order>> {
    Ok(axum::Json(s.exchange.answer_return(&me, &id, false).await?))
}

#[utoipa::path(post, path = "/v1/orders/{id}/disputes", tag = "requester", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = OpenDispute,
    description = "The requester opens the order's one dispute on a paid order (paid, shipped or delivered).",
    responses((status = 201, body = Dispute), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`invalid_transition`: not paid, or a dispute exists")))]
pub async fn open_dispute(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    Json(req): Json<OpenDispute>,
) -> ApiResult<Created<Dispute>> {
    Ok((
        StatusCode::CREATED,
        axum::Json(s.exchange.open_dispute(&me, &id, &req).await?),
    ))
}

#[utoipa::path(get, path = "/v1/disputes", tag = "operator", security(("bearer" = [])), params(DisputeParams),
    description = "Operators: disputes, oldest first, without their messages.",
    responses((status = 200, body = DisputeList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_disputes(
    State(s): State<AppState>,
    Caller(me): Caller,
    Query(p): Query<DisputeParams>,
) -> ApiResult<axum::Json<DisputeList>> {
    Ok(axum::Json(
        s.exchange
            .disputes(&me, p.status.as_deref(), p.after.as_deref(), p.limit)
            .await?,
    ))
}

#[utoipa::path(get, path = "/v1/disputes/{id}", tag = "orders", security(("bearer" = [])), params(("id" = String, Path)),
    description = "The dispute and its message trail: its requester, its provider and operators.",
    responses((status = 200, body = Dispute), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_dispute(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Dispute>> {
    Ok(axum::Json(s.exchange.dispute(&me, &id).await?))
}

#[utoipa::path(post, path = "/v1/disputes/{id}/messages", tag = "orders", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = CreateDisputeMessage,
    description = "A message on an open dispute, by its requester, its provider or an operator (at most 200 per dispute).",
    responses((status = 201, body = DisputeMessage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`invalid_state`: the dispute is closed"),
              (status = 429, body = ErrorBody, description = "`too_many_dispute_messages`")))]
pub async fn dispute_message(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    Json(req): Json<CreateDisputeMessage>,
) -> ApiResult<Created<DisputeMessage>> {
    Ok((
        StatusCode::CREATED,
        axum::Json(s.exchange.dispute_message(&me, &id, &req).await?),
    ))
}

#[utoipa::path(post, path = "/v1/disputes/{id}/resolve", tag = "operator", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = ResolveDispute,
    description = "Operators: refund `refund` (through the gateway, reversing the commission in proportion) and close the dispute as `resolved`, or without `refund` close it as `rejected`.",
    responses((status = 200, body = Dispute), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`invalid_state` (closed) or `invalid_transition`"),
              (status = 422, body = ErrorBody, description = "`refund_exceeds_paid`"),
              (status = 502, body = ErrorBody, description = "`refund_failed`"), (status = 503, body = ErrorBody)))]
pub async fn resolve_dispute(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    Json(req): Json<ResolveDispute>,
) -> ApiResult<axum::Json<Dispute>> {
    Ok(axum::Json(
        s.exchange.resolve_dispute(&me, &id, &req).await?,
    ))
}

#[utoipa::path(post, path = "/v1/payouts", tag = "accounts", security(("bearer" = [])),
    request_body = CreatePayout,
    description = "Pays available money (settled, not yet paid out) out of the exchange.",
    responses((status = 201, body = Payout), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 422, body = ErrorBody, description = "`payout_exceeds_available`: `details.available`")))]
pub async fn payout(
    State(s): State<AppState>,
    Caller(me): Caller,
    Json(req): Json<CreatePayout>,
) -> ApiResult<Created<Payout>> {
    Ok((
        StatusCode::CREATED,
        axum::Json(s.exchange.payout(&me, &req).await?),
    ))
}
