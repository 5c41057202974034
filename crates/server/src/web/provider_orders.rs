//! The provider's side of the orders pages (used by `orders.rs`): `/orders`
//! for an account with the provider role lists the orders of its products
//! (`?status=` filters, checked against `OrderStatus`), each with the
//! buyer's ship-to address (the API gives it to providers) and a Ship
//! button when it can ship; the list is live (`/orders/live`, woken by the
//! account's events, re-fetching `/orders/fragment`). On the order page
//! `/orders/{id}` the provider gets the actions the lifecycle
//! (`OrderStatus::check` against `ORDER_TRANSITIONS`) opens to it now:
//! ship (with optional tracking), cancel, refund in full or in part,
//! accept or refuse a return, answer a dispute.

use super::{html, AppState, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::collections::HashMap;
use symbolon_api as api;
use symbolon_core::limits::MAX_PAGE_LIMIT;
use symbolon_core::state::{Actor, OrderAction, OrderStatus, Role};
use symbolon_exchange::ExchangeError;
use symbolon_store::Account;

/// The statuses the list filters by.
const STATUSES: [&str; 7] = [
    "placed",
    "paid",
    "shipped",
    "delivered",
    "cancelled",
    "refunded",
    "expired",
];

/// What the order page offers the order's provider.
pub(super) struct Actions {
    pub can_ship: bool,
    pub can_cancel: bool,
    pub can_refund: bool,
    pub can_answer_return: bool,
    pub can_message: bool,
    pub ship_to: Option<api::Address>,
    /// The refund form's amount as posted, and a field's message.
    pub amount: String,
    pub field: Option<(String, String)>,
}

impl Actions {
    pub fn invalid(&self, k: &str) -> bool {
        self.field.as_ref().is_some_and(|(f, _)| f == k)
    }

    pub fn err(&self, k: &str) -> &str {
        match &self.field {
            Some((f, m)) if f == k => m,
            _ => "",
        }
    }
}

/// The provider's actions on `o` (`None` unless `me` is its provider).
pub(super) fn actions(
    me: &Account,
    o: &api::Order,
    dispute_open: bool,
    posted: Option<(String, Option<(String, String)>)>,
) -> Option<Actions> {
    if o.provider_id != me.id || !me.has_role(Role::Provider) {
        return None;
    }
    let status = OrderStatus::parse(&o.status);
    let allowed = |a: OrderAction| status.is_some_and(|s| s.check(a, Actor::Provider).is_ok());
    let (amount, field) = posted.unwrap_or_default();
    Some(Actions {
        can_ship: allowed(OrderAction::Ship),
        can_cancel: allowed(OrderAction::Cancel),
        can_refund: allowed(OrderAction::Refund),
        can_answer_return: allowed(OrderAction::AcceptReturn)
            && o.return_status.as_deref() == Some("requested"),
        can_message: dispute_open,
        ship_to: o.ship_to.clone(),
        amount,
        field,
    })
}

/// A provider action refused: its status, the field it names (if the form
/// has it) and the message.
pub(super) struct Refusal {
    pub status: StatusCode,
    pub field: Option<String>,
    pub message: String,
}

/// `POST /orders/{id}` with a provider's `do` (`ship`, `provider_cancel`,
/// `refund`, `accept_return`, `refuse_return`, `answer`); `None` when `do`
/// is none of them.
pub(super) async fn act(
    w: &Web,
    me: &Account,
    id: &str,
    f: &HashMap<String, String>,
) -> Option<Result<(), Refusal>> {
    let ex = w.state.exchange.clone();
    let text = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let done = match f.get("do").map(String::as_str)? {
        "ship" => {
            let tracking = text("tracking");
            ex.ship_order(me, id, Some(tracking.as_str()).filter(|t| !t.is_empty()))
                .await
                .map(|_| ())
        }
        "provider_cancel" => ex
            .cancel_order(
                me,
                id,
                &api::Reason {
                    reason: text("reason"),
                },
            )
            .await
            .map(|_| ()),
        "refund" => {
            let amount = text("amount");
            if f.get("full").map(String::as_str) != Some("yes") && amount.is_empty() {
                return Some(Err(Refusal {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    field: Some("amount".into()),
                    message: w.t("porder-err-amount"),
                }));
            }
            let req = api::CreateRefund {
                amount: (f.get("full").map(String::as_str) != Some("yes")).then_some(amount),
                reason: text("reason"),
            };
            ex.refund_order(me, id, &req).await.map(|_| ())
        }
        "accept_return" => ex.answer_return(me, id, true).await.map(|_| ()),
        "refuse_return" => ex.answer_return(me, id, false).await.map(|_| ()),
        "answer" => {
            async {
                let o = ex.order(me, id).await?;
                let d = o
                    .dispute_id
                    .ok_or_else(|| ExchangeError::not_found("dispute"))?;
                let req = api::CreateDisputeMessage { body: text("body") };
                ex.dispute_message(me, &d, &req).await.map(|_| ())
            }
            .await
        }
        _ => return None,
    };
    Some(done.map_err(|e| {
        let field = e
            .details
            .as_ref()
            .and_then(|d| d.get("field"))
            .and_then(|v| v.as_str())
            .filter(|f| ["amount", "reason", "tracking", "body"].contains(f))
            .map(str::to_string);
        let status = if field.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            w.status_of(&e)
        };
        Refusal {
            status,
            field,
            message: w.public_message(&e),
        }
    }))
}

