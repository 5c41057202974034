//! `GET /v1/events` (a page, or Server-Sent Events) and the webhook endpoints' API.
//!
//! A stream replays from the cursor (`Last-Event-ID`, else `?after=`) and then
//! goes on reading whenever the [`EventHub`] says events were committed, by
//! any replica: replay and live are one loop over commit-ordered `seq`, so
//! nothing falls between them. Each read takes the account's events from the
//! hub's recent events (one store tail per replica serves every stream) and
//! reads the store only for a cursor older than those.
//!
//! [`EventHub`]: symbolon_exchange::EventHub

use crate::error::ApiResult;
use crate::extract::{Caller, Json, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use symbolon_api::*;
use symbolon_core::limits::{EVENT_PAGE_DEFAULT, SSE_KEEPALIVE_SECONDS, STREAM_RECHECK_POLLS};
use symbolon_exchange::events::{event_out, parse_cursor, StreamSlot};
use symbolon_exchange::Exchange;
use symbolon_store::EventRecord;

/// Event list parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    /// Events after this id (`evt_…`); from the oldest kept when absent. A
    /// stream's `Last-Event-ID` header takes precedence.
    pub after: Option<String>,
    /// Page size, 1–500 (default 100); pages only.
    pub limit: Option<u32>,
}

/// The account's events: as a JSON page, or, with `Accept: text/event-stream`,
/// as a stream that never ends (keep-alive comments every 15 s).
#[utoipa::path(get, path = "/v1/events", tag = "events", security(("bearer" = [])), params(EventParams,
        ("Last-Event-ID" = Option<String>, Header, description = "Resume a stream after this event id (sent by SSE clients on reconnect).")),
    responses(
        (status = 200, description = "A page of events (JSON), or a stream: each SSE event has `id:` = the event id, `event:` = its type and `data:` = the Event JSON.",
            content((EventPage = "application/json"), (String = "text/event-stream"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, description = "`too_many_streams`: the account already holds the most event streams open at once", body = ErrorBody)))]
pub async fn events(
    State(s): State<AppState>,
    Caller(me): Caller,
    headers: HeaderMap,
    Query(p): Query<EventParams>,
) -> ApiResult<Response> {
    // Checked whether or not a stream is asked for: a bad header is a bad request.
    let last_event_id = headers
        .get("last-event-id")
        .map(|v| parse_cursor("Last-Event-ID", v.to_str().unwrap_or("?")))
        .transpose()?;
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"));
    if !wants_stream {
        let page = s
            .exchange
            .events_page(&me, p.after.as_deref(), p.limit)
            .await?;
        return Ok(axum::Json(page).into_response());
    }
    let cursor = match last_event_id {
        Some(c) => c,
        None => parse_cursor("after", p.after.as_deref().unwrap_or(""))?,
    };
    let slot = s.exchange.hub().open_stream(&me.id)?;
    tracing::debug!(account = %me.id, cursor, "event stream opened");
    let state = StreamState {
        exchange: s.exchange.clone(),
        wake: s.exchange.hub().subscribe(),
        closing: s.exchange.hub().closing(),
        account: me.id,
        cursor,
        checked: cursor,
        buffer: VecDeque::new(),
        _slot: slot,
    };
    let stream = futures_util::stream::unfold(state, next_event);
    let sse = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(SSE_KEEPALIVE_SECONDS)));
    Ok(([("x-accel-buffering", "no")], sse).into_response())
}

struct StreamState {
    exchange: Arc<Exchange>,
    wake: tokio::sync::watch::Receiver<i64>,
    closing: tokio::sync::watch::Receiver<bool>,
    account: String,
    cursor: i64,
    /// Every event of the account up to this `seq` is delivered or buffered.
    checked: i64,
    buffer: VecDeque<EventRecord>,
    _slot: StreamSlot,
}

