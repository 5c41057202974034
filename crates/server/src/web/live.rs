//! Live updates for the pages (`/demands/{id}/live`, `/orders/{id}/live`,
//! the holder's `/inbox/live`):
//! a Server-Sent Events stream, authenticated by the session cookie (an
//! `EventSource` cannot send an API key), that says `change` whenever one of
//! the signed-in account's events commits. `live.js` then re-fetches the
//! page's server-rendered fragment and swaps it in; the page itself checked
//! that the account may see the demand or order before the stream opens.
//!
//! It reads the [`EventHub`](symbolon_exchange::EventHub)'s recent events
//! (no store read per stream) and counts against the account's streams.

use super::{AppState, Web};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use symbolon_core::limits::{SSE_KEEPALIVE_SECONDS, STREAM_RECHECK_POLLS};
use symbolon_exchange::events::StreamSlot;
use symbolon_exchange::Exchange;

struct LiveState {
    exchange: Arc<Exchange>,
    wake: tokio::sync::watch::Receiver<i64>,
    closing: tokio::sync::watch::Receiver<bool>,
    account: String,
    /// The account's events up to this `seq` were seen.
    cursor: i64,
    _slot: StreamSlot,
}

/// What a stream follows: a demand or an order the account may see.
enum Subject {
    Demand(String),
    Order(String),
}

/// `GET /demands/{id}/live`.
pub(super) async fn demand(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    follow(Web::new(state, &headers), Subject::Demand(id)).await
}

/// `GET /orders/{id}/live`.
pub(super) async fn order(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    follow(Web::new(state, &headers), Subject::Order(id)).await
}

/// `GET /inbox/live`: the holder's stream (its inbox is its own; an account
/// that is no holder gets the 403 page).
pub(super) async fn inbox(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let w = Web::new(state, &headers);
    let Some((me, _)) = w.account().await else {
        return super::auth::error_page(&w, StatusCode::UNAUTHORIZED, &w.t("live-sign-in"));
    };
    if !me.has_role(symbolon_core::state::Role::Holder) {
        let role = w.t("role-name-holder");
        return super::auth::error_page(
            &w,
            StatusCode::FORBIDDEN,
            &w.lang.ta("error-lacks-role", &role),
        );
    }
    stream(&w, &me.id)
}

/// The stream for the signed-in account, once the exchange says it may see
/// the subject (a 401 page without a session, the exchange's 403 or 404 otherwise).
async fn follow(w: Web, subject: Subject) -> Response {
    let Some((me, _)) = w.account().await else {
        return super::auth::error_page(&w, StatusCode::UNAUTHORIZED, &w.t("live-sign-in"));
    };
    let ex = &w.state.exchange;
    let allowed = match &subject {
        Subject::Demand(id) => ex.demand(&me, id).await.map(|_| ()),
        Subject::Order(id) => ex.order(&me, id).await.map(|_| ()),
    };
    match allowed {
        Ok(()) => stream(&w, &me.id),
        Err(e) => w.exchange_error(&e),
    }
}

/// The stream of `change` notices for `account` (already authorized).
pub(super) fn stream(w: &Web, account: &str) -> Response {
    let ex = w.state.exchange.clone();
    let slot = match ex.hub().open_stream(account) {
        Ok(s) => s,
        Err(e) => return w.exchange_error(&e),
    };
    let st = LiveState {
        wake: ex.hub().subscribe(),
        closing: ex.hub().closing(),
        cursor: ex.hub().tail_position().unwrap_or(0),
        account: account.to_string(),
        exchange: ex,
        _slot: slot,
    };
    let s = futures_util::stream::unfold(st, next_change);
    let sse = Sse::new(s)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(SSE_KEEPALIVE_SECONDS)));
    (
        [("x-accel-buffering", "no"), ("cache-control", "no-store")],
        sse,
    )
        .into_response()
}

async fn next_change(mut st: LiveState) -> Option<(Result<SseEvent, Infallible>, LiveState)> {
    loop {
        if *st.closing.borrow() {
            return None;
        }
        st.wake.borrow_and_update();
        let hub = st.exchange.hub();
        let changed = match hub.recent_for(&st.account, st.cursor, 1) {
            Some((events, upto)) => {
                st.cursor = events.last().map_or(upto, |e| e.seq);
                !events.is_empty()
            }
            // Older than the hub keeps (or the tail has not started): say
            // "changed" — a needless refetch is harmless.
            None => {
                let at = hub.tail_position().unwrap_or(st.cursor);
                let moved = at != st.cursor;
                st.cursor = at;
                moved
            }
        };
        if changed {
            let e = SseEvent::default()
                .event("change")
                .data(st.cursor.to_string());
            return Some((Ok(e), st));
        }
        tokio::select! {
            _ = st.wake.changed() => {}
            _ = st.closing.changed() => {}
            _ = tokio::time::sleep(st.exchange.event_poll() * STREAM_RECHECK_POLLS) => {}
        }
    }
}