#[derive(Template, WebTemplate)]
#[template(path = "provider_orders.html")]
struct ListTemplate {
    l: Layout,
    items: Vec<api::Order>,
    next: Option<String>,
    status: String,
    statuses: [&'static str; 7],
    requester: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "provider_orders_list.html")]
struct FragmentTemplate {
    l: Layout,
    items: Vec<api::Order>,
    next: Option<String>,
}

impl ListTemplate {
    fn status_name(&self, s: &str) -> String {
        status_name(&self.l, s)
    }
    fn can_ship(&self, o: &api::Order) -> bool {
        can_ship(o)
    }
}

impl FragmentTemplate {
    fn status_name(&self, s: &str) -> String {
        status_name(&self.l, s)
    }
    fn can_ship(&self, o: &api::Order) -> bool {
        can_ship(o)
    }
}

fn can_ship(o: &api::Order) -> bool {
    OrderStatus::parse(&o.status)
        .is_some_and(|s| s.check(OrderAction::Ship, Actor::Provider).is_ok())
}

fn status_name(l: &Layout, s: &str) -> String {
    l.t(&format!("porder-status-{s}"))
}

/// The provider's orders (a status's, or the newest page).
async fn orders_of(
    w: &Web,
    me: &Account,
    q: &HashMap<String, String>,
) -> Result<(Vec<api::Order>, Option<String>, String), Response> {
    let ex = &w.state.exchange;
    let status = q.get("status").map(|s| s.trim()).unwrap_or("");
    if status.is_empty() {
        let list = ex
            .orders(
                me,
                Some("provider"),
                q.get("after").map(String::as_str),
                Some(MAX_PAGE_LIMIT),
            )
            .await
            .map_err(|e| w.exchange_error(&e))?;
        return Ok((list.items, list.next, String::new()));
    }
    let items = ex
        .provider_orders_with_status(me, status)
        .await
        .map_err(|e| w.exchange_error(&e))?;
    Ok((items, None, status.to_string()))
}

/// `GET /orders` for a provider: its orders to ship (and others).
pub(super) async fn list_page(
    w: &Web,
    me: &Account,
    csrf: &str,
    q: &HashMap<String, String>,
) -> Response {
    let (items, next, status) = match orders_of(w, me, q).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let t = ListTemplate {
        l: w.layout(w.t("porder-title"), Some(me), csrf, "/orders"),
        items,
        next,
        status,
        statuses: STATUSES,
        requester: me.has_role(Role::Requester),
    };
    html(StatusCode::OK, t, vec![])
}

/// `GET /orders/fragment[?status=…]`: the provider's list alone (for `live.js`).
pub(super) async fn fragment(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let (me, _, csrf) = match w.signed_in_as("/orders", Role::Provider).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (items, next, _) = match orders_of(&w, &me, &q).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let t = FragmentTemplate {
        l: w.layout(String::new(), Some(&me), &csrf, "/orders"),
        items,
        next,
    };
    html(StatusCode::OK, t, vec![])
}

/// `GET /orders/live`: `change` whenever one of the provider's events
/// commits (a new order, a payment…).
pub(super) async fn live(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let w = Web::new(state, &headers);
    let Some((me, _)) = w.account().await else {
        return super::auth::error_page(&w, StatusCode::UNAUTHORIZED, &w.t("live-sign-in"));
    };
    if !me.has_role(Role::Provider) {
        return w.exchange_error(&ExchangeError::forbidden("providers only"));
    }
    super::live::stream(&w, &me.id)
}