async fn next_event(mut st: StreamState) -> Option<(Result<SseEvent, Infallible>, StreamState)> {
    loop {
        if *st.closing.borrow() {
            return None;
        }
        if let Some(e) = st.buffer.pop_front() {
            st.cursor = e.seq;
            let out = event_out(&e);
            let json = serde_json::to_string(&out).unwrap_or_else(|_| "{}".into());
            let sse = SseEvent::default().id(out.id).event(out.kind).data(json);
            return Some((Ok(sse), st));
        }
        // Mark what the hub says now as seen before reading, so a commit
        // after the read wakes us.
        st.wake.borrow_and_update();
        let after = st.cursor.max(st.checked);
        let hub = st.exchange.hub();
        let read = match hub.recent_for(&st.account, after, EVENT_PAGE_DEFAULT as usize) {
            Some((events, complete)) => {
                st.checked = complete;
                Ok(events)
            }
            None => {
                // Older than the hub keeps: the store (complete up to what the
                // tail had read before this query, if the page is not full).
                let tail = hub.tail_position();
                let read = st
                    .exchange
                    .events_after(&st.account, after, EVENT_PAGE_DEFAULT)
                    .await;
                if let Ok(events) = &read {
                    st.checked = match events.last() {
                        Some(e) if events.len() as u32 == EVENT_PAGE_DEFAULT => e.seq,
                        last => tail.unwrap_or(after).max(last.map_or(after, |e| e.seq)),
                    };
                }
                read
            }
        };
        match read {
            Ok(events) if !events.is_empty() => st.buffer.extend(events),
            Ok(_) => {
                tokio::select! {
                    _ = st.wake.changed() => {}
                    _ = st.closing.changed() => {}
                    // A safety net: a replica whose poller stalled still delivers.
                    _ = tokio::time::sleep(st.exchange.event_poll() * STREAM_RECHECK_POLLS) => {}
                }
            }
            Err(e) => {
                tracing::warn!(account = %st.account, error = %e, "event stream read failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

// ---------------------------------------------------------------- sealed secrets

#[utoipa::path(put, path = "/v1/account/keys", tag = "sealed secrets", security(("bearer" = [])), request_body = SetPartyKeys,
    responses((status = 200, body = PartyKeys), (status = 400, body = ErrorBody)))]
pub async fn set_party_keys(
    State(s): State<AppState>,
    Caller(me): Caller,
    Json(req): Json<SetPartyKeys>,
) -> ApiResult<axum::Json<PartyKeys>> {
    Ok(axum::Json(s.exchange.set_party_keys(&me, &req).await?))
}

#[utoipa::path(get, path = "/v1/accounts/{id}/keys", tag = "sealed secrets", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = PartyKeys), (status = 409, description = "`party_keys_missing`: the account has not registered its keys", body = ErrorBody)))]
pub async fn party_keys(
    State(s): State<AppState>,
    Caller(_me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<PartyKeys>> {
    Ok(axum::Json(s.exchange.party_keys(&id).await?))
}

#[utoipa::path(put, path = "/v1/passes/{id}/seal", tag = "sealed secrets", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = PassSeal,
    responses((status = 201, body = PassSeal), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "`already_sealed`: the pass carries a sealed secret already; `party_keys_missing`: register your keys first", body = ErrorBody)))]
pub async fn put_seal(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    Json(req): Json<PassSeal>,
) -> ApiResult<(StatusCode, axum::Json<PassSeal>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(s.exchange.put_seal(&me, &id, &req).await?),
    ))
}

#[utoipa::path(get, path = "/v1/passes/{id}/seal", tag = "sealed secrets", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = PassSeal), (status = 409, description = "`not_sealed`: the pass carries no sealed secret", body = ErrorBody)))]
pub async fn get_seal(
    State(s): State<AppState>,
    Caller(_me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<PassSeal>> {
    Ok(axum::Json(s.exchange.pass_seal(&id).await?))
}

#[utoipa::path(post, path = "/v1/passes/{id}/shares", tag = "sealed secrets", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = ShareToHolder,
    responses((status = 201, body = SealedShare), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "`not_sealed`: the pass carries no sealed secret; `shares_already_sent`", body = ErrorBody)))]
pub async fn share_to_holder(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    Json(req): Json<ShareToHolder>,
) -> ApiResult<(StatusCode, axum::Json<SealedShare>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(s.exchange.share_to_holder(&me, &id, &req).await?),
    ))
}

#[utoipa::path(get, path = "/v1/passes/{id}/shares", tag = "sealed secrets", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = SealedShares, description = "The shares wrapped to me for this pass.")))]
pub async fn my_shares(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<SealedShares>> {
    Ok(axum::Json(s.exchange.my_shares(&me, &id).await?))
}

#[utoipa::path(post, path = "/v1/offers/{id}/shares", tag = "sealed secrets", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = WrappedShares,
    responses((status = 201, body = SealedShares), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "`invalid_state`: the offer is not yours or not open; `not_sealed`; `shares_already_sent`", body = ErrorBody)))]
pub async fn share_with_offer(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    Json(req): Json<WrappedShares>,
) -> ApiResult<(StatusCode, axum::Json<SealedShares>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(s.exchange.share_with_offer(&me, &id, &req).await?),
    ))
}

#[utoipa::path(get, path = "/v1/offers/{id}/requester/keys", tag = "sealed secrets", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = PartyKeys), (status = 403, body = ErrorBody), (status = 409, description = "`party_keys_missing`: the requester has not registered its keys", body = ErrorBody)))]
pub async fn offer_requester_keys(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<PartyKeys>> {
    Ok(axum::Json(s.exchange.offer_requester_keys(&me, &id).await?))
}

#[utoipa::path(post, path = "/v1/orders/{id}/shares", tag = "sealed secrets", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = WrappedShares,
    responses((status = 201, body = SealedShares), (status = 403, body = ErrorBody), (status = 409, description = "`invalid_state`: the order is not paid; `not_sealed`; `shares_already_sent`", body = ErrorBody)))]
pub async fn release_shares(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    Json(req): Json<WrappedShares>,
) -> ApiResult<(StatusCode, axum::Json<SealedShares>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(s.exchange.release_shares(&me, &id, &req).await?),
    ))
}

#[utoipa::path(post, path = "/v1/webhooks", tag = "events", security(("bearer" = [])), request_body = CreateWebhook,
    responses((status = 201, body = Webhook, description = "The endpoint, with its `whsec_` secret (shown only here and on rotation)."),
        (status = 400, body = ErrorBody), (status = 429, description = "`too_many_webhooks`: the account already has the most webhook endpoints", body = ErrorBody),
        (status = 409, description = "`idempotency_error`: also when the endpoint an `Idempotency-Key` created was deleted since (a replay never names a deleted endpoint)", body = ErrorBody)))]
pub async fn create_webhook(
    State(s): State<AppState>,
    Caller(me): Caller,
    Json(req): Json<CreateWebhook>,
) -> ApiResult<(StatusCode, axum::Json<Webhook>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(s.exchange.create_webhook(&me, req).await?),
    ))
}

#[utoipa::path(get, path = "/v1/webhooks", tag = "events", security(("bearer" = [])),
    responses((status = 200, body = WebhookList)))]
pub async fn list_webhooks(
    State(s): State<AppState>,
    Caller(me): Caller,
) -> ApiResult<axum::Json<WebhookList>> {
    Ok(axum::Json(s.exchange.list_webhooks(&me).await?))
}

#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "events", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Webhook), (status = 404, body = ErrorBody)))]
pub async fn get_webhook(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Webhook>> {
    Ok(axum::Json(s.exchange.get_webhook(&me, &id).await?))
}

#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "events", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204, description = "Deleted, with its pending deliveries."), (status = 404, body = ErrorBody)))]
pub async fn delete_webhook(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.exchange.delete_webhook(&me, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate", tag = "events", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Webhook, description = "A new secret; for 24 h messages carry a signature with each of the new and the previous secret."),
        (status = 404, body = ErrorBody)))]
pub async fn rotate_webhook(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Webhook>> {
    Ok(axum::Json(s.exchange.rotate_webhook(&me, &id).await?))
}

#[utoipa::path(post, path = "/v1/webhooks/{id}/enable", tag = "events", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Webhook, description = "Enabled again; the events that waited are delivered now."), (status = 404, body = ErrorBody)))]
pub async fn enable_webhook(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Webhook>> {
    Ok(axum::Json(s.exchange.enable_webhook(&me, &id).await?))
}

#[utoipa::path(post, path = "/v1/webhooks/{id}/disable", tag = "events", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Webhook, description = "Disabled: nothing is sent to it until it is enabled again; its events wait meanwhile. Disabling again changes nothing."), (status = 404, body = ErrorBody)))]
pub async fn disable_webhook(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Webhook>> {
    Ok(axum::Json(s.exchange.disable_webhook(&me, &id).await?))
}

#[utoipa::path(post, path = "/v1/webhooks/{id}/replay", tag = "events", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = ReplayWebhook,
    responses((status = 202, body = Replay), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn replay_webhook(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
    Json(req): Json<ReplayWebhook>,
) -> ApiResult<(StatusCode, axum::Json<Replay>)> {
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(s.exchange.replay_webhook(&me, &id, req).await?),
    ))
}

#[utoipa::path(get, path = "/v1/webhooks/{id}/attempts", tag = "events", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = WebhookAttempts), (status = 404, body = ErrorBody)))]
pub async fn webhook_attempts(
    State(s): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WebhookAttempts>> {
    Ok(axum::Json(s.exchange.webhook_attempts(&me, &id).await?))
}
